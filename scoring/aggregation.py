"""From expert scores to panel scores, exactly.

Scores arrive as exact integers (`score_units` = score × 10**score_decimals).
An expert's total Σ score/max × weight is kept as an exact integer numerator
over a common denominator, and the panel score is rounded half-up to hundredths
with integer arithmetic: no floating-point value ever decides money.

Aggregators are chosen by name from `AGGREGATORS`. Each maps one application's
expert values to an exact fraction num / (m × den): `trimmed_mean` drops one
highest and one lowest value when there are at least `trim_min_experts` of them
(去掉一个最高分和一个最低分), `mean` is the plain mean, `median` the median.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Callable

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.rules import Programme

TOTAL_NUM = "total_num"


@dataclass(frozen=True)
class Scale:
    """Exact scale of expert totals: total (0..100) = total_num / total_den."""

    coef: dict[str, int]
    total_den: int
    unit: int  # 10 ** score_decimals


def total_scale(programme: Programme) -> Scale:
    assert programme.scoring is not None
    unit = 10 ** programme.scoring.score_decimals
    factors = {c.id: Fraction(c.weight) / Fraction(c.max_points) for c in programme.criteria}
    den = lcm(*(f.denominator for f in factors.values()))
    coef = {cid: int(f * den) for cid, f in factors.items()}
    return Scale(coef=coef, total_den=den * unit, unit=unit)


def expert_totals(scores: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """One row per (submission, expert): exact numerator and the total as a float for display."""
    scale = total_scale(programme)
    weighted = scores[C.SCORE_UNITS].astype("int64") * scores[C.CRITERION].map(scale.coef).astype("int64")
    frame = pd.DataFrame({C.SUBMISSION_ID: scores[C.SUBMISSION_ID], C.EXPERT_ID: scores[C.EXPERT_ID], TOTAL_NUM: weighted})
    out = frame.groupby([C.SUBMISSION_ID, C.EXPERT_ID], sort=True, as_index=False)[TOTAL_NUM].sum()
    out[C.EXPERT_TOTAL] = out[TOTAL_NUM] / scale.total_den
    return out


# --- aggregators: (values grouped by submission) -> (num, m) ------------------------------------

Aggregator = Callable[[pd.DataFrame, str, int], pd.DataFrame]


def _stats(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    g = frame.groupby(C.SUBMISSION_ID, sort=True)[value]
    return pd.DataFrame({"n": g.size(), "sum": g.sum(), "max": g.max(), "min": g.min()})


def _trimmed_mean(frame: pd.DataFrame, value: str, trim_min: int) -> pd.DataFrame:
    s = _stats(frame, value)
    trim = s["n"] >= trim_min
    num = s["sum"] - np.where(trim, s["max"] + s["min"], 0)
    m = s["n"] - np.where(trim, 2, 0)
    return pd.DataFrame({"num": num.astype("int64"), "m": m.astype("int64"), "n": s["n"]})


def _mean(frame: pd.DataFrame, value: str, trim_min: int) -> pd.DataFrame:
    s = _stats(frame, value)
    return pd.DataFrame({"num": s["sum"].astype("int64"), "m": s["n"].astype("int64"), "n": s["n"]})


def _median(frame: pd.DataFrame, value: str, trim_min: int) -> pd.DataFrame:
    ordered = frame.sort_values([C.SUBMISSION_ID, value], kind="stable")
    g = ordered.groupby(C.SUBMISSION_ID, sort=True)[value]
    n = g.size()
    pos = g.cumcount().to_numpy()
    size = n.reindex(ordered[C.SUBMISSION_ID]).to_numpy()
    lo, hi = (size - 1) // 2, size // 2
    take = (pos == lo) | (pos == hi)
    picked = ordered.loc[take].groupby(C.SUBMISSION_ID, sort=True)[value]
    num = picked.sum()
    m = picked.size()  # 1 for odd n (lo == hi), 2 for even n
    return pd.DataFrame({"num": num.astype("int64"), "m": m.astype("int64"), "n": n})


AGGREGATORS: dict[str, Aggregator] = {
    "trimmed_mean": _trimmed_mean,
    "mean": _mean,
    "median": _median,
}


def round_half_up_cents(num: int, den: int) -> int:
    """round(num/den, 2) half-up, returned in hundredths; exact for non-negative values."""
    if num < 0 or den <= 0:
        raise ValueError("panel values are non-negative")
    return (200 * num + den) // (2 * den)


def panel_scores(totals: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per submission: n_experts, the exact panel score and `score_cents` (rounded half-up)."""
    assert programme.scoring is not None
    scale = total_scale(programme)
    agg = AGGREGATORS[programme.scoring.aggregation](totals, TOTAL_NUM, programme.scoring.trim_min_experts)
    dens = [int(m) * scale.total_den for m in agg["m"]]
    out = pd.DataFrame(index=agg.index)
    out[C.N_EXPERTS] = agg["n"].astype("int64")
    out["panel_exact"] = [Fraction(int(n), d) for n, d in zip(agg["num"], dens)]
    out[C.SCORE_CENTS] = [round_half_up_cents(int(n), d) for n, d in zip(agg["num"], dens)]
    out.index.name = C.SUBMISSION_ID
    return out.reset_index()


def criterion_values(scores: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per submission, each tie-break criterion's own panel value (aggregated like the total, not rounded).

    One integer column per criterion id: the exact value on a scale common to the
    whole cohort (value × L for the least common multiple L of the panel
    divisors), so the values compare exactly and sort fast.
    """
    assert programme.scoring is not None
    agg_fn = AGGREGATORS[programme.scoring.aggregation]
    ids = pd.Index(sorted(scores[C.SUBMISSION_ID].unique()), name=C.SUBMISSION_ID)
    frame = pd.DataFrame(index=ids)
    for cid in programme.scoring.tie_break:
        part = scores[scores[C.CRITERION] == cid]
        agg = agg_fn(part, C.SCORE_UNITS, programme.scoring.trim_min_experts).reindex(ids)
        m = agg["m"].to_numpy()
        common = lcm(*(int(x) for x in np.unique(m))) if len(m) else 1
        frame[cid] = (agg["num"].to_numpy(dtype="int64") * (common // m)).astype("int64")
    return frame.reset_index()


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
