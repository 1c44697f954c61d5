"""One test per security rule of the portal, each against the real app and real files."""
from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile

import pytest

from flows.portal import create_app
from flows.portal.links import revoke_link
from flows.portal.settings import shanghai_now
from flows.state import RoundState
from flows.workspace import Workspace
from tests.integration.portal_helpers import client, csrf_of, full_scores, issue, make_round, mine, not_mine, settings


@pytest.fixture(scope="module")
def base_round(tmp_path_factory):
    return make_round(tmp_path_factory.mktemp("security") / "round")


@pytest.fixture
def round_dir(base_round, tmp_path):
    import shutil

    root = tmp_path / "round"
    shutil.copytree(base_round, root)
    return root


def login(app, token, host="127.0.0.1"):
    c = client(app, host=host)
    page = c.get(f"/e/{token}")
    assert page.status_code == 200, page.text
    return c, csrf_of(page.text)


GENERIC = "链接无效或已失效"


def test_wrong_token_is_404_without_saying_why(round_dir):
    issue(round_dir)
    app = create_app(round_dir, settings=settings())
    r = client(app).get("/e/" + "A" * 43, follow_redirects=False)
    assert r.status_code == 404 and GENERIC in r.text
    assert "rounds_portal" not in r.headers.get("set-cookie", "")


def test_expired_token_is_the_same_404(round_dir):
    tokens = issue(round_dir, days=1)
    later = lambda: shanghai_now() + dt.timedelta(days=2)  # noqa: E731
    app = create_app(round_dir, settings=settings(clock=later))
    r = client(app).get(f"/e/{tokens['E01']}", follow_redirects=False)
    assert r.status_code == 404 and GENERIC in r.text
    wrong = client(app).get("/e/" + "B" * 43, follow_redirects=False)
    assert wrong.text == r.text  # nothing tells an expired link from a wrong one


