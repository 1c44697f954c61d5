"""The 公示 page and workbook of the hand-written round: golden page, workbook content, stable bytes.

The golden page lives in tests/golden/publicity/ and changes only with a reviewed diff:
    ROUNDS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/integration/test_publicity.py
then read `git diff tests/golden/publicity` before committing.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flows import stages
from flows.holidays import builtin_calendar
from flows.publicity import publicity_html, publicity_rows, publicity_xlsx, wan
from flows.state import Approval
from flows.workspace import Workspace
from scoring import columns as C
from scoring.workdays import publicity_window

TESTS = Path(__file__).resolve().parents[1]
FIXTURE = TESTS / "fixtures" / "handwritten-scenario"
GOLDEN = TESTS / "golden" / "publicity"
PUBLISHED_ON = dt.date(2026, 9, 30)


def check_golden(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("ROUNDS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"missing golden file {path}; run with ROUNDS_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_bytes(), f"{name} differs from its golden file"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> stages.Prepared:
    root = tmp_path_factory.mktemp("publicity") / "round"
    shutil.copytree(FIXTURE, root)
    return stages.prepare(Workspace.at(root))


@pytest.fixture(scope="module")
def window() -> tuple[dt.date, dt.date]:
    return publicity_window(PUBLISHED_ON, 5, builtin_calendar())


class Cells(HTMLParser):
    """The text of every table row, cell by cell, and the page's h1."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.h1 = ""
        self._cell: list[str] | None = None
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "h1":
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_h1:
            self.h1 += data


def parse(html: bytes) -> Cells:
    p = Cells()
    p.feed(html.decode("utf-8"))
    return p


def test_window_crosses_national_day_with_its_make_up_saturday(window):
    # 2026-10-01..07 are holidays; Saturday 2026-10-10 is a 调休 working day.
    assert window == (dt.date(2026, 9, 30), dt.date(2026, 10, 12))


def test_page_matches_golden(prepared, window):
    html = publicity_html(prepared.result.ranking, prepared.programme, prepared.config,
                          published_on=PUBLISHED_ON, window=window)
    check_golden("handwritten-scenario.html", html)


def test_page_lists_exactly_the_selected_in_rank_order(prepared, window):
    ranking = prepared.result.ranking
    page = parse(publicity_html(ranking, prepared.programme, prepared.config, published_on=PUBLISHED_ON, window=window))
    assert page.h1 == f"关于2026年度{prepared.programme.name}拟支持名单的公示"
    header, *body = page.rows
    assert header == ["序号", "企业名称", "项目名称", "申报类别", "所在县（市）区", "拟支持金额（万元）"]
    *listed, total = body
    sel = ranking[ranking[C.OUTCOME] == C.SELECTED]
    labels = {"scenario": "典型应用场景", "key_project": "技术创新重点攻关及产业化项目"}
    expected = [
        [str(i), r[C.ENTERPRISE_NAME], r[C.TITLE], labels[r["category"]], r["district"], wan(int(r[C.AMOUNT_YUAN]))]
        for i, (_, r) in enumerate(sel.iterrows(), start=1)
    ]
    assert listed == expected
    assert len(listed) == 10 and listed[2][-1] == "15"  # HW-03 topped up to 150,000 (就高不重复)
    assert total == ["合计", "10项", "195"]
    shown = {c for row in listed for c in row}
    for _, r in ranking[ranking[C.OUTCOME] != C.SELECTED].iterrows():
        assert r[C.ENTERPRISE_NAME] not in shown


def test_page_says_how_and_until_when_to_object(prepared, window):
    text = publicity_html(prepared.result.ranking, prepared.programme, prepared.config,
                          published_on=PUBLISHED_ON, window=window).decode("utf-8")
    assert "榕政办规〔2026〕7号" in text and "第三条" in text
    assert "公示期：2026年9月30日至2026年10月12日（共5个工作日）" in text
    assert "书面形式向福州市工业和信息化局提出" in text
    assert "加盖单位公章" in text and "真实姓名" in text and "联系方式：0591-87000000" in text
    assert '<p class="sign">福州市工业和信息化局<br>2026年9月30日</p>' in text
    assert "@page { size: A4" in text and "display: table-header-group" in text


def test_calendar_warning_is_shown_on_screen_only(prepared, window):
    text = publicity_html(prepared.result.ranking, prepared.programme, prepared.config,
                          published_on=PUBLISHED_ON, window=window, calendar_warning="尚无2027年节假日安排").decode("utf-8")
    assert '<p class="warning">尚无2027年节假日安排</p>' in text
    assert ".warning { display: none; }" in text.split("@media print")[1]


