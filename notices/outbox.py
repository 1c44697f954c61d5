"""The durable outbox: every notice's exact bytes and where it stands.

One row per (round_id, submission_id, kind); the rendered message is stored
once, under its SHA-256, in a table of bodies. States:

    prepared -> approved -> sending -> sent
                              |  ^-> retry  (temporary failure; due again at next_attempt_at)
                              |  '-> failed (permanent failure, or out of attempts)
                              '-> ambiguous (found in `sending` after a crash: it may have
                                             been delivered; retried once more, flagged forever)

Preparing is idempotent: the same bytes again change nothing; different bytes
for an existing row are a conflict (a sent row is never overwritten). Only
rows approved under the hash of the approved ranking are ever sent.
Timestamps are ISO-8601 UTC text, from a clock the caller may inject.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from notices.message import validate_address
from notices.outbox_model import (  # noqa: F401  (re-exported: the outbox's public vocabulary)
    AMBIGUOUS, APPROVED, FAILED, PREPARED, REPLACEABLE, RETRY, SENDING, SENT, STATES, Claimed, Clock,
    Conflict, Key, OutboxItem, OutboxRow, PrepareReport, Result, stamp, utc_now,
)
from notices.outbox_store import Backend, PostgresBackend, SqliteBackend, is_postgres_url

_COLUMNS = ("round_id, submission_id, kind, outcome, sender, recipient, message_id, body_sha256, "
            "ranking_hash, approved_hash, state, attempts, ambiguous, last_reply, next_attempt_at, "
            "prepared_at, approved_at, sending_at, sent_at, updated_at")


@dataclass
class Outbox:
    """The outbox of one round (SQLite path) or of many (PostgreSQL URL).

    Nothing connects until the first call. `clock` returns aware datetimes.
    """

    target: str | os.PathLike[str]
    clock: Clock = utc_now
    schema: str | None = None
    backend: Backend = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if is_postgres_url(self.target):
            self.backend = PostgresBackend(str(self.target), schema=self.schema)
        else:
            self.backend = SqliteBackend(self.target)

    @classmethod
    def open(cls, target: str | os.PathLike[str], *, clock: Clock = utc_now, schema: str | None = None) -> "Outbox":
        return cls(target, clock=clock, schema=schema)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> str:
        return stamp(self.clock())

    # --- preparing and approving ---------------------------------------------------
    def prepare(self, items: Iterable[OutboxItem], *, replace_unsent: bool = False) -> PrepareReport:
        """Store new notices; report unchanged ones and conflicts. One transaction.

        Addresses are validated here, so nothing unsendable is ever stored.
        With `replace_unsent`, a conflicting row that has certainly not reached
        a server (prepared, approved, retry, failed) takes the new bytes and
        goes back to `prepared`; sent, sending and ambiguous rows never change.
        """
        items = list(items)
        seen: set[Key] = set()
        for item in items:
            if item.key in seen:
                raise ValueError(f"notice {'/'.join(item.key)} appears twice in one batch")
            seen.add(item.key)
            validate_address(item.recipient)
            validate_address(item.sender)
            if not isinstance(item.body, bytes) or not item.body:
                raise ValueError(f"notice {'/'.join(item.key)} has no body bytes")
        now = self._now()
        new: list[tuple] = []
        bodies: list[tuple[str, bytes]] = []
        events: list[tuple] = []
        conflicts: list[Conflict] = []
        unchanged = rebound = replaced = 0
        with self.backend.transaction(durable=True) as cur:
            existing: dict[Key, tuple[str, str, str]] = {}
            for round_id in sorted({i.round_id for i in items}):
                cur.execute("SELECT round_id, submission_id, kind, body_sha256, state, ranking_hash "
                            "FROM outbox_notices WHERE round_id = ?", (round_id,))
                for r in cur.fetchall():
                    existing[(r[0], r[1], r[2])] = (r[3], r[4], r[5])
            for item in items:
                sha = hashlib.sha256(item.body).hexdigest()
                old = existing.get(item.key)
                if old is None:
                    bodies.append((sha, item.body))
                    new.append((*item.key, item.outcome, item.sender, item.recipient.strip(" \t"),
                                item.message_id, sha, item.ranking_hash, PREPARED, now, now))
                    events.append((*item.key, now, "prepared", 0, sha))
                    continue
                old_sha, state, old_hash = old
                if old_sha == sha:
                    if state in (PREPARED, APPROVED) and old_hash != item.ranking_hash:
                        cur.execute("UPDATE outbox_notices SET state = ?, ranking_hash = ?, approved_hash = NULL, "
                                    "approved_at = NULL, updated_at = ? WHERE round_id = ? AND submission_id = ? "
                                    "AND kind = ?", (PREPARED, item.ranking_hash, now, *item.key))
                        events.append((*item.key, now, "rebound", 0, item.ranking_hash))
                        rebound += 1
                    else:
                        unchanged += 1
                elif replace_unsent and state in REPLACEABLE:
                    bodies.append((sha, item.body))
                    cur.execute("UPDATE outbox_notices SET outcome = ?, sender = ?, recipient = ?, message_id = ?, "
                                "body_sha256 = ?, ranking_hash = ?, approved_hash = NULL, state = ?, "
                                "attempts = 0, last_reply = '', next_attempt_at = NULL, approved_at = NULL, "
                                "prepared_at = ?, updated_at = ? WHERE round_id = ? AND submission_id = ? "
                                "AND kind = ?",
                                (item.outcome, item.sender, item.recipient.strip(" \t"), item.message_id,
                                 sha, item.ranking_hash, PREPARED, now, now, *item.key))
                    events.append((*item.key, now, "replaced", 0, f"{old_sha} -> {sha} (was {state})"))
                    replaced += 1
                else:
                    conflicts.append(Conflict(*item.key, state=state, stored_sha256=old_sha, new_sha256=sha))
            if bodies:
                cur.executemany("INSERT INTO outbox_bodies (body_sha256, body) VALUES (?, ?) "
                                "ON CONFLICT (body_sha256) DO NOTHING", bodies)
            if new:
                cur.executemany(
                    "INSERT INTO outbox_notices (round_id, submission_id, kind, outcome, sender, recipient, "
                    "message_id, body_sha256, ranking_hash, state, prepared_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", new)
            self._log(cur, events)
        return PrepareReport(new=len(new), unchanged=unchanged, conflicts=tuple(conflicts),
                             rebound=rebound, replaced=replaced)

    def approve(self, approval_hash: str, *, round_id: str | None = None) -> int:
        """Approve the prepared rows of that ranking hash; rows of any other hash stay prepared."""
        if not approval_hash:
            raise ValueError("approval hash is empty")
        now = self._now()
        where, params = self._scope("state = ? AND ranking_hash = ?", [PREPARED, approval_hash], round_id)
        with self.backend.transaction(durable=True) as cur:
            cur.execute(f"SELECT round_id, submission_id, kind FROM outbox_notices WHERE {where}", params)
            keys = cur.fetchall()
            cur.execute(f"UPDATE outbox_notices SET state = ?, approved_hash = ?, approved_at = ?, updated_at = ? "
                        f"WHERE {where}", [APPROVED, approval_hash, now, now, *params])
            self._log(cur, [(*k, now, "approved", 0, approval_hash) for k in keys])
        return len(keys)

    # --- what the deliverer needs ----------------------------------------------------
    def recover(self, *, stale_after: dt.timedelta | None = None, round_id: str | None = None) -> int:
        """Rows left in `sending` by a dead sender become `ambiguous` (flagged for good).

        With `stale_after`, only claims older than that are taken (several live
        senders sharing a PostgreSQL outbox).
        """
        now = self.clock()
        cond, params = "state = ?", [SENDING]
        if stale_after is not None:
            cond += " AND sending_at < ?"
            params.append(stamp(now - stale_after))
        where, params = self._scope(cond, params, round_id)
        with self.backend.transaction(durable=True) as cur:
            cur.execute(f"SELECT round_id, submission_id, kind, attempts FROM outbox_notices WHERE {where}", params)
            rows = cur.fetchall()
            cur.execute(f"UPDATE outbox_notices SET state = ?, ambiguous = 1, claimed_from = NULL, updated_at = ?, "
                        f"last_reply = ? WHERE {where}",
                        [AMBIGUOUS, stamp(now), "found in sending after an interrupted run", *params])
            self._log(cur, [(r[0], r[1], r[2], stamp(now), AMBIGUOUS, r[3], "found in sending") for r in rows])
        return len(rows)

    def claim(self, limit: int, *, round_id: str | None = None, include_ambiguous: bool = True) -> list[Claimed]:
        """Take up to `limit` due rows into `sending`, durably, before any SMTP transaction.

        Order: ambiguous rows first (they were interrupted), then due retries,
        then approved rows by submission id.
        """
        now = self._now()
        picks: list[tuple] = []
        with self.backend.transaction(durable=True) as cur:
            queries = []
            if include_ambiguous:
                queries.append(("state = ?", [AMBIGUOUS]))
            queries.append(("state = ? AND next_attempt_at <= ?", [RETRY, now]))
            queries.append(("state = ?", [APPROVED]))
            for cond, params in queries:
                if len(picks) >= limit:
                    break
                where, params = self._scope(cond, params, round_id)
                cur.execute(f"SELECT round_id, submission_id, kind, state FROM outbox_notices WHERE {where} "
                            f"ORDER BY round_id, submission_id, kind LIMIT ?{self.backend.claim_lock}",
                            [*params, limit - len(picks)])
                picks.extend(cur.fetchall())
            if not picks:
                return []
            cur.executemany("UPDATE outbox_notices SET state = ?, claimed_from = ?, attempts = attempts + 1, "
                            "sending_at = ?, updated_at = ? WHERE round_id = ? AND submission_id = ? AND kind = ?",
                            [(SENDING, p[3], now, now, p[0], p[1], p[2]) for p in picks])
            claimed = []
            for p in picks:
                cur.execute("SELECT n.sender, n.recipient, n.message_id, b.body, n.attempts, n.ambiguous "
                            "FROM outbox_notices n JOIN outbox_bodies b ON b.body_sha256 = n.body_sha256 "
                            "WHERE n.round_id = ? AND n.submission_id = ? AND n.kind = ?", p[:3])
                r = cur.fetchone()
                if r is None:  # pragma: no cover - the row was just updated in this transaction
                    raise RuntimeError(f"outbox row {p[:3]} vanished while being claimed")
                claimed.append(Claimed(p[0], p[1], p[2], sender=r[0], recipient=r[1], message_id=r[2],
                                       body=bytes(r[3]), attempts=int(r[4]), ambiguous=bool(r[5]),
                                       claimed_from=p[3]))
            self._log(cur, [(*c.key, now, SENDING, c.attempts, "") for c in claimed])
        return claimed

    def record(self, key: Key, state: str, reply: str, *, next_attempt_at: dt.datetime | None = None,
               ambiguous: bool = False) -> None:
        """The result of one attempt: sent, retry (due at next_attempt_at) or failed."""
        self.record_many([Result(key, state, reply, next_attempt_at, ambiguous)])

    def record_many(self, results: Sequence["Result"]) -> None:
        """Several results in one transaction (a group commit by the deliverer's writer thread).

        Committed without waiting for the disk (see outbox_store): cheap enough
        to do right after every 250, keeping the duplicate window small.
        """
        for r in results:
            if r.state not in (SENT, RETRY, FAILED):
                raise ValueError(f"cannot record state {r.state!r}")
        now = self._now()
        rows = [(r.state, r.reply, stamp(r.next_attempt_at) if r.next_attempt_at is not None else None,
                 r.state, now, int(r.ambiguous), now, *r.key, SENDING) for r in results]
        with self.backend.transaction(durable=False) as cur:
            cur.executemany("UPDATE outbox_notices SET state = ?, last_reply = ?, next_attempt_at = ?, "
                            "claimed_from = NULL, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, "
                            "ambiguous = CASE WHEN ? = 1 THEN 1 ELSE ambiguous END, updated_at = ? "
                            "WHERE round_id = ? AND submission_id = ? AND kind = ? AND state = ?", rows)
            # a plain success is on the row itself (state, sent_at, last_reply); the log keeps the rest
            self._log(cur, [(*r.key, now, r.state, 0, r.reply) for r in results if r.state != SENT or r.ambiguous])

    def release(self, keys: Sequence[Key]) -> None:
        """Put claimed rows that were never attempted back where they came from (halted run)."""
        now = self._now()
        with self.backend.transaction(durable=True) as cur:
            for key in keys:
                cur.execute("UPDATE outbox_notices SET state = COALESCE(claimed_from, ?), claimed_from = NULL, "
                            "attempts = attempts - 1, updated_at = ? WHERE round_id = ? AND submission_id = ? "
                            "AND kind = ? AND state = ?", (APPROVED, now, *key, SENDING))
            self._log(cur, [(*k, now, "released", 0, "") for k in keys])

    def retry_failed(self, *, round_id: str | None = None) -> int:
        """Queue failed rows again, due now, with a fresh attempt budget."""
        now = self._now()
        where, params = self._scope("state = ?", [FAILED], round_id)
        with self.backend.transaction(durable=True) as cur:
            cur.execute(f"SELECT round_id, submission_id, kind FROM outbox_notices WHERE {where}", params)
            keys = cur.fetchall()
            cur.execute(f"UPDATE outbox_notices SET state = ?, attempts = 0, next_attempt_at = ?, updated_at = ? "
                        f"WHERE {where}", [RETRY, now, now, *params])
            self._log(cur, [(*k, now, "requeued", 0, "") for k in keys])
        return len(keys)

    def outstanding(self, *, round_id: str | None = None, include_ambiguous: bool = True) -> tuple[int, str | None]:
        """(rows still to send, earliest next_attempt_at among retries)."""
        states = [APPROVED, RETRY, SENDING] + ([AMBIGUOUS] if include_ambiguous else [])
        marks = ", ".join("?" * len(states))
        where, params = self._scope(f"state IN ({marks})", states, round_id)
        with self.backend.transaction() as cur:
            cur.execute(f"SELECT COUNT(*), MIN(CASE WHEN state = 'retry' THEN next_attempt_at END) "
                        f"FROM outbox_notices WHERE {where}", params)
            n, due = cur.fetchone() or (0, None)
        return int(n), due

    # --- reading -------------------------------------------------------------------
    def counts(self, *, round_id: str | None = None) -> dict[str, int]:
        where, params = self._scope("1 = 1", [], round_id)
        out = dict.fromkeys(STATES, 0)
        with self.backend.transaction() as cur:
            cur.execute(f"SELECT state, COUNT(*) FROM outbox_notices WHERE {where} GROUP BY state", params)
            for state, n in cur.fetchall():
                out[state] = int(n)
        return out

    def rows(self, state: str | None = None, *, round_id: str | None = None,
             ambiguous: bool | None = None) -> list[OutboxRow]:
        cond, params = "1 = 1", []
        if state is not None:
            if state not in STATES:
                raise ValueError(f"unknown state {state!r}; valid: {', '.join(STATES)}")
            cond, params = "state = ?", [state]
        if ambiguous is not None:
            cond += " AND ambiguous = ?"
            params.append(int(ambiguous))
        where, params = self._scope(cond, params, round_id)
        with self.backend.transaction() as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM outbox_notices WHERE {where} ORDER BY round_id, submission_id, kind",
                        params)
            fetched = cur.fetchall()
        return [OutboxRow(*r[:12], bool(r[12]), *r[13:]) for r in fetched]

    def body(self, key: Key) -> bytes:
        with self.backend.transaction() as cur:
            cur.execute("SELECT b.body FROM outbox_notices n JOIN outbox_bodies b ON b.body_sha256 = n.body_sha256 "
                        "WHERE n.round_id = ? AND n.submission_id = ? AND n.kind = ?", key)
            r = cur.fetchone()
        if r is None:
            raise KeyError(key)
        return bytes(r[0])

    def iter_bodies(self, *, round_id: str | None = None, batch: int = 500) -> Iterator[tuple[OutboxRow, bytes]]:
        """Every row with its bytes, a batch at a time (previews of large rounds)."""
        rows = self.rows(round_id=round_id)
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            with self.backend.transaction() as cur:
                for row in chunk:
                    cur.execute("SELECT body FROM outbox_bodies WHERE body_sha256 = ?", (row.body_sha256,))
                    r = cur.fetchone()
                    if r is not None:
                        yield row, bytes(r[0])

    def events(self, key: Key) -> list[tuple[str, str, int, str]]:
        """(at, event, attempt, detail) of one notice, oldest first: its audit trail."""
        with self.backend.transaction() as cur:
            cur.execute("SELECT at, event, attempt, detail FROM outbox_events WHERE round_id = ? "
                        "AND submission_id = ? AND kind = ? ORDER BY at", key)
            return [tuple(r) for r in cur.fetchall()]  # type: ignore[misc]

    # --- helpers -------------------------------------------------------------------
    @staticmethod
    def _scope(cond: str, params: list, round_id: str | None) -> tuple[str, list]:
        if round_id is None:
            return cond, list(params)
        return f"({cond}) AND round_id = ?", [*params, round_id]

    @staticmethod
    def _log(cur, events: list[tuple]) -> None:
        if events:
            cur.executemany("INSERT INTO outbox_events (round_id, submission_id, kind, at, event, attempt, detail) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", events)
