"""The 公示 outputs: the printable notice page and the xlsx list of the approved selection.

Pure renderers, like the rest of `flows.outputs`: the approved ranking, the
rules, the publish date and the objection window in, bytes out. The flow
(`flows.stages.publish`) counts the window with the PRC working-day calendar
and writes the files. Same inputs → same bytes: no clock; workbooks through `flows.xlsx.workbook_bytes`.

Both outputs list the same rows (`publicity_rows`), so the page people read and
the sheet an office forwards can never disagree.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from flows.xlsx import workbook_bytes
from flows.templating import environment
from scoring import columns as C
from scoring.rules import ColumnSpec, Programme, RoundConfig

POLICY_TITLE = "福州市促进人工智能产业发展若干措施"

# The programme's own columns a 公示 shows: names, categories and levels. Yes/no flags,
# counts, money and dates are formal-review facts, not what the public identifies a project by.
LISTED_TYPES = ("text", "choice")



@dataclass(frozen=True)
class PublicityRow:
    n: int
    submission_id: str
    enterprise: str
    credit_code: str
    title: str
    extras: tuple[str, ...]
    amount_yuan: int

    @property
    def amount_wan(self) -> str:
        return wan(self.amount_yuan)


def listed_columns(programme: Programme) -> tuple[ColumnSpec, ...]:
    """The programme-specific columns of the 公示 table, in the programme's order."""
    return tuple(c for c in programme.columns if c.type in LISTED_TYPES)


def publicity_rows(ranking: pd.DataFrame, programme: Programme) -> list[PublicityRow]:
    """The selected applications in ranking order, numbered from 1, with display values."""
    selected = ranking[ranking[C.OUTCOME] == C.SELECTED]
    extra = listed_columns(programme)
    return [
        PublicityRow(
            n=i,
            submission_id=str(r[C.SUBMISSION_ID]),
            enterprise=str(r[C.ENTERPRISE_NAME]),
            credit_code=str(r[C.CREDIT_CODE]),
            title=str(r[C.TITLE]),
            extras=tuple(_display(c, r[c.id]) for c in extra),
            amount_yuan=int(r[C.AMOUNT_YUAN]),
        )
        for i, (_, r) in enumerate(selected.iterrows(), start=1)
    ]


def _display(spec: ColumnSpec, value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return spec.display(value)


def publicity_title(programme: Programme, config: RoundConfig) -> str:
    return f"关于{config.year}年度{programme.name}拟支持名单的公示"


def publicity_html(
    ranking: pd.DataFrame,
    programme: Programme,
    config: RoundConfig,
    *,
    published_on: dt.date,
    window: tuple[dt.date, dt.date],
    calendar_warning: str = "",
) -> bytes:
    """The 公示 page: an A4-printable Chinese notice with the list and how to object."""
    rows = publicity_rows(ranking, programme)
    html = environment().get_template("publicity.html.j2").render(
        title=publicity_title(programme, config),
        policy_title=POLICY_TITLE,
        programme=programme,
        config=config,
        organiser=config.organiser or programme.department,
        contact=config.contact or "",
        rows=rows,
        extra_labels=[c.label for c in listed_columns(programme)],
        total_wan=wan(sum(r.amount_yuan for r in rows)),
        published_on=zh_date(published_on),
        window_from=zh_date(window[0]),
        window_to=zh_date(window[1]),
        working_days=programme.publicity.working_days,
        calendar_warning=calendar_warning,
    )
    return html.encode("utf-8")


def publicity_xlsx(
    ranking: pd.DataFrame,
    programme: Programme,
    config: RoundConfig,
    *,
    published_on: dt.date,
    window: tuple[dt.date, dt.date],
) -> bytes:
    """The same list as a workbook: sheet 公示名单 for people, sheet 公示信息 with ISO dates for machines.

    Amounts are integer yuan (the page shows 万元); the last row is the total.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    rows = publicity_rows(ranking, programme)
    extra = listed_columns(programme)
    headers = ["序号", "企业名称", "统一社会信用代码", "项目名称", *(c.label for c in extra), "拟支持金额（元）"]
    organiser = config.organiser or programme.department
    wd = programme.publicity.working_days

    wb = Workbook()
    ws = wb.active
    ws.title = "公示名单"
    ws.append([publicity_title(programme, config)])
    ws.append([f"公示期：{zh_date(window[0])}至{zh_date(window[1])}（{wd}个工作日）"])
    ws.append([f"{organiser}　{zh_date(published_on)}"])
    ws.append(headers)
    for r in rows:
        ws.append([r.n, r.enterprise, r.credit_code, r.title, *r.extras, r.amount_yuan])
    ws.append(["合计", f"{len(rows)}项", None, None, *(None for _ in extra), sum(r.amount_yuan for r in rows)])

    last_col = get_column_letter(len(headers))
    for line in (1, 2, 3):
        ws.merge_cells(f"A{line}:{last_col}{line}")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    thin = Side(style="thin")
    header_row, total_row = 4, 4 + len(rows) + 1
    for line in ws.iter_rows(min_row=header_row, max_row=total_row):
        for cell in line:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for line in range(header_row + 1, total_row + 1):
        ws.cell(line, len(headers)).number_format = "#,##0"
    widths = [6, 34, 22, 44, *(18 for _ in extra), 16]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    info = wb.create_sheet("公示信息")
    for key, value in (
        ("round_id", config.round_id),
        ("programme", programme.id),
        ("policy", programme.policy.document),
        ("published_on", published_on.isoformat()),
        ("window_from", window[0].isoformat()),
        ("window_to", window[1].isoformat()),
        ("working_days", wd),
        ("organiser", organiser),
        ("contact", config.contact or ""),
        ("selected", len(rows)),
        ("total_yuan", sum(r.amount_yuan for r in rows)),
    ):
        info.append([key, value])
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 40

    wb.properties.title = publicity_title(programme, config)
    return workbook_bytes(wb)


def wan(yuan: int) -> str:
    """Yuan as 万元 with up to 4 decimals, no trailing zeros (200000 → 20, 125000 → 12.5)."""
    whole, frac = divmod(yuan, 10000)
    return f"{whole}" if frac == 0 else f"{whole}.{frac:04d}".rstrip("0")


def zh_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
