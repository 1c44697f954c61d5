"""Every scoring rule of the SPEC against hand-computed expectations."""
from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest

from scoring import columns as C
from scoring.aggregation import expert_totals, panel_scores, round_half_up_cents
from scoring.errors import DecisionRequired, InputError
from scoring.pipeline import evaluate_round
from scoring.ranking import TieDecision
from tests.unit import builders as B


def run(subs, sc, prog, **kw):
    return evaluate_round(submissions=subs, scores=sc, programme=prog, config=kw.pop("config", B.config()), **kw)


def by_id(result) -> dict[str, dict]:
    return {r[C.SUBMISSION_ID]: r for r in result.ranking.to_dict("records")}


def test_expert_total_is_sum_of_score_over_max_times_weight():
    prog = B.programme(criteria=[
        {"id": "innovation", "name": "创新", "weight": 25, "max": 10},
        {"id": "effectiveness", "name": "成效", "weight": 30, "max": 10},
        {"id": "replicability", "name": "推广", "weight": 20, "max": 5},
        {"id": "maturity", "name": "成熟", "weight": 15, "max": 3},
        {"id": "benefit", "name": "效益", "weight": 10, "max": 7},
    ])
    sc = B.scores({"S01": [{"innovation": "8", "effectiveness": "7.5", "replicability": "4",
                            "maturity": "2", "benefit": "5"}]}, decimals=2)
    t = expert_totals(sc, prog)
    # 8/10*25 + 7.5/10*30 + 4/5*20 + 2/3*15 + 5/7*10 = 20 + 22.5 + 16 + 10 + 50/7
    expected = Fraction(20) + Fraction(45, 2) + 16 + 10 + Fraction(50, 7)
    assert t[C.EXPERT_TOTAL][0] == pytest.approx(float(expected))
    panel = panel_scores(t, prog)
    assert panel["panel_exact"][0] == expected
    assert panel[C.SCORE_CENTS][0] == 7564  # 75.642857… → 75.64


def test_five_or_more_experts_drop_one_highest_and_one_lowest():
    prog = B.two_criteria()
    sc = B.uniform({"S01": ["90", "80", "70", "60", "50"], "S02": ["90", "80", "70", "60"]})
    panel = panel_scores(expert_totals(sc, prog), prog).set_index(C.SUBMISSION_ID)
    assert panel.at["S01", C.SCORE_CENTS] == 7000          # (80 + 70 + 60) / 3
    assert panel.at["S02", C.SCORE_CENTS] == 7500          # plain mean of four
    assert panel.at["S01", C.N_EXPERTS] == 5


def test_trim_drops_only_one_of_equal_extremes():
    prog = B.two_criteria()
    sc = B.uniform({"S01": ["90", "90", "70", "50", "50", "60"]})
    panel = panel_scores(expert_totals(sc, prog), prog)
    assert panel["panel_exact"][0] == Fraction(90 + 70 + 50 + 60, 4)


def test_rounding_is_half_up_on_the_exact_value_not_on_floats():
    assert round(80.005, 2) == 80.0  # what a float would do
    prog = B.two_criteria()
    sc = B.uniform({"S01": ["80.00", "80.01"], "S02": ["70.001", "70.002", "70.002"]})
    panel = panel_scores(expert_totals(sc, prog), prog).set_index(C.SUBMISSION_ID)
    assert panel.at["S01", C.SCORE_CENTS] == 8001           # 80.005 → 80.01
    assert panel.at["S02", C.SCORE_CENTS] == 7000           # 70.001666… → 70.00
    assert round_half_up_cents(1, 8) == 13                   # 0.125 → 0.13
    assert round_half_up_cents(1, 3) == 33


def test_pass_mark_applies_to_the_rounded_score():
    prog = B.two_criteria()
    subs = B.submissions(2)
    sc = B.uniform({"S01": ["59.99", "60.00"], "S02": ["59.99", "59.99"]})  # 59.995 → 60.00
    rows = by_id(run(subs, sc, prog))
    assert rows["S01"][C.SCORE] == "60.00" and rows["S01"][C.OUTCOME] == C.SELECTED
    assert rows["S02"][C.OUTCOME] == C.NOT_SELECTED and rows["S02"][C.REASON_CODE] == C.BELOW_THRESHOLD
    assert "59.99" in rows["S02"][C.REASON] and "60.00" in rows["S02"][C.REASON]


