"""Intake of expert score sheets: long or wide tables → one exact long frame.

Experts hand back either long rows (`expert_id, submission_id, criterion,
score`) or a wide sheet (`expert_id, submission_id` and one column per
criterion, headed by its id or its name; other columns such as
enterprise_name, title or comment are ignored). Both become the same long
frame with `score_units` = score × 10**score_decimals as an exact integer, read
from the decimal text and never through float.

Every mistake an upload can contain is reported at once, each naming file,
row and column: unknown criterion, a score that is not a number, has too many
decimals, lies outside 0..max or is empty; an unknown expert or application; a
score given twice (across files too); an expert who scored an application only
on some criteria; and a 回避 conflict (the expert's organisation is the
applicant). Checks are vectorised so that 500,000 score rows stay fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Sequence

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.errors import Problem
from scoring.intake_frames import EMPTY, Coded, Parsed, data_columns, file_label, missing_columns, sort_problems
from scoring.intake_pairs import pair_problems
from scoring.intake_values import score_units
from scoring.rules import Programme

SCORE_OUTPUT: tuple[str, ...] = (C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE_UNITS, C.SOURCE_FILE, C.SOURCE_ROW)


@dataclass(frozen=True)
class _Part:
    """One file's scores in long form, as codes: nothing checked yet but its shape and criteria."""

    label: str
    expert: Coded
    submission: Coded
    score: Coded          # the score cells as written
    cidx: np.ndarray      # criterion index per row, -1 when unknown
    rows: np.ndarray      # row in the file
    column: Coded         # the column a score came from: 'score' (long form) or the criterion id (wide form)
    assumed: int          # criteria (bit mask) whose column a wide sheet lacks: reported once for the file


