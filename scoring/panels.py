"""A round's expert totals as one padded matrix: applications × panel seats.

Shared by the statistics beside the ranking (scoring/statistics.py): each
application is a row, its experts' totals fill the first seats in expert_id
order, and the unused seats are NaN. Built without sorting when the totals are
already in (application, expert) order, as the pipeline gives them.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pandas as pd

from scoring.codes import sorted_codes
from scoring.columns import EXPERT_ID, EXPERT_TOTAL, SUBMISSION_ID


class _Panels:
    """A round's expert totals as padded arrays: one row per application, one column per seat.

    Rows are in submission_id order; within a row, seats are in expert_id order;
    unused seats are NaN (values) / -1 (expert codes). Each id column is hashed
    once; the rows are sorted only when they are not already in (application,
    expert) order, as the totals of `scoring.pipeline` are.
    """

    def __init__(self, frame: pd.DataFrame):
        missing = [c for c in (EXPERT_ID, SUBMISSION_ID, EXPERT_TOTAL) if c not in frame.columns]
        if missing:
            raise ValueError(f"expert totals frame lacks column(s) {', '.join(missing)}")
        sub_codes, self.submissions = sorted_codes(frame[SUBMISSION_ID])
        exp_codes, self.experts = sorted_codes(frame[EXPERT_ID])
        values = frame[EXPERT_TOTAL].to_numpy(dtype=float)
        if (sub_codes < 0).any() or (exp_codes < 0).any():  # a missing id: sort the frame itself
            ordered = frame.sort_values([SUBMISSION_ID, EXPERT_ID], kind="stable")
            sub_codes, self.submissions = pd.factorize(ordered[SUBMISSION_ID], sort=True)
            exp_codes, self.experts = pd.factorize(ordered[EXPERT_ID], sort=True)
            values = ordered[EXPERT_TOTAL].to_numpy(dtype=float)
        else:
            key = sub_codes.astype("int64") * max(len(self.experts), 1) + exp_codes
            if len(key) > 1 and not (key[1:] >= key[:-1]).all():
                order = np.argsort(key, kind="stable")
                sub_codes, exp_codes, values = sub_codes[order], exp_codes[order], values[order]
        n = len(self.submissions)
        self.n = np.bincount(sub_codes, minlength=n)
        if (np.diff(np.stack([sub_codes, exp_codes]), axis=1) == 0).all(axis=0).any():
            raise ValueError("an expert has more than one total for the same application")
        kmax = int(self.n.max()) if n else 0
        starts = np.concatenate([[0], np.cumsum(self.n)[:-1]])
        seat = np.arange(len(values)) - np.repeat(starts, self.n)
        self.values = np.full((n, kmax), np.nan)
        self.values[sub_codes, seat] = values
        self.codes = np.full((n, kmax), -1, dtype=np.int64)
        self.codes[sub_codes, seat] = exp_codes


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's all-NaN-slice warnings: empty seats are expected and handled."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _median_of_others(values: np.ndarray) -> np.ndarray:
    """For every filled seat, the median of the other seats of its row (NaN if none).

    Each row is sorted once; leaving out a seat of sorted position r, the middle
    of the k − 1 others is read from the sorted row, skipping position r. The
    median is (low + high) / 2 as numpy's nanmedian computes it, so the values
    are identical to taking nanmedian with each seat masked in turn.
    """
    n, k = values.shape
    out = np.full(values.shape, np.nan)
    if not n or not k:
        return out
    filled = ~np.isnan(values)
    ordered = np.sort(values, axis=1)  # NaN last
    count = filled.sum(axis=1)
    rank = (values[:, :, None] > values[:, None, :]).sum(axis=2)  # values below each seat's own
    others = (count - 1)[:, None] + np.zeros((1, k), dtype=count.dtype)
    lo, hi = (others - 1) // 2, others // 2
    lo = np.where(lo < rank, lo, lo + 1)
    hi = np.where(hi < rank, hi, hi + 1)
    use = filled & (others > 0)
    rows = np.broadcast_to(np.arange(n)[:, None], values.shape)
    low = ordered[rows[use], lo[use]]
    high = ordered[rows[use], hi[use]]
    out[use] = (low + high) / 2.0
    return out


def _mad_of_others(values: np.ndarray, med_others: np.ndarray) -> np.ndarray:
    """For every seat, the median absolute deviation of the other seats from their median."""
    out = np.full(values.shape, np.nan)
    for j in range(values.shape[1]):
        others = values.copy()
        others[:, j] = np.nan
        with _quiet():
            out[:, j] = np.nanmedian(np.abs(others - med_others[:, [j]]), axis=1)
    return out
