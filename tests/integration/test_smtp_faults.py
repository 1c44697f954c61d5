"""Delivery against aiosmtpd servers that fail on purpose (see smtp_servers.FaultyServer)."""
from __future__ import annotations

import socket
from collections import Counter

import pytest

from notices.deliver import deliver
from notices.errors import DeliveryHalted
from notices.mailer import SmtpMailer, SmtpSettings
from notices.outbox import APPROVED, FAILED, SENT, Outbox
from smtp_servers import (FaultyServer, accepting_authenticator, make_items, received_ids,
                          refusing_authenticator, self_signed)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

FAST = dict(retry_base_delay=0.01, retry_max_delay=0.05, seed=1)


def settings_for(port: int, **kw) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, **{"timeout": 5, "connections": 2, **kw})


@pytest.fixture
def box(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite")
    outbox.prepare(make_items(8))
    outbox.approve("rank-1")
    yield outbox
    outbox.close()


def first_time(phase: str, rcpt: str, action):
    """A plan that applies `action` to the first time one recipient reaches `phase`."""
    return lambda call: action if (call.phase, call.rcpt, call.attempt) == (phase, rcpt, 1) else None


def row_for(outbox, recipient):
    return next(r for r in outbox.rows() if r.recipient == recipient)


def test_451_is_retried_then_delivered(tmp_path, box):
    plan = first_time("data", "user1@example.com", "451 4.3.0 Temporary local problem")
    with FaultyServer(tmp_path / "mail", plan) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port)), **FAST)
    row = row_for(box, "user1@example.com")
    assert row.state == SENT and row.attempts == 2 and not row.ambiguous
    assert report.retried == 1 and report.counts[SENT] == 8 and not report.failed
    assert set(received_ids(tmp_path / "mail").values()) == {1} and len(received_ids(tmp_path / "mail")) == 8
    assert [e[1] for e in box.events(row.key)].count("retry") == 1


def test_550_fails_that_notice_with_the_servers_reply(tmp_path, box):
    refuse = "550 5.1.1 <user2@example.com>: Recipient address rejected"
    plan = lambda call: refuse if (call.phase, call.rcpt) == ("rcpt", "user2@example.com") else None
    with FaultyServer(tmp_path / "mail", plan) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port)), **FAST)
    row = row_for(box, "user2@example.com")
    assert row.state == FAILED and row.attempts == 1
    assert row.last_reply == refuse
    assert report.counts == {**report.counts, SENT: 7, FAILED: 1}
    assert [i.submission_id for i in report.failed] == [row.submission_id]
    assert "Recipient address rejected" in "\n".join(report.summary_lines())
    assert len(received_ids(tmp_path / "mail")) == 7


def test_421_with_disconnect_is_retried_on_a_new_connection(tmp_path, box):
    plan = first_time("data", "user3@example.com", "421-disconnect")
    with FaultyServer(tmp_path / "mail", plan) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port, connections=1)), **FAST)
    row = row_for(box, "user3@example.com")
    assert row.state == SENT and row.attempts == 2 and not row.ambiguous  # a 421 is a clear "not taken"
    assert report.counts[SENT] == 8 and set(received_ids(tmp_path / "mail").values()) == {1}


def test_server_closing_after_n_messages_is_handled_by_reconnecting(tmp_path, box):
    with FaultyServer(tmp_path / "mail", command_call_limit={"MAIL": 3}) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port, connections=1)), **FAST)
    assert report.counts[SENT] == 8 and report.retried >= 2
    assert set(received_ids(tmp_path / "mail").values()) == {1}


def test_drop_after_data_is_flagged_ambiguous_and_retried(tmp_path, box):
    with FaultyServer(tmp_path / "mail", first_time("data", "user4@example.com", "drop-after-data")) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port)), **FAST)
    row = row_for(box, "user4@example.com")
    assert row.state == SENT and row.ambiguous and row.attempts == 2
    assert [i.recipient for i in report.ambiguous] == ["user4@example.com"]
    assert "may have been delivered twice" in "\n".join(report.summary_lines())
    copies = received_ids(tmp_path / "mail")
    assert copies[row.message_id] == 2  # the server had taken it: the flag tells the truth
    assert sum(copies.values()) == 9


def test_a_reply_slower_than_the_timeout_is_retried_and_flagged(tmp_path, box):
    with FaultyServer(tmp_path / "mail", first_time("data", "user5@example.com", ("slow", 1.5))) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port, timeout=0.5)), **FAST)
    row = row_for(box, "user5@example.com")
    assert row.state == SENT and row.ambiguous and row.attempts == 2
    assert report.counts[SENT] == 8


