"""Caps and money: who is selected, who is reserve, and how much each gets.

Walks the ordered candidates (by rank for scored programmes, by the
programme's `order_by` for filings and claims). Below the pass mark (or the
lowest grade) → BELOW_THRESHOLD. The lower filing of a model already paid in
this round at a higher level → HIGHER_AWARD_ELSEWHERE. 就高不重复
(`highest_only`): money already received for the same project is deducted
(TOPUP_HIGHEST), or the application is dropped when that was as high or higher
(HIGHER_AWARD_ELSEWHERE) and takes no place, so the next moves up. Then the
per-enterprise annual cap (counting what the awards ledger already holds for the
enterprise this year): the application that crosses it is paid the remainder
(ENTERPRISE_CAP, still selected), one with nothing left takes no place
(not_selected, ENTERPRISE_CAP). Then the count cap, the reserve list and the
round's budget (by rank, or pro rata). Amounts are integer yuan. A group of
applications tied on every rule that the count cap would split stops the round
(`DecisionRequired`) instead of being broken silently.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Mapping

import pandas as pd

from scoring import columns as C
from scoring.aggregation import format_cents
from scoring.errors import DecisionRequired
from scoring.ranking import TIE_GROUP
from scoring.rules import Award, Programme

PRIOR_YUAN = "prior_yuan"
PRIOR_NOTE = "prior_note"
DUPLICATE_NOTE = "duplicate_note"  # set by scoring.filings on the lower filing of a model paid higher


@dataclass(frozen=True)
class AwardMethod:
    """How the base amount of a candidate is computed, and which Award fields it needs."""

    needs: tuple[str, ...]
    amount: Callable[[dict, Award], int]


def _fixed(rec: dict, award: Award) -> int:
    assert award.amount_yuan is not None
    return award.amount_yuan


def _requested_capped(rec: dict, award: Award) -> int:
    assert award.max_amount_yuan is not None and award.amount_column is not None
    return min(int(rec[award.amount_column]), award.max_amount_yuan)


def _grade(rec: dict, award: Award) -> int:
    """The amount of the highest grade whose edge the (rounded) score reaches; 0 below every grade."""
    cents = int(rec[C.SCORE_CENTS])
    for g in award.grades:
        if cents >= int(g.min_score * 100):
            return g.amount_yuan
    return 0


def _level(rec: dict, award: Award) -> int:
    assert award.level_column is not None
    return award.level_amounts_yuan[str(rec[award.level_column])]


def _matching(rec: dict, award: Award) -> int:
    """match_percent of the matched amount (floor to the yuan), at most max_amount_yuan."""
    assert award.max_amount_yuan is not None and award.amount_column is not None
    matched = Fraction(int(rec[award.amount_column])) * Fraction(award.match_percent) / 100
    return min(int(matched), award.max_amount_yuan)  # int() of a non-negative Fraction floors


def _per_unit(rec: dict, award: Award) -> int:
    """per_unit_yuan × units, at most the requested amount and max_amount_yuan when given."""
    assert award.per_unit_yuan is not None and award.unit_column is not None
    amount = award.per_unit_yuan * max(int(rec[award.unit_column]), 0)
    if award.amount_column:
        amount = min(amount, int(rec[award.amount_column]))
    if award.max_amount_yuan is not None:
        amount = min(amount, award.max_amount_yuan)
    return amount


AWARD_METHODS: dict[str, AwardMethod] = {
    "fixed": AwardMethod(("amount_yuan",), _fixed),
    "requested_capped": AwardMethod(("max_amount_yuan", "amount_column"), _requested_capped),
    "grade": AwardMethod(("grades",), _grade),
    "level": AwardMethod(("level_amounts_yuan", "level_column"), _level),
    "matching": AwardMethod(("max_amount_yuan", "amount_column"), _matching),
    "per_unit": AwardMethod(("per_unit_yuan", "unit_column"), _per_unit),
}


def base_amount(rec: dict, award: Award) -> int:
    """What the award method gives one application before any cap."""
    return AWARD_METHODS[award.method].amount(rec, award)


def yuan(amount: int) -> str:
    return f"{amount:,}元"


def threshold_cents(programme: Programme) -> int | None:
    t = programme.threshold()
    return None if t is None else int(t * 100)


def _place(r: dict, scored: bool) -> str:
    return f"综合排名第{r[C.RANK]}名" if scored else f"按受理顺序第{r[C.RANK]}位"


def _below(r: dict, programme: Programme, cents: int) -> str:
    if programme.award.method == "grade":
        lowest = programme.award.grades[-1].grade
        return f"综合得分{format_cents(r[C.SCORE_CENTS])}分，低于{lowest}档分数线{format_cents(cents)}分。"
    return f"专家评审得分{format_cents(r[C.SCORE_CENTS])}分，低于入围分数线{format_cents(cents)}分。"


def apply_caps(
    ranked: pd.DataFrame,
    programme: Programme,
    *,
    enterprise_awarded: Mapping[str, int] | None = None,
    removed: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Outcome, amount_yuan, reason_code and reason for every ranked application.

    `ranked` is in order (`order` column) and may carry `prior_yuan` (money already
    received for the same project), `prior_note` and `duplicate_note`.
    `enterprise_awarded` maps a credit code to what the enterprise already received
    this year in the programmes its annual cap covers (from the awards ledger).
    `removed` maps an application to an upheld objection's finding: it is
    `OBJECTION_UPHELD`, takes no place, and the next candidate moves up.
    """
    removed = removed or {}
    award = programme.award
    scored = programme.kind in ("scored", "composite")
    pass_cents = threshold_cents(programme)
    recs = ranked.sort_values("order", kind="stable").to_dict("records")
    awarded_before = dict(enterprise_awarded or {})

    slots = award.count_cap if award.count_cap is not None else len(recs)
    reserves = award.reserve_size if award.count_cap is not None else 0
    budget_left = award.budget_yuan
    budget_hit = False
    used: dict[str, int] = defaultdict(int)
    taken = 0

    for r in recs:
        r[C.AMOUNT_YUAN] = 0
        r[C.REASON_CODE] = ""
        r[C.REASON] = ""
        r["_cut"] = -1  # which side of the count cut the application fell: 0 slot, 1 reserve, 2 beyond
        if r[C.SUBMISSION_ID] in removed:
            r[C.OUTCOME] = C.NOT_SELECTED
            r[C.REASON_CODE] = C.OBJECTION_UPHELD
            r[C.REASON] = f"公示期内收到异议，经核实成立（{removed[r[C.SUBMISSION_ID]]}），取消入选资格。"
            continue
        if pass_cents is not None and r[C.SCORE_CENTS] < pass_cents:
            r[C.OUTCOME] = C.NOT_SELECTED
            r[C.REASON_CODE] = C.BELOW_THRESHOLD
            r[C.REASON] = _below(r, programme, pass_cents)
            continue
        if r.get(DUPLICATE_NOTE):
            r[C.OUTCOME] = C.NOT_SELECTED
            r[C.REASON_CODE] = C.HIGHER_AWARD_ELSEWHERE
            r[C.REASON] = r[DUPLICATE_NOTE]
            continue
        amount = base_amount(r, award)
        prior = int(r.get(PRIOR_YUAN) or 0)
        if award.highest_only and prior > 0:
            note = r.get(PRIOR_NOTE) or "其他同类政策"
            if prior >= amount:
                r[C.OUTCOME] = C.NOT_SELECTED
                r[C.REASON_CODE] = C.HIGHER_AWARD_ELSEWHERE
                r[C.REASON] = (
                    f"该项目已获{note}共{yuan(prior)}，不低于本次可获奖励{yuan(amount)}，"
                    f"按“就高不重复”原则不再重复支持。"
                )
                continue
            amount -= prior
            r[C.REASON_CODE] = C.TOPUP_HIGHEST
            r[C.REASON] = f"该项目已获{note}共{yuan(prior)}，按“就高不重复”原则补足差额{yuan(amount)}。"

        code = r[C.CREDIT_CODE]
        if award.enterprise_cap_yuan is not None:
            before = int(awarded_before.get(code, 0))
            left = award.enterprise_cap_yuan - before - used[code]
            if left <= 0:
                r[C.OUTCOME] = C.NOT_SELECTED
                r[C.REASON_CODE] = C.ENTERPRISE_CAP
                r[C.REASON] = _join(r[C.REASON], _cap_text(award, before, used[code]) + "已无剩余额度，本项不再奖励。")
                continue
            if amount > left:
                r[C.REASON_CODE] = C.ENTERPRISE_CAP
                r[C.REASON] = _join(
                    r[C.REASON], _cap_text(award, before, used[code]) + f"本项按剩余额度核定为{yuan(left)}（全额{yuan(amount)}）。"
                )
                amount = left

        if taken < slots:
            r["_cut"] = 0
            if budget_left is not None and award.budget_mode == "rank":
                if budget_hit or amount > budget_left:
                    budget_hit = True
                    r[C.OUTCOME] = C.NOT_SELECTED
                    r[C.REASON_CODE] = C.BUDGET_CAP
                    r[C.REASON] = f"{_place(r, scored)}，本轮奖补资金预算已用完。"
                    continue
                budget_left -= amount
            r[C.OUTCOME] = C.SELECTED
            r[C.AMOUNT_YUAN] = amount
            used[code] += amount
            taken += 1
        elif taken < slots + reserves:
            r["_cut"] = 1
            r[C.OUTCOME] = C.RESERVE
            r[C.REASON_CODE] = C.COUNT_CAP
            r[C.REASON] = (
                f"{_place(r, scored)}，本年度入选名额为{slots}个，列为候补；"
                f"如入选项目放弃或被取消资格，将按候补顺序递补。"
            )
            taken += 1
        else:
            r["_cut"] = 2
            r[C.OUTCOME] = C.NOT_SELECTED
            r[C.REASON_CODE] = C.COUNT_CAP
            r[C.REASON] = f"{_place(r, scored)}，超出本年度{slots}个入选名额及{reserves}个候补名额。"

    _stop_on_split_ties(recs, reserves)

    if award.budget_yuan is not None and award.budget_mode == "pro_rata":
        _pro_rata(recs, award.budget_yuan)

    if not recs:  # an empty cohort: nothing to pay, the same columns
        return ranked.assign(**{C.OUTCOME: pd.Series(dtype=object), C.AMOUNT_YUAN: pd.Series(dtype="int64"),
                                C.REASON_CODE: pd.Series(dtype=object), C.REASON: pd.Series(dtype=object)})
    out = pd.DataFrame(recs).drop(columns=["_cut"], errors="ignore")
    out[C.AMOUNT_YUAN] = out[C.AMOUNT_YUAN].astype("int64")
    return out


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first else second


