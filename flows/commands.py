"""The `rounds` commands that take a round from intake to notices (parsing lives in flows/cli.py)."""
from __future__ import annotations

import argparse

from flows.exitcodes import EXIT_OK

def cmd_check(args: argparse.Namespace) -> int:
    from flows import stages
    from flows.workspace import Workspace

    p = stages.prepare(Workspace.at(args.dir))
    print(f"{p.ws.root}: {len(p.result.ranking)} applications read and checked; nothing written.")
    _print_counts(p.counts(), p.total_yuan())
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from flows import report, stages
    from flows.workspace import Workspace

    ws = Workspace.at(args.dir)
    stages.prepare(ws)  # fail fast and cleanly on bad input, before Prefect starts
    from flows.round_flow import run_round

    result = run_round(
        str(ws.root),
        approve_as=args.approve_as,
        comment=args.comment,
        wait_for_approval=False if args.no_wait else None,
        approval_timeout=args.approval_timeout,
    )
    return report.print_run(result)


def cmd_approve(args: argparse.Namespace) -> int:
    from flows.approval import approve_from_cli, resume_paused_run
    from flows.settings import api_server_configured
    from flows.state import RoundState
    from flows.workspace import Workspace, sha256_file
    from scoring.errors import RoundsError

    ws = Workspace.at(args.dir)
    ranking = ws.out / "ranking.csv"
    if not ranking.is_file():
        raise RoundsError(f"{ranking}: no ranking yet; run `rounds run {args.dir}` first")
    decision = "reject" if args.reject else "approve"
    approval, run_id = approve_from_cli(RoundState(ws.state_db), sha256_file(ranking), decision, args.name, args.comment)
    print(f"{'Approved' if approval.approved else 'Rejected'} ranking {approval.ranking_hash[:16]}… "
          f"as {approval.decided_by} at {approval.at}.")
    if run_id and api_server_configured() and resume_paused_run(run_id, decision, args.name, args.comment):
        print(f"The paused run {run_id} was answered and continues.")
    else:
        print(f"Run `rounds run {args.dir}` to continue.")
    return EXIT_OK


def cmd_decide(args: argparse.Namespace) -> int:
    from flows import stages
    from flows.state import RoundState
    from flows.workspace import Workspace
    from scoring.errors import DecisionRequired, RoundsError

    ws = Workspace.at(args.dir)
    order = [s.strip() for s in args.order.split(",") if s.strip()]
    if len(order) < 2 or len(set(order)) != len(order):
        raise RoundsError("--order needs two or more different application ids, e.g. --order SC-007,SC-012")
    try:
        stages.prepare(ws)
    except DecisionRequired as err:
        if set(order) not in [set(g) for g in err.groups]:
            raise RoundsError(
                "--order must name exactly the applications of one tie awaiting a decision: "
                + " | ".join(",".join(g) for g in err.groups)
            ) from None
    else:
        raise RoundsError("no tie awaits a decision in this round; nothing recorded")
    RoundState(ws.state_db).record_tie_decision(order, args.name, args.reason)
    print(f"Recorded: {' > '.join(order)} (decided by {args.name}). Run `rounds run {args.dir}` to continue.")
    return EXIT_OK


def cmd_finalise(args: argparse.Namespace) -> int:
    from flows.lifecycle import Lifecycle, StageError
    from flows.state import RoundState
    from flows.workspace import Workspace, sha256_file

    ws = Workspace.at(args.dir)
    ranking = ws.out / "ranking.csv"
    lifecycle = Lifecycle(RoundState(ws.state_db))
    if not ranking.is_file() or lifecycle.publicity(sha256_file(ranking)) is None:
        raise StageError("only an approved ranking whose 公示 list is published can be finalised: run `rounds run` first")
    lifecycle.override_final(sha256_file(ranking), args.name, args.reason)
    print(f"Recorded: final before the end of 公示, by {args.name} ({args.reason}). "
          f"Run `rounds run {args.dir}` to finalise and send the notices.")
    return EXIT_OK


def cmd_object(args: argparse.Namespace) -> int:
    import csv

    from flows.lifecycle import Lifecycle, StageError
    from flows.objections import file_objection
    from flows.state import RoundState
    from flows.workspace import Workspace, sha256_file

    ws = Workspace.at(args.dir)
    ranking = ws.out / "ranking.csv"
    state = RoundState(ws.state_db)
    lifecycle = Lifecycle(state)
    h = sha256_file(ranking) if ranking.is_file() else ""
    if not h or lifecycle.publicity(h) is None:
        raise StageError("objections are recorded against a published 公示 list: none is published for out/ranking.csv")
    if lifecycle.at_least("final"):
        raise StageError("the round is final: objections are recorded during 公示 only")
    with ranking.open(encoding="utf-8") as fh:
        listed = {r["submission_id"] for r in csv.DictReader(fh) if r["outcome"] == "selected"}
    if args.submission_id not in listed:
        raise StageError(f"{args.submission_id} is not on the published 公示 list")
    o = file_objection(state, args.submission_id, args.by, args.text, h)
    print(f"Objection #{o.id} against {o.submission_id} recorded ({o.filed_at}). The round cannot become final until "
          f"it is decided: rounds resolve {args.dir} {o.id} --upheld|--rejected --as NAME --reason TEXT")
    return EXIT_OK


def cmd_resolve(args: argparse.Namespace) -> int:
    from flows.objections import decide
    from flows.state import RoundState
    from flows.workspace import Workspace

    ws = Workspace.at(args.dir)
    o = decide(RoundState(ws.state_db), args.objection_id, args.upheld, args.name, args.reason)
    if o.status == "upheld":
        print(f"Objection #{o.id} upheld: {o.submission_id} is removed (OBJECTION_UPHELD) and the reserve list moves up. "
              f"Run `rounds run {args.dir}`: the changed list needs a new approval and a new 公示.")
    else:
        print(f"Objection #{o.id} rejected and recorded. Run `rounds run {args.dir}` to continue.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from flows import report
    from flows.workspace import Workspace

    return report.print_status(Workspace.at(args.dir))


def cmd_explain(args: argparse.Namespace) -> int:
    from flows.explain import explain
    from flows.workspace import Workspace

    print("\n".join(explain(Workspace.at(args.dir), args.submission_id)))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    import csv
    import json

    from flows.state import RoundState
    from flows.workspace import Workspace

    events = RoundState(Workspace.at(args.dir).state_db).audit()
    rows = [[e["id"], e["at"], e["actor"], e["action"], e["subject"],
             json.dumps(e["detail"], ensure_ascii=False, sort_keys=True)] for e in events]
    header = ["id", "at", "actor", "action", "subject", "detail"]
    if args.csv:
        with open(args.csv, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        print(f"{len(rows)} audit entries written to {args.csv}")
    else:
        for r in rows:
            print(" ".join(str(x) for x in r[1:]))
    return EXIT_OK


def _print_counts(counts: dict[str, int], total: int) -> None:
    from flows.report import counts_table

    print(counts_table(counts, total))
