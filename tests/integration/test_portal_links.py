"""Personal links and reminders through the notices machinery: a real SMTP catcher on 127.0.0.1.

`rounds portal DIR --links --send` mails each assigned expert one link
(notice kind expert_link, exactly once through out/outbox.sqlite); the link in
the mail opens that expert's page; a rerun sends nothing; the manager's
reminder goes out once per click; revoking and reissuing a link work from the CLI.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from flows.cli import main
from flows.portal import create_app
from flows.portal.store import PortalStore
from notices.catcher import MailCatcher
from notices.outbox import Outbox
from tests.integration.portal_helpers import client, csrf_of, make_round, settings

URL = re.compile(r"http://127\.0\.0\.1:8765/e/[A-Za-z0-9_-]{43}")


@pytest.fixture
def catcher(tmp_path, monkeypatch):
    with MailCatcher(tmp_path / "mail") as c:
        monkeypatch.setenv("ROUNDS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROUNDS_SMTP_PORT", str(c.port))
        monkeypatch.setenv("ROUNDS_SMTP_STARTTLS", "false")
        monkeypatch.setenv("ROUNDS_MAIL_FROM", "福州市工业和信息化局 <noreply@fzgxj.example.gov.cn>")
        yield c


def _body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_links_are_mailed_once_and_open_the_experts_page(tmp_path, catcher, capsys):
    root = make_round(tmp_path / "round")
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30", "--send"]) == 0
    out = capsys.readouterr().out
    assert "Sent 5 e-mail(s)" in out and not URL.search(out)  # links are not printed when mailed
    messages = catcher.messages()
    experts = pd.read_csv(root / "experts.csv", encoding="gb18030", dtype=str)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted(experts.email)
    assert len(messages) == 5
    mail = next(m for m in messages if m["To"].addresses[0].addr_spec == "chen@fzu.example.edu.cn")
    assert "专家评审工作的邀请" in mail["Subject"] and "2099年9月30日" in _body(mail)
    url = URL.search(_body(mail)).group(0)
    token = url.rsplit("/", 1)[1]
    # only the hash is stored
    assert token.encode() not in (root / "out" / "portal.sqlite").read_bytes()
    with Outbox.open(root / "out" / "outbox.sqlite") as box:
        rows = box.rows(round_id="2026-scenario")
    assert {(r.submission_id, r.kind, r.state) for r in rows} == {(f"expert:E0{i}", "expert_link", "sent") for i in range(1, 6)}
    app = create_app(root, settings=settings())
    page = client(app).get(url.replace("http://127.0.0.1:8765", ""))
    assert page.status_code == 200 and "陈教授专家，您好" in page.text
    # a rerun issues and sends nothing new
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30", "--send"]) == 0
    assert "5 expert(s) already have a live link" in capsys.readouterr().out
    assert len(catcher.messages()) == 5


def test_printed_links_revoke_and_reissue(tmp_path, catcher, capsys):
    root = make_round(tmp_path / "round")
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30T17:30"]) == 0
    printed = dict(line.split("\t")[::2] for line in capsys.readouterr().out.splitlines() if "\t" in line)
    assert sorted(printed) == ["E01", "E02", "E03", "E04", "E05"] and all(URL.fullmatch(u) for u in printed.values())
    assert catcher.messages() == []  # printed for the manager, not mailed
    app = create_app(root, settings=settings())
    path = lambda eid: printed[eid].replace("http://127.0.0.1:8765", "")  # noqa: E731
    assert client(app).get(path("E03")).status_code == 200
    assert main(["portal", str(root), "--revoke", "E03"]) == 0
    assert client(app).get(path("E03")).status_code == 404
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30", "--expert", "E03", "--send"]) == 0
    (mail,) = catcher.messages()
    new = URL.search(_body(mail)).group(0)
    assert new != printed["E03"] and client(app).get(new.replace("http://127.0.0.1:8765", "")).status_code == 200
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30", "--expert", "E01", "--reissue"]) == 0
    assert client(app).get(path("E01")).status_code == 404  # the old link is dead after a reissue
    store = PortalStore(root / "out" / "portal.sqlite")
    assert [lk.generation for lk in store.links() if lk.expert_id == "E03"] == [1, 2]


def test_reminders_go_once_per_click_to_experts_who_owe(tmp_path, catcher):
    root = make_round(tmp_path / "round")
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30"]) == 0
    app = create_app(root, settings=settings())
    m = client(app)
    page = m.get("/manage").text
    form = {"csrf": csrf_of(page), "batch": re.search(r'name="batch" value="([^"]+)"', page).group(1)}
    r = m.post("/manage/remind", data=form)
    assert r.status_code == 200 and "已发送 5 封" in r.text
    assert m.post("/manage/remind", data=form).status_code == 200  # the same form again: nothing new
    messages = catcher.messages()
    assert len(messages) == 5
    assert all("提醒" in msg["Subject"] and "本提醒不含链接" in _body(msg) for msg in messages)
    assert not any(URL.search(_body(msg)) for msg in messages)
    with Outbox.open(root / "out" / "outbox.sqlite") as box:
        kinds = {r.kind for r in box.rows(round_id="2026-scenario")}
    assert kinds == {"expert_reminder#1"}
    page = m.get("/manage").text
    form = {"csrf": csrf_of(page), "batch": re.search(r'name="batch" value="([^"]+)"', page).group(1),
            "expert_id": "E02"}
    assert "已发送 1 封" in m.post("/manage/remind", data=form).text
    assert len(catcher.messages()) == 6


def test_send_without_a_mail_server_is_refused_before_anything(tmp_path, monkeypatch, capsys):
    root = make_round(tmp_path / "round")
    monkeypatch.delenv("ROUNDS_SMTP_HOST", raising=False)
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30", "--send"]) == 1
    assert "ROUNDS_SMTP_HOST" in capsys.readouterr().err
    assert PortalStore(root / "out" / "portal.sqlite").links() == []
    assert main(["portal", str(root), "--links", "--deadline", "2020-01-01"]) == 1
    assert "already passed" in capsys.readouterr().err


def test_reminders_wait_in_the_outbox_without_a_server_and_send_later(tmp_path, monkeypatch, capsys):
    root = make_round(tmp_path / "round")
    assert main(["portal", str(root), "--links", "--deadline", "2099-09-30"]) == 0
    for var in ("ROUNDS_SMTP_HOST", "ROUNDS_SMTP_PORT"):
        monkeypatch.delenv(var, raising=False)
    app = create_app(root, settings=settings())
    m = client(app)
    page = m.get("/manage").text
    r = m.post("/manage/remind", data={"csrf": csrf_of(page), "batch": "b1", "expert_id": "E04"})
    assert "未配置邮件服务器" in r.text
    with MailCatcher(tmp_path / "mail") as catcher:
        monkeypatch.setenv("ROUNDS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROUNDS_SMTP_PORT", str(catcher.port))
        monkeypatch.setenv("ROUNDS_SMTP_STARTTLS", "false")
        assert main(["portal", str(root), "--send"]) == 0
        assert "Sent 1 e-mail(s)" in capsys.readouterr().out
        assert main(["portal", str(root), "--send"]) == 0  # nothing twice
        (msg,) = catcher.messages()
    assert msg["To"].addresses[0].addr_spec == "zheng@fjit.example.cn" and "提醒" in msg["Subject"]
