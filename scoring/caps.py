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
from typing import Mapping

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.aggregation import format_cents
from scoring.award_methods import AWARD_METHODS, AwardMethod, base_amount
from scoring.errors import DecisionRequired
from scoring.ranking import TIE_GROUP
from scoring.rules import Award, Programme

__all__ = [  # the award methods live in scoring.award_methods; rules and filings read them here
    "AWARD_METHODS", "AwardMethod", "DUPLICATE_NOTE", "PRIOR_NOTE", "PRIOR_YUAN", "apply_caps", "base_amount",
    "threshold_cents", "yuan",
]

PRIOR_YUAN = "prior_yuan"
PRIOR_NOTE = "prior_note"
DUPLICATE_NOTE = "duplicate_note"  # set by scoring.filings on the lower filing of a model paid higher


def yuan(amount: int) -> str:
    return f"{amount:,}元"


def threshold_cents(programme: Programme) -> int | None:
    t = programme.threshold()
    return None if t is None else int(t * 100)


def _place(rank: int, scored: bool) -> str:
    return f"综合排名第{rank}名" if scored else f"按受理顺序第{rank}位"


def _below(cents: int, programme: Programme, pass_cents: int) -> str:
    if programme.award.method == "grade":
        lowest = programme.award.grades[-1].grade
        return f"综合得分{format_cents(cents)}分，低于{lowest}档分数线{format_cents(pass_cents)}分。"
    return f"专家评审得分{format_cents(cents)}分，低于入围分数线{format_cents(pass_cents)}分。"


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

    The walk down the order is sequential only while it can change something:
    applications that leave early (objection, below the pass mark, paid higher
    elsewhere) are decided with array operations, and once the count cut (or the
    budget) is reached, every later application without a prior award or an
    enterprise cap to check gets the same outcome at once. Only the few
    applications near the cut-off, and those a cap or a prior award concerns,
    are visited one by one.
    """
    frame = ranked.sort_values("order", kind="stable").reset_index(drop=True)
    walk = _Walk(frame, programme, dict(enterprise_awarded or {}), removed or {})
    walk.run()
    _stop_on_split_ties(walk, frame)
    award = programme.award
    if award.budget_yuan is not None and award.budget_mode == "pro_rata":
        _pro_rata(walk, frame, award.budget_yuan)

    if not len(frame):  # an empty cohort: nothing to pay, the same columns
        return ranked.assign(**{C.OUTCOME: pd.Series(dtype=object), C.AMOUNT_YUAN: pd.Series(dtype="int64"),
                                C.REASON_CODE: pd.Series(dtype=object), C.REASON: pd.Series(dtype=object)})
    out = _as_records_would(frame)
    out[C.AMOUNT_YUAN] = walk.amount
    out[C.REASON_CODE] = walk.reason_code
    out[C.REASON] = walk.reason
    out["_cut"] = walk.cut
    out[C.OUTCOME] = walk.outcome
    out = out.drop(columns=["_cut"])
    out[C.AMOUNT_YUAN] = out[C.AMOUNT_YUAN].astype("int64")
    return out


_SAME_AFTER_RECORDS = frozenset({"int64", "float64", "bool", "datetime64[ns]", "timedelta64[ns]"})


def _as_records_would(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each column typed as a round trip through `to_dict("records")` would type it.

    Numpy columns and object columns of text come back as they are; any other
    column (nullable integers, objects holding numbers) is re-inferred the same
    way a frame built from records is, so the output keeps the types it always had.
    """
    out = frame.copy()
    redo = [
        c for c in frame.columns
        if not (str(frame[c].dtype) in _SAME_AFTER_RECORDS)
        and not (frame[c].dtype == object and pd.api.types.infer_dtype(frame[c], skipna=False) == "string")
    ]
    if redo:
        again = pd.DataFrame(frame[redo].to_dict("records"))
        for c in redo:
            out[c] = again[c]
    return out


