"""`rounds`: the command line of the selection rounds.

Every RoundsError becomes one clear line per problem on stderr and a non-zero
exit; no traceback reaches a user unless --verbose asks for it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.settings import quiet_prefect

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AWAITING_APPROVAL = 3
EXIT_DECISION_REQUIRED = 4
EXIT_REJECTED = 5
EXIT_NOTICES_INCOMPLETE = 6
EXIT_IN_PUBLICITY = 7

EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_ERROR: "bad input or configuration (one line per problem on stderr); nothing was written",
    EXIT_USAGE: "wrong command-line usage",
    EXIT_AWAITING_APPROVAL: "the ranking awaits a manager's approval (`rounds approve`)",
    EXIT_DECISION_REQUIRED: "a tie at the cut-off needs a recorded decision (`rounds decide`)",
    EXIT_REJECTED: "the ranking was rejected; see `rounds status`",
    EXIT_NOTICES_INCOMPLETE: "some notices were not delivered (failed, ambiguous or halted); see the report",
    EXIT_IN_PUBLICITY: "the 公示 window is still open: run again after it ends (or `rounds finalise`)",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rounds",
        description="Competitive selection rounds of Fuzhou's AI-industry measures (榕政办规〔2026〕7号).",
        epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
    )
    p.add_argument("--verbose", action="store_true", help="show Prefect's logs and full tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a round from its workspace folder (idempotent)")
    run.add_argument("dir", help="the round workspace (a folder with round.toml)")
    run.add_argument("--approve-as", metavar="NAME", help="approve the ranking as NAME and run to the end without stopping")
    run.add_argument("--comment", default="", help="comment recorded with --approve-as")
    run.add_argument("--no-wait", action="store_true",
                     help="with a Prefect server, stop at approval instead of pausing for the UI form")
    run.add_argument("--approval-timeout", type=int, default=86400, metavar="SECONDS",
                     help="how long a paused run waits for the approval form (default 86400)")

    check = sub.add_parser("check", help="read and check a workspace, print the proposed ranking summary; writes nothing")
    check.add_argument("dir")

    assign = sub.add_parser("assign", help="assign experts to the eligible applications (回避, balanced) and write their score sheets")
    assign.add_argument("dir")
    assign.add_argument("--k", type=int, help="experts per application (default: the programme's experts_per_application)")
    assign.add_argument("--reassign", action="store_true", help="replace an assignment already sent to experts")

    collect = sub.add_parser("collect", help="check returned score sheets against the assignment and import them into scores/")
    collect.add_argument("dir")
    collect.add_argument("source", nargs="?", help="a folder of filled sheets or a long-form CSV (default: DIR/scores)")

    approve = sub.add_parser("approve", help="approve (or reject) the ranking that awaits approval")
    approve.add_argument("dir")
    approve.add_argument("--as", dest="name", required=True, metavar="NAME", help="who decides")
    approve.add_argument("--reject", action="store_true", help="reject instead of approve")
    approve.add_argument("--comment", default="", help="why (recorded in the audit log)")

    decide = sub.add_parser("decide", help="record a manager's order for applications tied on every rule")
    decide.add_argument("dir")
    decide.add_argument("--order", required=True, metavar="ID,ID,...", help="the tied applications, first ranked first")
    decide.add_argument("--as", dest="name", required=True, metavar="NAME")
    decide.add_argument("--reason", required=True, help="why this order (recorded in the audit log)")

    finalise = sub.add_parser("finalise", help="make the approved, published ranking final before its 公示 window ends")
    finalise.add_argument("dir")
    finalise.add_argument("--as", dest="name", required=True, metavar="NAME")
    finalise.add_argument("--reason", required=True, help="why the window is not awaited (recorded in the audit log)")

    obj = sub.add_parser("object", help="record an objection (异议) against an application on the published 公示 list")
    obj.add_argument("dir")
    obj.add_argument("submission_id")
    obj.add_argument("--by", required=True, metavar="WHO", help="who raised it (person or organisation)")
    obj.add_argument("--text", required=True, help="what the objection says")

    resolve = sub.add_parser("resolve", help="decide an objection: upheld removes the application, the reserve list moves up")
    resolve.add_argument("dir")
    resolve.add_argument("objection_id", type=int)
    verdict = resolve.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--upheld", action="store_true")
    verdict.add_argument("--rejected", action="store_true")
    resolve.add_argument("--as", dest="name", required=True, metavar="NAME")
    resolve.add_argument("--reason", required=True, help="the finding (recorded, and quoted to the applicant if upheld)")

    notices = sub.add_parser("notices", help="where every notice stands; retry the failed ones; or preview them all (a dry run)")
    notices.add_argument("dir")
    notices_mode = notices.add_mutually_exclusive_group()
    notices_mode.add_argument("--retry-failed", action="store_true",
                              help="queue the failed notices again and send them (through ROUNDS_SMTP_*)")
    notices_mode.add_argument("--preview", action="store_true",
                              help="write every notice as .eml and .html under out/preview/; nothing is stored or sent")

    status = sub.add_parser("status", help="where a round stands: ranking, approval, notices, audit log")
    status.add_argument("dir")

    explain = sub.add_parser("explain", help="the full trace of one application: review, scores, rank, caps, decisions, notice")
    explain.add_argument("dir")
    explain.add_argument("submission_id")

    audit = sub.add_parser("audit", help="print the round's audit log, or export it (--csv FILE)")
    audit.add_argument("dir")
    audit.add_argument("--csv", metavar="FILE", help="write the log as CSV (UTF-8) instead of printing it")

    ledger = sub.add_parser("ledger", help="the awards ledger under ROUNDS_HOME: export it, or void a finalised round")
    lsub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    lexport = lsub.add_parser("export", help="write the whole ledger (awards, rounds, history) to an xlsx file")
    lexport.add_argument("path")
    lvoid = lsub.add_parser("void", help="remove a finalised round's awards so its programme-year can be finalised again")
    lvoid.add_argument("round_id", help="e.g. 2026-scenario")
    lvoid.add_argument("--as", dest="name", required=True, metavar="NAME")
    lvoid.add_argument("--reason", required=True)

    demo = sub.add_parser("demo", help="generate a sample round and run it end to end with an embedded mail catcher")
    demo.add_argument("--dir", default="demo-round", help="where to write the sample round (default ./demo-round)")
    demo.add_argument("--seed", type=int, default=7, help="seed of the sample data")
    demo.add_argument("--programme", action="append", metavar="ID",
                      help="run only this programme's sample round (repeatable; default: every programme)")
    serve = sub.add_parser("serve", help="run the rounds' Prefect deployments (one per programme, yearly schedule, UI form)")
    serve.add_argument("--workspaces", required=True, metavar="DIR",
                       help="folder of the round workspaces; a scheduled run uses DIR/<year>-<programme>")
    serve.add_argument("--schedule", action="append", default=[], metavar="PROGRAMME=CRON",
                       help="a programme's yearly start in Beijing time (default '0 9 15 10 *', 15 October 09:00)")
    serve.add_argument("--programme", action="append", metavar="ID", help="serve only this programme (repeatable)")
    portal = sub.add_parser("portal", help="the experts' scoring web portal: serve it, or issue, mail and revoke "
                                           "their personal links")
    from flows.portal.command import configure_parser

    configure_parser(portal)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        quiet_prefect()
    from scoring.errors import DecisionRequired, RoundsError

    try:
        return COMMANDS[args.command](args)
    except DecisionRequired as err:
        _print_decision_help(args, err)
        return EXIT_DECISION_REQUIRED
    except RoundsError as err:
        if args.verbose:
            raise
        _print_problems(err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


MAX_PROBLEMS_PER_FILE = 25


def _print_problems(err) -> None:
    """One line per problem; past MAX_PROBLEMS_PER_FILE in one file, a count of the rest."""
    from scoring.errors import InputError

    if not isinstance(err, InputError):
        for line in err.lines():
            print(f"error: {line}", file=sys.stderr)
        return
    shown: dict[str, int] = {}
    for problem in err.problems:
        shown[problem.file] = shown.get(problem.file, 0) + 1
        if shown[problem.file] <= MAX_PROBLEMS_PER_FILE:
            print(f"error: {problem}", file=sys.stderr)
    for file, n in shown.items():
        if n > MAX_PROBLEMS_PER_FILE:
            print(f"error: {file}: {n - MAX_PROBLEMS_PER_FILE} more problems not shown "
                  f"({n} in all; fix the ones above and check again)", file=sys.stderr)
    print(f"{len(err.problems)} problem(s); nothing was written.", file=sys.stderr)


def _print_decision_help(args: argparse.Namespace, err) -> None:
    print(f"stopped: {err}", file=sys.stderr)
    print(
        "Nothing was sent. The programme's rules cannot separate these applications and a cap would split them.\n"
        "Record the order you decide, with your reason, then run again:\n"
        + "\n".join(
            f"  rounds decide {getattr(args, 'dir', 'DIR')} --order {','.join(g)} --as NAME --reason \"...\""
            for g in err.groups
        ),
        file=sys.stderr,
    )


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


def cmd_assign(args: argparse.Namespace) -> int:
    from flows.panel import assign
    from flows.workspace import Workspace

    ws = Workspace.at(args.dir)
    rep = assign(ws, k=args.k, reassign=args.reassign)
    loads = sorted(set(rep.loads.values())) or [0]
    load_text = str(loads[0]) if loads[0] == loads[-1] else f"{loads[0]}–{loads[-1]}"
    print(f"Assigned {rep.k} experts to each of {rep.n_applications} eligible applications; "
          f"{rep.n_experts} experts, {load_text} applications each; "
          f"{rep.n_conflicts} conflicts of interest excluded (out/conflicts.csv).")
    print(f"Score sheets, one per expert: {ws.out / 'sheets'}  ({len(rep.sheets)} files)")
    return EXIT_OK


def cmd_collect(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows.panel import collect
    from flows.workspace import Workspace

    res = collect(Workspace.at(args.dir), Path(args.source) if args.source else None)
    if res["imported"]:
        print(f"Imported into scores/: {', '.join(res['imported'])}")
    owed = res["owed"]
    if owed:
        print(f"All sheets check out; {sum(len(v) for v in owed.values())} of {res['pairs']} assigned scores still owed:")
        for e, subs in sorted(owed.items()):
            print(f"  {e}: {len(subs)} ({', '.join(subs[:8])}{' …' if len(subs) > 8 else ''})")
    else:
        print(f"All {res['pairs']} assigned scores are in and check out. Next: rounds run {args.dir}")
    return EXIT_OK


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


def cmd_notices(args: argparse.Namespace) -> int:
    from flows import notify, stages
    from flows.state import RoundState
    from flows.workspace import Workspace
    from notices.deliver import build_report, retry_failed
    from notices.outbox import Outbox
    from scoring.errors import RoundsError

    ws = Workspace.at(args.dir)
    if args.preview:
        p = stages.prepare(ws)
        n, undeliverable, folder = notify.preview(p, RoundState(ws.state_db).approval_for(p.ranking_hash))
        print(f"{n} notices previewed in {folder} (.eml and .html); nothing was stored or sent.")
        for line in undeliverable:
            print(f"  undeliverable (inform by other means): {line}")
        return EXIT_OK
    if not ws.outbox_db.is_file():
        raise RoundsError("no notices prepared yet: they are prepared when the round becomes final (rounds run)")
    config, _ = ws.load_config()
    if args.retry_failed:
        p = stages.prepare(ws)
        approval = RoundState(ws.state_db).approval_for(p.ranking_hash)
        if approval is None or not approval.approved:
            raise RoundsError("the current ranking is not approved: nothing is sent")
        with Outbox.open(ws.outbox_db) as box:
            n = retry_failed(box, round_id=config.round_id)
        print(f"{n} failed notices queued again.")
        sent = notify.send_notices(p, approval)
        print(f"sent now: {sent.sent_now}; " + ", ".join(f"{k} {v}" for k, v in sorted(sent.counts.items()) if v))
        for line in sent.problems:
            print(f"  {line}")
        if sent.halted:
            print(f"  sending stopped: {sent.halted}")
        return EXIT_OK if sent.complete else EXIT_NOTICES_INCOMPLETE
    with Outbox.open(ws.outbox_db) as box:
        report = build_report(box, round_id=config.round_id)
    print("\n".join(report.summary_lines()))
    return EXIT_OK if not report.problem_lines() else EXIT_NOTICES_INCOMPLETE


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


def cmd_ledger(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows import ledger
    from flows.settings import rounds_home

    home = rounds_home()
    if args.ledger_command == "export":
        path = ledger.export_ledger_xlsx(home, Path(args.path))
        print(f"The awards ledger ({ledger.ledger_path(home)}) exported to {path}")
    else:
        n = ledger.void_round(home, args.round_id, by=args.name, reason=args.reason)
        print(f"Voided round {args.round_id}: {n} awards removed from the ledger (recorded with your reason).")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.demo import run_demo

    return run_demo(Path(args.dir), seed=args.seed, programmes=args.programme)


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deploy import parse_schedules, serve_deployments

    serve_deployments(str(Path(args.workspaces).expanduser().resolve()), parse_schedules(args.schedule), args.programme)
    return EXIT_OK


def cmd_portal(args: argparse.Namespace) -> int:
    from flows.portal.command import run

    return run(args)


def _print_counts(counts: dict[str, int], total: int) -> None:
    from flows.report import counts_table

    print(counts_table(counts, total))


COMMANDS = {
    "run": cmd_run,
    "check": cmd_check,
    "assign": cmd_assign,
    "collect": cmd_collect,
    "approve": cmd_approve,
    "decide": cmd_decide,
    "finalise": cmd_finalise,
    "object": cmd_object,
    "resolve": cmd_resolve,
    "notices": cmd_notices,
    "status": cmd_status,
    "explain": cmd_explain,
    "audit": cmd_audit,
    "ledger": cmd_ledger,
    "demo": cmd_demo,
    "serve": cmd_serve,
    "portal": cmd_portal,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
