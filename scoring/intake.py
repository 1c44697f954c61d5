"""Intake: raw tables (every cell a string) → typed frames, with every problem found.

The shell (`flows.intake`) reads files into raw frames whose cells are stripped
strings, plus `_row` (the row a person sees in the file) and `_file` (the file's
label in the workspace). Here, without any I/O, each table is checked and typed:

* `validate_*` returns a `Parsed` (the typed frame and every `Problem` found),
  so that a caller can report the problems of all files at once;
* `parse_*` is the same but raises one `InputError` listing every problem.

Checks are vectorised; per-value parsing runs once per distinct value, so a
round of 20,000 applications is read in a blink. Whether a credit code's check
character or an e-mail address is valid is *not* decided here: that is formal
review, which makes an application ineligible rather than the input unreadable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.errors import InputError, Problem
from scoring.intake_values import (
    normalise_credit_code,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_yuan,
    parse_year,
)
from scoring.rules import ColumnSpec, Programme

META = (C.SOURCE_FILE, C.SOURCE_ROW)


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
    return [Problem(label, "empty; a value is required here", row=r, column=column) for r in _rows(raw, mask)]


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
        message = errors[v] if v in errors else "empty; a value is required here"
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


def _choice_parser(spec: ColumnSpec) -> Callable[[str], str]:
    choices = tuple(spec.choices or ())
    folded = {c.casefold(): c for c in choices}

    def parse(text: str) -> str:
        if text in choices:
            return text
        if text.casefold() in folded:
            return folded[text.casefold()]
        raise ValueError(f"{text!r} is not one of the allowed values: {', '.join(choices)}")

    return parse


def _ordered(raw: pd.DataFrame, typed: dict[str, pd.Series], leading: Sequence[str]) -> pd.DataFrame:
    """A new frame: the known columns first, then unknown ones kept as text, then _file and _row."""
    cols: dict[str, pd.Series] = {c: typed[c] for c in leading}
    for c in data_columns(raw):
        if c not in cols:
            cols[c] = typed[c] if c in typed else raw[c].astype(object)
    cols[C.SOURCE_FILE] = raw[C.SOURCE_FILE].astype(object)
    cols[C.SOURCE_ROW] = raw[C.SOURCE_ROW].astype("int64")
    return pd.DataFrame(cols, index=raw.index).reset_index(drop=True)


def _table(
    raw: pd.DataFrame,
    columns: Sequence[str],
    *,
    required_values: Sequence[str],
    kinds: Mapping[str, str],
    unique: tuple[str, str] | None = None,
    codes: Sequence[str] = (),
) -> Parsed:
    """Validate a table of fixed columns: presence, required values, uniqueness, types."""
    label = file_label(raw)
    problems = missing_columns(raw, columns, label)
    if problems:
        return Parsed(None, sort_problems(problems))
    typed: dict[str, pd.Series] = {}
    for col in columns:
        kind = kinds.get(col, "text")
        required = col in required_values
        if kind == "text":
            if required:
                problems += empty_cells(raw, col, label)
            values = raw[col]
            if col in codes:
                values = pd.Series(map_unique(values, normalise_credit_code), index=raw.index)
            typed[col] = values.astype(object)
        else:
            parsed, found = convert(raw, col, PARSERS[kind], label, required=required)
            problems += found
            typed[col] = typed_series(parsed, kind, nullable=bool(found) or not required, index=raw.index)
    if unique:
        problems += duplicate_values(raw, unique[0], label, unique[1])
    return Parsed(_ordered(raw, typed, columns), sort_problems(problems))


# --- submissions -------------------------------------------------------------------------------


def validate_submissions(raw: pd.DataFrame, programme: Programme) -> Parsed:
    """Check and type submissions.xlsx|csv: the common columns plus the programme's own."""
    label = file_label(raw)
    specs = programme.columns
    required_cols = [*C.SUBMISSION_COLUMNS, *(s.id for s in specs if s.required)]
    aliases = {s.id: s.label for s in specs}
    problems = missing_columns(raw, required_cols, label, aliases)
    usable = not problems
    typed: dict[str, pd.Series] = {}

    for col in C.SUBMISSION_COLUMNS:
        if col not in raw.columns or col == C.SUBMITTED_AT:
            continue
        problems += empty_cells(raw, col, label)
        values = raw[col]
        if col == C.CREDIT_CODE:
            values = pd.Series(map_unique(values, normalise_credit_code), index=raw.index)
        typed[col] = values.astype(object)
    if C.SUBMISSION_ID in raw.columns:
        problems += duplicate_values(raw, C.SUBMISSION_ID, label, "submission_id")
    if C.SUBMITTED_AT in raw.columns:
        parsed, found = convert(raw, C.SUBMITTED_AT, parse_datetime, label, required=True)
        problems += found
        typed[C.SUBMITTED_AT] = typed_series(parsed, "datetime", nullable=True, index=raw.index)

    for spec in specs:
        if spec.id not in raw.columns:
            # an optional column may be left out of the file altogether
            typed[spec.id] = typed_series([None] * len(raw), spec.type, nullable=True, index=raw.index)
            continue
        if spec.type in ("text", "email"):
            if spec.required:
                problems += empty_cells(raw, spec.id, label)
            typed[spec.id] = raw[spec.id].astype(object)
            continue
        parser = _choice_parser(spec) if spec.type == "choice" else PARSERS[spec.type]
        parsed, found = convert(raw, spec.id, parser, label, required=spec.required)
        problems += found
        typed[spec.id] = typed_series(
            parsed, spec.type, nullable=bool(found) or not spec.required, index=raw.index
        )

    frame = _ordered(raw, typed, [*C.SUBMISSION_COLUMNS, *(s.id for s in specs)]) if usable else None
    return Parsed(frame, sort_problems(problems))


