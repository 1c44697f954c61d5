"""platform (measure 二): composite of min-max scaled indicators and the panel, grades, by hand."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from scoring import columns as C
from scoring.composite import indicator_scores
from scoring.errors import ConfigError
from scoring.pipeline import evaluate_round
from tests.unit import programme_builders as P

INDICATORS = ("enterprises_served", "services_delivered", "poc_projects", "projects_commercialised",
              "service_revenue_yuan", "satisfaction_rate")


def load(**overrides):
    scoring = {"score_decimals": 4, **overrides.pop("scoring", {})}
    return P.load("platform", scoring=scoring, **overrides)


PROG = load()


def plat(recognised=True, **values) -> dict:
    row = {"platform_name": "平台", "recognised": recognised, "enterprises_served": 100, "services_delivered": 100,
           "poc_projects": 10, "projects_commercialised": 5, "service_revenue_yuan": 1_000_000,
           "satisfaction_rate": Decimal("90")}
    row.update(values)
    return row


def run(rows, panels, prog=PROG, **kw):
    subs = P.subs(rows)
    sc = P.uniform_scores(prog, {sid: [p] for sid, p in panels.items()})
    return P.outcomes(evaluate_round(submissions=subs, scores=sc, programme=prog, config=P.config("platform"), **kw))


def test_composite_is_60_percent_scaled_indicators_and_40_percent_panel():
    # enterprises_served 100 / 300 / 200 → scaled 0 / 100 / 50; satisfaction 90 / 80 / 85 → 100 / 0 / 50;
    # the other four indicators are equal → 100 each.
    rows = [plat(enterprises_served=100, satisfaction_rate=Decimal("90")),
            plat(enterprises_served=300, satisfaction_rate=Decimal("80")),
            plat(enterprises_served=200, satisfaction_rate=Decimal("85"))]
    got = run(rows, {"S01": "80", "S02": "70", "S03": "90"})
    # S01: index (0 + 100×4 + 100)/6 = 83.333…; composite 0.6 × 83.333… + 0.4 × 80 = 50 + 32 = 82.00
    # S02: index (100 + 400 + 0)/6 = 83.333…;  0.6 × … + 0.4 × 70 = 50 + 28 = 78.00
    # S03: index (50 + 400 + 50)/6 = 83.333…;  50 + 36 = 86.00
    assert [got[s][C.SCORE] for s in ("S01", "S02", "S03")] == ["82.00", "78.00", "86.00"]
    assert got["S01"]["indicator_index"] == "83.33" and got["S01"]["panel_score"] == "80.00"
    assert got["S01"]["enterprises_served_scaled"] == "0.00" and got["S02"]["enterprises_served_scaled"] == "100.00"
    assert got["S03"]["satisfaction_rate_scaled"] == "50.00"
    assert [got[s][C.RANK] for s in ("S03", "S01", "S02")] == [1, 2, 3]
    assert (got["S03"]["grade"], got["S03"][C.AMOUNT_YUAN]) == ("A", 1_000_000)
    assert (got["S01"]["grade"], got["S01"][C.AMOUNT_YUAN]) == ("B", 600_000)
    assert (got["S02"]["grade"], got["S02"][C.AMOUNT_YUAN]) == ("B", 600_000)


def test_scaling_is_exact_and_runs_over_the_eligible_cohort_only():
    rows = [plat(enterprises_served=10), plat(enterprises_served=40), plat(enterprises_served=20),
            plat(recognised=False, enterprises_served=10_000)]
    parts = indicator_scores(P.subs(rows[:3]), PROG).set_index(C.SUBMISSION_ID)
    assert parts.at["S03", "enterprises_served_scaled"] == Fraction(100, 3)   # (20 − 10) / (40 − 10) × 100
    got = run(rows, {"S01": "80", "S02": "80", "S03": "80"})
    assert got["S03"]["enterprises_served_scaled"] == "33.33"                 # the unrecognised 10,000 is not the max
    assert got["S04"][C.REASON_CODE] == "INELIGIBLE_RECOGNISED" and got["S04"]["indicator_index"] == ""


@pytest.mark.parametrize("panel, score, grade, amount", [
    ("62.50", "85.00", "A", 1_000_000),   # 60 + 0.4 × 62.50 = 85.00: on the edge is in
    ("62.47", "84.99", "B", 600_000),     # 60 + 24.988 = 84.988 → 84.99: just below
    ("37.50", "75.00", "B", 600_000),
    ("37.47", "74.99", "C", 300_000),
    ("12.50", "65.00", "C", 300_000),
    ("12.47", "64.99", "", 0),            # below the lowest grade: BELOW_THRESHOLD
])
def test_cohort_of_one_scores_every_indicator_100_and_grades_at_the_edges(panel, score, grade, amount):
    got = run([plat()], {"S01": panel})
    r = got["S01"]
    assert all(r[f"{i}_scaled"] == "100.00" for i in INDICATORS)   # a cohort of one: every indicator is "flat"
    assert r["indicator_index"] == "100.00"
    assert (r[C.SCORE], r["grade"], r[C.AMOUNT_YUAN]) == (score, grade, amount)
    if grade:
        assert r[C.OUTCOME] == C.SELECTED and r[C.REASON_CODE] == ""
    else:
        assert r[C.REASON_CODE] == C.BELOW_THRESHOLD and "C档分数线65.00" in r[C.REASON]


def test_composite_is_rounded_half_up_after_combining():
    prog = load(scoring={"indicator_share": 50})
    got = run([plat()], {"S01": "69.99"}, prog=prog)
    assert got["S01"][C.SCORE] == "85.00" and got["S01"]["grade"] == "A"   # 50 + 34.995 = 84.995 → 85.00


def test_all_equal_values_score_the_flat_value_from_the_programme_file():
    rows = [plat(), plat(), plat()]
    got = run(rows, {"S01": "80", "S02": "70", "S03": "60"})
    assert {got[s]["poc_projects_scaled"] for s in got} == {"100.00"}
    half = load(scoring={"flat_indicator_score": 50})
    got = run(rows, {"S01": "80", "S02": "70", "S03": "60"}, prog=half)
    assert {got[s]["poc_projects_scaled"] for s in got} == {"50.00"}
    assert got["S01"][C.SCORE] == "62.00"       # 0.6 × 50 + 0.4 × 80
    assert "参评对象间无差异" in got["S01"]["grade_note"] and "均计50.00分" in got["S01"]["grade_note"]


def test_lower_is_better_and_unequal_weights_come_from_the_programme_file():
    base = PROG.model_dump(mode="json")["indicators"]
    inds = [dict(i, weight=3) if i["id"] == "enterprises_served" else dict(i) for i in base]
    for i in inds:
        if i["id"] == "satisfaction_rate":
            i["higher_is_better"] = False
    prog = load(indicators=inds)
    rows = [plat(enterprises_served=0, satisfaction_rate=Decimal("80")),
            plat(enterprises_served=100, satisfaction_rate=Decimal("100"))]
    got = run(rows, {"S01": "50", "S02": "50"}, prog=prog)
    assert got["S01"]["satisfaction_rate_scaled"] == "100.00"        # the lower value is now the best
    # S01: (3 × 0 + 100 × 4 + 100) / 8 = 62.5 → 0.6 × 62.5 + 20 = 57.50
    # S02: (3 × 100 + 100 × 4 + 0) / 8 = 87.5 → 52.5 + 20 = 72.50
    assert (got["S01"][C.SCORE], got["S02"][C.SCORE]) == ("57.50", "72.50")


def test_grade_note_names_the_indicators_that_drove_the_grade():
    rows = [plat(enterprises_served=300, service_revenue_yuan=5_000_000, satisfaction_rate=Decimal("80")),
            plat(enterprises_served=100, service_revenue_yuan=1_000_000, satisfaction_rate=Decimal("95"))]
    got = run(rows, {"S01": "80", "S02": "80"})
    note = got["S01"]["grade_note"]
    assert note.startswith(got["S01"]["grade"] + "档")
    assert "领先指标：服务企业数100.00、服务收入100.00" in note and "最弱指标：服务满意度0.00" in note
    assert "指标指数" in note and "专家评分80.00" in note
    # S02: index (0 + 100 × 3 + 0 + 100) / 6 = 66.67 → 40 + 32 = 72.00, C, 3.00 short of B
    assert got["S02"][C.SCORE] == "72.00" and "C档（综合得分72.00≥65.00，距B档差3.00分）" in got["S02"]["grade_note"]


def test_below_grade_c_is_not_selected_below_threshold():
    got = run([plat(enterprises_served=0), plat(enterprises_served=100)], {"S01": "20", "S02": "20"})
    # S01: index (0 + 500)/6 = 83.33…, 50 + 8 = 58.00 → below C
    assert got["S01"][C.SCORE] == "58.00" and got["S01"][C.REASON_CODE] == C.BELOW_THRESHOLD
    assert got["S01"]["grade"] == "" and got["S01"]["grade_note"].startswith("未达C档")
    assert got["S02"][C.SCORE] == "68.00" and got["S02"]["grade"] == "C" and got["S02"][C.AMOUNT_YUAN] == 300_000


def test_every_platform_is_graded_no_count_cap():
    rows = [plat() for _ in range(12)]
    got = run(rows, {f"S{i:02d}": "90" for i in range(1, 13)})
    assert all(r[C.OUTCOME] == C.SELECTED and r[C.AMOUNT_YUAN] == 1_000_000 for r in got.values())


def test_only_recognised_platforms_and_an_empty_cohort():
    got = run([plat(recognised=False), plat(recognised=False)], {})
    assert {r[C.REASON_CODE] for r in got.values()} == {"INELIGIBLE_RECOGNISED"}
    assert all("尚未被认定" in r[C.REASON] for r in got.values())


def test_grade_edges_and_pass_mark_cannot_disagree():
    with pytest.raises(ConfigError, match="lowest grade"):
        load(scoring={"pass_mark": 60})
    assert load(scoring={"pass_mark": 65}).threshold() == 65
    with pytest.raises(ConfigError, match="highest min_score down"):
        P.load("platform", award={"grades": [{"grade": "C", "min_score": 65, "amount_yuan": 1},
                                             {"grade": "A", "min_score": 85, "amount_yuan": 2}]})
