"""From expert scores to panel scores, exactly.

Scores arrive as exact integers (`score_units` = score × 10**score_decimals).
An expert's total Σ score/max × weight is kept as an exact integer numerator
over a common denominator, and the panel score is rounded half-up to hundredths
with integer arithmetic: no floating-point value ever decides money.

Aggregators are chosen by name from `AGGREGATORS`. Each maps one application's
expert values to an exact fraction num / (m × den): `trimmed_mean` drops one
highest and one lowest value when there are at least `trim_min_experts` of them
(去掉一个最高分和一个最低分), `mean` is the plain mean, `median` the median.

Vectorised on integer codes: each id column is hashed once, rows are put in
application order (already so for scores from intake, which is only checked),
and every sum, maximum and minimum is a `reduceat` over int64 runs, so a round
of 500,000 score rows aggregates in milliseconds and stays exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Callable, Collection

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.codes import sorted_codes
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


# --- rows grouped by application ---------------------------------------------------------------


@dataclass(frozen=True)
class _Runs:
    """Rows in key order as runs of equal keys: `order` (None when already in order), run starts and keys."""

    order: np.ndarray | None
    starts: np.ndarray
    keys: np.ndarray
    n_rows: int

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(np.append(self.starts, self.n_rows))

    def take(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]

    def sum(self, values: np.ndarray) -> np.ndarray:
        v = self.take(values)
        return np.add.reduceat(v, self.starts) if len(self.starts) else v[:0]


def _runs(key: np.ndarray) -> _Runs:
    """Group rows by an integer key; a stable sort only when the rows are not already in key order."""
    order = None
    if len(key) > 1 and not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        key = key[order]
    new = np.ones(len(key), dtype=bool)
    new[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(new)
    return _Runs(order, starts, key[starts], len(key))


# --- aggregators: values in runs, one run per application -> (num, m) ----------------------------

Aggregator = Callable[[np.ndarray, np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def _trimmed_mean(values: np.ndarray, starts: np.ndarray, n: np.ndarray, trim_min: int) -> tuple[np.ndarray, np.ndarray]:
    total = np.add.reduceat(values, starts)
    trim = n >= trim_min
    edges = np.maximum.reduceat(values, starts) + np.minimum.reduceat(values, starts)
    return total - np.where(trim, edges, 0), n - np.where(trim, 2, 0)


def _mean(values: np.ndarray, starts: np.ndarray, n: np.ndarray, trim_min: int) -> tuple[np.ndarray, np.ndarray]:
    return np.add.reduceat(values, starts), n.copy()


def _median(values: np.ndarray, starts: np.ndarray, n: np.ndarray, trim_min: int) -> tuple[np.ndarray, np.ndarray]:
    run = np.repeat(np.arange(len(starts)), n)
    ordered = values[np.lexsort((values, run))]
    lo, hi = starts + (n - 1) // 2, starts + n // 2
    odd = lo == hi
    return np.where(odd, ordered[lo], ordered[lo] + ordered[hi]), np.where(odd, 1, 2)


AGGREGATORS: dict[str, Aggregator] = {
    "trimmed_mean": _trimmed_mean,
    "mean": _mean,
    "median": _median,
}


def _aggregate(programme: Programme, values: np.ndarray, runs: _Runs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(num, m, n) per run: the programme's aggregation of each application's values."""
    assert programme.scoring is not None
    n = runs.sizes.astype("int64")
    if not len(n):
        empty = np.zeros(0, dtype="int64")
        return empty, empty, empty
    fn = AGGREGATORS[programme.scoring.aggregation]
    num, m = fn(runs.take(values).astype("int64", copy=False), runs.starts, n, programme.scoring.trim_min_experts)
    return num.astype("int64"), m.astype("int64"), n


def round_half_up_cents(num: int, den: int) -> int:
    """round(num/den, 2) half-up, returned in hundredths; exact for non-negative values."""
    if num < 0 or den <= 0:
        raise ValueError("panel values are non-negative")
    return (200 * num + den) // (2 * den)


