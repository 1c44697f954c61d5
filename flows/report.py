"""What the command line prints: short tables and the paths a manager needs."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from scoring import columns as C

LABELS = {
    C.SELECTED: "selected 入选",
    C.RESERVE: "reserve 候补",
    C.NOT_SELECTED: "not selected 未入选",
    C.INELIGIBLE: "ineligible 形式审查未通过",
}


def _width(text: str) -> int:
    """Columns a terminal gives `text`: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def counts_table(counts: dict[str, int], total_yuan: int, title: str = "") -> str:
    width = max(_width(v) for v in LABELS.values()) + 2
    lines = [title] if title else []
    lines.append(f"  {_pad('outcome', width)}{'applications':>12}")
    for outcome in C.OUTCOMES:
        lines.append(f"  {_pad(LABELS[outcome], width)}{counts.get(outcome, 0):>12}")
    lines.append(f"  {_pad('total', width)}{sum(counts.values()):>12}")
    lines.append(f"  {_pad('total awarded (yuan)', width)}{total_yuan:>12,}")
    return "\n".join(lines)


def print_run(result: dict) -> int:
    from flows.exitcodes import EXIT_AWAITING_APPROVAL, EXIT_IN_PUBLICITY, EXIT_NOTICES_INCOMPLETE, EXIT_OK, EXIT_REJECTED

    ws = Path(result["workspace"])
    print(counts_table(result["counts"], result["total_yuan"], f"Round {result['round_id']}"))
    print(f"  ranking sha256: {result['ranking_sha256']}")
    status = result["status"]
    if status == "awaiting_approval":
        print(f"\nThe ranking awaits approval: review {ws / 'out' / 'ranking.xlsx'} (or ranking.csv), then")
        print(f"  rounds approve {ws} --as NAME [--comment TEXT]      (or --reject)")
        print(f"and run `rounds run {ws}` again to publish and send the notices.")
        return EXIT_AWAITING_APPROVAL
    if status == "rejected":
        a = result["approval"]
        print(f"\nThe ranking was rejected by {a['decided_by']} at {a['at']}: {a['comment'] or '(no comment)'}")
        print("Nothing was published or sent. Correct the inputs and run again, or approve with `rounds approve`.")
        return EXIT_REJECTED
    a = result["approval"]
    print(f"  approved by {a['decided_by']} at {a['at']} ({a['via']})")
    if result.get("calendar_warning"):
        print(f"warning: {result['calendar_warning']}")
    pub = result["publicity"]
    print(f"  公示 published {pub['published_on']}, objections until {pub['window_to']}: {ws / 'out' / 'publicity.html'}")
    if result["status"] == "in_publicity":
        print(f"\nNot final yet: {result['final_blocked']}. Notices go out when the round is final.")
        print(f"  record an objection:   rounds object {ws} SUBMISSION_ID --by NAME --text TEXT")
        print(f"  after the window:      rounds run {ws}")
        print(f"  final before it ends:  rounds finalise {ws} --as NAME --reason TEXT")
        return EXIT_IN_PUBLICITY
    print(f"  final: {result['final']}")
    prep, sent = result["notices_prepared"], result["notices"]
    print(f"\nNotices: {prep['new']} newly prepared, {prep['unchanged']} unchanged; sent in this run: {sent['sent_now']}")
    print("  by state: " + (", ".join(f"{k} {v}" for k, v in sorted(sent["counts"].items()) if v) or "none"))
    code = EXIT_OK
    for line in prep["undeliverable"]:
        print(f"  undeliverable (inform by other means): {line}")
    for line in prep["conflicts"]:
        print(f"  NOT RESENT, the result changed after its notice was sent: {line}")
        code = EXIT_NOTICES_INCOMPLETE
    for line in sent["problems"]:
        print(f"  {line}")
        code = EXIT_NOTICES_INCOMPLETE
    if sent["halted"]:
        print(f"  sending stopped: {sent['halted']}")
        code = EXIT_NOTICES_INCOMPLETE
    out = ws / "out"
    print("\nOutputs:")
    for name in ("ranking.csv", "ranking.xlsx", "report.html", "report.pdf", "publicity.html", "publicity.xlsx",
                 "manifest.json", "notices/"):
        if not (out / name).exists():
            continue
        print(f"  {out / name}")
    return code


def print_status(ws) -> int:
    from flows.state import RoundState
    from flows.workspace import sha256_file
    from notices.outbox import Outbox

    from flows.exitcodes import EXIT_OK

    from flows.lifecycle import Lifecycle

    state = RoundState(ws.state_db)
    print(f"{ws.root}")
    print(f"  stage: {Lifecycle(state).current() or 'intake (nothing recorded yet)'}")
    _print_owed(ws)
    ranking = ws.out / "ranking.csv"
    if not ranking.is_file():
        print("  ranking: not computed yet (no out/ranking.csv)")
        return EXIT_OK
    h = sha256_file(ranking)
    approval = state.approval_for(h)
    print(f"  ranking sha256 {h}")
    if approval is None:
        print("  approval: awaiting")
    else:
        print(f"  approval: {approval.decision} by {approval.decided_by} at {approval.at} ({approval.via})"
              + (f": {approval.comment}" if approval.comment else ""))
    if ws.outbox_db.is_file():
        with Outbox.open(ws.outbox_db) as box:
            counts = box.counts()
        print("  notices: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "none"))
    events = state.audit()
    print(f"  audit log: {len(events)} entries" + (f", last: {events[-1]['at']} {events[-1]['actor']} {events[-1]['action']}" if events else ""))
    return EXIT_OK


def _print_owed(ws) -> None:
    """After `rounds assign`: how many scores each expert still owes (from the sheets in scores/)."""
    from flows.intake import load_workspace
    from flows.panel import owed_by_expert, read_assignment
    from scoring.errors import InputError

    assigned = read_assignment(ws)
    if assigned is None:
        return
    _, programme = ws.load_config()
    try:
        inputs = load_workspace(ws.root, programme, require_scores=False, assigned=assigned)
    except InputError as err:
        print(f"  scores: {len(err.problems)} problem(s) in the sheets; run `rounds collect {ws.root}` to see them")
        return
    owed = owed_by_expert(assigned, inputs.scores)
    if not owed:
        print(f"  scores: all {len(assigned)} assigned scores are in")
        return
    print(f"  scores: {sum(len(v) for v in owed.values())} of {len(assigned)} assigned scores still owed")
    print("\n".join(owed_lines(owed, indent="    ")))


def owed_lines(owed: dict[str, list[str]], indent: str = "  ") -> list[str]:
    """One line per expert: how many assigned applications they still owe, and the first few ids."""
    return [f"{indent}{e}: {len(subs)} ({', '.join(subs[:8])}{' …' if len(subs) > 8 else ''})"
            for e, subs in sorted(owed.items())]
