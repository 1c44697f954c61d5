"""Intake from real files: CSV in three encodings, a Chinese-locale xlsx, whole workspaces."""
from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flows.intake import RoundInputs, load_workspace, read_table
from scoring import columns as C
from scoring.errors import InputError
from scoring.intake import parse_submissions
from scoring.intake_scores import parse_scores
from scoring.rules import Programme, merge_overrides, parse_programme
from scoring.uscc import make_uscc

REPO = Path(__file__).resolve().parents[2]
CRITERIA = ["innovation", "effectiveness", "replicability", "maturity", "benefit"]
SUB_HEADER = [*C.SUBMISSION_COLUMNS, "category", "district"]
CODE_A = make_uscc("91350100MA2AAAAA1")
CODE_B = make_uscc("91350102MA2BBBBB2")
CODE_ORG = make_uscc("12350000488600659")


def programme(**overrides) -> Programme:
    data = tomllib.loads((REPO / "data/programmes/scenario.toml").read_text("utf-8"))
    return parse_programme(merge_overrides(data, overrides), "scenario.toml")


def filing_programme() -> Programme:
    data = tomllib.loads((REPO / "data/programmes/scenario.toml").read_text("utf-8"))
    for key in ("criteria", "scoring"):
        data.pop(key)
    data.update(kind="filing", columns=[
        {"id": "model_name", "label": "模型名称", "type": "text"},
        {"id": "filing_level", "label": "备案层级", "type": "choice", "choices": ["national", "provincial"]},
        {"id": "filed_on", "label": "备案日期", "type": "date"},
    ])
    return parse_programme(data, "filing.toml")


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


SUB_ROWS = [
    ["S001", " 福州智算科技有限公司 ", CODE_A, "张三", "zhang@example.cn", "智慧港口“一网统管”调度", "2026-07-01 09:30", "scenario", "鼓楼区"],
    ["S002", "福州闽江数据有限公司\u3000", CODE_B.lower(), "李四", "li@example.cn", "工业质检大模型, 第二期", "2026年7月2日 14:05", "key_project", "仓山区"],
]


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_give_the_same_table(tmp_path, encoding):
    path = write_csv(tmp_path / "submissions.csv", [SUB_HEADER, *SUB_ROWS], encoding)
    raw = read_table(path, "submissions.csv", header_names=[C.SUBMISSION_ID])
    assert list(raw.columns) == [*SUB_HEADER, C.SOURCE_FILE, C.SOURCE_ROW]  # no BOM in the first name
    assert raw[C.ENTERPRISE_NAME].tolist() == ["福州智算科技有限公司", "福州闽江数据有限公司"]  # stripped, 　 too
    assert raw[C.TITLE].tolist() == ["智慧港口“一网统管”调度", "工业质检大模型, 第二期"]
    assert raw[C.SOURCE_ROW].tolist() == [2, 3] and set(raw[C.SOURCE_FILE]) == {"submissions.csv"}
    subs = parse_submissions(raw, programme())
    assert subs[C.CREDIT_CODE].tolist() == [CODE_A, CODE_B]
    assert subs[C.SUBMITTED_AT].tolist() == [pd.Timestamp("2026-07-01 09:30"), pd.Timestamp("2026-07-02 14:05")]


def test_undecodable_csv_is_one_problem_naming_the_file(tmp_path):
    path = tmp_path / "experts.csv"
    path.write_bytes("expert_id,name\nE01,王\n".encode("utf-8") + b"E02,\x80\xff\n")
    with pytest.raises(InputError) as err:
        read_table(path, "experts.csv")
    assert err.value.lines() == ["experts.csv: the file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'"]


@pytest.mark.parametrize(
    "data, why",
    [
        ("a,b\n1,2\n".encode("utf-16"), "saved as UTF-16"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook with a .csv name"),
        (b"", "the file is empty"),
        (b"\r\n,,\r\n", "the file is empty"),
    ],
)
def test_csv_that_is_not_a_csv(tmp_path, data, why):
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=why):
        read_table(path, "x.csv")


