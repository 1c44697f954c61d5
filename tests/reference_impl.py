"""A straightforward row-by-row implementation of the scored-programme rules.

Written independently of `scoring/` from the SPEC's words, with Fractions and
plain loops. Tests compare the vectorised core with it on random rounds, and the
benchmark uses it as the row-by-row baseline. It implements: weighted expert
totals, trimmed mean with ≥ trim_min experts, half-up to 2 decimals, pass mark,
tie-breaks (criteria in order, trimmed like the total, then submitted_at), count
cap, reserves, fixed amount. Ties on every rule are left in submission-id order
(the core stops on those when they straddle a cap; callers avoid them).
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def _agg(values: list[Fraction], trim_min: int) -> Fraction:
    vals = list(values)
    if len(vals) >= trim_min:
        vals.remove(max(vals))
        vals.remove(min(vals))
    return sum(vals, Fraction(0)) / len(vals)


def reference_ranking(submissions: list[dict], score_rows: list[dict], programme) -> dict[str, dict]:
    """submissions: dicts with submission_id, submitted_at; score_rows: expert_id, submission_id, criterion, score (str)."""
    crit = {c.id: (Fraction(c.weight), Fraction(c.max_points)) for c in programme.criteria}
    trim_min = programme.scoring.trim_min_experts
    per_expert: dict[str, dict[str, dict[str, Fraction]]] = {}
    for row in score_rows:
        per_expert.setdefault(row["submission_id"], {}).setdefault(row["expert_id"], {})[row["criterion"]] = Fraction(
            Decimal(row["score"])
        )
    results = {}
    for sub in submissions:
        sid = sub["submission_id"]
        experts = per_expert[sid]
        totals = []
        for scores in experts.values():
            totals.append(sum((scores[c] / m * w for c, (w, m) in crit.items()), Fraction(0)))
        panel = _agg(totals, trim_min)
        rounded = _half_up(panel)
        tb = [_agg([s[c] for s in experts.values()], trim_min) for c in programme.scoring.tie_break]
        results[sid] = {"score": rounded, "tb": tb, "at": sub["submitted_at"], "n": len(totals)}
    order = sorted(results, key=lambda s: (-results[s]["score"], *[-v for v in results[s]["tb"]], results[s]["at"], s))
    pass_mark = Decimal(programme.scoring.pass_mark)
    cap, reserves = programme.award.count_cap, programme.award.reserve_size
    taken = 0
    for rank, sid in enumerate(order, start=1):
        r = results[sid]
        r["rank"] = rank
        if r["score"] < pass_mark:
            r["outcome"], r["amount"], r["code"] = "not_selected", 0, "BELOW_THRESHOLD"
        elif taken < cap:
            r["outcome"], r["amount"], r["code"] = "selected", programme.award.amount_yuan, ""
            taken += 1
        elif taken < cap + reserves:
            r["outcome"], r["amount"], r["code"] = "reserve", 0, "COUNT_CAP"
            taken += 1
        else:
            r["outcome"], r["amount"], r["code"] = "not_selected", 0, "COUNT_CAP"
    return results


def _half_up(value: Fraction) -> Decimal:
    """Exact half-up rounding of a Fraction to 2 decimals."""
    scaled = value * 100
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) / 100