def test_ties_broken_by_criteria_in_order_then_submission_time():
    prog = B.two_criteria(award={"count_cap": 2, "reserve_size": 1})
    subs = B.submissions(4)
    # every total is 80; impact decides first, then quality, then time
    sc = B.scores({
        "S01": [{"quality": "9", "impact": "6.5"}],   # 54 + 26 = 80, impact 6.5
        "S02": [{"quality": "8", "impact": "8"}],     # 48 + 32 = 80, impact 8
        "S03": [{"quality": "8", "impact": "8"}],     # identical to S02, submitted later
        "S04": [{"quality": "7", "impact": "9.5"}],   # 42 + 38 = 80, impact 9.5
    })
    rows = by_id(run(subs, sc, prog))
    assert [r for r in sorted(rows, key=lambda s: rows[s][C.RANK])] == ["S04", "S02", "S03", "S01"]
    assert rows["S04"][C.OUTCOME] == C.SELECTED and rows["S02"][C.OUTCOME] == C.SELECTED
    assert rows["S03"][C.OUTCOME] == C.RESERVE and rows["S03"][C.REASON_CODE] == C.COUNT_CAP
    assert rows["S01"][C.OUTCOME] == C.NOT_SELECTED and rows["S01"][C.REASON_CODE] == C.COUNT_CAP
    assert "提交时间" in rows["S03"]["tie_note"]
    assert "影响" in rows["S02"]["tie_note"]


def test_tie_break_criterion_is_trimmed_like_the_total_with_five_experts():
    prog = B.two_criteria(award={"count_cap": 1, "reserve_size": 0})
    subs = B.submissions(2)
    # S01 totals 82, 80, 80, 80, 48 → 80; impact 10, 8.75 ×3, 0 → trimmed 8.75 (plain mean 7.25).
    # S02 totals 80 ×5 → 80; impact 8 ×5 → 8. Trimmed, S01 wins on impact; a plain mean would pick S02.
    s01 = [("7", "10"), ("7.5", "8.75"), ("7.5", "8.75"), ("7.5", "8.75"), ("8", "0")]
    sc = B.scores({
        "S01": [{"quality": q, "impact": i} for q, i in s01],
        "S02": [{"quality": "8", "impact": "8"}] * 5,
    })
    rows = by_id(run(subs, sc, prog))
    assert rows["S01"][C.SCORE] == rows["S02"][C.SCORE] == "80.00"
    assert rows["S01"][C.RANK] == 1 and rows["S01"][C.OUTCOME] == C.SELECTED
    assert rows["S02"][C.OUTCOME] == C.NOT_SELECTED
    assert "影响" in rows["S02"]["tie_note"]


def _full_tie():
    prog = B.two_criteria(award={"count_cap": 1, "reserve_size": 1})
    subs = B.submissions(3)
    subs.loc[1, C.SUBMITTED_AT] = subs.loc[0, C.SUBMITTED_AT]
    sc = B.uniform({"S01": ["85"], "S02": ["85"], "S03": ["70"]})
    return subs, sc, prog


def test_full_tie_across_the_cut_off_stops_for_a_decision():
    subs, sc, prog = _full_tie()
    with pytest.raises(DecisionRequired) as err:
        run(subs, sc, prog)
    assert err.value.groups == (("S01", "S02"),)
    assert "S01" in str(err.value) and "S02" in str(err.value)


def test_recorded_decision_orders_the_tie():
    subs, sc, prog = _full_tie()
    decision = TieDecision(order=("S02", "S01"), decided_by="李四", reason="现场答辩")
    rows = by_id(run(subs, sc, prog, decisions={decision.members: decision}))
    assert rows["S02"][C.OUTCOME] == C.SELECTED and rows["S02"][C.RANK] == 1
    assert rows["S01"][C.OUTCOME] == C.RESERVE and rows["S01"][C.RANK] == 2
    assert "李四" in rows["S01"]["tie_note"]


def test_full_tie_inside_the_selected_band_shares_a_rank_without_stopping():
    subs, sc, prog = _full_tie()
    prog = B.two_criteria(award={"count_cap": 2, "reserve_size": 1})
    rows = by_id(run(subs, sc, prog))
    assert rows["S01"][C.RANK] == rows["S02"][C.RANK] == 1
    assert rows["S03"][C.RANK] == 3
    assert rows["S01"][C.OUTCOME] == rows["S02"][C.OUTCOME] == C.SELECTED


