"""Working-day arithmetic for the loop's deadlines: weekends, England and Wales bank holidays
(Christmas and Boxing Day substitutes, Easter, the one-off days), and local closure days."""

from __future__ import annotations

import datetime as dt

import pytest

from sefton_qa.domain.working_days import WorkingCalendar

D = dt.date
cal = WorkingCalendar()


@pytest.mark.parametrize("day, working", [
    (D(2026, 11, 23), True),   # Monday
    (D(2026, 11, 27), True),   # Friday
    (D(2026, 11, 28), False),  # Saturday
    (D(2026, 11, 29), False),  # Sunday
    (D(2026, 1, 1), False),    # New Year's Day
    (D(2026, 4, 3), False),    # Good Friday (Easter Sunday is 5 April 2026)
    (D(2026, 4, 6), False),    # Easter Monday
    (D(2026, 4, 7), True),     # the Tuesday after Easter
    (D(2026, 5, 4), False),    # Early May bank holiday
    (D(2026, 5, 25), False),   # Spring bank holiday
    (D(2026, 8, 31), False),   # Summer bank holiday (England, not Scotland's first Monday)
    (D(2026, 8, 3), True),     # ... so Scotland's August holiday is a working day here
    (D(2026, 12, 25), False),  # Christmas Day, a Friday
    (D(2026, 12, 28), False),  # Boxing Day fell on a Saturday: observed on Monday 28th
    (D(2026, 12, 29), True),
    (D(2027, 3, 26), False),   # Good Friday 2027
    (D(2027, 3, 29), False),   # Easter Monday 2027
    (D(2027, 12, 27), False),  # Christmas on a Saturday: substitute Monday
    (D(2027, 12, 28), False),  # Boxing Day on a Sunday: substitute Tuesday
    (D(2027, 12, 29), True),
    (D(2022, 12, 27), False),  # Christmas 2022 on a Sunday: substitute Tuesday 27th
    (D(2023, 1, 2), False),    # New Year's Day 2023 on a Sunday: substitute Monday
    (D(2022, 9, 19), False),   # one-off: the State Funeral
    (D(2022, 6, 3), False),    # one-off: Platinum Jubilee
    (D(2023, 5, 8), False),    # one-off: the Coronation
    (D(2026, 3, 17), True),    # St Patrick's Day is a holiday in Northern Ireland only
    (D(2026, 1, 2), True),     # 2 January is a holiday in Scotland only
])
def test_is_working_day(day, working):
    assert cal.is_working_day(day) is working


def test_add_skips_weekends():
    assert cal.add(D(2026, 11, 20), 1) == D(2026, 11, 23)  # Friday + 1 = Monday
    assert cal.add(D(2026, 11, 24), 5) == D(2026, 12, 1)  # Tuesday + 5 = next Tuesday
    assert cal.add(D(2026, 11, 28), 1) == D(2026, 11, 30)  # from a Saturday


def test_add_zero_is_the_start_even_on_a_holiday():
    assert cal.add(D(2026, 12, 25), 0) == D(2026, 12, 25)


def test_add_refuses_negative_days():
    with pytest.raises(ValueError, match="negative"):
        cal.add(D(2026, 11, 24), -1)


def test_add_over_christmas_and_new_year_2026():
    # Mon 21, Tue 22, Wed 23, Thu 24 Dec; Fri 25 Christmas; Mon 28 Boxing Day substitute;
    # Tue 29, Wed 30, Thu 31; Fri 1 Jan New Year's Day; Mon 4 Jan.
    assert cal.add(D(2026, 12, 18), 5) == D(2026, 12, 29)
    assert cal.add(D(2026, 12, 18), 8) == D(2027, 1, 4)
    # The default 10-day conversation deadline from a moderation on 17 December 2026:
    # 18, 21, 22, 23, 24, 29, 30, 31 Dec, 4, 5 Jan.
    assert cal.add(D(2026, 12, 17), 10) == D(2027, 1, 5)


