"""Formal review (形式审查): which applications may be scored at all.

Each rule is a named, vectorised check returning, per application, the reason it
fails in plain words ("" when it passes). A programme lists the rules it applies,
in order; the first failing rule gives the reason code, and every failing rule
is named in the reason so an applicant learns everything at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from scoring import columns as C
from scoring.rules import Programme, RoundConfig
from scoring.uscc import uscc_problem

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class ReviewContext:
    programme: Programme
    config: RoundConfig
    excluded_products: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Rule:
    """A formal-review rule: its reason code and its vectorised check."""

    code: str
    label: str
    check: Callable[[pd.DataFrame, ReviewContext], pd.Series]


def email_problem(address: str) -> str:
    if not address:
        return "未填写联系邮箱"
    if len(address) > 254 or not _EMAIL.match(address):
        return f"联系邮箱“{address}”格式不正确，无法投递"
    return ""


def _credit_code(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    return subs[C.CREDIT_CODE].map(uscc_problem)


def _contact_email(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    return subs[C.CONTACT_EMAIL].map(email_problem)


def _call_window(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    window = ctx.config.call_window
    if window is None:
        return pd.Series("", index=subs.index, dtype=object)
    opens, closes = pd.Timestamp(window.opens), pd.Timestamp(window.closes)
    at = subs[C.SUBMITTED_AT]
    out = pd.Series("", index=subs.index, dtype=object)
    early = at < opens
    late = at > closes
    fmt = "%Y-%m-%d %H:%M"
    out[early] = [f"提交时间{t:{fmt}}早于申报开始时间{opens:{fmt}}" for t in at[early]]
    out[late] = [f"提交时间{t:{fmt}}晚于申报截止时间{closes:{fmt}}" for t in at[late]]
    return out


RULES: dict[str, Rule] = {
    "credit_code": Rule("INELIGIBLE_CREDIT_CODE", "统一社会信用代码有效", _credit_code),
    "contact_email": Rule("INELIGIBLE_CONTACT_EMAIL", "联系邮箱有效", _contact_email),
    "call_window": Rule("INELIGIBLE_CALL_WINDOW", "在申报期内提交", _call_window),
}


def review(subs: pd.DataFrame, ctx: ReviewContext) -> pd.DataFrame:
    """Apply the programme's rules; one row per application, same index as `subs`.

    Columns: eligible (bool), reason_code, reason, failed_rules (";"-joined rule names).
    """
    names = ctx.programme.eligibility.rules
    failures = {name: RULES[name].check(subs, ctx).astype(object) for name in names}
    out = pd.DataFrame(index=subs.index)
    codes, reasons, failed = [], [], []
    for ix in subs.index:
        failing = [n for n in names if failures[n].at[ix]]
        failed.append(";".join(failing))
        if failing:
            codes.append(RULES[failing[0]].code)
            reasons.append("；".join(failures[n].at[ix] for n in failing) + "。")
        else:
            codes.append("")
            reasons.append("")
    out[C.ELIGIBLE] = [not f for f in failed]
    out[C.REASON_CODE] = codes
    out[C.REASON] = reasons
    out["failed_rules"] = failed
    return out
