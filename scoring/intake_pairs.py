"""Checks of score rows per (expert, application) pair: duplicates, 回避, unassigned, incomplete.

Part of the score intake (`scoring.intake_scores`). The rows are put in
(application, expert, criterion) order once — already so for a long sheet
sorted by application, or per-expert sheets (a stable sort then merges a few
sorted runs) — so duplicates and pairs are runs of equal keys, found with array
comparisons instead of hashing 500,000 keys several times. Problems are reported
in file order, exactly as a row-by-row reading would find them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.errors import Problem
from scoring.rules import Programme

if TYPE_CHECKING:
    from scoring.intake_scores import _Scores


class _Pairs:
    """The present rows (`idx`) in key order, as runs of equal scores and of equal pairs."""

    def __init__(self, s: "_Scores", idx: np.ndarray, n_c: int):
        n_e = max(len(s.expert.uniques), 1)
        pair = s.submission.codes[idx] * n_e + s.expert.codes[idx]
        key = pair * n_c + s.cidx[idx]
        order = None
        if len(key) > 1 and not (key[1:] >= key[:-1]).all():
            order = np.argsort(key, kind="stable")  # first occurrences stay first within a run
            key, pair = key[order], pair[order]
        self.order = order
        self.sorted_idx = idx if order is None else idx[order]
        self.repeat = np.zeros(len(key), dtype=bool)  # a row whose (pair, criterion) came before
        self.repeat[1:] = key[1:] == key[:-1]
        new_pair = np.ones(len(pair), dtype=bool)
        new_pair[1:] = pair[1:] != pair[:-1]
        self.starts = np.flatnonzero(new_pair)      # first row of each pair, in key order
        self.lead = np.minimum.reduceat(self.sorted_idx, self.starts)  # where each pair first appears
        self.sub = s.submission.codes[self.lead]
        self.exp = s.expert.codes[self.lead]
        self.n_e = n_e

    def first_of_run(self) -> np.ndarray:
        """For every sorted row, the row of the scores where its (pair, criterion) first appears."""
        run_start = np.maximum.accumulate(np.where(self.repeat, 0, np.arange(len(self.repeat))))
        return self.sorted_idx[run_start]


def pair_problems(
    s: "_Scores",
    present: np.ndarray,
    usable: np.ndarray,
    programme: Programme,
    submissions: pd.DataFrame | None,
    experts: pd.DataFrame | None,
    assigned: pd.DataFrame | None,
) -> list[Problem]:
    """Duplicates, 回避 conflicts, unassigned and incomplete (expert, application) pairs."""
    problems: list[Problem] = []
    idx = np.flatnonzero(present)
    if not len(idx):
        return problems
    n_c = len(programme.criteria)
    p = _Pairs(s, idx, n_c)

    if p.repeat.any():
        first = p.first_of_run()
        rows = np.flatnonzero(p.repeat)
        for k in rows[np.argsort(p.sorted_idx[rows], kind="stable")]:  # in the order of the scores
            i, j = int(p.sorted_idx[k]), int(first[k])
            where = f"row {s.rows[j]}" if s.file(j) == s.file(i) else f"{s.file(j)} row {s.rows[j]}"
            crit = programme.criteria[s.cidx[i]].id
            problems.append(Problem(
                s.file(i),
                f"duplicate score: expert {s.expert_of(i)} already scored {s.submission_of(i)} on {crit!r} at {where}",
                row=int(s.rows[i]), column=s.column_of(i),
            ))

    n_pairs = len(p.starts)
    lead_usable = usable[p.lead]  # one row per usable (expert, application) pair
    conflicted = np.zeros(n_pairs, dtype=bool)
    if submissions is not None and experts is not None:
        experts_by_id = experts.drop_duplicates(C.EXPERT_ID).set_index(C.EXPERT_ID)
        org_u = pd.Series(s.expert.uniques).map(experts_by_id[C.ORG_CREDIT_CODE]).fillna("").to_numpy()
        has_org = org_u != ""
        if has_org.any():
            applicant = submissions.drop_duplicates(C.SUBMISSION_ID).set_index(C.SUBMISSION_ID)[C.CREDIT_CODE]
            applicant_u = pd.Series(s.submission.uniques).map(applicant).fillna("").to_numpy()
            maybe = np.flatnonzero(lead_usable & has_org[p.exp])
            same = org_u[p.exp[maybe]] == applicant_u[p.sub[maybe]]
            conflicted[maybe[same]] = True
            for k in _in_file_order(p, np.flatnonzero(conflicted)):
                i, code = int(p.lead[k]), org_u[p.exp[k]]
                org_name = experts_by_id.at[s.expert_of(i), C.ORGANISATION] or code
                problems.append(Problem(
                    s.file(i),
                    f"回避 (conflict of interest): expert {s.expert_of(i)}'s organisation ({org_name}, {code}) "
                    f"is the applicant of {s.submission_of(i)}; this expert must not score it — remove these scores",
                    row=int(s.rows[i]), column=C.EXPERT_ID,
                ))

    refused = conflicted.copy()
    if assigned is not None:
        unassigned = ~_assigned(s, p, assigned) & ~conflicted & lead_usable
        refused |= unassigned
        for k in _in_file_order(p, np.flatnonzero(unassigned)):
            i = int(p.lead[k])
            problems.append(Problem(
                s.file(i),
                f"{s.submission_of(i)} was not assigned to expert {s.expert_of(i)}; "
                "scores are accepted only for the applications on the expert's own sheet",
                row=int(s.rows[i]), column=C.SUBMISSION_ID,
            ))

    rows = p.sorted_idx
    bits = np.bitwise_or.reduceat(np.left_shift(1, s.cidx[rows]) | s.assumed[rows], p.starts)
    incomplete = (bits != (1 << n_c) - 1) & ~refused & lead_usable
    for k in _in_file_order(p, np.flatnonzero(incomplete)):
        i, have = int(p.lead[k]), int(bits[k])
        lacking = [c.id for b, c in enumerate(programme.criteria) if not have >> b & 1]
        problems.append(Problem(
            s.file(i),
            f"expert {s.expert_of(i)} scored {s.submission_of(i)} on some criteria only; missing: {', '.join(lacking)}",
            row=int(s.rows[i]),
        ))
    return problems


def _in_file_order(p: _Pairs, pairs: np.ndarray) -> np.ndarray:
    """Pairs ordered by the row where each first appears."""
    return pairs[np.argsort(p.lead[pairs], kind="stable")]


def _assigned(s: "_Scores", p: _Pairs, assigned: pd.DataFrame) -> np.ndarray:
    """Per pair, whether the assignment gives that application to that expert."""
    a_exp = assigned[C.EXPERT_ID].to_numpy(dtype=object)
    a_sub = assigned[C.SUBMISSION_ID].to_numpy(dtype=object)
    # assigned pairs as the same integer keys: ids absent from the scores cannot match anything
    e_at = np.searchsorted(s.expert.uniques, a_exp)
    s_at = np.searchsorted(s.submission.uniques, a_sub)
    e_ok = e_at < len(s.expert.uniques)
    s_ok = s_at < len(s.submission.uniques)
    e_ok[e_ok] = s.expert.uniques[e_at[e_ok]] == a_exp[e_ok]
    s_ok[s_ok] = s.submission.uniques[s_at[s_ok]] == a_sub[s_ok]
    ok_pairs = (s_at * p.n_e + e_at)[e_ok & s_ok]
    return np.isin(p.sub * p.n_e + p.exp, ok_pairs)