def test_revoked_token_is_the_same_404_and_ends_open_sessions(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    c, _ = login(app, tokens["E02"])
    portal = app.state.portal
    revoke_link(portal.ws, portal.store, "E02", "manager:test", portal.now)
    assert client(app).get(f"/e/{tokens['E02']}").status_code == 404
    r = c.get("/expert")
    assert r.status_code == 404 and GENERIC in r.text
    assert ("manager:test", "portal_link_revoked") in [(e["actor"], e["action"]) for e in
                                                       RoundState(Workspace.at(round_dir).state_db).audit()]


def test_failed_attempts_are_rate_limited_per_address(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings(failed_limit=3, failed_window=60))
    attacker = client(app, host="203.0.113.9")
    codes = [attacker.get(f"/e/{'C' * 40}{i:03d}").status_code for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    assert attacker.get(f"/e/{tokens['E01']}").status_code == 429  # even a right token, from that address
    assert client(app, host="198.51.100.7").get(f"/e/{tokens['E01']}").status_code == 200  # others are unaffected


def test_forms_need_the_csrf_token(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    c, csrf = login(app, tokens["E01"])
    sid = mine(round_dir, "E01")[0]
    assert c.post(f"/expert/save/{sid}", data={"c.innovation": "5"}).status_code == 403
    assert c.post(f"/expert/save/{sid}", data={"csrf": csrf[:-2] + "xx", "c.innovation": "5"}).status_code == 403
    other, other_csrf = login(app, tokens["E02"])
    assert c.post(f"/expert/save/{sid}", data={"csrf": other_csrf, "c.innovation": "5"}).status_code == 403
    assert c.post("/expert/submit", data={}).status_code == 403
    assert c.post("/expert/upload", files={"file": ("a.csv", b"x")}).status_code == 403
    assert client(app).post("/manage/lock", data={}).status_code == 403
    assert app.state.portal.store.drafts("E01") == {}
    assert c.post(f"/expert/save/{sid}", data={"csrf": csrf, "c.innovation": "5"}).status_code == 200


def test_request_size_limit_413(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings(max_request_bytes=64 * 1024))
    c, csrf = login(app, tokens["E01"])
    r = c.post("/expert/upload", data={"csrf": csrf}, files={"file": ("big.csv", b"a,b\n" * 40_000)})
    assert r.status_code == 413 and "过大" in r.text

    def chunks():  # no Content-Length: the limit is enforced on the bytes as they stream in
        for _ in range(100):
            yield b"x" * 1024

    r = c.post("/expert/upload", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413


def _upload(c, csrf, name, data):
    return c.post("/expert/upload", data={"csrf": csrf}, files={"file": (name, data)})


def test_uploads_only_xlsx_or_csv_and_checked_for_content(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    c, csrf = login(app, tokens["E01"])
    r = _upload(c, csrf, "scores.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert r.status_code == 422 and "只接受 .xlsx" in r.text
    r = _upload(c, csrf, "scores.xlsx", b"this is not a workbook at all")
    assert r.status_code == 422 and "不是有效的 .xlsx 工作簿" in r.text
    truncated = (round_dir / "out" / "sheets" / "E01.xlsx").read_bytes()[:2000]
    r = _upload(c, csrf, "scores.xlsx", truncated)
    assert r.status_code == 422 and ("已损坏" in r.text or "不是有效的 .xlsx" in r.text)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "a zip, but not a workbook")
    r = _upload(c, csrf, "scores.xlsx", buf.getvalue())
    assert r.status_code == 422 and "缺少工作簿的必要部件" in r.text
    r = _upload(c, csrf, "scores.csv", b"expert_id,submission_id\x00\x01\x02")
    assert r.status_code == 422 and "不是文本格式的 CSV" in r.text
    assert app.state.portal.store.drafts("E01") == {}


def test_zip_bomb_is_refused_before_parsing(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    c, csrf = login(app, tokens["E01"])
    sheet = zipfile.ZipFile(round_dir / "out" / "sheets" / "E01.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in sheet.infolist():
            z.writestr(info.filename, sheet.read(info.filename))
        z.writestr("xl/media/padding.bin", b"\0" * (64 * 1024 * 1024))  # 64 MB of zeros: ~64 KB compressed
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024
    r = _upload(c, csrf, "scores.xlsx", data)
    assert r.status_code == 422 and "解压后过大" in r.text
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as z:
        for i in range(500):
            z.writestr(f"xl/x{i}.xml", "")
    r = _upload(c, csrf, "scores.xlsx", many.getvalue())
    assert r.status_code == 422 and "部件过多" in r.text


def test_formulas_are_refused_not_evaluated(round_dir):
    import openpyxl

    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    c, csrf = login(app, tokens["E01"])
    wb = openpyxl.load_workbook(round_dir / "out" / "sheets" / "E01.xlsx")
    ws = wb["评分表"]
    for r in range(2, ws.max_row + 1):
        for col in range(5, 10):
            ws.cell(r, col).value = 5
    ws["E2"] = "=20+5"
    buf = io.BytesIO()
    wb.save(buf)
    r = _upload(c, csrf, "E01.xlsx", buf.getvalue())
    assert r.status_code == 422 and "单元格 E2 含有公式" in r.text
    assert app.state.portal.store.drafts("E01") == {}


def test_another_experts_application_cannot_be_scored_even_crafted(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings())
    c, csrf = login(app, tokens["E01"])
    foreign = not_mine(round_dir, "E01")
    r = c.post(f"/expert/save/{foreign}", data={"csrf": csrf, **full_scores(app.state.portal.context().programme)})
    assert r.status_code == 403 and "不能为该项目评分" in r.text
    # a crafted upload naming that application (as E01, and as its real expert) is refused whole
    csv = "".join(f"{e},{foreign},{k},5\n" for e in ("E01", "E02") for k in
                  ("innovation", "effectiveness", "replicability", "maturity", "benefit"))
    r = _upload(c, csrf, "x.csv", ("expert_id,submission_id,criterion,score\n" + csv).encode())
    assert r.status_code == 422 and f"项目 {foreign} 不在专家 E01 可评分的项目中" in r.text
    assert app.state.portal.store.drafts("E01") == {} and app.state.portal.store.drafts("E02") == {}
    assert client(app).post("/expert/save/HW-01", data={"csrf": csrf}).status_code == 404  # no session, no form


def test_conflicted_pair_cannot_be_scored_even_when_assigned(round_dir):
    tokens = issue(round_dir)
    sid = mine(round_dir, "E02")[0]
    # a conflict declared after the assignment went out (回避 discovered late)
    (round_dir / "conflicts.csv").write_text(f"expert_id,submission_id,reason\nE02,{sid},former employee\n",
                                             encoding="utf-8")
    app = create_app(round_dir, settings=settings())
    c, csrf = login(app, tokens["E02"])
    page = c.get("/expert").text
    assert f'id="app-{sid}"' not in page and "需回避的项目" in page
    r = c.post(f"/expert/save/{sid}", data={"csrf": csrf, **full_scores(app.state.portal.context().programme)})
    assert r.status_code == 403
    rows = "".join(f"E02,{sid},{k},5\n" for k in ("innovation", "effectiveness", "replicability", "maturity", "benefit"))
    r = _upload(c, csrf, "x.csv", ("expert_id,submission_id,criterion,score\n" + rows).encode())
    assert r.status_code == 422 and f"项目 {sid} 不在专家 E02 可评分的项目中" in r.text


def test_manager_view_is_local_only_without_a_password(round_dir):
    issue(round_dir)
    app = create_app(round_dir, settings=settings())
    assert client(app, host="127.0.0.1").get("/manage").status_code == 200
    assert client(app, host="203.0.113.5").get("/manage").status_code == 403
    proxied = client(app, host="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.5"})
    assert proxied.get("/manage").status_code == 403


def test_manager_view_with_a_password_uses_http_basic(round_dir):
    tokens = issue(round_dir)
    app = create_app(round_dir, settings=settings(manager_password="s3cret-口令", failed_limit=3))
    anyone = client(app, host="203.0.113.5")
    r = anyone.get("/manage")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    good = base64.b64encode("林主任:s3cret-口令".encode()).decode()
    r = anyone.get("/manage", headers={"Authorization": f"Basic {good}"})
    assert r.status_code == 200 and "评审进度" in r.text
    lock = anyone.post("/manage/lock", data={"csrf": csrf_of(r.text)}, headers={"Authorization": f"Basic {good}"})
    assert lock.status_code == 200
    assert ("manager:林主任", "portal_locked") in [(e["actor"], e["action"]) for e in
                                                  RoundState(Workspace.at(round_dir).state_db).audit()]
    bad = base64.b64encode(b"x:wrong").decode()
    codes = [anyone.get("/manage", headers={"Authorization": f"Basic {bad}"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # an expert's session is no manager credential
    c, csrf = login(app, tokens["E01"], host="198.51.100.1")
    assert c.get("/manage").status_code == 401