def test_count_cap_reserves_then_not_selected_and_fixed_amount():
    prog = B.two_criteria()  # scenario: 10 selected, 3 reserve, 200,000 each
    subs = B.submissions(15)
    sc = B.uniform({f"S{i:02d}": [str(100 - i)] for i in range(1, 16)})
    rows = by_id(run(subs, sc, prog))
    outcomes = [rows[f"S{i:02d}"][C.OUTCOME] for i in range(1, 16)]
    assert outcomes == [C.SELECTED] * 10 + [C.RESERVE] * 3 + [C.NOT_SELECTED] * 2
    assert all(rows[f"S{i:02d}"][C.AMOUNT_YUAN] == 200_000 for i in range(1, 11))
    assert all(rows[f"S{i:02d}"][C.AMOUNT_YUAN] == 0 for i in range(11, 16))
    assert rows["S14"][C.REASON_CODE] == C.COUNT_CAP


def test_highest_only_tops_up_or_drops_and_the_next_moves_up():
    prog = B.two_criteria(award={"count_cap": 2, "reserve_size": 1})
    subs = B.submissions(4)
    sc = B.uniform({"S01": ["95"], "S02": ["90"], "S03": ["85"], "S04": ["80"]})
    prior = pd.DataFrame([
        {"credit_code": B.code(1), "project_title": "测试 项目１", "policy": "省级专项", "amount_yuan": 250_000, "year": 2025},
        {"credit_code": B.code(2), "project_title": "测试项目2", "policy": "区级专项", "amount_yuan": 50_000, "year": 2025},
        {"credit_code": B.code(9), "project_title": "测试项目3", "policy": "别的企业", "amount_yuan": 50_000, "year": 2025},
    ])
    rows = by_id(run(subs, sc, prog, prior_awards=prior))
    assert rows["S01"][C.OUTCOME] == C.NOT_SELECTED and rows["S01"][C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE
    assert rows["S02"][C.OUTCOME] == C.SELECTED and rows["S02"][C.AMOUNT_YUAN] == 150_000
    assert rows["S02"][C.REASON_CODE] == C.TOPUP_HIGHEST
    assert rows["S03"][C.OUTCOME] == C.SELECTED and rows["S03"][C.AMOUNT_YUAN] == 200_000  # moved up
    assert rows["S04"][C.OUTCOME] == C.RESERVE


def test_formal_review_reasons_and_ineligible_rows_last():
    prog = B.two_criteria()
    subs = B.submissions(4)
    subs.loc[0, C.CREDIT_CODE] = subs.loc[0, C.CREDIT_CODE][:-1] + ("0" if subs.loc[0, C.CREDIT_CODE][-1] != "0" else "1")
    subs.loc[1, C.CONTACT_EMAIL] = "not-an-address"
    subs.loc[2, C.SUBMITTED_AT] = pd.Timestamp("2026-09-01 10:00")
    from scoring.rules import CallWindow
    import datetime as dt
    cfg = B.config(call_window=CallWindow(opens=dt.datetime(2026, 6, 15), closes=dt.datetime(2026, 8, 31, 17)))
    sc = B.uniform({"S04": ["88"]})
    result = run(subs, sc, prog, config=cfg)
    rows = by_id(result)
    assert rows["S01"][C.REASON_CODE] == "INELIGIBLE_CREDIT_CODE" and "校验码" in rows["S01"][C.REASON]
    assert rows["S02"][C.REASON_CODE] == "INELIGIBLE_CONTACT_EMAIL"
    assert rows["S03"][C.REASON_CODE] == "INELIGIBLE_CALL_WINDOW" and "截止" in rows["S03"][C.REASON]
    assert all(rows[s][C.OUTCOME] == C.INELIGIBLE and rows[s][C.AMOUNT_YUAN] == 0 for s in ("S01", "S02", "S03"))
    assert list(result.ranking[C.SUBMISSION_ID]) == ["S04", "S01", "S02", "S03"]
    assert pd.isna(rows["S01"][C.RANK]) and rows["S01"][C.SCORE] == ""


def test_eligible_application_without_scores_is_an_input_error():
    prog = B.two_criteria()
    with pytest.raises(InputError) as err:
        run(B.submissions(2), B.uniform({"S01": ["80"]}), prog)
    assert "S02" in str(err.value) and "no scores" in str(err.value)


def test_same_inputs_give_identical_frames():
    prog = B.two_criteria()
    subs = B.submissions(12)
    sc = B.uniform({f"S{i:02d}": [str(60 + i), str(70 + i % 3), str(75)] for i in range(1, 13)})
    a, b = run(subs, sc, prog).ranking, run(subs.sample(frac=1, random_state=3), sc.sample(frac=1, random_state=4), prog).ranking
    pd.testing.assert_frame_equal(a, b)
