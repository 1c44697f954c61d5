"""Errors of the notices package, children of the project's RoundsError."""
from __future__ import annotations

from typing import TYPE_CHECKING

from scoring.errors import RoundsError

if TYPE_CHECKING:  # pragma: no cover
    from notices.deliver import DeliveryReport


class DeliveryHalted(RoundsError):
    """Sending stopped for the whole run: bad credentials, a quota, an unreachable or misconfigured server.

    Nothing is lost: rows not yet sent stay queued and the next `deliver` picks
    them up. `report` describes what happened up to the halt.
    """

    def __init__(self, message: str, *, reply: str = "", report: "DeliveryReport | None" = None):
        self.reply = reply
        self.report = report
        super().__init__(message)


class OutboxBusy(RoundsError):
    """Another process is sending from the same outbox."""