def _cap_text(award: Award, before: int, this_round: int) -> str:
    cap = award.enterprise_cap_yuan
    assert cap is not None
    parts = []
    if before:
        parts.append(f"此前已获{yuan(before)}")
    if this_round:
        parts.append(f"本轮已核定{yuan(this_round)}")
    got = "，".join(parts)
    return f"单个企业每年奖励最高不超过{yuan(cap)}" + (f"，本企业本年度{got}" if got else "") + "，"


def _stop_on_split_ties(recs: list[dict], reserves: int) -> None:
    """A group tied on every rule whose members fell on different sides of a count cut."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for r in recs:
        if r.get(TIE_GROUP, -1) != -1 and r["_cut"] != -1:
            groups[r[TIE_GROUP]].append(r)
    straddles: list[tuple[str, list[dict]]] = []
    for _, members in sorted(groups.items()):
        cuts = {m["_cut"] for m in members}
        if min(cuts) == 0 and max(cuts) > 0:
            straddles.append(("入选名额", members))
        if reserves > 0 and min(cuts) <= 1 and max(cuts) == 2:
            straddles.append(("候补名额", members))
    if not straddles:
        return
    lines = []
    for name, members in straddles:
        ids = ", ".join(m[C.SUBMISSION_ID] for m in members)
        lines.append(
            f"applications {ids} are tied on every rule (score {format_cents(members[0][C.SCORE_CENTS])}, "
            f"every tie-break criterion and submission time) across the {name} cut-off"
        )
    raise DecisionRequired(
        "; ".join(lines),
        kind="tie",
        subject=tuple(m[C.SUBMISSION_ID] for _, members in straddles for m in members),
        groups=tuple(tuple(m[C.SUBMISSION_ID] for m in members) for _, members in straddles),
    )


def _pro_rata(recs: list[dict], budget: int) -> None:
    """Scale selected amounts down to the budget: floor, then the largest remainders by rank get a yuan."""
    sel = [r for r in recs if r[C.OUTCOME] == C.SELECTED]
    total = sum(r[C.AMOUNT_YUAN] for r in sel)
    if total <= budget or total == 0:
        return
    shares = [(r[C.AMOUNT_YUAN] * budget) // total for r in sel]
    rema = [(r[C.AMOUNT_YUAN] * budget) % total for r in sel]
    left = budget - sum(shares)
    for i in sorted(range(len(sel)), key=lambda i: (-rema[i], sel[i]["order"]))[:left]:
        shares[i] += 1
    for r, s in zip(sel, shares):
        full = r[C.AMOUNT_YUAN]
        r[C.AMOUNT_YUAN] = s
        r[C.REASON_CODE] = r[C.REASON_CODE] or C.BUDGET_CAP
        r[C.REASON] = (r[C.REASON] + " " if r[C.REASON] else "") + (
            f"本轮预算{yuan(budget)}不足以全额支持，按比例核定为{yuan(s)}（全额{yuan(full)}）。"
        )
