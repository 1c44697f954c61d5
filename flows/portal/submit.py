"""Submitting an expert's scores: validated, journaled, written atomically, audited.

    stage the CSV bytes in scores/.portal-*.csv (fsync)
    → read them back and validate them (read_table + validate_scores, as intake will)
    → journal the revision as `pending` with its bytes (portal.sqlite, durable)
    → os.replace onto scores/portal-<id>.csv, fsync the folder → mark `applied`
    → the round's audit log (out/round.sqlite) → mark `logged`

A crash before the journal commit leaves nothing (the expert got no
confirmation and submits again); after it, `recover()` rolls the revision
forward from the journaled bytes on the next start, so a confirmed submission
is never lost and a file is never half-written. Files starting with "." are
skipped by intake, so a stray staging file is never read as scores.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from flows.portal.context import RoundContext, score_file_name
from flows.portal.store import PortalStore
from flows.portal.validation import FieldProblem, check_score_file, in_chinese, missing_scores, score_file_bytes
from flows.state import RoundState
from flows.workspace import Workspace

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _expert_lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class Receipt:
    expert_id: str
    revision: int
    sha256: str
    file: str
    at: str


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(folder: Path, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".portal-", suffix=".csv", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(tmp)


def _apply(ws: Workspace, expert_id: str, body: bytes, staged: Path | None = None) -> Path:
    """Put `body` at scores/portal-<id>.csv atomically (replace, then fsync the folder)."""
    folder = ws.root / "scores"
    staged = staged or _stage(folder, body)
    target = folder / score_file_name(expert_id)
    os.replace(staged, target)
    _fsync_dir(folder)
    return target


def _log(ws: Workspace, expert_id: str, revision: int, sha: str, action: str, **detail: object) -> None:
    RoundState(ws.state_db).log(f"expert:{expert_id}", action, expert_id, revision=revision, sha256=sha,
                                file=f"scores/{score_file_name(expert_id)}", **detail)


def recover(store: PortalStore, ws: Workspace, clock) -> int:
    """Finish revisions a crash interrupted: pending → file written → applied → audit → logged.

    Run at start, before any request: staging files a crash left in scores/ are removed too.
    """
    done = 0
    for stale in (ws.root / "scores").glob(".portal-*.csv") if (ws.root / "scores").is_dir() else ():
        stale.unlink(missing_ok=True)
    for expert_id, revision, state, body in store.unfinished():
        with _expert_lock(f"{ws.root}:{expert_id}"):
            newest = store.latest_submission(expert_id)
            sha = hashlib.sha256(body).hexdigest()
            if state == "pending":
                if newest is not None and newest.revision == revision:
                    _apply(ws, expert_id, body)
                store.mark(expert_id, revision, "applied", clock())
            _log(ws, expert_id, revision, sha, "portal_submitted", recovered=True)
            store.mark(expert_id, revision, "logged", clock())
            done += 1
    return done


def submit(store: PortalStore, ws: Workspace, ctx: RoundContext, expert_id: str, clock
           ) -> tuple[Receipt | None, list[FieldProblem]]:
    """Submit the expert's drafts as their complete scores; (receipt, []) or (None, problems)."""
    with _expert_lock(f"{ws.root}:{expert_id}"):
        drafts = store.drafts(expert_id)
        problems = missing_scores(ctx, expert_id, drafts)
        if problems:
            return None, problems
        body = score_file_bytes(ctx, expert_id, drafts)
        label = f"scores/{score_file_name(expert_id)}"
        staged = _stage(ws.root / "scores", body)
        try:
            _, found = check_score_file(ctx, expert_id, staged, label)
            if found:
                staged.unlink(missing_ok=True)
                return None, [FieldProblem(None, None, in_chinese(p, ctx)) for p in found]
            moment = clock()
            revision = store.begin_submission(expert_id, body, moment)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        _apply(ws, expert_id, body, staged)
        store.mark(expert_id, revision, "applied", clock())
        sha = hashlib.sha256(body).hexdigest()
        _log(ws, expert_id, revision, sha, "portal_submitted",
             applications=len(ctx.applications(expert_id)))
        store.mark(expert_id, revision, "logged", clock())
        return Receipt(expert_id, revision, sha, label, moment.isoformat(timespec="seconds")), []

