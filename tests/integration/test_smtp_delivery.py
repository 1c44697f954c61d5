"""Delivery through a real aiosmtpd server on 127.0.0.1: the happy path, reuse, rate, previews."""
from __future__ import annotations

import email
import email.policy
import os
import threading
import time
import uuid

import pytest

from notices.catcher import MailCatcher
from notices.deliver import deliver
from notices.errors import OutboxBusy
from notices.mailer import EmlMailer, SmtpMailer, SmtpSettings
from notices.outbox import SENT, Outbox
from notices.render import render_notice
from notices.samples import sample_context
from smtp_servers import FaultyServer, make_items, received_ids


def settings_for(port: int, **kw) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, timeout=5, **kw)


@pytest.fixture
def approved(tmp_path):
    box = Outbox(tmp_path / "out" / "outbox.sqlite")
    box.prepare(make_items(24))
    box.approve("rank-1")
    yield box
    box.close()


def test_every_approved_notice_arrives_once_and_decodes(tmp_path, approved):
    seen = []
    with MailCatcher(tmp_path / "out" / "mail") as catcher:
        report = deliver(approved, SmtpMailer(settings_for(catcher.port)), connections=4,
                         progress=lambda done, total: seen.append((done, total)))
        messages = catcher.messages()
        assert len(catcher.received) == 24
    assert report.sent_now == 24 and report.counts[SENT] == 24 and not report.failed and not report.halted
    assert seen[0] == (0, 24) and seen[-1] == (24, 24)
    assert len({str(m["Message-ID"]) for m in messages}) == 24
    selected = next(m for m in messages if "200,000元" in m.get_body(("plain",)).get_content())
    assert selected["Subject"] == render_notice(sample_context("selected")).subject
    assert selected["From"].addresses[0].display_name == "福州市工业和信息化局"
    assert selected["To"].addresses[0].display_name == "陈晓明"
    assert any("sent this run: 24" in line for line in report.summary_lines())


def test_a_second_delivery_sends_nothing(tmp_path, approved):
    with MailCatcher(tmp_path / "mail") as catcher:
        deliver(approved, SmtpMailer(settings_for(catcher.port)))
        again = deliver(approved, SmtpMailer(settings_for(catcher.port)))
        assert len(catcher.received) == 24
    assert again.sent_now == 0 and again.counts[SENT] == 24
    assert all(n == 1 for n in received_ids(tmp_path / "mail").values())


def test_connections_are_reused(tmp_path, approved):
    sessions = []

    class Counting:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            sessions.append(hostname)
            session.host_name = hostname  # aiosmtpd: a 5-argument EHLO hook must record the name
            return responses

    with FaultyServer(tmp_path / "mail") as server:
        server.handler.handle_EHLO = Counting().handle_EHLO
        deliver(approved, SmtpMailer(settings_for(server.port, connections=3)))
    assert len(received_ids(tmp_path / "mail")) == 24
    assert len(sessions) <= 3  # 24 messages over at most 3 connections


