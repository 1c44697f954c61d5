"""A round whose scores are collected entirely through the portal runs to the same ranking.

The hand-written scenario round (with its references) without its score files: assign (every expert
scores every eligible application), issue the links, and each expert enters the
fixture's scores in the portal — a real `rounds portal` process, over HTTP.
Then `rounds collect`, and the real Prefect flow: the ranking is byte-identical
to the golden ranking computed from the hand-written score files.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pandas as pd
import pytest

from flows.cli import main
from flows.round_flow import run_round
from tests.integration.portal_helpers import PortalServer, issue, mine

pytestmark = pytest.mark.usefixtures("prefect_harness")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten-scenario"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "handwritten-scenario" / "ranking.csv"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def test_scores_entered_in_the_portal_give_the_golden_ranking(tmp_path, catcher, capsys):
    root = tmp_path / "round"
    root.mkdir()
    for name in ("round.toml", "submissions.csv", "experts.csv"):
        shutil.copy(FIXTURE / name, root / name)
    shutil.copytree(FIXTURE / "references", root / "references")
    assert main(["assign", str(root), "--k", "5"]) == 0
    tokens = issue(root)
    with PortalServer(root) as server:
        for eid, token in sorted(tokens.items()):
            given = pd.read_csv(FIXTURE / "scores" / f"{eid}.csv", dtype=str)
            with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as c:
                csrf = CSRF.search(c.get(f"/e/{token}").text).group(1)
                for sid in mine(root, eid):
                    rows = given[given.submission_id == sid]
                    form = {"csrf": csrf, **{f"c.{k}": v for k, v in zip(rows.criterion, rows.score)}}
                    assert c.post(f"/expert/save/{sid}", data=form).status_code == 200
                done = c.post("/expert/submit", data={"csrf": csrf})
                assert done.status_code == 200 and "评分已提交" in done.text
    assert sorted(p.name for p in (root / "scores").iterdir()) == [f"portal-E0{i}.csv" for i in range(1, 6)]
    capsys.readouterr()
    assert main(["collect", str(root)]) == 0
    assert "All 75 assigned scores are in" in capsys.readouterr().out
    result = run_round(str(root), approve_as="张科长", comment="审定通过")
    assert result["status"] == "completed"
    assert (root / "out" / "ranking.csv").read_bytes() == GOLDEN.read_bytes()
