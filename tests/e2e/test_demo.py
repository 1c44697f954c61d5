"""`rounds demo` end to end: the sample round of every programme through the real flow, real SMTP and one ledger.

The demo runs once for the module (it is the slowest thing here: eight rounds);
the tests then read what it printed and what it wrote. The printed summary
table is parsed and compared, number by number, with each round's
out/ranking.csv; each round's mail catcher must hold exactly one message per
application with a deliverable address, the very messages previewed in
out/notices/.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from flows import ledger
from flows.demo import MARKER, run_demo
from flows.intake import load_workspace
from flows.sample import sample_programmes
from flows.workspace import Workspace
from notices.message import validate_address
from scoring import columns as C
from scoring.errors import ConfigError

pytestmark = pytest.mark.usefixtures("prefect_harness")

COLUMNS = ("applications", "selected", "reserve", "not selected", "ineligible", "total yuan", "notices sent")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run the demo once; (exit code, stdout, stderr, demo folder, ROUNDS_HOME before and after)."""
    folder = tmp_path_factory.mktemp("demo") / "demo-round"
    before = os.environ.get("ROUNDS_HOME")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_demo(folder, seed=7)
    return code, out.getvalue(), err.getvalue(), folder.resolve(), before, os.environ.get("ROUNDS_HOME")


def ranking(root: Path) -> list[dict]:
    with (root / "out" / "ranking.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def summary(stdout: str) -> dict[str, tuple[int, ...]]:
    """The summary table's rows, by programme (and "total"), as integers."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["programme", "applications"])
    assert re.sub(r"\s+", " ", lines[start]).strip() == "programme " + " ".join(COLUMNS)
    rows = {}
    for line in lines[start + 1:]:
        if line.strip().startswith("-"):
            continue
        if not line.strip():
            break
        name, *cells = line.split()
        rows[name] = tuple(int(c.replace(",", "")) for c in cells)
    return rows


def test_the_demo_runs_every_programme_cleanly(demo) -> None:
    code, out, err, folder, before, after = demo
    assert code == 0
    assert "Traceback" not in out + err and "ERROR" not in out + err
    assert err.strip() == ""  # no Prefect noise, no warnings
    assert (folder / MARKER).is_file()
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(
        [f"{p}-2026" for p in sample_programmes()] + ["rounds-home"])
    # one line per programme as it finishes, in run order
    finished = [line.split()[0] for line in out.splitlines() if " applications: " in line]
    assert finished == list(sample_programmes())
    for pid in sample_programmes():
        assert str(folder / f"{pid}-2026" / "out" / "report.html") in out
    assert after == before  # the demo's own ROUNDS_HOME and SMTP settings are gone again
    assert "ROUNDS_SMTP_HOST" not in os.environ


def test_the_summary_table_agrees_with_every_ranking(demo) -> None:
    _, out, _, folder, _, _ = demo
    table = summary(out)
    assert list(table) == [*sample_programmes(), "total"]
    for pid in sample_programmes():
        root = folder / f"{pid}-2026"
        rows = ranking(root)
        outcomes = [r[C.OUTCOME] for r in rows]
        expected = (
            len(rows), outcomes.count(C.SELECTED), outcomes.count(C.RESERVE), outcomes.count(C.NOT_SELECTED),
            outcomes.count(C.INELIGIBLE), sum(int(r[C.AMOUNT_YUAN]) for r in rows),
            len(list((root / "out" / "mail").glob("*.eml"))),
        )
        assert table[pid] == expected, pid
    assert table["total"] == tuple(sum(col) for col in zip(*(table[p] for p in sample_programmes())))


def test_each_catcher_received_exactly_one_notice_per_deliverable_application(demo) -> None:
    _, _, _, folder, _, _ = demo
    headers = BytesHeaderParser()
    for pid in sample_programmes():
        root = folder / f"{pid}-2026"
        _, programme = Workspace.at(root).load_config()
        subs = load_workspace(root, programme).submissions
        deliverable = set()
        for sid, address in zip(subs[C.SUBMISSION_ID], subs[C.CONTACT_EMAIL]):
            try:
                validate_address(address)
            except ValueError:
                continue
            deliverable.add(sid)
        assert 0 < len(deliverable) <= len(subs)
        previews = {}
        for sid in deliverable:
            previews[headers.parsebytes((root / "out" / "notices" / f"{sid}.eml").read_bytes())["Message-ID"]] = sid
        assert len(previews) == len(deliverable)
        received = [headers.parsebytes(p.read_bytes()) for p in sorted((root / "out" / "mail").glob("*.eml"))]
        ids = [m["Message-ID"] for m in received]
        assert len(ids) == len(set(ids)) == len(deliverable), pid       # nothing twice, nothing missing
        assert set(ids) == set(previews), pid                           # exactly the notices of this round
        address = dict(zip(subs[C.SUBMISSION_ID], subs[C.CONTACT_EMAIL]))
        for m in received:
            assert address[previews[m["Message-ID"]]] in m["To"]


def test_the_rounds_share_one_ledger_and_a_scenario_project_is_topped_up_in_industrial_internet(demo) -> None:
    _, out, _, folder, _, _ = demo
    home = folder / "rounds-home"
    assert sorted(r["round_id"] for r in ledger.read_rounds(home)) == sorted(f"2026-{p}" for p in sample_programmes())
    awards = ledger.read_awards(home)
    for pid in sample_programmes():
        paid = [r for r in ranking(folder / f"{pid}-2026") if r[C.OUTCOME] == C.SELECTED and int(r[C.AMOUNT_YUAN])]
        recorded = awards[awards["round_id"] == f"2026-{pid}"]
        assert sorted(recorded[C.SUBMISSION_ID]) == sorted(r[C.SUBMISSION_ID] for r in paid)
    ii = {r[C.SUBMISSION_ID]: r for r in ranking(folder / "industrial_internet-2026")}
    sc = {r[C.SUBMISSION_ID]: r for r in ranking(folder / "scenario-2026")}
    (line,) = [line for line in out.splitlines() if "就高不重复 across programmes" in line]
    sid, earlier, code, amount = re.search(
        r"(II2026-\d{3}) re-submits the project paid as 2026-scenario (SC2026-\d{3}): (\w+), ([\d,]+) yuan", line).groups()
    again, first = ii[sid], sc[earlier]
    assert (again[C.CREDIT_CODE], again[C.TITLE]) == (first[C.CREDIT_CODE], first[C.TITLE])
    assert (again[C.OUTCOME], again[C.REASON_CODE]) == (C.SELECTED, C.TOPUP_HIGHEST)
    full = min(int(again["requested_amount_yuan"]), 2_000_000)
    assert int(again[C.AMOUNT_YUAN]) == full - int(first[C.AMOUNT_YUAN]) == int(amount.replace(",", ""))
    assert code == C.TOPUP_HIGHEST


def test_the_demo_never_replaces_a_folder_it_did_not_write(tmp_path) -> None:
    (tmp_path / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a demo folder"):
        run_demo(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    with pytest.raises(ConfigError, match="no sample round for programme 'lottery'"):
        run_demo(tmp_path / "new", programmes=["lottery"])
    assert not (tmp_path / "new").exists()
