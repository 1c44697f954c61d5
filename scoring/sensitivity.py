"""Ranking sensitivity: how robust is each selection to the panel and to the weights?

Advisory statistics printed beside the ranking; they never change an outcome.
Float arithmetic is therefore fine here (the exact panel score that decides
money lives in scoring/aggregation.py); panel scores are nevertheless rounded
half-up to 2 decimals like the real ones, so that the base case matches.

- `bootstrap_selection`: resample each application's panel with replacement
  (its n expert totals → n draws from them), re-aggregate, re-select; the share
  of resamples in which the application is selected is `p_selected`.
- `weight_perturbation`: move each criterion weight up and down by 10 %
  (renormalised so the weights sum to 100), recompute every expert total and
  panel score, re-select; `p_selected` is the share of those 2·c scenarios.
- `margin_to_cutoff`: points an application can lose before dropping out
  (selected), or must gain to get in (not selected, negative).

Selection is the caller's rule: `select_fn(frame) -> selected`, where `frame`
has `submission_id` (sorted, the same order on every call) and `score`, and
the result is a collection of submission ids or a boolean mask aligned to the
frame. `top_n_selector` gives the common "pass mark, then best N" rule.

Vectorised: the panels are one padded applications × seats matrix; the only
Python loops run over resamples or weight scenarios, never over applications.
Randomness only through `random_state` → `numpy.random.default_rng`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from scoring.columns import CRITERION, EXPERT_ID, EXPERT_TOTAL, SCORE, SCORE_UNITS, SUBMISSION_ID
from scoring.rules import Programme

SelectFn = Callable[[pd.DataFrame], Any]
P_SELECTED = "p_selected"
_BLOCK_CELLS = 2_000_000  # random draws per bootstrap block (~16 MB of float64 per array)
SELECTED = "selected"
MARGIN = "margin_to_cutoff"
FRAGILE = "fragile"


# --- panels and aggregation ----------------------------------------------------------


def _padded(long: pd.DataFrame, value_cols: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(submission ids sorted, panel sizes, values[N, K, len(value_cols)] NaN-padded)."""
    ordered = long.sort_values([SUBMISSION_ID, EXPERT_ID], kind="stable")
    codes, subs = pd.factorize(ordered[SUBMISSION_ID], sort=True)
    n = np.bincount(codes, minlength=len(subs))
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    seat = np.arange(len(ordered)) - np.repeat(starts, n)
    values = np.full((len(subs), int(n.max()) if len(subs) else 0, len(value_cols)), np.nan)
    values[codes, seat] = ordered[value_cols].to_numpy(dtype=float)
    return np.asarray(subs, dtype=object), n, values