def parse_submissions(raw: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    return validate_submissions(raw, programme).unwrap()


# --- experts and reference lists ----------------------------------------------------------------


def validate_experts(raw: pd.DataFrame) -> Parsed:
    """Check and type experts.xlsx|csv; `org_credit_code` may be empty (then no 回避 by code)."""
    return _table(
        raw,
        C.EXPERT_COLUMNS,
        required_values=(C.EXPERT_ID, C.EXPERT_NAME),
        kinds={},
        unique=(C.EXPERT_ID, "expert_id"),
        codes=(C.ORG_CREDIT_CODE,),
    )


def parse_experts(raw: pd.DataFrame) -> pd.DataFrame:
    return validate_experts(raw).unwrap()


def validate_excluded_products(raw: pd.DataFrame) -> Parsed:
    """references/excluded_products: products already selected nationally or provincially."""
    return _table(
        raw,
        C.EXCLUDED_PRODUCT_COLUMNS,
        required_values=(C.PRODUCT_NAME, C.CREDIT_CODE, C.YEAR),
        kinds={C.YEAR: "year"},
        codes=(C.CREDIT_CODE,),
    )


def parse_excluded_products(raw: pd.DataFrame) -> pd.DataFrame:
    return validate_excluded_products(raw).unwrap()


def validate_prior_awards(raw: pd.DataFrame) -> Parsed:
    """references/prior_awards: money already received, for 就高不重复."""
    return _table(
        raw,
        C.PRIOR_AWARD_COLUMNS,
        required_values=C.PRIOR_AWARD_COLUMNS,
        kinds={C.AMOUNT_YUAN: "yuan", C.YEAR: "year"},
        codes=(C.CREDIT_CODE,),
    )


def parse_prior_awards(raw: pd.DataFrame) -> pd.DataFrame:
    return validate_prior_awards(raw).unwrap()


# --- empty typed frames, for inputs a round does not have --------------------------------------


def empty_raw(columns: Sequence[str], label: str) -> pd.DataFrame:
    """A raw table with a header and no rows, as `flows.intake.read_table` would return."""
    raw = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    raw[C.SOURCE_FILE] = pd.Series([], dtype=object)
    raw[C.SOURCE_ROW] = pd.Series([], dtype="int64")
    raw.attrs["file"] = label
    return raw


def empty_experts() -> pd.DataFrame:
    return parse_experts(empty_raw(C.EXPERT_COLUMNS, "experts"))


def empty_excluded_products() -> pd.DataFrame:
    return parse_excluded_products(empty_raw(C.EXCLUDED_PRODUCT_COLUMNS, "references/excluded_products"))


def empty_prior_awards() -> pd.DataFrame:
    return parse_prior_awards(empty_raw(C.PRIOR_AWARD_COLUMNS, "references/prior_awards"))
