"""Rounds against a real `prefect server start` process, as in production, not only the test harness.

Per database backend (SQLite always; PostgreSQL when ROUNDS_TEST_POSTGRES_URL is set,
in a fresh database dropped afterwards), one server for the module:
- `rounds run` in its own process pauses for approval; the form is answered
  through Prefect's REST API; the round completes, the notices reach a real SMTP
  server, and the run, its task runs and its artifacts stay in the server's history;
- `rounds serve`: one deployment per programme with its yearly schedule and typed
  parameters; the server refuses bad parameters; a run started through the API
  pauses and is approved; stopping the process keeps the deployment and its
  scheduled run (pause_on_shutdown=False);
- flows/prefect.yaml deployed to a `process` work pool with `prefect deploy`, and
  a run executed by `prefect worker start`.
Every process is stopped with its children at the end.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from flows.deploy import after_publicity
from tests.e2e.real_server import PREFECT, Api, PrefectServer, Proc, fresh_postgres_database

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "handwritten-scenario"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUNDS = [sys.executable, "-m", "flows.cli"]
STAGE_TASKS = {"intake-and-rank", "write-ranking", "publish-publicity", "prepare-notices", "send-notices"}
NOTICES = 17  # 18 applications, HW-16's address is malformed
POSTGRES_URL = os.environ.get("ROUNDS_TEST_POSTGRES_URL")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    home = tmp_path_factory.mktemp(f"prefect-server-{request.param}")
    extra = {"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"}
    if request.param == "sqlite":
        with PrefectServer(home, f"sqlite+aiosqlite:///{home / 'prefect.db'}", extra).start() as srv:
            yield srv
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL variant not run: set ROUNDS_TEST_POSTGRES_URL=postgresql://USER@127.0.0.1:5432/test")
    with fresh_postgres_database(POSTGRES_URL) as database_url, PrefectServer(home, database_url, extra).start() as srv:
        yield srv


@pytest.fixture
def deployment_server(server):
    """Deployments are tested once: on PostgreSQL (production's database) when it is there, else on SQLite."""
    if POSTGRES_URL and server.database_url.startswith("sqlite"):
        pytest.skip("deployments are tested on the PostgreSQL server in this run (time budget)")
    return server


@pytest.fixture
def client_home(tmp_path) -> Path:
    home = tmp_path / "client-prefect-home"
    home.mkdir()
    return home


def copy_fixture(dst: Path) -> Path:
    shutil.copytree(FIXTURE, dst)
    return dst


def flow_run_id_requested(ws: Path, proc: Proc, timeout: float = 90) -> str:
    """The paused run's id, as the flow records it with its approval request (what `rounds approve` reads)."""
    db = ws / "out" / "round.sqlite"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    row = con.execute("SELECT flow_run_id FROM approval_requests WHERE flow_run_id IS NOT NULL").fetchone()
            except sqlite3.OperationalError:  # the run is still creating its tables
                row = None
            if row:
                return row[0]
        if proc.popen.poll() is not None:
            break
        time.sleep(0.3)
    raise AssertionError(f"the run never asked for approval; output:\n{proc.output()[-3000:]}")


def approvals(ws: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(ws / "out" / "round.sqlite") as con:
        return con.execute("SELECT decision, decided_by, via FROM approvals ORDER BY id").fetchall()


def recipients(catcher) -> list[str]:
    msgs = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in catcher.paths()]
    return sorted(m["To"].addresses[0].addr_spec for m in msgs)


def answer_form(api: Api, run_id: str, run_input: dict) -> dict:
    """What the UI's form does: POST /flow_runs/{id}/resume with the run input."""
    r = api.request("POST", f"/flow_runs/{run_id}/resume", json={"run_input": run_input})
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_cli_round_pauses_and_is_approved_through_the_rest_api(server, client_home, tmp_path, catcher):
    api = server.api
    ws = copy_fixture(tmp_path / "round")
    env = server.client_env(client_home)
    run = Proc([*ROUNDS, "run", str(ws), "--approval-timeout", "300"], env, tmp_path / "run.log")
    try:
        run_id = flow_run_id_requested(ws, run)
        paused = api.wait_for_state(run_id, {"PAUSED"}, 60, run)
        keys = paused["state"]["state_details"]["run_input_keyset"]
        form = api.get(f"/flow_runs/{run_id}/input/{keys['schema']}")
        assert form["properties"]["decision"]["enum"] == ["approve", "reject"]
        assert "2026-scenario" in api.get(f"/flow_runs/{run_id}/input/{keys['description']}")

        refused = answer_form(api, run_id, {"decision": "maybe", "name": "王局长"})
        assert refused["status"] == "REJECT" and "decision" in refused["details"]["reason"]
        assert api.flow_run(run_id)["state"]["type"] == "PAUSED"
        assert approvals(ws) == []

        accepted = answer_form(api, run_id, {"decision": "approve", "name": "王局长", "comment": "经API审批"})
        assert accepted["status"] == "ACCEPT"
        code = run.wait(120)
    finally:
        run.stop()
    assert approvals(ws) == [("approve", "王局长", "prefect")]
    from flows import cli

    if code == getattr(cli, "EXIT_IN_PUBLICITY", object()):
        # the 公示 window opened at approval: finalise early with a reason, as a manager may, and run again
        done = Proc([*ROUNDS, "finalise", str(ws), "--as", "王局长", "--reason", "测试：不等待公示期"], env,
                    tmp_path / "finalise.log")
        assert done.wait(60) == 0, done.output()
        again = Proc([*ROUNDS, "run", str(ws)], env, tmp_path / "run2.log")
        code = again.wait(120)
        again.stop()
    assert code == cli.EXIT_OK, run.output()[-3000:]
    assert len(catcher.paths()) == NOTICES and len(set(recipients(catcher))) == NOTICES

    # the server kept the whole history: runs, their task runs, the artifacts
    runs = [r for r in api.flow_runs() if r["parameters"].get("workspace") == str(ws)]
    assert runs and runs[0]["id"] == run_id and all(r["state"]["type"] == "COMPLETED" for r in runs)
    tasks = [t for r in runs for t in api.task_runs(r["id"])]
    assert {t["name"].rsplit("-", 1)[0] for t in tasks} >= STAGE_TASKS
    assert all(t["state"]["type"] == "COMPLETED" for t in tasks)
    artifacts = {a["key"]: a for a in api.artifacts(run_id)}
    assert {"round-2026-scenario", "round-2026-scenario-ranking"} <= set(artifacts)
    table = artifacts["round-2026-scenario-ranking"]
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert table["type"] == "table" and len(rows) == 18 and {r["submission_id"] for r in rows} >= {"HW-01", "HW-18"}
    summary = artifacts["round-2026-scenario"]
    assert summary["type"] == "markdown" and "2026-scenario" in summary["data"]


def _next_yearly(days_ahead: int) -> tuple[str, dt.datetime]:
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=days_ahead)
    return f"30 9 {day.day} {day.month} *", dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=SHANGHAI)