class _Walk:
    """The state of the walk down the ordered candidates, one array per output column."""

    def __init__(self, frame: pd.DataFrame, programme: Programme, awarded_before: dict, removed: Mapping[str, str]):
        self.programme = programme
        self.award = award = programme.award
        self.scored = programme.kind in ("scored", "composite")
        self.frame = frame
        self.removed = removed
        self.awarded_before = awarded_before
        n = len(frame)
        self.n = n
        self.sids = frame[C.SUBMISSION_ID].tolist() if n else []
        self.amount = np.zeros(n, dtype=object)
        self.amount[:] = 0
        self.reason_code = np.full(n, "", dtype=object)
        self.reason = np.full(n, "", dtype=object)
        self.cut = np.full(n, -1, dtype="int64")  # which side of the count cut: 0 slot, 1 reserve, 2 beyond
        self.outcome = np.full(n, None, dtype=object)
        self.slots = award.count_cap if award.count_cap is not None else n
        self.reserves = award.reserve_size if award.count_cap is not None else 0
        self.budget_left = award.budget_yuan
        self.budget_hit = False
        self.used: dict[str, int] = defaultdict(int)
        self.taken = 0
        self._columns: dict[str, list] = {}

    def column(self, name: str) -> list:
        """A column as Python values (what `to_dict("records")` would give), read once."""
        if name not in self._columns:
            self._columns[name] = self.frame[name].tolist()
        return self._columns[name]

    def record(self, i: int) -> dict:
        """The fields an award method reads, for `base_amount`."""
        award = self.award
        wanted = {C.SCORE_CENTS, award.amount_column, award.level_column, award.unit_column}
        return {c: self.column(c)[i] for c in wanted if c is not None and c in self.frame.columns}

    def prior(self, i: int) -> int:
        return int((self.column(PRIOR_YUAN)[i] if PRIOR_YUAN in self.frame.columns else None) or 0)

    def run(self) -> None:
        n = self.n
        if not n:
            return
        sids = self.sids
        done = np.zeros(n, dtype=bool)
        if self.removed:
            gone = np.fromiter((s in self.removed for s in sids), dtype=bool, count=n)
            for i in np.flatnonzero(gone):
                self.outcome[i] = C.NOT_SELECTED
                self.reason_code[i] = C.OBJECTION_UPHELD
                self.reason[i] = f"公示期内收到异议，经核实成立（{self.removed[sids[i]]}），取消入选资格。"
            done |= gone
        pass_cents = threshold_cents(self.programme)
        if pass_cents is not None:
            cents = self.frame[C.SCORE_CENTS]
            if cents.dtype.kind in "iu":
                below = ~done & (cents.to_numpy() < pass_cents)
            else:  # nullable or object scores: compare one by one, as a person would read them
                values = self.column(C.SCORE_CENTS)
                below = np.zeros(n, dtype=bool)
                for i in np.flatnonzero(~done):
                    below[i] = bool(values[i] < pass_cents)
            rows = np.flatnonzero(below)
            if len(rows):
                values = self.column(C.SCORE_CENTS)
                texts: dict[int, str] = {}
                for i in rows:
                    c = values[i]
                    if c not in texts:
                        texts[c] = _below(c, self.programme, pass_cents)
                    self.reason[i] = texts[c]
                self.outcome[rows] = C.NOT_SELECTED
                self.reason_code[rows] = C.BELOW_THRESHOLD
            done |= below
        if DUPLICATE_NOTE in self.frame.columns:
            notes = self.column(DUPLICATE_NOTE)
            for i in np.flatnonzero(~done):
                if notes[i]:
                    self.outcome[i] = C.NOT_SELECTED
                    self.reason_code[i] = C.HIGHER_AWARD_ELSEWHERE
                    self.reason[i] = notes[i]
                    done[i] = True

        candidates = np.flatnonzero(~done)
        plain = self._plain(candidates)
        for k, i in enumerate(candidates):
            if self._frozen():
                self._rest(candidates[k:], plain[k:])
                return
            self.step(int(i))

    def _plain(self, candidates: np.ndarray) -> np.ndarray:
        """Candidates whose outcome, once the walk is frozen, depends on nothing but their rank."""
        if self.award.enterprise_cap_yuan is not None:
            return np.zeros(len(candidates), dtype=bool)
        if not self.award.highest_only or PRIOR_YUAN not in self.frame.columns:
            return np.ones(len(candidates), dtype=bool)
        prior = self.frame[PRIOR_YUAN]
        if prior.dtype.kind in "iu":
            return prior.to_numpy()[candidates] <= 0
        return np.array([self.prior(int(i)) <= 0 for i in candidates], dtype=bool)

    def _frozen(self) -> bool:
        """No later candidate can be selected or take a reserve place any more."""
        if self.taken >= self.slots + self.reserves:
            return True
        return self.taken < self.slots and self.budget_hit

    def _rest(self, rows: np.ndarray, plain: np.ndarray) -> None:
        """The candidates after the walk froze: the plain ones at once, the others one by one."""
        for i in rows[~plain]:
            self.step(int(i))
        rows = rows[plain]
        if not len(rows):
            return
        ranks = self.column(C.RANK)
        self.outcome[rows] = C.NOT_SELECTED
        if self.taken < self.slots:  # the budget ran out inside the count cap
            self.cut[rows] = 0
            self.reason_code[rows] = C.BUDGET_CAP
            self.reason[rows] = [f"{_place(ranks[i], self.scored)}，本轮奖补资金预算已用完。" for i in rows]
        else:
            self.cut[rows] = 2
            self.reason_code[rows] = C.COUNT_CAP
            tail = f"，超出本年度{self.slots}个入选名额及{self.reserves}个候补名额。"
            self.reason[rows] = [_place(ranks[i], self.scored) + tail for i in rows]

    def step(self, i: int) -> None:
        """One candidate: 就高不重复, the enterprise cap, then the count cap, reserves and budget."""
        award = self.award
        amount = base_amount(self.record(i), award)
        prior = self.prior(i)
        if award.highest_only and prior > 0:
            note = (self.column(PRIOR_NOTE)[i] if PRIOR_NOTE in self.frame.columns else None) or "其他同类政策"
            if prior >= amount:
                self.outcome[i] = C.NOT_SELECTED
                self.reason_code[i] = C.HIGHER_AWARD_ELSEWHERE
                self.reason[i] = (
                    f"该项目已获{note}共{yuan(prior)}，不低于本次可获奖励{yuan(amount)}，"
                    f"按“就高不重复”原则不再重复支持。"
                )
                return
            amount -= prior
            self.reason_code[i] = C.TOPUP_HIGHEST
            self.reason[i] = f"该项目已获{note}共{yuan(prior)}，按“就高不重复”原则补足差额{yuan(amount)}。"

        code = self.column(C.CREDIT_CODE)[i]
        used = self.used
        if award.enterprise_cap_yuan is not None:
            before = int(self.awarded_before.get(code, 0))
            left = award.enterprise_cap_yuan - before - used[code]
            if left <= 0:
                self.outcome[i] = C.NOT_SELECTED
                self.reason_code[i] = C.ENTERPRISE_CAP
                self.reason[i] = _join(self.reason[i], _cap_text(award, before, used[code]) + "已无剩余额度，本项不再奖励。")
                return
            if amount > left:
                self.reason_code[i] = C.ENTERPRISE_CAP
                self.reason[i] = _join(
                    self.reason[i],
                    _cap_text(award, before, used[code]) + f"本项按剩余额度核定为{yuan(left)}（全额{yuan(amount)}）。",
                )
                amount = left

        if self.taken < self.slots:
            self.cut[i] = 0
            if self.budget_left is not None and award.budget_mode == "rank":
                if self.budget_hit or amount > self.budget_left:
                    self.budget_hit = True
                    self.outcome[i] = C.NOT_SELECTED
                    self.reason_code[i] = C.BUDGET_CAP
                    self.reason[i] = f"{_place(self.column(C.RANK)[i], self.scored)}，本轮奖补资金预算已用完。"
                    return
                self.budget_left -= amount
            self.outcome[i] = C.SELECTED
            self.amount[i] = amount
            used[code] += amount
            self.taken += 1
        elif self.taken < self.slots + self.reserves:
            self.cut[i] = 1
            self.outcome[i] = C.RESERVE
            self.reason_code[i] = C.COUNT_CAP
            self.reason[i] = (
                f"{_place(self.column(C.RANK)[i], self.scored)}，本年度入选名额为{self.slots}个，列为候补；"
                f"如入选项目放弃或被取消资格，将按候补顺序递补。"
            )
            self.taken += 1
        else:
            self.cut[i] = 2
            self.outcome[i] = C.NOT_SELECTED
            self.reason_code[i] = C.COUNT_CAP
            self.reason[i] = f"{_place(self.column(C.RANK)[i], self.scored)}，超出本年度{self.slots}个入选名额及{self.reserves}个候补名额。"


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


