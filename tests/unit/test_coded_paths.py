"""The fast paths on integer codes give what the plain computations give.

Ids already in order are coded from their runs (scoring.codes); expert totals,
panel scores and tie-break values are aggregated with reduceat over int64 runs
(scoring.aggregation); the median of the other experts is read from one sorted
row (scoring.statistics). Each is compared here with the obvious way of
computing the same thing — pd.factorize, pandas groupby, Python Fractions,
numpy's nanmedian — on random inputs, sorted and shuffled.
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from math import lcm

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import columns as C
from scoring.aggregation import (
    TOTAL_NUM,
    criterion_values,
    expert_totals,
    panel_scores,
    round_half_up_cents,
    score_panels,
    total_scale,
)
from scoring.codes import sorted_codes
from scoring.statistics import _distinct_rows, _median_of_others
from tests.unit import builders as B

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- codes ---------------------------------------------------------------------------------------


@SETTINGS
@given(st.lists(st.sampled_from(["A1", "A2", "B", "b", "中", "", "A10"]), max_size=40), st.booleans(),
       st.sampled_from([None, np.nan, "none"]))
def test_sorted_codes_are_factorize_sorted(values, in_order, missing):
    values = sorted(values) if in_order else values
    if missing != "none" and values:
        values = [*values[:-1], missing]
    arr = np.array([str(v) if isinstance(v, str) else v for v in values], dtype=object)
    codes, uniques = sorted_codes(arr)
    want_codes, want_uniques = pd.factorize(arr, sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)


def test_sorted_codes_of_numbers_and_of_a_series():
    codes, uniques = sorted_codes(pd.Series([3, 1, 3, 2]))
    assert codes.tolist() == [2, 0, 2, 1] and uniques.tolist() == [1, 2, 3]
    codes, uniques = sorted_codes(pd.Series(["x", "x", "y"], dtype=object))
    assert codes.tolist() == [0, 0, 1] and uniques.tolist() == ["x", "y"]


# --- aggregation ---------------------------------------------------------------------------------


@st.composite
def score_frames(draw):
    """Long score rows with exact units: some applications with fewer experts, rows in any order."""
    prog = B.programme(scoring={"aggregation": draw(st.sampled_from(["trimmed_mean", "mean", "median"])),
                                "trim_min_experts": draw(st.integers(3, 5))})
    rows = []
    for a in range(draw(st.integers(1, 12))):
        experts = draw(st.lists(st.sampled_from(["E1", "E2", "E3", "E4", "E5", "E6"]), min_size=1, max_size=6, unique=True))
        for e in sorted(experts):
            for c in prog.criteria:
                units = draw(st.integers(0, int(c.max_points) * 100))
                rows.append(("".join(["S", str(a).zfill(2)]), "".join(e), c.id, units))  # fresh string objects
    frame = pd.DataFrame(rows, columns=[C.SUBMISSION_ID, C.EXPERT_ID, C.CRITERION, C.SCORE_UNITS])
    if draw(st.booleans()):
        frame = frame.iloc[draw(st.permutations(range(len(frame))))].reset_index(drop=True)
    return prog, frame


def panel_value(values: list[int], prog) -> tuple[Fraction, int, int]:
    """One application's aggregated value (a Fraction of the values' unit), its number of values and its divisor."""
    v = sorted(values)
    n = len(v)
    if prog.scoring.aggregation == "median":
        return Fraction(v[(n - 1) // 2] + v[n // 2], 2), n, 1 if n % 2 else 2
    if prog.scoring.aggregation == "trimmed_mean" and n >= prog.scoring.trim_min_experts:
        v = v[1:-1]
    return Fraction(sum(v), len(v)), n, len(v)


@SETTINGS
@given(score_frames())
def test_totals_panels_and_tie_break_values_equal_a_plain_computation(case):
    prog, frame = case
    scale = total_scale(prog)
    totals = expert_totals(frame, prog)
    want = (frame.assign(w=frame[C.SCORE_UNITS] * frame[C.CRITERION].map(scale.coef))
            .groupby([C.SUBMISSION_ID, C.EXPERT_ID], sort=True, as_index=False)["w"].sum())
    assert totals[[C.SUBMISSION_ID, C.EXPERT_ID]].values.tolist() == want[[C.SUBMISSION_ID, C.EXPERT_ID]].values.tolist()
    assert totals[TOTAL_NUM].tolist() == want["w"].tolist()
    assert totals[TOTAL_NUM].dtype == "int64" and totals[C.EXPERT_TOTAL].dtype == "float64"

    panel = panel_scores(totals, prog).set_index(C.SUBMISSION_ID)
    for sid, grp in totals.groupby(C.SUBMISSION_ID):
        value, n, _ = panel_value(grp[TOTAL_NUM].tolist(), prog)
        exact = value / scale.total_den
        assert panel.at[sid, "panel_exact"] == exact
        assert panel.at[sid, C.N_EXPERTS] == n
        assert panel.at[sid, C.SCORE_CENTS] == round_half_up_cents(exact.numerator, exact.denominator)

    values = criterion_values(frame, prog).set_index(C.SUBMISSION_ID)
    for cid in prog.scoring.tie_break:
        parts = {sid: panel_value(g[C.SCORE_UNITS].tolist(), prog)
                 for sid, g in frame[frame[C.CRITERION] == cid].groupby(C.SUBMISSION_ID)}
        common = lcm(*(divisor for _, _, divisor in parts.values()))  # one exact scale for the whole cohort
        assert {s: int(values.at[s, cid]) for s in parts} == {s: v * common for s, (v, _, _) in parts.items()}
        assert values[cid].dtype == "int64"


@SETTINGS
@given(score_frames(), st.data())
def test_score_panels_is_the_public_functions_on_the_kept_rows(case, data):
    prog, frame = case
    ids = sorted(set(frame[C.SUBMISSION_ID]))
    keep = data.draw(st.lists(st.sampled_from(ids), unique=True)) if data.draw(st.booleans()) else None
    part = frame if keep is None else frame[frame[C.SUBMISSION_ID].isin(keep)]
    totals, panel = score_panels(frame, prog, None if keep is None else np.array(keep, dtype=object))
    want_totals = expert_totals(part, prog)
    pd.testing.assert_frame_equal(totals, want_totals, check_exact=True)
    want = panel_scores(want_totals, prog).drop(columns=["panel_exact"])
    want = want.merge(criterion_values(part, prog), on=C.SUBMISSION_ID, how="left")
    pd.testing.assert_frame_equal(panel, want, check_exact=True)


def test_scores_from_intake_order_need_no_hashing_and_agree_when_shuffled():
    """The runs path (rows in application, expert, criterion order) and the hashing path give the same totals."""
    prog = B.programme()
    rows = [(f"S{a:03d}", f"E{e}", c.id, (a * 7 + e * 3) % int(c.max_points) * 100)
            for a in range(300) for e in range(5) for c in prog.criteria]
    ordered = pd.DataFrame(rows, columns=[C.SUBMISSION_ID, C.EXPERT_ID, C.CRITERION, C.SCORE_UNITS])
    shuffled = ordered.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a, b = score_panels(ordered, prog), score_panels(shuffled, prog)
    pd.testing.assert_frame_equal(a[0], b[0], check_exact=True)
    pd.testing.assert_frame_equal(a[1], b[1], check_exact=True)


# --- statistics ----------------------------------------------------------------------------------


def median_of_others_by_masking(values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    for j in range(values.shape[1]):
        others = values.copy()
        others[:, j] = np.nan
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, j] = np.nanmedian(others, axis=1)
    out[np.isnan(values)] = np.nan
    return out


@pytest.mark.parametrize("seed", range(40))
def test_median_of_the_others_is_nanmedian_with_the_seat_masked(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 50)), int(rng.integers(1, 9))
    values = [rng.normal(70, 10, (n, k)), np.round(rng.normal(70, 10, (n, k))), rng.integers(60, 63, (n, k)) * 1.0][seed % 3]
    filled = rng.integers(0, k + 1, n)
    for i in range(n):
        values[i, filled[i]:] = np.nan  # panels of different sizes, padded
    if seed % 4 == 0:
        values[rng.random((n, k)) < 0.15] = np.nan
    got = _median_of_others(values)
    assert np.array_equal(got, median_of_others_by_masking(values), equal_nan=True)


@pytest.mark.parametrize("n_codes", [3, 40, 2000])
def test_distinct_rows_are_numpys_unique_rows(n_codes):
    rng = np.random.default_rng(n_codes)
    codes = rng.integers(-1, min(n_codes, 4), (300, 6)) if n_codes < 100 else rng.integers(-1, n_codes, (50, 6))
    keys, inverse, counts = _distinct_rows(codes, n_codes)
    want_keys, want_inverse, want_counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    assert np.array_equal(keys, want_keys) and np.array_equal(counts, want_counts)
    assert np.array_equal(inverse, want_inverse.ravel())
