"""Deployments: a manager starts a round from the Prefect UI, or a yearly schedule starts it.

One deployment per programme (`selection-round/scenario`, `selection-round/hardware`, …),
each with a yearly cron schedule and typed parameters (`RoundParameters`). Prefect
turns the pydantic model into the UI's "Run" form and, with `enforce_parameter_schema`,
the server refuses parameters that break it (a relative path, an empty approver, a
timeout out of range, an unknown field) before any run is created.

Two ways to host them (docs/production.md):
- `rounds serve` → `serve_deployments()`: one long-lived process registers the
  deployments and runs their flow runs itself (`prefect.serve`);
- `flows/prefect.yaml` + `prefect deploy --all` + `prefect worker start` on other
  machines: a `process` work pool.

Why `start_round` calls `run_round.fn` and is named `selection-round` too: as a
subflow, run_round would pause its own child run for approval and leave the run
the manager started "Running" with no form on it. Calling the function directly
keeps one flow run holding the tasks, the artifacts and the approval form, listed
under the same flow as runs started with `rounds run`.

A round approved in the form stops while its 公示 window is open; the run then
schedules its own continuation (`schedule_after_publicity`) for the morning after
the window, so the round reaches its notices from the UI alone.

The scheduler plans runs at most ~100 days ahead, so a yearly schedule shows no
upcoming run in the UI until then; that is expected, not a missing schedule.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from prefect import flow
from pydantic import BaseModel, ConfigDict, Field

from flows.round_flow import run_round
from flows.workspace import available_programmes
from scoring.errors import ConfigError

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TIMEZONE = "Asia/Shanghai"
YEAR_PLACEHOLDER = "{year}"
DEFAULT_CRON = "0 9 15 10 *"  # 15 October, 09:00 Beijing time: after the call closes and the panels have scored
DEFAULT_APPROVAL_TIMEOUT = 7 * 86400  # a paused run only sleeps; a week covers a manager's absence
MAX_APPROVAL_TIMEOUT = 30 * 86400
CONTINUE_HOUR = 9  # a round continues at 09:00 Beijing time the day after its 公示 window


class RoundParameters(BaseModel):
    """What starts a round: the UI form of every deployment, validated by the Prefect server."""

    model_config = ConfigDict(extra="forbid", title="Round")

    workspace: str = Field(
        min_length=2,
        max_length=4096,
        pattern=r"^/",
        title="Workspace folder",
        description="Absolute path of the round's workspace (the folder with round.toml) on the machine "
        "that runs the round. `{year}` is replaced by the year of the run's scheduled start, "
        "e.g. /srv/rounds/{year}-scenario.",
    )
    approve_as: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"\S",
        title="Approve as",
        description="Leave empty to pause for the approval form after the ranking. A name here approves "
        "the ranking at once, on that person's authority, and runs the round to the end.",
    )
    comment: str = Field(default="", max_length=2000, title="Comment",
                         description="Recorded with an approval given here.")
    approval_timeout: int = Field(
        default=DEFAULT_APPROVAL_TIMEOUT,
        ge=60,
        le=MAX_APPROVAL_TIMEOUT,
        title="Approval timeout (seconds)",
        description="How long the paused run waits for the approval form. After it, the round stays at "
        "approval: `rounds approve DIR` records the decision and the next run continues.",
    )


def resolve_workspace(template: str, when: dt.datetime | None) -> str:
    """The workspace path of one run: `{year}` becomes the scheduled start's year in Beijing time."""
    if YEAR_PLACEHOLDER not in template:
        return template
    moment = when or dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return template.replace(YEAR_PLACEHOLDER, str(moment.astimezone(ZoneInfo(TIMEZONE)).year))


@flow(name="selection-round", log_prints=False, persist_result=False)
def start_round(params: RoundParameters) -> dict[str, Any]:
    """Run a round from a deployment: the same flow body as `rounds run`, in this flow run.

    A round approved here stops while its 公示 window is open; the run then schedules
    its own continuation for the morning after the window, so the round reaches its
    notices without anyone starting it again.
    """
    from prefect.runtime import flow_run as current_flow_run

    workspace = resolve_workspace(params.workspace, current_flow_run.scheduled_start_time)
    result = run_round.fn(
        workspace,
        approve_as=params.approve_as,
        approved_via="Prefect deployment form (approve_as)",
        comment=params.comment,
        wait_for_approval=None,  # a deployment always runs against a server: pause for the form
        approval_timeout=params.approval_timeout,
    )
    continuation = schedule_after_publicity(params.model_copy(update={"workspace": workspace}), result)
    return result if continuation is None else {**result, "continues": continuation}


def after_publicity(window_to: dt.date) -> dt.datetime:
    """When a round may become final: 09:00 Beijing time on the day after the last day of 公示."""
    day = window_to + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, CONTINUE_HOUR, tzinfo=ZoneInfo(TIMEZONE))


