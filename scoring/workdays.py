"""Working days for the 公示 window: PRC public holidays and 调休 (make-up working days).

A `WorkCalendar` is plain data: the holidays and the make-up working days it
knows, and the years it covers. Outside the covered years it falls back to
Monday–Friday and says so (`covers`), so the shell can warn the manager to add
a holidays file for that year.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)  # 调休: weekend days that are worked
    years: frozenset[int] = field(default_factory=frozenset)

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def merged(self, other: "WorkCalendar") -> "WorkCalendar":
        """`other` wins for the years it covers."""
        keep = lambda days: frozenset(d for d in days if d.year not in other.years)  # noqa: E731
        return WorkCalendar(
            holidays=keep(self.holidays) | other.holidays,
            workdays=keep(self.workdays) | other.workdays,
            years=self.years | other.years,
        )


def publicity_window(start: dt.date, working_days: int, calendar: WorkCalendar) -> tuple[dt.date, dt.date]:
    """First and last day of a window of `working_days` working days beginning on `start`.

    The start day counts when it is a working day; otherwise the window opens on
    the next working day.
    """
    if working_days < 1:
        raise ValueError("a window has at least one working day")
    day = start
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    first = day
    counted = 1
    while counted < working_days:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return first, day


def uncovered_years(start: dt.date, end: dt.date, calendar: WorkCalendar) -> list[int]:
    return [y for y in range(start.year, end.year + 1) if y not in calendar.years]