def test_names_are_escaped(prepared, window):
    ranking = prepared.result.ranking.copy()
    first = ranking.index[ranking[C.OUTCOME] == C.SELECTED][0]
    ranking.loc[first, C.ENTERPRISE_NAME] = '<script>alert("x")</script>福州公司'
    text = publicity_html(ranking, prepared.programme, prepared.config, published_on=PUBLISHED_ON,
                          window=window).decode("utf-8")
    assert "<script>" not in text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;福州公司" in text


def test_no_selection_renders_an_empty_list(prepared, window):
    ranking = prepared.result.ranking.copy()
    ranking[C.OUTCOME] = C.NOT_SELECTED
    page = parse(publicity_html(ranking, prepared.programme, prepared.config, published_on=PUBLISHED_ON, window=window))
    assert page.rows[1:] == [["合计", "0项", "0"]]


def test_workbook_lists_the_same_rows_and_the_window(prepared, window):
    ranking = prepared.result.ranking
    data = publicity_xlsx(ranking, prepared.programme, prepared.config, published_on=PUBLISHED_ON, window=window)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["公示名单", "公示信息"]
    ws = wb["公示名单"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0][0] == f"关于2026年度{prepared.programme.name}拟支持名单的公示"
    assert values[1][0] == "公示期：2026年9月30日至2026年10月12日（5个工作日）"
    assert values[2][0] == "福州市工业和信息化局　2026年9月30日"
    assert values[3] == ["序号", "企业名称", "统一社会信用代码", "项目名称", "申报类别", "所在县（市）区", "拟支持金额（元）"]
    sel = ranking[ranking[C.OUTCOME] == C.SELECTED]
    body = values[4:-1]
    assert [r[1] for r in body] == list(sel[C.ENTERPRISE_NAME])
    assert [r[2] for r in body] == list(sel[C.CREDIT_CODE])
    assert [r[3] for r in body] == list(sel[C.TITLE])
    assert [r[6] for r in body] == [int(a) for a in sel[C.AMOUNT_YUAN]]
    assert all(isinstance(r[6], int) for r in body)  # integer yuan, not floats
    assert [r[0] for r in body] == list(range(1, 11))
    assert values[-1][0] == "合计" and values[-1][6] == int(sel[C.AMOUNT_YUAN].sum()) == 1_950_000
    info = dict(wb["公示信息"].iter_rows(values_only=True))
    assert info["published_on"] == "2026-09-30"
    assert (info["window_from"], info["window_to"], info["working_days"]) == ("2026-09-30", "2026-10-12", 5)
    assert info["selected"] == 10 and info["total_yuan"] == 1_950_000 and info["round_id"] == "2026-scenario"
    # same rows as the page
    assert [(r.enterprise, r.title, r.amount_yuan) for r in publicity_rows(ranking, prepared.programme)] == [
        (r[1], r[3], r[6]) for r in body
    ]


def test_workbook_bytes_depend_only_on_the_inputs(prepared, window):
    args = (prepared.result.ranking, prepared.programme, prepared.config)
    a = publicity_xlsx(*args, published_on=PUBLISHED_ON, window=window)
    b = publicity_xlsx(*args, published_on=PUBLISHED_ON, window=window)
    later = publicity_xlsx(*args, published_on=dt.date(2026, 10, 8), window=(dt.date(2026, 10, 8), dt.date(2026, 10, 14)))
    assert a == b and a != later


def test_publish_writes_page_and_workbook_into_out_and_the_manifest(tmp_path):
    root = tmp_path / "round"
    shutil.copytree(FIXTURE, root)
    p = stages.prepare(Workspace.at(root))
    stages.write_ranking(p)
    approval = Approval(ranking_hash=p.ranking_hash, decision="approve", decided_by="张科长", comment="",
                        via="test", at="2026-09-30T09:00:00+08:00")
    changed, warning = stages.publish(p, approval)
    assert {"publicity.html", "publicity.xlsx"} <= set(changed) and warning == ""
    out = root / "out"
    wb = openpyxl.load_workbook(out / "publicity.xlsx")
    assert dict(wb["公示信息"].iter_rows(values_only=True))["window_to"] == "2026-10-12"
    assert "2026年10月12日" in (out / "publicity.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"publicity.html", "publicity.xlsx"} <= set(manifest["outputs"])
    again, _ = stages.publish(stages.prepare(Workspace.at(root)), approval)
    assert again == []  # a rerun rewrites nothing


def test_rows_take_display_labels_from_the_programme(prepared):
    frame = pd.DataFrame([{
        C.SUBMISSION_ID: "X-1", C.ENTERPRISE_NAME: "甲公司", C.CREDIT_CODE: "91350100MA200AL00T", C.TITLE: "项目",
        "category": "key_project", "district": "鼓楼区", C.OUTCOME: C.SELECTED, C.AMOUNT_YUAN: 125_000,
    }])
    (row,) = publicity_rows(frame, prepared.programme)
    assert row.extras == ("技术创新重点攻关及产业化项目", "鼓楼区") and row.amount_wan == "12.5"
