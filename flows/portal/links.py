"""Experts' personal links: issued, sent through the outbox exactly once, revoked; reminders.

A link is `<base_url>/e/<token>` with `secrets.token_urlsafe(32)` (256 random
bits). Only its SHA-256 is kept (out/portal.sqlite), with the expiry (the
round's scoring deadline). The e-mail carrying it is a notice of its own kind
in the round's outbox (out/outbox.sqlite), keyed (round, "expert:<id>",
"expert_link") — "expert_link#<n>" for the n-th link after a reissue — so it is
sent exactly once whatever reruns or crashes happen. Order of steps, each
durable before the next: the message is prepared (not yet approved), then the
token's hash is committed, then the message is approved and delivered. A crash
in between leaves either nothing usable (a rerun issues a new token and
replaces the unsent message) or a committed link whose approved message the
next `--send` delivers.

Note: the outbox keeps the exact bytes of each message, so out/outbox.sqlite
holds the link until it is sent and afterwards; protect out/ like the scores.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from flows.notify import DEFAULT_SENDER
from flows.portal.context import RoundContext
from flows.portal.store import PortalStore, sha256_text
from flows.state import SHANGHAI, RoundState
from flows.workspace import Workspace
from notices.message import build_message, message_id_for, validate_address
from notices.outbox import Outbox
from notices.outbox_model import OutboxItem
from notices.render import render_notice
from scoring import columns as C
from scoring.errors import ConfigError, RoundsError

LINK_KIND = "expert_link"
REMINDER_KIND = "expert_reminder"
NOTICE_TEMPLATES = Path(__file__).parent / "templates" / "notices"


def parse_deadline(text: str | dt.date | dt.datetime) -> dt.datetime:
    """A date means the end of that day; a time without zone is Beijing time."""
    if isinstance(text, dt.datetime):
        value = text
    elif isinstance(text, dt.date):
        value = dt.datetime.combine(text, dt.time(23, 59, 59))
    else:
        s = str(text).strip()
        try:
            value = dt.datetime.fromisoformat(s) if ("T" in s or " " in s) else \
                dt.datetime.combine(dt.date.fromisoformat(s), dt.time(23, 59, 59))
        except ValueError:
            raise ConfigError(f"deadline {s!r} is not a date or time like 2026-09-30 or 2026-09-30T17:30") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def round_deadline(ctx: RoundContext) -> dt.datetime | None:
    """round.toml's `scoring_deadline`, where the round's configuration has that key."""
    value = getattr(ctx.config, "scoring_deadline", None)
    return parse_deadline(value) if value else None


def _sender(ctx: RoundContext) -> tuple[str, str]:
    name, addr = parseaddr(os.environ.get("ROUNDS_MAIL_FROM", "") or DEFAULT_SENDER)
    return name or (ctx.config.organiser or ctx.programme.department), addr or DEFAULT_SENDER


def _round_context(ctx: RoundContext) -> dict:
    prog, cfg = ctx.programme, ctx.config
    return {"id": cfg.round_id, "title": ctx.round_title, "year": cfg.year, "programme_id": prog.id,
            "programme_name": prog.name, "organiser": cfg.organiser or prog.department,
            "contact": cfg.contact or "", "clause": prog.clause, "document": prog.policy.document}


def _item(ws: Workspace, ctx: RoundContext, expert: dict, kind: str, key_kind: str, context: dict,
          moment: dt.datetime, template_dir: Path | None = None) -> OutboxItem:
    recipient = validate_address(str(expert.get(C.EXPERT_EMAIL, "") or ""))
    sender_name, sender = _sender(ctx)
    rendered = render_notice(context, kind=kind, **({"template_dir": template_dir} if template_dir else {}))
    subject = f"expert:{expert[C.EXPERT_ID]}"
    mid = message_id_for(RoundState(ws.state_db).signing_key(), ctx.config.round_id, subject, key_kind,
                         sender.rsplit("@", 1)[-1])
    body = build_message(rendered, sender=sender, sender_name=sender_name, recipient=recipient,
                         recipient_name=str(expert.get(C.EXPERT_NAME, "") or ""), message_id=mid, date=moment)
    return OutboxItem(round_id=ctx.config.round_id, submission_id=subject, kind=key_kind, recipient=recipient,
                      sender=sender, message_id=mid, body=body, ranking_hash=f"portal:{subject}:{key_kind}")


@dataclass
class LinkReport:
    issued: list[tuple[str, str, str]] = field(default_factory=list)   # (expert_id, name, url) — printed when not sent
    queued: list[str] = field(default_factory=list)                    # experts whose link e-mail is in the outbox
    kept: list[str] = field(default_factory=list)                      # experts who already had a live link
    undeliverable: list[str] = field(default_factory=list)
    deadline: dt.datetime | None = None


def issue_links(ws: Workspace, ctx: RoundContext, store: PortalStore, *, base_url: str, deadline: dt.datetime,
                clock, send: bool, experts: list[str] | None = None, reissue: bool = False,
                actor: str = "manager") -> LinkReport:
    """A link for every assigned expert (or those named) who has no live one; with `reissue`, a new one."""
    now = clock()
    if deadline <= now:
        raise ConfigError(f"the scoring deadline {deadline.isoformat()} has already passed; give a later --deadline")
    assigned = ctx.assigned_experts()
    targets = experts or assigned
    unknown = [e for e in targets if e not in assigned]
    if unknown:
        raise RoundsError(f"not assigned to any application: {', '.join(unknown)} (see out/assignment.csv)")
    report = LinkReport(deadline=deadline)
    state = RoundState(ws.state_db)
    store.set_meta("deadline", deadline.isoformat(timespec="seconds"))
    for eid in targets:
        if store.active_link(eid, now) is not None:
            if not reissue:
                report.kept.append(eid)
                continue
            store.revoke(eid, actor, now)
            state.log(actor, "portal_link_revoked", eid, reason="reissued")
        expert = ctx.expert(eid)
        name = str(expert.get(C.EXPERT_NAME, "") or eid)
        generation = store.next_generation(eid)
        token = secrets.token_urlsafe(32)
        url = f"{base_url.rstrip('/')}/e/{token}"
        key_kind = LINK_KIND if generation == 1 else f"{LINK_KIND}#{generation}"
        item = None
        if send:
            context = {"round": _round_context(ctx), "expert": {"name": name}, "url": url,
                       "deadline": deadline.date().isoformat(), "issued_on": now.date().isoformat()}
            try:
                item = _item(ws, ctx, expert, LINK_KIND, key_kind, context, now)
            except ValueError as err:
                report.undeliverable.append(f"{eid} ({name}): {err}")
                continue
            with Outbox.open(ws.outbox_db) as box:
                box.prepare([item], replace_unsent=True)
        store.add_link(sha256_text(token), eid, generation, now, deadline)
        state.log(actor, "portal_link_issued", eid, generation=generation, expires=deadline.isoformat(),
                  sent_by_mail=send)
        if item is not None:
            with Outbox.open(ws.outbox_db) as box:
                box.approve(item.ranking_hash, round_id=ctx.config.round_id)
            report.queued.append(eid)
        else:
            report.issued.append((eid, name, url))
    return report


def revoke_link(ws: Workspace, store: PortalStore, expert_id: str, actor: str, clock) -> int:
    n = store.revoke(expert_id, actor, clock())
    RoundState(ws.state_db).log(actor, "portal_link_revoked", expert_id, links=n)
    return n


def queue_reminders(ws: Workspace, ctx: RoundContext, store: PortalStore, expert_ids: list[str], batch: str,
                    actor: str, clock) -> tuple[list[str], list[str]]:
    """One reminder per expert for this `batch` (a repeated form post changes nothing); (queued, undeliverable)."""
    now = clock()
    deadline = store.get_meta("deadline")
    queued, undeliverable = [], []
    for eid in expert_ids:
        number, done = store.reminder_number(eid, batch)
        if done:
            continue
        expert = ctx.expert(eid)
        name = str(expert.get(C.EXPERT_NAME, "") or eid)
        context = {"round": _round_context(ctx), "expert": {"name": name},
                   "deadline": (deadline or now.isoformat())[:10], "issued_on": now.date().isoformat()}
        try:
            item = _item(ws, ctx, expert, REMINDER_KIND, f"{REMINDER_KIND}#{number}", context, now, NOTICE_TEMPLATES)
        except ValueError as err:
            undeliverable.append(f"{eid} ({name}): {err}")
            continue
        with Outbox.open(ws.outbox_db) as box:
            box.prepare([item], replace_unsent=True)
        store.add_reminder(eid, number, batch, now)
        with Outbox.open(ws.outbox_db) as box:
            box.approve(item.ranking_hash, round_id=ctx.config.round_id)
        RoundState(ws.state_db).log(actor, "portal_reminder_queued", eid, number=number)
        queued.append(eid)
    return queued, undeliverable


@dataclass(frozen=True)
class Delivery:
    configured: bool
    sent: int = 0
    problems: tuple[str, ...] = ()
    halted: str = ""


def deliver_queued(ws: Workspace, round_id: str) -> Delivery:
    """Send what the outbox holds approved (links, reminders) through ROUNDS_SMTP_*.

    The outbox delivers every approved row of the round, so result notices that
    are approved and still unsent would go too (they were approved to go).
    """
    from notices.deliver import deliver
    from notices.errors import DeliveryHalted
    from notices.mailer import SmtpMailer, SmtpSettings

    settings = SmtpSettings.from_env(os.environ)
    if settings is None:
        return Delivery(configured=False)
    with Outbox.open(ws.outbox_db) as box:
        try:
            rep = deliver(box, SmtpMailer(settings), connections=settings.connections,
                          rate_per_minute=settings.rate_per_minute, round_id=round_id)
        except DeliveryHalted as err:
            return Delivery(True, err.report.sent if err.report else 0, (), str(err))
    return Delivery(True, rep.sent, tuple(rep.problem_lines()))
