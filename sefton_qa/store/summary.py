"""Aggregate queries for period summaries (submitted audits only)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from sefton_qa.domain.grades import Grade
from sefton_qa.store import dialect

# INDEXED BY the covering summary index: with statistics the planner may prefer a skip-scan
# of another index that is not covering, three to four times slower.
_PERIOD_SQL = ("FROM audits a {hint} WHERE a.status = 'submitted' "
               "AND a.audit_date BETWEEN ? AND ? AND a.overall_grade IS NOT NULL")


def _period(conn) -> str:
    return _PERIOD_SQL.format(hint=dialect.of(conn).indexed_by("audits_for_summary"))


def grade_counts(conn: sqlite3.Connection, start: dt.date, end: dt.date) -> dict[Grade, int]:
    rows = conn.execute(f"SELECT a.overall_grade, count(*) {_period(conn)} GROUP BY a.overall_grade",
                        (start.isoformat(), end.isoformat()))
    return {Grade(g): n for g, n in rows}


def grade_counts_by_service_area(conn: sqlite3.Connection, start: dt.date,
                                 end: dt.date) -> dict[str, dict[Grade, int]]:
    rows = conn.execute(
        "SELECT sa.name, x.overall_grade, x.n FROM (SELECT a.service_area_id, a.overall_grade, "
        f"count(*) AS n {_period(conn)} GROUP BY a.service_area_id, a.overall_grade) x "
        "JOIN service_areas sa ON sa.id = x.service_area_id",
        (start.isoformat(), end.isoformat()))
    out: dict[str, dict[Grade, int]] = {}
    for name, grade, n in rows:
        out.setdefault(name, {})[Grade(grade)] = n
    return out


def grade_counts_by_team(conn: sqlite3.Connection, start: dt.date,
                         end: dt.date) -> dict[str, dict[Grade, int]]:
    rows = conn.execute(
        "SELECT t.name, sa.name, x.overall_grade, x.n FROM (SELECT a.team_id, a.overall_grade, "
        f"count(*) AS n {_period(conn)} GROUP BY a.team_id, a.overall_grade) x "
        "JOIN teams t ON t.id = x.team_id JOIN service_areas sa ON sa.id = t.service_area_id",
        (start.isoformat(), end.isoformat()))
    out: dict[str, dict[Grade, int]] = {}
    names = {}
    for team, area, grade, n in rows:
        names.setdefault(team, set()).add(area)
        out.setdefault((team, area), {})[Grade(grade)] = n
    # Team names are unique within a service area; qualify them only where they clash.
    return {(team if len(names[team]) == 1 else f"{team} ({area})"): counts
            for (team, area), counts in out.items()}


def audit_type_counts(conn, start: dt.date, end: dt.date) -> dict[str, int]:
    """The period's graded audits by audit type (``deep_dive``, ``themed``, ``dip_sample``)."""
    rows = conn.execute(f"SELECT a.audit_type, count(*) {_period(conn)} GROUP BY a.audit_type",
                        (start.isoformat(), end.isoformat()))
    return {kind: n for kind, n in rows}


def selection_counts(conn, start: dt.date, end: dt.date) -> dict[str, int]:
    """The period's graded audits by how their cases were chosen (``random_draw``, ``chosen``,
    ``referred``, ``unknown``)."""
    rows = conn.execute(f"SELECT a.selection, count(*) {_period(conn)} GROUP BY a.selection",
                        (start.isoformat(), end.isoformat()))
    return {how: n for how, n in rows}


def imported_count(conn, start: dt.date, end: dt.date) -> int:
    """How many of the period's graded audits were brought in by an import (their record was
    created by a trail row of kind ``import``), not logged in the app."""
    row = conn.execute(
        f"SELECT count(*) {_period(conn)} AND EXISTS (SELECT 1 FROM trail t WHERE "
        "t.table_name = 'audits' AND t.record_id = a.id AND t.kind = 'import')",
        (start.isoformat(), end.isoformat())).fetchone()
    return int(row[0])
