"""Programme files: every one loads, and a rule that cannot work is refused when the file is loaded."""
from __future__ import annotations

import pytest

from flows.workspace import available_programmes, load_programme
from scoring.errors import ConfigError
from tests.unit import programme_builders as P

COLUMNS = {pid: load_programme(pid).model_dump(mode="json")["columns"] for pid in ("hardware", "model_filing")}

KINDS = {
    "scenario": "scored", "hardware": "scored", "industrial_internet": "scored", "platform": "composite",
    "model_filing": "filing", "poc_new": "claim", "rd_matching": "claim", "skills_training": "claim",
}


def test_every_programme_of_the_policy_is_shipped_and_loads_with_its_kind():
    assert set(KINDS) <= set(available_programmes())
    for pid, kind in KINDS.items():
        prog = load_programme(pid)
        assert prog.kind == kind and prog.clause.startswith("榕政办规〔2026〕7号")
        assert prog.award.highest_only


def test_policy_caps_as_shipped():
    assert load_programme("hardware").award.max_amount_yuan == 500_000
    assert load_programme("hardware").award.count_cap == 6
    assert [g.amount_yuan for g in load_programme("platform").award.grades] == [1_000_000, 600_000, 300_000]
    assert load_programme("model_filing").award.level_amounts_yuan == {"national": 200_000, "provincial": 100_000}
    assert load_programme("model_filing").award.enterprise_cap_yuan == 500_000
    assert load_programme("poc_new").award.max_amount_yuan == 500_000
    assert load_programme("rd_matching").award.max_amount_yuan == 3_000_000
    assert load_programme("industrial_internet").award.max_amount_yuan == 2_000_000
    assert load_programme("skills_training").award.per_unit_yuan == 3_000


@pytest.mark.parametrize("pid, overrides, message", [
    ("hardware", {"columns": [c for c in COLUMNS["hardware"] if c["id"] != "product_name"]},
     "eligibility rule 'not_excluded' needs a column 'product_name'"),
    ("hardware", {"award": {"amount_column": "nope"}}, "award.amount_column 'nope' is not a declared column"),
    ("model_filing", {"columns": [dict(c, choices=["national", "provincial", "municipal"]) if c["id"] == "filing_level"
                                  else c for c in COLUMNS["model_filing"]]}, "missing: municipal"),
    ("model_filing", {"award": {"order_by": ["-amount", "filed_at"]}}, "order_by names 'filed_at'"),
    ("model_filing", {"criteria": [{"id": "x", "name": "x", "weight": 100}]}, "has no experts"),
    ("model_filing", {"award": {"enterprise_cap_yuan": None, "enterprise_cap_programmes": ["poc_new"]}},
     "enterprise_cap_programmes is set but enterprise_cap_yuan is not"),
    ("platform", {"indicators": [{"id": "platform_name", "name": "名称"}]}, "must be a declared number column"),
    ("platform", {"award": {"method": "grade", "grades": []}}, "award method 'grade' needs grades"),
    ("skills_training", {"award": {"unit_column": "occupation"}}, "must be a number column"),
    ("rd_matching", {"award": {"method": "matchng"}}, "unknown award method 'matchng'"),
    ("rd_matching", {"eligibility": {"rules": ["credit_code", "own_ip"]}}, "needs a column 'own_ip'"),
])
def test_a_rule_that_cannot_work_is_refused_at_load_time(pid, overrides, message):
    with pytest.raises(ConfigError) as err:
        P.load(pid, **overrides)
    assert message in str(err.value)
