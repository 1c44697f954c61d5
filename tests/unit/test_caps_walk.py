"""apply_caps decides the early leavers and the tail past the cut-off with arrays: the same as walking every row.

`walk_every_row` below is the rule written the plain way — one record after the
other, as apply_caps itself was before it was vectorised. On random cohorts
(objections, pass marks, duplicate filings, prior awards, enterprise caps with
ledger amounts, count caps with reserves, rank and pro-rata budgets, ties that
straddle a cut) both must give the same frame, or the same DecisionRequired.
"""
from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import columns as C
from scoring.aggregation import format_cents
from scoring.caps import DUPLICATE_NOTE, PRIOR_NOTE, PRIOR_YUAN, _cap_text, _join, apply_caps, base_amount, yuan
from scoring.errors import DecisionRequired
from scoring.ranking import TIE_GROUP, TIE_NOTE
from tests.unit import programme_builders as P

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def walk_every_row(ranked: pd.DataFrame, programme, *, enterprise_awarded=None, removed=None) -> pd.DataFrame:
    """The caps, one record at a time (the reference)."""
    removed = removed or {}
    award = programme.award
    scored = programme.kind in ("scored", "composite")
    t = programme.threshold()
    pass_cents = None if t is None else int(t * 100)
    recs = ranked.sort_values("order", kind="stable").to_dict("records")
    before_all = dict(enterprise_awarded or {})
    slots = award.count_cap if award.count_cap is not None else len(recs)
    reserves = award.reserve_size if award.count_cap is not None else 0
    budget_left, budget_hit, used, taken = award.budget_yuan, False, defaultdict(int), 0

    def place(r):
        return f"综合排名第{r[C.RANK]}名" if scored else f"按受理顺序第{r[C.RANK]}位"

    for r in recs:
        r[C.AMOUNT_YUAN], r[C.REASON_CODE], r[C.REASON], r["_cut"] = 0, "", "", -1
        if r[C.SUBMISSION_ID] in removed:
            r[C.OUTCOME], r[C.REASON_CODE] = C.NOT_SELECTED, C.OBJECTION_UPHELD
            r[C.REASON] = f"公示期内收到异议，经核实成立（{removed[r[C.SUBMISSION_ID]]}），取消入选资格。"
            continue
        if pass_cents is not None and r[C.SCORE_CENTS] < pass_cents:
            r[C.OUTCOME], r[C.REASON_CODE] = C.NOT_SELECTED, C.BELOW_THRESHOLD
            if award.method == "grade":
                r[C.REASON] = (f"综合得分{format_cents(r[C.SCORE_CENTS])}分，低于{award.grades[-1].grade}档分数线"
                               f"{format_cents(pass_cents)}分。")
            else:
                r[C.REASON] = f"专家评审得分{format_cents(r[C.SCORE_CENTS])}分，低于入围分数线{format_cents(pass_cents)}分。"
            continue
        if r.get(DUPLICATE_NOTE):
            r[C.OUTCOME], r[C.REASON_CODE], r[C.REASON] = C.NOT_SELECTED, C.HIGHER_AWARD_ELSEWHERE, r[DUPLICATE_NOTE]
            continue
        amount = base_amount(r, award)
        prior = int(r.get(PRIOR_YUAN) or 0)
        if award.highest_only and prior > 0:
            note = r.get(PRIOR_NOTE) or "其他同类政策"
            if prior >= amount:
                r[C.OUTCOME], r[C.REASON_CODE] = C.NOT_SELECTED, C.HIGHER_AWARD_ELSEWHERE
                r[C.REASON] = (f"该项目已获{note}共{yuan(prior)}，不低于本次可获奖励{yuan(amount)}，"
                               f"按“就高不重复”原则不再重复支持。")
                continue
            amount -= prior
            r[C.REASON_CODE] = C.TOPUP_HIGHEST
            r[C.REASON] = f"该项目已获{note}共{yuan(prior)}，按“就高不重复”原则补足差额{yuan(amount)}。"
        code = r[C.CREDIT_CODE]
        if award.enterprise_cap_yuan is not None:
            before = int(before_all.get(code, 0))
            left = award.enterprise_cap_yuan - before - used[code]
            if left <= 0:
                r[C.OUTCOME], r[C.REASON_CODE] = C.NOT_SELECTED, C.ENTERPRISE_CAP
                r[C.REASON] = _join(r[C.REASON], _cap_text(award, before, used[code]) + "已无剩余额度，本项不再奖励。")
                continue
            if amount > left:
                r[C.REASON_CODE] = C.ENTERPRISE_CAP
                r[C.REASON] = _join(r[C.REASON], _cap_text(award, before, used[code])
                                    + f"本项按剩余额度核定为{yuan(left)}（全额{yuan(amount)}）。")
                amount = left
        if taken < slots:
            r["_cut"] = 0
            if budget_left is not None and award.budget_mode == "rank":
                if budget_hit or amount > budget_left:
                    budget_hit = True
                    r[C.OUTCOME], r[C.REASON_CODE] = C.NOT_SELECTED, C.BUDGET_CAP
                    r[C.REASON] = f"{place(r)}，本轮奖补资金预算已用完。"
                    continue
                budget_left -= amount
            r[C.OUTCOME], r[C.AMOUNT_YUAN] = C.SELECTED, amount
            used[code] += amount
            taken += 1
        elif taken < slots + reserves:
            r["_cut"], r[C.OUTCOME], r[C.REASON_CODE] = 1, C.RESERVE, C.COUNT_CAP
            r[C.REASON] = (f"{place(r)}，本年度入选名额为{slots}个，列为候补；"
                           f"如入选项目放弃或被取消资格，将按候补顺序递补。")
            taken += 1
        else:
            r["_cut"], r[C.OUTCOME], r[C.REASON_CODE] = 2, C.NOT_SELECTED, C.COUNT_CAP
            r[C.REASON] = f"{place(r)}，超出本年度{slots}个入选名额及{reserves}个候补名额。"

    groups = defaultdict(list)
    for r in recs:
        if r.get(TIE_GROUP, -1) != -1 and r["_cut"] != -1:
            groups[r[TIE_GROUP]].append(r)
    straddles = []
    for _, members in sorted(groups.items()):
        cuts = {m["_cut"] for m in members}
        if min(cuts) == 0 and max(cuts) > 0:
            straddles.append(("入选名额", members))
        if reserves > 0 and min(cuts) <= 1 and max(cuts) == 2:
            straddles.append(("候补名额", members))
    if straddles:
        lines = [f"applications {', '.join(m[C.SUBMISSION_ID] for m in g)} are tied on every rule (score "
                 f"{format_cents(g[0][C.SCORE_CENTS])}, every tie-break criterion and submission time) across the {name} cut-off"
                 for name, g in straddles]
        raise DecisionRequired("; ".join(lines), kind="tie",
                               subject=tuple(m[C.SUBMISSION_ID] for _, g in straddles for m in g),
                               groups=tuple(tuple(m[C.SUBMISSION_ID] for m in g) for _, g in straddles))

    if award.budget_yuan is not None and award.budget_mode == "pro_rata":
        sel = [r for r in recs if r[C.OUTCOME] == C.SELECTED]
        total, budget = sum(r[C.AMOUNT_YUAN] for r in sel), award.budget_yuan
        if total > budget and total:
            shares = [(r[C.AMOUNT_YUAN] * budget) // total for r in sel]
            rema = [(r[C.AMOUNT_YUAN] * budget) % total for r in sel]
            for i in sorted(range(len(sel)), key=lambda i: (-rema[i], sel[i]["order"]))[: budget - sum(shares)]:
                shares[i] += 1
            for r, s in zip(sel, shares):
                full, r[C.AMOUNT_YUAN] = r[C.AMOUNT_YUAN], s
                r[C.REASON_CODE] = r[C.REASON_CODE] or C.BUDGET_CAP
                r[C.REASON] = (r[C.REASON] + " " if r[C.REASON] else "") + (
                    f"本轮预算{yuan(budget)}不足以全额支持，按比例核定为{yuan(s)}（全额{yuan(full)}）。")
    if not recs:
        return ranked.assign(**{C.OUTCOME: pd.Series(dtype=object), C.AMOUNT_YUAN: pd.Series(dtype="int64"),
                                C.REASON_CODE: pd.Series(dtype=object), C.REASON: pd.Series(dtype=object)})
    out = pd.DataFrame(recs).drop(columns=["_cut"])
    out[C.AMOUNT_YUAN] = out[C.AMOUNT_YUAN].astype("int64")
    return out


@st.composite
def cohorts(draw):
    """A ranked cohort as the pipeline hands it to apply_caps, and a programme whose caps bite."""
    kind = draw(st.sampled_from(["scenario", "hardware", "rd_matching", "platform"]))
    award: dict = {}
    if kind in ("scenario", "hardware"):
        award["count_cap"] = draw(st.integers(0, 6))
        award["reserve_size"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        award["enterprise_cap_yuan"] = draw(st.sampled_from([300_000, 600_000, 1_000_000]))
    if draw(st.booleans()):
        award["budget_yuan"] = draw(st.integers(0, 30)) * 100_000
        award["budget_mode"] = draw(st.sampled_from(["rank", "pro_rata"]))
    award["highest_only"] = draw(st.booleans())
    programme = P.load(kind, award=award)
    n = draw(st.integers(0, 25))
    firms = draw(st.integers(1, 6))
    scores = sorted((draw(st.integers(5000, 9500)) // draw(st.sampled_from([1, 100])) * draw(st.sampled_from([1, 100]))
                     for _ in range(n)), reverse=True)
    rows = []
    for i, cents in enumerate(scores):
        rows.append({
            C.SUBMISSION_ID: f"S{i:03d}", C.CREDIT_CODE: P.code(draw(st.integers(1, firms))), C.SCORE_CENTS: min(cents, 10000),
            "requested_amount_yuan": draw(st.integers(1, 30)) * 50_000, "provincial_award_yuan": draw(st.integers(1, 40)) * 100_000,
            PRIOR_YUAN: draw(st.sampled_from([0, 0, 0, 100_000, 1_000_000])), PRIOR_NOTE: draw(st.sampled_from(["", "省级奖励（2025年）"])),
        })
    frame = pd.DataFrame(rows, columns=[C.SUBMISSION_ID, C.CREDIT_CODE, C.SCORE_CENTS, "requested_amount_yuan",
                                        "provincial_award_yuan", PRIOR_YUAN, PRIOR_NOTE])
    frame["order"] = range(n)
    frame[C.RANK] = range(1, n + 1)
    tied = draw(st.booleans()) and n >= 2
    group = [-1] * n
    if tied:  # a block of applications tied on every rule (same score), sharing a group and a rank
        start = draw(st.integers(0, n - 2))
        size = draw(st.integers(2, min(4, n - start)))
        for i in range(start, start + size):
            group[i] = 1
            frame.loc[i, C.SCORE_CENTS] = frame.loc[start, C.SCORE_CENTS]
            frame.loc[i, C.RANK] = start + 1
    frame[TIE_GROUP] = pd.Series(group, dtype="int64")
    frame[TIE_NOTE] = ""
    if kind == "hardware" and draw(st.booleans()):
        frame[DUPLICATE_NOTE] = [draw(st.sampled_from(["", "", "同一型号已按更高级别奖励"])) for _ in range(n)]
    if draw(st.booleans()):  # the pipeline hands them over in order; apply_caps must not rely on it
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 9)))
    ids = list(frame[C.SUBMISSION_ID])
    removed = {s: "查实材料不实" for s in draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))} if ids else {}
    codes = sorted(set(frame[C.CREDIT_CODE]))
    awarded = {c: draw(st.sampled_from([100_000, 900_000, 5_000_000])) for c in codes[: draw(st.integers(0, 2))]}
    return frame, programme, removed, awarded


