"""Statistics beside the ranking: panel agreement, per-application spread, leniency.

These numbers are advisory: they flag disagreement for a manager to look at,
they never decide an outcome, so float arithmetic is fine here (the exact panel
score lives in scoring/aggregation.py).

Input of the frame-level functions: the long form of expert totals, columns
`expert_id`, `submission_id`, `expert_total` (0..100), one row per
(expert, application). Every function is vectorised (numpy over a padded
applications × panel-seat matrix), because a round may hold 20,000 applications.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scoring.codes import sorted_codes
from scoring.columns import EXPERT_ID, EXPERT_TOTAL, SUBMISSION_ID
from scoring.panels import _mad_of_others, _median_of_others, _Panels, _quiet

ICC_FORMS: tuple[str, ...] = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


# --- matrices: n targets (applications) × k judges (experts) --------------------


def _complete_matrix(matrix: Any) -> np.ndarray:
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"need an n-targets × k-judges matrix with n ≥ 2 and k ≥ 2, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("the matrix must be complete (every judge rates every target); found NaN/inf")
    return x


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den != 0 else float("nan")


def icc(matrix: Any) -> dict[str, float]:
    """The six Shrout & Fleiss (1979) intraclass correlations of a complete design.

    `matrix` is n targets × k judges. From the two-way ANOVA mean squares
    BMS (between targets), WMS (within targets), JMS (between judges) and EMS
    (residual):

    - ICC(1,1) = (BMS − WMS) / (BMS + (k−1)·WMS)      one-way random: each target its own judges
    - ICC(2,1) = (BMS − EMS) / (BMS + (k−1)·EMS + k·(JMS − EMS)/n)   two-way random judges
    - ICC(3,1) = (BMS − EMS) / (BMS + (k−1)·EMS)      two-way, these fixed judges (consistency)
    - ICC(1,k) = (BMS − WMS) / BMS                    reliability of the mean of k judges
    - ICC(2,k) = (BMS − EMS) / (BMS + (JMS − EMS)/n)
    - ICC(3,k) = (BMS − EMS) / BMS

    Returns those six (keys as above, "k" literal) plus n, k and the four mean
    squares. A zero denominator (e.g. all targets equal) gives NaN.
    """
    x = _complete_matrix(matrix)
    n, k = x.shape
    grand = x.mean()
    ss_total = float(((x - grand) ** 2).sum())
    ss_rows = float(k * ((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = float(n * ((x.mean(axis=0) - grand) ** 2).sum())
    ss_err = ss_total - ss_rows - ss_cols
    bms = ss_rows / (n - 1)
    wms = (ss_total - ss_rows) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = ss_err / ((n - 1) * (k - 1))
    return {
        "ICC(1,1)": _ratio(bms - wms, bms + (k - 1) * wms),
        "ICC(2,1)": _ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n),
        "ICC(3,1)": _ratio(bms - ems, bms + (k - 1) * ems),
        "ICC(1,k)": _ratio(bms - wms, bms),
        "ICC(2,k)": _ratio(bms - ems, bms + (jms - ems) / n),
        "ICC(3,k)": _ratio(bms - ems, bms),
        "n": float(n),
        "k": float(k),
        "BMS": bms,
        "WMS": wms,
        "JMS": jms,
        "EMS": ems,
    }


def kendalls_w(matrix: Any) -> float:
    """Kendall's coefficient of concordance W, with the correction for ties.

    `matrix` is n targets × m judges; each judge's scores are ranked over the
    targets (ties get their average rank). With R_i the rank sum of target i,
    S = Σ(R_i − mean R)² and T_j = Σ(t³ − t) over judge j's tie groups:
    W = 12·S / (m²·(n³ − n) − m·Σ T_j). 1 = every judge orders the targets the
    same way, 0 = no agreement. NaN when every judge tied every target.
    """
    from scipy.stats import rankdata  # imported here: scipy.stats costs ~1 s and only W needs it

    x = _complete_matrix(matrix)
    n, m = x.shape
    ranks = rankdata(x, axis=0)
    r = ranks.sum(axis=1)
    s = float(((r - r.mean()) ** 2).sum())
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(x[:, j], return_counts=True)
        ties += float((counts.astype(float) ** 3 - counts).sum())
    return _ratio(12.0 * s, m * m * (n**3 - n) - m * ties)


def application_spread(
    expert_totals: pd.DataFrame,
    *,
    deviation_points: float | None = 20.0,
    robust_z: float | None = None,
    robust_scale_floor: float = 5.0,
    min_panel: int = 3,
) -> pd.DataFrame:
    """Per application: how far its experts' totals are apart, and who stands out.

    Columns: submission_id, n, min, max, range, std (ddof=1; NaN for one
    expert), max_deviation (largest |total − median of the other experts|),
    deviant (bool), deviant_experts (expert ids, sorted, joined by ", ").

    The deviation rule (an expert is flagged when either enabled test fires):
    - `deviation_points` (default 20): |total − median of the others' totals| > 20 points;
    - `robust_z` (default off; e.g. 3): |total − median of others| /
      max(1.4826·MAD of the others, `robust_scale_floor`) > robust_z. The floor
      (default 5 points) stops a panel of identical others from turning a 1-point
      difference into an infinite z.
    Flags need a panel of at least `min_panel` (default 3) experts: with two,
    the rule cannot tell which of them deviates (range and std still show it).
    Output is sorted by submission_id.
    """
    p = _Panels(expert_totals)
    v = p.values
    with _quiet():
        lo, hi = np.nanmin(v, axis=1), np.nanmax(v, axis=1)
        std = np.nanstd(v, axis=1, ddof=1)
    std[p.n < 2] = np.nan
    med = _median_of_others(v)
    dev = np.abs(v - med)
    flag = np.zeros(v.shape, dtype=bool)
    if deviation_points is not None:
        flag |= dev > deviation_points
    if robust_z is not None:
        scale = np.maximum(1.4826 * _mad_of_others(v, med), robust_scale_floor)
        flag |= dev / scale > robust_z
    flag &= (p.n >= min_panel)[:, None]
    flag &= ~np.isnan(v)
    with _quiet():
        max_dev = np.nanmax(np.where(np.isnan(dev), -np.inf, dev), axis=1)
    max_dev[~np.isfinite(max_dev)] = np.nan
    names = np.asarray(p.experts, dtype=object)
    deviant_ids = [""] * len(p.submissions)
    for row in np.flatnonzero(flag.any(axis=1)):  # only the flagged few, not every application
        deviant_ids[row] = ", ".join(names[p.codes[row, flag[row]]])
    return pd.DataFrame(
        {
            SUBMISSION_ID: np.asarray(p.submissions, dtype=object),
            "n": p.n.astype("int64"),
            "min": lo,
            "max": hi,
            "range": hi - lo,
            "std": std,
            "max_deviation": max_dev,
            "deviant": flag.any(axis=1),
            "deviant_experts": deviant_ids,
        }
    )


def _by_application(expert_totals: pd.DataFrame) -> pd.Series | np.ndarray:
    """The grouping key of applications: integer codes (found once) unless an id is missing."""
    codes, _ = sorted_codes(expert_totals[SUBMISSION_ID])
    return expert_totals[SUBMISSION_ID] if (codes < 0).any() else codes


def within_panel_z(expert_totals: pd.DataFrame) -> pd.Series:
    """Each total's z-score within its own application's panel, aligned to the input rows.

    z = (x − panel mean) / panel sd (ddof=1) over the experts who scored that
    application. A one-expert panel gives NaN (no comparison possible); an
    all-equal panel gives 0. Because x − mean(all k) = (k−1)/k · (x − mean of
    the other k−1), a positive z means "above what the co-panelists gave".
    """
    totals = expert_totals[EXPERT_TOTAL].astype(float)
    return _within_panel_z(totals, totals.groupby(_by_application(expert_totals), sort=False))


def _within_panel_z(totals: pd.Series, grouped: "pd.core.groupby.SeriesGroupBy") -> pd.Series:
    mean = grouped.transform("mean")
    sd = grouped.transform("std")
    z = (totals - mean) / sd
    return z.where(sd != 0, 0.0).where(sd.notna())


def expert_leniency(expert_totals: pd.DataFrame) -> pd.DataFrame:
    """Per expert: n_scored, leniency (mean within-panel z), mean_offset (points).

    leniency = mean over the expert's applications of the within-panel z-score
    (see `within_panel_z`); +0.5 means the expert typically scores half a
    panel-sd above the co-panelists. mean_offset = mean of (total − mean of the
    other experts' totals on the same application), in points: the same idea in
    the unit a manager reads. n_compared counts the applications with at least
    one co-panelist (the others give no comparison). Sorted by expert_id.
    """
    totals = expert_totals[EXPERT_TOTAL].astype(float)
    by_sub = totals.groupby(_by_application(expert_totals), sort=False)
    size = by_sub.transform("size")
    others_mean = (by_sub.transform("sum") - totals) / (size - 1)
    offset = (totals - others_mean).where(size > 1)
    z = _within_panel_z(totals, by_sub)
    codes, experts = sorted_codes(expert_totals[EXPERT_ID])
    key = expert_totals[EXPERT_ID] if (codes < 0).any() else codes  # grouped by codes: each id hashed once
    by_expert = pd.DataFrame({"t": totals, "c": z.notna(), "z": z, "o": offset}).groupby(key, sort=True)
    out = pd.DataFrame(
        {
            "n_scored": by_expert.size(),
            "n_compared": by_expert["c"].sum(),
            "mean_total": by_expert["t"].mean(),
            "leniency": by_expert["z"].mean(),
            "mean_offset": by_expert["o"].mean(),
        }
    )
    if key is codes:
        out.index = pd.Index(experts[out.index.to_numpy()], dtype=object if experts.dtype == object else None)
    out.index.name = EXPERT_ID
    return out.reset_index()


# --- panel agreement of a round -------------------------------------------------


def _one_way(values: np.ndarray, n: np.ndarray) -> tuple[float, float, float]:
    """One-way random-effects ICC for panels of unequal size: (ICC(1,1), ICC(1,k), k0).

    Unbalanced one-way ANOVA (each application its own judges): BMS and WMS
    from group means; the panel size is the usual effective size
    k0 = (N − Σ nᵢ²/N) / (a − 1). With equal panels this is Shrout–Fleiss ICC(1,·).
    """
    a, big_n = len(n), float(n.sum())
    if a < 2 or big_n - a <= 0:
        return float("nan"), float("nan"), float("nan")
    with _quiet():
        means = np.nanmean(values, axis=1)
    grand = float(np.nansum(values) / big_n)
    bms = float((n * (means - grand) ** 2).sum()) / (a - 1)
    wms = float(np.nansum((values - means[:, None]) ** 2)) / (big_n - a)
    k0 = (big_n - float((n.astype(float) ** 2).sum()) / big_n) / (a - 1)
    return _ratio(bms - wms, bms + (k0 - 1) * wms), _ratio(bms - wms, bms), k0


def _distinct_rows(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(codes, axis=0) with inverse and counts: each row read as one integer when it fits.

    The digits (code + 1, base n_codes + 1, first seat most significant) keep the
    rows' lexicographic order, so the result is the same, in the same order.
    """
    base, width = n_codes + 1, codes.shape[1]
    if width and base ** width < 2**62:
        key = (codes + 1) @ (base ** np.arange(width - 1, -1, -1, dtype=np.int64))
        _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        return codes[first], inverse.ravel(), counts
    keys, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    return keys, inverse.ravel(), counts


def panel_agreement(expert_totals: pd.DataFrame, *, min_block_applications: int = 3) -> dict[str, Any]:
    """Agreement of a round's panels: the six Shrout–Fleiss ICCs and Kendall's W, honestly scoped.

    A round is usually an *incomplete* design: each application has its own k
    experts drawn from a pool, so experts are not crossed with applications.
    What is computed, and from what:

    - `ICC(1,1)`, `ICC(1,k)`: the one-way random model (Shrout–Fleiss case 1,
      "each target rated by a different set of judges") is the model that fits
      this design. Computed over every application with ≥ 2 experts, by the
      unbalanced one-way ANOVA with effective panel size `k_mean` (k0); with
      equal panels it is exactly Shrout–Fleiss ICC(1,1)/ICC(1,k).
    - `ICC(2,1)`, `ICC(3,1)`, `ICC(2,k)`, `ICC(3,k)` and `kendall_w` need a
      complete block: the same experts scoring the same applications. They are
      computed per *panel group* (applications scored by exactly the same set
      of experts, at least `min_block_applications` of them) and the top-level
      values are those of the largest group (`block_*` keys say which).
      Groups are listed in `blocks`, largest first. When no group is large
      enough — typical for a randomised assignment from a big pool — these
      values are NaN and `note` says so; they are not estimated from a
      different model. When every application has the same panel the design is
      `complete` and all six come from the whole round.

    Keys: design, n_applications, n_experts, n_scores, k_mean, the six ICC
    forms, kendall_w, block_n_applications, block_experts, blocks (list of
    dicts: experts, n_applications, k, the six forms, kendall_w), note.
    """
    p = _Panels(expert_totals)
    multi = p.n >= 2
    icc11, icc1k, k0 = _one_way(p.values[multi], p.n[multi])
    blocks: list[dict[str, Any]] = []
    if multi.any():
        keys, inverse, counts = _distinct_rows(p.codes[multi], len(p.experts))
        names = np.asarray(p.experts, dtype=object)
        values = p.values[multi]
        for g in np.flatnonzero(counts >= max(min_block_applications, 2)):
            k = int((keys[g] >= 0).sum())
            m = values[inverse == g][:, :k]
            stats = icc(m)
            blocks.append(
                {
                    "experts": tuple(names[keys[g][:k]]),
                    "n_applications": int(counts[g]),
                    "k": k,
                    **{f: stats[f] for f in ICC_FORMS},
                    "kendall_w": kendalls_w(m),
                }
            )
        blocks.sort(key=lambda b: (-b["n_applications"], -b["k"], b["experts"]))
    complete = bool(multi.all()) and len(p.submissions) >= 2 and len(blocks) == 1 and (
        blocks[0]["n_applications"] == len(p.submissions)
    )
    nan = float("nan")
    best = blocks[0] if blocks else None
    if complete:
        note = "complete design: every application scored by the same experts; all six forms from the whole round"
    elif best is not None:
        note = (
            f"incomplete design: ICC(1,·) from all {int(multi.sum())} applications with ≥ 2 experts "
            f"(one-way, k0 = {k0:.2f}); ICC(2,·), ICC(3,·) and Kendall's W from the largest panel group "
            f"({best['n_applications']} applications × {best['k']} experts)"
        )
    else:
        note = (
            f"incomplete design: ICC(1,·) from all {int(multi.sum())} applications with ≥ 2 experts "
            f"(one-way, k0 = {k0:.2f}); no group of ≥ {min_block_applications} applications shares one "
            "panel, so ICC(2,·), ICC(3,·) and Kendall's W are not defined for this round (NaN)"
        )
    return {
        "design": "complete" if complete else "incomplete",
        "n_applications": int(len(p.submissions)),
        "n_experts": int(len(p.experts)),
        "n_scores": int(p.n.sum()),
        "k_mean": k0,
        "ICC(1,1)": icc11,
        "ICC(1,k)": icc1k,
        "ICC(2,1)": best["ICC(2,1)"] if best else nan,
        "ICC(3,1)": best["ICC(3,1)"] if best else nan,
        "ICC(2,k)": best["ICC(2,k)"] if best else nan,
        "ICC(3,k)": best["ICC(3,k)"] if best else nan,
        "kendall_w": best["kendall_w"] if best else nan,
        "block_n_applications": best["n_applications"] if best else 0,
        "block_experts": best["experts"] if best else (),
        "blocks": blocks,
        "note": note,
    }
