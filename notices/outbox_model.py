"""The outbox's vocabulary: states, the rows it stores and the reports it returns.

Kept apart from the database code in outbox.py so the deliverer, the CLI and
the tests can use these plain frozen dataclasses without touching SQL.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

PREPARED, APPROVED, SENDING, SENT, RETRY, FAILED, AMBIGUOUS = (
    "prepared", "approved", "sending", "sent", "retry", "failed", "ambiguous")
STATES: tuple[str, ...] = (PREPARED, APPROVED, SENDING, SENT, RETRY, FAILED, AMBIGUOUS)
#: states whose message has certainly not reached the server, so their body may be replaced
REPLACEABLE: frozenset[str] = frozenset({PREPARED, APPROVED, RETRY, FAILED})

Key = tuple[str, str, str]
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(moment: dt.datetime) -> str:
    """Sortable ISO-8601 UTC text: the same in SQLite and PostgreSQL."""
    if moment.tzinfo is None:
        raise ValueError("outbox timestamps must be timezone-aware")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class OutboxItem:
    """One notice to keep: the exact bytes to send and who gets them."""

    round_id: str
    submission_id: str
    kind: str
    recipient: str
    sender: str
    message_id: str
    body: bytes
    ranking_hash: str
    outcome: str = ""

    @property
    def key(self) -> Key:
        return (self.round_id, self.submission_id, self.kind)


@dataclass(frozen=True)
class Conflict:
    """An existing row whose stored bytes differ from what was prepared now."""

    round_id: str
    submission_id: str
    kind: str
    state: str
    stored_sha256: str
    new_sha256: str

    def __str__(self) -> str:
        return (f"{self.round_id}/{self.submission_id}/{self.kind}: already {self.state} with different "
                f"content ({self.stored_sha256[:12]} stored, {self.new_sha256[:12]} now)")


@dataclass(frozen=True)
class PrepareReport:
    new: int
    unchanged: int
    conflicts: tuple[Conflict, ...] = ()
    #: unchanged bytes under a new ranking hash: back to `prepared`, awaiting a new approval
    rebound: int = 0
    #: not-yet-delivered rows whose bytes were replaced (only with replace_unsent=True)
    replaced: int = 0


@dataclass(frozen=True)
class OutboxRow:
    """A row without its body (bodies are loaded only to send or preview)."""

    round_id: str
    submission_id: str
    kind: str
    outcome: str
    sender: str
    recipient: str
    message_id: str
    body_sha256: str
    ranking_hash: str
    approved_hash: str | None
    state: str
    attempts: int
    ambiguous: bool
    last_reply: str
    next_attempt_at: str | None
    prepared_at: str
    approved_at: str | None
    sending_at: str | None
    sent_at: str | None
    updated_at: str

    @property
    def key(self) -> Key:
        return (self.round_id, self.submission_id, self.kind)


@dataclass(frozen=True)
class Claimed:
    """A row taken for sending, with its bytes."""

    round_id: str
    submission_id: str
    kind: str
    sender: str
    recipient: str
    message_id: str
    body: bytes
    attempts: int
    ambiguous: bool
    claimed_from: str

    @property
    def key(self) -> Key:
        return (self.round_id, self.submission_id, self.kind)


@dataclass(frozen=True)
class Result:
    """The outcome of one attempt, to be recorded: sent, retry (due at next_attempt_at) or failed."""

    key: Key
    state: str
    reply: str
    next_attempt_at: dt.datetime | None = None
    ambiguous: bool = False
