"""The outbox, driven from one thread during a delivery, with group commits.

A durable claim waits for the disk (an fsync: well under a millisecond on an
idle SSD, several on a busy machine); run on the event loop it would stall
every SMTP connection. Here only the workers that asked wait. Requests that
queue up while the thread is busy are merged: the claims of several workers
become one transaction with one fsync, and results one transaction without.
Each worker still waits for its own result to be committed before its next
message, so the window between a 250 and its record stays a few milliseconds.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from typing import Any, Callable

from notices.outbox import Claimed, Outbox, Result

_CALL, _CLAIM, _RESULT = "call", "claim", "result"


class OutboxThread:
    def __init__(self, outbox: Outbox, *, round_id: str | None = None, include_ambiguous: bool = True):
        self.outbox = outbox
        self.round_id = round_id
        self.include_ambiguous = include_ambiguous
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="outbox-writer", daemon=True)

    def __enter__(self) -> "OutboxThread":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.put(None)
        self._thread.join()

    async def _submit(self, kind: str, payload: Any) -> Any:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((kind, future, payload))
        return await asyncio.wrap_future(future)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Any outbox method, run in order with everything else."""
        return await self._submit(_CALL, (fn, args, kwargs))

    async def claim(self, limit: int) -> list[Claimed]:
        return await self._submit(_CLAIM, limit)

    async def record(self, result: Result) -> None:
        await self._submit(_RESULT, result)

    def _serve(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            # results first: they free rows and must not wait behind an fsync
            results = [item for item in batch if item is not None and item[0] == _RESULT]
            claims = [item for item in batch if item is not None and item[0] == _CLAIM]
            self._run(self._record, results)
            self._run(self._claim, claims)
            for item in batch:
                if item is None:
                    return
                if item[0] == _CALL:
                    _, future, (fn, args, kwargs) = item
                    self._run(lambda group, fn=fn, args=args, kwargs=kwargs: [fn(*args, **kwargs)], [item])

    @staticmethod
    def _run(action: Callable[[list], list], group: list) -> None:
        if not group:
            return
        try:
            answers = action(group)
        except BaseException as exc:  # noqa: BLE001 - every waiting worker learns of it
            for _, future, _ in group:
                future.set_exception(exc)
        else:
            for (_, future, _), answer in zip(group, answers):
                future.set_result(answer)

    def _record(self, group: list) -> list:
        self.outbox.record_many([payload for _, _, payload in group])
        return [None] * len(group)

    def _claim(self, group: list) -> list:
        """One claim for everyone waiting, dealt out in request order."""
        rows = self.outbox.claim(sum(limit for _, _, limit in group), round_id=self.round_id,
                                 include_ambiguous=self.include_ambiguous)
        dealt, start = [], 0
        for _, _, limit in group:
            dealt.append(rows[start:start + limit])
            start += limit
        return dealt
