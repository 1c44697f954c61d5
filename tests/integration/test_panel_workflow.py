"""assign → experts fill their own sheets → collect (with mistakes, then clean) → rank."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flows.cli import EXIT_ERROR, main
from flows.stages import prepare
from flows.workspace import Workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten-scenario"


@pytest.fixture
def ws(tmp_path) -> Path:
    root = tmp_path / "round"
    root.mkdir()
    for name in ("round.toml", "submissions.csv", "experts.csv"):
        shutil.copy(FIXTURE / name, root / name)
    # E01 works for HW-04's enterprise: a conflict by organisation credit code
    experts = (root / "experts.csv").read_text(encoding="gb18030").replace(
        "福州大学,12350000488000000X", "福州智鹭机器人有限公司,91350103MA203DP191")
    (root / "experts.csv").write_text(experts, encoding="gb18030")
    return root


def fill(sheet: Path, dest: Path, value=lambda row: 8) -> None:
    wb = openpyxl.load_workbook(sheet)
    ws = wb["评分表"]
    header = [c.value for c in ws[1]]
    crit = [h for h in header if h not in ("expert_id", "submission_id", "enterprise_name", "title", "comment")]
    for r in range(2, ws.max_row + 1):
        for c in crit:
            ws.cell(r, header.index(c) + 1).value = value(r) if c != "benefit" else 6
    wb.save(dest)


def test_assign_collect_and_rank(ws, tmp_path, capsys):
    assert main(["assign", str(ws), "--k", "3"]) == 0
    assignment = pd.read_csv(ws / "out" / "assignment.csv", dtype=str)
    assert len(assignment) == 15 * 3
    assert not ((assignment.expert_id == "E01") & (assignment.submission_id == "HW-04")).any()
    loads = assignment.groupby("expert_id").size()
    assert loads.max() - loads.min() <= 1
    conflicts = pd.read_csv(ws / "out" / "conflicts.csv", dtype=str)
    assert ("E01", "HW-04") in set(zip(conflicts.expert_id, conflicts.submission_id))
    # each expert's sheet lists only that expert's applications
    for eid, mine in assignment.groupby("expert_id"):
        sheet = openpyxl.load_workbook(ws / "out" / "sheets" / f"{eid}.xlsx")["评分表"]
        listed = {sheet.cell(r, 2).value for r in range(2, sheet.max_row + 1)}
        assert listed == set(mine.submission_id)

    capsys.readouterr()
    assert main(["status", str(ws)]) == 0
    status = capsys.readouterr().out
    assert "stage: assigned" in status and "45 of 45 assigned scores still owed" in status

    upload = tmp_path / "upload"
    upload.mkdir()
    for eid in assignment.expert_id.unique():
        fill(ws / "out" / "sheets" / f"{eid}.xlsx", upload / f"{eid}.xlsx")
    # E02 writes an out-of-range score; E03 adds an application that is not assigned to them
    bad = openpyxl.load_workbook(upload / "E02.xlsx")
    bad["评分表"].cell(2, 5).value = 99
    bad.save(upload / "E02.xlsx")
    bad = openpyxl.load_workbook(upload / "E03.xlsx")
    sheet = bad["评分表"]
    not_mine = sorted(set(assignment.submission_id) - set(assignment[assignment.expert_id == "E03"].submission_id))[0]
    sheet.append(["E03", not_mine, "", "", 5, 5, 5, 5, 5, ""])
    bad.save(upload / "E03.xlsx")
    capsys.readouterr()
    assert main(["collect", str(ws), str(upload)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "upload/E02.xlsx, row 2" in err and "99" in err
    assert "upload/E03.xlsx" in err and not_mine in err
    assert not (ws / "scores").exists() or not any((ws / "scores").iterdir())  # nothing half-loaded

    fill(ws / "out" / "sheets" / "E02.xlsx", upload / "E02.xlsx")
    fill(ws / "out" / "sheets" / "E03.xlsx", upload / "E03.xlsx", value=lambda row: 9)
    assert main(["collect", str(ws), str(upload)]) == 0
    out = capsys.readouterr().out
    assert "All 45 assigned scores are in" in out
    ranking = prepare(Workspace.at(ws)).result.ranking
    assert set(ranking.n_experts[ranking.outcome != "ineligible"]) == {3}


def test_assignment_is_frozen_once_sent(ws, capsys):
    assert main(["assign", str(ws), "--k", "3"]) == 0
    assert main(["assign", str(ws), "--k", "3"]) == 0  # same inputs: same assignment, nothing changes
    assert main(["assign", str(ws), "--k", "4"]) == EXIT_ERROR
    assert "--reassign" in capsys.readouterr().err
    assert main(["assign", str(ws), "--k", "4", "--reassign"]) == 0


def test_infeasible_assignment_says_why(ws, capsys):
    assert main(["assign", str(ws), "--k", "6"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "needs 6" in err or "short" in err
