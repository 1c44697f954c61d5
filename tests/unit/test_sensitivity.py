"""Ranking sensitivity: bootstrap over panels, ±10 % weights, margin to the cut-off."""
from __future__ import annotations

import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.aggregation import expert_totals, panel_scores
from scoring.rules import merge_overrides, parse_programme
from scoring.sensitivity import (
    aggregate_panels,
    bootstrap_selection,
    margin_to_cutoff,
    perturbed_weights,
    sensitivity_report,
    top_n_selector,
    weight_perturbation,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = tomllib.loads((ROOT / "data/programmes/scenario.toml").read_text(encoding="utf-8"))


def programme(**scoring):
    data = merge_overrides(SCENARIO, {"scoring": scoring}) if scoring else SCENARIO
    return parse_programme(data, "scenario.toml")


def random_scores(prog, n_apps: int, panel_sizes, seed: int) -> pd.DataFrame:
    """Long-form exact scores (score_units, hundredths) for panels of the given sizes."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_apps):
        k = int(rng.choice(panel_sizes))
        quality = rng.uniform(0.3, 0.95)
        for e in rng.choice(40, size=k, replace=False):
            for c in prog.criteria:
                f = float(np.clip(quality + rng.normal(0, 0.1), 0, 1))
                rows.append((f"E{e:02d}", f"S{i:04d}", c.id, int(round(f * float(c.max_points) * 100))))
    return pd.DataFrame(rows, columns=["expert_id", "submission_id", "criterion", "score_units"])


def totals(expert_id, submission_id, values) -> pd.DataFrame:
    return pd.DataFrame({"expert_id": expert_id, "submission_id": submission_id, "expert_total": values})


@pytest.mark.parametrize("aggregation", ["trimmed_mean", "mean", "median"])
def test_float_aggregation_matches_the_exact_core(aggregation):
    """The advisory float panel score equals the exact one (rounded half-up) for every application."""
    prog = programme(aggregation=aggregation)
    scores = random_scores(prog, 400, [1, 2, 3, 4, 5, 6, 7], seed=1)
    exact = panel_scores(expert_totals(scores, prog), prog)
    boot = bootstrap_selection(
        expert_totals(scores, prog), top_n_selector(None), n_resamples=0,
        aggregation=aggregation, trim_min_experts=5,
    )
    merged = boot.merge(exact, on="submission_id")
    assert len(merged) == 400
    assert (np.round(merged["score"] * 100).astype(int) == merged["score_cents"]).all()


def test_aggregate_panels_trimmed_mean_by_hand():
    values = np.array([[90, 80, 70, 60, 10], [90, 80, 70, np.nan, np.nan]], dtype=float)
    got = aggregate_panels(values, np.array([5, 3]))
    assert got.tolist() == [70.0, 80.0]  # (80+70+60)/3 ; plain mean below 5 experts
    assert aggregate_panels(np.array([[70.125, 70.125]]), np.array([2]))[0] == 70.13  # half-up


def test_bootstrap_matches_the_resampling_distribution():
    # one application, panel (60, 80), plain mean: resampled means 60, 70, 80 with p = 1/4, 1/2, 1/4
    frame = totals(["a", "b"], ["S1", "S1"], [60.0, 80.0])
    select_high = lambda f: f.loc[f["score"] > 75, "submission_id"]  # noqa: E731
    out = bootstrap_selection(frame, select_high, n_resamples=4000, random_state=3, aggregation="mean")
    assert out["p_selected"].iloc[0] == pytest.approx(0.25, abs=0.025)
    assert not out["selected"].iloc[0] and out["score"].iloc[0] == 70.0


def test_bootstrap_is_seeded_sorted_and_does_not_mutate():
    prog = programme()
    scores = random_scores(prog, 60, [5], seed=2)
    frame = expert_totals(scores, prog).sample(frac=1.0, random_state=0)  # shuffled input
    before = frame.copy()
    sel = top_n_selector(10, 60)
    a = bootstrap_selection(frame, sel, 100, random_state=7)
    b = bootstrap_selection(frame.sort_index(), sel, 100, random_state=7)
    c = bootstrap_selection(frame, sel, 100, random_state=8)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(a, b)
    assert not a["p_selected"].equals(c["p_selected"])
    assert a["submission_id"].is_monotonic_increasing
    assert a["selected"].sum() == 10
    # clear winners and clear losers are certain; the fragile ones sit near the cut-off
    order = a.sort_values("score", ascending=False)
    assert order["p_selected"].iloc[0] >= 0.9 and order["p_selected"].iloc[-1] == 0.0
    assert a["p_selected"].sum() == pytest.approx(10.0)  # exactly 10 selected in every resample


def test_perturbed_weights_move_one_weight_ten_percent_and_sum_to_100():
    w = np.array([25, 30, 20, 15, 10], dtype=float)
    scen = perturbed_weights(w)
    assert scen.shape == (10, 5)
    assert np.allclose(scen.sum(axis=1), 100)
    up = scen[1] / scen[1].sum()  # effectiveness +10 %, then renormalised
    assert up[1] / up[0] == pytest.approx(30 * 1.1 / 25)
    assert np.allclose(scen[6][[0, 2, 3, 4]] / scen[6][0], w[[0, 2, 3, 4]] / w[0])


def test_weight_perturbation_finds_a_weight_sensitive_winner():
    prog = programme()
    crit = [c.id for c in prog.criteria]
    # A: full marks on effectiveness (30), weaker elsewhere; B: the reverse. One place.
    a = {"innovation": 20.0, "effectiveness": 30.0, "replicability": 16.0, "maturity": 12.0, "benefit": 8.0}
    b = {"innovation": 25.0, "effectiveness": 26.0, "replicability": 17.0, "maturity": 12.0, "benefit": 8.0}
    rows = [("E1", sid, c, int(v[c] * 100)) for sid, v in (("A", a), ("B", b)) for c in crit]
    scores = pd.DataFrame(rows, columns=["expert_id", "submission_id", "criterion", "score_units"])
    out = weight_perturbation(scores, prog, top_n_selector(1, 60)).set_index("submission_id")
    # base: A = 86, B = 88 → B selected
    assert out.loc["A", "score"] == 86.0 and out.loc["B", "score"] == 88.0
    assert out.loc["B", "selected"] and not out.loc["A", "selected"]

    # by hand: in which of the 10 scenarios does A beat B?
    def total(v, w):
        return sum(v[c] / float(prog.criterion(c).max_points) * w[i] for i, c in enumerate(crit))

    scen = perturbed_weights(np.array([float(prog.criterion(c).weight) for c in crit]))
    a_wins = sum(round(total(a, w), 2) > round(total(b, w), 2) for w in scen)
    assert out.loc["A", "p_selected"] == pytest.approx(a_wins / 10)
    assert out.loc["A", "p_selected"] + out.loc["B", "p_selected"] == pytest.approx(1.0)
    assert out.loc["B", "score_min"] <= 88.0 <= out.loc["B", "score_max"]


def test_margin_to_cutoff_by_hand():
    panel = pd.DataFrame({"submission_id": list("ABCDE"), "score": [90.0, 85.0, 80.0, 70.0, 50.0]})
    out = margin_to_cutoff(panel, {"A", "B"}, pass_mark=60).set_index("submission_id")["margin_to_cutoff"]
    assert out.to_dict() == {"A": 10.0, "B": 5.0, "C": -5.0, "D": -15.0, "E": -35.0}
    # fewer candidates than places: the pass mark is the line
    out = margin_to_cutoff(panel, np.array([True, True, True, True, False]), pass_mark=60)
    assert out.set_index("submission_id")["margin_to_cutoff"].to_dict() == {
        "A": 30.0, "B": 25.0, "C": 20.0, "D": 10.0, "E": -20.0,  # E lacks 10 points to the pass mark
    }


def test_sensitivity_report_flags_fragile_selections():
    prog = programme()
    scores = random_scores(prog, 80, [5], seed=4)
    tot = expert_totals(scores, prog)
    report = sensitivity_report(tot, scores, prog, top_n_selector(10, 60), n_resamples=100, random_state=1)
    assert list(report.columns) == [
        "submission_id", "score", "selected", "p_selected_bootstrap", "p_selected_weights", "margin_to_cutoff", "fragile",
    ]
    assert report["selected"].sum() == 10
    fragile = report[report["fragile"]]
    assert fragile["selected"].all()
    assert ((fragile["p_selected_bootstrap"] < 0.8) | (fragile["p_selected_weights"] < 0.8)).all()
    solid = report[report["selected"] & ~report["fragile"]]
    assert (solid["p_selected_bootstrap"] >= 0.8).all()
    assert (report.loc[report["selected"], "margin_to_cutoff"] >= 0).all()
    assert (report.loc[~report["selected"], "margin_to_cutoff"] <= 0).all()


def test_bootstrap_of_a_large_round_is_within_ten_times_base_scoring():
    prog = programme()
    rng = np.random.default_rng(0)
    n, k = 20_000, 5
    crit = [c.id for c in prog.criteria]
    mx = np.array([int(c.max_points) for c in prog.criteria])
    experts = np.concatenate([rng.choice(200, size=k, replace=False) for _ in range(n)])
    pairs = n * k
    frac = np.clip(np.repeat(rng.uniform(0.4, 0.95, n), k * len(crit)) + rng.normal(0, 0.08, pairs * len(crit)), 0, 1)
    scores = pd.DataFrame(
        {
            "expert_id": np.repeat([f"E{e:03d}" for e in experts], len(crit)),
            "submission_id": np.repeat([f"S{i:05d}" for i in range(n)], k * len(crit)),
            "criterion": np.tile(crit, pairs),
            "score_units": np.round(frac * np.tile(mx, pairs) * 100).astype("int64"),
        }
    )
    t = time.perf_counter()
    tot = expert_totals(scores, prog)
    panel_scores(tot, prog)
    base = time.perf_counter() - t
    t = time.perf_counter()
    out = bootstrap_selection(tot, top_n_selector(10, 60), 200, random_state=1)
    boot = time.perf_counter() - t
    assert len(out) == n and out["p_selected"].sum() == pytest.approx(10.0)
    # target ≤ 10× (measured ≈ 6× on 2 cores); slack for a busy CI machine
    assert boot <= 15 * base, (boot, base)


def _bootstrap_one_resample_at_a_time(frame, select_fn, n_resamples, random_state, aggregation, trim_min):
    """The bootstrap as first written: one rng.random((N, K)) per resample, selection row by row."""
    ordered = frame.sort_values(["submission_id", "expert_id"], kind="stable")
    codes, subs = pd.factorize(ordered["submission_id"], sort=True)
    n = np.bincount(codes)
    seat = np.arange(len(ordered)) - np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]), n)
    values = np.full((len(subs), int(n.max())), np.nan)
    values[codes, seat] = ordered["expert_total"].to_numpy(dtype=float)
    rng = np.random.default_rng(random_state)
    pad = np.arange(values.shape[1])[None, :] >= n[:, None]
    hits = np.zeros(len(subs), dtype=np.int64)
    for _ in range(n_resamples):
        pick = (rng.random(values.shape) * n[:, None]).astype(np.intp)
        pick = np.where(pad, pick[:, :1], pick)
        sample = values[np.arange(len(subs))[:, None], pick]
        sample[pad] = np.nan
        score = aggregate_panels(sample, n, aggregation=aggregation, trim_min_experts=trim_min)
        chosen = select_fn(pd.DataFrame({"submission_id": np.asarray(subs, dtype=object), "score": score}))
        hits += np.asarray(chosen, dtype=bool)
    return hits / max(n_resamples, 1)


@pytest.mark.parametrize("aggregation", ["trimmed_mean", "mean", "median"])
@pytest.mark.parametrize("count", [None, 1, 12, 500])
def test_batched_top_n_bootstrap_equals_one_resample_at_a_time(aggregation, count):
    """The batched path (top_n_selector) keeps the random stream and the selection of the plain loop exactly."""
    prog = programme()
    scores = random_scores(prog, 150, [1, 2, 3, 5, 6, 7], seed=5)
    tot = expert_totals(scores, prog)
    # round the totals to whole points so that ties at the count line really occur and are broken by id
    tot = tot.assign(expert_total=np.round(tot["expert_total"].astype(float)))
    eligible = sorted(tot["submission_id"].unique())[::3]
    for elig in (None, eligible):
        sel = top_n_selector(count, 60, elig)
        expected = _bootstrap_one_resample_at_a_time(tot, sel, 37, 11, aggregation, 5)
        fast = bootstrap_selection(tot, sel, 37, random_state=11, aggregation=aggregation)
        generic = bootstrap_selection(tot, lambda f: sel(f), 37, random_state=11, aggregation=aggregation)
        assert fast["p_selected"].tolist() == expected.tolist()
        assert generic["p_selected"].tolist() == expected.tolist()
        if count is not None:
            assert fast["p_selected"].sum() <= count + 1e-9  # never more than `count` in any resample


def test_batched_bootstrap_keeps_the_stream_across_blocks(monkeypatch):
    """Blocks of several resamples draw the same numbers as one resample per draw."""
    import scoring.sensitivity as sens

    prog = programme()
    tot = expert_totals(random_scores(prog, 40, [3, 5], seed=6), prog)
    sel = top_n_selector(8, 60)
    whole = bootstrap_selection(tot, sel, 50, random_state=2)
    monkeypatch.setattr(sens, "_BLOCK_CELLS", 1)  # one resample per block, as the old loop drew them
    single = bootstrap_selection(tot, sel, 50, random_state=2)
    monkeypatch.setattr(sens, "_BLOCK_CELLS", 7 * tot.shape[0])  # uneven blocks
    uneven = bootstrap_selection(tot, sel, 50, random_state=2)
    pd.testing.assert_frame_equal(whole, single)
    pd.testing.assert_frame_equal(whole, uneven)
