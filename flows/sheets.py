"""Score sheets: one xlsx per expert, listing only that expert's applications.

Worksheet 评分表 — header row 1 is the machine-readable contract the intake
reader uses (scoring/intake_scores.py): `expert_id, submission_id,
enterprise_name, title, <criterion ids in programme order>, comment`. The
Chinese criterion names and ranges are in the header cells' comments, in the
input prompt of each score cell, and on the 说明 sheet. Each score column has
Excel data validation (a decimal between 0 and the criterion's maximum, error
message in Chinese). The sheet is protected: header and identification columns
are locked, score and comment cells are unlocked; the workbook structure is
locked too (no renaming, adding or deleting sheets). Protection keeps honest
mistakes out; it is not security — the upload checks still verify everything.

Worksheet 说明 — the instructions in Chinese: the scale and weights, how the
total and the panel score are computed, the 回避 rule, confidentiality and how
to return the sheet.

The same inputs give byte-identical files (flows/xlsx.py).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from flows.xlsx import write_workbook_deterministic
from scoring import columns as C
from scoring.rules import Programme

SCORE_SHEET = "评分表"
INSTRUCTIONS_SHEET = "说明"
COMMENT = "comment"
ID_COLUMNS: tuple[str, ...] = (C.EXPERT_ID, C.SUBMISSION_ID, C.ENTERPRISE_NAME, C.TITLE)
_AUTHOR = "rounds"
_LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_COLUMN_NOTES = {
    C.EXPERT_ID: "专家编号（系统填写，请勿修改）",
    C.SUBMISSION_ID: "申报编号（系统填写，请勿修改）",
    C.ENTERPRISE_NAME: "申报单位名称",
    C.TITLE: "项目名称",
    COMMENT: "评审意见（选填）",
}


def _points(value) -> str:
    """A Decimal as the shortest plain text: 25, 12.5."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def score_sheet_header(programme: Programme) -> list[str]:
    """Row 1 of 评分表: the raw ids the intake reader matches."""
    return [*ID_COLUMNS, *(c.id for c in programme.criteria), COMMENT]


def _aggregation_text(programme: Programme) -> str:
    s = programme.scoring
    assert s is not None
    if s.aggregation == "trimmed_mean":
        return (
            f"每个项目有{s.trim_min_experts}名及以上专家评分时，去掉一个最高分和一个最低分后取平均值；"
            "不足时取全部专家总分的平均值"
        )
    if s.aggregation == "median":
        return "每个项目取全部专家总分的中位数"
    return "每个项目取全部专家总分的平均值"


