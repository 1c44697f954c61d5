"""A whole scenario round through the real Prefect flow, a real SMTP server and real files."""
from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from flows.cli import EXIT_AWAITING_APPROVAL, main
from flows.round_flow import run_round

pytestmark = pytest.mark.usefixtures("prefect_harness")

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def out_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "out").rglob("*"))
        if p.is_file() and not p.name.endswith((".sqlite", ".sqlite-wal", ".sqlite-shm"))
    }


def rows(path: Path) -> dict[str, dict]:
    with path.open(encoding="utf-8") as fh:
        return {r["submission_id"]: r for r in csv.DictReader(fh)}


def test_handwritten_round_runs_sends_once_and_reruns_identically(handwritten, catcher):
    result = run_round(str(handwritten), approve_as="张科长", comment="审定通过")
    assert result["status"] == "completed"
    ranking = (handwritten / "out" / "ranking.csv").read_bytes()
    assert ranking == (GOLDEN / "handwritten-scenario" / "ranking.csv").read_bytes()

    # exactly one notice per application with a deliverable address (HW-16's address is malformed)
    got = rows(handwritten / "out" / "ranking.csv")
    msgs = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in catcher.paths()]
    by_to = {}
    for m in msgs:
        by_to.setdefault(m["To"].addresses[0].addr_spec, []).append(m)
    assert len(msgs) == 17 and all(len(v) == 1 for v in by_to.values())
    assert result["notices_prepared"]["undeliverable"] and "HW-16" in result["notices_prepared"]["undeliverable"][0]
    selected = next(m for m in msgs if m["To"].addresses[0].addr_spec == "contact01@demo01.example.cn")
    body = selected.get_body(preferencelist=("plain",)).get_content()
    assert "200,000" in body and got["HW-01"]["outcome"] == "selected"
    assert "结果" in str(selected["Subject"]) or "通知" in str(selected["Subject"])
    reserve = next(m for m in msgs if m["To"].addresses[0].addr_spec == "contact11@demo11.example.cn")
    assert "候补" in reserve.get_body(preferencelist=("plain",)).get_content()

    before = out_hashes(handwritten)
    again = run_round(str(handwritten), approve_as="张科长", comment="审定通过")
    assert again["status"] == "completed"
    assert again["notices"]["sent_now"] == 0 and again["notices_prepared"]["new"] == 0
    assert len(catcher.paths()) == 17
    assert out_hashes(handwritten) == before


def test_without_a_server_the_run_stops_at_approval_and_continues_after_rounds_approve(handwritten, catcher, capsys):
    first = run_round(str(handwritten), wait_for_approval=False)
    assert first["status"] == "awaiting_approval"
    assert (handwritten / "out" / "ranking.csv").is_file()
    assert not (handwritten / "out" / "publicity.html").exists()
    assert catcher.paths() == []

    assert main(["approve", str(handwritten), "--as", "林处长", "--comment", "同意"]) == 0
    assert "Approved" in capsys.readouterr().out
    second = run_round(str(handwritten), wait_for_approval=False)
    # approved and published: the 公示 window (from today, the approval date) is open, nothing is sent yet
    assert second["status"] == "in_publicity"
    assert second["approval"]["decided_by"] == "林处长" and second["approval"]["via"] == "rounds approve"
    assert (handwritten / "out" / "publicity.html").is_file()
    assert catcher.paths() == []
    assert main(["finalise", str(handwritten), "--as", "林处长", "--reason", "市政府专题会议要求提前下达"]) == 0
    third = run_round(str(handwritten), wait_for_approval=False)
    assert third["status"] == "completed" and "林处长" in third["final"]
    assert len(catcher.paths()) == 17
    with sqlite3.connect(handwritten / "out" / "round.sqlite") as db:
        stages = [s for (s,) in db.execute("SELECT subject FROM audit WHERE action = 'stage' ORDER BY id")]
    assert stages == ["scored", "approved", "publicised", "final", "notified"]


def test_after_the_window_the_round_becomes_final_without_override(handwritten, catcher):
    text = (handwritten / "round.toml").read_text(encoding="utf-8")
    (handwritten / "round.toml").write_text(
        text.replace('contact = "0591-87000000"', 'contact = "0591-87000000"\npublicity_start = 2026-09-30'),
        encoding="utf-8")
    run_round(str(handwritten), wait_for_approval=False)
    assert main(["approve", str(handwritten), "--as", "林处长"]) == 0
    res = run_round(str(handwritten), wait_for_approval=False)
    # 2026-09-30 plus 5 working days across the National Day holiday ends on 2026-10-12
    assert res["publicity"] == {"published_on": "2026-09-30", "window_from": "2026-09-30", "window_to": "2026-10-12"}
    assert res["status"] == "completed" and "2026-10-12" in res["final"]
    assert len(catcher.paths()) == 17


def test_rejection_is_recorded_and_nothing_is_published(handwritten, catcher):
    run_round(str(handwritten), wait_for_approval=False)
    assert main(["approve", str(handwritten), "--as", "林处长", "--reject", "--comment", "评分需复核"]) == 0
    res = run_round(str(handwritten), wait_for_approval=False)
    assert res["status"] == "rejected" and res["approval"]["comment"] == "评分需复核"
    assert catcher.paths() == []
    assert not (handwritten / "out" / "publicity.html").exists()
    with sqlite3.connect(handwritten / "out" / "round.sqlite") as db:
        actions = [a for (a,) in db.execute("SELECT action FROM audit ORDER BY id")]
    assert "ranking_reject" in actions


def test_paused_run_is_resumed_by_rounds_approve(handwritten, catcher):
    box: dict = {}

    def run() -> None:
        box["result"] = run_round(str(handwritten), wait_for_approval=True, approval_timeout=120)

    t = threading.Thread(target=run)
    t.start()
    db = handwritten / "out" / "round.sqlite"
    deadline = time.monotonic() + 90
    run_id = None
    while time.monotonic() < deadline and run_id is None:
        if db.exists():
            with sqlite3.connect(db) as con:
                row = con.execute("SELECT flow_run_id FROM approval_requests").fetchone()
            run_id = row[0] if row else None
        time.sleep(0.5)
    assert run_id, "the flow never asked for approval"
    answered = time.monotonic()
    assert main(["approve", str(handwritten), "--as", "王局长", "--comment", "UI外审批"]) == 0
    t.join(timeout=120)
    assert time.monotonic() - answered < 60, "the pause was not resumed through the API (it timed out)"
    assert not t.is_alive()
    assert box["result"]["status"] == "in_publicity"
    assert box["result"]["approval"]["decided_by"] == "王局长"
    assert catcher.paths() == []


def test_cli_run_prints_summary_and_exit_code(handwritten, catcher, capsys):
    code = main(["run", str(handwritten), "--no-wait"])
    out = capsys.readouterr().out
    assert code == EXIT_AWAITING_APPROVAL
    assert "rounds approve" in out and "selected" in out
    code = main(["run", str(handwritten), "--approve-as", "demo"])
    out = capsys.readouterr().out
    assert code == 0 and "sent 17" in out and "publicity.html" in out
    assert "without waiting for the end of 公示" in out


def test_a_rerun_rewrites_no_file(handwritten, catcher):
    run_round(str(handwritten), approve_as="张科长")
    out = handwritten / "out"
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".sqlite" not in p.name}
    run_round(str(handwritten), approve_as="张科长")
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and ".sqlite" not in p.name}
    assert after == before, sorted(str(p.relative_to(out)) for p in after if after.get(p) != before.get(p))
