"""Deliver approved notices from the outbox: exactly once, except where a crash makes it unknowable.

Each worker (one per SMTP connection) claims a few due rows - committed
durably as `sending` before any SMTP transaction - sends them one by one and
records each result right after the server's reply. Temporary failures go to
`retry` with exponential backoff and jitter; permanent ones to `failed` with
the server's reply; credentials and quota problems halt the whole run
(`DeliveryHalted`) and put unsent claims back. Rows a crashed run left in
`sending` are recovered as `ambiguous` at the start, retried once, and stay
flagged in every report.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Callable

from notices.errors import DeliveryHalted
from notices.mailer import Mailer, SendResult
from notices.outbox import FAILED, RETRY, SENT, STATES, Claimed, Outbox, OutboxRow, Result
from notices.outbox_thread import OutboxThread

Progress = Callable[[int, int], None]

#: consecutive "cannot connect" results after which the run halts instead of spinning
MAX_UNAVAILABLE = 5


@dataclass(frozen=True)
class NoticeIssue:
    """A failed or ambiguous notice, for the final report."""

    round_id: str
    submission_id: str
    kind: str
    recipient: str
    state: str
    reason: str
    ambiguous: bool

    def __str__(self) -> str:
        flag = " [ambiguous: may have been delivered twice]" if self.ambiguous and self.state == SENT else (
            " [ambiguous]" if self.ambiguous else "")
        return f"{self.submission_id} <{self.recipient}> {self.state}{flag}: {self.reason}"


@dataclass
class DeliveryReport:
    counts: dict[str, int]
    sent_now: int = 0
    failed_now: int = 0
    retried: int = 0
    recovered: int = 0
    failed: list[NoticeIssue] = field(default_factory=list)
    ambiguous: list[NoticeIssue] = field(default_factory=list)
    halted: str | None = None
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        """Messages the server accepted during this run."""
        return self.sent_now

    def problem_lines(self) -> list[str]:
        """One line per failed or ambiguous notice (empty when all is well)."""
        return [f"failed: {i}" for i in self.failed] + [f"ambiguous: {i}" for i in self.ambiguous]

    @property
    def rate_per_second(self) -> float:
        return self.sent_now / self.seconds if self.seconds > 0 else 0.0

    def summary_lines(self) -> list[str]:
        """What the CLI prints after a send: counts by state, then every problem."""
        lines = [f"sent this run: {self.sent_now} in {self.seconds:.1f} s"
                 + (f" ({self.rate_per_second:.0f}/s)" if self.sent_now else "")
                 + (f"; {self.retried} temporary failures retried" if self.retried else "")
                 + (f"; {self.recovered} recovered from an interrupted run" if self.recovered else "")]
        lines.append("outbox: " + ", ".join(f"{state} {n}" for state, n in self.counts.items() if n)
                     if any(self.counts.values()) else "outbox: empty")
        if self.halted:
            lines.append(f"HALTED: {self.halted}")
        lines.extend(self.problem_lines())
        if self.failed:
            lines.append("to queue the failed notices again: retry_failed, then send")
        return lines


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: base·2^(attempt-1), capped, times 0.5..1."""
    return min(cap, base * 2 ** max(0, attempt - 1)) * rng.uniform(0.5, 1.0)


class _RateLimiter:
    """Evenly spaced sends for relays that impose a rate; shared by all workers."""

    def __init__(self, per_minute: int | None):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self.next)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


