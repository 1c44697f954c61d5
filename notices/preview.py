"""Previews of what will be sent, read back from the outbox: nothing is sent, no state changes.

A manager must see exactly what goes out before approving it, so previews
are made from the stored bytes themselves, not re-rendered: `<id>.eml` is
the message byte for byte, `<id>.html` its HTML part for a browser.
"""
from __future__ import annotations

import email
import email.policy
import os
from dataclasses import dataclass
from pathlib import Path

from notices.message import eml_filename
from notices.outbox import Outbox, OutboxRow


@dataclass(frozen=True)
class Preview:
    row: OutboxRow
    eml: Path
    html: Path
    subject: str


def html_part(body: bytes) -> str:
    """The decoded HTML part of a stored message ('' if it has none)."""
    msg = email.message_from_bytes(body, policy=email.policy.default)
    part = msg.get_body(("html",))  # type: ignore[attr-defined]
    return part.get_content() if part is not None else ""


def write_previews(outbox: Outbox, directory: str | os.PathLike[str], *, round_id: str | None = None,
                   state: str | None = None) -> list[Preview]:
    """Every notice (optionally of one state) as .eml and .html under `directory`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    previews = []
    for row, body in outbox.iter_bodies(round_id=round_id):
        if state is not None and row.state != state:
            continue
        eml = out / eml_filename(row.message_id)
        eml.write_bytes(body)
        html = eml.with_suffix(".html")
        html.write_text(html_part(body), encoding="utf-8")
        subject = str(email.message_from_bytes(body, policy=email.policy.default)["Subject"] or "")
        previews.append(Preview(row, eml, html, subject))
    return previews


def samples_by_outcome(outbox: Outbox, *, round_id: str | None = None) -> dict[str, tuple[OutboxRow, bytes]]:
    """The first notice of each outcome (by submission id): one sample per outcome for an artifact."""
    samples: dict[str, tuple[OutboxRow, bytes]] = {}
    for row in outbox.rows(round_id=round_id):
        if row.outcome not in samples:
            samples[row.outcome] = (row, outbox.body(row.key))
    return samples
