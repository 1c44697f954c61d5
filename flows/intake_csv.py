"""Reading a CSV file into a grid of strings, for `flows.intake.read_table`.

The file may be UTF-8 (with or without BOM) or GB18030; an Excel workbook or a
UTF-16 text saved with a .csv name is named as such. Cells are stripped of
surrounding spaces as a person sees them, but only when some cell can be padded:
checking that on the bytes is much cheaper than stripping 500,000 cells.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.errors import InputError, Problem

# Every character str.strip() removes, but for line ends. Looking for each in the whole text is a
# fast memchr, so a CSV with no spaces at all (typical of large score files) is not stripped cell by cell.
_SPACES_BUT_NEWLINES = " \t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_SPACES = [ch for ch in _SPACES_BUT_NEWLINES if ch.isascii()]
_OTHER_SPACES = [ch for ch in _SPACES_BUT_NEWLINES if not ch.isascii()]


def csv_grid(path: Path, label: str, *, categorical: bool = False) -> pd.DataFrame:
    """The cells of a CSV file as a frame of strings (columns 0..n-1, row i = line i+1)."""
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise InputError(Problem(label, "this is an Excel workbook with a .csv name; rename it to .xlsx"))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(Problem(label, "saved as UTF-16 text; save it as 'CSV UTF-8' (or GB18030) instead"))
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise InputError(Problem(label, "the file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'"))
    if not text or text.isspace():
        raise InputError(Problem(label, "the file is empty"))
    try:
        grid = pd.read_csv(
            io.BytesIO(data), encoding=encoding, header=None, dtype="category" if categorical else str,
            keep_default_na=False, na_filter=False, skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        # rows longer than the first, or a blank first line: the csv module and padding (rarer, slower)
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
        width = max(len(r) for r in rows)
        grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    if _may_have_padded_cells(text, data.removeprefix(codecs.BOM_UTF8) if encoding == "utf-8-sig" else data):
        for col in grid.columns:
            if isinstance(grid[col].dtype, pd.CategoricalDtype):
                codes, uniques = grid[col].cat.codes.to_numpy(), grid[col].cat.categories
            else:
                codes, uniques = pd.factorize(grid[col].to_numpy())
            stripped = [u.strip() for u in uniques]
            if isinstance(grid[col].dtype, pd.CategoricalDtype):
                again, distinct = pd.factorize(np.array(stripped, dtype=object))
                grid[col] = pd.Categorical.from_codes(again[codes], categories=distinct)
            else:
                grid[col] = np.array(stripped, dtype=object)[codes]
    return grid


def _may_have_padded_cells(text: str, raw: bytes) -> bool:
    """Whether some cell of a CSV text may start or end with a space (False: stripping changes nothing).

    A cell's first character follows a comma, a line end, an opening quote or the
    start of the text, and its last character precedes a comma, a line end, a
    closing quote or the end. So unless a space-like character stands next to one
    of those, no cell is padded — typically a file whose only spaces are inside
    values ("2026-07-01 09:30"). A false alarm costs only the strip; newlines
    count (like every other space) only where some space-like character is in the text.

    `raw` is the text's bytes (after a UTF-8 BOM). The ASCII spaces, commas, quotes
    and line ends are single bytes in UTF-8 and GB18030 alike, never part of another
    character, so they are found with array operations on the bytes; the rare
    other spaces (U+3000 …) are searched in the text.
    """
    ascii_present = [ord(ch) for ch in _ASCII_SPACES if ch.encode("ascii") in raw]
    others = [ch for ch in _OTHER_SPACES if ch in text]
    if not ascii_present and not others:
        return False
    octets = np.frombuffer(raw, dtype=np.uint8)
    if b'"' in raw and _touches(octets, [ord('"')], b"\n\r"):
        return True  # a quoted cell may start or end with a line break
    if ascii_present and _touches(octets, ascii_present, b',\n\r"', or_ends=True):
        return True
    for ch in others:
        if text.startswith(ch) or text.endswith(ch):
            return True
        if any(edge + ch in text or ch + edge in text for edge in (",", "\n", "\r", '"')):
            return True
    return False


def _touches(octets: np.ndarray, values: list[int], neighbours: bytes, *, or_ends: bool = False) -> bool:
    """Whether a byte of `values` has a byte of `neighbours` just before or after it (or starts or ends the data)."""
    hit = octets == values[0]
    for v in values[1:]:
        hit |= octets == v
    at = np.flatnonzero(hit)
    if not len(at):
        return False
    last = len(octets) - 1
    if or_ends and (at[0] == 0 or at[-1] == last):
        return True
    near = np.zeros(256, dtype=bool)
    near[list(neighbours)] = True
    return bool(near[octets[at[at > 0] - 1]].any() or near[octets[at[at < last] + 1]].any())
