"""A round's own durable state: decisions, approvals and the audit log (out/round.sqlite).

Prefect's history is not the record: the temporary server drops runs at exit.
Every manual decision (approval, rejection, tie decision) and every run is
written here with who, when and why. The audit table is append-only (triggers
refuse UPDATE and DELETE).
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from flows.sqlite import transaction as sqlite_transaction
from scoring.ranking import TieDecision

SHANGHAI = ZoneInfo("Asia/Shanghai")

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS tie_decisions (
    members TEXT PRIMARY KEY,          -- sorted submission ids, comma-separated
    ordering TEXT NOT NULL,            -- the decided order, comma-separated
    decided_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approval_requests (
    ranking_hash TEXT PRIMARY KEY,
    requested_at TEXT NOT NULL,
    flow_run_id TEXT,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS publicity (
    ranking_hash TEXT PRIMARY KEY,
    published_on TEXT NOT NULL,
    window_from TEXT NOT NULL,
    window_to TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS final_overrides (
    ranking_hash TEXT PRIMARY KEY,
    decided_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL,
    filed_by TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    text TEXT NOT NULL,
    ranking_hash TEXT NOT NULL,          -- the published ranking the objection is against
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'upheld', 'rejected')),
    decided_by TEXT,
    decided_at TEXT,
    finding TEXT
);
CREATE TABLE IF NOT EXISTS finals (
    ranking_hash TEXT PRIMARY KEY,       -- the ranking that became final
    at TEXT NOT NULL,                    -- when: the date the notices carry
    why TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notice_fingerprints (
    submission_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    says TEXT NOT NULL,                  -- outcome, amount and reason code the notice states
    PRIMARY KEY (submission_id, kind)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ranking_hash TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    decided_by TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    via TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


def now() -> str:
    return dt.datetime.now(SHANGHAI).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Approval:
    ranking_hash: str
    decision: str
    decided_by: str
    comment: str
    via: str
    at: str

    @property
    def approved(self) -> bool:
        return self.decision == "approve"


class RoundState:
    """Opened per use; nothing connects in the constructor."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locking) transaction; committed on success, rolled back on error."""
        with self._db() as db:
            yield db

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with sqlite_transaction(self.path, SCHEMA) as con:
            yield con

    def exists(self) -> bool:
        return self.path.is_file()

    def get(self, key: str) -> str | None:
        if not self.exists():
            return None
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else (row[0] if isinstance(row[0], str) else bytes(row[0]).decode())

    def signing_key(self) -> bytes:
        """This round's secret for Message-IDs: made once, kept with the round, so reruns agree."""
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('signing_key', ?)", (secrets.token_bytes(32),))
            (value,) = db.execute("SELECT value FROM meta WHERE key = 'signing_key'").fetchone()
        return bytes(value)

    # --- what each notice says (to tell a changed result from a changed letter) ---------------
    def notice_fingerprints(self, kind: str) -> dict[str, str]:
        if not self.exists():
            return {}
        with self._db() as db:
            rows = db.execute("SELECT submission_id, says FROM notice_fingerprints WHERE kind = ?", (kind,))
            return dict(rows.fetchall())

    def record_notice_fingerprints(self, kind: str, says: dict[str, str]) -> None:
        with self._db() as db:
            db.executemany(
                "INSERT INTO notice_fingerprints (submission_id, kind, says) VALUES (?, ?, ?) "
                "ON CONFLICT (submission_id, kind) DO UPDATE SET says = excluded.says",
                [(sid, kind, text) for sid, text in says.items()],
            )

    # --- audit -------------------------------------------------------------------------------
    def log(self, actor: str, action: str, subject: str = "", **detail: object) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
                (now(), actor, action, subject, json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)),
            )

    def audit(self) -> list[dict]:
        if not self.exists():
            return []
        with self._db() as db:
            cur = db.execute("SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id")
            return [
                {"id": i, "at": a, "actor": ac, "action": act, "subject": s, "detail": json.loads(d)}
                for i, a, ac, act, s, d in cur.fetchall()
            ]

    # --- tie decisions -----------------------------------------------------------------------
    def record_tie_decision(self, order: list[str], decided_by: str, reason: str) -> None:
        members = ",".join(sorted(order))
        with self._db() as db:
            at = now()
            db.execute(
                "INSERT OR REPLACE INTO tie_decisions (members, ordering, decided_by, reason, at) VALUES (?, ?, ?, ?, ?)",
                (members, ",".join(order), decided_by, reason, at),
            )
            db.execute(
                "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, 'tie_decision', ?, ?)",
                (at, decided_by, members, json.dumps({"order": order, "reason": reason}, ensure_ascii=False)),
            )

    def tie_decisions(self) -> dict[frozenset[str], TieDecision]:
        if not self.exists():
            return {}
        with self._db() as db:
            rows = db.execute("SELECT ordering, decided_by, reason FROM tie_decisions ORDER BY members").fetchall()
        out = {}
        for ordering, by, reason in rows:
            d = TieDecision(order=tuple(ordering.split(",")), decided_by=by, reason=reason)
            out[d.members] = d
        return out

    # --- approval ------------------------------------------------------------------------------
    def request_approval(self, ranking_hash: str, summary: str, flow_run_id: str | None = None) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO approval_requests (ranking_hash, requested_at, flow_run_id, summary) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ranking_hash) DO UPDATE SET flow_run_id = COALESCE(excluded.flow_run_id, flow_run_id)",
                (ranking_hash, now(), flow_run_id, summary),
            )

    def latest_request(self) -> dict | None:
        if not self.exists():
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT ranking_hash, requested_at, flow_run_id, summary FROM approval_requests "
                "ORDER BY requested_at DESC, rowid DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return dict(zip(("ranking_hash", "requested_at", "flow_run_id", "summary"), row))

    def record_approval(self, ranking_hash: str, decision: str, decided_by: str, comment: str, via: str) -> Approval:
        at = now()
        with self._db() as db:
            db.execute(
                "INSERT INTO approvals (ranking_hash, decision, decided_by, comment, via, at) VALUES (?, ?, ?, ?, ?, ?)",
                (ranking_hash, decision, decided_by, comment, via, at),
            )
            db.execute(
                "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
                (at, decided_by, f"ranking_{decision}", ranking_hash,
                 json.dumps({"comment": comment, "via": via}, ensure_ascii=False)),
            )
        return Approval(ranking_hash, decision, decided_by, comment, via, at)

    def approval_for(self, ranking_hash: str) -> Approval | None:
        """The latest decision on exactly this ranking, if any."""
        if not self.exists():
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT ranking_hash, decision, decided_by, comment, via, at FROM approvals "
                "WHERE ranking_hash = ? ORDER BY id DESC LIMIT 1",
                (ranking_hash,),
            ).fetchone()
        return Approval(*row) if row else None