def _cents(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """`round_half_up_cents` of every (num, den) pair; int64 when no step can overflow, else Python ints."""
    if not len(num):
        return np.zeros(0, dtype="int64")
    if (num < 0).any() or (den <= 0).any():
        raise ValueError("panel values are non-negative")
    if int(num.max()) < 2**62 // 200 and int(den.max()) < 2**61:
        return (200 * num + den) // (2 * den)
    return np.array([round_half_up_cents(int(a), int(b)) for a, b in zip(num, den)], dtype="int64")


# --- expert totals, panel scores, tie-break values --------------------------------------------


def _criteria(values: np.ndarray, programme: Programme, pairs: "_Pairs") -> tuple[np.ndarray, np.ndarray]:
    """Criterion codes per row and the criteria they index; no hashing when every pair lists the
    programme's criteria in order (as intake leaves them)."""
    ids = np.array([c.id for c in programme.criteria], dtype=object)
    k, n_pairs = len(ids), len(pairs.starts)
    if pairs.order is None and n_pairs and len(values) == k * n_pairs and (pairs.starts == np.arange(n_pairs) * k).all():
        if bool((values == np.tile(ids, n_pairs)).all()):
            return np.tile(np.arange(k, dtype=np.int64), n_pairs), ids
    codes, uniques = pd.factorize(values)
    return codes.astype("int64", copy=False), np.asarray(uniques, dtype=object)


def _weighted(units: np.ndarray, criteria: np.ndarray, scale: Scale, crit: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """score_units × the criterion's coefficient, per row (int64)."""
    codes, uniques = crit
    coef = [scale.coef.get(c) for c in uniques]
    if (codes < 0).any() or None in coef:  # an unknown criterion: fail exactly as a plain mapping would
        return (pd.Series(units).astype("int64") * pd.Series(criteria).map(scale.coef).astype("int64")).to_numpy()
    return pd.Series(units).astype("int64").to_numpy() * np.array(coef, dtype="int64")[codes]


@dataclass(frozen=True)
class _Pairs:
    """Score rows as runs of one (application, expert) pair each, in (application, expert id) order."""

    order: np.ndarray | None  # row permutation into that order (None: the rows are in it)
    starts: np.ndarray        # first row of each pair, after `order`
    sub: np.ndarray           # application code of each pair
    expert: np.ndarray        # expert id of each pair
    rows: np.ndarray | None   # rows kept (None: all; a row without an expert id makes no pair)


def _pairs(sub_codes: np.ndarray, experts: np.ndarray) -> _Pairs:
    n = len(experts)
    if n and experts.dtype == object and (n == 1 or bool((sub_codes[1:] >= sub_codes[:-1]).all())):
        try:  # rows in application order, each application's experts in id order: neighbours suffice
            new_sub = np.ones(n, dtype=bool)
            new_sub[1:] = sub_codes[1:] != sub_codes[:-1]
            new = new_sub.copy()
            new[1:] |= np.not_equal(experts[1:], experts[:-1])
            starts = np.flatnonzero(new)
            heads = experts[starts]
            if isinstance(heads[0], str) and bool((np.greater(heads[1:], heads[:-1]) | new_sub[starts[1:]]).all()):
                return _Pairs(None, starts, sub_codes[starts], heads, None)
        except TypeError:
            pass
    exp_codes, ids = sorted_codes(experts)
    rows = None
    if (exp_codes < 0).any():  # a missing expert id makes no pair, as in a groupby
        rows = np.flatnonzero(exp_codes >= 0)
        sub_codes, exp_codes = sub_codes[rows], exp_codes[rows]
    width = max(len(ids), 1)
    runs = _runs(sub_codes * width + exp_codes)
    return _Pairs(runs.order, runs.starts, runs.keys // width, ids[runs.keys % width], rows)


@dataclass(frozen=True)
class PanelInputs:
    """Score rows reduced once to what every panel computation needs."""

    submissions: np.ndarray   # sorted distinct submission ids of the rows used
    sub_codes: np.ndarray     # per used row, into `submissions`
    units: np.ndarray         # score_units per used row
    crit: tuple[np.ndarray, np.ndarray]  # criterion codes per used row, and the criteria
    totals: pd.DataFrame      # one row per (submission, expert), sorted
    total_runs: _Runs         # the totals' rows by submission


def panel_inputs(scores: pd.DataFrame, programme: Programme, keep: Collection[str] | None = None) -> PanelInputs:
    """Codes and expert totals of the score rows whose application is in `keep` (None: every row)."""
    scale = total_scale(programme)
    sub_codes, subs = sorted_codes(scores[C.SUBMISSION_ID])
    usable = sub_codes >= 0
    if keep is not None and len(subs):
        wanted = keep if isinstance(keep, (np.ndarray, pd.Index, pd.Series)) else list(keep)
        usable &= pd.Index(subs).isin(wanted)[np.maximum(sub_codes, 0)]
    rows = None
    if not usable.all():
        rows = np.flatnonzero(usable)
        present = np.zeros(len(subs), dtype=bool)
        present[sub_codes[rows]] = True
        sub_codes = (np.cumsum(present) - 1)[sub_codes[rows]]
        subs = subs[present]

    def column(name: str) -> np.ndarray:
        values = scores[name].to_numpy()
        return values if rows is None else values[rows]

    units, criteria, experts = column(C.SCORE_UNITS), column(C.CRITERION), column(C.EXPERT_ID)
    pairs = _pairs(sub_codes, experts)
    crit = _criteria(criteria, programme, pairs)
    weighted = _weighted(units, criteria, scale, crit)
    if pairs.rows is not None:
        weighted = weighted[pairs.rows]
    ordered = weighted if pairs.order is None else weighted[pairs.order]
    totals = pd.DataFrame({
        C.SUBMISSION_ID: subs[pairs.sub],
        C.EXPERT_ID: pairs.expert,
        TOTAL_NUM: (np.add.reduceat(ordered, pairs.starts) if len(pairs.starts) else ordered[:0]).astype("int64"),
    })
    totals[C.EXPERT_TOTAL] = totals[TOTAL_NUM] / scale.total_den
    return PanelInputs(subs, sub_codes, units, crit, totals, _runs(pairs.sub))


def expert_totals(scores: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """One row per (submission, expert): exact numerator and the total as a float for display."""
    return panel_inputs(scores, programme).totals


def _panel(programme: Programme, totals: pd.DataFrame, runs: _Runs, ids: np.ndarray, *, exact: bool) -> pd.DataFrame:
    scale = total_scale(programme)
    num, m, n = _aggregate(programme, totals[TOTAL_NUM].to_numpy(), runs)
    dens = m * scale.total_den
    out = pd.DataFrame(index=pd.Index(ids, name=C.SUBMISSION_ID))
    out[C.N_EXPERTS] = n
    if exact:
        out["panel_exact"] = [Fraction(int(a), int(d)) for a, d in zip(num, dens)]
    out[C.SCORE_CENTS] = _cents(num, dens)
    return out.reset_index()


def panel_scores(totals: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per submission: n_experts, the exact panel score and `score_cents` (rounded half-up)."""
    codes, ids = sorted_codes(totals[C.SUBMISSION_ID])
    keep = codes >= 0
    if not keep.all():
        totals, codes = totals[keep], codes[keep]
    runs = _runs(codes)
    return _panel(programme, totals, runs, ids[runs.keys], exact=True)


def _criterion_frame(
    units: np.ndarray, programme: Programme, sub_codes: np.ndarray, ids: np.ndarray,
    crit: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """`criterion_values` from the rows' submission codes (dense, into sorted `ids`) and criterion codes."""
    assert programme.scoring is not None
    frame = pd.DataFrame(index=pd.Index(ids, name=C.SUBMISSION_ID))
    codes, criteria = crit
    for cid in programme.scoring.tie_break:
        at = np.flatnonzero(criteria == cid)
        rows = np.flatnonzero(codes == at[0]) if len(at) else np.zeros(0, dtype="int64")
        runs = _runs(sub_codes[rows])
        num, m, _ = _aggregate(programme, units[rows], runs)
        if len(runs.keys) != len(ids):  # an application without this criterion: as an exact reindex would fail
            raise ValueError("cannot convert float NaN to integer")
        common = lcm(*(int(x) for x in np.unique(m))) if len(m) else 1
        frame[cid] = (num * (common // m)).astype("int64")
    return frame.reset_index()


def criterion_values(scores: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per submission, each tie-break criterion's own panel value (aggregated like the total, not rounded).

    One integer column per criterion id: the exact value on a scale common to the
    whole cohort (value × L for the least common multiple L of the panel
    divisors), so the values compare exactly and sort fast.
    """
    codes, ids = sorted_codes(scores[C.SUBMISSION_ID])
    keep = codes >= 0
    if not keep.all():
        scores, codes = scores[keep], codes[keep]
        present = np.zeros(len(ids), dtype=bool)
        present[codes] = True
        codes, ids = (np.cumsum(present) - 1)[codes], ids[present]
    values = scores[C.CRITERION].to_numpy()
    codes_c, uniques = pd.factorize(values)
    crit = codes_c.astype("int64", copy=False), np.asarray(uniques, dtype=object)
    return _criterion_frame(scores[C.SCORE_UNITS].to_numpy(), programme, codes, ids, crit)


def score_panels(
    scores: pd.DataFrame, programme: Programme, keep: Collection[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expert totals and panel frame of the applications in `keep`, computing each grouping once.

    The panel frame is `panel_scores` without the `panel_exact` Fractions (a
    round does not need them: `score_cents` is computed from the same integers)
    and with the tie-break values of `criterion_values` beside it.
    """
    p = panel_inputs(scores, programme, keep)
    panel = _panel(programme, p.totals, p.total_runs, p.submissions[p.total_runs.keys], exact=False)
    values = _criterion_frame(p.units, programme, p.sub_codes, p.submissions, p.crit)
    if len(values) == len(panel) and (values[C.SUBMISSION_ID].to_numpy() == panel[C.SUBMISSION_ID].to_numpy()).all():
        for cid in values.columns[1:]:
            panel[cid] = values[cid].to_numpy()
        return p.totals, panel
    return p.totals, panel.merge(values, on=C.SUBMISSION_ID, how="left")


def format_cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