def test_add_over_easter_2026():
    # Thu 2 April + 1: Good Friday and Easter Monday skipped.
    assert cal.add(D(2026, 4, 2), 1) == D(2026, 4, 7)
    # The default 5-day moderation deadline from Monday 30 March: 31, 1, 2, 7, 8 April.
    assert cal.add(D(2026, 3, 30), 5) == D(2026, 4, 8)


def test_add_over_the_may_bank_holidays():
    assert cal.add(D(2026, 5, 1), 1) == D(2026, 5, 5)
    assert cal.add(D(2026, 5, 22), 1) == D(2026, 5, 26)


def test_add_into_the_next_year_crosses_2027_substitutes():
    # Fri 24 Dec 2027 + 1: Sat, Sun, Mon 27 (sub.), Tue 28 (sub.) skipped.
    assert cal.add(D(2027, 12, 24), 1) == D(2027, 12, 29)


def test_between():
    assert cal.between(D(2026, 11, 24), D(2026, 11, 24)) == 0
    assert cal.between(D(2026, 11, 24), D(2026, 11, 20)) == 0  # end before start
    assert cal.between(D(2026, 11, 24), D(2026, 11, 25)) == 1
    assert cal.between(D(2026, 11, 20), D(2026, 11, 23)) == 1  # Friday to Monday
    assert cal.between(D(2026, 11, 20), D(2026, 11, 22)) == 0  # Friday to Sunday
    assert cal.between(D(2026, 12, 18), D(2027, 1, 4)) == 8
    assert cal.between(D(2026, 4, 2), D(2026, 4, 7)) == 1


@pytest.mark.parametrize("start", [D(2026, 3, 30), D(2026, 12, 18), D(2027, 12, 24),
                                   D(2026, 11, 28), D(2022, 9, 16)])
@pytest.mark.parametrize("days", [0, 1, 5, 10, 23])
def test_between_undoes_add(start, days):
    assert cal.between(start, cal.add(start, days)) == days


def test_a_year_has_the_expected_working_days():
    # 2026: 261 weekdays less 8 bank holidays on weekdays (Boxing Day's Saturday does not
    # count, its Monday substitute does) = 253.
    assert cal.between(D(2025, 12, 31), D(2026, 12, 31)) == 253


def test_closure_days_are_not_working_days():
    closed = WorkingCalendar([D(2026, 12, 29), D(2026, 12, 30), D(2026, 12, 31)])
    assert not closed.is_working_day(D(2026, 12, 30))
    assert closed.is_working_day(D(2026, 12, 24))
    # With the council closed between Christmas and New Year, from Friday 18 December the
    # working days are 21, 22, 23, 24 December, then Monday 4 January (25 and 28 are bank
    # holidays, 29-31 closed, 1 January a bank holiday).
    assert closed.add(D(2026, 12, 18), 5) == D(2027, 1, 4)
    assert closed.between(D(2026, 12, 18), D(2027, 1, 4)) == 5
    # An ordinary calendar is not affected by another's closures.
    assert cal.add(D(2026, 12, 18), 5) == D(2026, 12, 29)


def test_a_closure_on_a_weekend_or_holiday_changes_nothing():
    odd = WorkingCalendar([D(2026, 11, 28), D(2026, 12, 25)])
    assert odd.add(D(2026, 11, 24), 5) == cal.add(D(2026, 11, 24), 5)
    assert odd.add(D(2026, 12, 18), 8) == cal.add(D(2026, 12, 18), 8)


def test_loop_settings_read_closure_days(store, admin):
    from sefton_qa.services import moderation
    from sefton_qa.store import settings as settings_store

    assert moderation.loop_settings(store.conn).calendar.is_working_day(D(2026, 12, 29))
    with store.transaction() as conn:
        settings_store.put(conn, "closure_days", ["2026-12-29"], who=admin.who)
    settings = moderation.loop_settings(store.conn)
    assert not settings.calendar.is_working_day(D(2026, 12, 29))
    assert (settings.moderation_days, settings.conversation_days) == (5, 10)
    assert settings.calibration_rate == pytest.approx(0.10)
