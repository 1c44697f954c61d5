"""`rounds explain` accounts for an outcome; `rounds audit` exports every decision."""
from __future__ import annotations

import csv

import pytest

from flows.cli import main
from flows.round_flow import run_round

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_explain_traces_scores_caps_decisions_and_notice(handwritten, catcher, capsys, tmp_path):
    run_round(str(handwritten), approve_as="张科长")
    capsys.readouterr()
    assert main(["explain", str(handwritten), "HW-03"]) == 0
    out = capsys.readouterr().out
    assert "dropped the lowest (E03 83.0000) and the highest (E02 89.5000)" in out
    assert "panel score = 86.333333 → rounded half-up to 86.33" in out
    assert "TOPUP_HIGHEST" in out and "150,000" in out
    assert "approve by 张科长" in out
    assert "result: sent to contact03@demo03.example.cn" in out

    assert main(["explain", str(handwritten), "HW-18"]) == 0
    out = capsys.readouterr().out
    assert "FAIL  credit_code" in out and "ineligible" in out

    assert main(["explain", str(handwritten), "NOPE"]) == 1
    export = tmp_path / "audit.csv"
    assert main(["audit", str(handwritten), "--csv", str(export)]) == 0
    with export.open(encoding="utf-8") as fh:
        actions = [r["action"] for r in csv.DictReader(fh)]
    assert {"ranking_approve", "final_override", "stage"} <= set(actions)
