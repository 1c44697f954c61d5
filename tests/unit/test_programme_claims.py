"""The remaining capped measures: poc_new, rd_matching, industrial_internet, skills_training; budgets."""
from __future__ import annotations

import pytest

from scoring import columns as C
from scoring.pipeline import evaluate_round
from tests.unit import programme_builders as P


def run(pid, rows, prog=None, scores=None, **kw):
    prog = prog or P.load(pid)
    return P.outcomes(evaluate_round(submissions=P.subs(rows), scores=scores if scores is not None else P.no_scores(),
                                     programme=prog, config=P.config(pid), **kw))


def paid(got) -> dict[str, int]:
    return {s: r[C.AMOUNT_YUAN] for s, r in got.items()}


# --- poc_new: 新认定概念验证中心/平台 ≤ 500,000 -----------------------------------------------------

def poc(recognised_on="2026-03-01", requested=500_000, **kw):
    return {"platform_name": "中心", "platform_type": "poc_center", "recognition_no": "榕科〔2026〕1号",
            "recognised_on": recognised_on, "requested_amount_yuan": requested, **kw}


def test_poc_new_pays_the_request_up_to_500000_for_centres_recognised_this_year():
    got = run("poc_new", [poc(requested=500_001), poc(requested=320_000), poc(recognised_on="2025-12-31"),
                          poc(recognised_on="2026-01-01", requested=500_000)])
    assert paid(got) == {"S01": 500_000, "S02": 320_000, "S03": 0, "S04": 500_000}
    assert got["S03"][C.REASON_CODE] == "INELIGIBLE_RECOGNISED_IN_YEAR" and "认定日期为2025-12-31" in got["S03"][C.REASON]


def test_poc_new_budget_by_rank_follows_recognition_date_and_never_skips():
    prog = P.load("poc_new", award={"budget_yuan": 1_000_000})
    got = run("poc_new", [poc("2026-05-01", 300_000), poc("2026-02-01", 500_000), poc("2026-03-01", 400_000),
                          poc("2026-04-01", 100_000)], prog=prog)
    # paid order S02 (Feb), S03 (Mar), S04 (Apr), S01 (May): 500,000 + 400,000 = 900,000; S04's 100,000 fits
    # exactly (budget reached); S01 does not fit → BUDGET_CAP
    assert paid(got) == {"S02": 500_000, "S03": 400_000, "S04": 100_000, "S01": 0}
    assert got["S01"][C.REASON_CODE] == C.BUDGET_CAP and "第4位" in got["S01"][C.REASON]
    assert [got[s][C.RANK] for s in ("S02", "S03", "S04", "S01")] == [1, 2, 3, 4]


# --- rd_matching: ≤ the provincial award, ≤ 3,000,000 a year -------------------------------------

def rd(provincial, **kw):
    return {"provincial_award_yuan": provincial, "provincial_doc_no": "闽科〔2026〕5号", "rd_expense_yuan": None, **kw}


def test_rd_matching_matches_the_provincial_award_up_to_3000000():
    got = run("rd_matching", [rd(1_200_000), rd(3_000_000), rd(3_000_001), rd(0)])
    assert paid(got) == {"S01": 1_200_000, "S02": 3_000_000, "S03": 3_000_000, "S04": 0}
    assert got["S04"][C.REASON_CODE] == "INELIGIBLE_PROVINCIAL_AWARD"


def test_rd_matching_percentage_comes_from_the_programme_file_and_floors_to_the_yuan():
    prog = P.load("rd_matching", award={"match_percent": 50})
    assert paid(run("rd_matching", [rd(1_000_001), rd(9_000_000)], prog=prog)) == {"S01": 500_000, "S02": 3_000_000}


def test_rd_matching_caps_an_enterprise_at_3000000_a_year_across_its_claims_and_the_ledger():
    code = P.code(1)
    rows = [rd(1_200_000, credit_code=code), rd(2_500_000, credit_code=code)]
    got = run("rd_matching", rows)
    assert paid(got) == {"S01": 1_200_000, "S02": 1_800_000}
    assert got["S02"][C.REASON_CODE] == C.ENTERPRISE_CAP and got["S02"][C.OUTCOME] == C.SELECTED
    got = run("rd_matching", rows, enterprise_awarded={code: 2_000_000})
    assert paid(got) == {"S01": 1_000_000, "S02": 0}


