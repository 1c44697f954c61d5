"""A crash mid-request loses nothing already submitted and never half-applies.

The portal runs as a real process (`rounds portal DIR`); three experts submit
revision after revision; the process is killed with SIGKILL in the middle.
After a restart, every confirmed revision is at most the journal's newest, the
file in scores/ is exactly the journal's newest bytes, no revision is left
unfinished, and the round's audit log has every revision.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time

import httpx

from flows.portal import create_app
from flows.portal.store import PortalStore
from flows.state import RoundState
from flows.workspace import Workspace
from tests.integration.portal_helpers import PortalServer, issue, make_round, mine, settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CRITERIA = ("innovation", "effectiveness", "replicability", "maturity", "benefit")


def _loop(base: str, token: str, sids: list[str], confirmed: list[int], stop: threading.Event) -> None:
    try:
        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as c:
            csrf = CSRF.search(c.get(f"/e/{token}").text).group(1)
            i = 0
            while not stop.is_set():
                i += 1
                for sid in sids:
                    c.post(f"/expert/save/{sid}", data={"csrf": csrf, **{f"c.{k}": str(i % 10) for k in CRITERIA}})
                r = c.post("/expert/submit", data={"csrf": csrf})
                m = re.search(r"第 (\d+) 版", r.text)
                if r.status_code == 200 and m:
                    confirmed.append(int(m.group(1)))
    except (httpx.HTTPError, AttributeError):
        return  # the server died under us


def _check_consistent(root, store: PortalStore, experts, confirmed) -> dict[str, int]:
    latest = store.latest_submissions()
    assert store.unfinished() == []
    revisions = {}
    for eid in experts:
        if eid not in latest:
            assert not confirmed[eid]
            continue
        newest = latest[eid]
        assert max(confirmed[eid], default=0) <= newest.revision  # nothing confirmed is lost
        body = store.submission_body(eid, newest.revision)
        on_disk = (root / "scores" / f"portal-{eid}.csv").read_bytes()
        assert on_disk == body and hashlib.sha256(on_disk).hexdigest() == newest.sha256  # never half-applied
        revisions[eid] = newest.revision
    assert not list((root / "scores").glob(".portal-*"))
    audit = RoundState(Workspace.at(root).state_db).audit()
    for eid, n in revisions.items():
        logged = {e["detail"]["revision"] for e in audit if e["action"] == "portal_submitted" and e["subject"] == eid}
        assert logged == set(range(1, n + 1))
    return revisions


def test_kill_during_submit_loop_keeps_files_and_journal_consistent(tmp_path):
    root = make_round(tmp_path / "round")
    tokens = issue(root)
    experts = ["E01", "E02", "E03"]
    confirmed: dict[str, list[int]] = {e: [] for e in experts}
    for attempt in range(2):
        stop = threading.Event()
        with PortalServer(root) as server:
            threads = [threading.Thread(target=_loop, args=(server.url, tokens[e], mine(root, e), confirmed[e], stop))
                       for e in experts]
            for t in threads:
                t.start()
            time.sleep(2.5 + attempt)
            server.kill()  # SIGKILL: no cleanup, in the middle of whatever request was running
            stop.set()
            for t in threads:
                t.join(20)
        # restart (recovery runs at start), then check
        create_app(root, settings=settings())
        revisions = _check_consistent(root, PortalStore(root / "out" / "portal.sqlite"), experts, confirmed)
    assert sum(len(v) for v in confirmed.values()) >= 3 and revisions


def test_a_journaled_submission_is_rolled_forward_after_a_crash(tmp_path):
    root = make_round(tmp_path / "round")
    issue(root)
    store = PortalStore(root / "out" / "portal.sqlite")
    sids = mine(root, "E04")
    body = ("expert_id,submission_id,criterion,score\n" + "".join(
        f"E04,{s},{k},3\n" for s in sids for k in CRITERIA)).encode()
    from flows.portal.settings import shanghai_now

    # as if the process died right after the journal commit, before the file was replaced
    revision = store.begin_submission("E04", body, shanghai_now())
    (root / "scores").mkdir(exist_ok=True)
    (root / "scores" / ".portal-stale.csv").write_bytes(body[:20])
    assert not (root / "scores" / "portal-E04.csv").exists()
    create_app(root, settings=settings())
    assert (root / "scores" / "portal-E04.csv").read_bytes() == body
    assert store.unfinished() == [] and store.latest_submissions()["E04"].revision == revision
    assert not (root / "scores" / ".portal-stale.csv").exists()
    recovered = [e for e in RoundState(Workspace.at(root).state_db).audit() if e["action"] == "portal_submitted"]
    assert recovered[-1]["detail"]["recovered"] is True
