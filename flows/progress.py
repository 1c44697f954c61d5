"""Progress of a long send: a line on the terminal and a Prefect progress artifact, both throttled.

The callback is called from the delivery loop (done, total); updating on every
message would cost more than sending it, so both outputs update at most every
half second and at the end.
"""
from __future__ import annotations

import sys
import time
from typing import Callable


def progress_reporter(label: str, *, artifact_key: str | None = None, interval: float = 0.5) -> Callable[[int, int], None]:
    tty = sys.stderr.isatty()
    artifact_id = None
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal artifact_id, last
        now = time.monotonic()
        finished = total > 0 and done >= total
        if not finished and now - last < interval:
            return
        last = now
        pct = 100.0 * done / total if total else 100.0
        if tty:
            bar = "#" * int(pct // 4)
            end = "\n" if finished else ""
            print(f"\r  {label}: [{bar:<25}] {done}/{total} ({pct:5.1f}%)", end=end, file=sys.stderr, flush=True)
        if artifact_key is not None:
            try:
                from prefect.artifacts import create_progress_artifact, update_progress_artifact
                from prefect.context import get_run_context

                get_run_context()
            except Exception:  # not inside a Prefect run: the terminal line is enough
                return
            if artifact_id is None:
                artifact_id = create_progress_artifact(pct, key=artifact_key, description=label)
            else:
                update_progress_artifact(artifact_id, pct)

    return report
