"""公示 objections: an upheld one removes the application, the reserve moves up, the list is approved again."""
from __future__ import annotations

import csv

import pytest

from flows.cli import EXIT_ERROR, main
from flows.round_flow import run_round

pytestmark = pytest.mark.usefixtures("prefect_harness")


def outcomes(root) -> dict[str, tuple[str, str, str]]:
    with (root / "out" / "ranking.csv").open(encoding="utf-8") as fh:
        return {r["submission_id"]: (r["outcome"], r["amount_yuan"], r["reason_code"]) for r in csv.DictReader(fh)}


def test_upheld_objection_promotes_the_reserve_and_needs_a_new_approval(handwritten, catcher, capsys):
    run_round(str(handwritten), wait_for_approval=False)
    assert main(["approve", str(handwritten), "--as", "林处长"]) == 0
    assert run_round(str(handwritten), wait_for_approval=False)["status"] == "in_publicity"

    assert main(["object", str(handwritten), "HW-14", "--by", "某公司", "--text", "x"]) == EXIT_ERROR  # not listed
    assert main(["object", str(handwritten), "HW-02", "--by", "福州某科技公司", "--text", "申报材料中的应用数据与实际不符"]) == 0
    capsys.readouterr()
    blocked = run_round(str(handwritten), wait_for_approval=False)
    assert blocked["status"] == "in_publicity" and "not decided" in blocked["final_blocked"]
    assert main(["finalise", str(handwritten), "--as", "林处长", "--reason", "急"]) == 0
    assert run_round(str(handwritten), wait_for_approval=False)["status"] == "in_publicity"  # still blocked

    assert main(["resolve", str(handwritten), "1", "--upheld", "--as", "评审组", "--reason", "经核查应用数据不实"]) == 0
    changed = run_round(str(handwritten), wait_for_approval=False)
    assert changed["status"] == "awaiting_approval"
    got = outcomes(handwritten)
    assert got["HW-02"] == ("not_selected", "0", "OBJECTION_UPHELD")
    assert got["HW-11"] == ("selected", "200000", "")          # the first reserve moved up
    assert got["HW-12"][0] == "reserve" and got["HW-13"][0] == "reserve"
    assert sum(1 for o in got.values() if o[0] == "selected") == 10

    assert main(["approve", str(handwritten), "--as", "林处长", "--comment", "异议处理后重新审定"]) == 0
    assert run_round(str(handwritten), wait_for_approval=False)["status"] == "in_publicity"  # a new 公示
    assert main(["finalise", str(handwritten), "--as", "林处长", "--reason", "补充公示无异议，提前下达"]) == 0
    done = run_round(str(handwritten), wait_for_approval=False)
    assert done["status"] == "completed"
    to_hw02 = [p for p in catcher.paths() if b"contact02@demo02.example.cn" in p.read_bytes()]
    assert len(to_hw02) == 1 and len(catcher.paths()) == 17

    capsys.readouterr()
    assert main(["explain", str(handwritten), "HW-02"]) == 0
    out = capsys.readouterr().out
    assert "OBJECTION_UPHELD" in out and "objection_upheld" in out
