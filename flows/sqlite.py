"""One way to open the project's SQLite files (round state, ledger, portal): a transaction per use.

WAL journal, FULL synchronous (a committed decision survives a power cut), the
schema script run once per process and file, and an immediate (write-locking)
transaction for writers so two processes never interleave a read-modify-write.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_ready: set[tuple[str, int]] = set()
_lock = threading.Lock()


@contextmanager
def transaction(path: Path, schema: str, *, write: bool = True, timeout: float = 30.0,
                check_same_thread: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection inside one transaction: committed on success, rolled back on any error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()  # a file deleted and made anew in this process needs its schema again
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread)
    try:
        con.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        key = (str(path.resolve()), hash(schema))
        if fresh or key not in _ready:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(schema)
            with _lock:
                _ready.add(key)
        con.execute("PRAGMA synchronous=FULL")
        con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        yield con
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