def test_served_deployments_validate_parameters_run_from_the_api_and_survive_a_stop(
    deployment_server, client_home, tmp_path, catcher
):
    server = deployment_server
    api = server.api
    workspaces = tmp_path / "workspaces"
    year = dt.datetime.now(SHANGHAI).year
    ws = copy_fixture(workspaces / f"{year}-scenario")
    cron, first_run = _next_yearly(10)  # within the scheduler's ~100-day horizon, so a run is planned
    env = server.client_env(client_home, PREFECT_RUNNER_POLL_FREQUENCY="1")
    serve = Proc([*ROUNDS, "serve", "--workspaces", str(workspaces), "--schedule", f"scenario={cron}"],
                 env, tmp_path / "serve.log", death_signal=signal.SIGTERM)
    try:
        from flows.workspace import available_programmes

        deadline = time.monotonic() + 60  # one deployment per programme, registered one after the other
        while missing := [p for p in available_programmes() if api.deployment("selection-round", p) is None]:
            assert serve.popen.poll() is None and time.monotonic() < deadline, (missing, serve.output()[-3000:])
            time.sleep(0.3)
        dep = api.deployment("selection-round", "scenario")
        schedule = dep["schedules"][0]
        assert schedule["schedule"] == {"cron": cron, "timezone": "Asia/Shanghai", "day_or": True}
        assert schedule["active"] and not dep["paused"] and dep["enforce_parameter_schema"]
        assert dep["parameters"]["params"]["workspace"] == f"{workspaces}/{{year}}-scenario"
        form = dep["parameter_openapi_schema"]["definitions"]["RoundParameters"]
        assert set(form["properties"]) == {"workspace", "approve_as", "comment", "approval_timeout"}

        bad = [
            ({"workspace": "relative/round"}, "params.workspace"),
            ({"workspace": str(ws), "approval_timeout": 5}, "params.approval_timeout"),
            ({"workspace": str(ws), "approval_timeout": "tomorrow"}, "params.approval_timeout"),
            ({"workspace": str(ws), "approve_as": "   "}, "params.approve_as"),
            ({"workspace": str(ws), "approver": "张三"}, "'approver' was unexpected"),
            ({}, "'workspace' is a required property"),
        ]
        for params, why in bad:
            r = api.request("POST", f"/deployments/{dep['id']}/create_flow_run", json={"parameters": {"params": params}})
            assert r.status_code == 409 and why in r.text, (params, r.status_code, r.text)
        assert api.flow_runs(deployments={"id": {"any_": [dep["id"]]}}, flow_runs={"state": {"type": {"not_any_": ["SCHEDULED"]}}}) == []

        started = api.post(f"/deployments/{dep['id']}/create_flow_run", {
            "parameters": {"params": {"workspace": f"{workspaces}/{{year}}-scenario", "approval_timeout": 300}}})
        run_id = started["id"]
        api.wait_for_state(run_id, {"PAUSED"}, 90, serve)
        assert answer_form(api, run_id, {"decision": "approve", "name": "林处长", "comment": "UI"})["status"] == "ACCEPT"
        api.wait_for_state(run_id, {"COMPLETED"}, 90, serve)
        assert approvals(ws) == [("approve", "林处长", "prefect")]
        assert (ws / "out" / "publicity.html").is_file()
        assert {t["name"].rsplit("-", 1)[0] for t in api.task_runs(run_id)} >= {"intake-and-rank", "publish-publicity"}

        # approved today, the 公示 window is open: the run scheduled its own continuation for the day after it
        with sqlite3.connect(ws / "out" / "round.sqlite") as con:
            (window_to,) = con.execute("SELECT window_to FROM publicity").fetchone()
        artifacts = {a["key"]: a for a in api.artifacts(run_id)}
        assert window_to in artifacts["round-2026-scenario-next"]["data"]

        deadline = time.monotonic() + 30  # the scheduler service plans the yearly run (it loops every 2 s here)
        while True:
            planned = api.flow_runs(deployments={"id": {"any_": [dep["id"]]}},
                                    flow_runs={"state": {"type": {"any_": ["SCHEDULED"]}}})
            if any(r["auto_scheduled"] for r in planned):
                break
            assert time.monotonic() < deadline, f"the scheduler planned no run for a date 10 days ahead: {planned}"
            time.sleep(0.5)
        yearly = [r for r in planned if r["auto_scheduled"]]
        assert len(yearly) == 1 and dt.datetime.fromisoformat(yearly[0]["expected_start_time"]) == first_run
        assert yearly[0]["parameters"] == dep["parameters"]
        follow_up = [r for r in planned if "after-publicity" in r["tags"]]
        assert len(follow_up) == 1 and len(planned) == 2, planned
        assert dt.datetime.fromisoformat(follow_up[0]["expected_start_time"]) == after_publicity(
            dt.date.fromisoformat(window_to))
        assert follow_up[0]["parameters"] == {"params": {"workspace": str(ws), "approve_as": None, "comment": "",
                                                         "approval_timeout": 300}}
    finally:
        serve.stop()
    after = api.deployment("selection-round", "scenario")
    assert not after["paused"] and after["schedules"][0]["active"], "stopping `rounds serve` paused the deployment"
    for r in planned:
        assert api.flow_run(r["id"])["state"]["type"] == "SCHEDULED", "stopping `rounds serve` deleted a scheduled run"

