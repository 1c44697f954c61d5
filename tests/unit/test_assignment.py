"""Conflicts of interest (回避) and the flow-based expert assignment."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from scoring.assignment import assign_experts, expert_loads, find_conflicts
from scoring.conflicts import normalise_org_name
from scoring.errors import InfeasibleError, InputError


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


def check_assignment(a: pd.DataFrame, subs, experts, k: int, forbidden: pd.DataFrame | None = None) -> None:
    """The three promises, checked from the output alone."""
    assert list(a.columns) == ["expert_id", "submission_id"]
    per_app = a.groupby("submission_id").size()
    assert set(per_app.index) == set(subs) and (per_app == k).all()
    assert not a.duplicated().any()
    loads = expert_loads(a).reindex(experts, fill_value=0)
    assert loads.max() - loads.min() <= 1
    assert loads.min() == len(subs) * k // len(experts)
    if forbidden is not None and len(forbidden):
        assert a.merge(forbidden[["expert_id", "submission_id"]]).empty


# --- conflicts -----------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("福州智算科技股份有限公司", "福州 智算科技有限公司"),
        ("福州智算科技（福建）有限责任公司", "福州智算科技(福建)公司"),
        ("ＡＢＣ  Robotics Co., Ltd.", "abc robotics"),
        ("闽江数据集团有限公司", "闽江数据"),
    ],
)
def test_normalised_names_match(a, b):
    assert normalise_org_name(a) == normalise_org_name(b) != ""


def test_normalisation_keeps_distinct_names_apart_and_blank_empty():
    assert normalise_org_name("福州大学") != normalise_org_name("福建师范大学")
    assert normalise_org_name("有限公司") != ""  # a bare suffix is never stripped to an empty key
    assert normalise_org_name(None) == normalise_org_name(float("nan")) == normalise_org_name("  ") == ""


@pytest.fixture
def pool():
    submissions = pd.DataFrame(
        {
            "submission_id": ["S001", "S002", "S003", "S004"],
            "enterprise_name": ["福州智算科技有限公司", "闽江数据股份有限公司", "福州智算科技有限公司", "海峡视觉有限公司"],
            "credit_code": ["91350100MA00000001", "91350100MA00000002", "91350100MA00000001", "91350100MA00000004"],
        }
    )
    experts = pd.DataFrame(
        {
            "expert_id": ["E1", "E2", "E3", "E4"],
            "organisation": ["福州大学", "闽江数据有限公司", "某研究院", "福州智算科技（福州）分公司"],
            "org_credit_code": ["", "91350100MA00000099", "91350100ma00000001 ", ""],
        }
    )
    return submissions, experts


def test_find_conflicts_by_code_name_and_declaration(pool):
    submissions, experts = pool
    declared = pd.DataFrame(
        {
            "expert_id": ["E1", "E1"],
            "submission_id": ["S004", None],
            "credit_code": [None, "91350100MA00000002"],
            "reason": ["former employee", "co-author"],
        }
    )
    out = find_conflicts(submissions, experts, declared)
    pairs = {(r.expert_id, r.submission_id): (r.kind, r.reason) for r in out.itertuples()}
    # E3's org credit code equals S001/S003's applicant (after trimming and upper-casing)
    assert pairs[("E3", "S001")][0] == "credit_code" and "91350100MA00000001" in pairs[("E3", "S001")][1]
    assert ("E3", "S003") in pairs
    # E2's organisation is 闽江数据 under another legal form
    assert pairs[("E2", "S002")][0] == "organisation"
    # declared: by application and by applicant credit code
    assert pairs[("E1", "S004")] == ("declared", "declared conflict: former employee")
    assert pairs[("E1", "S002")] == ("declared", "declared conflict: co-author")
    assert set(pairs) == {("E3", "S001"), ("E3", "S003"), ("E2", "S002"), ("E1", "S004"), ("E1", "S002")}
    assert list(out.columns) == ["expert_id", "submission_id", "kind", "reason"]


def test_find_conflicts_merges_several_reasons_for_one_pair(pool):
    submissions, experts = pool
    experts = experts.assign(organisation=["福州大学", "闽江数据有限公司", "福州智算科技股份有限公司", ""])
    out = find_conflicts(submissions, experts).set_index(["expert_id", "submission_id"])
    assert out.loc[("E3", "S001"), "kind"] == "credit_code; organisation"
    assert out.loc[("E3", "S001"), "reason"].count(";") == 1


def test_declared_conflict_with_unknown_ids_is_an_input_error(pool):
    submissions, experts = pool
    declared = pd.DataFrame(
        {"expert_id": ["E9", "E1", "E2"], "submission_id": ["S001", "S999", None], "_file": "conflicts.csv", "_row": [2, 3, 4]}
    )
    with pytest.raises(InputError) as err:
        find_conflicts(submissions, experts, declared)
    lines = err.value.lines()
    assert "conflicts.csv, row 2, column 'expert_id': unknown expert 'E9'" in lines[0]
    assert "row 3, column 'submission_id': unknown application 'S999'" in lines[1]
    assert "row 4" in lines[2] and "needs a submission_id or a credit_code" in lines[2]


# --- assignment ------------------------------------------------------------------


def test_assignment_meets_every_constraint_with_conflicts():
    subs, experts = ids("S", 40), ids("E", 12)
    rng = np.random.default_rng(1)
    forbidden = pd.DataFrame(
        {"expert_id": rng.choice(experts, 60), "submission_id": rng.choice(subs, 60)}
    ).drop_duplicates()
    a = assign_experts(subs, experts, forbidden, k=5, seed=7)
    check_assignment(a, subs, experts, 5, forbidden)


def test_assignment_is_reproducible_and_seeded():
    subs, experts = ids("S", 30), ids("E", 9)
    a = assign_experts(subs, experts, None, k=3, seed=1)
    b = assign_experts(list(reversed(subs)), list(reversed(experts)), None, k=3, seed=1)
    c = assign_experts(subs, experts, None, k=3, seed=2)
    pd.testing.assert_frame_equal(a, b)  # input order does not matter
    assert not a.equals(c)  # the seed does
    check_assignment(c, subs, experts, 3)


def test_loads_balanced_within_one_when_not_divisible():
    subs, experts = ids("S", 7), ids("E", 4)
    a = assign_experts(subs, experts, None, k=3, seed=3)  # 21 seats over 4 experts: 5,5,5,6
    check_assignment(a, subs, experts, 3)
    assert sorted(expert_loads(a)) == [5, 5, 5, 6]


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate expert ids: E001"):
        assign_experts(ids("S", 3), ["E000", "E001", "E001"], None, k=1, seed=1)


def test_infeasible_application_named_with_numbers():
    subs, experts = ids("S", 10), ids("E", 6)
    forbidden = pd.DataFrame({"expert_id": experts[:3], "submission_id": ["S004"] * 3})
    with pytest.raises(InfeasibleError, match="application S004 has only 3 experts without a conflict, needs 5"):
        assign_experts(subs, experts, forbidden, k=5, seed=1)


def test_infeasible_pool_and_max_load():
    with pytest.raises(InfeasibleError, match="the pool has 4 experts, each application needs 5"):
        assign_experts(ids("S", 3), ids("E", 4), None, k=5, seed=1)
    with pytest.raises(
        InfeasibleError, match=r"7 experts × max load 20 = 140 cannot cover 40 applications × 5 = 200 .*short by 60"
    ):
        assign_experts(ids("S", 40), ids("E", 7), None, k=5, seed=1, max_load=20)


def test_infeasible_expert_minimum_load():
    subs, experts = ids("S", 10), ids("E", 5)  # 20 seats, loads exactly 4
    forbidden = pd.DataFrame({"expert_id": ["E000"] * 7, "submission_id": subs[:7]})
    with pytest.raises(InfeasibleError, match="expert E000 has only 3 applications without a conflict, but balanced loads need at least 4"):
        assign_experts(subs, experts, forbidden, k=2, seed=1)


def test_infeasible_by_flow_reports_the_shortfall():
    # 8 applications may only use E0..E4 (5 experts × load 3 = 15 seats) but need 8 × 2 = 16.
    # Every simple count passes; only the flow sees it.
    subs, experts = ids("S", 12), ids("E", 8)
    forbidden = pd.DataFrame(
        [(e, s) for s in subs[:8] for e in experts[5:]] + [(e, s) for s in subs[8:] for e in experts[:5]],
        columns=["expert_id", "submission_id"],
    )
    with pytest.raises(InfeasibleError) as err:
        assign_experts(subs, experts, forbidden, k=2, seed=1)
    msg = str(err.value)
    assert "at most 23 of the 24 panel seats can be filled (short by 1)" in msg
    assert "3..3 applications per expert" in msg


def test_candidate_offer_escalates_to_a_feasible_assignment():
    # with an offer of k experts per application the cheapest picks clash with the loads;
    # the solver must widen the offer, never give up while the max flow says feasible
    from scoring.assignment import _solve_lp

    subs, experts = ids("S", 50), ids("E", 10)
    cost = np.random.default_rng(5).random((50, 10))
    assert _solve_lp(cost, np.ones((50, 10), bool), 2, 10, 10, offer=2) is None  # the premise
    a = assign_experts(subs, experts, None, k=2, seed=5, candidates=2)
    check_assignment(a, subs, experts, 2)


def test_large_round_in_seconds():
    subs, experts = ids("S", 20_000), ids("E", 200)
    rng = np.random.default_rng(0)
    forbidden = pd.DataFrame({"expert_id": rng.choice(experts, 3000), "submission_id": rng.choice(subs, 3000)})
    t = time.perf_counter()
    a = assign_experts(subs, experts, forbidden, k=5, seed=20260602)
    elapsed = time.perf_counter() - t
    check_assignment(a, subs, experts, 5, forbidden)
    assert elapsed < 30, elapsed
