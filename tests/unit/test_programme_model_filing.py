"""model_filing (measure 一): per-level amounts, the same model paid once, the enterprise cap, by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from scoring import columns as C
from scoring.pipeline import evaluate_round
from tests.unit import programme_builders as P

PROG = P.load("model_filing")
A, B = P.code(1), P.code(2)


def filing(name, level, filed_on, code=A, **kw) -> dict:
    return {C.CREDIT_CODE: code, "model_name": name, "filing_level": level, "filing_no": f"NO-{name}",
            "filed_on": filed_on, **kw}


def run(rows, prog=PROG, year=2026, **kw):
    return P.outcomes(evaluate_round(submissions=P.subs(rows), scores=P.no_scores(), programme=prog,
                                     config=P.config("model_filing", year=year), **kw))


def paid(got) -> dict[str, int]:
    return {s: r[C.AMOUNT_YUAN] for s, r in got.items()}


def test_200000_national_and_100000_provincial_per_model_without_experts():
    got = run([filing("甲模型", "national", "2026-03-01", code=A), filing("乙模型", "provincial", "2026-03-01", code=B)])
    assert paid(got) == {"S01": 200_000, "S02": 100_000}
    assert all(r[C.OUTCOME] == C.SELECTED and r[C.SCORE] == "" and r[C.N_EXPERTS] == 0 for r in got.values())


@pytest.mark.parametrize("provincial_name", ["榕城政务大模型", "榕城政务 大模型", "榕城政务大模型 ", "ＲＣ榕城政务大模型", "rc榕城政务大模型"])
def test_the_same_model_at_both_levels_is_paid_once_at_the_higher(provincial_name):
    national = "RC榕城政务大模型" if provincial_name[:2].lower() in ("ｒｃ", "rc") else "榕城政务大模型"
    got = run([filing(provincial_name, "provincial", "2026-01-15"), filing(national, "national", "2026-03-10")])
    assert got["S02"][C.OUTCOME] == C.SELECTED and got["S02"][C.AMOUNT_YUAN] == 200_000
    assert got["S01"][C.OUTCOME] == C.NOT_SELECTED and got["S01"][C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE
    assert "S02" in got["S01"][C.REASON] and "国家网信办" in got["S01"][C.REASON]


def test_different_models_or_enterprises_are_not_the_same_model():
    got = run([filing("榕城政务大模型", "national", "2026-03-10"), filing("榕城医疗大模型", "provincial", "2026-01-15"),
               filing("榕城政务大模型", "provincial", "2026-01-15", code=B)])
    assert paid(got) == {"S01": 200_000, "S02": 100_000, "S03": 100_000}


def test_lower_level_is_paid_when_the_higher_filing_is_outside_the_year():
    got = run([filing("甲模型", "national", "2025-12-20"), filing("甲模型", "provincial", "2026-02-01")])
    assert got["S01"][C.REASON_CODE] == "INELIGIBLE_FILED_IN_YEAR"
    assert got["S02"][C.AMOUNT_YUAN] == 100_000


@pytest.mark.parametrize("filed_on, eligible", [("2025-12-31", False), ("2026-01-01", True), ("2026-12-31", True),
                                                ("2027-01-01", False)])
def test_filings_must_fall_in_the_rounds_year(filed_on, eligible):
    got = run([filing("甲模型", "national", filed_on)])
    r = got["S01"]
    assert (r[C.OUTCOME] == C.SELECTED) is eligible
    if not eligible:
        assert r[C.REASON_CODE] == "INELIGIBLE_FILED_IN_YEAR" and filed_on in r[C.REASON] and "2026年" in r[C.REASON]


def test_enterprise_cap_reached_exactly_then_nothing_left():
    rows = [filing("甲", "national", "2026-04-01"), filing("乙", "provincial", "2026-02-01"),
            filing("丙", "provincial", "2026-03-01"), filing("丁", "provincial", "2026-05-01"),
            filing("戊", "provincial", "2026-06-01")]
    got = run(rows)
    # 200,000 + 3 × 100,000 = 500,000 exactly: no ENTERPRISE_CAP on them; the fifth gets nothing
    assert paid(got) == {"S01": 200_000, "S02": 100_000, "S03": 100_000, "S04": 100_000, "S05": 0}
    assert [got[s][C.REASON_CODE] for s in ("S01", "S02", "S03", "S04")] == ["", "", "", ""]
    assert got["S05"][C.OUTCOME] == C.NOT_SELECTED and got["S05"][C.REASON_CODE] == C.ENTERPRISE_CAP
    assert "500,000元" in got["S05"][C.REASON] and "已无剩余额度" in got["S05"][C.REASON]


def test_the_filing_that_crosses_the_cap_gets_the_remainder_and_stays_selected():
    rows = [filing("甲", "national", "2026-01-10"), filing("乙", "national", "2026-02-10"),
            filing("丙", "national", "2026-03-10"), filing("丁", "provincial", "2026-01-01")]
    got = run(rows)
    # national first, then by filed_on: 甲 200,000, 乙 200,000, 丙 crosses → 100,000; 丁 (filed first) nothing
    assert paid(got) == {"S01": 200_000, "S02": 200_000, "S03": 100_000, "S04": 0}
    assert got["S03"][C.OUTCOME] == C.SELECTED and got["S03"][C.REASON_CODE] == C.ENTERPRISE_CAP
    assert "100,000元（全额200,000元）" in got["S03"][C.REASON]
    assert got["S04"][C.OUTCOME] == C.NOT_SELECTED and got["S04"][C.REASON_CODE] == C.ENTERPRISE_CAP
    assert [got[s][C.RANK] for s in ("S01", "S02", "S03", "S04")] == [1, 2, 3, 4]


def test_caps_apply_per_enterprise():
    rows = [filing(f"A{i}", "national", f"2026-0{i}-01", code=A) for i in range(1, 4)]
    rows += [filing(f"B{i}", "national", f"2026-0{i}-01", code=B) for i in range(1, 3)]
    got = run(rows)
    assert paid(got) == {"S01": 200_000, "S02": 200_000, "S03": 100_000, "S04": 200_000, "S05": 200_000}


def test_the_cap_counts_what_the_ledger_already_holds_for_the_enterprise_this_year():
    rows = [filing("甲", "national", "2026-01-10"), filing("乙", "provincial", "2026-02-10")]
    got = run(rows, enterprise_awarded={A: 400_000})
    assert paid(got) == {"S01": 100_000, "S02": 0}
    assert "此前已获400,000元" in got["S01"][C.REASON]
    got = run(rows, enterprise_awarded={A: 500_000, B: 100_000})
    assert paid(got) == {"S01": 0, "S02": 0}


def test_cap_and_amounts_come_from_the_programme_file():
    prog = P.load("model_filing", award={"enterprise_cap_yuan": 300_000,
                                         "level_amounts_yuan": {"national": 150_000, "provincial": 50_000}})
    rows = [filing("甲", "national", "2026-01-10"), filing("乙", "national", "2026-02-10"),
            filing("丙", "provincial", "2026-01-01")]
    assert paid(run(rows, prog=prog)) == {"S01": 150_000, "S02": 150_000, "S03": 0}


def test_a_model_already_paid_at_the_lower_level_last_year_is_topped_up():
    prior = P.prior([(A, "甲模型", "生成式人工智能模型备案奖励 2025", 100_000, 2025)])
    got = run([filing("甲模型", "national", "2026-05-01")], prior_awards=prior)
    assert got["S01"][C.AMOUNT_YUAN] == 100_000 and got["S01"][C.REASON_CODE] == C.TOPUP_HIGHEST
    prior = P.prior([(A, "甲 模型", "生成式人工智能模型备案奖励 2025", 200_000, 2025)])
    got = run([filing("甲模型", "provincial", "2026-05-01")], prior_awards=prior)
    assert got["S01"][C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE


def test_every_filing_ineligible_is_an_empty_cohort():
    got = run([filing("甲", "national", "2024-01-01"), filing("乙", "provincial", "2025-06-01")])
    assert {r[C.OUTCOME] for r in got.values()} == {C.INELIGIBLE}
    assert all(pd.isna(r[C.RANK]) for r in got.values())
