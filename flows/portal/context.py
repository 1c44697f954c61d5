"""What the portal knows about the round: programme, applications, experts, who scores what.

Read from the workspace through the same readers and validators as every other
command (flows.intake.read_table, scoring.intake), never from the score sheets:
a broken sheet in scores/ must not keep experts from the portal. Reloaded when
any of the files it came from changes (a stat per request, cheap).

An expert may score an application only if the pair is in out/assignment.csv
and is not a conflict of interest (回避) by any of the three rules of
scoring.conflicts — recomputed here, so a conflict declared after assignment
(conflicts.csv in the workspace) takes effect at once, even for a crafted request.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flows.intake import read_table
from flows.panel import ASSIGNMENT, read_assignment
from flows.workspace import Workspace
from scoring import columns as C
from scoring.conflicts import find_conflicts
from scoring.errors import InputError, Problem, RoundsError
from scoring.intake import validate_experts, validate_submissions
from scoring.rules import Programme, RoundConfig


def _one(folder: Path, stem: str) -> Path | None:
    found = [p for p in sorted(folder.iterdir()) if p.is_file() and p.stem.lower() == stem
             and p.suffix.lower() in (".csv", ".xlsx") and not p.name.startswith(("~$", "."))]
    if len(found) > 1:
        raise InputError(Problem(f"{stem}.xlsx|.csv", "both an .xlsx and a .csv are present; keep only one"))
    return found[0] if found else None


def score_file_name(expert_id: str) -> str:
    """scores/portal-<id>.csv: the id with anything unsafe replaced (ids come from the experts file, never a client)."""
    safe = re.sub(r"[^\w.-]", "_", expert_id)
    if safe != expert_id:
        import hashlib

        safe += "-" + hashlib.sha256(expert_id.encode("utf-8")).hexdigest()[:8]
    return f"portal-{safe}.csv"


@dataclass(frozen=True)
class Application:
    submission_id: str
    enterprise_name: str
    title: str


@dataclass(frozen=True)
class RoundContext:
    config: RoundConfig
    programme: Programme
    submissions: pd.DataFrame
    experts: pd.DataFrame
    assignment: pd.DataFrame
    conflicts: pd.DataFrame
    allowed: dict[str, tuple[str, ...]] = field(repr=False)
    blocked: dict[str, dict[str, str]] = field(repr=False)
    apps: dict[str, Application] = field(repr=False)
    people: dict[str, dict] = field(repr=False)

    @property
    def round_title(self) -> str:
        return self.config.title or f"{self.config.year}年度{self.programme.name}"

    def expert(self, expert_id: str) -> dict:
        return dict(self.people.get(expert_id) or {C.EXPERT_ID: expert_id, C.EXPERT_NAME: expert_id})

    def assigned_experts(self) -> list[str]:
        return sorted(set(self.assignment[C.EXPERT_ID]))

    def may_score(self, expert_id: str, submission_id: str) -> bool:
        return submission_id in self.allowed.get(expert_id, ())

    def applications(self, expert_id: str) -> list[Application]:
        """The expert's applications they may score, as their score sheet lists them."""
        return [self.apps[s] for s in self.allowed.get(expert_id, ())]

    def allowed_pairs(self, expert_id: str) -> pd.DataFrame:
        mine = self.allowed.get(expert_id, ())
        return pd.DataFrame({C.EXPERT_ID: [expert_id] * len(mine), C.SUBMISSION_ID: list(mine)}, dtype=object)


def load_context(ws: Workspace) -> RoundContext:
    """Read and check what the portal needs; raises RoundsError with every problem."""
    config, programme = ws.load_config()
    if programme.scoring is None:
        raise RoundsError(f"programme {programme.id!r} has no expert scoring: there is nothing to score in a portal")
    assignment = read_assignment(ws)
    if assignment is None:
        raise RoundsError("no assignment yet: run `rounds assign DIR` first")
    problems: list[Problem] = []
    frames = {}
    for stem, header, validate in (("submissions", C.SUBMISSION_ID, lambda r: validate_submissions(r, programme)),
                                   ("experts", C.EXPERT_ID, validate_experts)):
        path = _one(ws.root, stem)
        if path is None:
            problems.append(Problem(f"{stem}.xlsx|.csv", "not found in the workspace; it is required"))
            continue
        try:
            parsed = validate(read_table(path, path.name, header_names=(header,)))
        except InputError as err:
            problems += err.problems
            continue
        problems += parsed.problems
        frames[stem] = parsed.frame
    declared = None
    for name in ("conflicts.csv", "conflicts.xlsx"):
        if (ws.root / name).is_file():
            try:
                declared = read_table(ws.root / name, name, header_names=(C.EXPERT_ID,))
            except InputError as err:
                problems += err.problems
    if problems:
        raise InputError(problems)
    submissions, experts = frames["submissions"], frames["experts"]
    conflicts = find_conflicts(submissions, experts, declared)
    conflict_reason = {(e, s): r for e, s, r in zip(conflicts[C.EXPERT_ID], conflicts[C.SUBMISSION_ID],
                                                     conflicts["reason"])}
    known = set(submissions[C.SUBMISSION_ID])
    allowed: dict[str, list[str]] = {}
    blocked: dict[str, dict[str, str]] = {}
    for e, s in sorted(zip(assignment[C.EXPERT_ID], assignment[C.SUBMISSION_ID]), key=lambda p: (p[0], p[1])):
        if (e, s) in conflict_reason:
            blocked.setdefault(e, {})[s] = conflict_reason[(e, s)]
        elif s in known:
            allowed.setdefault(e, []).append(s)
    apps = {s: Application(s, str(n), str(t)) for s, n, t in
            zip(submissions[C.SUBMISSION_ID], submissions[C.ENTERPRISE_NAME], submissions[C.TITLE])}
    people = {str(r[C.EXPERT_ID]): r for r in experts.drop_duplicates(C.EXPERT_ID).to_dict("records")}
    return RoundContext(config, programme, submissions, experts, assignment, conflicts,
                        {e: tuple(v) for e, v in allowed.items()}, blocked, apps, people)


class ContextCache:
    """The round context, reloaded when one of its source files changes (size or mtime)."""

    WATCHED = ("round.toml", "submissions.csv", "submissions.xlsx", "experts.csv", "experts.xlsx",
               "conflicts.csv", "conflicts.xlsx", f"out/{ASSIGNMENT}")

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._ctx: RoundContext | None = None

    def _stamp(self) -> tuple:
        out = []
        for name in self.WATCHED:
            try:
                st = (self.ws.root / name).stat()
                out.append((name, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append((name, None, None))
        return tuple(out)

    def get(self) -> RoundContext:
        key = self._stamp()
        ctx = self._ctx
        if ctx is not None and key == self._key:
            return ctx
        with self._lock:
            if self._ctx is None or key != self._key:
                self._ctx = load_context(self.ws)
                self._key = key
            return self._ctx
