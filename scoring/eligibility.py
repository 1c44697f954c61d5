"""Formal review (形式审查): which applications may be scored at all.

Each rule is a named, vectorised check returning, per application, the reason it
fails in plain words ("" when it passes). A programme lists the rules it applies,
in order; the first failing rule gives the reason code, and every failing rule
is named in the reason so an applicant learns everything at once. A rule names
the submission columns it reads (`needs`), so a programme file that lists a rule
without declaring its column is refused when it is loaded.

Every number a rule compares with (the minimum units in use, the similarity
threshold) comes from the programme file; the round's year from round.toml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from scoring import columns as C
from scoring.rules import Programme, RoundConfig
from scoring.uscc import uscc_problems

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
    needs: dict[str, str] = field(default_factory=dict)  # column id → column type


def email_problem(address: str) -> str:
    if not address:
        return "未填写联系邮箱"
    if len(address) > 254 or not _EMAIL.match(address):
        return f"联系邮箱“{address}”格式不正确，无法投递"
    return ""


def _credit_code(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    return pd.Series(uscc_problems(subs[C.CREDIT_CODE].tolist()), index=subs.index, dtype=object)


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


def _failing(mask: pd.Series, messages: list[str] | str) -> pd.Series:
    """A reason per application: `messages` where `mask` holds, "" elsewhere."""
    out = pd.Series("", index=mask.index, dtype=object)
    out[mask.to_numpy(dtype=bool)] = messages
    return out


def _is_false(values: pd.Series) -> pd.Series:
    """True where a yes/no column is not "yes" (no, or missing)."""
    return ~values.astype("boolean").fillna(False).astype(bool)


def _own_ip(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    return _failing(_is_false(subs["own_ip"]), "申报材料表明该产品不具有自主知识产权")


def _self_produced(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    return _failing(_is_false(subs["self_produced"]), "申报材料表明该产品并非由申报企业自行研发、生产")


def _at_scale(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    need = ctx.programme.eligibility.min_fuzhou_units
    units = subs["fuzhou_units"].astype("Int64")
    short = (units < need).fillna(True)
    return _failing(
        short,
        [f"该产品在本市应用{'未填写' if pd.isna(u) else f'{int(u)}台（套）'}，未达到规模化应用要求的{need}台（套）"
         for u in units[short.to_numpy(dtype=bool)]],
    )


LEVEL_ZH = {"national": "国家级", "provincial": "省级"}


def _not_excluded(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    """Same credit code and the same or a near-identical product name as a listed product."""
    from scoring.similarity import match_by_code_and_name  # scikit-learn only when a list is checked

    out = pd.Series("", index=subs.index, dtype=object)
    listing = ctx.excluded_products
    if listing is None or listing.empty or subs.empty:
        return out
    pairs = match_by_code_and_name(
        subs, C.CREDIT_CODE, "product_name", listing, C.CREDIT_CODE, C.PRODUCT_NAME,
        ctx.programme.eligibility.similarity_threshold,
    )
    for item, grp in pairs.groupby("item", sort=False):
        best = grp.sort_values(["similarity", "listing"], ascending=[False, True], kind="stable").iloc[0]
        hit = listing.loc[best["listing"]]
        level = LEVEL_ZH.get(str(hit[C.LEVEL]), str(hit[C.LEVEL]))
        out[item] = (
            f"该产品与已入选{hit[C.YEAR]}年{level}名单的“{hit[C.PRODUCT_NAME]}”为同一或高度近似产品"
            f"（名称相似度{best['similarity']:.2f}），按政策规定与国家级、省级入选产品不重复奖励"
        )
    return out


def _recognised(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    return _failing(_is_false(subs["recognised"]), "该平台尚未被认定为公共服务平台或概念验证中心")


def _date_in_year(column: str, what: str) -> Callable[[pd.DataFrame, ReviewContext], pd.Series]:
    def check(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
        year = ctx.config.year
        dates = pd.to_datetime(subs[column])
        outside = (dates.dt.year != year) | dates.isna()
        return _failing(
            outside,
            [f"{what}{'未填写' if pd.isna(d) else f'为{d:%Y-%m-%d}'}，不在本年度（{year}年）内" for d in dates[outside]],
        )

    return check


def _provincial_award(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    amounts = subs["provincial_award_yuan"].astype("Int64")
    return _failing((amounts <= 0).fillna(True), "未获得省级研发经费投入奖补，市级配套无所依据")


def _certified(subs: pd.DataFrame, ctx: ReviewContext) -> pd.Series:
    n = subs["certificates"].astype("Int64")
    return _failing((n <= 0).fillna(True), "申报取得职业技能等级证书的人数为0，没有可补贴的证书")


RULES: dict[str, Rule] = {
    "credit_code": Rule("INELIGIBLE_CREDIT_CODE", "统一社会信用代码有效", _credit_code),
    "contact_email": Rule("INELIGIBLE_CONTACT_EMAIL", "联系邮箱有效", _contact_email),
    "call_window": Rule("INELIGIBLE_CALL_WINDOW", "在申报期内提交", _call_window),
    # hardware (measure 九)
    "own_ip": Rule("INELIGIBLE_OWN_IP", "具有自主知识产权", _own_ip, {"own_ip": "bool"}),
    "self_produced": Rule("INELIGIBLE_SELF_PRODUCED", "由申报企业研发生产", _self_produced, {"self_produced": "bool"}),
    "at_scale": Rule("INELIGIBLE_AT_SCALE", "在本市实现规模化应用", _at_scale, {"fuzhou_units": "int"}),
    "not_excluded": Rule(C.EXCLUDED_LISTED, "未入选国家级或省级名单", _not_excluded, {"product_name": "text"}),
    # platform (measure 二)
    "recognised": Rule("INELIGIBLE_RECOGNISED", "已认定的公共服务平台或概念验证中心", _recognised, {"recognised": "bool"}),
    # model_filing (measure 一), poc_new (measure 二)
    "filed_in_year": Rule(
        "INELIGIBLE_FILED_IN_YEAR", "本年度新通过备案或登记", _date_in_year("filed_on", "备案（登记）日期"), {"filed_on": "date"}
    ),
    "recognised_in_year": Rule(
        "INELIGIBLE_RECOGNISED_IN_YEAR", "本年度新认定", _date_in_year("recognised_on", "认定日期"), {"recognised_on": "date"}
    ),
    # rd_matching (measure 二)
    "provincial_award": Rule(
        "INELIGIBLE_PROVINCIAL_AWARD", "已获省级研发经费投入奖补", _provincial_award, {"provincial_award_yuan": "yuan"}
    ),
    # skills_training (measure 八)
    "certified": Rule("INELIGIBLE_CERTIFIED", "取得职业技能等级证书", _certified, {"certificates": "int"}),
}


def review(subs: pd.DataFrame, ctx: ReviewContext) -> pd.DataFrame:
    """Apply the programme's rules; one row per application, same index as `subs`.

    Columns: eligible (bool), reason_code, reason, failed_rules (";"-joined rule names).
    """
    names = ctx.programme.eligibility.rules
    failures = {name: RULES[name].check(subs, ctx).astype(object).to_numpy() for name in names}
    any_failed = np.zeros(len(subs), dtype=bool)
    for texts in failures.values():
        any_failed |= texts != ""
    out = pd.DataFrame(index=subs.index)
    codes = np.full(len(subs), "", dtype=object)
    reasons = np.full(len(subs), "", dtype=object)
    failed = np.full(len(subs), "", dtype=object)
    for i in np.flatnonzero(any_failed):  # only the (few) ineligible rows are visited
        failing = [n for n in names if failures[n][i]]
        failed[i] = ";".join(failing)
        codes[i] = RULES[failing[0]].code
        reasons[i] = "；".join(failures[n][i] for n in failing) + "。"
    out[C.ELIGIBLE] = ~any_failed
    out[C.REASON_CODE] = codes
    out[C.REASON] = reasons
    out["failed_rules"] = failed
    return out


def rule_label(reason_code: str) -> str:
    """The plain-language name of the rule behind an ineligibility reason code ("" if none), for notices."""
    for rule in RULES.values():
        if rule.code == reason_code:
            return rule.label
    return ""
