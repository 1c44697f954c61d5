"""Shared set-up of the portal tests: a real assigned round, real links, a browser-like client."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pandas as pd

from flows.cli import main
from flows.portal.context import load_context
from flows.portal.links import issue_links
from flows.portal.settings import PortalSettings, shanghai_now
from flows.portal.store import PortalStore
from flows.workspace import Workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten-scenario"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def make_round(root: Path, k: int = 3) -> Path:
    """The hand-written scenario round, assigned with k experts per application; no score sheets."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("round.toml", "submissions.csv", "experts.csv"):
        shutil.copy(FIXTURE / name, root / name)
    assert main(["assign", str(root), "--k", str(k)]) == 0
    return root


def assignment(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "out" / "assignment.csv", dtype=str)


def issue(root: Path, *, days: float = 30, clock=shanghai_now, experts=None) -> dict[str, str]:
    """Links for the assigned experts (printed, not mailed); returns expert_id -> token."""
    ws = Workspace.at(root)
    report = issue_links(ws, load_context(ws), PortalStore(ws.out / "portal.sqlite"), base_url="http://testserver",
                         deadline=clock() + dt.timedelta(days=days), clock=clock, send=False, experts=experts)
    return {eid: url.rsplit("/", 1)[1] for eid, _, url in report.issued}


def settings(**values) -> PortalSettings:
    return PortalSettings(base_url="http://testserver", **values)


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no csrf field on the page"
    return m.group(1)


def full_scores(programme) -> dict[str, str]:
    """Form fields scoring every criterion at 80% of its maximum."""
    return {f"c.{c.id}": str(int(c.max_points * 8 / 10)) for c in programme.criteria}


def client(app, host: str = "127.0.0.1", **options):
    """A browser-like client (cookies, redirects) from `host`."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, client=(host, 50000), raise_server_exceptions=True, **options)


def mine(root: Path, expert_id: str) -> list[str]:
    a = assignment(root)
    return sorted(a[a.expert_id == expert_id].submission_id)


def not_mine(root: Path, expert_id: str) -> str:
    a = assignment(root)
    return sorted(set(a.submission_id) - set(mine(root, expert_id)))[0]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortalServer:
    """`rounds portal DIR` as a real process on 127.0.0.1 (uvicorn), started and stopped by a test."""

    def __init__(self, root: Path, *, env: dict | None = None, port: int | None = None):
        self.root, self.port = Path(root), port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env or {}
        self.proc = None

    def start(self, timeout: float = 60) -> "PortalServer":
        import os
        import subprocess
        import sys
        import time
        import urllib.request

        repo = Path(__file__).resolve().parents[2]
        self.log = open(self.root.parent / f"portal-{self.port}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "portal", str(self.root), "--port", str(self.port)],
                                     cwd=repo, env={**os.environ, **self.env}, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"portal exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"portal did not answer within {timeout} s")

    def kill(self) -> None:
        import signal

        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
