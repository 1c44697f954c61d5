"""A real `prefect server start` process for tests, its REST API, and subprocesses that never outlive a test.

Every process started here runs in its own session; `stop()` signals the whole
group, then any descendant that left it (found through /proc), and escalates to
SIGKILL, so nothing is left behind for CI.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import quote

import httpx

RETRY_STATUS = (429, 502, 503)  # the SQLite server answers 503 "database is locked" under concurrent writes
PREFECT = [sys.executable, "-m", "prefect"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    if not Path("/proc").is_dir():
        return []
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _dies_with_parent(sig: int):
    """In the child: receive `sig` when the test process dies, even if it is killed before its teardown (Linux)."""

    def preexec() -> None:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    return preexec if sys.platform.startswith("linux") else None


class Proc:
    """A subprocess in its own session, its output in a log file; it dies with the test process.

    `death_signal` reaches it if the test process dies without stopping it: SIGKILL by
    default (a paused `rounds run` does not stop promptly on SIGTERM), SIGTERM for a
    process that must stop its own children (`rounds serve`, a worker).
    """

    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path, cwd: Path | None = None,
                 death_signal: int = signal.SIGKILL):
        self.args = list(args)
        self.log = log
        self._fh = log.open("wb")
        self.popen = subprocess.Popen(
            self.args, env=env, cwd=cwd, stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_dies_with_parent(death_signal),
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        self._fh.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"{self.args[2:5]} did not finish in {timeout:.0f} s; output:\n{self.output()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, grace: float = 20.0) -> None:
        """Stop the process, its group and every descendant; SIGKILL what ignores `sig`."""
        pids = [self.pid, *descendants(self.pid)]
        for send in (sig, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, send)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, send)
            deadline = time.monotonic() + (grace if send == sig else 5)
            while time.monotonic() < deadline:
                self.popen.poll()
                if not any(_alive(p) for p in pids):
                    break
                time.sleep(0.1)
            else:
                continue
            break
        self.popen.poll()
        self._fh.close()
        left = [p for p in pids if _alive(p)]
        assert not left, f"processes left running after stopping {self.args[2:5]}: {left}"


class Api:
    """Prefect's REST API over plain HTTP, as any external client (or the UI) would use it."""

    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        for attempt in range(12):  # like Prefect's own client, retry what the server says is transient
            response = self.http.request(method, path, json=json)
            if response.status_code not in RETRY_STATUS:
                return response
            time.sleep(0.25 * (attempt + 1))
        return response

    def get(self, path: str) -> Any:
        r = self.request("GET", path)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, json: Any = None) -> Any:
        r = self.request("POST", path, json=json)
        r.raise_for_status()
        return r.json() if r.content else None

    def flow_run(self, run_id: str) -> dict:
        return self.get(f"/flow_runs/{run_id}")

    def wait_for_state(self, run_id: str, types: set[str], timeout: float, proc: Proc | None = None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.flow_run(run_id)
            if run["state"]["type"] in types:
                return run
            if time.monotonic() > deadline:
                extra = f"\noutput:\n{proc.output()[-3000:]}" if proc else ""
                raise AssertionError(f"flow run {run_id} is {run['state']['type']}, not {types}{extra}")
            time.sleep(0.5)

    def flow_runs(self, **filters: Any) -> list[dict]:
        return self.post("/flow_runs/filter", {"sort": "START_TIME_ASC", **filters})

    def task_runs(self, run_id: str) -> list[dict]:
        return self.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}})

    def artifacts(self, run_id: str) -> list[dict]:
        return self.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})

    def deployment(self, flow: str, name: str) -> dict | None:
        r = self.request("GET", f"/deployments/name/{flow}/{name}")
        return r.json() if r.status_code == 200 else None


class PrefectServer:
    """`prefect server start` on a free 127.0.0.1 port with a private PREFECT_HOME and database."""

    def __init__(self, home: Path, database_url: str, extra_env: dict[str, str] | None = None):
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.database_url = database_url
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url,
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.env.pop("PREFECT_API_URL", None)
        self.proc: Proc | None = None
        self.api = Api(self.api_url)
        self.startup_seconds = 0.0

    def start(self, timeout: float = 120) -> "PrefectServer":
        started = time.monotonic()
        self.proc = Proc([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port), "--no-ui"],
                         self.env, self.home / "server.log")
        while time.monotonic() - started < timeout:
            if self.proc.popen.poll() is not None:
                raise AssertionError(f"prefect server exited with {self.proc.popen.returncode}:\n{self.proc.output()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    self.startup_seconds = time.monotonic() - started
                    return self
            time.sleep(0.25)
        self.stop()
        raise AssertionError(f"prefect server not healthy after {timeout:.0f} s")

    def __enter__(self) -> "PrefectServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.api.http.close()
        if self.proc is not None:
            self.proc.stop()

    def client_env(self, home: Path, **extra: str) -> dict[str, str]:
        """The environment of a process that talks to this server (a CLI run, `rounds serve`, a worker)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER_DATABASE")}
        env.update(
            PREFECT_HOME=str(home),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env


@contextlib.contextmanager
def fresh_postgres_database(url: str) -> Iterator[str]:
    """A new database on the server of `url` (dropped afterwards), as a postgresql+asyncpg URL for Prefect."""
    import psycopg

    name = f"rounds_prefect_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
        user = quote(info.get("user") or "", safe="")
        auth = user + (f":{quote(info['password'], safe='')}" if info.get("password") else "") + ("@" if user else "")
        yield f"postgresql+asyncpg://{auth}{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
