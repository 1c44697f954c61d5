"""Byte-for-byte reproducible xlsx files.

openpyxl stamps a workbook with the time of saving (docProps/core.xml
`dcterms:modified`, overwritten inside `save`) and every zip entry with the
current time. A round must give byte-identical outputs for the same inputs, so
`workbook_bytes` saves to memory, pins the document times and rewrites the zip
with a fixed entry time, order and compression. `write_workbook_deterministic`
writes those bytes atomically (temporary file + rename: a reader never sees a
half-written workbook).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is imported lazily by callers; only the type is needed here
    from openpyxl import Workbook

FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")
_FIXED_W3C = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()


def deterministic_zip(data: bytes) -> bytes:
    """The same zip (xlsx) with fixed entry times, attributes and compression; core.xml times pinned."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # openpyxl writes entries in a fixed order; keep it
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 3
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIMES.sub(rb"\g<1>" + _FIXED_W3C + rb"\g<2>", content)
            dst.writestr(fixed, content, compresslevel=6)
    return out.getvalue()


def workbook_bytes(wb: "Workbook", *, creator: str = "rounds") -> bytes:
    """The workbook as reproducible xlsx bytes (for all-or-nothing writers that collect bytes first)."""
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME  # openpyxl overwrites this on save; pinned again in the zip
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue())


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same folder and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_workbook_deterministic(wb: "Workbook", path: str | os.PathLike[str], *, creator: str = "rounds") -> None:
    """Save `wb` to `path` so that the same workbook content always gives the same bytes."""
    write_bytes_atomic(path, workbook_bytes(wb, creator=creator))
