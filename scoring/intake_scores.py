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

from decimal import ROUND_FLOOR, Decimal
from typing import Sequence

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.errors import Problem
from scoring.intake import Parsed, data_columns, empty_cells, file_label, map_unique, missing_columns, sort_problems
from scoring.intake_values import score_units
from scoring.rules import Programme

SCORE_OUTPUT: tuple[str, ...] = (C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE_UNITS, C.SOURCE_FILE, C.SOURCE_ROW)
_COL = "_column"  # the column a score came from: 'score' (long form) or the criterion id (wide form)
_CIDX = "_criterion_index"
_ASSUMED = "_assumed"  # criteria (bit mask) whose column a wide sheet lacks: reported once for the file


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


def _long_frame(raw: pd.DataFrame, programme: Programme, label: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """One file's scores in long form, unchecked except for its shape and the criterion names."""
    problems = missing_columns(raw, (C.EXPERT_ID, C.SUBMISSION_ID), label)
    names = {c.id: i for i, c in enumerate(programme.criteria)}
    names.update({c.name: i for i, c in enumerate(programme.criteria) if c.name not in names})
    has_crit, has_score = C.CRITERION in raw.columns, C.SCORE in raw.columns
    wide_cols = [c for c in data_columns(raw) if c in names]
    if has_crit or has_score:
        problems += missing_columns(raw, (C.CRITERION, C.SCORE), label)
    elif not wide_cols:
        found = ", ".join(data_columns(raw)) or "(no columns)"
        ids = ", ".join(c.id for c in programme.criteria)
        problems.append(Problem(
            label,
            "this is not a score sheet: it needs either the columns criterion and score (long form) "
            f"or one column per criterion ({ids}) (wide form); the header has: {found}",
        ))
    if problems:
        return None, problems
    for col in (C.EXPERT_ID, C.SUBMISSION_ID):
        problems += empty_cells(raw, col, label)

    if has_crit:
        frame = pd.DataFrame({
            C.EXPERT_ID: raw[C.EXPERT_ID].to_numpy(),
            C.SUBMISSION_ID: raw[C.SUBMISSION_ID].to_numpy(),
            C.CRITERION: raw[C.CRITERION].to_numpy(),
            C.SCORE: raw[C.SCORE].to_numpy(),
            C.SOURCE_FILE: label,
            C.SOURCE_ROW: raw[C.SOURCE_ROW].to_numpy(dtype="int64"),
            _COL: C.SCORE,
            _ASSUMED: 0,
        })
        cidx = map_unique(frame[C.CRITERION], lambda v: names.get(v, -1)).astype("int64")
        frame[_CIDX] = cidx
        valid = ", ".join(c.id for c in programme.criteria)
        unknown = cidx < 0
        for row, v in zip(frame[C.SOURCE_ROW].to_numpy()[unknown], frame[C.CRITERION].to_numpy()[unknown]):
            message = (
                "empty; a value is required here" if v == ""
                else f"unknown criterion {v!r}; this programme's criteria are: {valid}"
            )
            problems.append(Problem(label, message, row=int(row), column=C.CRITERION))
        return frame, problems

    by_index: dict[int, list[str]] = {}
    for col in wide_cols:
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
            by_index[i] = cols[:1]
    order = sorted(by_index)
    headers = [by_index[i][0] for i in order]
    ids = np.array([programme.criteria[i].id for i in order], dtype=object)
    n, k = len(raw), len(headers)
    frame = pd.DataFrame({
        C.EXPERT_ID: np.repeat(raw[C.EXPERT_ID].to_numpy(), k),
        C.SUBMISSION_ID: np.repeat(raw[C.SUBMISSION_ID].to_numpy(), k),
        C.CRITERION: np.tile(ids, n),
        C.SCORE: raw[headers].to_numpy(dtype=object).ravel() if n else np.array([], dtype=object),
        C.SOURCE_FILE: label,
        C.SOURCE_ROW: np.repeat(raw[C.SOURCE_ROW].to_numpy(dtype="int64"), k),
        _COL: np.tile(ids, n),
        _CIDX: np.tile(np.array(order, dtype="int64"), n),
        _ASSUMED: assumed,
    })
    return frame, problems


def _score_problems(frame: pd.DataFrame, programme: Programme) -> tuple[np.ndarray, list[Problem]]:
    """Exact score units for every row (0 where unusable) and the problems of the score values."""
    assert programme.scoring is not None
    decimals = programme.scoring.score_decimals
    unit = Decimal(10) ** decimals
    max_units = np.array(
        [int((c.max_points * unit).to_integral_value(rounding=ROUND_FLOOR)) for c in programme.criteria], dtype="int64"
    )
    errors: dict[str, str] = {}

    def units(text: str) -> int:
        if text == "":
            errors[text] = "empty score: every criterion must be scored"
            return 0
        try:
            return score_units(text, decimals)
        except ValueError as err:
            errors[text] = str(err)
            return 0

    values = map_unique(frame[C.SCORE], units).astype("int64")
    cidx = frame[_CIDX].to_numpy()
    known = cidx >= 0
    limit = np.where(known, max_units[np.where(known, cidx, 0)], 0)
    text = frame[C.SCORE].to_numpy()
    bad_value = frame[C.SCORE].isin(list(errors)).to_numpy() if errors else np.zeros(len(frame), dtype=bool)
    out_of_range = known & ~bad_value & ((values < 0) | (values > limit))
    rows, files, cols = frame[C.SOURCE_ROW].to_numpy(), frame[C.SOURCE_FILE].to_numpy(), frame[_COL].to_numpy()
    problems = []
    for i in np.flatnonzero((bad_value & known) | out_of_range):
        if bad_value[i]:
            problems.append(Problem(files[i], errors[text[i]], row=int(rows[i]), column=cols[i]))
            continue
        crit = programme.criteria[cidx[i]]
        problems.append(Problem(
            files[i],
            f"score {text[i]} is outside 0..{_points(crit.max_points)} for criterion {crit.id!r} ({crit.name})",
            row=int(rows[i]), column=cols[i],
        ))
    return values, problems


def _unknown(frame: pd.DataFrame, column: str, known: set[str], source: str) -> tuple[np.ndarray, list[Problem]]:
    """Rows naming an id not in `source`; one problem per file and id, listing its rows."""
    values = frame[column]
    bad = ~values.isin(known).to_numpy() & (values.to_numpy() != "")
    problems = []
    if bad.any():
        sub = frame.loc[bad, [C.SOURCE_FILE, column, C.SOURCE_ROW]]
        for (file, value), grp in sub.groupby([C.SOURCE_FILE, column], sort=False):
            rows = grp[C.SOURCE_ROW].tolist()
            more = f" ({_rows_text(rows)} of this file)" if len(rows) > 1 else ""
            problems.append(Problem(
                file, f"unknown {column} {value!r}: it is not in {source}{more}",
                row=int(rows[0]), column=column,
            ))
    return bad, problems


def validate_scores(
    raws: Sequence[pd.DataFrame],
    programme: Programme,
    submissions: pd.DataFrame | None,
    experts: pd.DataFrame | None,
) -> Parsed:
    """Check and combine every score file; `submissions`/`experts` None skips the checks that need them."""
    problems: list[Problem] = []
    frames = []
    for raw in raws:
        frame, found = _long_frame(raw, programme, file_label(raw))
        problems += found
        if frame is not None:
            frames.append(frame)
    if not frames:
        return Parsed(_empty_scores() if not problems else None, sort_problems(problems))
    frame = pd.concat(frames, ignore_index=True)
    units, found = _score_problems(frame, programme)
    problems += found

    present = (frame[_CIDX].to_numpy() >= 0) & (frame[C.EXPERT_ID].to_numpy() != "") & (
        frame[C.SUBMISSION_ID].to_numpy() != ""
    )
    usable = present.copy()
    if experts is not None:
        bad, found = _unknown(frame, C.EXPERT_ID, set(experts[C.EXPERT_ID]), "the experts file")
        problems += found
        usable &= ~bad
    if submissions is not None:
        bad, found = _unknown(frame, C.SUBMISSION_ID, set(submissions[C.SUBMISSION_ID]), "the submissions file")
        problems += found
        usable &= ~bad

    problems += _pair_problems(frame, present, usable, programme, submissions, experts)
    out = pd.DataFrame({
        C.EXPERT_ID: frame[C.EXPERT_ID],
        C.SUBMISSION_ID: frame[C.SUBMISSION_ID],
        C.CRITERION: np.array([*(c.id for c in programme.criteria), ""], dtype=object)[frame[_CIDX].to_numpy()],
        C.SCORE_UNITS: units,
        C.SOURCE_FILE: frame[C.SOURCE_FILE],
        C.SOURCE_ROW: frame[C.SOURCE_ROW],
        _CIDX: frame[_CIDX],
    })[usable]
    return Parsed(_sorted(out), sort_problems(problems))


def parse_scores(
    raws: Sequence[pd.DataFrame],
    programme: Programme,
    submissions: pd.DataFrame | None,
    experts: pd.DataFrame | None,
) -> pd.DataFrame:
    return validate_scores(raws, programme, submissions, experts).unwrap()


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values.to_numpy(), sort=True)
    return codes.astype("int64"), len(uniques)