def _instructions(programme: Programme, expert: Mapping, n_apps: int, round_title: str | None,
                  deadline: str | None, return_to: str | None) -> list[list[str]]:
    s = programme.scoring
    assert s is not None
    decimals = s.score_decimals
    dec_text = f"可保留最多{decimals}位小数" if decimals else "只能填写整数"
    back = return_to or "按项目管理人员指定的方式交回"
    when = f"，截止时间：{deadline}" if deadline else ""
    title = round_title or programme.name
    rows: list[list[str]] = [
        [f"{title} — 专家评分说明"],
        [],
        ["专家编号", str(expert.get(C.EXPERT_ID, ""))],
        ["专家姓名", str(expert.get(C.EXPERT_NAME, "") or "")],
        ["分配给您的项目数", str(n_apps)],
        ["政策依据", programme.clause],
        [],
        ["一、填写方法"],
        ["1", f"“{SCORE_SHEET}”工作表只列出分配给您的{n_apps}个申报项目，每行一个项目。请在每个评分项列中为该项目打分。"],
        ["2", f"每个评分项的分值为0至该项满分，{dec_text}。超出范围或不是数字的内容无法录入。"],
        ["3", "灰色区域（表头、专家编号、申报编号、企业名称、项目名称）已锁定，请不要修改；不要增删行或列、调整列的顺序、"
              "修改工作表名称。第一行的英文编号是系统读取评分的依据。"],
        ["4", "“comment”列可填写简要评审意见（选填）。"],
        ["5", "总分由系统计算：总分 = Σ（评分项得分 ÷ 该项满分 × 权重），满分100分。" + _aggregation_text(programme)
              + "，结果四舍五入保留2位小数。"],
        [],
        ["二、评分项与权重"],
        ["编号", "评分项", "权重", "满分"],
        *[[c.id, c.name, _points(c.weight), _points(c.max_points)] for c in programme.criteria],
        [],
        ["三、回避"],
        ["1", "与申报单位存在下列关系之一的，应当回避：在该单位任职或兼职，近三年内曾在该单位任职，与该单位有直接经济利益或"
              "合作关系，与项目负责人有近亲属关系，参与了申报材料的编写，或其他可能影响公正评审的情形。"],
        ["2", "系统已按统一社会信用代码、单位名称和已申报的回避关系排除了已知情形。如您仍发现需要回避的项目，请不要评分，"
              "保留该行空白，并立即告知项目管理人员。"],
        [],
        ["四、保密"],
        ["1", "申报材料、评审意见和评分仅用于本次评审，不得复制、外传，不得向申报单位或其他人员透露，不得与其他专家交流评分。"],
        ["2", "每位专家只收到自己的评分表，看不到其他专家的评分。"],
        [],
        ["五、交回方式"],
        ["1", f"评分完成后直接保存本文件（.xlsx格式，不要另存为其他格式，不要设置打开密码），文件名保持不变，{back}{when}。"],
        ["2", "每个项目的每个评分项都需填写；系统收回评分表时会逐项检查，发现遗漏或错误会通知您更正。"],
    ]
    return rows


def _fill_instructions(ws, rows: list[list[str]]) -> None:
    for row in rows:
        ws.append(row)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 100
    ws.column_dimensions["C"].width = 8
    ws.column_dimensions["D"].width = 8
    ws["A1"].font = Font(bold=True, size=14)
    for row in ws.iter_rows():
        first = row[0]
        if isinstance(first.value, str) and first.value[:2] in ("一、", "二、", "三、", "四、", "五、"):
            first.font = Font(bold=True)
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.protection.sheet = True


