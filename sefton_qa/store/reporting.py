"""Aggregate queries for the committee pack. The period's audits are those the period summary
counts: submitted, graded, dated within the period (see :mod:`sefton_qa.store.summary`)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import NamedTuple

from sefton_qa.store import dialect

_SEMICOLON = "'; '"

#: The period's audits, as ``a``: exactly the audits the period summary counts.
_PERIOD = ("a.status = 'submitted' AND a.audit_date BETWEEN ? AND ? "
           "AND a.overall_grade IS NOT NULL")


def _span(start: dt.date, end: dt.date) -> tuple[str, str]:
    return start.isoformat(), end.isoformat()


def theme_counts_by_area(conn: sqlite3.Connection, start: dt.date, end: dt.date
                         ) -> dict[tuple[str, str | None], int]:
    """{(theme, service area or None): number of the period's audits with that theme}."""
    rows = conn.execute(
        "SELECT th.name, sa.name, x.n FROM (SELECT t.theme_id, a.service_area_id, count(*) AS n "
        f"FROM audits a JOIN audit_themes t ON t.audit_id = a.id WHERE {_PERIOD} "
        "GROUP BY t.theme_id, a.service_area_id) x JOIN themes th ON th.id = x.theme_id "
        "LEFT JOIN service_areas sa ON sa.id = x.service_area_id", _span(start, end))
    return {(theme, area): n for theme, area, n in rows}


def theme_counts(conn: sqlite3.Connection, start: dt.date, end: dt.date) -> dict[str, int]:
    """{theme: number of the period's audits with that theme}."""
    rows = conn.execute(
        "SELECT th.name, x.n FROM (SELECT t.theme_id, count(*) AS n FROM audits a "
        f"JOIN audit_themes t ON t.audit_id = a.id WHERE {_PERIOD} GROUP BY t.theme_id) x "
        "JOIN themes th ON th.id = x.theme_id", _span(start, end))
    return dict(rows.fetchall())


def team_service_areas(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """{team name: the service areas that have a team of that name}."""
    out: dict[str, set[str]] = {}
    for team, area in conn.execute(
            "SELECT t.name, sa.name FROM teams t JOIN service_areas sa "
            "ON sa.id = t.service_area_id"):
        out.setdefault(team, set()).add(area)
    return out


class People(NamedTuple):
    auditors: int
    moderators: int
    service_managers: int
    practitioners: int


def people_counts(conn: sqlite3.Connection, start: dt.date, end: dt.date) -> People:
    """How many different people took part in the period, by role: auditors and team managers
    named on its audits, moderators who completed a moderation in it, service managers who
    held a reflective conversation in it."""
    span = _span(start, end)
    auditors, practitioners = conn.execute(
        "SELECT count(DISTINCT a.auditor_id), count(DISTINCT a.team_manager_id) "
        f"FROM audits a WHERE {_PERIOD}", span).fetchone()
    moderators = conn.execute(
        "SELECT count(DISTINCT moderator_id) FROM moderations WHERE status = 'done' "
        "AND moderation_date BETWEEN ? AND ?", span).fetchone()[0]
    managers = conn.execute(
        "SELECT count(DISTINCT coalesce(facilitator_id, service_manager_id)) "
        "FROM reflective_conversations WHERE status = 'held' AND held_on BETWEEN ? AND ?",
        span).fetchone()[0]
    return People(auditors, moderators, managers, practitioners)


class Flags(NamedTuple):
    inadequate: int  # the period's audits flagged because they were graded inadequate
    calibration: int  # ... chosen for the calibration sample
    other: int  # ... flagged for another reason (imported, requested)
    pending: int  # moderations of the period's audits still waiting
    pending_overdue: int  # ... of which past their due date


def moderation_flags(conn: sqlite3.Connection, start: dt.date, end: dt.date,
                     today: dt.date) -> Flags:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE m.flagged_because = 'inadequate'), "
        "count(*) FILTER (WHERE m.flagged_because = 'calibration'), "
        "count(*) FILTER (WHERE m.flagged_because NOT IN ('inadequate', 'calibration')), "
        "count(*) FILTER (WHERE m.status = 'pending'), "
        "count(*) FILTER (WHERE m.status = 'pending' AND m.due_date < ?) "
        f"FROM moderations m JOIN audits a ON a.id = m.audit_id WHERE {_PERIOD} "
        "AND m.status != 'cancelled'", (today.isoformat(), *_span(start, end))).fetchone()
    return Flags(*row)


