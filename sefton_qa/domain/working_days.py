"""Working days in England and Wales: weekends, bank holidays (from the `holidays` package)
and any local closure days a council adds (e.g. the days between Christmas and New Year)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Iterable


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=[year]))


class WorkingCalendar:
    def __init__(self, closures: Iterable[dt.date] = ()):
        self.closures = frozenset(closures)

    def is_working_day(self, day: dt.date) -> bool:
        return (day.weekday() < 5 and day not in _bank_holidays(day.year)
                and day not in self.closures)

    def add(self, start: dt.date, days: int) -> dt.date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        while days > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        if end <= start:
            return 0
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def is_overdue(due: dt.date | None, today: dt.date) -> bool:
    """The one overdue rule: past its due date (a step with none is never overdue); due today
    is not yet overdue."""
    return due is not None and due < today
