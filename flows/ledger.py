"""The awards ledger: every final award of every round, in ROUNDS_HOME/ledger.sqlite.

State that spans rounds lives here (a round's own state lives in its out/):

* `record_awards` writes a final ranking's awards, keyed by (round_id,
  submission_id). Recording the same awards again changes nothing; a rerun of
  the same round with different awards replaces that round's rows, bumps its
  revision and says what changed in the history table.
* A programme's year can be finalised only once, except by rerunning the same
  round. Round identity: round_id = "<year>-<programme>" (RoundConfig.round_id)
  *and* the workspace folder (its resolved path) it was first finalised from. A
  second workspace for the same programme and year is refused
  (`check_can_finalise`, `record_awards`) with the path of the first; a manager
  who truly means to replace a round voids it first (`void_round`, recorded with
  who and why).
* `snapshot` (or `prior_awards` and `enterprise_awarded`) reads it back for
  就高不重复 and the per-enterprise annual caps of later rounds (rules in
  `scoring.ledger_rules`). A round already recorded sees only the rounds
  recorded before it, so a rerun is never changed by a round finalised after it.
* `export_ledger_xlsx` writes it to Excel for the finance office.

Connections are opened per call; nothing connects at import or in a constructor.
Writes run in one IMMEDIATE transaction, so two processes finalising at once
cannot both pass the once-per-year check.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from flows.sqlite import transaction as sqlite_transaction
from flows.state import now
from flows.xlsx import deterministic_zip
from scoring import columns as C
from scoring import ledger_rules as L
from scoring.errors import ConfigError
from scoring.rules import Programme, RoundConfig

LEDGER_FILE = "ledger.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS rounds (
    round_id TEXT PRIMARY KEY,
    programme TEXT NOT NULL,
    programme_name TEXT NOT NULL,
    year INTEGER NOT NULL,
    workspace TEXT NOT NULL,
    ranking_sha256 TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    first_recorded_at TEXT NOT NULL,
    last_recorded_at TEXT NOT NULL,
    revision INTEGER NOT NULL,
    UNIQUE (programme, year)
);
CREATE TABLE IF NOT EXISTS awards (
    round_id TEXT NOT NULL REFERENCES rounds (round_id),
    submission_id TEXT NOT NULL,
    programme TEXT NOT NULL,
    programme_name TEXT NOT NULL,
    year INTEGER NOT NULL,
    credit_code TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    title TEXT NOT NULL,
    project_title TEXT NOT NULL,
    amount_yuan INTEGER NOT NULL CHECK (amount_yuan > 0),
    reason_code TEXT NOT NULL,
    PRIMARY KEY (round_id, submission_id)
);
CREATE INDEX IF NOT EXISTS awards_by_enterprise ON awards (credit_code, year);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    ranking_sha256 TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER IF NOT EXISTS history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'the ledger history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'the ledger history is append-only'); END;
"""

RECORDED, UNCHANGED, REPLACED = "recorded", "unchanged", "replaced"


def ledger_path(home: Path) -> Path:
    return Path(home) / LEDGER_FILE


