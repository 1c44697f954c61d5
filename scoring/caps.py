"""Caps and money: who is selected, who is reserve, and how much each gets.

Walks the ranked candidates in order. Below the pass mark → BELOW_THRESHOLD.
就高不重复 (`highest_only`): money already received for the same project is
deducted (TOPUP_HIGHEST), or the application is dropped when that was as high
or higher (HIGHER_AWARD_ELSEWHERE) and takes no place, so the next moves up.
Then the count cap, the reserve list and the round's budget. Amounts are
integer yuan. A group of applications tied on every rule that a cap would split
stops the round (`DecisionRequired`) instead of being broken silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from scoring import columns as C
from scoring.aggregation import format_cents
from scoring.errors import DecisionRequired
from scoring.ranking import TIE_GROUP
from scoring.rules import Award, Programme

PRIOR_YUAN = "prior_yuan"
PRIOR_NOTE = "prior_note"


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


AWARD_METHODS: dict[str, AwardMethod] = {
    "fixed": AwardMethod(("amount_yuan",), _fixed),
    "requested_capped": AwardMethod(("max_amount_yuan", "amount_column"), _requested_capped),
}


def yuan(amount: int) -> str:
    return f"{amount:,}元"


def apply_caps(ranked: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Outcome, amount_yuan, reason_code and reason for every ranked application.

    `ranked` comes from `rank_applications` (in order) and may carry `prior_yuan`
    (money already received for the same project) and `prior_note`.
    """
    assert programme.scoring is not None
    award = programme.award
    method = AWARD_METHODS[award.method]
    pass_cents = int(programme.scoring.pass_mark * 100)
    pass_text = format_cents(pass_cents)
    recs = ranked.sort_values("order", kind="stable").to_dict("records")

    slots = award.count_cap if award.count_cap is not None else len(recs)
    reserves = award.reserve_size if award.count_cap is not None else 0
    budget_left = award.budget_yuan
    budget_hit = False
    straddles: list[tuple[str, list[dict]]] = []

    for r in recs:
        r[C.AMOUNT_YUAN] = 0
        r[C.REASON_CODE] = ""
        r[C.REASON] = ""
        if r[C.SCORE_CENTS] < pass_cents:
            r[C.OUTCOME] = C.NOT_SELECTED
            r[C.REASON_CODE] = C.BELOW_THRESHOLD
            r[C.REASON] = f"专家评审得分{format_cents(r[C.SCORE_CENTS])}分，低于入围分数线{pass_text}分。"
            continue
        base = method.amount(r, award)
        prior = int(r.get(PRIOR_YUAN) or 0)
        if award.highest_only and prior > 0:
            note = r.get(PRIOR_NOTE) or "其他同类政策"
            if prior >= base:
                r[C.OUTCOME] = C.NOT_SELECTED
                r[C.REASON_CODE] = C.HIGHER_AWARD_ELSEWHERE
                r[C.REASON] = (
                    f"该项目已获{note}共{yuan(prior)}，不低于本次可获奖励{yuan(base)}，"
                    f"按“就高不重复”原则不再重复支持。"
                )
                r["_takes_place"] = False
                continue
            r["_base"] = base - prior
            r[C.REASON_CODE] = C.TOPUP_HIGHEST
            r[C.REASON] = f"该项目已获{note}共{yuan(prior)}，按“就高不重复”原则补足差额{yuan(base - prior)}。"
        else:
            r["_base"] = base
        r["_takes_place"] = True

    # tie groups that a cap would split
    candidates = [r for r in recs if r.get("_takes_place")]
    pos = 0
    while pos < len(candidates):
        g = candidates[pos][TIE_GROUP]
        end = pos + 1
        if g != -1:
            while end < len(candidates) and candidates[end][TIE_GROUP] == g:
                end += 1
        for cut, name in ((slots, "入选名额"), (slots + reserves, "候补名额")):
            if pos < cut < end:
                straddles.append((name, candidates[pos:end]))
        pos = end
    if straddles:
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

    taken = 0
    for r in candidates:
        if taken < slots:
            amount = r["_base"]
            if budget_left is not None and award.budget_mode == "rank":
                if budget_hit or amount > budget_left:
                    budget_hit = True
                    r[C.OUTCOME] = C.NOT_SELECTED
                    r[C.REASON_CODE] = C.BUDGET_CAP
                    r[C.REASON] = f"综合排名第{r[C.RANK]}名，本轮奖补资金预算已用完。"
                    continue
                budget_left -= amount
            r[C.OUTCOME] = C.SELECTED
            r[C.AMOUNT_YUAN] = amount
            taken += 1
        elif taken < slots + reserves:
            r[C.OUTCOME] = C.RESERVE
            r[C.REASON_CODE] = C.COUNT_CAP
            r[C.REASON] = (
                f"综合排名第{r[C.RANK]}名，本年度入选名额为{slots}个，列为候补；"
                f"如入选项目放弃或被取消资格，将按候补顺序递补。"
            )
            taken += 1
        else:
            r[C.OUTCOME] = C.NOT_SELECTED
            r[C.REASON_CODE] = C.COUNT_CAP
            r[C.REASON] = f"综合排名第{r[C.RANK]}名，超出本年度{slots}个入选名额及{reserves}个候补名额。"

    if award.budget_yuan is not None and award.budget_mode == "pro_rata":
        _pro_rata(recs, award.budget_yuan)

    out = pd.DataFrame(recs).drop(columns=["_base", "_takes_place"], errors="ignore")
    out[C.AMOUNT_YUAN] = out[C.AMOUNT_YUAN].astype("int64")
    return out


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
