"""Near-identical names: character n-gram TF-IDF cosine similarity.

Used to recognise the same product on an excluded list and the same project in
prior awards, where names are retyped by hand: spaces, full-width characters,
case and punctuation must not defeat the match. Deterministic: the vocabulary is
fitted on exactly the names being compared.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_name(name: str) -> str:
    """NFKC (full-width → half-width), case-folded, without spaces and punctuation."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", str(name)).casefold())


def name_similarity(left: list[str], right: list[str]) -> np.ndarray:
    """Cosine similarity matrix (len(left) × len(right)) of normalised names."""
    if not left or not right:
        return np.zeros((len(left), len(right)))
    a = [normalise_name(x) for x in left]
    b = [normalise_name(x) for x in right]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False, norm="l2")
    try:
        m = vec.fit_transform(a + b)
    except ValueError:  # every name empty after normalisation
        return np.zeros((len(left), len(right)))
    sims = (m[: len(a)] @ m[len(a):].T).toarray()
    # identical normalised names are identical, whatever the floating point says
    eq = np.array([[x == y and x != "" for y in b] for x in a], dtype=bool)
    return np.where(eq, 1.0, sims)


def match_by_code_and_name(
    items: pd.DataFrame,
    item_code: str,
    item_name: str,
    listing: pd.DataFrame,
    list_code: str,
    list_name: str,
    threshold: float,
) -> pd.DataFrame:
    """Pairs (item index, listing index, similarity) with the same code and similar names.

    Only pairs whose codes are equal are compared, so the cost is the sum over
    codes of (items × listings) with that code, not items × listing.
    """
    rows: list[tuple[object, object, float]] = []
    if len(items) and len(listing):
        by_code = listing.groupby(list_code, sort=True)
        groups = {code: g for code, g in by_code}
        for code, its in items.groupby(item_code, sort=True):
            lst = groups.get(code)
            if lst is None:
                continue
            sims = name_similarity(its[item_name].tolist(), lst[list_name].tolist())
            for i, ix in enumerate(its.index):
                for j, lx in enumerate(lst.index):
                    if sims[i, j] >= threshold:
                        rows.append((ix, lx, round(float(sims[i, j]), 6)))
    return pd.DataFrame(rows, columns=["item", "listing", "similarity"])
