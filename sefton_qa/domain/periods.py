"""Reporting periods: calendar months and quarters, the period a period is compared with, and
the periods of its trend. Pure date arithmetic, used by the summary, the pack, the command line
and the report dialog alike (issue 16, item 2).

The rule:

* A period of whole calendar months (it starts on the 1st and ends on a month's last day) is
  compared with the same number of whole months just before it: May–July 2024 with
  February–April 2024, March 2024 with February 2024.
* Any other period is compared with the period of the same number of days just before it.
* The trend uses the same units, stepping back from the period it is compared with: 12 months
  for a one-month period, else 8 periods (8 quarters for a quarter).

Dates are ``datetime.date``; a period is a ``(start, end)`` pair, both days included.
"""

from __future__ import annotations

import datetime as dt
import re

DateRange = tuple[dt.date, dt.date]

#: How many periods the trend shows (this one last) for one-month periods, and for others.
TREND_MONTHS = 12
TREND_PERIODS = 8

#: How the previous period was chosen: whole calendar months, equal days, or by hand.
CALENDAR = "calendar months"
EQUAL_DAYS = "equal days"
CHOSEN = "chosen"

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


class PeriodError(ValueError):
    """A period that cannot be made (a bad preset, or no period before the year 1)."""


def month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _from_index(index: int) -> tuple[int, int]:
    year, month0 = divmod(index, 12)
    return year, month0 + 1


def months(first: dt.date, count: int) -> DateRange:
    """``count`` whole months starting with the month holding ``first``."""
    if count < 1:
        raise PeriodError("a period needs at least one month")
    start_index = _month_index(first)
    year, month = _from_index(start_index + count - 1)
    if year < 1:
        raise PeriodError("there is no period before the year 1")
    try:
        return dt.date(*_from_index(start_index), 1), month_end(year, month)
    except (ValueError, OverflowError):
        raise PeriodError("that period is outside the calendar") from None


def whole_months(start: dt.date, end: dt.date) -> int | None:
    """How many whole calendar months [start, end] is, or None when it is not whole months."""
    if end < start or start.day != 1 or end != month_end(end.year, end.month):
        return None
    return _month_index(end) - _month_index(start) + 1


def month_period(text: str) -> DateRange:
    """"2024-05" → 1 to 31 May 2024."""
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise PeriodError(f'"{text}" is not a month in the form YYYY-MM (e.g. 2024-05)')
    return months(dt.date(int(m.group(1)), int(m.group(2)), 1), 1)


def quarter_period(text: str) -> DateRange:
    """"2024Q2" (or "2024-Q2") → the calendar quarter 1 April to 30 June 2024. Calendar
    quarters are January–March (Q1), April–June (Q2), July–September (Q3), October–December
    (Q4); the council's financial-year quarters are the same months."""
    m = _QUARTER.match(text)
    if not m or int(m.group(1)) < 1:
        raise PeriodError(f'"{text}" is not a quarter in the form YYYYQn (e.g. 2024Q2 for '
                          "April to June 2024)")
    return months(dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1), 3)


def quarter_of(day: dt.date) -> DateRange:
    """The calendar quarter holding ``day``."""
    return months(dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), 3)


def month_of(day: dt.date) -> DateRange:
    return months(day, 1)


def previous_period(start: dt.date, end: dt.date) -> DateRange:
    """The period [start, end] is compared with (see the module's rule)."""
    if end < start:
        raise PeriodError("the period ends before it starts")
    return _step_back(start, end, whole_months(start, end))


def _step_back(start: dt.date, end: dt.date, count: int | None) -> DateRange:
    """``count`` whole months just before ``start``; or, with None, as many days as
    [start, end] just before it."""
    if count is not None:
        year, month = _from_index(_month_index(start) - count)
        if year < 1:
            raise PeriodError("there is no period before the year 1")
        return months(dt.date(year, month, 1), count)
    length = (end - start).days
    try:
        prev_end = start - dt.timedelta(days=1)
        return prev_end - dt.timedelta(days=length), prev_end
    except OverflowError:
        raise PeriodError("there is no period before the year 1") from None


def comparison(start: dt.date, end: dt.date, previous: DateRange) -> str:
    """CALENDAR, EQUAL_DAYS or CHOSEN: how ``previous`` relates to [start, end]."""
    try:
        rule = previous_period(start, end)
    except PeriodError:
        return CHOSEN
    if tuple(previous) != rule:
        return CHOSEN
    return CALENDAR if whole_months(start, end) is not None else EQUAL_DAYS


def trend_length(start: dt.date, end: dt.date) -> int:
    """12 for a one-month period, else 8."""
    return TREND_MONTHS if whole_months(start, end) == 1 else TREND_PERIODS


def trend_periods(start: dt.date, end: dt.date, previous: DateRange | None = None,
                  count: int | None = None) -> list[DateRange]:
    """The trend's periods, oldest first, [start, end] last and the compared period just
    before it; the earlier ones step back from the compared period in its own units (whole
    months, or days when it is not whole months), so they tile without gaps or overlaps.
    Stops early at the year 1."""
    count = trend_length(start, end) if count is None else count
    out: list[DateRange] = [(start, end)]
    if count < 2:
        return out
    try:
        prev = tuple(previous) if previous is not None else previous_period(start, end)
    except PeriodError:
        return out
    out.append(prev)  # type: ignore[arg-type]
    # The units: the period's own, or the chosen previous period's.
    unit = whole_months(start, end) if previous is None else whole_months(*prev)
    while len(out) < count:
        try:
            out.append(_step_back(*out[-1], unit))
        except PeriodError:
            break
    return out[::-1]


def month_names(start: dt.date, end: dt.date) -> str:
    """"Feb–Apr 2024", "Nov 2023–Jan 2024", "May 2024" for whole months; else the days:
    "28 Mar–27 Jun 2025", "4 May 2026"."""
    if whole_months(start, end) is not None:
        if (start.year, start.month) == (end.year, end.month):
            return f"{start:%b} {end.year}"
        left = f"{start:%b}" if start.year == end.year else f"{start:%b} {start.year}"
        return f"{left}–{end:%b} {end.year}"
    if start == end:
        return f"{end.day} {end:%b} {end.year}"
    left = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{left}–{end.day} {end:%b} {end.year}"


def rule_words(start: dt.date, end: dt.date, previous: DateRange) -> str:
    """How the compared period was chosen, in words for the pack and the dialog."""
    how = comparison(start, end, previous)
    if how == CALENDAR:
        n = whole_months(start, end)
        return ("the month just before" if n == 1 else
                f"the {n} whole calendar months just before")
    if how == EQUAL_DAYS:
        days = (end - start).days + 1
        return (f"the {days:,} days just before: this period is not whole calendar months, so "
                "it is compared with a period of the same number of days"
                if days != 1 else "the day before")
    return "chosen for this comparison"
