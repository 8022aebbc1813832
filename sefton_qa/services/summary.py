"""The period summary: counts and shares by grade with Wilson intervals, against the period
before (whole calendar months, else equal days: :mod:`sefton_qa.domain.periods`) with each
change tested (:mod:`sefton_qa.domain.significance`), and by service area and team. The
committee pack builds on the same figures."""

from __future__ import annotations

import datetime as dt

from sefton_qa.domain import periods, significance
from sefton_qa.domain.errors import ValidationError
from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.domain.models import Selection
from sefton_qa.domain.stats import percent, wilson_interval
from sefton_qa.store import Store
from sefton_qa.store import summary as summary_store
from sefton_qa.domain.wording import date_text


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period [start, end] is compared with: the same number of whole calendar months
    just before it when it is whole months, else the same number of days just before it
    (:mod:`sefton_qa.domain.periods`)."""
    try:
        return periods.previous_period(start, end)
    except periods.PeriodError:
        raise ValidationError.single(
            "from", f"{date_text(start)} is too early: there is no period before it") from None


def check_previous(start: dt.date, end: dt.date,
                   previous: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date]:
    """The period to compare with: the rule's, or the one given (which must end before this
    one starts); raises ValidationError for a bad choice."""
    if end < start:
        raise ValidationError.single("to", f"{date_text(end)} is before the start of the period "
                                           f"({date_text(start)})")
    if previous is None:
        return previous_period(start, end)
    prev_start, prev_end = previous
    if prev_end < prev_start:
        raise ValidationError.single("previous to", f"{date_text(prev_end)} is before the start "
                                                    f"of the previous period")
    if prev_end >= start:
        raise ValidationError.single("previous to", "the previous period must end before "
                                                    f"this one starts ({date_text(start)})")
    return prev_start, prev_end


def _grades_block(counts: dict[Grade, int], grades: tuple[Grade, ...]) -> tuple[int, dict]:
    total = sum(counts.values())
    block = {}
    for grade in grades:
        n = counts.get(grade, 0)
        low, high = wilson_interval(n, total)
        block[grade.value] = {"count": n, "percent": round(percent(n, total), 1),
                              "ci95": [round(100 * low, 1), round(100 * high, 1)]}
    return total, block


def _grades_shown(store: Store, *counts: dict[Grade, int]) -> tuple[Grade, ...]:
    from sefton_qa.store import grades as grade_store

    active = set(grade_store.active(store.conn))
    used = {g for c in counts for g in c}
    return tuple(g for g in ALL_GRADES if g in active or g in used)


def period_summary(store: Store, start: dt.date, end: dt.date,
                   previous: tuple[dt.date, dt.date] | None = None) -> dict:
    """The period's figures, against ``previous`` (default: the rule's previous period)."""
    prev_start, prev_end = check_previous(start, end, previous)
    with store.snapshot() as conn:
        counts = summary_store.grade_counts(conn, start, end)
        prev_counts = summary_store.grade_counts(conn, prev_start, prev_end)
        by_area = summary_store.grade_counts_by_service_area(conn, start, end)
        by_team = summary_store.grade_counts_by_team(conn, start, end)
        selection = summary_store.selection_counts(conn, start, end)
    grades = _grades_shown(store, counts, prev_counts)
    total, block = _grades_block(counts, grades)
    previous = None
    if prev_counts:
        prev_total, prev_block = _grades_block(prev_counts, grades)
        previous = {"period": {"from": prev_start.isoformat(), "to": prev_end.isoformat()},
                    "total": prev_total, "grades": prev_block}

    change = None
    if previous and total:
        change = {}
        for grade in grades:
            k1, k2 = counts.get(grade, 0), prev_counts.get(grade, 0)
            c = significance.compare(k1, total, k2, prev_total)
            change[grade.value] = {
                "points": round(block[grade.value]["percent"] - prev_block[grade.value]["percent"],
                                1),
                "method": c.method, "p": round(c.p, 4),
                "difference_ci95": [round(100 * c.low, 1), round(100 * c.high, 1)],
                "verdict": c.verdict()}

    def table(rows: dict[str, dict[Grade, int]]) -> dict:
        return {name: {g.value: rows[name].get(g, 0) for g in grades} for name in sorted(rows)}

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "compared_with": {"from": prev_start.isoformat(), "to": prev_end.isoformat(),
                          "rule": periods.comparison(start, end, (prev_start, prev_end))},
        "total": total,
        "grades": block,
        "previous": previous,
        "change": change,
        "by_service_area": table(by_area),
        "by_team": table(by_team),
        # How the period's cases were chosen (domain.models.Selection), every way listed.
        "selection": {how.value: selection.get(how.value, 0) for how in Selection},
    }
