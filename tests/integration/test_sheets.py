"""Score sheets as real xlsx files: contract header, validation, protection, determinism, LibreOffice."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flows.intake import read_table
from flows.sheets import INSTRUCTIONS_SHEET, SCORE_SHEET, score_sheet_header, write_score_sheet, write_score_sheets
from flows.xlsx import workbook_bytes
from scoring.intake_scores import validate_scores
from scoring.rules import parse_programme

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def programme():
    path = ROOT / "data/programmes/scenario.toml"
    return parse_programme(tomllib.loads(path.read_text(encoding="utf-8")), path.name)


@pytest.fixture
def apps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": ["S003", "S001", "S002"],
            "enterprise_name": ["福州甲智能科技有限公司", "闽江乙数据股份有限公司", "海峡丙视觉有限公司"],
            "credit_code": ["91350100MA00000001", "91350100MA00000002", "91350100MA00000003"],
            "title": ["智慧港口调度", "工业质检大模型", "城市治理视觉平台"],
        }
    )


EXPERT = {"expert_id": "E007", "name": "王五", "email": "e7@example.org"}


def test_sheet_layout_is_the_intake_contract(tmp_path, programme, apps):
    path = tmp_path / "E007.xlsx"
    write_score_sheet(path, EXPERT, apps, programme)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [SCORE_SHEET, INSTRUCTIONS_SHEET]
    ws = wb[SCORE_SHEET]
    header = [c.value for c in ws[1]]
    assert header == ["expert_id", "submission_id", "enterprise_name", "title",
                      "innovation", "effectiveness", "replicability", "maturity", "benefit", "comment"]
    assert header == score_sheet_header(programme)
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[1] for r in rows] == ["S001", "S002", "S003"]  # one row per application, sorted
    assert all(r[0] == "E007" for r in rows)
    assert all(v is None for r in rows for v in r[4:])  # nothing pre-filled; no other expert's scores
    assert "91350100" not in "".join(str(v) for r in rows for v in r)
    # Chinese names and ranges in the header comments
    assert "创新性" in ws["E1"].comment.text and "0–25" in ws["E1"].comment.text
    assert "应用成效" in ws["F1"].comment.text and "0–30" in ws["F1"].comment.text
    assert ws.freeze_panes == "E2"


def test_every_criterion_column_has_range_validation(tmp_path, programme, apps):
    path = tmp_path / "E007.xlsx"
    write_score_sheet(path, EXPERT, apps, programme)
    ws = openpyxl.load_workbook(path)[SCORE_SHEET]
    found = {}
    for dv in ws.data_validations.dataValidation:
        found[str(dv.sqref)] = dv
    expected = {"E2:E4": "25", "F2:F4": "30", "G2:G4": "20", "H2:H4": "15", "I2:I4": "10"}
    assert set(found) == set(expected)
    for ref, top in expected.items():
        dv = found[ref]
        assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("decimal", "between", "0", top)
        assert dv.showErrorMessage and dv.errorStyle == "stop"
        assert f"0到{top}" in dv.error and dv.errorTitle == "分值超出范围"


def test_protection_locks_ids_and_header_and_unlocks_scores(tmp_path, programme, apps):
    path = tmp_path / "E007.xlsx"
    write_score_sheet(path, EXPERT, apps, programme)
    wb = openpyxl.load_workbook(path)
    ws = wb[SCORE_SHEET]
    assert ws.protection.sheet and wb[INSTRUCTIONS_SHEET].protection.sheet
    assert wb.security.lockStructure
    for row in ws.iter_rows(min_row=1, max_row=4):
        for cell in row:
            header_or_id = cell.row == 1 or cell.column <= 4
            assert cell.protection.locked == header_or_id, cell.coordinate


def test_instructions_in_chinese(tmp_path, programme, apps):
    path = tmp_path / "E007.xlsx"
    write_score_sheet(path, EXPERT, apps, programme, deadline="2026年9月30日", return_to="发送至 pingshen@example.gov.cn")
    text = "\n".join(
        str(v) for row in openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET].iter_rows(values_only=True) for v in row if v
    )
    for needle in ("回避", "保密", "交回", "权重", "去掉一个最高分和一个最低分", "王五", "2026年9月30日",
                   "pingshen@example.gov.cn", "创新性", "经济社会效益", "最多2位小数"):
        assert needle in text, needle


def test_same_inputs_same_bytes_even_across_processes(tmp_path, programme, apps):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_score_sheet(a, EXPERT, apps, programme)
    write_score_sheet(b, EXPERT, apps.iloc[::-1], programme)  # row order of the input does not matter
    assert a.read_bytes() == b.read_bytes()
    code = (
        "import sys, tomllib, pandas as pd; sys.path.insert(0, sys.argv[1]);"
        "from scoring.rules import parse_programme; from flows.sheets import write_score_sheet;"
        "p = parse_programme(tomllib.load(open(sys.argv[1] + '/data/programmes/scenario.toml', 'rb')), 'x');"
        "apps = pd.read_json(sys.argv[3]);"
        "write_score_sheet(sys.argv[2], {'expert_id': 'E007', 'name': '王五'}, apps, p)"
    )
    apps_json = tmp_path / "apps.json"
    apps.to_json(apps_json, force_ascii=False)
    c = tmp_path / "c.xlsx"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(c), str(apps_json)], check=True, env=env)
    assert hashlib.sha256(c.read_bytes()).hexdigest() == hashlib.sha256(a.read_bytes()).hexdigest()
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_workbook_bytes_pins_the_save_time():
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    data = workbook_bytes(wb)
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as zf:
        core = zf.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:modified[^>]*>([^<]*)<", core) == ["2026-01-01T00:00:00Z"]


def test_one_sheet_per_expert_with_only_their_applications(tmp_path, programme, apps):
    experts = pd.DataFrame({"expert_id": ["E1", "E2", "E3"], "name": ["甲", "乙", "丙"]})
    assignment = pd.DataFrame({"expert_id": ["E1", "E1", "E2", "E2", "E3"],
                               "submission_id": ["S001", "S003", "S002", "S003", "S001"]})
    paths = write_score_sheets(tmp_path / "sheets", experts, apps, assignment, programme)
    assert [p.name for p in paths] == ["E1.xlsx", "E2.xlsx", "E3.xlsx"]
    for path in paths:
        ws = openpyxl.load_workbook(path)[SCORE_SHEET]
        listed = {(r[0], r[1]) for r in ws.iter_rows(min_row=2, values_only=True)}
        expected = {tuple(x) for x in assignment[assignment["expert_id"] == path.stem].to_numpy()}
        assert listed == expected


def test_a_filled_sheet_reads_back_through_intake(tmp_path, programme, apps):
    path = tmp_path / "E007.xlsx"
    write_score_sheet(path, EXPERT, apps, programme)
    wb = openpyxl.load_workbook(path)
    ws = wb[SCORE_SHEET]
    filled = {"S001": [20, 25.5, 15, 12, 8], "S002": [18, 22, 14.25, 10, 7], "S003": [25, 30, 20, 15, 10]}
    for r in range(2, 5):
        for j, v in enumerate(filled[ws.cell(r, 2).value]):
            ws.cell(r, 5 + j).value = v
    ws.cell(2, 10).value = "场景清晰"
    wb.save(path)  # as an expert's Excel would: keeps validation and protection
    raw = read_table(path, "scores/E007.xlsx")
    parsed = validate_scores([raw], programme, None, None)
    assert not parsed.problems, parsed.problems
    got = parsed.frame.set_index(["submission_id", "criterion"])["score_units"]
    assert got[("S001", "effectiveness")] == 2550 and got[("S002", "replicability")] == 1425
    assert set(parsed.frame["expert_id"]) == {"E007"} and len(parsed.frame) == 15


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
def test_libreoffice_opens_the_sheet_with_working_validation(tmp_path, programme, apps):
    path = tmp_path / "E007.xlsx"
    write_score_sheet(path, EXPERT, apps, programme)
    out = tmp_path / "lo"
    profile = (tmp_path / "profile").as_uri()
    for fmt in ("ods", "xlsx"):
        subprocess.run(
            [_soffice(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", fmt,
             "--outdir", str(out / fmt), str(path)],
            check=True, capture_output=True, timeout=120,
        )
    # LibreOffice's own model, written back out as ODF: five decimal-between rules with the Chinese message,
    # attached to the score sheet's cells; both sheets protected
    content = zipfile.ZipFile(out / "ods" / "E007.ods").read("content.xml").decode()
    rules = re.findall(r'table:condition="of:cell-content-is-decimal-number\(\) and cell-content-is-between\(0,(\d+)\)"',
                       content)
    assert sorted(rules, key=int) == ["10", "15", "20", "25", "30"]
    assert "“创新性”的分值应为0到25之间的数字" in content
    score_table = content[content.index('table:name="评分表"'):content.index('table:name="说明"')]
    assert score_table.count("table:content-validation-name") >= 5
    assert content.count('table:protected="true"') == 2
    # and re-saved as xlsx by LibreOffice: validation and locking survive the round trip
    ws = openpyxl.load_workbook(out / "xlsx" / "E007.xlsx")[SCORE_SHEET]
    tops = sorted(Decimal(dv.formula2) for dv in ws.data_validations.dataValidation if dv.type == "decimal")
    assert tops == [10, 15, 20, 25, 30]
    assert ws.protection.sheet and ws["B2"].protection.locked and not ws["E2"].protection.locked
    assert [c.value for c in ws[1]] == score_sheet_header(programme)
