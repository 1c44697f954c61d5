"""`rounds demo`: a sample round of every programme, run end to end with embedded mail catchers.

Nothing to install or configure: one sample workspace per programme is written
under a folder (./demo-round by default, replaced on each demo) as
`<programme>-<year>/`, and each is run through the same flow as `rounds run`
(`flows.round_flow.run_round`, approval recorded as `demo`), in one process and
so against one temporary Prefect server. The notices of each round go over real
SMTP to its own aiosmtpd catcher on 127.0.0.1, which keeps every message under
that round's out/mail/. The rounds share one awards ledger inside the demo
folder (never the user's ROUNDS_HOME), in programme order, so the later rounds
see the earlier ones' awards: the sample set re-submits a paid scenario project
to industrial_internet, which is topped up (就高不重复 across programmes).

The environment variables the demo sets (ROUNDS_HOME, ROUNDS_SMTP_*,
ROUNDS_MAIL_FROM) are restored when it ends.
"""
from __future__ import annotations

import contextlib
import csv
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from scoring import columns as C
from scoring.errors import ConfigError

MARKER = ".rounds-demo"
YEAR = 2026
DEMO_SENDER = "rounds-demo@fuzhou.example.cn"  # no display name: each notice is signed by its round's organiser
HOME = "rounds-home"
TABLE = (  # (heading, width) of the summary table after the programme column
    ("applications", 14), ("selected", 10), ("reserve", 9), ("not selected", 14), ("ineligible", 12),
    ("total yuan", 14), ("notices sent", 14),
)
PROGRAMME_WIDTH = 20


@dataclass(frozen=True)
class DemoRound:
    """How one programme's sample round ended, for the summary and for tests."""

    programme: str
    round_id: str
    workspace: Path
    applications: int
    counts: dict[str, int]
    total_yuan: int
    notices_sent: int            # messages the round's catcher received
    undeliverable: int           # applications whose address cannot be mailed (reported, not sent)
    status: str
    code: int
    problems: tuple[str, ...]
    seconds: float

    @property
    def cells(self) -> tuple[int, ...]:
        c = self.counts
        return (self.applications, c[C.SELECTED], c[C.RESERVE], c[C.NOT_SELECTED], c[C.INELIGIBLE],
                self.total_yuan, self.notices_sent)


