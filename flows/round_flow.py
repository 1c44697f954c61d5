"""The selection round as a Prefect flow: one task per stage, approval as a pause or a stop.

    intake+score+rank → write ranking → approval → 公示 page → notices (outbox, send)

Tasks wrap plain functions from `flows.stages` and `flows.notify`, so tests of
those need no Prefect. Caching is off on purpose: Prefect's cache is not
idempotency; exactly-once notices come from the outbox, decisions from
out/round.sqlite.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run as current_flow_run

from flows import ledger, notify, stages
from flows.approval import ApprovalInput, record
from flows.lifecycle import Lifecycle
from flows.progress import progress_reporter
from flows.settings import api_server_configured, rounds_home
from flows.state import SHANGHAI, Approval, RoundState
from flows.workspace import Workspace

AWAITING_APPROVAL = "awaiting_approval"
REJECTED = "rejected"
IN_PUBLICITY = "in_publicity"
COMPLETED = "completed"
ONE_SHOT_REASON = "rounds run --approve-as: the whole round in one run, without waiting for the end of 公示"


@task(name="intake-and-rank", cache_policy=NO_CACHE)
def intake_and_rank(root: str) -> stages.Prepared:
    return stages.prepare(Workspace.at(root))


@task(name="write-ranking", cache_policy=NO_CACHE)
def write_ranking(p: stages.Prepared) -> list[str]:
    changed = stages.write_ranking(p)
    if "report.html" in changed or not (p.ws.out / "report.pdf").exists():
        stages.write_report_pdf(p)
    return changed


@task(name="publish-publicity", cache_policy=NO_CACHE)
def publish(p: stages.Prepared, approval: Approval) -> tuple[list[str], str]:
    changed, warning = stages.publish(p, approval)
    Lifecycle(RoundState(p.ws.state_db)).record_publicity(p.ranking_hash, p.published_on, p.window)
    return changed, warning


@task(name="record-awards", cache_policy=NO_CACHE)
def record_awards(p: stages.Prepared, approval: Approval) -> dict:
    """The final awards into the ledger under ROUNDS_HOME (idempotent), before sending: other rounds must see them."""
    change = ledger.record_awards(rounds_home(), config=p.config, programme=p.programme, workspace=p.ws.root,
                                  ranking=p.result.ranking, ranking_sha256=p.ranking_hash,
                                  recorded_by=approval.decided_by)
    RoundState(p.ws.state_db).log("system", f"ledger_{change.status}", p.config.round_id, **change.as_dict())
    return change.as_dict()


@task(name="prepare-notices", cache_policy=NO_CACHE)
def prepare_notices(p: stages.Prepared, approval: Approval, issued_at: str) -> notify.PrepareSummary:
    summary = notify.prepare_notices(p, approval, issued_at)
    key = f"notice-samples-{p.config.year}-{p.programme.id}".replace("_", "-")
    create_markdown_artifact(key=key, markdown=notify.samples_markdown(p), description="One notice per outcome")
    return summary


@task(name="send-notices", cache_policy=NO_CACHE)
def send_notices(p: stages.Prepared, approval: Approval) -> notify.SendSummary:
    key = f"notices-{p.config.year}-{p.programme.id}".replace("_", "-")
    return notify.send_notices(p, approval, progress=progress_reporter("sending notices", artifact_key=key))


def _artifacts(p: stages.Prepared) -> None:
    key = f"round-{p.config.year}-{p.programme.id}".replace("_", "-")
    create_markdown_artifact(key=key, markdown=p.summary_markdown(), description="Ranking summary")
    create_link_artifact(key=f"{key}-report", link=(p.ws.out / "report.html").as_uri(),
                         link_text="Round report (HTML)", description="Charts, panel statistics, the full ranking")
    create_table_artifact(key=f"{key}-ranking", table=stages.outcome_table(p.result.ranking), description="Ranking")


def _obtain_approval(
    p: stages.Prepared, state: RoundState, approve_as: str | None, comment: str, wait: bool, timeout: int,
    via: str,
) -> Approval | None:
    h = p.ranking_hash
    if approve_as:
        return record(state, h, "approve", approve_as, comment, via=via)
    existing = state.approval_for(h)
    if existing is not None:
        return existing
    run_id = str(current_flow_run.id) if wait else None
    state.request_approval(h, p.summary_markdown(), flow_run_id=run_id)
    if not wait:
        return None
    print(
        f"Waiting for approval of ranking {h[:16]}… in the Prefect UI (flow run {run_id}), "
        f"or run: rounds approve {p.ws.root} --as NAME [--reject] [--comment TEXT]",
        flush=True,
    )
    from prefect.exceptions import FlowPauseTimeout

    while True:
        recorded = state.approval_for(h)  # `rounds approve` may have answered before the pause began
        if recorded is not None:
            return recorded
        try:
            answer = pause_flow_run(
                wait_for_input=ApprovalInput.with_initial_data(description=p.summary_markdown()),
                timeout=timeout,
                poll_interval=2,
            )
        except FlowPauseTimeout:
            return state.approval_for(h)  # perhaps recorded by `rounds approve` meanwhile
        if answer.name.strip():
            return record(state, h, answer.decision, answer.name, answer.comment, via="prefect")
        print("An approval needs a name; waiting again.", flush=True)


@flow(name="selection-round", log_prints=False, persist_result=False)
def run_round(
    workspace: str,
    approve_as: str | None = None,
    comment: str = "",
    wait_for_approval: bool | None = None,
    approval_timeout: int = 86400,
    approved_via: str = "rounds run --approve-as",
) -> dict[str, Any]:
    """Run a round from its workspace folder up to approval, and on from there once approved.

    `approved_via` says how an `approve_as` approval was given (recorded with it).
    """
    p = intake_and_rank(workspace)
    state = RoundState(p.ws.state_db)
    lifecycle = Lifecycle(state)
    changed = write_ranking(p)
    state.log("system", "ranking_written", p.config.round_id, ranking_sha256=p.ranking_hash, changed=changed)
    if state.approval_for(p.ranking_hash) is None:
        lifecycle.move("scored", ranking_sha256=p.ranking_hash)
    _artifacts(p)
    wait = api_server_configured() if wait_for_approval is None else wait_for_approval
    approval = _obtain_approval(p, state, approve_as, comment, wait, approval_timeout, approved_via)
    result: dict[str, Any] = {
        "round_id": p.config.round_id,
        "programme": p.programme.id,
        "workspace": str(p.ws.root),
        "ranking_sha256": p.ranking_hash,
        "counts": p.counts(),
        "total_yuan": p.total_yuan(),
        "outputs": sorted(p.files),
    }
    if approval is None:
        return {**result, "status": AWAITING_APPROVAL}
    if not approval.approved:
        return {**result, "status": REJECTED, "approval": approval.__dict__}
    if not lifecycle.at_least("approved"):
        lifecycle.move("approved", approval.decided_by, ranking_sha256=p.ranking_hash)
    _, calendar_warning = publish(p, approval)
    if not lifecycle.at_least("publicised"):
        lifecycle.move("publicised", window_from=p.window[0], window_to=p.window[1])
    result.update(approval=approval.__dict__, outputs=sorted(p.files), calendar_warning=calendar_warning,
                  publicity={"published_on": p.published_on.isoformat(), "window_from": p.window[0].isoformat(),
                             "window_to": p.window[1].isoformat()})
    today = dt.datetime.now(SHANGHAI).date()
    may, why = lifecycle.may_finalise(p.ranking_hash, today)
    if not may and approve_as and lifecycle.final_override(p.ranking_hash) is None:
        # a one-shot run does not wait for the end of 公示, and says so on the record
        lifecycle.override_final(p.ranking_hash, approve_as, ONE_SHOT_REASON)
        may, why = lifecycle.may_finalise(p.ranking_hash, today)
    if not may:
        return {**result, "status": IN_PUBLICITY, "final_blocked": why}
    if not lifecycle.at_least("final"):
        lifecycle.move("final", why=why)
    final_at = lifecycle.mark_final(p.ranking_hash, why)
    record_awards(p, approval)
    prepared = prepare_notices(p, approval, final_at)
    sent = send_notices(p, approval)
    if sent.complete and not prepared.conflicts and not lifecycle.at_least("notified"):
        lifecycle.move("notified", counts=sent.counts)
    state.log("system", "round_run_completed", p.config.round_id, notices=sent.as_dict())
    return {**result, "status": COMPLETED, "final": why, "notices_prepared": prepared.as_dict(),
            "notices": sent.as_dict()}
