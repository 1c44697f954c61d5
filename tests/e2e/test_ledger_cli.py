"""The awards ledger through real rounds: recorded once, read across rounds, one finalised round per programme-year."""
from __future__ import annotations

import shutil

import openpyxl
import pytest

from flows.cli import EXIT_ERROR, main
from flows.round_flow import run_round

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_ledger_records_once_refuses_a_second_round_and_exports(handwritten, catcher, tmp_path, capsys):
    assert run_round(str(handwritten), approve_as="张科长")["status"] == "completed"
    assert run_round(str(handwritten), approve_as="张科长")["status"] == "completed"  # rerun: unchanged
    export = tmp_path / "ledger.xlsx"
    assert main(["ledger", "export", str(export)]) == 0
    wb = openpyxl.load_workbook(export)
    awards = list(wb.worksheets[0].iter_rows(values_only=True))
    assert sum(1 for r in awards[1:] if r and any(v == 150000 for v in r)) == 1  # HW-03's top-up, once
    assert len([r for r in awards[1:] if r and any(v in (150000, 200000) for v in r)]) == 10

    other = tmp_path / "second-folder"
    shutil.copytree(handwritten, other, ignore=shutil.ignore_patterns("out"))
    capsys.readouterr()
    assert main(["check", str(other)]) == EXIT_ERROR
    assert "2026-scenario" in capsys.readouterr().err

    assert main(["ledger", "void", "2026-scenario", "--as", "林处长", "--reason", "重新组织评审"]) == 0
    assert main(["check", str(other)]) == 0
