"""A rerun never rebuilds a sent letter; a result that changed after sending is reported, never resent."""
from __future__ import annotations

import pytest

from flows.cli import EXIT_NOTICES_INCOMPLETE, main
from flows.round_flow import run_round

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_rerun_with_another_sender_changes_nothing(handwritten, catcher, monkeypatch, capsys):
    assert run_round(str(handwritten), approve_as="张科长")["status"] == "completed"
    monkeypatch.delenv("ROUNDS_MAIL_FROM")
    monkeypatch.delenv("ROUNDS_SMTP_HOST")
    capsys.readouterr()
    assert main(["run", str(handwritten), "--approve-as", "张科长"]) == 0
    out = capsys.readouterr().out
    assert "NOT RESENT" not in out and "sent in this run: 0" in out
    assert len(catcher.paths()) == 17


def test_a_result_changed_after_sending_is_reported_not_resent(handwritten, catcher, capsys):
    assert run_round(str(handwritten), approve_as="张科长")["status"] == "completed"
    # E01 re-marks HW-11 far higher: HW-11 now outranks HW-10, which drops to reserve
    path = handwritten / "scores" / "E01.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    maxima = {"innovation": "25", "effectiveness": "30", "replicability": "20", "maturity": "15", "benefit": "10"}
    path.write_text("\n".join(
        (lambda f: f"{f[0]},{f[1]},{f[2]},{maxima[f[2]]}")(l.split(",")) if ",HW-11," in l else l for l in lines
    ) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(handwritten), "--approve-as", "张科长", "--comment", "复核后重新审定"]) == EXIT_NOTICES_INCOMPLETE
    out = capsys.readouterr().out
    assert "NOT RESENT" in out and "HW-10: its notice said selected 200,000 yuan" in out and "now says reserve" in out
    assert len(catcher.paths()) == 17  # nothing sent twice