def outcome(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except DecisionRequired as err:
        return ("tie", str(err), err.subject, err.groups)


@SETTINGS
@given(cohorts())
def test_vectorised_caps_equal_the_walk_over_every_row(case):
    frame, programme, removed, awarded = case
    got = outcome(apply_caps, frame, programme, enterprise_awarded=awarded, removed=removed)
    want = outcome(walk_every_row, frame, programme, enterprise_awarded=awarded, removed=removed)
    if isinstance(want, tuple):
        assert got == want
    else:
        assert isinstance(got, pd.DataFrame)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_long_tail_is_decided_at_once_and_reads_like_the_walk():
    """2,000 candidates for 10 places: the tail past the reserves gets the count-cap reason with its own rank."""
    programme = P.load("scenario")
    n = 2000
    frame = pd.DataFrame({
        C.SUBMISSION_ID: [f"S{i:04d}" for i in range(n)], C.CREDIT_CODE: [P.code(i % 50) for i in range(n)],
        C.SCORE_CENTS: [9000 - i for i in range(n)], PRIOR_YUAN: [300_000 if i == 1500 else 0 for i in range(n)],
        PRIOR_NOTE: ["" for _ in range(n)], "order": range(n), C.RANK: range(1, n + 1), TIE_GROUP: -1, TIE_NOTE: "",
    })
    got = apply_caps(frame, programme)
    pd.testing.assert_frame_equal(got, walk_every_row(frame, programme), check_exact=True)
    assert (got[C.OUTCOME] == C.SELECTED).sum() == 10 and (got[C.OUTCOME] == C.RESERVE).sum() == 3
    assert got.loc[1999, C.REASON] == "综合排名第2000名，超出本年度10个入选名额及3个候补名额。"
    assert got.loc[1500, C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE  # a prior award is still checked in the tail


@pytest.mark.parametrize("dtype", ["Int64", "object"])
def test_columns_keep_the_types_a_records_round_trip_gives(dtype):
    programme = P.load("scenario")
    frame = pd.DataFrame({
        C.SUBMISSION_ID: ["A", "B"], C.CREDIT_CODE: [P.code(1), P.code(2)], C.SCORE_CENTS: [9000, 8000],
        "order": [0, 1], C.RANK: [1, 2], TIE_GROUP: [-1, -1], TIE_NOTE: ["", ""],
        "extra": pd.Series([1, 2], dtype=dtype),
    })
    got = apply_caps(frame, programme)
    pd.testing.assert_frame_equal(got, walk_every_row(frame, programme), check_exact=True)
    assert got["extra"].dtype == "int64"  # nullable or object integers come back as int64, as from records