def schedule_after_publicity(params: RoundParameters, result: Mapping[str, Any]) -> dict[str, str] | None:
    """If the round waits for the end of 公示, schedule this deployment again for then (once per ranking).

    The workspace is the resolved path, not the `{year}` template: a December round
    whose window ends in January continues in the same folder. The idempotency key
    is the ranking's hash, so a rerun does not schedule a second continuation; a
    changed ranking (an upheld objection) needs a new approval and gets its own.
    """
    from prefect.artifacts import create_markdown_artifact
    from prefect.deployments import run_deployment
    from prefect.runtime import deployment

    window_to = (result.get("publicity") or {}).get("window_to")
    if result.get("status") != "in_publicity" or not window_to or deployment.id is None:
        return None
    when = after_publicity(dt.date.fromisoformat(window_to))
    run = run_deployment(
        deployment.id,
        parameters={"params": params.model_dump(mode="json")},
        scheduled_time=when,
        timeout=0,
        as_subflow=False,
        tags=["after-publicity"],
        idempotency_key=f"after-publicity-{result['ranking_sha256']}",
    )
    key = f"round-{result['round_id']}-next".replace("_", "-").lower()
    create_markdown_artifact(
        key=key,
        markdown=f"公示 until {window_to} (inclusive). The round continues at {when.isoformat()} "
        f"(flow run `{run.id}`): final, then the notices. To finalise earlier, with a reason: "
        f"`rounds finalise {params.workspace} --as NAME --reason ...`, then run it again.",
        description="When this round continues",
    )
    return {"flow_run_id": str(run.id), "scheduled_for": when.isoformat()}


def default_parameters(programme: str, workspaces: str) -> dict[str, Any]:
    """The parameters a scheduled run uses: this programme's workspace of the year, pause for approval."""
    root = workspaces.rstrip("/") or "/"
    params = RoundParameters(workspace=f"{root}/{YEAR_PLACEHOLDER}-{programme}")
    return {"params": params.model_dump(mode="json")}


def parse_schedules(items: Iterable[str]) -> dict[str, str]:
    """`PROGRAMME=CRON` options into a mapping; a malformed item is a ConfigError naming it."""
    out: dict[str, str] = {}
    for item in items:
        programme, sep, cron = item.partition("=")
        if not sep or not programme.strip() or not cron.strip():
            raise ConfigError(f"--schedule {item!r}: expected PROGRAMME=CRON, e.g. scenario='0 9 15 10 *'")
        out[programme.strip()] = cron.strip()
    return out


def build_deployments(
    workspaces: str,
    schedules: Mapping[str, str] | None = None,
    programmes: Iterable[str] | None = None,
    timezone: str = TIMEZONE,
) -> list["RunnerDeployment"]:
    """One deployment per programme, each with its yearly cron schedule (DEFAULT_CRON unless given)."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron
    from pydantic import ValidationError

    known = available_programmes()
    chosen = list(programmes) if programmes is not None else known
    schedules = dict(schedules or {})
    problems = [f"unknown programme {p!r}; available: {', '.join(known)}"
                for p in {*chosen, *schedules} if p not in known]
    if not workspaces.startswith("/"):
        problems.append(f"workspaces folder {workspaces!r} must be an absolute path (it is used on the worker)")
    for programme, cron in schedules.items():
        try:
            CronSchedule(cron=cron, timezone=timezone)
        except ValidationError:
            problems.append(f"schedule for {programme!r}: {cron!r} is not a valid cron expression")
    if problems:
        raise ConfigError(problems[0] if len(problems) == 1 else "; ".join(sorted(problems)))
    return [
        start_round.to_deployment(
            name=programme,
            schedules=[Cron(schedules.get(programme, DEFAULT_CRON), timezone=timezone, slug=f"yearly-{programme}")],
            parameters=default_parameters(programme, workspaces),
            description=f"The yearly selection round of programme `{programme}`. Run it with custom "
            "parameters to choose another workspace or approve at once.",
            tags=["rounds", programme],
            enforce_parameter_schema=True,
            entrypoint_type=EntrypointType.MODULE_PATH,  # importable wherever rounds is installed, any cwd
        )
        for programme in chosen
    ]


def serve_deployments(
    workspaces: str,
    schedules: Mapping[str, str] | None = None,
    programmes: Iterable[str] | None = None,
    limit: int | None = None,
) -> None:
    """Register the deployments and run their flow runs in this process until stopped.

    `pause_on_shutdown=False`: stopping the server process (an upgrade, a reboot)
    must not pause the deployments nor delete their scheduled runs.
    """
    from prefect import serve

    from flows.settings import api_server_configured

    if not api_server_configured():
        raise ConfigError(
            "PREFECT_API_URL is not set: deployments need a Prefect server that outlives this process "
            "(start one with `prefect server start`, see docs/production.md)"
        )
    deployments = build_deployments(workspaces, schedules, programmes)
    serve(*deployments, pause_on_shutdown=False, print_starting_message=True, limit=limit)
