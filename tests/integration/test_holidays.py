"""公示 windows across years chinese-calendar does not know: a warning until holidays.toml covers them."""
from __future__ import annotations

import datetime as dt

import pytest

from flows.holidays import builtin_calendar, load_holidays_file, work_calendar
from scoring.errors import ConfigError
from scoring.workdays import publicity_window, uncovered_years


def test_window_over_new_year_2027_is_flagged_until_a_file_covers_it(tmp_path):
    cal = work_calendar(tmp_path)
    first, last = publicity_window(dt.date(2026, 12, 30), 5, cal)
    assert uncovered_years(first, last, cal) == [2027]
    # without data 2027-01-01 (a Friday) counts as a working day
    assert last == dt.date(2027, 1, 5)

    (tmp_path / "holidays.toml").write_text(
        "[2027]\nholidays = [2027-01-01]\nworkdays = [2027-01-09]\n", encoding="utf-8")
    cal = work_calendar(tmp_path)
    first, last = publicity_window(dt.date(2026, 12, 30), 5, cal)
    assert uncovered_years(first, last, cal) == []
    assert last == dt.date(2027, 1, 6)  # 12-30, 12-31, (01-01 off), 01-04, 01-05, 01-06
    # a file's year replaces chinese-calendar's: the make-up Saturday is a working day
    assert cal.is_workday(dt.date(2027, 1, 9))


def test_builtin_calendar_knows_2026_national_day():
    cal = builtin_calendar()
    assert not cal.is_workday(dt.date(2026, 10, 1))
    assert publicity_window(dt.date(2026, 9, 30), 5, cal) == (dt.date(2026, 9, 30), dt.date(2026, 10, 12))


@pytest.mark.parametrize("text, message", [
    ("[2027]\nholidays = [2028-01-01]\n", "not in 2027"),
    ("[2027]\nholiday = [2027-01-01]\n", "unknown keys"),
    ("[next]\nholidays = []\n", "tables named by year"),
    ("[2027]\nholidays = ['2027-01-01']\n", "is not a date"),
])
def test_a_mistake_in_the_holidays_file_is_named(tmp_path, text, message):
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_holidays_file(path, "holidays.toml")
