"""The portal's own durable state: out/portal.sqlite (WAL, one transaction per change).

What it keeps, and why here rather than in round.sqlite:
- `links`: the SHA-256 of each expert's link token (never the token), its
  expiry and whether the manager revoked it. A leaked copy of this file opens
  nothing: a token has 256 random bits, so its hash cannot be inverted.
- `sessions`: the SHA-256 of each browser session a link opened.
- `drafts`: what an expert typed, per application and criterion, before submitting.
- `submissions`: every submitted revision of an expert's scores, with the exact
  bytes of the score file. It doubles as a journal: a revision is recorded
  `pending` before scores/portal-<id>.csv is replaced, `applied` after,
  `logged` once the round's audit log has it; `recover()` rolls a pending one
  forward after a crash, so a submission is either wholly in or wholly out.
- `reminders`, `meta` (the lock, the deadline, the secret for CSRF tokens).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from flows.sqlite import transaction as sqlite_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    token_sha256 TEXT PRIMARY KEY,
    expert_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT,
    UNIQUE (expert_id, generation)
);
CREATE TABLE IF NOT EXISTS sessions (
    session_sha256 TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL,
    expert_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drafts (
    expert_id TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    criterion TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (expert_id, submission_id, criterion)
);
CREATE TABLE IF NOT EXISTS submissions (
    expert_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'logged')),
    created_at TEXT NOT NULL,
    applied_at TEXT,
    PRIMARY KEY (expert_id, revision)
);
CREATE TABLE IF NOT EXISTS reminders (
    expert_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    batch TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (expert_id, number),
    UNIQUE (expert_id, batch)
);
"""


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("portal times must be timezone-aware")
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Link:
    token_sha256: str
    expert_id: str
    generation: int
    issued_at: str
    expires_at: str
    revoked_at: str | None

    def valid_at(self, moment: dt.datetime) -> bool:
        return self.revoked_at is None and moment < dt.datetime.fromisoformat(self.expires_at)


@dataclass(frozen=True)
class Submitted:
    expert_id: str
    revision: int
    sha256: str
    state: str
    created_at: str