def _rows_text(rows: Sequence[int]) -> str:
    """Row numbers as a person reads them: 'rows 2–5, 9'."""
    rows = sorted(set(rows))
    spans: list[str] = []
    start = prev = rows[0]
    for r in [*rows[1:], None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        spans.append(str(start) if start == prev else f"{start}–{prev}")
        if r is not None:
            start = prev = r
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(spans)


def _points(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _criterion_names(programme: Programme) -> dict[str, int]:
    names = {c.id: i for i, c in enumerate(programme.criteria)}
    names.update({c.name: i for i, c in enumerate(programme.criteria) if c.name not in names})
    return names


def _shape_problems(raw: pd.DataFrame, programme: Programme, label: str) -> list[Problem]:
    problems = missing_columns(raw, (C.EXPERT_ID, C.SUBMISSION_ID), label)
    if C.CRITERION in raw.columns or C.SCORE in raw.columns:
        problems += missing_columns(raw, (C.CRITERION, C.SCORE), label)
    elif not any(c in _criterion_names(programme) for c in data_columns(raw)):
        found = ", ".join(data_columns(raw)) or "(no columns)"
        ids = ", ".join(c.id for c in programme.criteria)
        problems.append(Problem(
            label,
            "this is not a score sheet: it needs either the columns criterion and score (long form) "
            f"or one column per criterion ({ids}) (wide form); the header has: {found}",
        ))
    return problems


def _part(raw: pd.DataFrame, programme: Programme, label: str) -> tuple[_Part | None, list[Problem]]:
    """One file as a `_Part`, with the problems of its shape, its ids and (long form) its criteria."""
    problems = _shape_problems(raw, programme, label)
    if problems:
        return None, problems
    rows = raw[C.SOURCE_ROW].to_numpy(dtype="int64")
    expert, submission = Coded.of(raw[C.EXPERT_ID]), Coded.of(raw[C.SUBMISSION_ID])
    for col, coded in ((C.EXPERT_ID, expert), (C.SUBMISSION_ID, submission)):
        problems += [Problem(label, EMPTY, row=int(r), column=col) for r in rows[coded.is_empty()]]
    names = _criterion_names(programme)

    if C.CRITERION in raw.columns:
        crit = Coded.of(raw[C.CRITERION])
        cidx = crit.map(lambda v: names.get(v, -1), dtype="int64")
        valid = ", ".join(c.id for c in programme.criteria)
        for i in np.flatnonzero(cidx < 0):
            v = crit.uniques[crit.codes[i]]
            message = EMPTY if v == "" else f"unknown criterion {v!r}; this programme's criteria are: {valid}"
            problems.append(Problem(label, message, row=int(rows[i]), column=C.CRITERION))
        column = Coded(np.zeros(len(raw), dtype="int64"), np.array([C.SCORE], dtype=object))
        return _Part(label, expert, submission, Coded.of(raw[C.SCORE]), cidx, rows, column, 0), problems

    by_index: dict[int, list[str]] = {}
    for col in data_columns(raw):
        if col in names:
            by_index.setdefault(names[col], []).append(col)
    assumed = 0
    for i, crit in enumerate(programme.criteria):
        cols = by_index.get(i, [])
        if not cols:
            assumed |= 1 << i
            found = ", ".join(data_columns(raw))
            problems.append(Problem(
                label, f"missing the column of criterion {crit.id!r} ({crit.name}); the header has: {found}",
                column=crit.id,
            ))
        elif len(cols) > 1:
            problems.append(Problem(
                label, f"criterion {crit.id!r} ({crit.name}) has two columns: {' and '.join(repr(c) for c in cols)}",
                column=crit.id,
            ))
    order = sorted(by_index)
    n, k = len(raw), len(order)
    # melt: row-major, so that one sheet row's criteria stay together and in programme order
    column_major = Coded.concat([Coded.of(raw[by_index[i][0]]) for i in order])
    row_major = np.arange(n * k).reshape(k, n).T.reshape(-1)
    score = Coded(column_major.codes[row_major], column_major.uniques)
    ids = np.array([programme.criteria[i].id for i in order], dtype=object)
    part = _Part(
        label,
        Coded(np.repeat(expert.codes, k), expert.uniques),
        Coded(np.repeat(submission.codes, k), submission.uniques),
        score,
        np.tile(np.array(order, dtype="int64"), n),
        np.repeat(rows, k),
        Coded(np.tile(np.arange(k, dtype="int64"), n), ids),
        assumed,
    )
    return part, problems


@dataclass(frozen=True)
class _Scores:
    """Every file's scores one after the other."""

    files: Coded
    expert: Coded
    submission: Coded
    score: Coded
    cidx: np.ndarray
    rows: np.ndarray
    column: Coded
    assumed: np.ndarray

    @classmethod
    def of(cls, parts: list[_Part]) -> "_Scores":
        sizes = [len(p.rows) for p in parts]
        return cls(
            files=Coded(np.repeat(np.arange(len(parts), dtype="int64"), sizes),
                        np.array([p.label for p in parts], dtype=object)),
            expert=Coded.concat([p.expert for p in parts]),
            submission=Coded.concat([p.submission for p in parts]),
            score=Coded.concat([p.score for p in parts]),
            cidx=np.concatenate([p.cidx for p in parts]),
            rows=np.concatenate([p.rows for p in parts]),
            column=Coded.concat([p.column for p in parts]),
            assumed=np.repeat(np.array([p.assumed for p in parts], dtype="int64"), sizes),
        )

    def file(self, i: int) -> str:
        return str(self.files.uniques[self.files.codes[i]])

    def column_of(self, i: int) -> str:
        return str(self.column.uniques[self.column.codes[i]])

    def expert_of(self, i: int) -> str:
        return str(self.expert.uniques[self.expert.codes[i]])

    def submission_of(self, i: int) -> str:
        return str(self.submission.uniques[self.submission.codes[i]])


def _score_units(s: _Scores, programme: Programme) -> tuple[np.ndarray, list[Problem]]:
    """Exact score units for every row (0 where unusable) and the problems of the score values."""
    assert programme.scoring is not None
    decimals = programme.scoring.score_decimals
    unit = Decimal(10) ** decimals
    max_units = np.array(
        [int((c.max_points * unit).to_integral_value(rounding=ROUND_FLOOR)) for c in programme.criteria], dtype="int64"
    )
    errors = np.full(len(s.score.uniques), "", dtype=object)
    units_u = np.zeros(len(s.score.uniques), dtype="int64")
    for j, text in enumerate(s.score.uniques):
        if text == "":
            errors[j] = "empty score: every criterion must be scored"
            continue
        try:
            units_u[j] = score_units(text, decimals)
        except ValueError as err:
            errors[j] = str(err)
    units = units_u[s.score.codes]
    # whether a distinct score is wrong for a criterion (row 0: unknown criterion, reported elsewhere)
    wrong = np.zeros((len(programme.criteria) + 1, len(units_u)), dtype=bool)
    wrong[1:] = (errors != "") | (units_u < 0) | (units_u > max_units[:, None])
    problems = []
    for i in np.flatnonzero(wrong[s.cidx + 1, s.score.codes]):
        code = s.score.codes[i]
        if errors[code] != "":
            message = errors[code]
        else:
            crit = programme.criteria[s.cidx[i]]
            message = (f"score {s.score.uniques[code]} is outside 0..{_points(crit.max_points)} "
                       f"for criterion {crit.id!r} ({crit.name})")
        problems.append(Problem(s.file(i), message, row=int(s.rows[i]), column=s.column_of(i)))
    return units, problems


def _unknown(s: _Scores, coded: Coded, column: str, known: pd.Series, source: str) -> tuple[np.ndarray, list[Problem]]:
    """Rows naming an id not in `source`; one problem per file and id, listing its rows."""
    bad_u = ~pd.Series(coded.uniques).isin(known).to_numpy() & (coded.uniques != "")
    bad = bad_u[coded.codes]
    found: dict[tuple[str, str], list[int]] = {}
    for i in np.flatnonzero(bad):
        found.setdefault((s.file(i), coded.uniques[coded.codes[i]]), []).append(int(s.rows[i]))
    problems = []
    for (file, value), rows in found.items():
        more = f" ({_rows_text(rows)} of this file)" if len(set(rows)) > 1 else ""
        problems.append(Problem(file, f"unknown {column} {value!r}: it is not in {source}{more}", row=rows[0], column=column))
    return bad, problems


def validate_scores(
    raws: Sequence[pd.DataFrame],
    programme: Programme,
    submissions: pd.DataFrame | None,
    experts: pd.DataFrame | None,
    *,
    assigned: pd.DataFrame | None = None,
) -> Parsed:
    """Check and combine every score file; `submissions`/`experts` None skips the checks that need them.

    `assigned` (columns expert_id, submission_id), when given, is the panel
    assignment: a score for an application not assigned to that expert is refused.
    """
    problems: list[Problem] = []
    parts = []
    for raw in raws:
        part, found = _part(raw, programme, file_label(raw))
        problems += found
        if part is not None:
            parts.append(part)
    if not parts:
        return Parsed(empty_scores() if not problems else None, sort_problems(problems))
    s = _Scores.of(parts)
    units, found = _score_units(s, programme)
    problems += found

    present = (s.cidx >= 0) & ~s.expert.is_empty() & ~s.submission.is_empty()
    usable = present.copy()
    if experts is not None:
        bad, found = _unknown(s, s.expert, C.EXPERT_ID, experts[C.EXPERT_ID], "the experts file")
        problems += found
        usable &= ~bad
    if submissions is not None:
        bad, found = _unknown(s, s.submission, C.SUBMISSION_ID, submissions[C.SUBMISSION_ID], "the submissions file")
        problems += found
        usable &= ~bad
    problems += pair_problems(s, present, usable, programme, submissions, experts, assigned)

    # by submission_id, expert_id, then the programme's criterion order (codes sort like the strings); stable
    key = (s.submission.codes * len(s.expert.uniques) + s.expert.codes) * (len(programme.criteria) + 1) + s.cidx
    keep = None if usable.all() else np.flatnonzero(usable)  # None: every row, as it is
    if keep is not None:
        key = key[keep]
    if len(key) > 1 and not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
        keep = order if keep is None else keep[order]

    def take(values: np.ndarray) -> np.ndarray:
        return values if keep is None else values[keep]

    ids = np.array([c.id for c in programme.criteria] + [""], dtype=object)
    out = pd.DataFrame({
        C.EXPERT_ID: s.expert.uniques[take(s.expert.codes)],
        C.SUBMISSION_ID: s.submission.uniques[take(s.submission.codes)],
        C.CRITERION: ids[take(s.cidx)],
        C.SCORE_UNITS: take(units),
        C.SOURCE_FILE: s.files.uniques[take(s.files.codes)],
        C.SOURCE_ROW: take(s.rows),
    }, copy=False)  # arrays made here: no need to copy them into consolidated blocks
    return Parsed(out, sort_problems(problems))


def parse_scores(
    raws: Sequence[pd.DataFrame],
    programme: Programme,
    submissions: pd.DataFrame | None,
    experts: pd.DataFrame | None,
    *,
    assigned: pd.DataFrame | None = None,
) -> pd.DataFrame:
    return validate_scores(raws, programme, submissions, experts, assigned=assigned).unwrap()


def empty_scores() -> pd.DataFrame:
    """A typed score frame with no rows (programmes without experts, rounds before scoring)."""
    return pd.DataFrame({
        C.EXPERT_ID: pd.Series([], dtype=object),
        C.SUBMISSION_ID: pd.Series([], dtype=object),
        C.CRITERION: pd.Series([], dtype=object),
        C.SCORE_UNITS: pd.Series([], dtype="int64"),
        C.SOURCE_FILE: pd.Series([], dtype=object),
        C.SOURCE_ROW: pd.Series([], dtype="int64"),
    })
