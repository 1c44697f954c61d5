"""A whole round against a server that refuses one address: reported, then retried with one command."""
from __future__ import annotations

import pytest

from flows.cli import EXIT_NOTICES_INCOMPLETE, main
from flows.round_flow import run_round
from tests.integration.smtp_servers import FaultyServer, received_ids

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_refused_address_is_reported_and_retried(handwritten, tmp_path, monkeypatch, capsys):
    bad = "contact05@demo05.example.cn"
    plan = lambda call: "550 5.1.1 mailbox unavailable" if call.rcpt == bad else None  # noqa: E731
    with FaultyServer(tmp_path / "first", plan) as server:
        monkeypatch.setenv("ROUNDS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ROUNDS_SMTP_PORT", str(server.port))
        monkeypatch.setenv("ROUNDS_MAIL_FROM", "rounds@gxj.example.cn")
        res = run_round(str(handwritten), approve_as="张科长")
    assert res["notices"]["counts"]["failed"] == 1 and res["notices"]["counts"]["sent"] == 16
    assert any(bad in line and "550" in line for line in res["notices"]["problems"])
    assert sum(received_ids(tmp_path / "first").values()) == 16

    capsys.readouterr()
    assert main(["notices", str(handwritten)]) == EXIT_NOTICES_INCOMPLETE
    assert bad in capsys.readouterr().out

    with FaultyServer(tmp_path / "second") as server:
        monkeypatch.setenv("ROUNDS_SMTP_PORT", str(server.port))
        assert main(["notices", str(handwritten), "--retry-failed"]) == 0
    got = received_ids(tmp_path / "second")
    assert sum(got.values()) == 1  # only the failed one, once
    assert main(["notices", str(handwritten)]) == 0
