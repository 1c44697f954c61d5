"""Ranking: panel score, then the programme's tie-break criteria, then submission time.

A tie that survives every tie-break is never broken silently. Applications that
remain fully tied share a rank; if a count cap would split them the round stops
for a recorded manager decision (see `scoring.caps`). A recorded decision orders
exactly the set of applications it names; if the tied set has changed since, the
decision no longer applies and the tie stands.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

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

    `panel` needs submission_id, score_cents, submitted_at and one exact column per
    tie-break criterion. `rank` is competition ranking (1, 2, 2, 4): applications
    tied on every rule share a rank unless a decision orders them.
    """
    assert programme.scoring is not None
    decisions = decisions or {}
    tb = list(programme.scoring.tie_break)
    names = {c.id: c.name for c in programme.criteria}
    recs = panel.to_dict("records")

    def key(r: dict) -> tuple:
        return (-r[C.SCORE_CENTS], *(-r[c] for c in tb), r[C.SUBMITTED_AT])

    recs.sort(key=lambda r: (key(r), r[C.SUBMISSION_ID]))
    # group applications whose every key is equal
    groups: list[list[dict]] = []
    for r in recs:
        if groups and key(groups[-1][0]) == key(r):
            groups[-1].append(r)
        else:
            groups.append([r])

    ordered: list[dict] = []
    group_id = 0
    for g in groups:
        if len(g) == 1:
            g[0][TIE_GROUP] = -1
            g[0]["_decided"] = ""
            ordered.append(g[0])
            continue
        ids = frozenset(r[C.SUBMISSION_ID] for r in g)
        decision = decisions.get(ids)
        if decision is not None:
            by_id = {r[C.SUBMISSION_ID]: r for r in g}
            for sid in decision.order:
                by_id[sid][TIE_GROUP] = -1
                by_id[sid]["_decided"] = f"与{'、'.join(sorted(ids - {sid}))}各项得分及提交时间均相同，按{decision.decided_by}的决定排序（{decision.reason}）"
                ordered.append(by_id[sid])
        else:
            group_id += 1
            for r in g:
                r[TIE_GROUP] = group_id
                r["_decided"] = ""
                ordered.append(r)

    rank = 0
    prev: dict | None = None
    for pos, r in enumerate(ordered):
        r[ORDER] = pos
        shared = prev is not None and r[TIE_GROUP] != -1 and r[TIE_GROUP] == prev[TIE_GROUP]
        rank = rank if shared else pos + 1
        r[C.RANK] = rank
        r[TIE_NOTE] = r.pop("_decided") or _tie_note(prev, r, tb, names)
        prev = r

    out = pd.DataFrame(ordered, columns=[*panel.columns, ORDER, C.RANK, TIE_GROUP, TIE_NOTE])
    return out.astype({ORDER: "int64", C.RANK: "int64", TIE_GROUP: "int64"})


def _tie_note(prev: dict | None, r: dict, tb: list[str], names: dict[str, str]) -> str:
    """Why `r` comes after `prev` when their panel scores are equal."""
    if prev is None or prev[C.SCORE_CENTS] != r[C.SCORE_CENTS]:
        return ""
    if r[TIE_GROUP] != -1 and r[TIE_GROUP] == prev[TIE_GROUP]:
        return f"与{prev[C.SUBMISSION_ID]}各项得分及提交时间均相同，并列"
    for c in tb:
        if prev[c] != r[c]:
            return f"与{prev[C.SUBMISSION_ID]}总分相同，按“{names[c]}”得分排在其后"
    return f"与{prev[C.SUBMISSION_ID]}总分及各项得分相同，按提交时间排在其后"
