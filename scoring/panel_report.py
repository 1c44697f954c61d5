"""Statistics beside the ranking: disagreement, leniency, calibration and how robust a selection is.

Advisory figures for the manager and the panel; they change the ranking only
where the programme says so (`scoring.rank_by`). Everything is formatted to
fixed decimals here so out/ranking.csv stays byte-identical across runs; the
bootstrap is seeded from the round's `seed`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.calibration import CALIBRATORS, ZScoreCalibrator
from scoring.pipeline import RoundResult
from scoring.rules import Programme
from scoring.sensitivity import sensitivity_report, top_n_selector
from scoring.statistics import application_spread, expert_leniency, panel_agreement

PANEL_COLUMNS = (
    "score_calibrated",
    "spread_range",
    "spread_std",
    "deviant_experts",
    "p_selected_bootstrap",
    "p_selected_weights",
    "margin_to_cutoff",
    "fragile",
)


def _fixed(value: float, places: int) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{places}f}"


def _trimmed(values: pd.Series, trim_min: int) -> float:
    v = np.sort(values.to_numpy(dtype=float))
    if len(v) >= trim_min:
        v = v[1:-1]
    return float(v.mean())


def with_panel_columns(result: RoundResult, scores: pd.DataFrame, programme: Programme, *, seed: int,
                       n_resamples: int = 200) -> pd.DataFrame:
    """The ranking with the PANEL_COLUMNS added (empty for applications nobody scored)."""
    ranking = result.ranking.copy()
    totals = result.expert_totals
    if programme.scoring is None or totals.empty:
        return ranking
    trim_min = programme.scoring.trim_min_experts
    cal_name = programme.scoring.calibration if programme.scoring.calibration != "none" else "zscore"
    calibrated = CALIBRATORS[cal_name]().fit(totals).transform(totals)
    cal_panel = calibrated.groupby(C.SUBMISSION_ID)["calibrated_total"].apply(lambda s: _trimmed(s, trim_min))
    spread = application_spread(totals).set_index(C.SUBMISSION_ID)

    scored_ids = ranking[C.SUBMISSION_ID].isin(cal_panel.index)
    eligible = ranking.loc[scored_ids, C.SUBMISSION_ID]
    cap = programme.award.count_cap
    sens = sensitivity_report(
        totals, scores[scores[C.SUBMISSION_ID].isin(set(eligible))], programme,
        top_n_selector(cap, float(programme.scoring.pass_mark), eligible),
        n_resamples=n_resamples, random_state=seed,
    ).set_index(C.SUBMISSION_ID)

    sid = ranking[C.SUBMISSION_ID]
    ranking["score_calibrated"] = [_fixed(cal_panel.get(s, float("nan")), 2) for s in sid]
    ranking["spread_range"] = [_fixed(spread["range"].get(s, float("nan")), 2) for s in sid]
    ranking["spread_std"] = [_fixed(spread["std"].get(s, float("nan")), 2) for s in sid]
    ranking["deviant_experts"] = [spread["deviant_experts"].get(s, "") or "" for s in sid]
    ranking["p_selected_bootstrap"] = [_fixed(sens["p_selected_bootstrap"].get(s, float("nan")), 3) for s in sid]
    ranking["p_selected_weights"] = [_fixed(sens["p_selected_weights"].get(s, float("nan")), 3) for s in sid]
    ranking["margin_to_cutoff"] = [_fixed(sens["margin_to_cutoff"].get(s, float("nan")), 2) for s in sid]
    ranking["fragile"] = ["yes" if s in sens.index and bool(sens.at[s, "fragile"]) else "" for s in sid]
    return ranking


def panel_summary(result: RoundResult) -> dict:
    """Round-level agreement (ICC forms, Kendall's W) and per-expert leniency, JSON-ready and rounded."""
    totals = result.expert_totals
    if totals.empty:
        return {}
    agreement = panel_agreement(totals)
    leniency = expert_leniency(totals)
    cal = ZScoreCalibrator().fit(totals)

    def clean(v):
        if isinstance(v, (float, np.floating)):
            return None if math.isnan(v) else round(float(v), 4)
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, pd.DataFrame):
            return [clean(r) for r in v.to_dict("records")]
        return v

    return {
        "agreement": clean(agreement),
        "leniency": clean(leniency),
        "calibration": {"method": "zscore", "overall_mean": clean(cal.overall_mean_), "overall_sd": clean(cal.overall_sd_)},
    }
