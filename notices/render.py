"""Render a result notice from its context: pure, no I/O beyond reading templates.

Templates live in notices/templates/<programme_id>/ with default/ as fallback,
one set per outcome: `<outcome>.subject.j2`, `<outcome>.txt.j2`,
`<outcome>.html.j2`. The words that change with the programme (what its kind
of round does, what the money is called, how the letter names what was applied
for) are macros and tables in `_words.j2`: default/ has them all, a programme
folder's own `_words.j2` replaces only those it defines, and every letter of
that programme (subject, text and HTML alike) uses them as `words`. A letter
whose whole shape differs can still be replaced outcome by outcome.

Templates are compiled once per process (Jinja2 caches them in the
environment) because rendering tens of thousands of notices must cost
microseconds, not milliseconds. StrictUndefined makes a missing context key an
error instead of a silently empty sentence in a letter to an enterprise.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import jinja2
from jinja2.runtime import Macro

TEMPLATE_DIR = Path(__file__).parent / "templates"

#: Notice kinds that are not an outcome; rendered from the same lookup chain.
EXTRA_KINDS: tuple[str, ...] = ("expert_link",)

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


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


def grade_drivers(note: str | None) -> str:
    """What drove a composite grade: the part of `grade_note` after its head and its two parts.

    A note reads "A档（综合得分85.50≥85.00）：指标指数95.83（占60%）、专家评分70.00（占40%）；
    领先指标：…；最弱指标：…"; the letter states the score and the two parts in its
    own words, and quotes the rest ('' when the note has no such part).
    """
    if not note or "；" not in note:
        return ""
    return note.split("；", 1)[1].rstrip("。")


def sentences(reason: str) -> str:
    """A reason made of several sentences, joined the Chinese way (no space after 。)."""
    return reason.replace("。 ", "。").strip()


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
    env.filters.update(yuan=yuan, yuan_upper=yuan_upper, cn_date=cn_date, grade_drivers=grade_drivers,
                       sentences=sentences)
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


@lru_cache(maxsize=64)
def vocabulary(template_dir: str, programme_id: str) -> Mapping[str, Any]:
    """The words of a programme's letters: default/_words.j2, overlaid by <programme_id>/_words.j2.

    A Jinja2 module exports its top-level macros and `set` variables; names
    starting with "_" stay private. The macros take what they need as
    arguments, so one merged mapping serves every letter of the programme.
    A template folder without words (the portal's reminders) gets an empty
    mapping: only letters that use `words` need them.
    """
    env = environment(template_dir)
    words: dict[str, Any] = {}
    for name in ("default/_words.j2", f"{programme_id}/_words.j2"):
        try:
            module = env.get_template(name).module
        except jinja2.TemplateNotFound:
            continue
        words.update((k, _plain(v) if isinstance(v, Macro) else v)
                     for k, v in vars(module).items() if not k.startswith("_"))
    return MappingProxyType(words)


def _plain(macro: Macro) -> Callable[..., str]:
    """A macro of _words.j2 that returns plain text, for the calling letter to escape.

    Called straight from an HTML letter, a macro takes on the letter's
    autoescaping and returns Markup, while its own body (compiled without
    autoescaping, so the text part gets no entities) never escaped the
    application's title: the title would reach the HTML unescaped. Called
    through this wrapper it returns a str, which the HTML letter escapes once.
    """
    def call(*args: Any, **kwargs: Any) -> str:
        return str.__str__(macro(*args, **kwargs))

    return call


_SPACES = re.compile(r"\s+")


def render_notice(context: Mapping[str, Any], *, kind: str | None = None,
                  template_dir: str | Path = TEMPLATE_DIR) -> Rendered:
    """Render one notice. `kind` defaults to the context's outcome.

    Result letters need `round.kind` (scored, composite, filing or claim): it
    decides the words of the letter. The subject is collapsed onto one line: it
    becomes a mail header, where a line break would be a header injection.
    """
    kind = kind or context["outcome"]
    programme_id = context["round"]["programme_id"] if "round" in context else "default"
    subject_t, text_t, html_t = _templates(str(template_dir), str(programme_id), str(kind))
    words = vocabulary(str(template_dir), str(programme_id))
    subject = _SPACES.sub(" ", subject_t.render(context, words=words)).strip()
    return Rendered(
        subject=subject,
        text=text_t.render(context, subject=subject, words=words),
        html=html_t.render(context, subject=subject, words=words),
    )
