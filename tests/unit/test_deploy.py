"""Deployment definitions without a server: the parameter form, schedules, prefect.yaml."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from flows.deploy import (
    DEFAULT_CRON,
    RoundParameters,
    after_publicity,
    build_deployments,
    default_parameters,
    parse_schedules,
    resolve_workspace,
)
from flows.workspace import available_programmes
from scoring.errors import ConfigError

PREFECT_YAML = Path(__file__).resolve().parents[2] / "flows" / "prefect.yaml"


@pytest.mark.parametrize("bad", [
    {"workspace": "relative/round"},
    {"workspace": "/srv/rounds/2026-scenario", "approve_as": "  "},
    {"workspace": "/srv/rounds/2026-scenario", "approve_as": ""},
    {"workspace": "/srv/rounds/2026-scenario", "approval_timeout": 59},
    {"workspace": "/srv/rounds/2026-scenario", "approval_timeout": 31 * 86400},
    {"workspace": "/srv/rounds/2026-scenario", "approver": "张三"},
    {},
])
def test_round_parameters_refuse_what_the_server_refuses(bad):
    with pytest.raises(ValidationError):
        RoundParameters(**bad)


def test_round_parameters_defaults_pause_for_approval_for_a_week():
    p = RoundParameters(workspace="/srv/rounds/{year}-scenario")
    assert (p.approve_as, p.comment, p.approval_timeout) == (None, "", 7 * 86400)
    schema = RoundParameters.model_json_schema()
    assert schema["additionalProperties"] is False and schema["properties"]["workspace"]["pattern"] == "^/"


def test_year_is_the_scheduled_start_in_beijing_time():
    new_year_in_beijing = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.timezone.utc)  # 2027-01-01 00:30 +08:00
    assert resolve_workspace("/srv/rounds/{year}-scenario", new_year_in_beijing) == "/srv/rounds/2027-scenario"
    assert resolve_workspace("/srv/rounds/{year}-scenario", dt.datetime(2026, 12, 31, 15, 59)) == "/srv/rounds/2026-scenario"
    assert resolve_workspace("/srv/rounds/fixed", None) == "/srv/rounds/fixed"


def test_a_round_continues_the_morning_after_its_publicity_window():
    at = after_publicity(dt.date(2026, 12, 31))
    assert at.isoformat() == "2027-01-01T09:00:00+08:00"


def test_schedule_options():
    assert parse_schedules(["scenario=0 9 1 9 *", " hardware = 30 8 15 10 * "]) == {
        "scenario": "0 9 1 9 *", "hardware": "30 8 15 10 *"}
    with pytest.raises(ConfigError, match="PROGRAMME=CRON"):
        parse_schedules(["scenario"])


def test_one_deployment_per_programme_with_its_yearly_schedule():
    deployments = build_deployments("/srv/rounds", {"scenario": "0 9 1 9 *"})
    by_name = {d.name: d for d in deployments}
    assert sorted(by_name) == available_programmes()
    scenario = by_name["scenario"]
    (schedule,) = scenario.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 9 1 9 *", "Asia/Shanghai")
    assert scenario.entrypoint == "flows.deploy.start_round" and scenario.enforce_parameter_schema
    assert scenario.parameters == default_parameters("scenario", "/srv/rounds")
    assert scenario.parameters["params"]["workspace"] == "/srv/rounds/{year}-scenario"
    others = [d for d in deployments if d.name != "scenario"]
    assert all(d.schedules[0].schedule.cron == DEFAULT_CRON for d in others)


def test_bad_deployment_options_are_all_reported():
    with pytest.raises(ConfigError) as err:
        build_deployments("srv/rounds", {"nope": "0 9 1 9 *", "scenario": "99 9 1 9 *"})
    text = str(err.value)
    assert "unknown programme 'nope'" in text and "'99 9 1 9 *' is not a valid cron" in text
    assert "must be an absolute path" in text


def test_prefect_yaml_deploys_known_programmes_with_valid_parameters_and_schedules():
    from prefect.client.schemas.schedules import CronSchedule

    spec = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    names = [d["name"] for d in spec["deployments"]]
    assert len(names) == len(set(names))
    assert {"scenario", "hardware", "platform", "model_filing"} <= set(names) <= set(available_programmes())
    assert spec["pull"] == []
    for d in spec["deployments"]:
        assert d["entrypoint"] == "flows.deploy:start_round" and d["enforce_parameter_schema"] is True
        assert d["work_pool"]["name"] == "rounds"
        params = RoundParameters(**d["parameters"]["params"])
        assert params.workspace.endswith(f"/{{year}}-{d['name']}")
        (schedule,) = d["schedules"]
        CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])
        assert schedule["timezone"] == "Asia/Shanghai" and schedule["active"] is True
