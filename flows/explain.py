"""`rounds explain DIR SUBMISSION_ID`: the full trace of one application's outcome.

Formal review rule by rule, every expert's scores and total, how the panel score
was formed (which totals were dropped), rank and tie-breaks, caps and money,
decisions and approvals, objections, and where its notice stands.
"""
from __future__ import annotations

from fractions import Fraction

import pandas as pd

from flows import stages
from flows.state import RoundState
from flows.workspace import Workspace
from scoring import columns as C
from scoring.aggregation import TOTAL_NUM, format_cents, total_scale
from scoring.eligibility import RULES, ReviewContext
from scoring.errors import RoundsError


def _fmt(value: Fraction, places: int = 4) -> str:
    scaled = round(value * 10**places)
    return f"{scaled / 10**places:.{places}f}"


def explain(ws: Workspace, sid: str) -> list[str]:
    p = stages.prepare(ws)
    ranking = p.result.ranking.set_index(C.SUBMISSION_ID)
    if sid not in ranking.index:
        raise RoundsError(f"no application {sid!r} in this round")
    row = ranking.loc[sid]
    sub = p.inputs.submissions.set_index(C.SUBMISSION_ID).loc[sid]
    prog = p.programme
    out = [
        f"{sid} · {sub[C.ENTERPRISE_NAME]} · {sub[C.CREDIT_CODE]}",
        f"  {sub[C.TITLE]}  (submitted {pd.Timestamp(sub[C.SUBMITTED_AT]):%Y-%m-%d %H:%M})",
        f"Round {p.config.round_id} · rules {prog.id} (sha256 in out/manifest.json)",
        "",
        "Formal review (形式审查):",
    ]
    ctx = ReviewContext(programme=prog, config=p.config, excluded_products=p.inputs.excluded_products)
    one = p.inputs.submissions[p.inputs.submissions[C.SUBMISSION_ID] == sid]
    for name in prog.eligibility.rules:
        rule = RULES[name]
        failure = rule.check(one, ctx).iloc[0]
        out.append(f"  {'FAIL' if failure else 'pass'}  {name} — {rule.label}" + (f": {failure}" if failure else ""))

    if row[C.OUTCOME] != C.INELIGIBLE and prog.scoring is not None:
        out += ["", "Expert scores:"]
        crit_ids = [c.id for c in prog.criteria]
        unit = 10 ** prog.scoring.score_decimals
        sc = p.inputs.scores[p.inputs.scores[C.SUBMISSION_ID] == sid]
        header = "  expert   " + "  ".join(f"{c:>13}" for c in crit_ids) + "      total"
        out.append(header)
        out.append("  (max)    " + "  ".join(f"{str(prog.criterion(c).max_points):>13}" for c in crit_ids)
                   + f"  {'(weights ' + '/'.join(str(c.weight) for c in prog.criteria) + ')':>9}")
        totals = p.result.expert_totals[p.result.expert_totals[C.SUBMISSION_ID] == sid]
        scale = total_scale(prog)
        exact = {e: Fraction(int(n), scale.total_den) for e, n in zip(totals[C.EXPERT_ID], totals[TOTAL_NUM])}
        for e, grp in sc.groupby(C.EXPERT_ID, sort=True):
            by_c = dict(zip(grp[C.CRITERION], grp[C.SCORE_UNITS]))
            cells = "  ".join(f"{str(Fraction(int(by_c[c]), unit)) if c in by_c else '-':>13}" for c in crit_ids)
            out.append(f"  {e:<8} {cells}  {_fmt(exact[e]):>9}")
        ordered = sorted(exact.items(), key=lambda kv: (kv[1], kv[0]))
        n = len(ordered)
        agg = prog.scoring.aggregation
        if agg == "trimmed_mean" and n >= prog.scoring.trim_min_experts:
            kept = ordered[1:-1]
            out.append(f"  {n} experts (≥ {prog.scoring.trim_min_experts}): dropped the lowest "
                       f"({ordered[0][0]} {_fmt(ordered[0][1])}) and the highest ({ordered[-1][0]} {_fmt(ordered[-1][1])})")
        else:
            kept = ordered
            out.append(f"  {n} experts: {agg.replace('_', ' ')} of all totals")
        if agg != "median":
            mean = sum((v for _, v in kept), Fraction(0)) / len(kept)
            out.append(f"  panel score = {_fmt(mean, 6)} → rounded half-up to {row[C.SCORE]}")
        else:
            out.append(f"  panel score (median) → {row[C.SCORE]}")
        out += ["", f"Rank {row[C.RANK]} of {int(ranking[C.RANK].notna().sum())} scored applications"
                + (f" — {row['tie_note']}" if row["tie_note"] else "")]
        if prog.scoring.pass_mark is not None:
            out.append(f"  pass mark {format_cents(int(prog.scoring.pass_mark * 100))}")

    priors = p.result.prior_matches
    if not priors.empty and sid in set(priors[C.SUBMISSION_ID]):
        m = priors[priors[C.SUBMISSION_ID] == sid].iloc[0]
        out.append(f"就高不重复: received before {int(m['prior_yuan']):,} yuan — {m['prior_note']} (matched {m['matched']})")

    out += ["", f"Outcome: {row[C.OUTCOME]}  amount {int(row[C.AMOUNT_YUAN]):,} yuan"
            + (f"  reason {row[C.REASON_CODE]}" if row[C.REASON_CODE] else "")]
    if row[C.REASON]:
        out.append(f"  {row[C.REASON]}")

    state = RoundState(ws.state_db)
    trail = [a for a in state.audit() if sid in a["subject"].split(",") or a["subject"] == sid
             or sid in str(a["detail"].get("order", ""))]
    approval = state.approval_for(p.ranking_hash)
    out += ["", "Decisions:"]
    out.append(f"  ranking {p.ranking_hash[:16]}…: " + (
        f"{approval.decision} by {approval.decided_by} at {approval.at} ({approval.via})" if approval else "awaiting approval"))
    for a in trail:
        out.append(f"  {a['at']} {a['actor']}: {a['action']} {a['detail']}")

    out += ["", "Notice:"]
    if ws.outbox_db.is_file():
        from notices.outbox import Outbox

        with Outbox.open(ws.outbox_db) as box:
            rows = [r for r in box.rows(round_id=p.config.round_id) if r.submission_id == sid]
            for r in rows:
                out.append(f"  {r.kind}: {r.state}{' (ambiguous)' if r.ambiguous else ''} to {r.recipient}, "
                           f"attempts {r.attempts}" + (f", sent {r.sent_at}" if r.sent_at else "")
                           + (f", last reply: {r.last_reply}" if r.last_reply else ""))
        if not rows:
            out.append("  none prepared (the round is not final yet, or the address is undeliverable)")
    else:
        out.append("  none prepared yet")
    return out
