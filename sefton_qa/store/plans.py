"""Audit plans and their quotas, draws and their cases, and allocations (issue 19).

Every write is trailed (plans, quotas and allocations through ``records``; a draw's cases and
a draw's allocations in bulk, one trail row each)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from sefton_qa.domain.plans import (
    Allocation,
    AuditPlan,
    Draw,
    DrawnCase,
    PlanQuota,
    StratumInfo,
)
from sefton_qa.store import records

_PLAN_COLS = ("id, period_start, period_end, snapshot_id, stratify_by, quota_rule, "
              "exclude_months, due_date, status")
QUOTA_COLUMNS = ("plan_id", "stratum", "team_id", "service_area_id", "deep_dives", "dip_samples")
DRAWN_COLUMNS = ("draw_id", "case_id", "case_reference", "stratum", "rank", "audit_type",
                 "is_reserve")
ALLOCATION_COLUMNS = ("drawn_case_id", "audit_type", "auditor_id", "due_date", "audit_id", "status",
                      "replaces_id", "reserve_reason")


# -- plans and quotas ------------------------------------------------------------------------------
def _plan(row, quotas=()) -> AuditPlan:
    return AuditPlan(id=row[0], period_start=dt.date.fromisoformat(row[1]),
                     period_end=dt.date.fromisoformat(row[2]), snapshot_id=row[3],
                     stratify_by=row[4], quota_rule=row[5], exclude_months=row[6],
                     due_date=dt.date.fromisoformat(row[7]), status=row[8],
                     quotas=tuple(quotas))


def insert_plan(conn: sqlite3.Connection, values: dict, *, who: records.Who) -> int:
    return records.insert_record(conn, "audit_plans", values, who=who)


def update_plan(conn: sqlite3.Connection, plan_id: int, values: dict, *, who: records.Who,
                reason: str | None = None) -> dict:
    return records.update_record(conn, "audit_plans", plan_id, values, who=who, reason=reason)


def insert_quotas(conn: sqlite3.Connection, rows: list[dict], *, who: records.Who) -> list[int]:
    return records.insert_many_records(
        conn, "plan_quotas", [{c: row[c] for c in QUOTA_COLUMNS} for row in rows], who=who)


def update_quota(conn: sqlite3.Connection, quota_id: int, values: dict, *, who: records.Who,
                 reason: str | None = None) -> dict:
    return records.update_record(conn, "plan_quotas", quota_id, values, who=who, reason=reason)


def quotas(conn: sqlite3.Connection, plan_id: int) -> list[PlanQuota]:
    return [PlanQuota(id=r[0], plan_id=r[1], stratum=r[2], label=r[3] or r[4] or r[2],
                      team_id=r[5], service_area_id=r[6], deep_dives=r[7], dip_samples=r[8])
            for r in conn.execute(
                "SELECT q.id, q.plan_id, q.stratum, t.name, a.name, q.team_id, "
                "q.service_area_id, q.deep_dives, q.dip_samples FROM plan_quotas q "
                "LEFT JOIN teams t ON t.id = q.team_id "
                "LEFT JOIN service_areas a ON a.id = q.service_area_id "
                "WHERE q.plan_id = ? ORDER BY coalesce(t.name, a.name), q.stratum", (plan_id,))]


def get_plan(conn: sqlite3.Connection, plan_id: int) -> AuditPlan | None:
    row = conn.execute(f"SELECT {_PLAN_COLS} FROM audit_plans WHERE id = ?",
                       (plan_id,)).fetchone()
    return None if row is None else _plan(row, quotas(conn, plan_id))


def list_plans(conn: sqlite3.Connection, *, status: str | None = None) -> list[AuditPlan]:
    """Newest period first, with their quotas."""
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    rows = conn.execute(f"SELECT {_PLAN_COLS} FROM audit_plans {where} "
                        "ORDER BY period_start DESC, id DESC", params).fetchall()
    return [_plan(r, quotas(conn, r[0])) for r in rows]


def plans_for_period(conn: sqlite3.Connection, start: dt.date, end: dt.date) -> list[AuditPlan]:
    rows = conn.execute(f"SELECT {_PLAN_COLS} FROM audit_plans WHERE period_start = ? AND "
                        "period_end = ? AND status = 'open' ORDER BY id",
                        (start.isoformat(), end.isoformat())).fetchall()
    return [_plan(r, quotas(conn, r[0])) for r in rows]


# -- draws -------------------------------------------------------------------------------------------
_DRAW_COLS = ("id, plan_id, snapshot_id, method, seed, seed_source, drawn_by, drawn_at, strata, "
              "excluded, status, discarded_by, discarded_at, discard_reason")


def _draw(row) -> Draw:
    return Draw(id=row[0], plan_id=row[1], snapshot_id=row[2], method=row[3], seed=row[4],
                seed_source=row[5], drawn_by=row[6], drawn_at=row[7],
                strata=tuple(StratumInfo(**dict(s, team_ids=tuple(s.get("team_ids", ()))))
                             for s in json.loads(row[8])),
                excluded=tuple(json.loads(row[9])), status=row[10], discarded_by=row[11],
                discarded_at=row[12], discard_reason=row[13])


def insert_draw(conn: sqlite3.Connection, values: dict, *, who: records.Who) -> int:
    values = dict(values, strata=json.dumps([s.as_json() for s in values["strata"]]),
                  excluded=json.dumps(sorted(values["excluded"])))
    return records.insert_record(conn, "draws", values, who=who)


def update_draw(conn: sqlite3.Connection, draw_id: int, values: dict, *, who: records.Who,
                reason: str | None = None) -> dict:
    return records.update_record(conn, "draws", draw_id, values, who=who, reason=reason)


def get_draw(conn: sqlite3.Connection, draw_id: int) -> Draw | None:
    row = conn.execute(f"SELECT {_DRAW_COLS} FROM draws WHERE id = ?", (draw_id,)).fetchone()
    return None if row is None else _draw(row)


def list_draws(conn: sqlite3.Connection, *, plan_id: int | None = None) -> list[Draw]:
    """In the order they were made."""
    where, params = ("WHERE plan_id = ?", [plan_id]) if plan_id is not None else ("", [])
    return [_draw(r) for r in conn.execute(f"SELECT {_DRAW_COLS} FROM draws {where} ORDER BY id",
                                           params)]


def insert_drawn_cases(conn: sqlite3.Connection, rows: list[dict], *, who: records.Who
                       ) -> list[int]:
    return records.insert_many_records(
        conn, "drawn_cases", [{c: row[c] for c in DRAWN_COLUMNS} for row in rows], who=who)


def drawn_cases(conn: sqlite3.Connection, draw_id: int) -> list[DrawnCase]:
    return [DrawnCase(id=r[0], draw_id=r[1], case_id=r[2], case_reference=r[3], stratum=r[4],
                      rank=r[5], audit_type=r[6], is_reserve=bool(r[7]))
            for r in conn.execute(
                "SELECT id, draw_id, case_id, case_reference, stratum, rank, audit_type, "
                "is_reserve FROM drawn_cases WHERE draw_id = ? ORDER BY stratum, rank",
                (draw_id,))]


# -- allocations ---------------------------------------------------------------------------------
def insert_allocations(conn: sqlite3.Connection, rows: list[dict], *, who: records.Who,
                       reason: str | None = None) -> list[int]:
    return records.insert_many_records(
        conn, "allocations", [{c: row[c] for c in ALLOCATION_COLUMNS} for row in rows], who=who,
        reason=reason)


def insert_allocation(conn: sqlite3.Connection, values: dict, *, who: records.Who,
                      reason: str | None = None) -> int:
    return records.insert_record(conn, "allocations",
                                 {c: values.get(c) for c in ALLOCATION_COLUMNS}, who=who,
                                 reason=reason)


def update_allocation(conn: sqlite3.Connection, allocation_id: int, values: dict, *,
                      who: records.Who, reason: str | None = None) -> dict:
    return records.update_record(conn, "allocations", allocation_id, values, who=who,
                                 reason=reason)


_ALLOCATION_SELECT = (
    "SELECT l.id, d.draw_id, w.plan_id, l.drawn_case_id, d.case_reference, "
    "l.audit_type, d.stratum, d.rank, d.is_reserve, "
    "c.team_id, t.name, t.service_area_id, a.name, c.team_manager_id, l.auditor_id, "
    "s.display_name, l.due_date, l.audit_id, au.status, l.status, l.replaces_id, "
    "l.reserve_reason FROM allocations l "
    "JOIN drawn_cases d ON d.id = l.drawn_case_id JOIN draws w ON w.id = d.draw_id "
    "JOIN caseload_cases c ON c.id = d.case_id JOIN teams t ON t.id = c.team_id "
    "JOIN service_areas a ON a.id = t.service_area_id "
    "LEFT JOIN staff s ON s.id = l.auditor_id LEFT JOIN audits au ON au.id = l.audit_id")


def _allocation(row) -> Allocation:
    return Allocation(id=row[0], draw_id=row[1], plan_id=row[2], drawn_case_id=row[3],
                      case_reference=row[4], audit_type=row[5], stratum=row[6], rank=row[7],
                      is_reserve=bool(row[8]), team_id=row[9], team=row[10],
                      service_area_id=row[11], service_area=row[12], team_manager_id=row[13],
                      auditor_id=row[14], auditor=row[15],
                      due_date=dt.date.fromisoformat(row[16]), audit_id=row[17],
                      audit_status=row[18], status=row[19], replaces_id=row[20],
                      reserve_reason=row[21])


def get_allocation(conn: sqlite3.Connection, allocation_id: int) -> Allocation | None:
    row = conn.execute(f"{_ALLOCATION_SELECT} WHERE l.id = ?", (allocation_id,)).fetchone()
    return None if row is None else _allocation(row)


def allocations(conn: sqlite3.Connection, *, draw_id: int | None = None,
                auditor_id: int | None = None, plan_id: int | None = None,
                current_only: bool = False) -> list[Allocation]:
    """Allocations by due date, team and case; ``current_only`` leaves out the replaced and
    cancelled ones."""
    clauses, params = [], []
    for column, value in (("d.draw_id", draw_id), ("l.auditor_id", auditor_id),
                          ("w.plan_id", plan_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if current_only:
        clauses.append("l.status = 'allocated'")
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return [_allocation(r) for r in conn.execute(
        f"{_ALLOCATION_SELECT} {where} ORDER BY l.due_date, t.name, d.stratum, d.rank, l.id",
        params)]


def allocation_for_audit(conn: sqlite3.Connection, audit_id: int) -> Allocation | None:
    row = conn.execute(f"{_ALLOCATION_SELECT} WHERE l.audit_id = ?", (audit_id,)).fetchone()
    return None if row is None else _allocation(row)


def case_id_of_drawn(conn: sqlite3.Connection, drawn_case_id: int) -> int:
    """The caseload case a drawn case is."""
    return conn.execute("SELECT case_id FROM drawn_cases WHERE id = ?",
                        (drawn_case_id,)).fetchone()[0]


def audit_case_reference(conn: sqlite3.Connection, audit_id: int) -> tuple[str | None] | None:
    """(case reference,) of an audit, or None when there is no such audit."""
    row = conn.execute("SELECT case_reference FROM audits WHERE id = ?", (audit_id,)).fetchone()
    return None if row is None else (row[0],)


def submitted_grades_of_draw(conn: sqlite3.Connection, draw_id: int) -> dict[int, str | None]:
    """{audit id: overall grade} of the submitted audits linked to the draw's allocations."""
    return dict(conn.execute(
        "SELECT a.id, a.overall_grade FROM audits a JOIN allocations l ON l.audit_id = a.id "
        "JOIN drawn_cases d ON d.id = l.drawn_case_id WHERE d.draw_id = ? "
        "AND a.status = 'submitted'", (draw_id,)).fetchall())
