"""Reading a round workspace: files → raw tables of strings → typed frames (via scoring.intake).

This is the only place that opens input files. `read_table` turns a CSV (UTF-8,
UTF-8 with BOM or GB18030) or an xlsx sheet into a frame whose cells are
stripped strings, exactly as a person sees them, with `_row` (the row number in
the file) and `_file` (the file's name in the workspace). Excel values are
rendered as text carefully (85.0 → "85", dates → ISO) and formulas are never
evaluated. `load_workspace` reads every input of a round, validates it with the
pure core, and raises one `InputError` listing every problem of every file, so
a manager fixes them all in one pass and nothing is ever half-loaded.
"""
from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Collection, Sequence

import numpy as np
import pandas as pd

from flows.intake_csv import csv_grid
from scoring import columns as C
from scoring.errors import InputError, Problem
from scoring.intake import (
    empty_excluded_products,
    empty_experts,
    empty_prior_awards,
    validate_excluded_products,
    validate_experts,
    validate_prior_awards,
    validate_submissions,
)
from scoring.intake_scores import empty_scores, validate_scores
from scoring.rules import Programme

SCORE_SHEET = "评分表"
READABLE = (".xlsx", ".csv")
# spreadsheet formats a manager may save by mistake: named, with how to fix it
OTHER_SPREADSHEETS = (".xls", ".xlsm", ".xlsb", ".ods", ".et", ".numbers", ".tsv", ".txt")
HEADER_SEARCH_ROWS = 30
EXCEL_DIGITS = 10**15  # Excel keeps 15 significant digits: a longer whole number has lost some

# --- reading one file ----------------------------------------------------------------------------