class PortalStore:
    """out/portal.sqlite. Opened per use; nothing connects in the constructor."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def _db(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        with sqlite_transaction(self.path, SCHEMA, write=write, timeout=60, check_same_thread=False) as con:
            yield con

    def secret(self) -> bytes:
        """This portal's key for CSRF tokens: made once, kept with the round."""
        with self._db(write=True) as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (secrets.token_bytes(32),))
            (value,) = db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
        return bytes(value)

    def get_meta(self, key: str) -> str | None:
        with self._db(write=False) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else (row[0] if isinstance(row[0], str) else bytes(row[0]).decode())

    def set_meta(self, key: str, value: str | None) -> None:
        with self._db(write=True) as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                           "SET value = excluded.value", (key, value))

    # --- links ---------------------------------------------------------------------------
    def next_generation(self, expert_id: str) -> int:
        with self._db(write=False) as db:
            (n,) = db.execute("SELECT COALESCE(MAX(generation), 0) FROM links WHERE expert_id = ?",
                              (expert_id,)).fetchone()
        return int(n) + 1

    def add_link(self, token_sha256: str, expert_id: str, generation: int, issued_at: dt.datetime,
                 expires_at: dt.datetime) -> None:
        with self._db(write=True) as db:
            db.execute("INSERT INTO links (token_sha256, expert_id, generation, issued_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?)", (token_sha256, expert_id, generation, iso(issued_at), iso(expires_at)))

    def link(self, token_sha256: str) -> Link | None:
        with self._db(write=False) as db:
            row = db.execute("SELECT token_sha256, expert_id, generation, issued_at, expires_at, revoked_at "
                             "FROM links WHERE token_sha256 = ?", (token_sha256,)).fetchone()
        return Link(*row) if row else None

    def links(self) -> list[Link]:
        with self._db(write=False) as db:
            rows = db.execute("SELECT token_sha256, expert_id, generation, issued_at, expires_at, revoked_at "
                              "FROM links ORDER BY expert_id, generation").fetchall()
        return [Link(*r) for r in rows]

    def active_link(self, expert_id: str, moment: dt.datetime) -> Link | None:
        mine = [lk for lk in self.links() if lk.expert_id == expert_id and lk.valid_at(moment)]
        return mine[-1] if mine else None

    def revoke(self, expert_id: str, by: str, moment: dt.datetime) -> int:
        """Revoke every live link of the expert and end their sessions; returns how many links."""
        with self._db(write=True) as db:
            hashes = [r[0] for r in db.execute("SELECT token_sha256 FROM links WHERE expert_id = ? "
                                               "AND revoked_at IS NULL", (expert_id,))]
            db.executemany("UPDATE links SET revoked_at = ?, revoked_by = ? WHERE token_sha256 = ?",
                           [(iso(moment), by, h) for h in hashes])
            db.execute("DELETE FROM sessions WHERE expert_id = ?", (expert_id,))
        return len(hashes)

    # --- sessions --------------------------------------------------------------------------
    def add_session(self, session_sha256: str, link: Link, moment: dt.datetime) -> None:
        with self._db(write=True) as db:
            db.execute("INSERT INTO sessions (session_sha256, token_sha256, expert_id, created_at) VALUES (?, ?, ?, ?)",
                       (session_sha256, link.token_sha256, link.expert_id, iso(moment)))

    def session_link(self, session_sha256: str) -> Link | None:
        with self._db(write=False) as db:
            row = db.execute("SELECT l.token_sha256, l.expert_id, l.generation, l.issued_at, l.expires_at, "
                             "l.revoked_at FROM sessions s JOIN links l ON l.token_sha256 = s.token_sha256 "
                             "WHERE s.session_sha256 = ?", (session_sha256,)).fetchone()
        return Link(*row) if row else None

    # --- drafts ----------------------------------------------------------------------------
    def drafts(self, expert_id: str) -> dict[tuple[str, str], str]:
        with self._db(write=False) as db:
            rows = db.execute("SELECT submission_id, criterion, value FROM drafts WHERE expert_id = ?",
                              (expert_id,)).fetchall()
        return {(s, c): v for s, c, v in rows}

    def save_drafts(self, expert_id: str, values: dict[tuple[str, str], str], moment: dt.datetime,
                    *, replace_pairs: bool = True) -> None:
        """Set the draft values of the pairs in `values` in one transaction (empty text clears a value).

        With `replace_pairs`, criteria of those pairs not in `values` are cleared too.
        """
        pairs = sorted({sid for sid, _ in values})
        with self._db(write=True) as db:
            if replace_pairs:
                db.executemany("DELETE FROM drafts WHERE expert_id = ? AND submission_id = ?",
                               [(expert_id, s) for s in pairs])
            db.executemany("DELETE FROM drafts WHERE expert_id = ? AND submission_id = ? AND criterion = ?",
                           [(expert_id, s, c) for (s, c), v in values.items() if v == ""])
            db.executemany("INSERT INTO drafts (expert_id, submission_id, criterion, value, updated_at) "
                           "VALUES (?, ?, ?, ?, ?) ON CONFLICT (expert_id, submission_id, criterion) DO UPDATE "
                           "SET value = excluded.value, updated_at = excluded.updated_at",
                           [(expert_id, s, c, v, iso(moment)) for (s, c), v in sorted(values.items()) if v != ""])

    def draft_counts(self) -> dict[str, int]:
        """Per expert, how many (application, criterion) values are drafted."""
        with self._db(write=False) as db:
            return dict(db.execute("SELECT expert_id, COUNT(*) FROM drafts GROUP BY expert_id").fetchall())

    # --- submissions (the journal) ---------------------------------------------------------
    def begin_submission(self, expert_id: str, body: bytes, moment: dt.datetime) -> int:
        """Record a new revision as pending (durably, before the file is replaced); returns its number."""
        with self._db(write=True) as db:
            (last,) = db.execute("SELECT COALESCE(MAX(revision), 0) FROM submissions WHERE expert_id = ?",
                                 (expert_id,)).fetchone()
            revision = int(last) + 1
            db.execute("INSERT INTO submissions (expert_id, revision, sha256, body, state, created_at) "
                       "VALUES (?, ?, ?, ?, 'pending', ?)",
                       (expert_id, revision, hashlib.sha256(body).hexdigest(), body, iso(moment)))
        return revision

    def mark(self, expert_id: str, revision: int, state: str, moment: dt.datetime) -> None:
        with self._db(write=True) as db:
            db.execute("UPDATE submissions SET state = ?, applied_at = COALESCE(applied_at, ?) "
                       "WHERE expert_id = ? AND revision = ?", (state, iso(moment), expert_id, revision))

    def unfinished(self) -> list[tuple[str, int, str, bytes]]:
        """(expert_id, revision, state, body) of revisions not yet both applied and logged, oldest first."""
        with self._db(write=False) as db:
            rows = db.execute("SELECT expert_id, revision, state, body FROM submissions WHERE state != 'logged' "
                              "ORDER BY expert_id, revision").fetchall()
        return [(e, int(r), s, bytes(b)) for e, r, s, b in rows]

    def latest_submissions(self) -> dict[str, Submitted]:
        """Each expert's newest revision (whatever its state)."""
        with self._db(write=False) as db:
            rows = db.execute(
                "SELECT s.expert_id, s.revision, s.sha256, s.state, s.created_at FROM submissions s "
                "JOIN (SELECT expert_id, MAX(revision) AS r FROM submissions GROUP BY expert_id) m "
                "ON m.expert_id = s.expert_id AND m.r = s.revision").fetchall()
        return {r[0]: Submitted(r[0], int(r[1]), r[2], r[3], r[4]) for r in rows}

    def latest_submission(self, expert_id: str) -> Submitted | None:
        with self._db(write=False) as db:
            row = db.execute("SELECT expert_id, revision, sha256, state, created_at FROM submissions "
                             "WHERE expert_id = ? ORDER BY revision DESC LIMIT 1", (expert_id,)).fetchone()
        return Submitted(row[0], int(row[1]), row[2], row[3], row[4]) if row else None

    def submission_body(self, expert_id: str, revision: int) -> bytes:
        with self._db(write=False) as db:
            row = db.execute("SELECT body FROM submissions WHERE expert_id = ? AND revision = ?",
                             (expert_id, revision)).fetchone()
        if row is None:
            raise KeyError((expert_id, revision))
        return bytes(row[0])

    # --- reminders -------------------------------------------------------------------------
    def reminder_number(self, expert_id: str, batch: str) -> tuple[int, bool]:
        """(number, already recorded) of the reminder of `batch` for this expert."""
        with self._db(write=False) as db:
            row = db.execute("SELECT number FROM reminders WHERE expert_id = ? AND batch = ?",
                             (expert_id, batch)).fetchone()
            if row:
                return int(row[0]), True
            (last,) = db.execute("SELECT COALESCE(MAX(number), 0) FROM reminders WHERE expert_id = ?",
                                 (expert_id,)).fetchone()
        return int(last) + 1, False

    def add_reminder(self, expert_id: str, number: int, batch: str, moment: dt.datetime) -> None:
        with self._db(write=True) as db:
            db.execute("INSERT OR IGNORE INTO reminders (expert_id, number, batch, at) VALUES (?, ?, ?, ?)",
                       (expert_id, number, batch, iso(moment)))

    def reminder_counts(self) -> dict[str, int]:
        with self._db(write=False) as db:
            return dict(db.execute("SELECT expert_id, COUNT(*) FROM reminders GROUP BY expert_id").fetchall())
