"""Ranking: panel score, then the programme's tie-break criteria, then submission time.

A tie that survives every tie-break is never broken silently. Applications that
remain fully tied share a rank; if a count cap would split them the round stops
for a recorded manager decision (see `scoring.caps`). A recorded decision orders
exactly the set of applications it names; if the tied set has changed since, the
decision no longer applies and the tie stands.

Vectorised: one stable multi-key sort over exact integer keys; Python only
touches the (rare) groups tied on every rule and the rows that need a note.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.rules import Programme

ORDER = "order"
TIE_GROUP = "tie_group"
TIE_NOTE = "tie_note"


@dataclass(frozen=True)
class TieDecision:
    """A manager's ordering of applications that every rule left tied."""

    order: tuple[str, ...]
    decided_by: str
    reason: str

    @property
    def members(self) -> frozenset[str]:
        return frozenset(self.order)


def rank_applications(
    panel: pd.DataFrame,
    programme: Programme,
    decisions: Mapping[frozenset[str], TieDecision] | None = None,
) -> pd.DataFrame:
    """Order scored applications; returns a new frame with `order`, `rank`, `tie_group`, `tie_note`.

    `panel` needs submission_id, score_cents, submitted_at and one exact integer
    column per tie-break criterion (higher is better). `rank` is competition
    ranking (1, 2, 2, 4): applications tied on every rule share a rank unless a
    decision orders them.
    """
    assert programme.scoring is not None
    decisions = decisions or {}
    tb = list(programme.scoring.tie_break)
    keys = [C.SCORE_CENTS, *tb, C.SUBMITTED_AT]
    out = panel.sort_values(
        [*keys, C.SUBMISSION_ID], ascending=[False] * (1 + len(tb)) + [True, True], kind="mergesort"
    ).reset_index(drop=True)
    n = len(out)

    same_as_prev = np.ones(n, dtype=bool)
    same_as_prev[0:1] = False
    for k in keys:
        col = out[k].to_numpy()
        same_as_prev[1:] &= col[1:] == col[:-1]
    group = np.cumsum(~same_as_prev)  # 1-based id of each run of rows equal on every key
    sizes = np.bincount(group)[group]
    tied = sizes > 1

    tie_group = np.full(n, -1, dtype="int64")
    decided_note = np.full(n, "", dtype=object)
    position = np.arange(n)
    if tied.any():
        sids = out[C.SUBMISSION_ID].to_numpy()
        next_id = 0
        for g in np.unique(group[tied]):
            rows = np.flatnonzero(group == g)
            members = frozenset(sids[rows])
            decision = decisions.get(members)
            if decision is None:
                next_id += 1
                tie_group[rows] = next_id
                continue
            rank_in = {sid: i for i, sid in enumerate(decision.order)}
            reordered = sorted(rows, key=lambda r: rank_in[sids[r]])
            position[reordered] = sorted(position[rows])  # the block keeps its place, in the decided order
            for r in rows:
                others = "、".join(sorted(members - {sids[r]}))
                decided_note[r] = f"与{others}各项得分及提交时间均相同，按{decision.decided_by}的决定排序（{decision.reason}）"
        out = out.assign(_pos=position, _tg=tie_group, _dn=decided_note).sort_values("_pos", kind="mergesort")
        out = out.reset_index(drop=True)
        tie_group = out.pop("_tg").to_numpy()
        decided_note = out.pop("_dn").to_numpy()
        out = out.drop(columns="_pos")

    pos = np.arange(n)
    shared = np.zeros(n, dtype=bool)
    shared[1:] = (tie_group[1:] != -1) & (tie_group[1:] == tie_group[:-1])
    first_of_run = np.where(shared, 0, pos)
    rank = np.maximum.accumulate(first_of_run) + 1
    out[ORDER] = pos.astype("int64")
    out[C.RANK] = rank.astype("int64")
    out[TIE_GROUP] = tie_group.astype("int64")
    out[TIE_NOTE] = _tie_notes(out, tb, {c.id: c.name for c in programme.criteria}, decided_note)
    return out


def _tie_notes(out: pd.DataFrame, tb: list[str], names: dict[str, str], decided: np.ndarray) -> list[str]:
    """Why each application comes after the one above it when their panel scores are equal.

    Vectorised: per row, which rule separates it from the row above (the first
    tie-break criterion that differs, else the submission time, else none: a
    tie) is found with numpy; strings are built only for the rows that need a
    note, from one suffix per case with the previous id put in front.
    """
    notes = ["" if not d else d for d in decided]
    n = len(out)
    if n < 2:
        return notes
    cents = out[C.SCORE_CENTS].to_numpy()
    need = np.zeros(n, dtype=bool)
    need[1:] = cents[1:] == cents[:-1]
    need &= np.array([not x for x in notes], dtype=bool)
    rows = np.flatnonzero(need)
    if not len(rows):
        return notes
    groups = out[TIE_GROUP].to_numpy()
    tied = (groups[rows] != -1) & (groups[rows] == groups[rows - 1])
    # case per row: 0..len(tb)-1 = that criterion differs first; len(tb) = submission time; len(tb)+1 = tied
    case = np.full(len(rows), len(tb) + 2, dtype=np.int64)  # len(tb)+2: nothing differs, no note
    at = out[C.SUBMITTED_AT].to_numpy()
    case[at[rows] != at[rows - 1]] = len(tb)
    for j in range(len(tb) - 1, -1, -1):  # last to first, so the first differing criterion wins
        col = out[tb[j]].to_numpy()
        case[col[rows] != col[rows - 1]] = j
    case[tied] = len(tb) + 1
    suffix = [f"总分相同，按“{names[c]}”得分排在其后" for c in tb]
    suffix += ["总分及各项得分相同，按提交时间排在其后", "各项得分及提交时间均相同，并列", ""]
    sids = out[C.SUBMISSION_ID].to_numpy()
    for i, prev, k in zip(rows.tolist(), sids[rows - 1].tolist(), case.tolist()):
        if suffix[k]:
            notes[i] = f"与{prev}{suffix[k]}"
    return notes
