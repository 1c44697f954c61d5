"""The expert's way through the portal over HTTP: open the link, save drafts, upload, submit, revise.

A real assigned round (tests/fixtures/handwritten-scenario), real portal.sqlite
and round.sqlite files, the FastAPI app driven by httpx (TestClient).
"""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from flows.intake import load_workspace
from flows.panel import read_assignment
from flows.portal import create_app
from flows.state import RoundState
from flows.workspace import Workspace
from tests.integration.portal_helpers import client, csrf_of, full_scores, issue, make_round, mine, settings


@pytest.fixture
def round_dir(tmp_path):
    return make_round(tmp_path / "round")


@pytest.fixture
def portal(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    return round_dir, tokens, app


def login(app, token):
    c = client(app)
    page = c.get(f"/e/{token}")
    assert page.status_code == 200 and page.url.path == "/expert"
    return c, csrf_of(page.text)


def test_expert_sees_only_own_applications_and_no_token_in_the_url(portal):
    root, tokens, app = portal
    c, _ = login(app, tokens["E02"])
    page = c.get("/expert").text
    assert "E02" in page
    listed = set(pd.Series(page.split('id="app-')[1:]).str.split('"').str[0])
    assert listed == set(mine(root, "E02"))
    for other in ("E01", "E03", "E04", "E05"):
        assert f"专家编号 {other}" not in page
    assert tokens["E02"] not in page  # the link's token is exchanged for an HttpOnly session cookie
    cookie = c.cookies.get("rounds_portal")
    assert cookie and cookie != tokens["E02"]


def test_draft_save_partial_then_invalid_then_submit_and_revise(portal):
    root, tokens, app = portal
    c, csrf = login(app, tokens["E01"])
    apps = mine(root, "E01")
    ctx = app.state.portal.context()
    # a partial draft is fine
    r = c.post(f"/expert/save/{apps[0]}", data={"csrf": csrf, "c.innovation": "20"})
    assert r.status_code == 200 and "草稿已保存" in r.text
    assert app.state.portal.store.drafts("E01") == {(apps[0], "innovation"): "20"}
    # out of range and too many decimals: 422, one precise Chinese message each, nothing saved
    r = c.post(f"/expert/save/{apps[0]}", data={"csrf": csrf, "c.innovation": "26", "c.benefit": "5.125"})
    assert r.status_code == 422
    assert "“创新性”的分值 26 超出范围，应为0–25分" in r.text
    assert "分值 5.125 有3位小数，最多允许2位小数" in r.text
    assert 'class="bad"' in r.text
    assert app.state.portal.store.drafts("E01") == {(apps[0], "innovation"): "20"}
    # submitting while incomplete names what is missing
    r = c.post("/expert/submit", data={"csrf": csrf})
    assert r.status_code == 422 and "尚未评分" in r.text
    assert not (root / "scores" / "portal-E01.csv").exists()
    for sid in apps:
        assert c.post(f"/expert/save/{sid}", data={"csrf": csrf, **full_scores(ctx.programme)}).status_code == 200
    r = c.post("/expert/submit", data={"csrf": csrf})
    assert r.status_code == 200 and r.url.path == "/expert/submitted" and "评分已提交" in r.text and "第 1 版" in r.text
    written = pd.read_csv(root / "scores" / "portal-E01.csv", dtype=str)
    assert list(written.columns) == ["expert_id", "submission_id", "criterion", "score"]
    assert len(written) == len(apps) * len(ctx.programme.criteria)
    assert set(written.submission_id) == set(apps) and set(written.expert_id) == {"E01"}
    # revise one score and submit again: revision 2 replaces the file
    r = c.post(f"/expert/save/{apps[1]}", data={"csrf": csrf, **full_scores(ctx.programme), "c.innovation": "12.5"})
    assert r.status_code == 200
    r = c.post("/expert/submit", data={"csrf": csrf})
    assert "第 2 版" in r.text
    written = pd.read_csv(root / "scores" / "portal-E01.csv", dtype=str)
    assert written[(written.submission_id == apps[1]) & (written.criterion == "innovation")].score.item() == "12.5"
    # the round's intake reads the portal's file like any sheet
    ws = Workspace.at(root)
    config, programme = ws.load_config()
    inputs = load_workspace(root, programme, require_scores=True, assigned=read_assignment(ws))
    assert set(inputs.scores.expert_id) == {"E01"} and len(inputs.scores) == len(written)
    actions = [(e["actor"], e["action"]) for e in RoundState(ws.state_db).audit()]
    assert ("expert:E01", "portal_opened") in actions
    assert actions.count(("expert:E01", "portal_submitted")) == 2
    assert ("expert:E01", "portal_draft_saved") in actions and ("expert:E01", "portal_submit_refused") in actions


def _filled_sheet(root, expert_id, value=lambda r, c: 7) -> bytes:
    wb = openpyxl.load_workbook(root / "out" / "sheets" / f"{expert_id}.xlsx")
    ws = wb["评分表"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        for c in ("innovation", "effectiveness", "replicability", "maturity", "benefit"):
            ws.cell(r, header.index(c) + 1).value = value(r, c)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_upload_of_the_filled_sheet_becomes_the_draft_then_submit(portal):
    root, tokens, app = portal
    c, csrf = login(app, tokens["E03"])
    data = _filled_sheet(root, "E03", lambda r, col: 8.5 if col == "innovation" else 6)
    r = c.post("/expert/upload", data={"csrf": csrf},
               files={"file": ("../../etc/评分表 E03.xlsx", data, "application/octet-stream")})
    assert r.status_code == 200 and "已导入为草稿" in r.text, r.text[-2000:]
    drafts = app.state.portal.store.drafts("E03")
    assert len(drafts) == len(mine(root, "E03")) * 5
    assert {v for (s, k), v in drafts.items() if k == "innovation"} == {"8.5"}
    assert not any(p.name.startswith("评分表") for p in root.rglob("*"))  # the client's file name names nothing
    r = c.post("/expert/submit", data={"csrf": csrf})
    assert r.status_code == 200 and "评分已提交" in r.text


def test_upload_with_mistakes_lists_each_with_row_and_column(portal):
    root, tokens, app = portal
    c, csrf = login(app, tokens["E03"])
    data = _filled_sheet(root, "E03", lambda r, col: 99 if (r == 3 and col == "effectiveness") else ("" if r == 4 and col == "maturity" else 5))
    r = c.post("/expert/upload", data={"csrf": csrf}, files={"file": ("E03.xlsx", data)})
    assert r.status_code == 422
    assert "第3行，“应用成效”（effectiveness）列：“应用成效”的分值 99 超出范围，应为0–30分" in r.text
    assert "第4行，“技术成熟度”（maturity）列：分值为空" in r.text
    assert app.state.portal.store.drafts("E03") == {}  # nothing half-loaded
    csv = "expert_id,submission_id,criterion,score\nE03,HW-99,innovation,5\n".encode()
    r = c.post("/expert/upload", data={"csrf": csrf}, files={"file": ("long.csv", csv)})
    assert r.status_code == 422 and "未知的申报编号“HW-99”" in r.text


def test_lock_stops_saving_and_submitting_until_unlocked(portal):
    root, tokens, app = portal
    c, csrf = login(app, tokens["E04"])
    m = client(app)
    page = m.get("/manage")
    assert page.status_code == 200 and "评审进度" in page.text
    assert m.post("/manage/lock", data={"csrf": csrf_of(page.text)}).status_code == 200
    sid = mine(root, "E04")[0]
    r = c.post(f"/expert/save/{sid}", data={"csrf": csrf, "c.innovation": "5"})
    assert r.status_code == 403 and "评分已锁定" in r.text
    assert c.post("/expert/submit", data={"csrf": csrf}).status_code == 403
    assert "已锁定" in c.get("/expert").text
    page = m.get("/manage")
    assert m.post("/manage/unlock", data={"csrf": csrf_of(page.text)}).status_code == 200
    assert c.post(f"/expert/save/{sid}", data={"csrf": csrf, "c.innovation": "5"}).status_code == 200
    actions = [e["action"] for e in RoundState(Workspace.at(root).state_db).audit()]
    assert "portal_locked" in actions and "portal_unlocked" in actions


def test_manager_progress_shows_submissions_and_drafts(portal):
    root, tokens, app = portal
    c, csrf = login(app, tokens["E05"])
    ctx = app.state.portal.context()
    for sid in mine(root, "E05"):
        c.post(f"/expert/save/{sid}", data={"csrf": csrf, **full_scores(ctx.programme)})
    c.post("/expert/submit", data={"csrf": csrf})
    page = client(app).get("/manage").text
    row = page.split('data-expert="E05"')[1].split("</tr>")[0]
    assert "第1版" in row and "45 / 45" in row
    row = page.split('data-expert="E01"')[1].split("</tr>")[0]
    assert "未提交" in row and "0 / 45" in row
    assert "1 / 5 位专家已提交" in page


def test_a_workspace_broken_while_serving_is_a_clear_503_not_a_crash(portal):
    root, tokens, app = portal
    c, csrf = login(app, tokens["E01"])
    (root / "experts.csv").write_text("expert_id,name\nE01,\n", encoding="utf-8")  # the manager is mid-edit
    r = c.get("/expert")
    assert r.status_code == 503 and "评审数据暂不可用" in r.text