def read_table(
    path: Path, label: str, *, header_names: Collection[str] = (), categorical: bool = False
) -> pd.DataFrame:
    """One table as stripped strings plus `_row` and `_file`; raises InputError naming the file.

    The header is the first non-empty row, or, when `header_names` are given,
    the first of the first 30 non-empty rows that contains one of them (so that a
    sheet may carry instructions above its header). Fully empty rows are skipped.
    `categorical=True` returns a CSV's columns as pandas categoricals (the same
    strings; their categories may include values only the header or a skipped row
    holds): for long score sheets, where every value repeats, the parser then
    hashes each cell once and later checks work on the distinct values.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        grid, problems = csv_grid(path, label, categorical=categorical), []
    elif suffix == ".xlsx":
        grid, problems = _xlsx_grid(path, label)
    else:
        raise InputError(Problem(label, f"cannot read {suffix or 'this'} files; save it as .xlsx or .csv"))
    return _table(grid, label, header_names, problems)


def _xlsx_grid(path: Path, label: str) -> tuple[pd.DataFrame, list[tuple[int, int, str]]]:
    """The cells of the score sheet (评分表) or first worksheet, as text; plus cells to flag.

    python-calamine reads the values Excel saved (a formula's cached result);
    formulas without a saved result and error values (#DIV/0!) are flagged, found
    with openpyxl only when the workbook contains any at all.
    """
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_path(str(path))
        meta = [m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if not meta:
            raise InputError(Problem(label, "the workbook has no worksheet"))
        visible = [m.name for m in meta if m.visible == SheetVisibleEnum.Visible]
        names = [m.name for m in meta]
        name = SCORE_SHEET if SCORE_SHEET in names else (visible or names)[0]
        values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except CalamineError as err:
        if type(err).__name__ == "PasswordError":
            raise InputError(Problem(label, "the workbook is password-protected; save it without a password")) from None
        raise InputError(Problem(label, f"not a readable Excel workbook ({err}); save it again as .xlsx")) from None
    flags: list[tuple[int, int, str]] = []
    cells = []
    for r, row in enumerate(values):
        out = []
        for c, v in enumerate(row):
            text, flag = _cell_text(v)
            out.append(text)
            if flag:
                flags.append((r, c, flag))
        cells.append(out)
    flags += _formula_flags(path, name, cells)
    return pd.DataFrame(cells, dtype=object), flags


def _cell_text(v: Any) -> tuple[str, str]:
    """An Excel value as the text a person sees, and why it must be flagged ("" when fine)."""
    if isinstance(v, str):
        return v.strip(), ""
    if isinstance(v, bool):
        return ("true" if v else "false"), ""
    if isinstance(v, int):
        return str(v), ""
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return "", "the cell holds no valid number"
        if v.is_integer():
            if abs(v) >= EXCEL_DIGITS:
                return str(int(v)), (
                    "a number this long has lost digits in Excel (it keeps 15); format the column as text "
                    "and type the value again"
                )
            return str(int(v)), ""
        shown = float(format(v, ".15g"))  # what Excel displays; drops binary noise like 8.300000000000001
        return (str(int(shown)) if shown.is_integer() else format(Decimal(repr(shown)), "f")), ""
    if isinstance(v, dt.datetime):
        v = (v + dt.timedelta(microseconds=500_000)).replace(microsecond=0) if v.microsecond else v
        return v.strftime("%Y-%m-%d %H:%M:%S"), ""
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d"), ""
    if isinstance(v, dt.time):
        return v.replace(microsecond=0).strftime("%H:%M:%S"), ""
    if isinstance(v, dt.timedelta):
        secs = int(round(v.total_seconds()))
        return f"{secs // 3600}:{secs % 3600 // 60:02d}:{secs % 60:02d}", ""
    return str(v).strip(), ""


def _formula_flags(path: Path, sheet: str, cells: list[list[str]]) -> list[tuple[int, int, str]]:
    """Formula cells with no saved result and error cells of `sheet` (0-based row, col, message)."""
    try:
        with zipfile.ZipFile(path) as zf:
            parts = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            if not any(b"<f" in xml or b't="e"' in xml for xml in map(zf.read, parts)):
                return []
    except zipfile.BadZipFile:
        return []
    import openpyxl

    flags = []
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for row in book[sheet].iter_rows():
            for cell in row:
                kind = getattr(cell, "data_type", None)
                if kind not in ("e", "f"):
                    continue
                r, c = cell.row - 1, cell.column - 1
                have = r < len(cells) and c < len(cells[r]) and cells[r][c] != ""
                if kind == "e":
                    flags.append((r, c, f"the cell shows the Excel error {cell.value}; type a value instead"))
                elif kind == "f" and not have:
                    flags.append((r, c, f"the cell holds a formula ({cell.value}) with no saved result; "
                                        "type the value instead, or open and save the file in Excel or WPS"))
    finally:
        book.close()
    return flags


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based index (0 → A, 26 → AA)."""
    s = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        s = chr(65 + rem) + s
    return s


def _table(grid: pd.DataFrame, label: str, header_names: Collection[str], flags: list) -> pd.DataFrame:
    """Header, row numbers and checks common to CSV and xlsx; raises InputError on problems."""
    if grid.shape[1] == 0:
        raise InputError(Problem(label, "the file is empty"))
    first = (grid[grid.columns[0]] == "").to_numpy()
    blank = first.copy()
    if blank.any():
        blank[blank] = (grid[blank] == "").all(axis=1).to_numpy()
    filled = np.flatnonzero(~blank)
    if not len(filled):
        raise InputError(Problem(label, "the file is empty"))
    head = filled[0]
    wanted = set(header_names)
    for i in filled[:HEADER_SEARCH_ROWS] if wanted else ():
        if wanted & set(grid.iloc[i]):
            head = i
            break
    names = list(grid.iloc[head])
    data_rows = filled[filled > head]
    contiguous = len(data_rows) == len(grid) - head - 1  # no blank rows below the header: a cheap slice
    body = grid.iloc[head + 1:] if contiguous else grid.iloc[data_rows]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    keep: list[int] = []
    for pos, name in enumerate(names):
        if name == "":
            used = np.flatnonzero((body[grid.columns[pos]] != "").to_numpy())
            if len(used):
                problems.append(Problem(
                    label, f"column {_letter(pos)} has values but no header; give it a name or clear it",
                    row=int(data_rows[used[0]]) + 1,
                ))
            continue
        if name in seen:
            problems.append(Problem(
                label, f"the column name appears twice (columns {_letter(seen[name])} and {_letter(pos)}); "
                "rename or remove one", row=int(head) + 1, column=name,
            ))
            continue
        seen[name] = pos
        keep.append(pos)
    for r, c, message in sorted(flags):
        if r > head and c < len(names) and names[c]:
            problems.append(Problem(label, message, row=r + 1, column=names[c]))
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame({names[p]: _cells(body[grid.columns[p]]) for p in keep})
    frame[C.SOURCE_FILE] = label
    frame[C.SOURCE_ROW] = (data_rows + 1).astype("int64")
    frame.attrs["file"] = label
    frame.attrs["header_row"] = int(head) + 1
    return frame


def _cells(column: pd.Series) -> pd.Categorical | np.ndarray:
    """A column's cells without its index: categoricals as they are, anything else as an object array."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return column.to_numpy(dtype=object)


# --- reading a workspace --------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundInputs:
    """Every input of a round as typed frames, and the files they came from (for the manifest)."""

    submissions: pd.DataFrame
    experts: pd.DataFrame
    scores: pd.DataFrame
    excluded_products: pd.DataFrame
    prior_awards: pd.DataFrame
    files: tuple[Path, ...]


def _find(folder: Path, stem: str, prefix: str, problems: list[Problem], *, required: bool) -> Path | None:
    """The one `<stem>.xlsx|.csv` in `folder` (case-insensitive), noting what is wrong otherwise."""
    entries = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    mine = [p for p in entries if p.stem.lower() == stem and not p.name.startswith(("~$", "."))]
    found = [p for p in mine if p.suffix.lower() in READABLE]
    for p in mine:
        if p.suffix.lower() in OTHER_SPREADSHEETS:
            problems.append(Problem(prefix + p.name, f"cannot read {p.suffix} files; save it as {stem}.xlsx or {stem}.csv"))
    if len(found) > 1:
        names = " and ".join(prefix + p.name for p in found)
        problems.append(Problem(prefix + f"{stem}.xlsx|.csv", f"both {names} are present; keep only one"))
        return None
    if not found:
        if required and not any(p.suffix.lower() in OTHER_SPREADSHEETS for p in mine):
            problems.append(Problem(prefix + f"{stem}.xlsx|.csv", "not found in the workspace; it is required"))
        return None
    return found[0]


def _score_files(folder: Path, problems: list[Problem]) -> list[Path]:
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if not p.is_file() or p.name.startswith(("~$", ".")):
            continue  # Excel/WPS lock files and hidden files
        if p.suffix.lower() in READABLE:
            out.append(p)
        elif p.suffix.lower() in OTHER_SPREADSHEETS:
            problems.append(Problem(f"scores/{p.name}", f"cannot read {p.suffix} files; save it as .xlsx or .csv"))
    return out


def load_workspace(
    workspace: Path,
    programme: Programme,
    *,
    require_scores: bool = True,
    assigned: pd.DataFrame | None = None,
    extra_score_files: Sequence[tuple[Path, str]] = (),
) -> RoundInputs:
    """Read and check every input file of a round; one InputError lists all problems of all files.

    Programmes without expert scoring (kind "filing" or "claim") need no experts
    file and no score sheets. `require_scores=False` (expert assignment, before any
    sheet is back) accepts a round without score sheets. With `assigned` (the
    round's expert assignment), a score for a pair not assigned is a problem.
    `extra_score_files` are (path, label) pairs read as if they were in scores/
    (uploads being collected).
    """
    workspace = Path(workspace)
    problems: list[Problem] = []
    files: list[Path] = []
    scored = programme.kind in ("scored", "composite")

    def read(
        path: Path | None, header_names: Collection[str], label: str | None = None, *, categorical: bool = False
    ) -> pd.DataFrame | None:
        if path is None:
            return None
        label = label or path.relative_to(workspace).as_posix()
        files.append(path)
        try:
            return read_table(path, label, header_names=header_names, categorical=categorical)
        except InputError as err:
            problems.extend(err.problems)
            return None

    def check(raw: pd.DataFrame | None, validate, what: str, *, must_have_rows: bool):  # noqa: ANN001
        if raw is None:
            return None
        if must_have_rows and raw.empty:
            problems.append(Problem(raw.attrs["file"], f"has a header but no {what}"))
        parsed = validate(raw)
        problems.extend(parsed.problems)
        return parsed.frame

    subs_raw = read(_find(workspace, "submissions", "", problems, required=True), (C.SUBMISSION_ID,))
    submissions = check(subs_raw, lambda r: validate_submissions(r, programme), "applications", must_have_rows=True)

    experts = scores = None
    if scored:
        exp_raw = read(_find(workspace, "experts", "", problems, required=True), (C.EXPERT_ID,))
        experts = check(exp_raw, validate_experts, "experts", must_have_rows=True)
        score_raws = []
        sources = [(p, None) for p in _score_files(workspace / "scores", problems)] + list(extra_score_files)
        for path, label in sources:
            raw = read(path, (C.EXPERT_ID, C.SUBMISSION_ID), label, categorical=True)
            if raw is not None:
                if raw.empty:
                    problems.append(Problem(raw.attrs["file"], "has a header but no scores"))
                score_raws.append(raw)
        if not score_raws and require_scores and not any(p.file.startswith("scores/") for p in problems):
            problems.append(Problem("scores/", "no score sheets found (.xlsx or .csv files in the scores folder)"))
        parsed = validate_scores(score_raws, programme, submissions, experts, assigned=assigned)
        problems.extend(parsed.problems)
        scores = parsed.frame

    refs = workspace / "references"
    excluded = check(
        read(_find(refs, "excluded_products", "references/", problems, required=False), (C.PRODUCT_NAME,)),
        validate_excluded_products, "rows", must_have_rows=False,
    )
    prior = check(
        read(_find(refs, "prior_awards", "references/", problems, required=False), (C.PROJECT_TITLE,)),
        validate_prior_awards, "rows", must_have_rows=False,
    )
    if problems:
        raise InputError(list(problems))
    assert submissions is not None
    return RoundInputs(
        submissions=submissions,
        experts=experts if experts is not None else empty_experts(),
        scores=scores if scores is not None else empty_scores(),
        excluded_products=excluded if excluded is not None else empty_excluded_products(),
        prior_awards=prior if prior is not None else empty_prior_awards(),
        files=tuple(sorted((f for f in files if f.is_relative_to(workspace)),
                           key=lambda p: p.relative_to(workspace).as_posix())),
    )