def test_prefect_yaml_deploys_to_a_process_pool_and_a_worker_runs_the_round(
    deployment_server, client_home, tmp_path, catcher
):
    from prefect.workers.process import ProcessWorker

    server = deployment_server
    api = server.api
    api.post("/work_pools/", {"name": "rounds", "type": "process",
                              "base_job_template": ProcessWorker.get_default_base_job_template()})
    env = server.client_env(client_home)
    deploy = Proc([*PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", str(REPO / "flows" / "prefect.yaml")],
                  env, tmp_path / "deploy.log", cwd=REPO)
    assert deploy.wait(90) == 0, deploy.output()[-3000:]
    deploy.stop()
    spec = yaml.safe_load((REPO / "flows" / "prefect.yaml").read_text(encoding="utf-8"))
    for item in spec["deployments"]:
        dep = api.deployment("selection-round", item["name"])
        assert dep and dep["work_pool_name"] == "rounds" and dep["entrypoint"] == "flows.deploy:start_round"
        assert dep["schedules"][0]["schedule"]["timezone"] == "Asia/Shanghai" and dep["pull_steps"] == []
        assert dep["parameters"]["params"]["workspace"] == f"/srv/rounds/{{year}}-{item['name']}"

    dep = api.deployment("selection-round", "scenario")
    r = api.request("POST", f"/deployments/{dep['id']}/create_flow_run",
                    json={"parameters": {"params": {"workspace": "srv/rounds"}}})
    assert r.status_code == 409 and "params.workspace" in r.text
    ws = copy_fixture(tmp_path / "round")
    run_id = api.post(f"/deployments/{dep['id']}/create_flow_run", {
        "parameters": {"params": {"workspace": str(ws), "approve_as": "调度测试", "comment": "由工作池运行"}}})["id"]
    worker = Proc([*PREFECT, "worker", "start", "--pool", "rounds", "--run-once"], env, tmp_path / "worker.log",
                  death_signal=signal.SIGTERM)
    try:
        assert worker.wait(150) == 0, worker.output()[-3000:]
    finally:
        worker.stop()
    run = api.wait_for_state(run_id, {"COMPLETED", "FAILED", "CRASHED"}, 30)
    assert run["state"]["type"] == "COMPLETED", worker.output()[-3000:]
    assert [a[:2] for a in approvals(ws)] == [("approve", "调度测试")]
    assert len(catcher.paths()) == NOTICES
    tasks = api.task_runs(run_id)
    assert {t["name"].rsplit("-", 1)[0] for t in tasks} >= STAGE_TASKS
    assert all(t["state"]["type"] == "COMPLETED" for t in tasks)
