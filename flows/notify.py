"""Result notices of a round: render → outbox (exactly once) → SMTP.

Bytes are built deterministically from the approved ranking and the approval's
timestamp, so a rerun prepares identical bytes and the outbox sees nothing new.
Sending happens only for rows approved under the hash of the approved ranking.
An address that cannot be delivered to is never stored: it is reported, so the
manager can reach that applicant another way.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass, field
from email.utils import parseaddr

from flows.state import Approval, RoundState
from notices.message import build_message, message_id_for, validate_address
from notices.outbox import Outbox
from notices.outbox_model import OutboxItem
from notices.render import render_notice
from scoring import columns as C
from scoring.aggregation import format_cents

RESULT_KIND = "result"
DEFAULT_SENDER = "rounds@localhost.localdomain"


@dataclass(frozen=True)
class PrepareSummary:
    new: int
    unchanged: int
    conflicts: tuple[str, ...] = ()
    undeliverable: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SendSummary:
    counts: dict[str, int] = field(default_factory=dict)
    sent_now: int = 0
    problems: tuple[str, ...] = ()
    halted: str = ""
    smtp: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def complete(self) -> bool:
        return not self.halted and not self.problems and all(n == 0 for s, n in self.counts.items() if s != "sent")


def _sender() -> tuple[str, str]:
    name, addr = parseaddr(os.environ.get("ROUNDS_MAIL_FROM", "") or DEFAULT_SENDER)
    return name, addr or DEFAULT_SENDER


def notice_contexts(p, approval: Approval, issued_at: str | None = None) -> list[dict]:
    """One rendering context per application, from the approved ranking.

    Beside the facts every letter states, a context carries what lets the wording
    follow the programme: `round.kind` (no experts in filing and claim rounds),
    `application.details` (the programme's own columns as a person reads them:
    the model and its filing, the certificates), `rule_label` (the formal-review
    rule behind an INELIGIBLE_* code), and for composite programmes the grade,
    its two parts with their shares and `grade_note` (which indicators drove it);
    None where the programme has no such thing.
    """
    from decimal import Decimal

    import pandas as pd

    from scoring.eligibility import rule_label

    subs = p.inputs.submissions.set_index(C.SUBMISSION_ID)
    prog, cfg = p.programme, p.config
    share = Decimal(str(prog.scoring.indicator_share)) if prog.kind == "composite" and prog.scoring else None
    shares = (None, None) if share is None else (format(share.normalize(), "f"), format((100 - share).normalize(), "f"))

    def text(value) -> str | None:  # noqa: ANN001 - a ranking cell: str, number, date, None, NaN or NA
        return None if value is None or value == "" or pd.isna(value) else str(value)

    round_ctx = {
        "id": cfg.round_id,
        "title": cfg.title or f"{cfg.year}年度{prog.name}",
        "year": cfg.year,
        "programme_id": prog.id,
        "programme_name": prog.name,
        "organiser": cfg.organiser or prog.department,
        "contact": cfg.contact or "",
        "clause": prog.clause,
        "document": prog.policy.document,
        "kind": prog.kind,
    }
    threshold = prog.threshold()
    pass_mark = format_cents(int(threshold * 100)) if threshold is not None else None
    out = []
    for r in p.result.ranking.to_dict("records"):
        sid = r[C.SUBMISSION_ID]
        s = subs.loc[sid]
        out.append(
            {
                "round": round_ctx,
                "application": {
                    "submission_id": sid,
                    "enterprise_name": r[C.ENTERPRISE_NAME],
                    "contact_name": s[C.CONTACT_NAME],
                    "contact_email": s[C.CONTACT_EMAIL],
                    "title": r[C.TITLE],
                    "credit_code": r[C.CREDIT_CODE],
                    "details": {c.id: c.display(v) for c in prog.columns if (v := text(r.get(c.id))) is not None},
                },
                "outcome": r[C.OUTCOME],
                "amount_yuan": int(r[C.AMOUNT_YUAN]),
                "reason_code": r[C.REASON_CODE],
                "reason": r[C.REASON],
                "score": r[C.SCORE] or None,
                "pass_mark": pass_mark,
                "rank": None if r[C.RANK] is None or r[C.RANK] != r[C.RANK] else int(r[C.RANK]),
                "issued_on": (issued_at or approval.at)[:10],
                "rule_label": rule_label(r[C.REASON_CODE]) if r[C.OUTCOME] == C.INELIGIBLE else "",
                "grade": text(r.get("grade")),
                "grade_note": text(r.get("grade_note")),
                "panel_score": text(r.get("panel_score")),
                "indicator_index": text(r.get("indicator_index")),
                "indicator_share": shares[0],
                "panel_share": shares[1],
            }
        )
    return out


def build_items(p, approval: Approval, issued_at: str | None = None) -> tuple[list[OutboxItem], list[str], dict[str, bytes]]:
    """(outbox items, undeliverable lines, .eml previews by file name)."""
    key = RoundState(p.ws.state_db).signing_key()
    sender_name, sender = _sender()
    sender_name = sender_name or (p.config.organiser or p.programme.department)
    domain = sender.rsplit("@", 1)[-1]
    date = dt.datetime.fromisoformat(issued_at or approval.at)
    items, undeliverable, previews = [], [], {}
    for ctx in notice_contexts(p, approval, issued_at):
        app = ctx["application"]
        try:
            recipient = validate_address(app["contact_email"])
        except ValueError as err:
            undeliverable.append(f"{app['submission_id']} ({app['enterprise_name']}): {err}")
            continue
        rendered = render_notice(ctx)
        mid = message_id_for(key, p.config.round_id, app["submission_id"], RESULT_KIND, domain)
        body = build_message(
            rendered, sender=sender, sender_name=sender_name, recipient=recipient,
            recipient_name=app["contact_name"], message_id=mid, date=date,
        )
        items.append(
            OutboxItem(
                round_id=p.config.round_id, submission_id=app["submission_id"], kind=RESULT_KIND,
                recipient=recipient, sender=sender, message_id=mid, body=body,
                ranking_hash=p.ranking_hash, outcome=ctx["outcome"],
            )
        )
        previews[f"notices/{app['submission_id']}.eml"] = body
    return items, undeliverable, previews


def _fingerprints(p) -> dict[str, str]:
    """What a result notice says, in short: outcome, amount and reason code per application."""
    r = p.result.ranking
    return {sid: f"{o} {int(a):,} yuan {c}".strip()
            for sid, o, a, c in zip(r[C.SUBMISSION_ID], r[C.OUTCOME], r[C.AMOUNT_YUAN], r[C.REASON_CODE])}


def prepare_notices(p, approval: Approval, issued_at: str | None = None) -> PrepareSummary:
    """Render every notice, dated `issued_at` (when the round became final), into the outbox, approved.

    A notice that has reached (or may have reached) a server is settled: it is
    never rebuilt, so a rerun with another sender address or a revised template
    changes nothing. What matters is whether the *result* changed since it was
    sent; that is reported (and never resent). Unsent notices are rebuilt with
    the current settings.
    """
    from notices.outbox_model import AMBIGUOUS, SENDING, SENT

    items, undeliverable, previews = build_items(p, approval, issued_at)
    now_says = _fingerprints(p)
    state = RoundState(p.ws.state_db)
    with Outbox.open(p.ws.outbox_db) as box:
        settled = {r.submission_id for r in box.rows(round_id=p.config.round_id)
                   if r.kind == RESULT_KIND and r.state in (SENT, SENDING, AMBIGUOUS)}
        fresh = [i for i in items if i.submission_id not in settled]
        report = box.prepare(fresh, replace_unsent=True)
        box.approve(approval.ranking_hash, round_id=p.config.round_id)
    said = state.notice_fingerprints(RESULT_KIND)
    changed = tuple(
        f"{sid}: its notice said {said[sid]}; the round now says {now_says[sid]}"
        for sid in sorted(settled) if sid in said and sid in now_says and said[sid] != now_says[sid]
    )
    state.record_notice_fingerprints(RESULT_KIND, {i.submission_id: now_says[i.submission_id] for i in fresh})
    p.ws.write_outputs({name: body for name, body in previews.items()
                        if name.removeprefix("notices/").removesuffix(".eml") not in settled})
    return PrepareSummary(
        new=report.new,
        unchanged=report.unchanged + len(settled),
        conflicts=tuple(str(c) for c in report.conflicts) + changed,
        undeliverable=tuple(undeliverable),
    )


def send_notices(p, approval: Approval, progress=None) -> SendSummary:
    """Deliver every approved notice not yet sent, through the server named by ROUNDS_SMTP_*."""
    from notices.deliver import deliver
    from notices.errors import DeliveryHalted
    from notices.mailer import SmtpMailer, SmtpSettings

    settings = SmtpSettings.from_env(os.environ)
    with Outbox.open(p.ws.outbox_db) as box:
        if settings is None:
            counts = box.counts(round_id=p.config.round_id)
            waiting = sum(n for state, n in counts.items() if state != "sent")
            return SendSummary(counts=counts, halted="" if not waiting else (
                f"{waiting} notices wait for a mail server: set ROUNDS_SMTP_HOST (and ROUNDS_SMTP_PORT, "
                "ROUNDS_MAIL_FROM, …) and run again; they are kept in out/outbox.sqlite and previewed in out/notices/"
            ))
        box.recover(round_id=p.config.round_id)
        try:
            report = deliver(box, SmtpMailer(settings), connections=settings.connections,
                             rate_per_minute=settings.rate_per_minute, round_id=p.config.round_id,
                             progress=progress)
            halted = ""
        except DeliveryHalted as err:
            report, halted = err.report, str(err)
        counts = box.counts(round_id=p.config.round_id)
    problems = tuple(report.problem_lines()) if report is not None else ()
    return SendSummary(counts=counts, sent_now=report.sent if report is not None else 0,
                       problems=problems, halted=halted, smtp=f"{settings.host}:{settings.port}")


def samples_markdown(p) -> str:
    """One prepared notice per outcome (subject and plain text), for the manager to read before sending."""
    import email
    import email.policy

    from notices.preview import samples_by_outcome

    with Outbox.open(p.ws.outbox_db) as box:
        samples = samples_by_outcome(box, round_id=p.config.round_id)
    parts = [f"# Notices of round {p.config.round_id}: one per outcome", ""]
    for outcome, (row, body) in sorted(samples.items()):
        msg = email.message_from_bytes(body, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",)).get_content()
        parts += [f"## {outcome} — {row.submission_id} → {row.recipient} ({row.state})", "",
                  f"**{msg['Subject']}**", "", "```text", text.strip(), "```", ""]
    return "\n".join(parts)


def preview(p, approval: Approval | None) -> tuple[int, list[str], str]:
    """A dry run: every notice as .eml and .html under out/preview/, nothing stored or sent.

    Without an approval yet, the letters are dated today and marked provisional.
    Returns (count, undeliverable lines, folder).
    """
    import email
    import email.policy

    from flows.state import now

    provisional = approval is None
    approval = approval or Approval(p.ranking_hash, "approve", "(provisional)", "", "preview", now())
    items, undeliverable, _ = build_items(p, approval)
    files: dict[str, bytes] = {}
    for item in items:
        files[f"preview/{item.submission_id}.eml"] = item.body
        msg = email.message_from_bytes(item.body, policy=email.policy.default)
        html = msg.get_body(preferencelist=("html",)).get_content()
        if provisional:
            html = html.replace("<body>", "<body><p style='color:#c00'>预览（排名尚未审定，非正式通知）</p>", 1)
        files[f"preview/{item.submission_id}.html"] = html.encode("utf-8")
    p.ws.write_outputs(files)
    return len(items), undeliverable, str(p.ws.out / "preview")
