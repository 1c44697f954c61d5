"""Parsers for single cell values, as a programme manager types them.

Each parser takes one stripped cell string and returns the typed value, or
raises `ValueError` whose message says, in plain words, what was expected. The
frame-level validation in `scoring.intake` applies them once per *distinct*
value, so a column of 500,000 scores costs only as many calls as there are
different scores.

Numbers are read from their decimal text, never through float, so that
"8.55" is exactly 855 hundredths: scores and yuan decide public money.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

_WS = re.compile(r"\s+")

# --- text -----------------------------------------------------------------------


def half_width(text: str) -> str:
    """Full-width letters, digits and punctuation (Ａ１：) to their ASCII forms (A1:).

    NFKC also folds the ideographic space and other compatibility forms, which
    is what a code or a number typed with a Chinese input method needs.
    """
    return unicodedata.normalize("NFKC", text)


def normalise_credit_code(text: str) -> str:
    """A 统一社会信用代码 as the system compares it: half-width, no spaces, upper case.

    The check character is not verified here: an invalid code is a formal-review
    outcome (`INELIGIBLE_CREDIT_CODE`), not an input error.
    """
    if text.isascii() and text.isalnum():  # the usual code: NFKC leaves ASCII as it is, and there is no space
        return text.upper()
    return _WS.sub("", half_width(text)).upper()


# --- numbers ----------------------------------------------------------------------

_NUMBER = re.compile(r"^[+]?(\d+)(?:\.(\d*))?$|^[+]?\.(\d+)$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def parse_decimal(text: str) -> Decimal:
    """A decimal number such as 12, -3.5, 1,234.5 or 96.5% (exact).

    A percent sign divides by 100, as in Excel: a cell formatted as 96.5% holds
    0.965, and the same sheet saved as CSV writes "96.5%"; both read as 0.965.
    """
    s = half_width(text).replace(" ", "")
    if s.endswith("%") and s[:-1] and not s[:-1].endswith("%"):
        return parse_decimal(s[:-1]).scaleb(-2)
    neg = s.startswith("-")
    body = s[1:] if neg or s.startswith("+") else s
    if _GROUPED.match(body):
        body = body.replace(",", "")
    if not _NUMBER.match(body):
        raise ValueError(f"{text!r} is not a number (write digits, e.g. 12.5)")
    value = Decimal(body)
    return -value if neg else value


def parse_int(text: str) -> int:
    """A whole number such as 120, 1,200 or 120.0."""
    try:
        value = parse_decimal(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


_YUAN_PREFIX = ("¥", "￥", "RMB", "CNY")


def parse_yuan(text: str) -> int:
    """A non-negative amount in whole yuan: 200000, 200,000, 200000.00, ¥200,000元, 20万.

    Fractional yuan are refused rather than rounded: money is integer yuan.
    """
    s = half_width(text).replace(" ", "")
    for p in _YUAN_PREFIX:
        if s.upper().startswith(p):
            s = s[len(p):]
            break
    s = s.removesuffix("元")
    factor = 1
    if s.endswith("万"):
        s, factor = s[:-1], 10_000
    try:
        value = parse_decimal(s) * factor
    except ValueError:
        raise ValueError(f"{text!r} is not an amount in yuan (write e.g. 200000 or 200,000)") from None
    if value < 0:
        raise ValueError(f"{text!r} is negative; an amount in yuan cannot be")
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} has a fraction of a yuan; amounts are whole yuan")
    return int(value)


def score_units(text: str, decimals: int) -> int:
    """A score as an exact integer of 10**-decimals points ("8.5", 2 → 850).

    Trailing zeros do not count as decimal places ("8.50" is 8.5); a negative
    score is returned as such so that the range check can name it.
    """
    s = half_width(text).replace(" ", "")
    neg = s.startswith("-")
    m = _NUMBER.match(s[1:] if neg else s)
    if not m:
        raise ValueError(f"score {text!r} is not a number")
    whole, frac = (m.group(1) or "0"), (m.group(2) if m.group(1) is not None else m.group(3)) or ""
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        allowed = "no decimal places" if decimals == 0 else f"at most {decimals} decimal place(s)"
        raise ValueError(f"score {text!r} has {len(frac)} decimal places; scores have {allowed}")
    units = int(whole) * 10**decimals + (int(frac.ljust(decimals, "0")) if decimals else 0)
    return -units if neg else units


# --- booleans -----------------------------------------------------------------------

TRUE_WORDS = frozenset({"是", "有", "true", "yes", "y", "1", "t", "√", "✓"})
FALSE_WORDS = frozenset({"否", "无", "false", "no", "n", "0", "f", "×", "✗"})


def parse_bool(text: str) -> bool:
    """是/否, true/false, yes/no, Y/N, 1/0 (any case) → True/False."""
    s = half_width(text).strip().lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not yes or no (write 是 or 否, true or false)")


# --- dates and times -------------------------------------------------------------------

_DATE = r"(?P<y>\d{4})\s*(?:-|/|\.|年)\s*(?P<m>\d{1,2})\s*(?:-|/|\.|月)\s*(?P<d>\d{1,2})\s*日?"
_TIME = (
    r"(?P<H>\d{1,2})\s*(?::|时|点)\s*(?P<M>\d{1,2})"
    r"(?:\s*(?::|分)\s*(?P<S>\d{1,2})(?:\.(?P<f>\d{1,6})\d*)?\s*秒?|\s*分)?"
)
_TZ = r"(?P<tz>Z|[+-]\d{2}:?\d{2})"
_DATETIME = re.compile(rf"^{_DATE}(?:(?:T|\s*)(?:{_TIME})(?:\s*{_TZ})?)?$")
BEIJING = dt.timezone(dt.timedelta(hours=8))

DATETIME_FORMS = "2026-07-01 09:30, 2026/7/1 9:30, 2026年7月1日 9:30, 2026-07-01T09:30:00 or 2026-07-01"


def _datetime(text: str) -> dt.datetime | None:
    """The datetime `text` names, None when it is in no known form.

    Raises ValueError for a well-formed but impossible value (2026-02-30).
    """
    m = _DATETIME.match(half_width(text).strip())
    if not m:
        return None
    g = m.groupdict()
    try:
        value = dt.datetime(
            int(g["y"]), int(g["m"]), int(g["d"]),
            int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0),
            int((g["f"] or "0").ljust(6, "0")),
        )
    except ValueError:
        raise ValueError(f"{text!r} is not a real date or time") from None
    if g["tz"]:
        tz = g["tz"]
        offset = dt.timedelta(0)
        if tz != "Z":
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            offset = -offset if tz[0] == "-" else offset
        value = value.replace(tzinfo=dt.timezone(offset)).astimezone(BEIJING).replace(tzinfo=None)
    return value


def parse_datetime(text: str) -> dt.datetime:
    """A date with an optional time, in the ISO and Chinese forms people type.

    A time-zone offset is converted to Beijing time and dropped: call windows
    and submissions are compared as naive Beijing local time.
    """
    value = _datetime(text)
    if value is None:
        raise ValueError(f"{text!r} is not a date and time (write e.g. {DATETIME_FORMS})")
    return value


def parse_date(text: str) -> dt.date:
    """A date (2026-07-01, 2026/7/1, 2026年7月1日); a time part, as Excel may add, is ignored."""
    value = _datetime(text)
    if value is None:
        raise ValueError(f"{text!r} is not a date (write e.g. 2026-07-01, 2026/7/1 or 2026年7月1日)")
    return value.date()


def parse_year(text: str) -> int:
    """A calendar year such as 2025 or 2025年."""
    s = half_width(text).strip().removesuffix("年")
    try:
        year = parse_int(s)
    except ValueError:
        raise ValueError(f"{text!r} is not a year (write e.g. 2025)") from None
    if not 1949 <= year <= 2100:
        raise ValueError(f"{text!r} is not a plausible year")
    return year
