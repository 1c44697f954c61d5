"""Benchmark of result notices: preparation and delivery of 20,000 notices to a local aiosmtpd.

Run as a script (it is not part of the test suite):

    .venv/bin/python tests/benchmarks/bench_notices.py [--count 20000] [--connections 4,8] [--rounds 8]

The SMTP server runs in its own process (as a real relay would), so sender and
server do not share a GIL. Printed from one run:
  - preparation: render + MIME per second (target >= 2,000/s), and the outbox insert;
  - sending through the outbox (`deliver`, durable claims and results) beside
    (a) a naive sender: a new connection per message, sequential (measured on a
        subset and expressed as a rate), and
    (b) the server's raw acceptance limit: pre-built bytes over 8 reused
        connections, no bookkeeping.
Targets: sending >= 5x naive and >= 60% of raw. The senders take turns in
rounds, so that other processes' load on a shared machine falls on all alike;
the line "raw limit / naive" shows the best any sender could reach here.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import aiosmtplib  # noqa: E402

from notices.deliver import deliver  # noqa: E402
from notices.mailer import SmtpMailer, SmtpSettings  # noqa: E402
from notices.message import build_message, message_id_for  # noqa: E402
from notices.outbox import Outbox, OutboxItem  # noqa: E402
from notices.render import render_notice  # noqa: E402
from notices.samples import sample_context  # noqa: E402

SERVER = textwrap.dedent("""
    import asyncio, sys
    from aiosmtpd.smtp import SMTP

    class Counting:
        count = 0
        async def handle_DATA(self, server, session, envelope):
            Counting.count += 1
            return "250 2.0.0 OK"

    async def main():
        loop = asyncio.get_running_loop()
        handler = Counting()
        server = await loop.create_server(lambda: SMTP(handler, hostname="bench"), "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
        print(Counting.count, flush=True)

    asyncio.run(main())
""")

OUTCOMES = ("selected", "reserve", "not_selected", "ineligible")
SENDER = "noreply@gxj.example.gov.cn"
KEY = os.urandom(32)


def prepare(count: int) -> tuple[list[OutboxItem], float]:
    """Render and build `count` notices; return them and the seconds it took."""
    contexts = []
    for i in range(count):
        ctx = sample_context(OUTCOMES[i % 4])
        ctx["application"] = dict(ctx["application"], submission_id=f"SC-{i:06d}",
                                  enterprise_name=f"福州第{i}号智能科技有限公司")
        contexts.append(ctx)
    date = dt.datetime(2026, 7, 15, 9, tzinfo=dt.timezone.utc)
    start = time.perf_counter()
    items = []
    for ctx in contexts:
        sid = ctx["application"]["submission_id"]
        mid = message_id_for(KEY, "2026-scenario", sid, "result", "rounds.example.gov.cn")
        recipient = f"contact{sid.lower()}@example.com"
        body = build_message(render_notice(ctx), sender=SENDER, sender_name="福州市工业和信息化局",
                             recipient=recipient, recipient_name="陈晓明", message_id=mid, date=date)
        items.append(OutboxItem("2026-scenario", sid, "result", recipient, SENDER, mid, body, "rank-1",
                                ctx["outcome"]))
    return items, time.perf_counter() - start


async def naive(port: int, items: list[OutboxItem]) -> float:
    start = time.perf_counter()
    for item in items:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        await smtp.sendmail(item.sender, [item.recipient], item.body)
        await smtp.quit()
    return time.perf_counter() - start


async def raw(port: int, items: list[OutboxItem], connections: int = 8) -> float:
    queue = iter(items)

    async def worker() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for item in queue:
            await smtp.sendmail(item.sender, [item.recipient], item.body)
        await smtp.quit()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--naive-subset", type=int, default=1000)
    parser.add_argument("--connections", default="4,8",
                        help="connection counts for deliver(), comma-separated; the notices are shared among them")
    parser.add_argument("--rounds", type=int, default=8,
                        help="the senders take turns in this many rounds, so that load from other "
                             "processes on the machine falls on all of them alike")
    args = parser.parse_args()
    configs = [int(c) for c in args.connections.split(",")]

    items, prep_s = prepare(args.count)
    work = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    box = Outbox(work / "outbox.sqlite")
    rounds = max(1, args.rounds)
    # round r, configuration c: its own slice of the notices under its own ranking hash
    slices = {(r, c): items[r * len(configs) + c::rounds * len(configs)]
              for r in range(rounds) for c in range(len(configs))}
    start = time.perf_counter()
    for (r, c), chunk in slices.items():
        report = box.prepare([dataclasses.replace(item, ranking_hash=f"rank-{r}-{c}") for item in chunk])
        assert report.new == len(chunk)
    store_s = time.perf_counter() - start

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    port = int(server.stdout.readline())
    naive_s = raw_s = 0.0
    naive_n = raw_n = 0
    ours_s = [0.0] * len(configs)
    ours_n = [0] * len(configs)
    try:
        for r in range(rounds):
            chunk = items[r::rounds]
            subset = chunk[: args.naive_subset // rounds]
            naive_s += asyncio.run(naive(port, subset))
            naive_n += len(subset)
            turns = ["raw", *range(len(configs))]
            for turn in turns[r % len(turns):] + turns[: r % len(turns)]:  # rotate who goes first
                if turn == "raw":
                    raw_s += asyncio.run(raw(port, chunk))
                    raw_n += len(chunk)
                    continue
                box.approve(f"rank-{r}-{turn}")
                settings = SmtpSettings(host="127.0.0.1", port=port, timeout=30, connections=configs[turn],
                                        starttls=False)
                report = deliver(box, SmtpMailer(settings))
                ours_s[turn] += report.seconds
                ours_n[turn] += report.sent_now
    finally:
        server.stdin.close()
        received = int(server.stdout.readline() or 0)
        server.wait(10)
    assert box.counts()["sent"] == args.count == sum(ours_n)

    naive_rate = naive_n / naive_s
    raw_rate = raw_n / raw_s
    print(f"notices: {args.count:,}   machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}   "
          f"server: aiosmtpd in its own process   senders interleaved in {rounds} rounds")
    print(f"preparation (render + MIME):  {args.count / prep_s:8,.0f} /s   ({prep_s:.2f} s; target >= 2,000/s)")
    print(f"outbox prepare (insert):      {args.count / store_s:8,.0f} /s   ({store_s:.2f} s)")
    print(f"(a) naive sender (new connection per message, sequential; {naive_n:,} sent): {naive_rate:8,.0f} /s")
    print(f"(b) raw limit (pre-built bytes, 8 reused connections; {raw_n:,} sent):      {raw_rate:8,.0f} /s")
    for c, conns in enumerate(configs):
        rate = ours_n[c] / ours_s[c]
        print(f"deliver() through the outbox, {conns} connections ({ours_n[c]:,} sent):     {rate:8,.0f} /s"
              f"   = {rate / naive_rate:.1f}x naive (target >= 5x), {100 * rate / raw_rate:.0f}% of raw "
              f"(target >= 60%)")
    print(f"raw limit / naive on this machine now: {raw_rate / naive_rate:.1f}x")
    print(f"server received {received:,} messages in total")


if __name__ == "__main__":
    main()