@dataclass
class _Run:
    outbox: Outbox
    mailer: Mailer
    round_id: str | None
    max_attempts: int
    base_delay: float
    max_delay: float
    include_ambiguous: bool
    wait_for_retries: bool
    claim_batch: int
    progress: Progress | None
    rng: random.Random
    limiter: _RateLimiter
    db: OutboxThread
    total: int = 0
    done: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    in_flight: int = 0
    unavailable: int = 0
    reached: bool = False
    halted: str | None = None
    halted_reply: str = ""

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)

    async def worker(self) -> None:
        while self.halted is None:
            batch = await self.db.claim(self.claim_batch)
            if not batch:
                if not await self._wait_for_work():
                    return
                continue
            self.in_flight += len(batch)
            pending = len(batch)
            started = 0  # rows whose SMTP transaction has begun
            try:
                for index, row in enumerate(batch):
                    if self.halted is not None:
                        await self.db.call(self.outbox.release, [r.key for r in batch[index:]])
                        break
                    await self.limiter.wait()
                    started = index + 1
                    result = await self.mailer.send(sender=row.sender, recipient=row.recipient,
                                                    body=row.body, message_id=row.message_id)
                    await self._handle(row, result)
                    pending -= 1
                    self.in_flight -= 1
            except asyncio.CancelledError:
                # interrupted (Ctrl-C): rows never attempted go back; the one in flight stays
                # `sending` and is recovered as ambiguous, because it may have been accepted
                self.outbox.release([r.key for r in batch[started:]])
                raise
            finally:
                self.in_flight -= pending

    async def _wait_for_work(self) -> bool:
        """Nothing due now: wait for retries or for other workers' results, or stop."""
        n, due = await self.db.call(self.outbox.outstanding, round_id=self.round_id,
                                    include_ambiguous=self.include_ambiguous)
        if n == 0:
            return False
        if self.in_flight == 0 and (due is None or not self.wait_for_retries):
            return False  # only rows claimed by another sender, or retries we were told not to wait for
        pause = 0.05
        if due is not None and self.in_flight == 0:
            now = self.outbox.clock()
            due_at = dt.datetime.strptime(due, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
            pause = min(max((due_at - now).total_seconds(), 0.0), 1.0)
        await asyncio.sleep(pause)
        return True

    async def _handle(self, row: Claimed, result: SendResult) -> None:
        status = result.status
        if status in ("sent", "permanent", "temporary"):
            self.reached = True
        if status == "sent":
            await self.db.record(Result(row.key, SENT, result.reply))
            self.sent += 1
            self.unavailable = 0
            self.tick()
        elif status == "permanent":
            await self.db.record(Result(row.key, FAILED, result.reply, ambiguous=result.uncertain))
            self.failed += 1
            self.tick()
        elif status == "temporary":
            if row.attempts >= self.max_attempts:
                await self.db.record(Result(row.key, FAILED, f"gave up after {row.attempts} attempts: {result.reply}",
                                            ambiguous=result.uncertain))
                self.failed += 1
                self.tick()
            else:
                delay = backoff(row.attempts, self.base_delay, self.max_delay, self.rng)
                due = self.outbox.clock() + dt.timedelta(seconds=delay)
                await self.db.record(Result(row.key, RETRY, result.reply, due, ambiguous=result.uncertain))
                self.retried += 1
        elif status == "unavailable":
            await self.db.call(self.outbox.release, [row.key])
            self.unavailable += 1
            if not self.reached:  # never reached in this run: a setting, not a blip - say so now
                self._halt(f"the SMTP server cannot be reached: {result.reply}", result.reply)
            elif self.unavailable >= MAX_UNAVAILABLE:
                self._halt(f"the SMTP server cannot be reached ({result.reply}); nothing more was sent",
                           result.reply)
            else:
                await asyncio.sleep(backoff(self.unavailable, self.base_delay, self.max_delay, self.rng))
        else:  # halt
            await self.db.call(self.outbox.release, [row.key])
            self._halt(result.reply, result.reply)

    def _halt(self, message: str, reply: str) -> None:
        if self.halted is None:
            self.halted = message
            self.halted_reply = reply


def _issue(row: OutboxRow) -> NoticeIssue:
    reason = row.last_reply or "no reply recorded"
    if row.ambiguous and row.state == SENT:
        reason = f"interrupted once after the message was handed over, then sent again ({reason})"
    return NoticeIssue(row.round_id, row.submission_id, row.kind, row.recipient, row.state, reason, row.ambiguous)


def build_report(outbox: Outbox, *, round_id: str | None = None) -> DeliveryReport:
    """Counts by state plus every failed and every ambiguous notice, from the outbox alone."""
    counts = outbox.counts(round_id=round_id)
    return DeliveryReport(
        counts={s: counts[s] for s in STATES},
        failed=[_issue(r) for r in outbox.rows(FAILED, round_id=round_id)],
        ambiguous=[_issue(r) for r in outbox.rows(round_id=round_id, ambiguous=True)],
    )


async def deliver_async(outbox: Outbox, mailer: Mailer, *, connections: int | None = None,
                        rate_per_minute: int | None = None, max_attempts: int = 5,
                        progress: Progress | None = None, round_id: str | None = None,
                        retry_base_delay: float = 30.0, retry_max_delay: float = 900.0,
                        retry_ambiguous: bool = True, wait_for_retries: bool = True,
                        claim_batch: int = 4, lease: dt.timedelta = dt.timedelta(minutes=15),
                        seed: int | None = None) -> DeliveryReport:
    """The async core of `deliver`; see there."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    started = time.perf_counter()
    workers = connections or getattr(mailer, "concurrency", 4) or 4
    rate = rate_per_minute if rate_per_minute is not None else getattr(mailer, "rate_per_minute", None)
    with outbox.backend.delivery_lock():
        recovered = outbox.recover(round_id=round_id) if outbox.backend.exclusive else \
            outbox.recover(round_id=round_id, stale_after=lease)
        with OutboxThread(outbox, round_id=round_id, include_ambiguous=retry_ambiguous) as db:
            run = _Run(outbox=outbox, mailer=mailer, round_id=round_id, max_attempts=max_attempts,
                       base_delay=retry_base_delay, max_delay=retry_max_delay, include_ambiguous=retry_ambiguous,
                       wait_for_retries=wait_for_retries, claim_batch=max(1, claim_batch), progress=progress,
                       rng=random.Random(seed), limiter=_RateLimiter(rate), db=db)
            run.total, _ = outbox.outstanding(round_id=round_id, include_ambiguous=retry_ambiguous)
            if progress is not None:
                progress(0, run.total)
            tasks = [asyncio.ensure_future(run.worker()) for _ in range(workers)]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in tasks:  # on an error (or Ctrl-C) stop the other workers too
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await mailer.aclose()
            for task in tasks:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
    report = build_report(outbox, round_id=round_id)
    report.sent_now, report.failed_now, report.retried = run.sent, run.failed, run.retried
    report.recovered = recovered
    report.halted = run.halted
    report.seconds = time.perf_counter() - started
    if run.halted is not None:
        raise DeliveryHalted(f"sending halted: {run.halted}. Unsent notices stay queued; fix the cause and "
                             f"send again.", reply=run.halted_reply, report=report)
    return report


def deliver(outbox: Outbox, mailer: Mailer, *, connections: int | None = None, rate_per_minute: int | None = None,
            max_attempts: int = 5, progress: Progress | None = None, **options) -> DeliveryReport:
    """Send every approved (and due) notice of the outbox; return the final report.

    `connections` defaults to the mailer's own (SmtpMailer: settings.connections,
    EmlMailer: 1), `rate_per_minute` likewise. Keyword `options` go to
    `deliver_async`: round_id, retry_base_delay (seconds; tests make it small),
    retry_max_delay, retry_ambiguous, wait_for_retries, claim_batch, lease, seed.
    Raises DeliveryHalted (with `.report`) when credentials or a quota stop the run.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("deliver() was called inside a running event loop; await deliver_async() instead")
    return asyncio.run(deliver_async(outbox, mailer, connections=connections, rate_per_minute=rate_per_minute,
                                     max_attempts=max_attempts, progress=progress, **options))


def retry_failed(outbox: Outbox, *, round_id: str | None = None) -> int:
    """Queue every failed notice again (fresh attempt budget); the next deliver sends them."""
    return outbox.retry_failed(round_id=round_id)