def _stop_on_split_ties(walk: _Walk, frame: pd.DataFrame) -> None:
    """A group tied on every rule whose members fell on different sides of a count cut."""
    if TIE_GROUP not in frame.columns or not walk.n:
        return
    tie_group = frame[TIE_GROUP]
    if tie_group.dtype.kind in "iu":
        rows = np.flatnonzero((tie_group.to_numpy() != -1) & (walk.cut != -1))
    else:
        values = tie_group.tolist()
        rows = np.array([i for i in range(walk.n) if values[i] != -1 and walk.cut[i] != -1], dtype="int64")
    if not len(rows):
        return
    groups_of = walk.column(TIE_GROUP)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in rows:
        groups[groups_of[i]].append(int(i))
    reserves = walk.reserves
    straddles: list[tuple[str, list[int]]] = []
    for _, members in sorted(groups.items()):
        cuts = {int(walk.cut[m]) for m in members}
        if min(cuts) == 0 and max(cuts) > 0:
            straddles.append(("入选名额", members))
        if reserves > 0 and min(cuts) <= 1 and max(cuts) == 2:
            straddles.append(("候补名额", members))
    if not straddles:
        return
    sids, cents = walk.sids, walk.column(C.SCORE_CENTS)
    lines = []
    for name, members in straddles:
        ids = ", ".join(sids[m] for m in members)
        lines.append(
            f"applications {ids} are tied on every rule (score {format_cents(cents[members[0]])}, "
            f"every tie-break criterion and submission time) across the {name} cut-off"
        )
    raise DecisionRequired(
        "; ".join(lines),
        kind="tie",
        subject=tuple(sids[m] for _, members in straddles for m in members),
        groups=tuple(tuple(sids[m] for m in members) for _, members in straddles),
    )


def _pro_rata(walk: _Walk, frame: pd.DataFrame, budget: int) -> None:
    """Scale selected amounts down to the budget: floor, then the largest remainders by rank get a yuan."""
    sel = [i for i in range(walk.n) if walk.outcome[i] == C.SELECTED]
    amounts = [int(walk.amount[i]) for i in sel]
    total = sum(amounts)
    if total <= budget or total == 0:
        return
    order = walk.column("order")
    shares = [(a * budget) // total for a in amounts]
    rema = [(a * budget) % total for a in amounts]
    left = budget - sum(shares)
    for k in sorted(range(len(sel)), key=lambda k: (-rema[k], order[sel[k]]))[:left]:
        shares[k] += 1
    for i, full, s in zip(sel, amounts, shares):
        walk.amount[i] = s
        walk.reason_code[i] = walk.reason_code[i] or C.BUDGET_CAP
        walk.reason[i] = (walk.reason[i] + " " if walk.reason[i] else "") + (
            f"本轮预算{yuan(budget)}不足以全额支持，按比例核定为{yuan(s)}（全额{yuan(full)}）。"
        )