def test_a_slow_reply_before_data_is_a_clean_retry(tmp_path, box):
    with FaultyServer(tmp_path / "mail", first_time("rcpt", "user6@example.com", ("slow", 1.0))) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port, timeout=0.4)), **FAST)
    row = row_for(box, "user6@example.com")
    assert row.state == SENT and not row.ambiguous and row.attempts == 2
    retry = next(e for e in box.events(row.key) if e[1] == "retry")
    assert "timed out during RCPT" in retry[3]
    assert report.counts[SENT] == 8 and set(received_ids(tmp_path / "mail").values()) == {1}


def test_out_of_attempts_is_failed_and_can_be_requeued(tmp_path, box):
    always = lambda call: "452 4.2.2 Mailbox full" if (call.phase, call.rcpt) == ("rcpt", "user7@example.com") else None
    with FaultyServer(tmp_path / "mail", always) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port)), max_attempts=3, **FAST)
    row = row_for(box, "user7@example.com")
    assert row.state == FAILED and row.attempts == 3
    assert row.last_reply == "gave up after 3 attempts: 452 4.2.2 Mailbox full"
    assert report.failed[0].recipient == "user7@example.com"
    from notices.deliver import retry_failed

    assert retry_failed(box) == 1
    with FaultyServer(tmp_path / "mail2") as server:
        again = deliver(box, SmtpMailer(settings_for(server.port)), **FAST)
    assert again.sent_now == 1 and again.counts[SENT] == 8 and not again.failed


def test_auth_failure_halts_the_run_and_keeps_everything_queued(tmp_path, box):
    with FaultyServer(tmp_path / "mail", authenticator=refusing_authenticator, auth_required=True,
                      auth_require_tls=False) as server:
        with pytest.raises(DeliveryHalted, match="login as 'sender' failed: 535") as caught:
            deliver(box, SmtpMailer(settings_for(server.port, user="sender", password="wrong")), **FAST)
    assert caught.value.report is not None and caught.value.report.sent_now == 0
    assert box.counts()[APPROVED] == 8
    assert all(r.attempts == 0 for r in box.rows())
    assert received_ids(tmp_path / "mail") == Counter()


def test_good_credentials_are_used(tmp_path, box):
    with FaultyServer(tmp_path / "mail", authenticator=accepting_authenticator, auth_required=True,
                      auth_require_tls=False) as server:
        report = deliver(box, SmtpMailer(settings_for(server.port, user="sender", password="secret")), **FAST)
    assert report.counts[SENT] == 8


def test_a_quota_reply_halts_instead_of_failing_everyone(tmp_path, box):
    quota = lambda call: "550 5.4.5 Daily user sending quota exceeded" if call.phase == "data" and call.n >= 4 else None
    with FaultyServer(tmp_path / "mail", quota) as server:
        with pytest.raises(DeliveryHalted, match="quota") as caught:
            deliver(box, SmtpMailer(settings_for(server.port, connections=1)), **FAST)
    counts = box.counts()
    assert counts[SENT] == 3 and counts[FAILED] == 0 and counts[APPROVED] == 5
    assert caught.value.report.counts[SENT] == 3


def test_an_unreachable_server_halts_at_once_with_nothing_charged(tmp_path, box):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(DeliveryHalted, match="cannot be reached"):
        deliver(box, SmtpMailer(settings_for(port)), **FAST)
    assert box.counts()[APPROVED] == 8 and all(r.attempts == 0 for r in box.rows())


def test_starttls_required(tmp_path, box):
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("the cryptography package is not installed: cannot make a self-signed certificate")
    context, cert = made
    with FaultyServer(tmp_path / "mail", require_starttls=True, tls_context=context) as server:
        with pytest.raises(DeliveryHalted, match="STARTTLS"):
            deliver(box, SmtpMailer(settings_for(server.port, starttls=False)), **FAST)
        assert box.counts()[APPROVED] == 8
        report = deliver(box, SmtpMailer(settings_for(server.port, starttls=True, ca_file=str(cert))), **FAST)
    assert report.counts[SENT] == 8 and len(received_ids(tmp_path / "mail")) == 8


def test_an_untrusted_certificate_halts(tmp_path, box):
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("the cryptography package is not installed: cannot make a self-signed certificate")
    context, _ = made
    with FaultyServer(tmp_path / "mail", require_starttls=True, tls_context=context) as server:
        with pytest.raises(DeliveryHalted, match="TLS with 127.0.0.1.*ROUNDS_SMTP_CA_FILE"):
            deliver(box, SmtpMailer(settings_for(server.port, starttls=True)), **FAST)
    assert box.counts()[APPROVED] == 8 and all(r.attempts == 0 for r in box.rows())