def test_blank_rows_skipped_and_row_numbers_as_seen(tmp_path):
    path = write_csv(tmp_path / "s.csv", [
        ["2026年度评分表（请勿修改表头）"], [], [C.EXPERT_ID, C.SUBMISSION_ID, "comment"],
        ["E01", "S001", "多行\n备注"], ["", "", ""], [], ["E01", "S002", ""],
    ])
    raw = read_table(path, "scores/s.csv", header_names=[C.EXPERT_ID, C.SUBMISSION_ID])
    assert raw.attrs["header_row"] == 3
    assert raw[C.SUBMISSION_ID].tolist() == ["S001", "S002"]
    assert raw[C.SOURCE_ROW].tolist() == [4, 7]  # a quoted line break stays inside its row
    assert raw["comment"].tolist() == ["多行\n备注", ""]


def test_header_problems(tmp_path):
    path = write_csv(tmp_path / "s.csv", [
        ["expert_id", "score", "score", ""], ["E01", "1", "2", ""], ["E02", "1", "2", "stray", "more"],
    ])
    with pytest.raises(InputError) as err:
        read_table(path, "scores/s.csv")
    assert err.value.lines() == [
        "scores/s.csv, row 1, column 'score': the column name appears twice (columns B and C); rename or remove one",
        "scores/s.csv, row 3: column D has values but no header; give it a name or clear it",
        "scores/s.csv, row 3: column E has values but no header; give it a name or clear it",
    ]


