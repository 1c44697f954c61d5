"""Building blocks of the intake: locating problems and typing columns of raw tables.

A raw table (from `flows.intake.read_table`) holds stripped strings plus `_row`
and `_file`. These helpers find missing columns, empty cells, duplicates and
unparseable values, each as a `Problem` naming file, row and column, and turn a
column into its pandas dtype. They are shared by `scoring.intake` (applications,
experts, reference lists) and `scoring.intake_scores` (score sheets).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.errors import InputError, Problem
from scoring.intake_values import (
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_yuan,
    parse_year,
)
from scoring.rules import ColumnSpec

META = (C.SOURCE_FILE, C.SOURCE_ROW)
EMPTY = "empty; a value is required here"


@dataclass(frozen=True)
class Parsed:
    """A validated table: its typed frame and the problems found.

    `frame` is None when the table's shape (a missing column) makes it unusable
    even for cross-checks; otherwise it is the best-effort typed frame (values
    that failed to parse are missing), returned even when there are problems.
    """

    frame: pd.DataFrame | None
    problems: tuple[Problem, ...]

    def unwrap(self) -> pd.DataFrame:
        """The frame, or one `InputError` naming every problem."""
        if self.problems:
            raise InputError(list(self.problems))
        assert self.frame is not None
        return self.frame


# --- helpers shared by every table ------------------------------------------------------------


def file_label(raw: pd.DataFrame) -> str:
    """The workspace-relative name of the file a raw frame was read from."""
    label = raw.attrs.get("file")
    if label:
        return str(label)
    if C.SOURCE_FILE in raw.columns and len(raw):
        return str(raw[C.SOURCE_FILE].iloc[0])
    return "(table)"


@dataclass(frozen=True)
class Coded:
    """A column of strings as integer codes into its distinct values.

    Each column is hashed once; every later check (parsing, membership, sorting,
    duplicates) works on the distinct values and on integer arrays, which keeps
    500,000 score rows fast.
    """

    codes: np.ndarray    # int64, one per row
    uniques: np.ndarray  # object array of str

    @classmethod
    def of(cls, values: pd.Series) -> "Coded":
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype("int64")
            uniques = values.cat.categories.to_numpy(dtype=object)
        else:
            codes, uniques = pd.factorize(values.to_numpy(dtype=object))
            codes, uniques = codes.astype("int64"), np.asarray(uniques, dtype=object)
        if len(codes) and codes.min() < 0:  # a missing cell (None/NaN) is the empty string
            uniques = np.append(uniques, "")
            codes = np.where(codes < 0, len(uniques) - 1, codes)
        return cls(codes, uniques)

    def values(self) -> np.ndarray:
        return self.uniques[self.codes]

    def map(self, fn: Callable[[Any], Any], dtype: Any = object) -> np.ndarray:
        """`fn` applied once per distinct value, spread over the rows."""
        mapped = np.empty(len(self.uniques), dtype=dtype)
        mapped[:] = [fn(u) for u in self.uniques]
        return mapped[self.codes]

    def is_empty(self) -> np.ndarray:
        return (self.uniques == "")[self.codes]

    def sorted(self) -> "Coded":
        """The same column with its distinct values in sorted order, so codes sort like the strings."""
        if _strictly_increasing(self.uniques):  # categories from the CSV parser already are
            return self
        uniques, inverse = np.unique(self.uniques, return_inverse=True)
        return Coded(inverse.reshape(-1).astype("int64")[self.codes], uniques)

    @staticmethod
    def concat(parts: Sequence["Coded"]) -> "Coded":
        """Several columns one after the other, over their sorted common values."""
        if len(parts) == 1:
            return parts[0].sorted()
        uniques = np.unique(np.concatenate([p.uniques for p in parts]))
        codes = [np.searchsorted(uniques, p.uniques).astype("int64")[p.codes] for p in parts]
        return Coded(np.concatenate(codes), uniques)


def _strictly_increasing(values: np.ndarray) -> bool:
    """Whether an object array of distinct strings is already sorted (as np.unique would leave it)."""
    if len(values) < 2:
        return len(values) == 1 and isinstance(values[0], str)
    try:
        return isinstance(values[0], str) and bool(np.greater(values[1:], values[:-1]).all())
    except TypeError:
        return False


def map_unique(values: pd.Series, fn: Callable[[Any], Any]) -> np.ndarray:
    """`fn` applied once per distinct value (an object array aligned with `values`)."""
    return Coded.of(values).map(fn)


def data_columns(raw: pd.DataFrame) -> list[str]:
    return [c for c in raw.columns if c not in META]


def sort_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """File by file, then top to bottom; problems about a whole column first."""
    return tuple(sorted(problems, key=lambda p: (p.file, -1 if p.row is None else p.row)))


def missing_columns(
    raw: pd.DataFrame, required: Sequence[str], label: str, aliases: Mapping[str, str] | None = None
) -> list[Problem]:
    """One problem per required column absent from the header, listing what was found."""
    found = data_columns(raw)
    shown = ", ".join(found) if found else "(no columns)"
    out = []
    for col in required:
        if col in raw.columns:
            continue
        hint = ""
        alias = (aliases or {}).get(col)
        if alias and alias in found:
            hint = f" (there is a column {alias!r}: rename its header to {col!r})"
        out.append(Problem(label, f"missing column {col!r}{hint}; the header has: {shown}", column=col))
    return out


def _rows(raw: pd.DataFrame, mask: np.ndarray) -> list[int]:
    return [int(r) for r in raw[C.SOURCE_ROW].to_numpy()[mask]]


def empty_cells(raw: pd.DataFrame, column: str, label: str) -> list[Problem]:
    mask = raw[column].to_numpy() == ""
    return [Problem(label, EMPTY, row=r, column=column) for r in _rows(raw, mask)]


def duplicate_values(raw: pd.DataFrame, column: str, label: str, what: str) -> list[Problem]:
    """Each repeat of a non-empty value, naming the row where it first appears."""
    values = raw[column]
    dup = values.duplicated(keep="first").to_numpy() & (values.to_numpy() != "")
    if not dup.any():
        return []
    first_row = raw.drop_duplicates(column, keep="first").set_index(column)[C.SOURCE_ROW]
    out = []
    for row, value in zip(_rows(raw, dup), values.to_numpy()[dup]):
        out.append(
            Problem(label, f"duplicate {what} {value!r}: it is also in row {int(first_row[value])}", row=row, column=column)
        )
    return out


def convert(
    raw: pd.DataFrame, column: str, parser: Callable[[str], Any], label: str, *, required: bool
) -> tuple[list[Any], list[Problem]]:
    """Parse a column once per distinct value; empty cells become None (a problem if required)."""
    values = raw[column].to_numpy()
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for v in pd.unique(values):
        if v == "":
            continue
        try:
            parsed[v] = parser(v)
        except ValueError as err:
            errors[v] = str(err)
    bad = np.zeros(len(values), dtype=bool)
    if errors:
        bad |= pd.Series(values).isin(list(errors)).to_numpy()
    if required:
        bad |= values == ""
    problems = []
    for row, v in zip(raw[C.SOURCE_ROW].to_numpy()[bad], values[bad]):
        message = errors[v] if v in errors else EMPTY
        problems.append(Problem(label, message, row=int(row), column=column))
    return [parsed.get(v) for v in values], problems


def typed_series(values: list[Any], kind: str, *, nullable: bool, index: pd.Index) -> pd.Series:
    """The pandas dtype of a column type: numpy dtypes when required, nullable ones otherwise."""
    if kind == "bool":
        return pd.Series(values, index=index, dtype="boolean" if nullable else bool)
    if kind in ("int", "yuan", "year"):
        return pd.Series(values, index=index, dtype="Int64" if nullable else "int64")
    if kind in ("date", "datetime"):
        return pd.Series(pd.to_datetime(pd.Series(values, index=index, dtype=object)), index=index).astype(
            "datetime64[ns]"
        )
    if kind == "decimal":
        return pd.Series(values, index=index, dtype=object)
    return pd.Series([v if v is not None else "" for v in values], index=index, dtype=object)


PARSERS: dict[str, Callable[[str], Any]] = {
    "bool": parse_bool,
    "int": parse_int,
    "decimal": parse_decimal,
    "yuan": parse_yuan,
    "date": parse_date,
    "datetime": parse_datetime,
    "year": parse_year,
}


def choice_parser(spec: ColumnSpec) -> Callable[[str], str]:
    choices = tuple(spec.choices or ())
    folded = {c.casefold(): c for c in choices}

    def parse(text: str) -> str:
        if text in choices:
            return text
        if text.casefold() in folded:
            return folded[text.casefold()]
        raise ValueError(f"{text!r} is not one of the allowed values: {', '.join(choices)}")

    return parse


def ordered(raw: pd.DataFrame, typed: dict[str, pd.Series], leading: Sequence[str]) -> pd.DataFrame:
    """A new frame: the known columns first, then unknown ones kept as text, then _file and _row."""
    cols: dict[str, pd.Series] = {c: typed[c] for c in leading}
    for c in data_columns(raw):
        if c not in cols:
            cols[c] = typed[c] if c in typed else raw[c].astype(object)
    cols[C.SOURCE_FILE] = raw[C.SOURCE_FILE].astype(object)
    cols[C.SOURCE_ROW] = raw[C.SOURCE_ROW].astype("int64")
    return pd.DataFrame(cols, index=raw.index).reset_index(drop=True)
