"""Properties of the caps on random rounds of every kind.

Never more selected than the count cap; no amount over any of its caps; every
enterprise within its annual cap (counting what the ledger already holds); the
budget never exceeded; awards in rank order; the same model never paid twice;
the platform composite equal to an independent Fraction computation; and the
same inputs always giving byte-identical rankings.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flows.outputs import ranking_csv
from scoring import columns as C
from scoring.aggregation import format_cents, round_half_up_cents
from scoring.errors import DecisionRequired
from scoring.pipeline import evaluate_round
from scoring.similarity import normalise_name
from tests.unit import programme_builders as P

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAKES_PLACE = {C.COUNT_CAP, C.BUDGET_CAP}


def evaluate_twice(**kw):
    """Evaluate a round twice; the two results must be identical, frame and bytes."""
    first = evaluate_round(**kw)
    second = evaluate_round(**kw)
    pd.testing.assert_frame_equal(first.ranking, second.ranking)
    assert ranking_csv(first.ranking) == ranking_csv(second.ranking)
    return first.ranking


def check_common(ranking: pd.DataFrame, award, before: dict[str, int]) -> None:
    """Count cap, budget, enterprise cap and 'money only for selected'."""
    selected = ranking[ranking[C.OUTCOME] == C.SELECTED]
    assert (ranking[C.AMOUNT_YUAN] >= 0).all()
    assert (ranking.loc[ranking[C.OUTCOME] != C.SELECTED, C.AMOUNT_YUAN] == 0).all()
    if award.count_cap is not None:
        assert len(selected) <= award.count_cap
        assert (ranking[C.OUTCOME] == C.RESERVE).sum() <= award.reserve_size
    if award.budget_yuan is not None:
        assert selected[C.AMOUNT_YUAN].sum() <= award.budget_yuan
    if award.enterprise_cap_yuan is not None:
        for code, total in selected.groupby(C.CREDIT_CODE)[C.AMOUNT_YUAN].sum().items():
            assert total + before.get(code, 0) <= max(award.enterprise_cap_yuan, before.get(code, 0))
            if before.get(code, 0) >= award.enterprise_cap_yuan:
                assert total == 0


def check_rank_order(ranking: pd.DataFrame) -> None:
    """Everyone selected ranks at or above everyone left out by the count cap or the budget, and every reserve."""
    sel = ranking.loc[ranking[C.OUTCOME] == C.SELECTED, C.RANK]
    behind = ranking[(ranking[C.OUTCOME] == C.RESERVE)
                     | ((ranking[C.OUTCOME] == C.NOT_SELECTED) & ranking[C.REASON_CODE].isin(TAKES_PLACE))][C.RANK]
    if len(sel) and len(behind):
        assert sel.max() <= behind.min()


# --- scored (hardware) -----------------------------------------------------------------------------

@st.composite
def scored_rounds(draw):
    n = draw(st.integers(0, 14))
    firms = draw(st.integers(1, 5))
    rows, totals, prior = [], {}, []
    for i in range(n):
        sid = f"S{i + 1:02d}"
        code = P.code(draw(st.integers(1, firms)))
        rows.append({C.CREDIT_CODE: code, C.TITLE: f"项目{i}", "product_name": f"产品{i}", "own_ip": True,
                     "self_produced": True, "fuzhou_units": draw(st.sampled_from([50, 100, 300])),
                     "requested_amount_yuan": draw(st.integers(1, 900)) * 1000,
                     C.SUBMITTED_AT: pd.Timestamp("2026-07-01") + pd.Timedelta(minutes=draw(st.integers(0, 3)))})
        totals[sid] = [str(draw(st.integers(40, 100)))]
        if draw(st.booleans()) and draw(st.booleans()):
            prior.append((code, f"项目{i}", "其他政策", draw(st.integers(1, 700)) * 1000, 2025))
    award = {
        "count_cap": draw(st.one_of(st.none(), st.integers(0, 8))),
        "reserve_size": draw(st.integers(0, 3)),
        "max_amount_yuan": draw(st.integers(100, 600)) * 1000,
        "budget_yuan": draw(st.one_of(st.none(), st.integers(0, 3000).map(lambda k: k * 1000))),
        "budget_mode": draw(st.sampled_from(["rank", "pro_rata"])),
        "enterprise_cap_yuan": draw(st.one_of(st.none(), st.integers(0, 1500).map(lambda k: k * 1000))),
    }
    before = {P.code(k): draw(st.integers(0, 800)) * 1000 for k in range(1, firms + 1) if draw(st.booleans())}
    return rows, totals, prior, award, before


@SETTINGS
@given(scored_rounds())
def test_scored_rounds_respect_every_cap_in_rank_order(data):
    rows, totals, prior, award, before = data
    prog = P.load("hardware", scoring={"score_decimals": 4}, award=award)
    assume(rows)
    subs = P.subs(rows)
    try:
        ranking = evaluate_twice(submissions=subs, scores=P.uniform_scores(prog, totals), programme=prog,
                                 config=P.config("hardware"), prior_awards=P.prior(prior), enterprise_awarded=before)
    except DecisionRequired:
        return  # a full tie across the count cap stops the round; tested by hand elsewhere
    check_common(ranking, prog.award, before)
    if prog.award.budget_mode == "rank" or prog.award.budget_yuan is None:
        check_rank_order(ranking)
    requested = dict(zip(subs[C.SUBMISSION_ID], subs["requested_amount_yuan"]))
    prior_by_title = defaultdict(int)
    for code, title, _, amount, _ in prior:
        prior_by_title[(code, title)] += amount
    for r in ranking.to_dict("records"):
        base = min(requested[r[C.SUBMISSION_ID]], prog.award.max_amount_yuan)
        assert r[C.AMOUNT_YUAN] <= base
        got_before = prior_by_title.get((r[C.CREDIT_CODE], r[C.TITLE]), 0)
        assert r[C.AMOUNT_YUAN] <= max(base - got_before, 0)   # 就高不重复: the total is at most the highest
        if r[C.OUTCOME] == C.INELIGIBLE:
            assert r["fuzhou_units"] < 100


# --- filings ---------------------------------------------------------------------------------------

MODEL_NAMES = ["甲模型", "甲 模型", "ＡＢ模型", "ab模型", "乙模型", "丙模型"]


@st.composite
def filing_rounds(draw):
    n = draw(st.integers(0, 12))
    firms = draw(st.integers(1, 3))
    start = dt.date(2025, 12, 20)
    rows = [{C.CREDIT_CODE: P.code(draw(st.integers(1, firms))), "model_name": draw(st.sampled_from(MODEL_NAMES)),
             "filing_level": draw(st.sampled_from(["national", "provincial"])), "filing_no": f"N{i}",
             "filed_on": start + dt.timedelta(days=draw(st.integers(0, 390)))} for i in range(n)]
    award = {"enterprise_cap_yuan": draw(st.integers(0, 12)) * 50_000,
             "level_amounts_yuan": {"national": draw(st.integers(1, 6)) * 50_000,
                                    "provincial": draw(st.integers(1, 6)) * 25_000}}
    before = {P.code(k): draw(st.integers(0, 8)) * 50_000 for k in range(1, firms + 1) if draw(st.booleans())}
    return rows, award, before


@SETTINGS
@given(filing_rounds())
def test_filings_respect_the_enterprise_cap_pay_each_model_once_and_fill_in_order(data):
    rows, award, before = data
    assume(rows)
    prog = P.load("model_filing", award=award)
    ranking = evaluate_twice(submissions=P.subs(rows), scores=P.no_scores(), programme=prog,
                             config=P.config("model_filing"), enterprise_awarded=before)
    check_common(ranking, prog.award, before)
    levels = prog.award.level_amounts_yuan
    paid_models = defaultdict(int)
    for r in ranking.to_dict("records"):
        assert r[C.AMOUNT_YUAN] <= levels[r["filing_level"]]
        assert (r[C.OUTCOME] == C.INELIGIBLE) == (not r["filed_on"].startswith("2026"))
        if r[C.OUTCOME] == C.SELECTED:
            paid_models[(r[C.CREDIT_CODE], normalise_name(r["model_name"]))] += 1
    assert all(n == 1 for n in paid_models.values())
    # per enterprise, in paying order: once one filing met the cap, no later filing is paid
    ordered = ranking[ranking[C.RANK].notna()].sort_values(C.RANK)
    for _, firm in ordered.groupby(C.CREDIT_CODE):
        capped = False
        for r in firm.to_dict("records"):
            if capped:
                assert r[C.AMOUNT_YUAN] == 0
            if r[C.REASON_CODE] == C.ENTERPRISE_CAP:
                capped = True
        amounts = [levels[x] for x in firm["filing_level"]]
        assert amounts == sorted(amounts, reverse=True)          # the higher-paid level is filled first


# --- platform composite ----------------------------------------------------------------------------

INDICATORS = ("enterprises_served", "services_delivered", "poc_projects", "projects_commercialised",
              "service_revenue_yuan", "satisfaction_rate")


@st.composite
def platform_rounds(draw):
    n = draw(st.integers(1, 8))
    rows, panels = [], {}
    for i in range(n):
        values = {k: draw(st.integers(0, 20)) for k in INDICATORS}
        values["satisfaction_rate"] = Decimal(draw(st.integers(600, 1000))) / 10
        rows.append({"platform_name": f"平台{i}", "recognised": draw(st.integers(0, 5)) > 0, **values})
        panels[f"S{i + 1:02d}"] = [str(draw(st.integers(4000, 10000)) / 100)]
    return rows, panels


@SETTINGS
@given(platform_rounds())
def test_platform_composite_equals_an_independent_fraction_computation(data):
    rows, panels = data
    prog = P.load("platform", scoring={"score_decimals": 4})
    subs = P.subs(rows)
    ranking = evaluate_twice(submissions=subs, scores=P.uniform_scores(prog, panels), programme=prog,
                             config=P.config("platform"))
    check_common(ranking, prog.award, {})
    eligible = subs[subs["recognised"]]
    lo = {k: min(Fraction(v) for v in eligible[k]) for k in INDICATORS} if len(eligible) else {}
    hi = {k: max(Fraction(v) for v in eligible[k]) for k in INDICATORS} if len(eligible) else {}
    grades = prog.award.grades
    for r in ranking.to_dict("records"):
        if r[C.OUTCOME] == C.INELIGIBLE:
            continue
        raw = subs.set_index(C.SUBMISSION_ID).loc[r[C.SUBMISSION_ID]]
        scaled = [Fraction(100) if hi[k] == lo[k] else 100 * (Fraction(raw[k]) - lo[k]) / (hi[k] - lo[k])
                  for k in INDICATORS]
        index = sum(scaled, Fraction(0)) / len(INDICATORS)
        panel = Fraction(round_half_up_cents(int(Fraction(panels[r[C.SUBMISSION_ID]][0]) * 100), 100), 100)
        composite = Fraction(60, 100) * index + Fraction(40, 100) * panel
        cents = round_half_up_cents(composite.numerator, composite.denominator)
        assert r[C.SCORE] == format_cents(cents)
        due = next((g.amount_yuan for g in grades if cents >= g.min_score * 100), 0)
        assert r[C.AMOUNT_YUAN] == due
        assert all(0 <= Decimal(r[f"{k}_scaled"]) <= 100 for k in INDICATORS)
    check_rank_order(ranking)


# --- claims with budgets ---------------------------------------------------------------------------

@st.composite
def claim_rounds(draw):
    n = draw(st.integers(1, 10))
    firms = draw(st.integers(1, 4))
    rows = [{C.CREDIT_CODE: P.code(draw(st.integers(1, firms))),
             "provincial_award_yuan": draw(st.integers(0, 5000)) * 1000, "provincial_doc_no": "x",
             "rd_expense_yuan": None,
             C.SUBMITTED_AT: pd.Timestamp("2026-07-01") + pd.Timedelta(minutes=i)} for i in range(n)]
    award = {"budget_yuan": draw(st.one_of(st.none(), st.integers(0, 12_000).map(lambda k: k * 1000))),
             "budget_mode": draw(st.sampled_from(["rank", "pro_rata"])),
             "match_percent": draw(st.sampled_from([100, 50, 33]))}
    before = {P.code(k): draw(st.integers(0, 4000)) * 1000 for k in range(1, firms + 1) if draw(st.booleans())}
    return rows, award, before


@SETTINGS
@given(claim_rounds())
def test_matching_claims_stay_within_the_provincial_award_the_annual_cap_and_the_budget(data):
    rows, award, before = data
    prog = P.load("rd_matching", award=award)
    ranking = evaluate_twice(submissions=P.subs(rows), scores=P.no_scores(), programme=prog,
                             config=P.config("rd_matching"), enterprise_awarded=before)
    check_common(ranking, prog.award, before)
    for r in ranking.to_dict("records"):
        assert r[C.AMOUNT_YUAN] <= min(r["provincial_award_yuan"] * prog.award.match_percent / 100, 3_000_000)
    if prog.award.budget_yuan is not None and prog.award.budget_mode == "pro_rata":
        due = ranking[ranking[C.OUTCOME] == C.SELECTED][C.AMOUNT_YUAN].sum()
        assert due <= prog.award.budget_yuan
    if prog.award.budget_mode == "rank":
        check_rank_order(ranking)
