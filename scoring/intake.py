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

from typing import Mapping, Sequence

import pandas as pd

from scoring import columns as C
from scoring.intake_frames import (
    PARSERS,
    Coded,
    Parsed,
    choice_parser,
    convert,
    duplicate_values,
    empty_cells,
    file_label,
    map_unique,
    missing_columns,
    ordered,
    sort_problems,
    typed_series,
)
from scoring.intake_values import normalise_credit_code, parse_datetime
from scoring.rules import Programme

__all__ = [
    "Coded", "Parsed", "empty_excluded_products", "empty_experts", "empty_prior_awards", "empty_raw",
    "parse_excluded_products", "parse_experts", "parse_prior_awards", "parse_submissions",
    "validate_excluded_products", "validate_experts", "validate_prior_awards", "validate_submissions",
]


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
    return Parsed(ordered(raw, typed, columns), sort_problems(problems))


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
        parser = choice_parser(spec) if spec.type == "choice" else PARSERS[spec.type]
        parsed, found = convert(raw, spec.id, parser, label, required=spec.required)
        problems += found
        typed[spec.id] = typed_series(
            parsed, spec.type, nullable=bool(found) or not spec.required, index=raw.index
        )

    frame = ordered(raw, typed, [*C.SUBMISSION_COLUMNS, *(s.id for s in specs)]) if usable else None
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
