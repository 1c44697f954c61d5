"""Panel statistics: the ICC against the published example, W against Friedman, spread and leniency."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import f_oneway, friedmanchisquare

from scoring.statistics import (
    ICC_FORMS,
    application_spread,
    expert_leniency,
    icc,
    kendalls_w,
    panel_agreement,
    within_panel_z,
)

# Shrout & Fleiss (1979), Psychological Bulletin 86(2), Table 2: 6 targets × 4 judges.
SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
# Their Table 4: the six ICCs of that data.
PUBLISHED = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71, "ICC(1,k)": 0.44, "ICC(2,k)": 0.62, "ICC(3,k)": 0.91}


def long_form(matrix, judges=None, targets=None) -> pd.DataFrame:
    m = np.asarray(matrix, dtype=float)
    judges = judges or [f"E{j}" for j in range(m.shape[1])]
    targets = targets or [f"S{i:03d}" for i in range(m.shape[0])]
    return pd.DataFrame(
        [(judges[j], targets[i], m[i, j]) for i in range(m.shape[0]) for j in range(m.shape[1])],
        columns=["expert_id", "submission_id", "expert_total"],
    )


def test_icc_reproduces_shrout_fleiss_table():
    got = icc(SHROUT_FLEISS)
    for form, value in PUBLISHED.items():
        assert round(got[form], 2) == value, form
    # the paper's ANOVA table (Table 3): BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02
    assert (round(got["BMS"], 2), round(got["WMS"], 2), round(got["JMS"], 2), round(got["EMS"], 2)) == (
        11.24, 6.26, 32.49, 1.02,
    )


def test_icc_is_invariant_to_order_of_targets_and_judges():
    x = np.array(SHROUT_FLEISS, dtype=float)
    shuffled = x[[3, 0, 5, 1, 4, 2]][:, [2, 0, 3, 1]]
    a, b = icc(x), icc(shuffled)
    for f in ICC_FORMS:
        assert a[f] == pytest.approx(b[f])


def test_icc_perfect_agreement_is_one_and_judge_offset_only_hurts_absolute_forms():
    base = np.array([[50.0], [60.0], [70.0], [80.0]])
    same = np.hstack([base, base, base])
    assert all(icc(same)[f] == pytest.approx(1.0) for f in ICC_FORMS)
    shifted = np.hstack([base, base + 10, base + 20])  # consistent, not identical
    r = icc(shifted)
    assert r["ICC(3,1)"] == pytest.approx(1.0)  # consistency ignores judge means
    assert r["ICC(2,1)"] < 1.0 and r["ICC(1,1)"] < 1.0


def test_icc_rejects_incomplete_or_tiny_matrix():
    with pytest.raises(ValueError, match="complete"):
        icc([[1, 2], [3, np.nan]])
    with pytest.raises(ValueError, match="n ≥ 2"):
        icc([[1, 2, 3]])


def test_kendalls_w_matches_friedman_with_ties():
    # W = χ²_Friedman / (m (n − 1)); scipy's Friedman statistic is tie-corrected.
    rng = np.random.default_rng(7)
    x = rng.integers(60, 66, size=(8, 5)).astype(float)  # many ties
    chi2 = friedmanchisquare(*x).statistic
    assert kendalls_w(x) == pytest.approx(chi2 / (5 * (8 - 1)))
    assert kendalls_w(SHROUT_FLEISS) == pytest.approx(friedmanchisquare(*np.array(SHROUT_FLEISS)).statistic / (4 * 5))


def test_kendalls_w_bounds():
    ranks = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]], dtype=float)
    assert kendalls_w(ranks) == pytest.approx(1.0)
    opposed = np.array([[1, 4], [2, 3], [3, 2], [4, 1]], dtype=float)
    assert kendalls_w(opposed) == pytest.approx(0.0)
    assert math.isnan(kendalls_w(np.ones((4, 3))))  # every judge tied everything


def test_panel_agreement_complete_design_equals_icc_of_the_matrix():
    r = panel_agreement(long_form(SHROUT_FLEISS))
    assert r["design"] == "complete"
    direct = icc(SHROUT_FLEISS)
    for f in ICC_FORMS:
        assert r[f] == pytest.approx(direct[f])
    assert r["kendall_w"] == pytest.approx(kendalls_w(SHROUT_FLEISS))
    assert r["block_n_applications"] == 6 and r["k_mean"] == pytest.approx(4.0)


def test_panel_agreement_incomplete_one_way_matches_anova_f():
    # unequal panels from a pool: ICC(1,1) = (F − 1) / (F + k0 − 1) from the one-way ANOVA
    rng = np.random.default_rng(3)
    rows, groups = [], []
    for i in range(40):
        k = int(rng.integers(2, 6))
        experts = rng.choice(30, size=k, replace=False)
        true = rng.normal(70, 8)
        vals = true + rng.normal(0, 5, size=k)
        groups.append(vals)
        rows += [(f"X{e:02d}", f"S{i:03d}", float(v)) for e, v in zip(experts, vals)]
    frame = pd.DataFrame(rows, columns=["expert_id", "submission_id", "expert_total"])
    r = panel_agreement(frame)
    f = f_oneway(*groups).statistic
    sizes = np.array([len(g) for g in groups], dtype=float)
    k0 = (sizes.sum() - (sizes**2).sum() / sizes.sum()) / (len(sizes) - 1)
    assert r["design"] == "incomplete"
    assert r["k_mean"] == pytest.approx(k0)
    assert r["ICC(1,1)"] == pytest.approx((f - 1) / (f + k0 - 1))
    assert r["ICC(1,k)"] == pytest.approx(1 - 1 / f)
    assert math.isnan(r["ICC(3,1)"]) and math.isnan(r["kendall_w"])
    assert "not defined" in r["note"]


def test_panel_agreement_uses_the_largest_panel_group_for_two_way_forms():
    big = np.array(SHROUT_FLEISS, dtype=float)
    small = np.array([[70, 72, 71], [60, 65, 61], [80, 79, 83]], dtype=float)
    frame = pd.concat(
        [
            long_form(big, judges=["A", "B", "C", "D"], targets=[f"S{i}" for i in range(6)]),
            long_form(small, judges=["E", "F", "G"], targets=["T0", "T1", "T2"]),
        ]
    )
    r = panel_agreement(frame)
    assert r["design"] == "incomplete"
    assert [b["n_applications"] for b in r["blocks"]] == [6, 3]
    assert r["block_experts"] == ("A", "B", "C", "D")
    assert r["ICC(3,k)"] == pytest.approx(icc(big)["ICC(3,k)"])
    assert r["blocks"][1]["ICC(3,1)"] == pytest.approx(icc(small)["ICC(3,1)"])


def test_application_spread_and_deviant_flag():
    frame = pd.DataFrame(
        {
            "expert_id": ["a", "b", "c", "d", "e", "a", "b", "c", "a", "b"],
            "submission_id": ["S1"] * 5 + ["S2"] * 3 + ["S3"] * 2,
            "expert_total": [80, 82, 78, 81, 45, 70, 71, 69, 90, 50],
        }
    )
    out = application_spread(frame)
    s1, s2, s3 = (out.set_index("submission_id").loc[s] for s in ("S1", "S2", "S3"))
    assert (s1["n"], s1["min"], s1["max"], s1["range"]) == (5, 45, 82, 37)
    assert s1["std"] == pytest.approx(np.std([80, 82, 78, 81, 45], ddof=1))
    assert s1["deviant"] and s1["deviant_experts"] == "e"
    assert s1["max_deviation"] == pytest.approx(80.5 - 45)
    assert not s2["deviant"] and s2["deviant_experts"] == ""
    # two experts 40 apart: spread shows it, but nobody is singled out
    assert s3["range"] == 40 and not s3["deviant"]
    assert application_spread(frame, deviation_points=40)["deviant"].sum() == 0


def test_application_spread_robust_z_rule():
    frame = pd.DataFrame(
        {"expert_id": list("abcde"), "submission_id": ["S1"] * 5, "expert_total": [70, 70, 70, 70, 84]}
    )
    assert not application_spread(frame)["deviant"].iloc[0]  # 14 points < 20
    flagged = application_spread(frame, deviation_points=None, robust_z=2.5)  # 14 / floor 5 = 2.8
    assert flagged["deviant_experts"].iloc[0] == "e"
    assert not application_spread(frame, deviation_points=None, robust_z=3.0)["deviant"].iloc[0]


def test_expert_leniency_finds_the_lenient_expert_and_does_not_mutate():
    rng = np.random.default_rng(11)
    rows = []
    for i in range(60):
        panel = rng.choice(list("ABCDEFGH"), size=4, replace=False)
        quality = rng.normal(70, 10)
        for e in panel:
            rows.append((e, f"S{i:02d}", quality + (12.0 if e == "A" else 0.0) + rng.normal(0, 2)))
    frame = pd.DataFrame(rows, columns=["expert_id", "submission_id", "expert_total"])
    before = frame.copy()
    out = expert_leniency(frame).set_index("expert_id")
    pd.testing.assert_frame_equal(frame, before)
    assert out["leniency"].idxmax() == "A" and out.loc["A", "leniency"] > 0.5
    assert out.loc["A", "mean_offset"] == pytest.approx(12.0, abs=1.5)
    assert out["n_scored"].sum() == len(frame)
    z = within_panel_z(frame)
    assert z.groupby(frame["submission_id"]).sum().abs().max() < 1e-9  # z sums to 0 in each panel


def test_statistics_scale_to_a_large_round_quickly():
    import time

    rng = np.random.default_rng(0)
    n, k, m = 20_000, 5, 200
    experts = np.concatenate([rng.choice(m, size=k, replace=False) for _ in range(n)])
    frame = pd.DataFrame(
        {
            "expert_id": [f"E{e:03d}" for e in experts],
            "submission_id": np.repeat([f"S{i:05d}" for i in range(n)], k),
            "expert_total": rng.uniform(40, 95, size=n * k),
        }
    )
    t = time.perf_counter()
    spread = application_spread(frame)
    lenient = expert_leniency(frame)
    agreement = panel_agreement(frame)
    elapsed = time.perf_counter() - t
    assert len(spread) == n and len(lenient) == m and agreement["n_scores"] == n * k
    assert elapsed < 5.0, elapsed


def test_a_pair_scored_twice_is_refused():
    frame = pd.DataFrame({"expert_id": ["a", "a", "b"], "submission_id": ["S1", "S1", "S1"], "expert_total": [70.0, 71, 72]})
    with pytest.raises(ValueError, match="more than one total"):
        application_spread(frame)