def test_rate_limit_spaces_the_messages(tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite")
    box.prepare(make_items(4))
    box.approve("rank-1")
    with MailCatcher(tmp_path / "mail") as catcher:
        start = time.perf_counter()
        deliver(box, SmtpMailer(settings_for(catcher.port)), rate_per_minute=600)  # one per 0.1 s
        elapsed = time.perf_counter() - start
    assert len(catcher.received) == 4 and elapsed >= 0.3


def test_eml_mailer_writes_exactly_the_stored_bytes(tmp_path, approved):
    report = deliver(approved, EmlMailer(tmp_path / "preview"))
    assert report.sent_now == 24
    files = sorted((tmp_path / "preview").glob("*.eml"))
    assert len(files) == 24
    row = approved.rows()[0]
    path = tmp_path / "preview" / f"{row.message_id.strip('<>')}.eml"
    assert path.read_bytes() == approved.body(row.key)
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["Message-ID"] == row.message_id


def test_one_sender_per_sqlite_outbox(tmp_path, approved):
    other = Outbox(tmp_path / "out" / "outbox.sqlite")
    with approved.backend.delivery_lock():
        with pytest.raises(OutboxBusy, match="already sending"):
            deliver(other, EmlMailer(tmp_path / "preview"))
    other.close()


def test_settings_from_environment():
    assert SmtpSettings.from_env({}) is None
    s = SmtpSettings.from_env({
        "ROUNDS_SMTP_HOST": "smtp.example.gov.cn", "ROUNDS_SMTP_PORT": "587", "ROUNDS_SMTP_USER": "u",
        "ROUNDS_SMTP_PASSWORD": "p@ss", "ROUNDS_SMTP_STARTTLS": "true",
        "ROUNDS_MAIL_FROM": "福州市工业和信息化局 <noreply@gxj.example.gov.cn>",
        "ROUNDS_SMTP_CONNECTIONS": "8", "ROUNDS_SMTP_RATE_PER_MINUTE": "30", "ROUNDS_SMTP_TIMEOUT": "12.5"})
    assert (s.host, s.port, s.user, s.starttls, s.connections, s.rate_per_minute, s.timeout) == (
        "smtp.example.gov.cn", 587, "u", True, 8, 30, 12.5)
    assert (s.from_name, s.mail_from) == ("福州市工业和信息化局", "noreply@gxj.example.gov.cn")
    assert "p@ss" not in repr(s)


@pytest.mark.parametrize("env, message", [
    ({"ROUNDS_SMTP_PORT": "smtp"}, "ROUNDS_SMTP_PORT='smtp' is not a whole number"),
    ({"ROUNDS_SMTP_PORT": "70000"}, "out of range"),
    ({"ROUNDS_SMTP_STARTTLS": "maybe"}, "ROUNDS_SMTP_STARTTLS='maybe' is not a yes/no value"),
    ({"ROUNDS_SMTP_USER": "u"}, "both ROUNDS_SMTP_USER and ROUNDS_SMTP_PASSWORD"),
    ({"ROUNDS_MAIL_FROM": "noreply@例子.中国"}, "ROUNDS_MAIL_FROM: .*non-ASCII"),
    ({"ROUNDS_MAIL_FROM": "x <a@example.com>\r\nBcc: y@example.com"}, "line break"),
    ({"ROUNDS_SMTP_TIMEOUT": "soon"}, "ROUNDS_SMTP_TIMEOUT"),
])
def test_settings_errors_name_the_variable(env, message):
    from scoring.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        SmtpSettings.from_env({"ROUNDS_SMTP_HOST": "smtp.example.gov.cn", **env})


PG_URL = os.environ.get("ROUNDS_TEST_POSTGRES_URL", "")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PostgreSQL outbox not tested: set ROUNDS_TEST_POSTGRES_URL "
                                       "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
def test_two_senders_share_a_postgres_outbox(tmp_path):
    """Several machines sending from one PostgreSQL outbox: each notice goes out once."""
    import psycopg

    schema = f"rounds_test_{uuid.uuid4().hex[:12]}"
    boxes = [Outbox(PG_URL, schema=schema) for _ in range(2)]
    try:
        boxes[0].prepare(make_items(40))
        boxes[0].approve("rank-1")
        reports = []
        with MailCatcher(tmp_path / "mail") as catcher:
            def run(box):
                reports.append(deliver(box, SmtpMailer(settings_for(catcher.port, connections=2))))
            threads = [threading.Thread(target=run, args=(box,)) for box in boxes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert sum(r.sent_now for r in reports) == 40
        copies = received_ids(tmp_path / "mail")
        assert len(copies) == 40 and set(copies.values()) == {1}
        assert boxes[1].counts()[SENT] == 40
    finally:
        for box in boxes:
            box.close()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_an_interrupted_delivery_puts_unattempted_claims_back(tmp_path):
    """Ctrl-C (task cancellation) mid-run: only the message in flight can become ambiguous."""
    import asyncio

    from notices.deliver import deliver_async
    from notices.outbox import AMBIGUOUS, APPROVED, SENDING

    box = Outbox(tmp_path / "outbox.sqlite")
    box.prepare(make_items(12))
    box.approve("rank-1")
    slow = lambda call: ("slow", 0.3) if call.phase == "data" and call.n == 3 else None
    with FaultyServer(tmp_path / "mail", slow) as server:
        async def interrupted():
            task = asyncio.ensure_future(deliver_async(box, SmtpMailer(settings_for(server.port, connections=1)),
                                                       claim_batch=4))
            while len(server.store.received) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        asyncio.run(interrupted())
    counts = box.counts()
    assert counts[SENT] == 2 and counts[SENDING] == 1  # the third was in flight: unknown
    assert counts[APPROVED] == 9 and all(r.attempts == 0 for r in box.rows(APPROVED))
    assert box.recover() == 1 and box.counts()[AMBIGUOUS] == 1
    box.close()


def test_the_catcher_keeps_duplicates_visible(tmp_path):
    import asyncio

    import aiosmtplib

    (item,) = make_items(1)
    with MailCatcher(tmp_path / "mail") as catcher:
        async def twice():
            for _ in range(2):
                await aiosmtplib.send(item.body, sender=item.sender, recipients=[item.recipient],
                                      hostname=catcher.host, port=catcher.port, start_tls=False)
        asyncio.run(twice())
        assert [r.message_id for r in catcher.received] == [item.message_id] * 2
    core = item.message_id.strip("<>")
    assert sorted(p.name for p in catcher.paths()) == [f"{core}.2.eml", f"{core}.eml"]
    assert all(p.read_bytes() == item.body for p in catcher.paths())
    assert [str(m["Message-ID"]) for m in catcher.messages()] == [item.message_id] * 2