def build_score_workbook(
    expert: Mapping,
    applications: pd.DataFrame,
    programme: Programme,
    *,
    round_title: str | None = None,
    deadline: str | None = None,
    return_to: str | None = None,
    password: str | None = None,
) -> Workbook:
    """The score workbook of one expert (not saved). `applications` are that expert's only."""
    if programme.scoring is None or not programme.criteria:
        raise ValueError(f"programme {programme.id!r} has no expert scoring")
    expert_id = str(expert[C.EXPERT_ID])
    apps = applications.sort_values(C.SUBMISSION_ID, kind="stable").reset_index(drop=True)
    header = score_sheet_header(programme)
    n_id, n_crit = len(ID_COLUMNS), len(programme.criteria)
    decimals = programme.scoring.score_decimals

    wb = Workbook()
    ws = wb.active
    ws.title = SCORE_SHEET
    ws.append(header)
    for app in apps.itertuples(index=False):
        ws.append([
            expert_id,
            str(getattr(app, C.SUBMISSION_ID)),
            str(getattr(app, C.ENTERPRISE_NAME, "") or ""),
            str(getattr(app, C.TITLE, "") or ""),
            *([None] * n_crit),
            None,
        ])
    last_row = len(apps) + 1

    for col, name in enumerate(header, start=1):
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if n_id < col <= n_id + n_crit:
            crit = programme.criteria[col - n_id - 1]
            note = f"{crit.name}（{crit.id}）\n分值范围：0–{_points(crit.max_points)}分\n权重：{_points(crit.weight)}"
        else:
            note = _COLUMN_NOTES[name]
        cell.comment = Comment(note, _AUTHOR, width=220, height=90)

    # Named styles: registered once, assigned by name — per-cell style objects cost ~1 ms a row in openpyxl
    number_format = "General" if decimals == 0 else "0." + "#" * decimals
    styles = {
        "rounds_id": NamedStyle("rounds_id", fill=_LOCKED_FILL, border=_BORDER, protection=Protection(locked=True)),
        "rounds_score": NamedStyle("rounds_score", border=_BORDER, number_format=number_format,
                                   protection=Protection(locked=False)),
        "rounds_comment": NamedStyle("rounds_comment", border=_BORDER, protection=Protection(locked=False),
                                     alignment=Alignment(wrap_text=True, vertical="top")),
    }
    for style in styles.values():
        wb.add_named_style(style)
    kinds = ["rounds_id"] * n_id + ["rounds_score"] * n_crit + ["rounds_comment"]
    for row in ws.iter_rows(min_row=2, max_row=last_row):
        for cell, kind in zip(row, kinds):
            cell.style = kind

    for i, crit in enumerate(programme.criteria):
        letter = get_column_letter(n_id + 1 + i)
        top = _points(crit.max_points)
        dv = DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2=top,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle="分值超出范围",
            error=f"“{crit.name}”的分值应为0到{top}之间的数字（最多{decimals}位小数）。请重新填写。",
            showInputMessage=True,
            promptTitle=crit.name[:32],
            prompt=f"请填写0–{top}分，最多{decimals}位小数",
        )
        if last_row >= 2:
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(dv)
        ws.column_dimensions[letter].width = max(12, 2 * len(crit.name) + 4)

    for letter, width in zip("ABCD", (12, 14, 30, 40)):
        ws.column_dimensions[letter].width = width
    ws.column_dimensions[get_column_letter(n_id + n_crit + 1)].width = 40
    ws.freeze_panes = ws.cell(row=2, column=n_id + 1)
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # experts may widen columns
    ws.protection.formatRows = False
    if password:
        ws.protection.password = password

    info = wb.create_sheet(INSTRUCTIONS_SHEET)
    _fill_instructions(info, _instructions(programme, expert, len(apps), round_title, deadline, return_to))
    if password:
        info.protection.password = password
    wb.security = WorkbookProtection(lockStructure=True)
    wb.active = 0
    return wb


def write_score_sheet(path, expert: Mapping, applications: pd.DataFrame, programme: Programme, **options) -> None:
    """Write one expert's score sheet to `path` (xlsx; same inputs → same bytes).

    `expert` needs expert_id (name is shown on the 说明 sheet); `applications`
    needs submission_id, enterprise_name, title and must hold only this expert's
    assigned applications. Options: round_title, deadline, return_to, password.
    """
    wb = build_score_workbook(expert, applications, programme, **options)
    write_workbook_deterministic(wb, path)


def sheet_filename(expert_id: str) -> str:
    """A safe file name for an expert's sheet: the id with anything unsafe replaced."""
    return re.sub(r"[^\w.-]", "_", str(expert_id)) + ".xlsx"


def write_score_sheets(
    folder,
    experts: pd.DataFrame,
    submissions: pd.DataFrame,
    assignment: pd.DataFrame,
    programme: Programme,
    **options,
) -> list[Path]:
    """One sheet per expert who has assignments, each listing only that expert's applications.

    Returns the written paths sorted by expert_id. Experts without an
    assignment get no sheet.
    """
    folder = Path(folder)
    by_id = submissions.set_index(C.SUBMISSION_ID, drop=False)
    written: list[Path] = []
    names = experts.set_index(C.EXPERT_ID, drop=False)
    for expert_id, rows in assignment.groupby(C.EXPERT_ID, sort=True):
        expert = names.loc[expert_id].to_dict() if expert_id in names.index else {C.EXPERT_ID: expert_id}
        apps = by_id.loc[rows[C.SUBMISSION_ID].to_list()].reset_index(drop=True)
        path = folder / sheet_filename(expert_id)
        write_score_sheet(path, expert, apps, programme, **options)
        written.append(path)
    return written