class Conversations(NamedTuple):
    held: int
    due: int  # not yet held, not yet overdue
    overdue: int  # not yet held and past the due date


def conversation_counts(conn: sqlite3.Connection, start: dt.date, end: dt.date,
                        today: dt.date) -> Conversations:
    """Reflective conversations about the period's audits (cancelled ones left out)."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE c.status = 'held'), "
        "count(*) FILTER (WHERE c.status = 'due' AND NOT coalesce(c.due_date < ?, FALSE)), "
        "count(*) FILTER (WHERE c.status = 'due' AND coalesce(c.due_date < ?, FALSE)) "
        f"FROM reflective_conversations c JOIN audits a ON a.id = c.audit_id WHERE {_PERIOD}",
        (today.isoformat(), today.isoformat(), *_span(start, end))).fetchone()
    return Conversations(*row)


class Actions(NamedTuple):
    done_on_time: int
    done_late: int
    open_in_time: int  # open, not yet due
    overdue: int  # open and past the due date
    not_needed: int


def action_counts(conn: sqlite3.Connection, start: dt.date, end: dt.date,
                  today: dt.date) -> Actions:
    """Remedial actions agreed on the period's audits, by where they stand today."""
    t = today.isoformat()
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE x.status = 'done' AND x.completed_on <= x.due_date), "
        "count(*) FILTER (WHERE x.status = 'done' AND NOT coalesce(x.completed_on <= x.due_date, FALSE)),"
        " count(*) FILTER (WHERE x.status = 'open' AND x.due_date >= ?), "
        "count(*) FILTER (WHERE x.status = 'open' AND x.due_date < ?), "
        "count(*) FILTER (WHERE x.status = 'not_needed') "
        f"FROM remedial_actions x JOIN audits a ON a.id = x.audit_id WHERE {_PERIOD}",
        (t, t, *_span(start, end))).fetchone()
    return Actions(*row)


def reaudits(conn: sqlite3.Connection, start: dt.date, end: dt.date
             ) -> list[tuple[str, str, bool]]:
    """The period's audits of cases audited before: (grade now, the grade at the case's
    latest earlier audit, whether a remedial action asked for this re-audit)."""
    asked = {r[0] for r in conn.execute(
        "SELECT DISTINCT reaudit_audit_id FROM remedial_actions "
        "WHERE reaudit_audit_id IS NOT NULL")}
    rows = conn.execute(
        "SELECT a.id, a.overall_grade, (SELECT p.overall_grade FROM audits p "
        "WHERE p.case_reference = a.case_reference AND p.status = 'submitted' "
        "AND p.overall_grade IS NOT NULL AND (p.audit_date < a.audit_date "
        "OR (p.audit_date = a.audit_date AND p.id < a.id)) "
        "ORDER BY p.audit_date DESC, p.id DESC LIMIT 1) AS earlier "
        f"FROM audits a WHERE {_PERIOD} AND a.case_reference IS NOT NULL "
        "AND a.case_reference != ''", _span(start, end))
    return [(grade, earlier, audit_id in asked) for audit_id, grade, earlier in rows
            if earlier is not None]


class AppendixRow(NamedTuple):
    case_reference: str
    audit_date: str
    audit_type: str
    service_area: str | None
    team: str | None
    grade: str
    auditor_grade: str | None  # the grade before moderation, when a moderation changed it
    themes: str | None  # names joined by "; "
    findings: str


def appendix_rows(conn: sqlite3.Connection, start: dt.date, end: dt.date
                  ) -> list[AppendixRow]:
    """The period's audits by case reference, for the internal pack's appendix."""
    rows = conn.execute(
        "SELECT coalesce(a.case_reference, ''), a.audit_date, a.audit_type, sa.name, t.name, "
        "a.overall_grade, (SELECT m.original_grade FROM moderations m WHERE m.audit_id = a.id "
        "AND m.status = 'done' AND m.moderated_grade != m.original_grade "
        "ORDER BY m.id LIMIT 1), "
        f"(SELECT {dialect.of(conn).group_concat('name', _SEMICOLON)} FROM (SELECT th.name "
        "FROM audit_themes x JOIN themes th ON th.id = x.theme_id WHERE x.audit_id = a.id "
        "ORDER BY th.name) AS named), "
        f"a.findings FROM audits a LEFT JOIN service_areas sa ON sa.id = a.service_area_id "
        f"LEFT JOIN teams t ON t.id = a.team_id WHERE {_PERIOD} "
        "ORDER BY a.case_reference, a.audit_date, a.id", _span(start, end))
    return [AppendixRow(*r) for r in rows]
