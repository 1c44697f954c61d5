"""Rater calibration: re-express each expert's totals on the panel's common scale.

Experts differ in leniency (some score everyone high) and in spread (some use
the whole 0..100 range, some stay within 70..80). Calibration is *advisory* by
default: the calibrated total is shown beside the raw one, and it changes the
ranking only where the programme file says `rank_by = "calibrated"`.

Methods are chosen by name from `CALIBRATORS` (scoring/rules.py validates the
programme's `scoring.calibration` against these keys). Every calibrator follows
scikit-learn's contract: `__init__` only stores keyword parameters, `fit(frame)`
returns `self` and keeps what it learned in `name_` attributes, `transform(frame)`
returns a new frame with a `calibrated_total` column. Inputs are never mutated.

Input frame (long form of expert totals): `expert_id`, `submission_id`,
`expert_total` (float, 0..100).
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scoring.columns import EXPERT_ID, EXPERT_TOTAL, SUBMISSION_ID
from scoring.statistics import within_panel_z

if TYPE_CHECKING:
    from sklearn.preprocessing import StandardScaler

CALIBRATED_TOTAL = "calibrated_total"

# why an expert's totals were (not) rescaled; kept in `status_`
SCALED = "scaled"          # enough scores with some variance: full z-score rescaling
CONSTANT = "constant"      # every total identical: no ranking information, mapped to the panel mean
TOO_FEW = "too_few"        # fewer than `min_scores` totals: leniency not estimable, passed through

_NEEDED = (EXPERT_ID, SUBMISSION_ID, EXPERT_TOTAL)


def _check_frame(frame: pd.DataFrame) -> None:
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise ValueError(f"expert totals frame lacks column(s) {', '.join(missing)}; needs {', '.join(_NEEDED)}")


def leniency_by_expert(frame: pd.DataFrame) -> pd.Series:
    """Mean within-panel z of each expert (scoring.statistics.within_panel_z), indexed by expert_id.

    Experts who only sat on one-expert panels get NaN.
    """
    z = within_panel_z(frame)
    return z.groupby(frame[EXPERT_ID], sort=True).mean().rename("leniency")


class _Params:
    """get_params/set_params as scikit-learn defines them, so `sklearn.base.clone` works.

    Not `sklearn.base.BaseEstimator`: importing it costs ~0.8 s, and this module
    is imported whenever a programme file is validated (scoring/rules.py).
    scikit-learn itself is imported only when a calibrator is fitted.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "_Params":
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; valid: {', '.join(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class NoCalibration(_Params):
    """Pass-through: `calibrated_total` equals `expert_total`."""

    def fit(self, frame: pd.DataFrame) -> "NoCalibration":
        _check_frame(frame)
        self.leniency_ = leniency_by_expert(frame)
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        _check_frame(frame)
        out = frame.copy()
        out[CALIBRATED_TOTAL] = frame[EXPERT_TOTAL].astype(float)
        return out

    def fit_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.fit(frame).transform(frame)


class ZScoreCalibrator(_Params):
    """Per-expert z-scores (sklearn `StandardScaler`) mapped back onto the panel's scale.

    fit: for each expert, a `StandardScaler` learns the mean and sd (ddof=0) of
    that expert's totals; the round's overall mean and sd (ddof=0, over all
    totals) give the common scale.
    transform: calibrated = z · overall_sd + overall_mean, where z is the
    expert's own z-score. This removes each expert's leniency (level) and
    range (spread), assuming experts see comparable sets of applications —
    true under a balanced random assignment, which is why assignment is random.

    Explicit special cases (recorded per expert in `status_`):
    - fewer than `min_scores` totals (`too_few`): their level and spread cannot
      be estimated, so their totals pass through unchanged;
    - all totals equal (`constant`): the expert expressed no preference between
      applications; every total maps to the overall mean (StandardScaler's own
      zero-variance rule gives z = 0; the status makes that visible).

    `clip` (default False) clips calibrated totals to 0..100; unclipped values
    can fall slightly outside that range for an extreme score of a narrow scorer.

    Learned attributes:
    - `scalers_`: dict expert_id → fitted StandardScaler (scaled/constant experts)
    - `status_`: Series expert_id → "scaled" | "constant" | "too_few"
    - `n_scored_`: Series expert_id → number of totals
    - `overall_mean_`, `overall_sd_`: the common scale
    - `leniency_`: Series expert_id → mean within-panel z-score of the expert's
      totals: for every application the expert scored, (total − the panel's
      mean) / the panel's sd (ddof=1, panel = all experts on that application),
      averaged over the expert's applications. +0.5 means the expert typically
      scores half a panel-sd above the co-panelists. Applications with a
      one-expert panel are skipped; an all-equal panel contributes 0.
    """

    def __init__(self, *, min_scores: int = 2, clip: bool = False) -> None:
        self.min_scores = min_scores
        self.clip = clip

    def fit(self, frame: pd.DataFrame) -> "ZScoreCalibrator":
        from sklearn.preprocessing import StandardScaler

        _check_frame(frame)
        if self.min_scores < 2:
            raise ValueError("min_scores must be at least 2: one total says nothing about an expert's spread")
        totals = frame[EXPERT_TOTAL].astype(float)
        if totals.empty:
            raise ValueError("cannot calibrate an empty set of expert totals")
        self.overall_mean_ = float(totals.mean())
        sd = float(totals.std(ddof=0))
        self.overall_sd_ = sd if sd > 0 else 1.0
        self.scalers_: dict[str, StandardScaler] = {}
        status: dict[str, str] = {}
        counts: dict[str, int] = {}
        for expert, values in totals.groupby(frame[EXPERT_ID], sort=True):
            counts[expert] = len(values)
            if len(values) < self.min_scores:
                status[expert] = TOO_FEW
                continue
            scaler = StandardScaler().fit(values.to_numpy().reshape(-1, 1))
            self.scalers_[expert] = scaler
            status[expert] = CONSTANT if float(scaler.var_[0]) == 0.0 else SCALED
        self.status_ = pd.Series(status, name="status", dtype=object).rename_axis(EXPERT_ID)
        self.n_scored_ = pd.Series(counts, name="n_scored", dtype="int64").rename_axis(EXPERT_ID)
        self.leniency_ = leniency_by_expert(frame)
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        _check_frame(frame)
        if not hasattr(self, "status_"):
            raise ValueError("ZScoreCalibrator is not fitted; call fit() first")
        unknown = sorted(set(frame[EXPERT_ID]) - set(self.status_.index))
        if unknown:
            raise ValueError(f"experts not seen in fit(): {', '.join(map(str, unknown[:10]))}")
        totals = frame[EXPERT_TOTAL].astype(float)
        calibrated = totals.to_numpy(copy=True)
        rows_of = pd.Series(np.arange(len(frame))).groupby(frame[EXPERT_ID].to_numpy(), sort=True).indices
        for expert, rows in rows_of.items():
            scaler = self.scalers_.get(expert)
            if scaler is None:  # too_few: passed through
                continue
            z = scaler.transform(calibrated[rows].reshape(-1, 1)).ravel()
            calibrated[rows] = z * self.overall_sd_ + self.overall_mean_
        if self.clip:
            calibrated = np.clip(calibrated, 0.0, 100.0)
        out = frame.copy()
        out[CALIBRATED_TOTAL] = calibrated
        return out

    def fit_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.fit(frame).transform(frame)


CALIBRATORS: dict[str, type] = {
    "none": NoCalibration,
    "zscore": ZScoreCalibrator,
}
