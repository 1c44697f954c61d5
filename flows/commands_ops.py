"""The `rounds` commands around a round: experts, notices, the ledger, the demo, serving (parsing: flows/cli.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

from flows.exitcodes import EXIT_NOTICES_INCOMPLETE, EXIT_OK

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
        from flows.report import owed_lines

        print(f"All sheets check out; {sum(len(v) for v in owed.values())} of {res['pairs']} assigned scores still owed:")
        print("\n".join(owed_lines(owed)))
    else:
        print(f"All {res['pairs']} assigned scores are in and check out. Next: rounds run {args.dir}")
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