def aggregate_panels(
    values: np.ndarray, n: np.ndarray, *, aggregation: str = "trimmed_mean", trim_min_experts: int = 5,
    decimals: int | None = 2,
) -> np.ndarray:
    """Panel scores of padded panels, vectorised over every leading axis.

    `values[..., N, K]` holds each application's totals in its first n[i] seats
    (the rest NaN). `trimmed_mean` drops one highest and one lowest when
    n ≥ trim_min_experts (去掉一个最高分和一个最低分), else the mean; `mean`;
    `median`. Rounded half-up to `decimals` (None: not rounded).
    """
    if aggregation in ("trimmed_mean", "mean"):
        # pad the empty seats with a copy of seat 0: max and min are unchanged, and the sum is corrected
        # by the number of copies — one masked copy instead of three (this runs 200× per bootstrap)
        first = values[..., :1]
        filled = np.where(np.isnan(values), first, values)
        total = filled.sum(axis=-1) - (values.shape[-1] - n) * first[..., 0]
        score = _trim(filled, total, n, aggregation, trim_min_experts)
    elif aggregation == "median":
        ordered = np.sort(values, axis=-1)  # NaN padding sorts last
        lo_i = np.broadcast_to((n - 1) // 2, ordered.shape[:-1])[..., None]
        hi_i = np.broadcast_to(n // 2, ordered.shape[:-1])[..., None]
        score = (np.take_along_axis(ordered, lo_i, -1) + np.take_along_axis(ordered, hi_i, -1))[..., 0] / 2
    else:
        raise ValueError(f"unknown aggregation {aggregation!r}; valid: mean, median, trimmed_mean")
    return _round_half_up(score, decimals)


def _trim(filled: np.ndarray, total: np.ndarray, n: np.ndarray, aggregation: str, trim_min: int) -> np.ndarray:
    if aggregation == "mean":
        return total / n
    trim = n >= trim_min
    if filled.shape[-1]:
        # seats first, contiguous: max/min become element-wise over long rows (exact in any order),
        # several times faster than reducing the short last axis
        seats = np.ascontiguousarray(np.moveaxis(filled, -1, 0))
        hi, lo = seats.max(axis=0), seats.min(axis=0)
    else:
        hi, lo = filled.max(axis=-1), filled.min(axis=-1)
    return np.where(trim, (total - hi - lo) / np.maximum(n - 2, 1), total / n)


def _round_half_up(score: np.ndarray, decimals: int | None) -> np.ndarray:
    if decimals is None:
        return score
    scale = 10.0**decimals
    return np.floor(score * scale + 0.5 + 1e-9) / scale  # half-up; the epsilon absorbs binary noise


def _selected_mask(select_fn: SelectFn, subs: np.ndarray, scores: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({SUBMISSION_ID: subs, SCORE: scores})
    result = select_fn(frame)
    if isinstance(result, (np.ndarray, pd.Series)) and result.dtype == bool:
        mask = np.asarray(result)
        if mask.shape != subs.shape:
            raise ValueError(f"select_fn returned a mask of length {len(mask)} for {len(subs)} applications")
        return mask
    return pd.Index(subs).isin(list(result))


def top_n_selector(count: int | None, pass_mark: float = 60.0, eligible: Iterable[str] | None = None) -> SelectFn:
    """A select_fn: eligible applications at or above `pass_mark`, then the best `count` (None: all).

    Ties at the boundary are broken by submission_id (the real round stops for
    a manager's decision there; for a sensitivity estimate an arbitrary but
    fixed order is enough).
    """
    allowed = None if eligible is None else frozenset(eligible)

    def select(frame: pd.DataFrame) -> np.ndarray:
        score = frame[SCORE].to_numpy(dtype=float)
        ok = score >= pass_mark
        if allowed is not None:
            ok &= frame[SUBMISSION_ID].isin(allowed).to_numpy()
        if count is None or ok.sum() <= count:
            return ok
        # O(N): everything above the count-th best score, then the tied ones at it by submission_id
        cand = score[ok]
        line = np.partition(cand, len(cand) - count)[len(cand) - count]
        mask = ok & (score > line)
        at_line = np.flatnonzero(ok & (score == line))  # frame is sorted by submission_id
        mask[at_line[: count - int(mask.sum())]] = True
        return mask

    select.top_n = (count, float(pass_mark), allowed)  # type: ignore[attr-defined]  # lets the bootstrap batch it
    return select


def _top_n_rows(rule: tuple[int | None, float, frozenset[str] | None], subs: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """`top_n_selector`'s rule applied to every row of scores[R, N] at once (same result as row by row)."""
    count, pass_mark, allowed = rule
    ok = scores >= pass_mark
    if allowed is not None:
        ok &= pd.Index(subs).isin(allowed)[None, :]
    if count is None:
        return ok
    over = ok.sum(axis=1) > count  # rows where the count binds; the others keep every passing one
    if not over.any():
        return ok
    cand = np.where(ok[over], scores[over], -np.inf)  # the count-th best passing score is the line
    width = cand.shape[1]
    line = np.partition(cand, width - count, axis=1)[:, width - count][:, None]
    mask = ok[over] & (cand > line)
    at_line = ok[over] & (cand == line)
    need = count - mask.sum(axis=1)  # the tied ones at the line, by submission_id (column order)
    mask |= at_line & (np.cumsum(at_line, axis=1) <= need[:, None])
    out = ok.copy()
    out[over] = mask
    return out


# --- bootstrap over panels -----------------------------------------------------------


def bootstrap_selection(
    expert_totals: pd.DataFrame,
    select_fn: SelectFn,
    n_resamples: int = 200,
    random_state: int | None = 0,
    *,
    aggregation: str = "trimmed_mean",
    trim_min_experts: int = 5,
    decimals: int | None = 2,
) -> pd.DataFrame:
    """Probability of selection when each application's panel is resampled with replacement.

    `expert_totals`: expert_id, submission_id, expert_total. In each resample an
    application with n experts gets n totals drawn with replacement from its own
    n, aggregated by the programme's rule. Returns submission_id, score (base
    panel score), selected (base), p_selected (share of resamples), sorted by
    submission_id. Same inputs and `random_state` → identical output.
    """
    subs, n, values = _padded(expert_totals, [EXPERT_TOTAL])
    values = values[..., 0]
    agg = dict(aggregation=aggregation, trim_min_experts=trim_min_experts, decimals=decimals)
    base = aggregate_panels(values, n, **agg)
    base_sel = _selected_mask(select_fn, subs, base)
    rng = np.random.default_rng(random_state)
    rule = getattr(select_fn, "top_n", None)
    if rule is not None and rule[0] is not None and rule[0] <= 0:
        rule = None  # degenerate; the generic path reports it as before
    pad = np.arange(values.shape[1])[None, :] >= n[:, None]
    has_pad = bool(pad.any())
    width = values.shape[1]
    flat = values.ravel()
    idx_type = np.int32 if values.size < 2**31 else np.intp  # int32 offsets: a faster take
    base_idx = (np.arange(len(subs)) * width).astype(idx_type)[:, None]
    hits = np.zeros(len(subs), dtype=np.int64)
    # Resamples in blocks: one rng.random((r, N, K)) yields exactly the numbers of r successive
    # rng.random((N, K)) calls, so the stream (and every p_selected) is that of one draw per resample.
    block = max(1, _BLOCK_CELLS // max(values.size, 1))
    for first in range(0, n_resamples, block):
        r = min(block, n_resamples - first)
        draw = rng.random((r, *values.shape))
        pick = np.multiply(draw, n[:, None], out=draw).astype(idx_type)  # seat < K; int32 casts faster
        if has_pad:
            pick = np.where(pad, pick[..., :1], pick)  # empty seats repeat seat 0's draw (see aggregate_panels)
        pick += base_idx
        sample = flat.take(pick)  # (r, N, K); take is faster than fancy indexing
        if aggregation == "median":
            sample[:, pad] = np.nan
            score = aggregate_panels(sample, n, **agg)
        else:
            total = sample.sum(axis=-1)
            if has_pad:  # without padding the correction is − 0 × seat 0, which changes nothing
                total -= (width - n) * sample[..., 0]
            score = _round_half_up(_trim(sample, total, n, aggregation, trim_min_experts), decimals)
        if rule is not None:
            hits += _top_n_rows(rule, subs, score).sum(axis=0)
        else:
            for row in score:
                hits += _selected_mask(select_fn, subs, row)
    return pd.DataFrame(
        {SUBMISSION_ID: subs, SCORE: base, SELECTED: base_sel, P_SELECTED: hits / max(n_resamples, 1)}
    )


# --- weights moved ±10 % -------------------------------------------------------------


def perturbed_weights(weights: np.ndarray, step: float = 0.10) -> np.ndarray:
    """Scenarios × criteria: each weight in turn × (1 + step) and × (1 − step), renormalised to 100."""
    w = np.asarray(weights, dtype=float)
    c = len(w)
    factors = np.ones((2 * c, c))
    factors[np.arange(c), np.arange(c)] = 1 + step
    factors[c + np.arange(c), np.arange(c)] = 1 - step
    scen = factors * w
    return scen / scen.sum(axis=1, keepdims=True) * 100.0


def weight_perturbation(
    scores: pd.DataFrame,
    programme: Programme,
    select_fn: SelectFn,
    *,
    step: float = 0.10,
    decimals: int | None = 2,
) -> pd.DataFrame:
    """Probability of selection over the 2·c scenarios that move one weight by ±`step`.

    `scores`: long form expert_id, submission_id, criterion and either
    `score_units` (exact integers, as from intake; divided by 10**score_decimals)
    or `score` (points). Each scenario recomputes every expert total
    Σ score/max × w' and every panel score by the programme's aggregation.
    Returns submission_id, score (base), selected (base), p_selected,
    score_min, score_max (panel score range over the scenarios).
    """
    assert programme.scoring is not None
    crit = [c.id for c in programme.criteria]
    if SCORE_UNITS in scores.columns:
        points = scores[SCORE_UNITS].astype(float) / 10**programme.scoring.score_decimals
    else:
        points = scores[SCORE].astype(float)
    maxes = pd.Series({c.id: float(c.max_points) for c in programme.criteria})
    crit_idx = pd.Index(crit).get_indexer(scores[CRITERION])
    if (crit_idx < 0).any():
        raise ValueError(f"scores name criteria outside the programme: {sorted(set(scores[CRITERION]) - set(crit))}")
    frac = points.to_numpy() / maxes.to_numpy()[crit_idx]
    groups = scores.groupby([SUBMISSION_ID, EXPERT_ID], sort=True)
    pair = groups.ngroup().to_numpy()
    keys = groups.size().index.to_frame(index=False)
    matrix = np.zeros((len(keys), len(crit)))  # (expert, application) pairs × criteria, as score/max
    matrix[pair, crit_idx] = frac
    base_w = np.array([float(c.weight) for c in programme.criteria])
    weights = np.vstack([base_w, perturbed_weights(base_w, step)])  # row 0 = the programme's weights
    totals = matrix @ weights.T  # (pairs, scenarios)
    long = pd.concat([keys, pd.DataFrame(totals, columns=[f"w{i}" for i in range(len(weights))])], axis=1)
    subs, n, values = _padded(long, [f"w{i}" for i in range(len(weights))])
    panel = aggregate_panels(
        np.moveaxis(values, -1, 0), n, aggregation=programme.scoring.aggregation,
        trim_min_experts=programme.scoring.trim_min_experts, decimals=decimals,
    )  # (scenarios, N)
    chosen = np.vstack([_selected_mask(select_fn, subs, s) for s in panel])
    return pd.DataFrame(
        {
            SUBMISSION_ID: subs,
            SCORE: panel[0],
            SELECTED: chosen[0],
            P_SELECTED: chosen[1:].mean(axis=0),
            "score_min": panel[1:].min(axis=0),
            "score_max": panel[1:].max(axis=0),
        }
    )


# --- margin and the combined view ----------------------------------------------------


def margin_to_cutoff(panel: pd.DataFrame, selected: Any, *, pass_mark: float | None = None) -> pd.DataFrame:
    """Distance of each application's score from the line that decides it.

    `panel`: submission_id, score of the competing applications (pass only
    eligible ones); `selected`: ids or a mask aligned to `panel`.
    - selected: score − max(best unselected score, pass_mark) — how many points
      it could lose before the best unselected one (or the pass mark) overtakes it;
    - not selected: score − max(lowest selected score, pass_mark) — negative,
      the points it lacks. 0 means level with the line (a tie).
    NaN where there is no line (nobody unselected and no pass mark, etc.).
    Exact for a pure "pass mark then best N" rule; with per-enterprise or budget
    caps it is the score distance, not a guarantee.
    """
    subs = panel[SUBMISSION_ID].to_numpy(dtype=object)
    score = panel[SCORE].to_numpy(dtype=float)
    mask = (
        np.asarray(selected, dtype=bool)
        if isinstance(selected, (np.ndarray, pd.Series)) and np.asarray(selected).dtype == bool
        else pd.Index(subs).isin(list(selected))
    )
    floor = -np.inf if pass_mark is None else float(pass_mark)
    best_out = score[~mask].max() if (~mask).any() else -np.inf
    worst_in = score[mask].min() if mask.any() else -np.inf
    line_in, line_out = max(best_out, floor), max(worst_in, floor)
    margin = np.where(mask, score - line_in, score - line_out)
    margin[np.isinf(margin)] = np.nan
    return pd.DataFrame({SUBMISSION_ID: subs, SCORE: score, SELECTED: mask, MARGIN: margin})


def sensitivity_report(
    expert_totals: pd.DataFrame,
    scores: pd.DataFrame,
    programme: Programme,
    select_fn: SelectFn,
    *,
    n_resamples: int = 200,
    random_state: int | None = 0,
    pass_mark: float | None = None,
    fragile_below: float = 0.8,
) -> pd.DataFrame:
    """The columns for out/ranking.csv: p_selected_bootstrap, p_selected_weights, margin_to_cutoff, fragile.

    `fragile` marks a *selected* application that stays selected in fewer than
    `fragile_below` (default 80 %) of the panel resamples or of the weight
    scenarios. Sorted by submission_id.
    """
    assert programme.scoring is not None
    boot = bootstrap_selection(
        expert_totals, select_fn, n_resamples, random_state,
        aggregation=programme.scoring.aggregation, trim_min_experts=programme.scoring.trim_min_experts,
    )
    weights = weight_perturbation(scores, programme, select_fn)
    pm = float(programme.scoring.pass_mark) if pass_mark is None else pass_mark
    margin = margin_to_cutoff(boot[[SUBMISSION_ID, SCORE]], boot[SELECTED].to_numpy(), pass_mark=pm)
    out = boot[[SUBMISSION_ID, SCORE, SELECTED]].copy()
    out["p_selected_bootstrap"] = boot[P_SELECTED].to_numpy()
    out["p_selected_weights"] = weights.set_index(SUBMISSION_ID)[P_SELECTED].reindex(boot[SUBMISSION_ID]).to_numpy()
    out[MARGIN] = margin[MARGIN].to_numpy()
    out[FRAGILE] = out[SELECTED] & (
        (out["p_selected_bootstrap"] < fragile_below) | (out["p_selected_weights"] < fragile_below)
    )
    return out
