"""Cell parsers of the intake: every date, yes/no, money and score form a manager types."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from scoring.intake_values import (
    normalise_credit_code,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_year,
    parse_yuan,
    score_units,
)

NINE_THIRTY = dt.datetime(2026, 7, 1, 9, 30)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-07-01 09:30", NINE_THIRTY),
        ("2026-07-01T09:30:00", NINE_THIRTY),
        ("2026/7/1 9:30", NINE_THIRTY),
        ("2026年7月1日 9:30", NINE_THIRTY),
        ("2026年7月1日9:30", NINE_THIRTY),
        ("2026年7月1日 9时30分", NINE_THIRTY),
        ("2026年7月1日 9点30分", NINE_THIRTY),
        ("２０２６年７月１日　９：３０", NINE_THIRTY),  # full-width digits, colon and space
        ("2026.7.1 09:30", NINE_THIRTY),
        ("2026-07-01 09:30:00", NINE_THIRTY),  # what read_table renders from an Excel datetime
        ("2026-07-01 09:30:15", dt.datetime(2026, 7, 1, 9, 30, 15)),
        ("2026-07-01 09:30:15.250", dt.datetime(2026, 7, 1, 9, 30, 15, 250000)),
        ("2026-07-01", dt.datetime(2026, 7, 1)),
        ("2026/7/1", dt.datetime(2026, 7, 1)),
        ("2026年7月1日", dt.datetime(2026, 7, 1)),
        ("2026-07-01T01:30:00Z", NINE_THIRTY),  # UTC → Beijing time
        ("2026-07-01T09:30:00+08:00", NINE_THIRTY),
        ("2026-07-01T03:30:00+02:00", NINE_THIRTY),
    ],
)
def test_datetime_forms(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text, why",
    [
        ("2026-02-30", "not a real date"),
        ("2026-07-01 25:00", "not a real date"),
        ("07/01/2026", "not a date and time"),
        ("tomorrow", "not a date and time"),
        ("2026-07", "not a date and time"),
        ("46204.39", "not a date and time"),  # an Excel serial typed as a number is not guessed at
    ],
)
def test_datetime_refusals_say_what_is_expected(text, why):
    with pytest.raises(ValueError, match=why) as err:
        parse_datetime(text)
    assert repr(text) in str(err.value)


@pytest.mark.parametrize(
    "text", ["2026-07-01", "2026/7/1", "2026年7月1日", "2026.07.01", "2026-07-01 00:00:00", "2026-07-01 13:45:00"]
)
def test_date_forms_ignore_a_time_part(text):
    assert parse_date(text) == dt.date(2026, 7, 1)


def test_date_refusal():
    with pytest.raises(ValueError, match="is not a date"):
        parse_date("1 July 2026")


@pytest.mark.parametrize("text", ["是", "有", "true", "TRUE", "True", "yes", "Yes", "Y", "y", "1", "√", "ｙｅｓ"])
def test_true_forms(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["否", "无", "false", "FALSE", "no", "No", "N", "n", "0", "×"])
def test_false_forms(text):
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["maybe", "2", "是的吧", ""])
def test_bool_refusal(text):
    with pytest.raises(ValueError, match="not yes or no"):
        parse_bool(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("200000", 200000),
        ("200,000", 200000),
        ("200000.00", 200000),
        ("200,000.00", 200000),
        ("1,234,567", 1234567),
        ("¥200,000", 200000),
        ("￥200,000", 200000),
        ("200000元", 200000),
        ("20万", 200000),
        ("20.5万元", 205000),
        ("２００，０００", 200000),  # full-width digits and comma
        ("0", 0),
    ],
)
def test_yuan_forms(text, expected):
    value = parse_yuan(text)
    assert value == expected and type(value) is int


@pytest.mark.parametrize(
    "text, why",
    [
        ("200000.5", "fraction of a yuan"),
        ("200000.01", "fraction of a yuan"),
        ("20.00001万", "fraction of a yuan"),
        ("-1", "negative"),
        ("abc", "not an amount"),
        ("1,2000", "not an amount"),  # misplaced thousands separator
        ("2e5", "not an amount"),
    ],
)
def test_yuan_refusals(text, why):
    with pytest.raises(ValueError, match=why):
        parse_yuan(text)


def test_int_forms_and_refusals():
    assert parse_int("120") == 120
    assert parse_int("1,200") == 1200
    assert parse_int("120.0") == 120
    assert parse_int("-3") == -3
    for bad in ("12.5", "twelve", ""):
        with pytest.raises(ValueError, match="not a whole number"):
            parse_int(bad)


def test_decimal_is_exact():
    assert parse_decimal("12.5") == Decimal("12.5")
    assert parse_decimal("0.1") + parse_decimal("0.2") == Decimal("0.3")
    assert parse_decimal("1,234.5") == Decimal("1234.5")
    assert parse_decimal("-3") == Decimal(-3)
    assert parse_decimal(".5") == Decimal("0.5")
    assert parse_decimal("96.5%") == Decimal("0.965")  # as Excel stores a percentage
    assert parse_decimal("100%") == Decimal(1)
    for bad in ("1e3", "%", "95%%", "1.2.3", ""):
        with pytest.raises(ValueError, match="not a number"):
            parse_decimal(bad)


@pytest.mark.parametrize(
    "text, decimals, units",
    [
        ("8.5", 2, 850),
        ("8.55", 2, 855),  # as a float 8.55 * 100 is 854.9999…; here it is exact
        ("8.50", 1, 85),  # trailing zeros are not decimal places
        ("8.0", 0, 8),
        ("20", 0, 20),
        ("20", 2, 2000),
        (".5", 2, 50),
        ("0", 2, 0),
        ("８.５", 2, 850),
        ("+7", 1, 70),
        ("-1", 2, -100),  # parsed, so that the range check can name it
    ],
)
def test_score_units_exact(text, decimals, units):
    assert score_units(text, decimals) == units


@pytest.mark.parametrize(
    "text, decimals, why",
    [
        ("8.555", 2, "3 decimal places; scores have at most 2"),
        ("8.5", 0, "scores have no decimal places"),
        ("1e1", 2, "not a number"),
        ("8,5", 2, "not a number"),
        ("八", 2, "not a number"),
        ("", 2, "not a number"),
    ],
)
def test_score_units_refusals(text, decimals, why):
    with pytest.raises(ValueError, match=why):
        score_units(text, decimals)


def test_credit_code_normalisation_does_not_check_the_check_character():
    assert normalise_credit_code(" ９１３５０１００ｍａ３２ ") == "91350100MA32"
    assert normalise_credit_code("91350100 ma2xyz1234") == "91350100MA2XYZ1234"
    assert normalise_credit_code("") == ""
    assert normalise_credit_code("NOT-A-CODE") == "NOT-A-CODE"  # judged by formal review, not here


def test_year():
    assert parse_year("2025") == 2025
    assert parse_year("2025年") == 2025
    assert parse_year("2025.0") == 2025
    for bad in ("25", "abc", "3000"):
        with pytest.raises(ValueError):
            parse_year(bad)
