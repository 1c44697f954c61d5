"""Integer codes for id columns, cheaply when the rows are already in order.

Grouping 500,000 score rows by application id means hashing 500,000 strings.
A round's frames usually arrive in id order (intake sorts the scores by
application, expert and criterion; expert totals come out sorted), and then
the groups are just runs: comparing each value with its neighbour (an identity
check for the shared string objects) finds them several times faster than a
hash. When the values are not in order, or not comparable, `pd.factorize` is
used, so the result is always the same.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def sorted_codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int64) that sort like the values, and the sorted distinct values; -1 marks a missing value.

    The same as `pd.factorize(values, sort=True)`.
    """
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    runs = _runs_if_sorted(arr)
    if runs is not None:
        return runs
    codes, uniques = pd.factorize(arr, sort=True)
    return codes.astype("int64", copy=False), np.asarray(uniques)


def _runs_if_sorted(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct values) when `arr` holds strings in non-decreasing order, else None."""
    if arr.dtype != object or len(arr) < 2:
        return None
    try:
        sample = arr[:: max(len(arr) // 64, 1)]  # an unsorted column usually shows it here, before a full pass
        if not bool(np.greater_equal(sample[1:], sample[:-1]).all()):
            return None
        new = np.empty(len(arr), dtype=bool)
        new[0] = True
        np.not_equal(arr[1:], arr[:-1], out=new[1:])
        heads = arr[new]
        if not isinstance(heads[0], str) or not bool(np.greater(heads[1:], heads[:-1]).all()):
            return None
    except TypeError:  # None, numbers mixed with text: not orderable, let factorize decide
        return None
    return np.cumsum(new, dtype=np.int64) - 1, heads
