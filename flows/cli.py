"""`rounds`: the command line of the selection rounds.

Every RoundsError becomes one clear line per problem on stderr and a non-zero
exit; no traceback reaches a user unless --verbose asks for it.
"""
from __future__ import annotations

import argparse
import os
import sys

from flows import commands, commands_ops
from flows.settings import quiet_prefect

from flows.exitcodes import (  # noqa: F401  (re-exported: tests and callers use flows.cli.EXIT_*)
    EXIT_AWAITING_APPROVAL,
    EXIT_CODES,
    EXIT_DECISION_REQUIRED,
    EXIT_ERROR,
    EXIT_IN_PUBLICITY,
    EXIT_NOTICES_INCOMPLETE,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
)


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
    except BrokenPipeError:  # `rounds status DIR | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


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


COMMANDS = {
    "run": commands.cmd_run,
    "check": commands.cmd_check,
    "assign": commands_ops.cmd_assign,
    "collect": commands_ops.cmd_collect,
    "approve": commands.cmd_approve,
    "decide": commands.cmd_decide,
    "finalise": commands.cmd_finalise,
    "object": commands.cmd_object,
    "resolve": commands.cmd_resolve,
    "notices": commands_ops.cmd_notices,
    "status": commands.cmd_status,
    "explain": commands.cmd_explain,
    "audit": commands.cmd_audit,
    "ledger": commands_ops.cmd_ledger,
    "demo": commands_ops.cmd_demo,
    "serve": commands_ops.cmd_serve,
    "portal": commands_ops.cmd_portal,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
