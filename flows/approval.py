"""Manager approval of a ranking, bound to the SHA-256 of the exact out/ranking.csv approved.

Three ways in, one record (out/round.sqlite):
- `rounds run DIR --approve-as NAME`: recorded at once;
- a Prefect pause with an `ApprovalInput` form, when a Prefect server outlives the
  run (PREFECT_API_URL set): answered in the UI, by `rounds approve`, or through
  Prefect's API (`POST /api/flow_runs/{id}/resume` with run_input);
- otherwise the run stops at approval; `rounds approve DIR` records the decision
  and the next `rounds run DIR` continues from there.
A changed ranking has a new hash and needs a new approval.
"""
from __future__ import annotations

from typing import Literal

from prefect.input import RunInput

from flows.state import Approval, RoundState
from scoring.errors import RoundsError


class ApprovalInput(RunInput):
    """The approval form. Defaults live here (with_initial_data drops Field constraints)."""

    decision: Literal["approve", "reject"] = "approve"
    name: str = ""
    comment: str = ""


class ApprovalError(RoundsError):
    pass


def check_decision(decision: str, name: str) -> None:
    if decision not in ("approve", "reject"):
        raise ApprovalError(f"decision must be 'approve' or 'reject', not {decision!r}")
    if not name.strip():
        raise ApprovalError("a decision needs the name of the person who takes it")


def record(state: RoundState, ranking_hash: str, decision: str, name: str, comment: str, via: str) -> Approval:
    """Record a decision once: the same decision by the same person on the same ranking is not repeated."""
    check_decision(decision, name)
    existing = state.approval_for(ranking_hash)
    if existing and existing.decision == decision and existing.decided_by == name.strip():
        return existing
    return state.record_approval(ranking_hash, decision, name.strip(), comment, via)


def approve_from_cli(state: RoundState, current_hash: str, decision: str, name: str, comment: str) -> tuple[Approval, str | None]:
    """`rounds approve`: decide on the ranking awaiting approval; returns (approval, paused flow run id)."""
    request = state.latest_request()
    if request is None:
        raise ApprovalError("no ranking is awaiting approval here: run `rounds run DIR` first")
    if request["ranking_hash"] != current_hash:
        raise ApprovalError(
            "out/ranking.csv is not the ranking that awaits approval (it changed since the run): "
            "run `rounds run DIR` again, review out/ranking.csv, then approve"
        )
    approval = record(state, current_hash, decision, name, comment, via="rounds approve")
    return approval, request.get("flow_run_id")


def resume_paused_run(flow_run_id: str, decision: str, name: str, comment: str, wait_seconds: float = 30.0) -> bool:
    """Answer a paused flow run's form through the Prefect API; False if it is not (or no longer) waiting.

    The run may not have reached its pause yet when the manager answers (the
    decision is already recorded in the workspace then): wait for the pause for
    up to `wait_seconds` while the run is still going.
    """
    import time
    from uuid import UUID

    from prefect import get_client
    from prefect.exceptions import FlowPauseTimeout, NotPausedError, ObjectNotFound
    from prefect.flow_runs import resume_flow_run

    deadline = time.monotonic() + wait_seconds
    run_input = {"decision": decision, "name": name, "comment": comment}
    while True:
        try:
            resume_flow_run(UUID(flow_run_id), run_input=run_input)
            return True
        except (FlowPauseTimeout, ObjectNotFound, ValueError):
            return False
        except NotPausedError:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(UUID(flow_run_id)).state
            if state is None or state.is_final() or time.monotonic() > deadline:
                return False
            time.sleep(1.0)
