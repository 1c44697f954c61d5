"""Objections (异议) during 公示: recorded with who, when and what; decided with who, when and why.

An objection is against an application on the published 公示 list. While one is
open the round cannot become final. An upheld objection removes the application
(`OBJECTION_UPHELD`): the next run ranks without it, the first reserve moves up
with every cap checked again, and the changed list goes back for approval and a
new 公示. A rejected objection changes nothing and stays on record.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flows.state import RoundState, now
from scoring.errors import RoundsError


class ObjectionError(RoundsError):
    pass


@dataclass(frozen=True)
class Objection:
    id: int
    submission_id: str
    filed_by: str
    filed_at: str
    text: str
    ranking_hash: str
    status: str
    decided_by: str | None
    decided_at: str | None
    finding: str | None


_COLS = "id, submission_id, filed_by, filed_at, text, ranking_hash, status, decided_by, decided_at, finding"


def file_objection(state: RoundState, submission_id: str, filed_by: str, text: str, ranking_hash: str) -> Objection:
    if not filed_by.strip() or not text.strip():
        raise ObjectionError("an objection needs who raised it (--by) and what it says (--text)")
    with state.transaction() as db:
        at = now()
        cur = db.execute(
            "INSERT INTO objections (submission_id, filed_by, filed_at, text, ranking_hash) VALUES (?, ?, ?, ?, ?)",
            (submission_id, filed_by.strip(), at, text.strip(), ranking_hash),
        )
        oid = cur.lastrowid
        db.execute("INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, 'objection_filed', ?, ?)",
                   (at, filed_by.strip(), submission_id, json.dumps({"objection": oid, "text": text}, ensure_ascii=False)))
    return get(state, oid)


def decide(state: RoundState, objection_id: int, upheld: bool, decided_by: str, finding: str) -> Objection:
    if not decided_by.strip() or not finding.strip():
        raise ObjectionError("deciding an objection needs a name (--as) and the finding (--reason)")
    current = get(state, objection_id)
    if current.status != "pending":
        raise ObjectionError(f"objection {objection_id} was already decided ({current.status} by {current.decided_by})")
    status = "upheld" if upheld else "rejected"
    with state.transaction() as db:
        at = now()
        db.execute("UPDATE objections SET status = ?, decided_by = ?, decided_at = ?, finding = ? WHERE id = ?",
                   (status, decided_by.strip(), at, finding.strip(), objection_id))
        db.execute("INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
                   (at, decided_by.strip(), f"objection_{status}", current.submission_id,
                    json.dumps({"objection": objection_id, "finding": finding}, ensure_ascii=False)))
    return get(state, objection_id)


def get(state: RoundState, objection_id: int) -> Objection:
    with state.transaction() as db:
        row = db.execute(f"SELECT {_COLS} FROM objections WHERE id = ?", (objection_id,)).fetchone()
    if row is None:
        raise ObjectionError(f"no objection {objection_id} in this round")
    return Objection(*row)


def all_objections(state: RoundState) -> list[Objection]:
    if not state.exists():
        return []
    with state.transaction() as db:
        return [Objection(*r) for r in db.execute(f"SELECT {_COLS} FROM objections ORDER BY id").fetchall()]


def pending(state: RoundState) -> list[Objection]:
    return [o for o in all_objections(state) if o.status == "pending"]


def upheld_removals(state: RoundState) -> dict[str, str]:
    """submission_id → finding, for every upheld objection: what the core removes."""
    return {o.submission_id: o.finding or "" for o in all_objections(state) if o.status == "upheld"}
