"""Programmes paid by rule, without experts: model filings (measure 一) and claims.

Every eligible application is paid what its award method gives, subject to the
caps in `scoring.caps`. What the caps need from here is an *order*: the
per-enterprise annual cap is filled, and a budget cut by rank is applied, in
the programme's `award.order_by` order (for model_filing: the higher-paid level
first, then the earlier `filed_on`), then by `submitted_at`, then by
`submission_id` so that the order is total and reproducible.

The same model filed at both levels is paid once, at the higher (就高不重复
inside one round): filings of one enterprise whose model names are the same or
near-identical (the TF-IDF machinery of `scoring.similarity`, threshold from the
programme file) form one model, and every filing of it but the first in order
is marked with a `duplicate_note` that `apply_caps` turns into
HIGHER_AWARD_ELSEWHERE.
"""
from __future__ import annotations

import pandas as pd

from scoring import columns as C
from scoring.caps import DUPLICATE_NOTE, base_amount
from scoring.ranking import ORDER, TIE_GROUP, TIE_NOTE
from scoring.rules import Programme
from scoring.similarity import match_by_code_and_name

AMOUNT_KEY = "amount"
_BASE = "_base_amount"


def order_claims(cands: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """A new frame of the eligible applications in paying order, with order, rank, tie_group, tie_note."""
    frame = cands.copy()
    frame[_BASE] = [base_amount(r, programme.award) for r in frame.to_dict("records")] if len(frame) else []
    keys: list[str] = []
    ascending: list[bool] = []
    for key in (*programme.award.order_by, C.SUBMITTED_AT, C.SUBMISSION_ID):
        name = key.removeprefix("-")
        col = _BASE if name == AMOUNT_KEY else name
        if col in keys:
            continue
        keys.append(col)
        ascending.append(not key.startswith("-"))
    frame = frame.sort_values(keys, ascending=ascending, kind="stable", na_position="last").reset_index(drop=True)
    frame[ORDER] = range(len(frame))
    frame[C.RANK] = frame[ORDER] + 1
    frame[TIE_GROUP] = -1
    frame[TIE_NOTE] = ""
    return frame.drop(columns=[_BASE]).astype({ORDER: "int64", C.RANK: "int64", TIE_GROUP: "int64"})


def mark_same_model(ordered: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """`ordered` with `duplicate_note` set on every filing of a model but the first in order."""
    out = ordered.copy()
    out[DUPLICATE_NOTE] = ""
    name_col = programme.award.project_column
    if len(out) < 2:
        return out
    pairs = match_by_code_and_name(
        out, C.CREDIT_CODE, name_col, out, C.CREDIT_CODE, name_col, programme.eligibility.similarity_threshold
    )
    pairs = pairs[pairs["item"] != pairs["listing"]]
    parent = list(range(len(out)))  # union-find over positions (= order)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(pairs["item"], pairs["listing"]):
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is always the first in order
    level = programme.award.level_column
    spec = {c.id: c for c in programme.columns}
    for i in range(len(out)):
        root = find(i)
        if root == i:
            continue
        kept = out.iloc[root]
        how = spec[level].display(kept[level]) if level else ""
        out.at[i, DUPLICATE_NOTE] = (
            f"同一模型“{kept[name_col]}”在本轮另有{how}申报（申报编号{kept[C.SUBMISSION_ID]}），"
            f"按“就高不重复”原则只按较高标准奖励一次，本项不再奖励。"
        )
    return out
