"""hardware (measure 九): formal review rules, the excluded list, amount and count cap, by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from scoring import columns as C
from scoring.intake import parse_submissions
from scoring.pipeline import evaluate_round
from tests.unit import programme_builders as P

PROG = P.load("hardware", scoring={"score_decimals": 4})


def app(**kw) -> dict:
    row = {"product_name": "端侧AI推理加速卡", "own_ip": True, "self_produced": True, "fuzhou_units": 150,
           "requested_amount_yuan": 500_000}
    row.update(kw)
    return row


def run(rows, totals=None, prog=PROG, **kw):
    subs = P.subs(rows)
    totals = totals or {sid: ["80"] for sid in subs[C.SUBMISSION_ID]}
    sc = P.uniform_scores(prog, totals)
    return P.outcomes(evaluate_round(submissions=subs, scores=sc, programme=prog, config=P.config("hardware"), **kw))


def test_own_ip_self_produced_and_at_scale_each_fail_with_their_code_and_plain_reason():
    got = run([app(own_ip=False), app(self_produced=False), app(fuzhou_units=99), app(fuzhou_units=100), app()],
              totals={"S04": ["80"], "S05": ["80"]})
    assert got["S01"][C.OUTCOME] == C.INELIGIBLE and got["S01"][C.REASON_CODE] == "INELIGIBLE_OWN_IP"
    assert "自主知识产权" in got["S01"][C.REASON]
    assert got["S02"][C.REASON_CODE] == "INELIGIBLE_SELF_PRODUCED" and "研发、生产" in got["S02"][C.REASON]
    assert got["S03"][C.REASON_CODE] == "INELIGIBLE_AT_SCALE"
    assert "99台（套）" in got["S03"][C.REASON] and "100台（套）" in got["S03"][C.REASON]
    assert got["S04"][C.OUTCOME] == C.SELECTED  # exactly 100 units is "at scale"
    assert all(got[s][C.AMOUNT_YUAN] == 0 for s in ("S01", "S02", "S03"))


def test_every_failing_rule_is_named_and_the_first_gives_the_code():
    got = run([app(own_ip=False, self_produced=False, fuzhou_units=10)], totals={"S01": ["80"]})
    r = got["S01"]
    assert r[C.REASON_CODE] == "INELIGIBLE_OWN_IP"
    assert "自主知识产权" in r[C.REASON] and "研发、生产" in r[C.REASON] and "10台（套）" in r[C.REASON]


def test_minimum_units_come_from_the_programme_file():
    prog = P.load("hardware", scoring={"score_decimals": 4}, eligibility={"min_fuzhou_units": 50})
    got = run([app(fuzhou_units=50), app(fuzhou_units=49)], prog=prog, totals={"S01": ["80"]})
    assert got["S01"][C.OUTCOME] == C.SELECTED
    assert got["S02"][C.REASON_CODE] == "INELIGIBLE_AT_SCALE" and "50台（套）" in got["S02"][C.REASON]


@pytest.mark.parametrize("typed", ["智能巡检机器人X1", "智能巡检机器人 X1", "智能巡检机器人Ｘ１", "智能巡检机器人ｘ1", " 智能巡检 机器人 x１ "])
def test_listed_product_is_excluded_whatever_the_spaces_width_or_case(typed):
    listing = P.excluded([("智能巡检机器人X1", "福州样例1科技有限公司", P.code(1), "national", 2025)])
    got = run([app(product_name=typed)], totals={"S01": ["80"]}, excluded_products=listing)
    r = got["S01"]
    assert r[C.OUTCOME] == C.INELIGIBLE and r[C.REASON_CODE] == C.EXCLUDED_LISTED
    # the reason names the listing: product, level and year
    assert "“智能巡检机器人X1”" in r[C.REASON] and "国家级" in r[C.REASON] and "2025年" in r[C.REASON]


def test_excluded_needs_the_same_credit_code_and_a_near_identical_name():
    listing = P.excluded([
        ("智能巡检机器人X1", "别的企业", P.code(9), "provincial", 2025),   # same name, other enterprise
        ("智能巡检机器人X1", "福州样例2科技有限公司", P.code(2), "provincial", 2024),  # same enterprise, other model
        ("AI视觉检测一体机", "福州样例3科技有限公司", P.code(3), "provincial", 2024),
    ])
    got = run([app(product_name="智能巡检机器人X1"), app(product_name="智能巡检机器人X2"),
               app(product_name="ＡＩ视觉检测 一体机")], excluded_products=listing)
    assert got["S01"][C.OUTCOME] == C.SELECTED                    # listed, but for another credit code
    assert got["S02"][C.OUTCOME] == C.SELECTED                    # X2 vs X1: similarity 0.78 < 0.85
    assert got["S03"][C.REASON_CODE] == C.EXCLUDED_LISTED and "省级" in got["S03"][C.REASON]


def test_similarity_threshold_comes_from_the_programme_file():
    listing = P.excluded([("智能巡检机器人X1", "福州样例1科技有限公司", P.code(1), "national", 2025)])
    loose = P.load("hardware", scoring={"score_decimals": 4}, eligibility={"similarity_threshold": 0.7})
    got = run([app(product_name="智能巡检机器人X2")], prog=loose, totals={"S01": ["80"]}, excluded_products=listing)
    assert got["S01"][C.REASON_CODE] == C.EXCLUDED_LISTED and "0.78" in got["S01"][C.REASON]


def test_amount_is_the_request_capped_at_500000():
    got = run([app(requested_amount_yuan=499_999), app(requested_amount_yuan=500_000),
               app(requested_amount_yuan=500_001), app(requested_amount_yuan=80_000)])
    assert [got[s][C.AMOUNT_YUAN] for s in ("S01", "S02", "S03", "S04")] == [499_999, 500_000, 500_000, 80_000]


def test_at_most_six_a_year_then_three_reserves():
    rows = [app() for _ in range(11)]
    totals = {f"S{i:02d}": [str(95 - i)] for i in range(1, 12)}
    got = run(rows, totals=totals)
    outcomes = [got[f"S{i:02d}"][C.OUTCOME] for i in range(1, 12)]
    assert outcomes == [C.SELECTED] * 6 + [C.RESERVE] * 3 + [C.NOT_SELECTED] * 2
    assert got["S07"][C.REASON_CODE] == got["S11"][C.REASON_CODE] == C.COUNT_CAP
    assert sum(got[f"S{i:02d}"][C.AMOUNT_YUAN] for i in range(1, 12)) == 6 * 500_000


def test_highest_only_against_prior_awards_moves_the_next_up():
    prior = P.prior([(P.code(1), "样例项目1", "省级首台套奖励", 500_000, 2025),
                     (P.code(2), "样例 项目２", "区级专项", 120_000, 2025)])
    rows = [app() for _ in range(8)]
    totals = {f"S{i:02d}": [str(95 - i)] for i in range(1, 9)}
    got = run(rows, totals=totals, prior_awards=prior)
    assert got["S01"][C.REASON_CODE] == C.HIGHER_AWARD_ELSEWHERE and got["S01"][C.AMOUNT_YUAN] == 0
    assert got["S02"][C.REASON_CODE] == C.TOPUP_HIGHEST and got["S02"][C.AMOUNT_YUAN] == 380_000
    assert got["S07"][C.OUTCOME] == C.SELECTED      # moved up into the sixth place
    assert got["S08"][C.OUTCOME] == C.RESERVE


def test_yes_no_columns_read_chinese_and_english_forms():
    raw = P.subs([app(), app(), app(), app()]).astype(str)
    raw["own_ip"] = ["是", "否", "TRUE", "false"]
    raw["self_produced"] = ["是", "是", "true", "是"]
    raw[C.SOURCE_FILE] = "submissions.csv"
    raw[C.SOURCE_ROW] = range(2, 6)
    typed = parse_submissions(raw, PROG)
    assert list(typed["own_ip"]) == [True, False, True, False]
    assert typed["fuzhou_units"].dtype == "int64" and typed["requested_amount_yuan"].iloc[0] == 500_000


def test_ranking_shows_yes_no_as_written():
    got = run([app()], totals={"S01": ["80"]})
    assert got["S01"]["own_ip"] == "是" and got["S01"]["fuzhou_units"] == 150


def test_cohort_with_no_eligible_application_ranks_nothing():
    got = run([app(own_ip=False), app(fuzhou_units=0)], totals={})
    assert {r[C.OUTCOME] for r in got.values()} == {C.INELIGIBLE}
    assert all(pd.isna(r[C.RANK]) for r in got.values())