def _fresh_folder(folder: Path) -> Path:
    folder = folder.expanduser().resolve()
    if folder.exists():
        if not (folder / MARKER).exists() and any(folder.iterdir()):
            raise ConfigError(f"{folder}: exists and is not a demo folder; choose another with --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("written by `rounds demo`; replaced on each demo\n", encoding="utf-8")
    return folder


@contextlib.contextmanager
def _environment(home: Path) -> Iterator[None]:
    """The demo's own awards ledger and sender, and no SMTP setting of the user's; restored afterwards."""
    ours = {"ROUNDS_HOME", "ROUNDS_MAIL_FROM"} | {k for k in os.environ if k.startswith("ROUNDS_SMTP_")}
    ours |= {"ROUNDS_SMTP_HOST", "ROUNDS_SMTP_PORT", "ROUNDS_SMTP_STARTTLS"}
    saved = {k: os.environ.get(k) for k in ours}
    try:
        for key in ours:
            os.environ.pop(key, None)
        os.environ.update(ROUNDS_HOME=str(home), ROUNDS_MAIL_FROM=DEMO_SENDER)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _outcome(result: dict) -> tuple[int, tuple[str, ...]]:
    """The exit code `rounds run` would give this result, and the lines that explain a non-zero one."""
    from flows import cli

    status = result["status"]
    stopped = {"awaiting_approval": cli.EXIT_AWAITING_APPROVAL, "rejected": cli.EXIT_REJECTED,
               "in_publicity": cli.EXIT_IN_PUBLICITY}
    if status in stopped:
        return stopped[status], (f"stopped: {status} (see `rounds status {result['workspace']}`)",)
    prep, sent = result["notices_prepared"], result["notices"]
    problems = [f"NOT RESENT, content changed after sending: {x}" for x in prep["conflicts"]]
    problems += list(sent["problems"])
    if sent["halted"]:
        problems.append(f"sending stopped: {sent['halted']}")
    return (cli.EXIT_NOTICES_INCOMPLETE if problems else cli.EXIT_OK), tuple(problems)


def _run_round(root: Path) -> DemoRound:
    from flows.round_flow import run_round
    from notices.catcher import MailCatcher

    started = time.monotonic()
    with MailCatcher(root / "out" / "mail") as catcher:
        os.environ.update(ROUNDS_SMTP_HOST="127.0.0.1", ROUNDS_SMTP_PORT=str(catcher.port), ROUNDS_SMTP_STARTTLS="false")
        result = run_round(str(root), approve_as="demo", comment="rounds demo")
        received = len(catcher.received)
    code, problems = _outcome(result)
    undeliverable = len(result.get("notices_prepared", {}).get("undeliverable", ()))
    return DemoRound(
        programme=result["programme"], round_id=result["round_id"], workspace=root,
        applications=sum(result["counts"].values()), counts=result["counts"], total_yuan=result["total_yuan"],
        notices_sent=received, undeliverable=undeliverable, status=result["status"], code=code,
        problems=problems, seconds=time.monotonic() - started,
    )


def _line(r: DemoRound) -> str:
    c = r.counts
    money = f"{c[C.SELECTED]} selected, {r.total_yuan:,} yuan"
    mail = f"{r.notices_sent} notices sent" + (f", {r.undeliverable} address undeliverable" if r.undeliverable else "")
    return f"  {r.programme:<{PROGRAMME_WIDTH}} {r.applications:>3} applications: {money}; {mail}  ({r.seconds:.1f} s)"


def summary_table(rounds: Sequence[DemoRound]) -> str:
    """One table across the programmes, with a total row."""
    head = f"  {'programme':<{PROGRAMME_WIDTH}}" + "".join(f"{h:>{w}}" for h, w in TABLE)
    rule = "  " + "-" * (len(head) - 2)

    def row(name: str, cells: Sequence[int]) -> str:
        return f"  {name:<{PROGRAMME_WIDTH}}" + "".join(f"{v:>{w},}" for v, (_, w) in zip(cells, TABLE))

    lines = [head, rule, *(row(r.programme, r.cells) for r in rounds), rule]
    totals = [sum(col) for col in zip(*(r.cells for r in rounds))] if rounds else [0] * len(TABLE)
    lines.append(row("total", totals))
    return "\n".join(lines)


def run_rounds(infos: Sequence, echo=print) -> list[DemoRound]:  # noqa: ANN001 - a print-like callable
    """Run every written sample round in order, one mail catcher each; `echo` gets a line as each finishes."""
    done = []
    for info in infos:
        done.append(_run_round(Path(info.root)))
        echo(_line(done[-1]))
        for line in done[-1].problems:
            echo(f"      {line}")
    return done


def _ranking_row(root: Path, submission_id: str) -> dict:
    with (root / "out" / "ranking.csv").open(encoding="utf-8", newline="") as fh:
        return next(r for r in csv.DictReader(fh) if r[C.SUBMISSION_ID] == submission_id)


def _print_outputs(base: Path, infos: Sequence, rounds: Sequence[DemoRound]) -> None:
    print(f"\nWhere everything is ({base}):")
    for r in rounds:
        print(f"  {r.programme:<{PROGRAMME_WIDTH}} {r.workspace / 'out' / 'report.html'}")
    print("  each round's out/ has ranking.csv and .xlsx, report.html, publicity.html, the notices (notices/*.eml)")
    print("  and what its mail catcher received (mail/*.eml)")
    print(f"  the awards ledger all rounds recorded into: {base / HOME / 'ledger.sqlite'}")
    for info in infos:
        for sid, paid_by in info.from_ledger.items():
            row = _ranking_row(Path(info.root), sid)
            print(f"  就高不重复 across programmes: {info.programme} {sid} re-submits the project paid as {paid_by}:"
                  f" {row[C.REASON_CODE] or row[C.OUTCOME]}, {int(row[C.AMOUNT_YUAN]):,} yuan")
    if rounds:
        first = rounds[0].workspace
        print(f"\nRun a round again (nothing is sent twice): ROUNDS_HOME={base / HOME} rounds run {first} --approve-as demo")


def run_demo(folder: Path, seed: int = 7, programmes: Sequence[str] | None = None) -> int:
    """Write and run the sample round of every programme (or of `programmes`); returns the exit code."""
    from flows.sample import sample_programmes, write_sample_set

    unknown = [p for p in programmes or () if p not in sample_programmes()]
    if unknown:
        raise ConfigError(f"no sample round for programme {unknown[0]!r}; available: {', '.join(sample_programmes())}")
    base = _fresh_folder(Path(folder))
    started = time.monotonic()
    with _environment(base / HOME):
        infos = write_sample_set(base, programmes, year=YEAR, seed=seed)
        n = sum(i.n_applications for i in infos)
        print(f"Wrote {len(infos)} sample round{'s' * (len(infos) != 1)} of {YEAR} ({n} applications, seed {seed}) "
              f"into {base} in {time.monotonic() - started:.1f} s.")
        print("Running each end to end (approval recorded as 'demo'; notices to an embedded SMTP catcher per round):")
        rounds = run_rounds(infos)
    print(f"\nSummary ({time.monotonic() - started:.0f} s in all)")
    print(summary_table(rounds))
    _print_outputs(base, infos, rounds)
    return max((r.code for r in rounds), default=0)