def test_rd_matching_pro_rata_budget_floors_then_gives_the_largest_remainders_a_yuan():
    prog = P.load("rd_matching", award={"budget_yuan": 1_000_000})
    got = run("rd_matching", [rd(1_000_000), rd(500_000), rd(500_000)], prog=prog)
    # 2,000,000 due for a 1,000,000 budget: exactly half each
    assert paid(got) == {"S01": 500_000, "S02": 250_000, "S03": 250_000}
    got = run("rd_matching", [rd(100), rd(100), rd(100)], prog=P.load("rd_matching", award={"budget_yuan": 100}))
    # 100 × 100 / 300 = 33.33 each → 33, 33, 33 and one yuan left → the first in order (equal remainders)
    assert paid(got) == {"S01": 34, "S02": 33, "S03": 33}
    assert all(r[C.REASON_CODE] == C.BUDGET_CAP and "按比例" in r[C.REASON] for r in got.values())


def test_a_budget_that_suffices_changes_nothing():
    prog = P.load("rd_matching", award={"budget_yuan": 2_000_000})
    got = run("rd_matching", [rd(1_000_000), rd(1_000_000)], prog=prog)
    assert paid(got) == {"S01": 1_000_000, "S02": 1_000_000} and {r[C.REASON_CODE] for r in got.values()} == {""}


# --- industrial_internet: scored, ≤ 2,000,000 ----------------------------------------------------

def test_industrial_internet_is_scored_and_pays_up_to_2000000_in_rank_order_within_budget():
    prog = P.load("industrial_internet", scoring={"score_decimals": 4}, award={"budget_yuan": 3_000_000})
    rows = [{"district": "鼓楼区", "project_investment_yuan": 10_000_000, "requested_amount_yuan": r}
            for r in (2_500_000, 900_000, 800_000, 100_000, 100_000)]
    scores = P.uniform_scores(prog, {"S01": ["90"], "S02": ["85"], "S03": ["80"], "S04": ["75"], "S05": ["59.99"]})
    got = run("industrial_internet", rows, prog=prog, scores=scores)
    # S01 2,000,000 (capped) + S02 900,000 = 2,900,000; S03 (800,000) does not fit; S04 would, but ranks lower
    assert paid(got) == {"S01": 2_000_000, "S02": 900_000, "S03": 0, "S04": 0, "S05": 0}
    assert got["S03"][C.REASON_CODE] == got["S04"][C.REASON_CODE] == C.BUDGET_CAP
    assert got["S05"][C.REASON_CODE] == C.BELOW_THRESHOLD


# --- skills_training: ≤ 3,000 per certificate ----------------------------------------------------

def training(certificates, requested, **kw):
    return {"occupation": "人工智能训练师", "certificate_level": "4", "certificates": certificates,
            "requested_amount_yuan": requested, **kw}


def test_skills_training_pays_at_most_3000_per_certificate_and_at_most_the_request():
    got = run("skills_training", [training(40, 120_000), training(10, 45_000), training(25, 60_000), training(0, 9_000)])
    assert paid(got) == {"S01": 120_000, "S02": 30_000, "S03": 60_000, "S04": 0}
    assert got["S04"][C.REASON_CODE] == "INELIGIBLE_CERTIFIED"


def test_skills_training_per_certificate_amount_comes_from_the_programme_file():
    prog = P.load("skills_training", award={"per_unit_yuan": 2_000})
    assert paid(run("skills_training", [training(40, 120_000)], prog=prog)) == {"S01": 80_000}


def test_skills_training_highest_only_tops_up_a_batch_subsidised_elsewhere():
    prior = P.prior([(P.code(1), "样例项目1", "职业技能提升行动补贴", 50_000, 2026)])
    got = run("skills_training", [training(30, 90_000)], prior_awards=prior)
    assert got["S01"][C.AMOUNT_YUAN] == 40_000 and got["S01"][C.REASON_CODE] == C.TOPUP_HIGHEST


@pytest.mark.parametrize("pid", ["poc_new", "rd_matching", "skills_training"])
def test_claims_with_no_eligible_application(pid):
    rows = {"poc_new": [poc(recognised_on="2024-01-01")], "rd_matching": [rd(0)], "skills_training": [training(0, 1)]}[pid]
    got = run(pid, rows)
    assert [r[C.OUTCOME] for r in got.values()] == [C.INELIGIBLE]