def _pair_problems(
    frame: pd.DataFrame,
    present: np.ndarray,
    usable: np.ndarray,
    programme: Programme,
    submissions: pd.DataFrame | None,
    experts: pd.DataFrame | None,
) -> list[Problem]:
    """Duplicates, incomplete (expert, application) pairs and 回避 conflicts."""
    problems: list[Problem] = []
    part = frame[present]
    if part.empty:
        return problems
    e_code, _ = _codes(part[C.EXPERT_ID])
    s_code, n_s = _codes(part[C.SUBMISSION_ID])
    n_c = len(programme.criteria)
    pair = e_code * n_s + s_code
    key = pair * n_c + part[_CIDX].to_numpy()
    files, rows = part[C.SOURCE_FILE].to_numpy(), part[C.SOURCE_ROW].to_numpy()
    exp, sub, crit, cols = (part[c].to_numpy() for c in (C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, _COL))

    keys = pd.Series(key)
    dup = keys.duplicated(keep="first").to_numpy()
    if dup.any():
        first = pd.Series(np.arange(len(key)), index=key)[~dup]
        for i in np.flatnonzero(dup):
            j = int(first[key[i]])
            where = f"row {rows[j]}" if files[j] == files[i] else f"{files[j]} row {rows[j]}"
            problems.append(Problem(
                files[i],
                f"duplicate score: expert {exp[i]} already scored {sub[i]} on {crit[i]!r} at {where}",
                row=int(rows[i]), column=cols[i],
            ))

    ok = usable[present]
    first_of_pair = ~pd.Series(pair).duplicated(keep="first").to_numpy()
    pair_code, pair_ids = pd.factorize(pair)
    lead = first_of_pair & ok  # one row per usable (expert, application) pair

    conflicted = np.zeros(len(pair_ids), dtype=bool)
    if submissions is not None and experts is not None:
        experts_by_id = experts.drop_duplicates(C.EXPERT_ID).set_index(C.EXPERT_ID)
        org_code = pd.Series(exp[lead]).map(experts_by_id[C.ORG_CREDIT_CODE]).fillna("").to_numpy()
        applicant = submissions.drop_duplicates(C.SUBMISSION_ID).set_index(C.SUBMISSION_ID)[C.CREDIT_CODE]
        same = (org_code != "") & (org_code == pd.Series(sub[lead]).map(applicant).fillna("").to_numpy())
        lead_rows = np.flatnonzero(lead)
        for k in np.flatnonzero(same):
            i, code = lead_rows[k], org_code[k]
            conflicted[pair_code[i]] = True
            org_name = experts_by_id.at[exp[i], C.ORGANISATION] or code
            problems.append(Problem(
                files[i],
                f"回避 (conflict of interest): expert {exp[i]}'s organisation ({org_name}, {code}) "
                f"is the applicant of {sub[i]}; this expert must not score it — remove these scores",
                row=int(rows[i]), column=C.EXPERT_ID,
            ))

    bits = np.zeros(len(pair_ids), dtype="int64")
    seen = np.left_shift(1, part[_CIDX].to_numpy().astype("int64")) | part[_ASSUMED].to_numpy().astype("int64")
    np.bitwise_or.at(bits, pair_code, seen)
    incomplete = (bits != (1 << n_c) - 1) & ~conflicted
    for i in np.flatnonzero(lead & incomplete[pair_code]):
        have = int(bits[pair_code[i]])
        lacking = [c.id for b, c in enumerate(programme.criteria) if not have >> b & 1]
        problems.append(Problem(
            files[i],
            f"expert {exp[i]} scored {sub[i]} on some criteria only; missing: {', '.join(lacking)}",
            row=int(rows[i]),
        ))
    return problems


def _empty_scores() -> pd.DataFrame:
    return pd.DataFrame({
        C.EXPERT_ID: pd.Series([], dtype=object),
        C.SUBMISSION_ID: pd.Series([], dtype=object),
        C.CRITERION: pd.Series([], dtype=object),
        C.SCORE_UNITS: pd.Series([], dtype="int64"),
        C.SOURCE_FILE: pd.Series([], dtype=object),
        C.SOURCE_ROW: pd.Series([], dtype="int64"),
    })


def empty_scores() -> pd.DataFrame:
    """A typed score frame with no rows (programmes without experts)."""
    return _empty_scores()


def _sorted(out: pd.DataFrame) -> pd.DataFrame:
    """By submission_id, expert_id, then the programme's criterion order; stable."""
    s_code, _ = _codes(out[C.SUBMISSION_ID])
    e_code, _ = _codes(out[C.EXPERT_ID])
    order = np.lexsort((out[_CIDX].to_numpy(), e_code, s_code))
    result = out.iloc[order][list(SCORE_OUTPUT)].reset_index(drop=True)
    return result.astype({C.SCORE_UNITS: "int64", C.SOURCE_ROW: "int64"})

