"""The expert side of a round: assign panels (回避, balanced loads), collect sheets, who still owes what.

    rounds assign DIR    → out/assignment.csv, out/conflicts.csv, out/sheets/<expert>.xlsx
    rounds collect DIR [SOURCE]  → checks uploads against the assignment; imports them into scores/
    rounds status DIR    → also lists what each expert still owes

An expert's sheet lists only that expert's applications, so no expert ever sees
another's scores. The assignment is frozen once sheets are out: assigning again
with different inputs needs --reassign, recorded in the audit log.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flows.intake import load_workspace, read_table
from flows.lifecycle import Lifecycle
from flows.sheets import build_score_workbook, sheet_filename
from flows.state import RoundState
from flows.workspace import Workspace, write_files
from flows.xlsx import workbook_bytes
from scoring import columns as C
from scoring.assignment import assign_experts
from scoring.conflicts import find_conflicts
from scoring.eligibility import ReviewContext, review
from scoring.errors import InputError, Problem, RoundsError

ASSIGNMENT = "assignment.csv"
CONFLICTS = "conflicts.csv"


@dataclass(frozen=True)
class AssignReport:
    n_applications: int
    n_experts: int
    k: int
    loads: dict[str, int]
    n_conflicts: int
    sheets: tuple[str, ...]
    changed: tuple[str, ...]


def _csv(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def read_assignment(ws: Workspace) -> pd.DataFrame | None:
    path = ws.out / ASSIGNMENT
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False)[[C.EXPERT_ID, C.SUBMISSION_ID]]


def _declared_conflicts(ws: Workspace) -> pd.DataFrame | None:
    for name in ("conflicts.csv", "conflicts.xlsx"):
        path = ws.root / name
        if path.is_file():
            raw = read_table(path, name, header_names=(C.EXPERT_ID,))
            return raw
    return None


def assign(ws: Workspace, *, k: int | None = None, reassign: bool = False, actor: str = "system") -> AssignReport:
    config, programme = ws.load_config()
    if programme.scoring is None:
        raise RoundsError(f"programme {programme.id!r} has no expert scoring: nothing to assign")
    inputs = load_workspace(ws.root, programme, require_scores=False)
    ctx = ReviewContext(programme=programme, config=config, excluded_products=inputs.excluded_products)
    reviewed = review(inputs.submissions, ctx)
    eligible = inputs.submissions[reviewed[C.ELIGIBLE].to_numpy()]
    conflicts = find_conflicts(eligible, inputs.experts, _declared_conflicts(ws))
    k = k or programme.scoring.experts_per_application
    pairs = assign_experts(eligible[C.SUBMISSION_ID], inputs.experts[C.EXPERT_ID], conflicts, k, config.seed)

    previous = read_assignment(ws)
    if previous is not None and not reassign:
        if not previous.sort_values([C.SUBMISSION_ID, C.EXPERT_ID]).reset_index(drop=True).equals(
            pairs.sort_values([C.SUBMISSION_ID, C.EXPERT_ID]).reset_index(drop=True)
        ):
            raise RoundsError(
                "the inputs now give a different assignment than the one already sent to experts "
                "(out/assignment.csv); run `rounds assign DIR --reassign` to replace it (recorded in the audit log)"
            )

    files: dict[str, bytes] = {ASSIGNMENT: _csv(pairs), CONFLICTS: _csv(conflicts)}
    experts = inputs.experts.set_index(C.EXPERT_ID)
    for eid, mine in pairs.groupby(C.EXPERT_ID, sort=True):
        apps = eligible[eligible[C.SUBMISSION_ID].isin(mine[C.SUBMISSION_ID])].sort_values(C.SUBMISSION_ID)
        expert = {C.EXPERT_ID: eid, **experts.loc[eid].to_dict()}
        wb = build_score_workbook(expert, apps, programme, round_title=config.title or f"{config.year}年度{programme.name}")
        files[f"sheets/{sheet_filename(str(eid))}"] = workbook_bytes(wb)
    changed = ws.write_outputs(files)
    state = RoundState(ws.state_db)
    loads = pairs.groupby(C.EXPERT_ID).size().to_dict()
    state.log(actor, "reassigned" if (reassign and previous is not None) else "assigned", config.round_id,
              k=k, applications=len(eligible), experts=len(loads), conflicts=len(conflicts), changed=changed)
    Lifecycle(state).move("assigned", actor, k=k)
    return AssignReport(len(eligible), len(loads), k, {str(e): int(n) for e, n in loads.items()}, len(conflicts),
                        tuple(sorted(n for n in files if n.startswith("sheets/"))), tuple(changed))


def _sources(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(p for p in source.iterdir()
                      if p.suffix.lower() in (".csv", ".xlsx") and not p.name.startswith(("~$", ".")))
    if source.is_file():
        return [source]
    raise RoundsError(f"{source}: no such file or folder")


def collect(ws: Workspace, source: Path | None = None, actor: str = "system") -> dict:
    """Check uploads against the assignment (all of them, with the sheets already in scores/); import them."""
    config, programme = ws.load_config()
    assigned = read_assignment(ws)
    if assigned is None:
        raise RoundsError("no assignment yet: run `rounds assign DIR` first")
    scores_dir = ws.root / "scores"
    new: list[Path] = []
    if source is not None and Path(source).resolve() != scores_dir.resolve():
        new = _sources(Path(source).resolve())
        clash = [p.name for p in new if (scores_dir / p.name).exists()]
        if clash:
            raise InputError([Problem(f"scores/{n}", "a sheet of that name is already in scores/; rename the upload")
                              for n in clash])
    inputs = load_workspace(ws.root, programme, require_scores=False, assigned=assigned,
                            extra_score_files=[(p, f"upload/{p.name}") for p in new])
    write_files({scores_dir / p.name: p.read_bytes() for p in new})
    owed = owed_by_expert(assigned, inputs.scores)
    state = RoundState(ws.state_db)
    state.log(actor, "scores_collected", config.round_id, imported=[p.name for p in new],
              owed={e: len(v) for e, v in owed.items()})
    if not owed:
        Lifecycle(state).move("scored", actor)
    return {"imported": [p.name for p in new], "owed": owed, "pairs": len(assigned)}


def owed_by_expert(assigned: pd.DataFrame, scores: pd.DataFrame) -> dict[str, list[str]]:
    """For each expert, the assigned applications with no score from them yet."""
    done = set(zip(scores[C.EXPERT_ID], scores[C.SUBMISSION_ID])) if len(scores) else set()
    owed: dict[str, list[str]] = {}
    for e, s in zip(assigned[C.EXPERT_ID], assigned[C.SUBMISSION_ID]):
        if (e, s) not in done:
            owed.setdefault(e, []).append(s)
    return owed
