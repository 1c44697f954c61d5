"""Rater calibration: registry, scikit-learn contract, and what the z-score rescaling does."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from scoring.calibration import CALIBRATORS, CONSTANT, SCALED, TOO_FEW, NoCalibration, ZScoreCalibrator


def frame_of(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["expert_id", "submission_id", "expert_total"])


@pytest.fixture
def round_totals() -> pd.DataFrame:
    """Six experts over 40 applications; B is lenient (+10), C is harsh and narrow."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(40):
        quality = rng.normal(70, 8)
        for e in rng.choice(list("ABCDEF"), size=4, replace=False):
            x = quality + rng.normal(0, 1)
            if e == "B":
                x += 10
            if e == "C":
                x = 60 + 0.3 * (x - 70)
            rows.append((str(e), f"S{i:02d}", float(x)))
    return frame_of(rows)


def test_registry_has_exactly_the_programme_names():
    assert set(CALIBRATORS) == {"none", "zscore"}
    assert CALIBRATORS["none"] is NoCalibration and CALIBRATORS["zscore"] is ZScoreCalibrator


def test_sklearn_contract_init_stores_params_only_and_clone_works():
    cal = ZScoreCalibrator(min_scores=3, clip=True)
    assert cal.get_params() == {"min_scores": 3, "clip": True}
    assert not [a for a in vars(cal) if a.endswith("_")]
    assert clone(cal).get_params() == cal.get_params()


def test_no_calibration_passes_through(round_totals):
    out = NoCalibration().fit(round_totals).transform(round_totals)
    assert (out["calibrated_total"] == round_totals["expert_total"]).all()


def test_zscore_fit_returns_self_and_transform_is_new_frame(round_totals):
    before = round_totals.copy()
    cal = ZScoreCalibrator()
    assert cal.fit(round_totals) is cal
    out = cal.transform(round_totals)
    assert out is not round_totals and "calibrated_total" not in round_totals
    pd.testing.assert_frame_equal(round_totals, before)
    pd.testing.assert_frame_equal(out.drop(columns="calibrated_total"), before)


def test_zscore_puts_every_expert_on_the_panel_scale(round_totals):
    cal = ZScoreCalibrator().fit(round_totals)
    out = cal.transform(round_totals)
    assert (cal.status_ == SCALED).all()
    for _, g in out.groupby("expert_id"):
        assert g["calibrated_total"].mean() == pytest.approx(cal.overall_mean_)
        assert g["calibrated_total"].std(ddof=0) == pytest.approx(cal.overall_sd_)
    # the lenient and the harsh expert's offsets are gone: per-application spread shrinks
    raw_range = out.groupby("submission_id")["expert_total"].agg(np.ptp).mean()
    cal_range = out.groupby("submission_id")["calibrated_total"].agg(np.ptp).mean()
    assert cal_range < raw_range / 2


def test_leniency_attribute_ranks_lenient_above_harsh(round_totals):
    cal = ZScoreCalibrator().fit(round_totals)
    assert cal.leniency_.idxmax() == "B"
    assert cal.leniency_.idxmin() == "C"
    assert cal.leniency_["B"] > 0.5 > -0.5 > cal.leniency_["C"]


def test_single_score_and_constant_experts_are_explicit():
    frame = frame_of(
        [
            ("a", "S1", 80.0), ("a", "S2", 60.0), ("a", "S3", 70.0),
            ("b", "S1", 75.0), ("b", "S2", 75.0), ("b", "S3", 75.0),
            ("c", "S1", 90.0),
        ]
    )
    cal = ZScoreCalibrator().fit(frame)
    assert dict(cal.status_) == {"a": SCALED, "b": CONSTANT, "c": TOO_FEW}
    out = cal.transform(frame).set_index(["expert_id", "submission_id"])["calibrated_total"]
    assert out[("c", "S1")] == 90.0  # cannot be estimated: unchanged
    assert out[("b", "S1")] == pytest.approx(cal.overall_mean_)  # no preference expressed
    assert cal.n_scored_.to_dict() == {"a": 3, "b": 3, "c": 1}


def test_clip_keeps_calibrated_totals_in_range():
    # a's one outstanding 100 is 2 of a's sds above a's mean; on the wide panel scale that is > 100
    frame = frame_of(
        [("a", f"S{i}", x) for i, x in enumerate([100.0, 90, 90, 90, 90])]
        + [("b", f"S{i}", x) for i, x in enumerate([40.0, 60, 80, 100, 100])]
    )
    assert ZScoreCalibrator().fit_transform(frame)["calibrated_total"].max() > 100
    clipped = ZScoreCalibrator(clip=True).fit_transform(frame)["calibrated_total"]
    assert clipped.between(0, 100).all() and clipped.max() == 100


def test_transform_refuses_unfitted_and_unknown_experts(round_totals):
    with pytest.raises(ValueError, match="not fitted"):
        ZScoreCalibrator().transform(round_totals)
    cal = ZScoreCalibrator().fit(round_totals)
    with pytest.raises(ValueError, match="not seen"):
        cal.transform(frame_of([("Z", "S00", 50.0)]))
    with pytest.raises(ValueError, match="lacks column"):
        cal.fit(round_totals.drop(columns="expert_total"))
