"""Render a result notice from its context: pure, no I/O beyond reading templates.

Templates live in notices/templates/<programme_id>/ with default/ as fallback,
one set per outcome: `<outcome>.subject.j2`, `<outcome>.txt.j2`,
`<outcome>.html.j2`. They are compiled once per process (Jinja2 caches them in
the environment) because rendering tens of thousands of notices must cost
microseconds, not milliseconds. StrictUndefined makes a missing context key an
error instead of a silently empty sentence in a letter to an enterprise.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"

#: Notice kinds that are not an outcome; rendered from the same lookup chain.
EXTRA_KINDS: tuple[str, ...] = ("expert_link",)

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")

#: The formal-review rule behind each ineligibility reason code, in the words of
#: the call for applications; unknown codes fall back to the reason sentence.
RULE_NAMES: dict[str, str] = {
    "INELIGIBLE_CREDIT_CODE": "统一社会信用代码校验（GB 32100-2015）",
    "INELIGIBLE_CONTACT_EMAIL": "联系人电子邮箱有效性",
    "INELIGIBLE_CALL_WINDOW": "申报时间须在申报期内",
    "INELIGIBLE_OWN_IP": "拥有自主知识产权",
    "INELIGIBLE_SELF_PRODUCED": "由申报单位自主研发生产",
    "INELIGIBLE_AT_SCALE": "在福州规模化应用",
    "INELIGIBLE_RECOGNISED": "已获认定的公共服务平台或概念验证中心",
    "INELIGIBLE_FILED_ON": "备案（登记）时间须在本年度内",
    "EXCLUDED_LISTED": "未入选国家级或省级同类名单",
}


@dataclass(frozen=True)
class Rendered:
    """One rendered notice: a one-line subject and the two body parts."""

    subject: str
    text: str
    html: str


def yuan(amount: int) -> str:
    """200000 -> '200,000元' (money is integer yuan everywhere)."""
    return f"{int(amount):,}元"


def yuan_upper(amount: int) -> str:
    """Integer yuan in financial capitals, as written on official letters.

    200000 -> '贰拾万元整', 1050000 -> '壹佰零伍万元整', 100100 -> '壹拾万零壹佰元整'.
    """
    amount = int(amount)
    if amount < 0:
        raise ValueError(f"negative amount {amount}")
    if amount == 0:
        return "零元整"
    groups: list[int] = []
    while amount:
        groups.append(amount % 10000)
        amount //= 10000
    if len(groups) > len(_BIG_UNITS):
        raise ValueError("amount too large")
    out = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out += "零"
        out += _group_upper(group) + _BIG_UNITS[index]
        need_zero = False
    return out + "元整"


def _group_upper(group: int) -> str:
    """A number 1..9999 in capitals, with inner zeros collapsed ('壹仟零伍')."""
    digits = f"{group:04d}"
    out = ""
    zero = False
    started = False
    for pos, ch in enumerate(digits):
        d = int(ch)
        unit = _SMALL_UNITS[3 - pos]
        if d == 0:
            zero = started
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
        started = True
    return out


def cn_date(iso: str | dt.date) -> str:
    """'2026-07-15' -> '2026年7月15日', the date line of an official letter."""
    day = iso if isinstance(iso, dt.date) else dt.date.fromisoformat(str(iso))
    return f"{day.year}年{day.month}月{day.day}日"


def rule_name(reason_code: str) -> str:
    return RULE_NAMES.get(reason_code, "")


@lru_cache(maxsize=4)
def environment(template_dir: str = str(TEMPLATE_DIR)) -> jinja2.Environment:
    """One environment per template folder; Jinja2 caches compiled templates in it.

    Autoescape applies to `.html.j2` only: the plain-text part and the subject
    must not contain HTML entities.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters.update(yuan=yuan, yuan_upper=yuan_upper, cn_date=cn_date, rule_name=rule_name)
    return env


@lru_cache(maxsize=256)
def _templates(template_dir: str, programme_id: str, kind: str) -> tuple[jinja2.Template, ...]:
    """The (subject, text, html) templates for a programme and kind, looked up once."""
    env = environment(template_dir)
    found = []
    for part in ("subject", "txt", "html"):
        names = [f"{programme_id}/{kind}.{part}.j2", f"default/{kind}.{part}.j2"]
        try:
            found.append(env.select_template(names))
        except jinja2.TemplatesNotFound as exc:
            raise LookupError(f"no {part} template for notice kind {kind!r}: tried {', '.join(names)}") from exc
    return tuple(found)


_SPACES = re.compile(r"\s+")


def render_notice(context: Mapping[str, Any], *, kind: str | None = None,
                  template_dir: str | Path = TEMPLATE_DIR) -> Rendered:
    """Render one notice. `kind` defaults to the context's outcome.

    The subject is collapsed onto one line: it becomes a mail header, where a
    line break would be a header injection.
    """
    kind = kind or context["outcome"]
    programme_id = context["round"]["programme_id"] if "round" in context else "default"
    subject_t, text_t, html_t = _templates(str(template_dir), str(programme_id), str(kind))
    subject = _SPACES.sub(" ", subject_t.render(context)).strip()
    return Rendered(
        subject=subject,
        text=text_t.render(context, subject=subject),
        html=html_t.render(context, subject=subject),
    )
