"""The working-day calendar used for 公示: chinese-calendar's data plus an editable file.

chinese-calendar ships PRC holidays and 调休 only for the years it knows (through
2026 at the time of writing). For later years a manager keeps `holidays.toml`
(in the workspace, or under ROUNDS_HOME for every round):

    [2027]
    holidays = [2027-01-01, 2027-02-06, ...]
    workdays = [2027-02-14]          # 调休: weekend days worked

A year in that file replaces chinese-calendar's data for that year.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows.workspace import read_toml
from scoring.errors import ConfigError
from scoring.workdays import WorkCalendar


def builtin_calendar() -> WorkCalendar:
    import chinese_calendar

    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    years: set[int] = set()
    for day in chinese_calendar.constants.holidays:
        holidays.add(day)
        years.add(day.year)
    for day in chinese_calendar.constants.workdays:
        workdays.add(day)
        years.add(day.year)
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))


def load_holidays_file(path: Path, label: str) -> WorkCalendar:
    data = read_toml(path, label)
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    years: set[int] = set()
    for key, table in data.items():
        if not (isinstance(key, str) and key.isdigit() and isinstance(table, dict)):
            raise ConfigError(f"{label}: expected tables named by year like [2027], found {key!r}")
        year = int(key)
        unknown = set(table) - {"holidays", "workdays"}
        if unknown:
            raise ConfigError(f"{label}: [{key}] has unknown keys {sorted(unknown)}; valid: holidays, workdays")
        for kind, target in (("holidays", holidays), ("workdays", workdays)):
            for day in table.get(kind, []):
                if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                    raise ConfigError(f"{label}: [{key}] {kind}: {day!r} is not a date like 2027-01-01")
                if day.year != year:
                    raise ConfigError(f"{label}: [{key}] {kind}: {day} is not in {year}")
                target.add(day)
        years.add(year)
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))


def work_calendar(*folders: Path) -> WorkCalendar:
    """chinese-calendar, overlaid by holidays.toml from each folder given (later wins)."""
    cal = builtin_calendar()
    for folder in folders:
        path = folder / "holidays.toml"
        if path.is_file():
            cal = cal.merged(load_holidays_file(path, str(path)))
    return cal
