"""Where a round stands, and the steps that may not be taken out of order.

    intake → reviewed → assigned → scored → approved → publicised → final → notified

The stage is kept in out/round.sqlite with every move in the audit log. A move
out of order is refused with a clear message: no notices before the round is
final, no final before the 公示 window has passed unless a manager overrides it
with a reason, no final while an objection is open. When the ranking changes
after approval (an input changed, an objection was upheld), the round goes back
to `scored` and needs a new approval.
"""
from __future__ import annotations

import datetime as dt
import json

from flows.state import RoundState, now
from scoring.errors import RoundsError

STAGES = ("intake", "reviewed", "assigned", "scored", "approved", "publicised", "final", "notified")



class StageError(RoundsError):
    """A step asked for out of order."""


class Lifecycle:
    def __init__(self, state: RoundState):
        self.state = state

    def current(self) -> str | None:
        return self.state.get("stage")

    def at_least(self, stage: str) -> bool:
        cur = self.current()
        return cur is not None and STAGES.index(cur) >= STAGES.index(stage)

    def move(self, stage: str, actor: str = "system", **detail: object) -> bool:
        """Record reaching `stage` (idempotent); returns True if the stage changed."""
        if stage not in STAGES:
            raise ValueError(stage)
        with self.state.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'stage'").fetchone()
            cur = row[0] if row else None
            if cur == stage:
                return False
            db.execute("INSERT INTO meta (key, value) VALUES ('stage', ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (stage,))
            db.execute(
                "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, 'stage', ?, ?)",
                (now(), actor, stage, json.dumps({"from": cur, **detail}, ensure_ascii=False, default=str)),
            )
        return True

    def require(self, stage: str, action: str) -> None:
        if not self.at_least(stage):
            raise StageError(f"cannot {action}: the round is at stage {self.current() or 'none'}; "
                             f"it must first be {stage}")

    # --- 公示 --------------------------------------------------------------------------------
    def record_publicity(self, ranking_hash: str, published_on: dt.date, window: tuple[dt.date, dt.date]) -> None:
        with self.state.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO publicity (ranking_hash, published_on, window_from, window_to, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (ranking_hash, published_on.isoformat(), window[0].isoformat(), window[1].isoformat(), now()),
            )

    def publicity(self, ranking_hash: str) -> tuple[dt.date, dt.date, dt.date] | None:
        """(published_on, window_from, window_to) of this ranking's 公示, if published."""
        with self.state.transaction() as db:
            row = db.execute("SELECT published_on, window_from, window_to FROM publicity WHERE ranking_hash = ?",
                             (ranking_hash,)).fetchone()
        return None if row is None else tuple(dt.date.fromisoformat(x) for x in row)  # type: ignore[return-value]

    # --- final -------------------------------------------------------------------------------
    def override_final(self, ranking_hash: str, decided_by: str, reason: str) -> None:
        if not decided_by.strip() or not reason.strip():
            raise StageError("finalising before the 公示 window has passed needs a name and a reason")
        with self.state.transaction() as db:
            at = now()
            db.execute("INSERT OR IGNORE INTO final_overrides (ranking_hash, decided_by, reason, at) "
                       "VALUES (?, ?, ?, ?)", (ranking_hash, decided_by.strip(), reason.strip(), at))
            db.execute("INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, 'final_override', ?, ?)",
                       (at, decided_by.strip(), ranking_hash, json.dumps({"reason": reason}, ensure_ascii=False)))

    def final_override(self, ranking_hash: str) -> dict | None:
        with self.state.transaction() as db:
            row = db.execute("SELECT decided_by, reason, at FROM final_overrides WHERE ranking_hash = ?",
                             (ranking_hash,)).fetchone()
        return None if row is None else dict(zip(("decided_by", "reason", "at"), row))

    def may_finalise(self, ranking_hash: str, today: dt.date) -> tuple[bool, str]:
        """Whether this ranking may become final today, and if not, why not."""
        pub = self.publicity(ranking_hash)
        if pub is None:
            return False, "the 公示 list of this ranking has not been published"
        from flows.objections import pending

        open_ones = pending(self.state)
        if open_ones:
            ids = ", ".join(f"#{o.id} ({o.submission_id})" for o in open_ones)
            return False, f"objections {ids} are not decided yet (rounds resolve)"
        override = self.final_override(ranking_hash)
        if override is not None:
            return True, f"finalised before the end of 公示 by {override['decided_by']}: {override['reason']}"
        if today <= pub[2]:
            return False, f"the 公示 window runs until {pub[2].isoformat()} (inclusive)"
        return True, f"the 公示 window ended on {pub[2].isoformat()}"

    def mark_final(self, ranking_hash: str, why: str) -> str:
        """Record when this ranking became final (once); returns that moment, which the notices carry."""
        with self.state.transaction() as db:
            db.execute("INSERT OR IGNORE INTO finals (ranking_hash, at, why) VALUES (?, ?, ?)",
                       (ranking_hash, now(), why))
            (at,) = db.execute("SELECT at FROM finals WHERE ranking_hash = ?", (ranking_hash,)).fetchone()
        return at
