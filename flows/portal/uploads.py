"""Uploaded score sheets: only .xlsx and .csv, checked for what they are before anything parses them.

- The client's file name only chooses between the two formats; it never names a
  path. The bytes are written to a fresh private temporary folder as
  `upload.xlsx` or `upload.csv` and read from there.
- An .xlsx must be a zip holding the parts of a workbook, with at most
  `max_zip_entries` parts whose sizes add up to at most `max_unzipped_bytes`
  (summed from the zip's directory, then enforced while reading every part:
  Python's zipfile stops at the declared size and checks the CRC, so a part
  that lies about its size is refused too). No encrypted parts, no absolute or
  `..` names, no DOCTYPE or entity declarations in the XML.
- Nothing is evaluated: a cell holding a formula is refused (the reader would
  only see the value Excel cached, which a person did not type).
- A .csv must be text (UTF-8 or GB18030, no NUL bytes); the reader decodes it.
"""
from __future__ import annotations

import io
import re
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Iterator
from xml.etree import ElementTree

from flows.portal.settings import PortalSettings

REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


class UploadRefused(Exception):
    """The upload is not a score sheet the portal will read; the message is for the expert (Chinese)."""


def upload_kind(filename: str | None) -> str:
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise UploadRefused("只接受 .xlsx（Excel 工作簿）或 .csv 文件；请把评分表另存为其中一种格式后再上传")
    return suffix


def check_xlsx(data: bytes, settings: PortalSettings) -> None:
    if not data.startswith(b"PK\x03\x04"):
        raise UploadRefused("文件不是有效的 .xlsx 工作簿（可能设置了打开密码，或是其他格式改了扩展名）；请在 Excel 或 WPS 中另存为 .xlsx")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise UploadRefused("文件已损坏，不是有效的 .xlsx 工作簿；请重新保存后上传") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > settings.max_zip_entries:
            raise UploadRefused(f"工作簿包含的部件过多（{len(infos)}个，上限{settings.max_zip_entries}个），不像是评分表")
        declared = sum(i.file_size for i in infos)
        if declared > settings.max_unzipped_bytes:
            raise UploadRefused(f"工作簿解压后过大（{declared // (1024 * 1024)} MB，上限"
                                f"{settings.max_unzipped_bytes // (1024 * 1024)} MB），不像是评分表")
        names = {i.filename for i in infos}
        for info in infos:
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in PurePosixPath(name.replace("\\", "/")).parts:
                raise UploadRefused("工作簿中含有异常的部件名称，已拒绝")
            if info.flag_bits & 0x1:
                raise UploadRefused("工作簿已加密（设置了密码）；请取消密码后另存为 .xlsx 再上传")
        missing = [p for p in REQUIRED_PARTS if p not in names]
        sheets = sorted(n for n in names if _WORKSHEET.match(n))
        if missing or not sheets:
            raise UploadRefused("文件不是有效的 .xlsx 工作簿（缺少工作簿的必要部件）；请在 Excel 或 WPS 中另存为 .xlsx")
        total = 0
        contents: dict[str, bytes] = {}
        try:
            for info in infos:
                with zf.open(info) as part:
                    chunk_total = 0
                    chunks = []
                    while block := part.read(1 << 16):
                        chunk_total += len(block)
                        total += len(block)
                        if total > settings.max_unzipped_bytes:
                            raise UploadRefused("工作簿解压后过大，不像是评分表")
                        if info.filename in sheets or info.filename.endswith(".xml"):
                            chunks.append(block)
                    if chunks:
                        contents[info.filename] = b"".join(chunks)
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError):
            raise UploadRefused("文件已损坏，不是有效的 .xlsx 工作簿；请重新保存后上传") from None
    for name, xml in contents.items():
        if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
            raise UploadRefused("工作簿中含有不允许的 XML 声明，已拒绝")
    cells = [cell for name in sheets for cell in formula_cells(contents.get(name, b""))]
    if cells:
        shown = "、".join(cells[:10]) + ("等" if len(cells) > 10 else "")
        raise UploadRefused(f"单元格 {shown} 含有公式；评分表只接受直接填写的数值，请把公式改为数值后再上传")


def formula_cells(sheet_xml: bytes) -> list[str]:
    """References (E2, …) of cells that hold a formula, in document order."""
    if not _FORMULA_TAG.search(sheet_xml):
        return []
    found = []
    try:
        for _, elem in ElementTree.iterparse(io.BytesIO(sheet_xml), events=("end",)):
            if elem.tag.rsplit("}", 1)[-1] == "c":
                if any(child.tag.rsplit("}", 1)[-1] == "f" for child in elem):
                    found.append(elem.get("r") or "?")
                elem.clear()
    except ElementTree.ParseError:
        raise UploadRefused("工作表内容已损坏，无法读取；请重新保存后上传") from None
    return found


def check_csv(data: bytes) -> None:
    if data.startswith(b"PK\x03\x04"):
        raise UploadRefused("这是 Excel 工作簿，却以 .csv 为扩展名；请改为 .xlsx 后上传")
    if b"\x00" in data:
        raise UploadRefused("文件不是文本格式的 CSV（含有二进制内容）；请在 Excel 或 WPS 中另存为“CSV UTF-8”")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
            return
        except UnicodeDecodeError:
            continue
    raise UploadRefused("CSV 文件编码无法识别；请另存为“CSV UTF-8”")


@contextmanager
def staged_upload(data: bytes, filename: str | None, settings: PortalSettings) -> Iterator[Path]:
    """Check the upload; yield the path of a private copy named upload.xlsx|.csv; remove it afterwards."""
    if not data:
        raise UploadRefused("没有收到文件内容（文件为空）")
    kind = upload_kind(filename)
    if kind == ".xlsx":
        check_xlsx(data, settings)
    else:
        check_csv(data)
    with tempfile.TemporaryDirectory(prefix="rounds-portal-upload-") as folder:
        path = Path(folder) / f"upload{kind}"
        path.write_bytes(data)
        yield path