def test_trailing_separator_columns_are_ignored(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("expert_id,name,\nE01,王,\n", encoding="utf-8")
    assert list(read_table(path, "s.csv").columns) == ["expert_id", "name", C.SOURCE_FILE, C.SOURCE_ROW]


# --- xlsx ------------------------------------------------------------------------------------------


def chinese_submissions_xlsx(path: Path) -> Path:
    """An export as a Chinese office would save it: title row, Chinese sheet name, real dates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "申报汇总"
    ws["A1"] = "2026年度人工智能典型应用场景申报汇总表"
    ws.merge_cells("A1:J1")
    ws.append([])
    ws.append([*SUB_HEADER, "employees"])
    rows = [
        ["S001", "福州智算科技有限公司", CODE_A, "张三", "zhang@example.cn", "智慧港口调度",
         dt.datetime(2026, 7, 1, 9, 30), "scenario", "鼓楼区", 85],
        ["S002", "福州闽江数据有限公司", CODE_B, "李四", "li@example.cn", "工业质检", dt.date(2026, 7, 2),
         "key_project", "仓山区", 120.0],
    ]
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=4, max_row=5):
        row[2].number_format = "@"  # the credit code stored as text
        row[6].number_format = 'yyyy"年"m"月"d"日" h:mm'
    wb.save(path)
    return path


def test_xlsx_chinese_locale_layout(tmp_path):
    path = chinese_submissions_xlsx(tmp_path / "submissions.xlsx")
    raw = read_table(path, "submissions.xlsx", header_names=[C.SUBMISSION_ID])
    assert raw.attrs["header_row"] == 3
    assert raw[C.SOURCE_ROW].tolist() == [4, 5]
    assert raw[C.CREDIT_CODE].tolist() == [CODE_A, CODE_B]
    assert raw[C.SUBMITTED_AT].tolist() == ["2026-07-01 09:30:00", "2026-07-02"]
    assert raw["employees"].tolist() == ["85", "120"]  # not "85.0"
    subs = parse_submissions(raw, programme())
    assert subs[C.SUBMITTED_AT].tolist() == [pd.Timestamp("2026-07-01 09:30"), pd.Timestamp("2026-07-02")]


def score_sheet(path: Path, rows: list[list], *, extra_sheet_first: bool = True) -> Path:
    """A wide 评分表 as an expert returns it, after an instructions sheet."""
    wb = openpyxl.Workbook()
    first = wb.active
    if extra_sheet_first:
        first.title = "填表说明"
        first["A1"] = "请在“评分表”中为每项指标打分，保留至多两位小数。"
        ws = wb.create_sheet("评分表")
    else:
        ws = first
        ws.title = "评分表"
    ws.append(["专家评分表：请勿修改表头"])
    ws.append([C.EXPERT_ID, C.SUBMISSION_ID, C.ENTERPRISE_NAME, *CRITERIA, "comment"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_score_sheet_values(tmp_path):
    path = score_sheet(tmp_path / "E01.xlsx", [
        ["E01", "S001", "福州智算科技有限公司", 20, 25.5, 8.5, 12.25, True, "好"],
        ["E01", "S002", "福州闽江数据有限公司", 0.1 + 0.2, 30.0, "15", 10, 9, None],
    ])
    raw = read_table(path, "scores/E01.xlsx", header_names=[C.EXPERT_ID, C.SUBMISSION_ID])
    assert raw["innovation"].tolist() == ["20", "0.3"]  # Excel's 15 digits: no 0.30000000000000004
    assert raw["effectiveness"].tolist() == ["25.5", "30"]
    assert raw["replicability"].tolist() == ["8.5", "15"]
    assert raw["maturity"].tolist() == ["12.25", "10"]
    assert raw["benefit"].tolist() == ["true", "9"]
    assert raw["comment"].tolist() == ["好", ""]
    assert raw[C.SOURCE_ROW].tolist() == [3, 4]


def test_xlsx_formulas_errors_and_long_numbers_are_flagged(tmp_path):
    path = score_sheet(tmp_path / "E01.xlsx", [
        ["E01", "S001", "甲", "=10+10", 25, "#DIV/0!", 10, 8, "=1/0"],
        ["E01", "S002", 913501001234567890, 20, 25, 15, 10, 8, ""],
    ], extra_sheet_first=False)
    with pytest.raises(InputError) as err:
        read_table(path, "scores/E01.xlsx", header_names=[C.EXPERT_ID])
    assert err.value.lines() == [
        "scores/E01.xlsx, row 3, column 'innovation': the cell holds a formula (=10+10) with no saved result; "
        "type the value instead, or open and save the file in Excel or WPS",
        "scores/E01.xlsx, row 3, column 'replicability': the cell shows the Excel error #DIV/0!; type a value instead",
        "scores/E01.xlsx, row 3, column 'comment': the cell holds a formula (=1/0) with no saved result; "
        "type the value instead, or open and save the file in Excel or WPS",
        "scores/E01.xlsx, row 4, column 'enterprise_name': a number this long has lost digits in Excel (it keeps 15); "
        "format the column as text and type the value again",
    ]


def test_broken_and_wrong_type_files(tmp_path):
    bad = tmp_path / "E01.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match=r"scores/E01.xlsx: not a readable Excel workbook"):
        read_table(bad, "scores/E01.xlsx")
    old = tmp_path / "E02.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"cannot read .xls files; save it as .xlsx or .csv"):
        read_table(old, "scores/E02.xls")


# --- whole workspaces ------------------------------------------------------------------------------


def experts_rows() -> list[list[str]]:
    return [
        list(C.EXPERT_COLUMNS),
        ["E01", "王教授", "wang@fzu.edu.cn", "福州大学", CODE_ORG],
        ["E02", "李高工", "li@example.org", "福建省人工智能学会", ""],
        ["E03", "陈研究员", "chen@example.org", "福州闽江数据有限公司", CODE_B],
    ]


def long_scores(eid: str, sid: str, values: list[str]) -> list[list[str]]:
    return [[eid, sid, c, v] for c, v in zip(CRITERIA, values)]


def build_workspace(root: Path) -> Path:
    (root / "scores").mkdir()
    (root / "references").mkdir()
    chinese_submissions_xlsx(root / "submissions.xlsx")
    write_csv(root / "experts.csv", experts_rows(), "gb18030")
    score_sheet(root / "scores" / "E01.xlsx", [
        ["E01", "S001", "福州智算科技有限公司", 20, 25.5, 8.5, 12.25, 9],
        ["E01", "S002", "福州闽江数据有限公司", 18, 24, 16, 11, 7.75],
    ])
    write_csv(root / "scores" / "E02.csv", [list(C.SCORE_COLUMNS), *long_scores("E02", "S002", ["19", "26", "15", "12", "8"]),
                                            *long_scores("E02", "S001", ["21", "27.5", "17", "13", "8.5"])], "utf-8-sig")
    write_csv(root / "scores" / "E03.csv", [list(C.SCORE_COLUMNS), *long_scores("E03", "S001", ["22", "28", "18", "14", "9"])])
    (root / "scores" / "~$E01.xlsx").write_bytes(b"lock file garbage")
    (root / "scores" / ".DS_Store").write_bytes(b"\x00\x01")
    write_csv(root / "references" / "excluded_products.csv", [
        list(C.EXCLUDED_PRODUCT_COLUMNS), ["灵犀AI边缘盒子", "福州灵犀科技有限公司", CODE_A, "national", "2025"]])
    wb = openpyxl.Workbook()
    wb.active.title = "已获资助"
    wb.active.append(list(C.PRIOR_AWARD_COLUMNS))
    wb.active.append([CODE_A, "智慧港口调度", "榕政综〔2024〕1号", 150000, 2025])
    wb.save(root / "references" / "prior_awards.xlsx")
    return root


def test_load_workspace_mixed_formats(tmp_path):
    ws = build_workspace(tmp_path)
    inputs = load_workspace(ws, programme())
    assert isinstance(inputs, RoundInputs)
    assert inputs.submissions[C.SUBMISSION_ID].tolist() == ["S001", "S002"]
    assert inputs.experts[C.ORGANISATION].tolist() == ["福州大学", "福建省人工智能学会", "福州闽江数据有限公司"]
    scores = inputs.scores
    assert len(scores) == 5 * 5
    assert scores[[C.SUBMISSION_ID, C.EXPERT_ID]].drop_duplicates().values.tolist() == [
        ["S001", "E01"], ["S001", "E02"], ["S001", "E03"], ["S002", "E01"], ["S002", "E02"]]
    e01_s001 = scores[(scores[C.EXPERT_ID] == "E01") & (scores[C.SUBMISSION_ID] == "S001")]
    assert e01_s001[C.SCORE_UNITS].tolist() == [2000, 2550, 850, 1225, 900]
    assert set(scores[C.SOURCE_FILE]) == {"scores/E01.xlsx", "scores/E02.csv", "scores/E03.csv"}
    assert inputs.excluded_products[C.YEAR].tolist() == [2025]
    assert inputs.prior_awards[C.AMOUNT_YUAN].tolist() == [150000]
    assert [p.relative_to(ws).as_posix() for p in inputs.files] == [
        "experts.csv", "references/excluded_products.csv", "references/prior_awards.xlsx",
        "scores/E01.xlsx", "scores/E02.csv", "scores/E03.csv", "submissions.xlsx",
    ]


def test_every_problem_of_every_file_at_once(tmp_path):
    ws = build_workspace(tmp_path)
    write_csv(ws / "experts.csv", [*experts_rows(), ["E02", "重复专家", "", "", ""]], "gb18030")
    write_csv(ws / "scores" / "E03.csv", [list(C.SCORE_COLUMNS), *long_scores("E03", "S002", ["22", "31", "18", "14", "9"]),
                                          ["E03", "S001", "novelty", "5"], ["E09", "S001", "innovation", "5"]])
    write_csv(ws / "references" / "excluded_products.csv", [list(C.EXCLUDED_PRODUCT_COLUMNS), ["盒子", "某公司", CODE_A, "", "去年"]])
    wb = openpyxl.load_workbook(ws / "submissions.xlsx")
    wb.active["G5"] = "七月二日"
    wb.save(ws / "submissions.xlsx")
    with pytest.raises(InputError) as err:
        load_workspace(ws, programme())
    assert err.value.lines() == [
        "submissions.xlsx, row 5, column 'submitted_at': '七月二日' is not a date and time (write e.g. "
        "2026-07-01 09:30, 2026/7/1 9:30, 2026年7月1日 9:30, 2026-07-01T09:30:00 or 2026-07-01)",
        "experts.csv, row 5, column 'expert_id': duplicate expert_id 'E02': it is also in row 3",
        "scores/E03.csv, row 2, column 'expert_id': 回避 (conflict of interest): expert E03's organisation "
        f"(福州闽江数据有限公司, {CODE_B}) is the applicant of S002; this expert must not score it — remove these scores",
        "scores/E03.csv, row 3, column 'score': score 31 is outside 0..30 for criterion 'effectiveness' (应用成效)",
        "scores/E03.csv, row 7, column 'criterion': unknown criterion 'novelty'; this programme's criteria are: "
        "innovation, effectiveness, replicability, maturity, benefit",
        "scores/E03.csv, row 8, column 'expert_id': unknown expert_id 'E09': it is not in the experts file",
        "references/excluded_products.csv, row 2, column 'year': '去年' is not a year (write e.g. 2025)",
    ]


def test_file_level_problems_together(tmp_path):
    ws = build_workspace(tmp_path)
    write_csv(ws / "submissions.csv", [SUB_HEADER, *SUB_ROWS])
    (ws / "experts.csv").unlink()
    (ws / "experts.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (ws / "scores" / "E04.ods").write_bytes(b"PK")
    (ws / "scores" / "E05.csv").write_bytes(b"expert_id,submission_id,criterion,score\r\n")
    with pytest.raises(InputError) as err:
        load_workspace(ws, programme())
    assert err.value.lines() == [
        "submissions.xlsx|.csv: both submissions.csv and submissions.xlsx are present; keep only one",
        "experts.xls: cannot read .xls files; save it as experts.xlsx or experts.csv",
        "scores/E04.ods: cannot read .ods files; save it as .xlsx or .csv",
        "scores/E05.csv: has a header but no scores",
    ]


def test_missing_required_files(tmp_path):
    with pytest.raises(InputError) as err:
        load_workspace(tmp_path, programme())
    assert err.value.lines() == [
        "submissions.xlsx|.csv: not found in the workspace; it is required",
        "experts.xlsx|.csv: not found in the workspace; it is required",
        "scores/: no score sheets found (.xlsx or .csv files in the scores folder)",
    ]


def test_before_scoring_the_round_loads_without_score_sheets(tmp_path):
    ws = build_workspace(tmp_path)
    for p in (ws / "scores").iterdir():
        p.unlink()
    inputs = load_workspace(ws, programme(), require_scores=False)
    assert inputs.scores.empty and list(inputs.scores.columns)[:4] == [C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION, C.SCORE_UNITS]
    assert len(inputs.experts) == 3


def test_filing_programme_needs_no_experts_or_scores(tmp_path):
    header = [*C.SUBMISSION_COLUMNS, "model_name", "filing_level", "filed_on"]
    write_csv(tmp_path / "submissions.csv", [header, [
        "F001", "福州智算科技有限公司", CODE_A, "张三", "z@example.cn", "榕智大模型备案", "2026-03-01", "榕智", "national", "2026/2/28"]])
    inputs = load_workspace(tmp_path, filing_programme())
    assert inputs.submissions["filed_on"].tolist() == [pd.Timestamp("2026-02-28")]
    assert inputs.experts.empty and inputs.scores.empty and inputs.prior_awards.empty
    assert [p.name for p in inputs.files] == ["submissions.csv"]


def test_scores_from_a_workspace_feed_the_exact_core(tmp_path):
    """What intake hands over is what scoring needs: exact units, one row per expert, application, criterion."""
    inputs = load_workspace(build_workspace(tmp_path), programme())
    again = parse_scores([read_table(tmp_path / "scores" / "E02.csv", "scores/E02.csv")], programme(),
                         inputs.submissions, inputs.experts)
    assert again[C.SCORE_UNITS].sum() == (19 + 26 + 15 + 12 + 8 + 21 + 17 + 13) * 100 + 2750 + 850
    assert not inputs.scores.duplicated([C.EXPERT_ID, C.SUBMISSION_ID, C.CRITERION]).any()