@contextmanager
def _db(home: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    with sqlite_transaction(ledger_path(home), SCHEMA, write=write) as con:
        yield con


def _workspace_id(workspace: Path) -> str:
    return str(Path(workspace).expanduser().resolve())


def read_awards(home: Path) -> pd.DataFrame:
    """Every recorded award (the columns of `scoring.ledger_rules.LEDGER_COLUMNS`)."""
    if not ledger_path(home).exists():
        return L.empty_ledger()
    with _db(home, write=False) as db:
        rows = db.execute(
            f"SELECT {', '.join(L.LEDGER_COLUMNS)} FROM awards ORDER BY year, round_id, submission_id"
        ).fetchall()
    if not rows:
        return L.empty_ledger()
    frame = pd.DataFrame(rows, columns=list(L.LEDGER_COLUMNS))
    return frame.astype({C.YEAR: "int64", C.AMOUNT_YUAN: "int64"})


def read_rounds(home: Path) -> list[dict]:
    if not ledger_path(home).exists():
        return []
    with _db(home, write=False) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM rounds ORDER BY year, programme")]


def read_history(home: Path) -> list[dict]:
    if not ledger_path(home).exists():
        return []
    with _db(home, write=False) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM history ORDER BY seq")]


def prior_awards(home: Path, config: RoundConfig) -> pd.DataFrame:
    """Awards of other rounds (up to this year) shaped like references/prior_awards, for 就高不重复."""
    return L.prior_awards(visible_awards(home, config), config)


def enterprise_awarded(home: Path, config: RoundConfig, programme: Programme) -> dict[str, int]:
    """credit code → yuan received this year in other rounds of the programmes this programme's cap covers."""
    return L.enterprise_awarded(visible_awards(home, config), config, programme)


@dataclass(frozen=True)
class LedgerSnapshot:
    """What a round reads from the ledger, and its hash (an input of the round, for the manifest)."""

    prior_awards: pd.DataFrame
    enterprise_awarded: dict[str, int]

    @property
    def sha256(self) -> str:
        doc = {
            "prior_awards": self.prior_awards.astype(str).values.tolist(),
            "enterprise_awarded": sorted(self.enterprise_awarded.items()),
        }
        return hashlib.sha256(json.dumps(doc, ensure_ascii=False).encode("utf-8")).hexdigest()


def visible_awards(home: Path, config: RoundConfig) -> pd.DataFrame:
    """The awards a round may read: all of them, or, once the round itself is recorded, only those of
    rounds recorded before it.

    This freezes a finalised round's view: a round finalised later (which saw this
    one's awards) can never change this round's result when it is rerun, so two
    rounds can never each drop the other's project under 就高不重复.
    """
    awards = read_awards(home)
    if awards.empty:
        return awards
    with _db(home, write=False) as db:
        order = dict(db.execute("SELECT round_id, rowid FROM rounds").fetchall())
    mine = order.get(config.round_id)
    if mine is None:
        return awards
    earlier = [rid for rid, seq in order.items() if seq < mine]
    return awards[awards[L.ROUND_ID].isin(earlier)].reset_index(drop=True)


def snapshot(home: Path, config: RoundConfig, programme: Programme) -> LedgerSnapshot:
    """Everything a round reads from the ledger, read once (one consistent view; see `visible_awards`)."""
    awards = visible_awards(home, config)
    return LedgerSnapshot(
        prior_awards=L.prior_awards(awards, config),
        enterprise_awarded=L.enterprise_awarded(awards, config, programme),
    )


def _conflict(db: sqlite3.Connection, config: RoundConfig, workspace: str) -> str | None:
    row = db.execute(
        "SELECT round_id, workspace, first_recorded_at, recorded_by FROM rounds WHERE programme = ? AND year = ?",
        (config.programme, config.year),
    ).fetchone()
    if row is None or (row[0] == config.round_id and row[1] == workspace):
        return None
    return (
        f"round {config.round_id}: the {config.year} round of programme {config.programme!r} was already finalised "
        f"from {row[1]} (first recorded {row[2]} by {row[3]}); a programme's year can be finalised only once, "
        f"except by rerunning that same round from its own folder. To replace it, void it first "
        f"(flows.ledger.void_round, with your name and the reason)."
    )


def check_can_finalise(home: Path, config: RoundConfig, workspace: Path) -> None:
    """Raise ConfigError when another workspace already finalised this programme's year."""
    if not ledger_path(home).exists():
        return
    with _db(home, write=False) as db:
        problem = _conflict(db, config, _workspace_id(workspace))
    if problem:
        raise ConfigError(problem)


@dataclass(frozen=True)
class LedgerChange:
    status: str                # recorded | unchanged | replaced
    round_id: str
    revision: int
    rows: int
    total_yuan: int
    changes: L.Changes

    def as_dict(self) -> dict:
        return {
            "status": self.status, "round_id": self.round_id, "revision": self.revision, "rows": self.rows,
            "total_yuan": self.total_yuan, "changes": self.changes.describe(),
        }


def record_awards(
    home: Path,
    *,
    config: RoundConfig,
    programme: Programme,
    workspace: Path,
    ranking: pd.DataFrame,
    ranking_sha256: str,
    recorded_by: str,
    at: str | None = None,
) -> LedgerChange:
    """Record a final ranking's awards; idempotent for the same awards, replacing for changed ones."""
    rows = L.award_rows(ranking, programme, config)
    ws = _workspace_id(workspace)
    at = at or now()
    with _db(home, write=True) as db:
        problem = _conflict(db, config, ws)
        if problem:
            raise ConfigError(problem)
        existing = db.execute("SELECT revision FROM rounds WHERE round_id = ?", (config.round_id,)).fetchone()
        old = pd.DataFrame(
            db.execute(f"SELECT {', '.join(L.LEDGER_COLUMNS)} FROM awards WHERE round_id = ?", (config.round_id,)).fetchall(),
            columns=list(L.LEDGER_COLUMNS),
        )
        changes = L.compare(old, rows)
        total = int(rows[C.AMOUNT_YUAN].sum())
        if existing is not None and changes.none:
            return LedgerChange(UNCHANGED, config.round_id, int(existing[0]), len(rows), total, changes)
        revision = 1 if existing is None else int(existing[0]) + 1
        if existing is None:
            db.execute(
                "INSERT INTO rounds (round_id, programme, programme_name, year, workspace, ranking_sha256, recorded_by, "
                "first_recorded_at, last_recorded_at, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (config.round_id, programme.id, programme.name, config.year, ws, ranking_sha256, recorded_by, at, at, 1),
            )
        else:
            db.execute(
                "UPDATE rounds SET ranking_sha256 = ?, recorded_by = ?, last_recorded_at = ?, revision = ?, "
                "programme_name = ? WHERE round_id = ?",
                (ranking_sha256, recorded_by, at, revision, programme.name, config.round_id),
            )
            db.execute("DELETE FROM awards WHERE round_id = ?", (config.round_id,))
        db.executemany(
            f"INSERT INTO awards ({', '.join(L.LEDGER_COLUMNS)}) VALUES ({', '.join('?' * len(L.LEDGER_COLUMNS))})",
            [tuple(int(v) if c in (C.YEAR, C.AMOUNT_YUAN) else str(v) for c, v in zip(L.LEDGER_COLUMNS, r))
             for r in rows.itertuples(index=False)],
        )
        status = RECORDED if existing is None else REPLACED
        detail = {"revision": revision, "rows": len(rows), "total_yuan": total, "changes": changes.describe()}
        db.execute(
            "INSERT INTO history (round_id, at, actor, action, ranking_sha256, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (config.round_id, at, recorded_by, status, ranking_sha256, json.dumps(detail, ensure_ascii=False)),
        )
    return LedgerChange(status, config.round_id, revision, len(rows), total, changes)


def void_round(home: Path, round_id: str, *, by: str, reason: str, at: str | None = None) -> int:
    """Remove a finalised round's awards (so its year can be finalised again); returns the rows removed."""
    if not by.strip() or not reason.strip():
        raise ConfigError("voiding a finalised round needs a name and a reason")
    with _db(home, write=True) as db:
        if db.execute("SELECT 1 FROM rounds WHERE round_id = ?", (round_id,)).fetchone() is None:
            raise ConfigError(f"round {round_id} is not in the awards ledger")
        removed = db.execute("DELETE FROM awards WHERE round_id = ?", (round_id,)).rowcount
        db.execute("DELETE FROM rounds WHERE round_id = ?", (round_id,))
        db.execute(
            "INSERT INTO history (round_id, at, actor, action, detail) VALUES (?, ?, ?, 'voided', ?)",
            (round_id, at or now(), by, json.dumps({"reason": reason, "rows": removed}, ensure_ascii=False)),
        )
    return removed


HEADERS_ZH = {
    L.ROUND_ID: "轮次", C.SUBMISSION_ID: "申报编号", L.PROGRAMME: "项目类别", L.PROGRAMME_NAME: "政策措施",
    C.YEAR: "年度", C.CREDIT_CODE: "统一社会信用代码", C.ENTERPRISE_NAME: "企业名称", C.TITLE: "项目名称",
    C.PROJECT_TITLE: "奖励对象", C.AMOUNT_YUAN: "奖励金额（元）", C.REASON_CODE: "说明代码",
}


def export_ledger_xlsx(home: Path, path: Path) -> Path:
    """The whole ledger as a workbook: awards, rounds, and the history of every change."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "奖励台账"
    awards = read_awards(home)
    ws.append([HEADERS_ZH[c] for c in L.LEDGER_COLUMNS])
    ws.append(list(L.LEDGER_COLUMNS))
    for r in awards.itertuples(index=False):
        ws.append([int(v) if c in (C.YEAR, C.AMOUNT_YUAN) else str(v) for c, v in zip(L.LEDGER_COLUMNS, r)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A3"
    for name, rows in (("轮次", read_rounds(home)), ("变更记录", read_history(home))):
        sheet = wb.create_sheet(name)
        if rows:
            sheet.append(list(rows[0]))
            for row in rows:
                sheet.append(list(row.values()))
    wb.properties.creator = "rounds"
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)  # same ledger → same bytes
    buf = io.BytesIO()
    wb.save(buf)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(deterministic_zip(buf.getvalue()))
    return path
