"""Database backends of the outbox: SQLite (a file in the round's out/) or PostgreSQL.

The outbox's SQL is written once, portably (TEXT/INTEGER columns, ISO-8601 UTC
timestamps as text, `?` placeholders translated for psycopg); a backend only
supplies the connection, the blob type, the durable/non-durable commit and
the row lock used when claiming work.

Message bytes live in their own content-addressed table (`outbox_bodies`,
keyed by SHA-256): stored once, and a state change rewrites a small row
instead of a 10 kB record with its overflow pages. A replaced body stays
there too, so what was prepared earlier remains on record.

Durability is split on purpose. Claiming rows (-> `sending`) is committed
durably (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`) before
any SMTP transaction starts; recording a result is committed without waiting
for the disk. A crash of the process loses nothing (the OS has the pages); a
power cut can lose only the latest results, a suffix of the log, so those
rows reappear as `sending` and become `ambiguous` - flagged, never silently
resent. Per-result fsyncs would otherwise cap sending at the disk's fsync rate.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence

from notices.errors import OutboxBusy

SCHEMA_VERSION = "1"

_DDL = (
    """CREATE TABLE IF NOT EXISTS outbox_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS outbox_notices (
        round_id TEXT NOT NULL,
        submission_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT '',
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        body_sha256 TEXT NOT NULL,
        ranking_hash TEXT NOT NULL,
        approved_hash TEXT,
        state TEXT NOT NULL,
        claimed_from TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        ambiguous INTEGER NOT NULL DEFAULT 0,
        last_reply TEXT NOT NULL DEFAULT '',
        next_attempt_at TEXT,
        prepared_at TEXT NOT NULL,
        approved_at TEXT,
        sending_at TEXT,
        sent_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (round_id, submission_id, kind)
    )""",
    """CREATE TABLE IF NOT EXISTS outbox_bodies (
        body_sha256 TEXT PRIMARY KEY,
        body {blob} NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_notices_state ON outbox_notices (state, round_id, submission_id, kind)",
    """CREATE TABLE IF NOT EXISTS outbox_events (
        round_id TEXT NOT NULL,
        submission_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        event TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT ''
    )""",
    # no index on outbox_events: it is written on every transition and read only for an audit
)


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> Any: ...
    def fetchall(self) -> list[tuple]: ...
    def fetchone(self) -> tuple | None: ...


class Backend(Protocol):
    dialect: str
    #: appended to the SELECT that picks rows to claim
    claim_lock: str
    #: whether delivery_lock() excludes every other sender (then recover() may take all)
    exclusive: bool

    def transaction(self, *, durable: bool = False) -> contextlib.AbstractContextManager[Cursor]: ...
    def delivery_lock(self) -> contextlib.AbstractContextManager[None]: ...
    def close(self) -> None: ...
    def describe(self) -> str: ...


def is_postgres_url(target: str | os.PathLike[str]) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class SqliteBackend:
    """A WAL-mode SQLite file; the connection opens on first use, never in __init__."""

    dialect = "sqlite"
    claim_lock = ""
    exclusive = True

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def describe(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for ddl in _DDL:
                    conn.execute(ddl.format(blob="BLOB"))
                conn.execute("INSERT OR IGNORE INTO outbox_meta (key, value) VALUES ('schema_version', ?)",
                             (SCHEMA_VERSION,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Cursor]:
        """BEGIN IMMEDIATE takes the write lock up front: two senders never claim the same row."""
        with self._lock:
            conn = self._connect()
            conn.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    @contextlib.contextmanager
    def delivery_lock(self) -> Iterator[None]:
        """One sender per outbox file, held with flock so a killed sender releases it."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutboxBusy(f"another process is already sending from {self.path}; wait for it to finish") from None
            yield
        finally:
            os.close(fd)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_PLACEHOLDER = re.compile(r"\?")


class _PgCursor:
    """psycopg cursor that accepts the outbox's `?` placeholders."""

    def __init__(self, cur: Any):
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(_PLACEHOLDER.sub("%s", sql), params)

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(_PLACEHOLDER.sub("%s", sql), seq)

    def fetchall(self) -> list[tuple]:
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in self._cur.fetchall()]

    def fetchone(self) -> tuple | None:
        row = self._cur.fetchone()
        return None if row is None else tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class PostgresBackend:
    """PostgreSQL via psycopg 3, for several machines sending from one outbox.

    Claims use `FOR UPDATE SKIP LOCKED`, so senders on different machines never
    take the same row; there is no exclusive delivery lock, and `recover()`
    should then only take rows whose claim is older than a lease.
    """

    dialect = "postgres"
    claim_lock = " FOR UPDATE SKIP LOCKED"
    exclusive = False

    def __init__(self, url: str, *, schema: str | None = None):
        if schema is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise ValueError(f"invalid schema name {schema!r}")
        self.url = url
        self.schema = schema
        self._conn: Any = None
        self._lock = threading.RLock()

    def describe(self) -> str:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", self.url)

    def _connect(self) -> Any:
        if self._conn is None:
            import psycopg  # optional dependency: only needed for a PostgreSQL outbox

            conn = psycopg.connect(self.url, autocommit=True)
            if self.schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                conn.execute(f'SET search_path TO "{self.schema}"')
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(7426001)")  # serialise concurrent DDL
                for ddl in _DDL:
                    conn.execute(ddl.format(blob="BYTEA"))
                conn.execute("INSERT INTO outbox_meta (key, value) VALUES ('schema_version', %s) "
                             "ON CONFLICT (key) DO NOTHING", (SCHEMA_VERSION,))
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[_PgCursor]:
        with self._lock:
            conn = self._connect()
            with conn.transaction():
                with conn.cursor() as cur:
                    if not durable:
                        cur.execute("SET LOCAL synchronous_commit TO off")
                    yield _PgCursor(cur)

    @contextlib.contextmanager
    def delivery_lock(self) -> Iterator[None]:
        yield

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
