"""Caseload snapshots and their cases (issue 19). Every write is trailed, one row per case."""

from __future__ import annotations

import datetime as dt
import sqlite3

from sefton_qa.domain.plans import CaseloadCase, CaseloadSnapshot
from sefton_qa.store import records

_SNAPSHOT_COLS = "id, taken_on, file_name, sha256, case_count, created_at"
#: The columns of a case, in the order bulk inserts name them.
CASE_COLUMNS = ("snapshot_id", "case_reference", "team_id", "case_type", "opened_on",
                "team_manager_id")


def _snapshot(row) -> CaseloadSnapshot:
    return CaseloadSnapshot(id=row[0], taken_on=dt.date.fromisoformat(row[1]), file_name=row[2],
                            sha256=row[3], case_count=row[4], created_at=row[5])


def insert_snapshot(conn: sqlite3.Connection, values: dict, *, who: records.Who) -> int:
    return records.insert_record(conn, "caseload_snapshots", values, who=who)


def insert_cases(conn: sqlite3.Connection, rows: list[dict], *, who: records.Who) -> list[int]:
    """``rows`` name every column of CASE_COLUMNS."""
    return records.insert_many_records(
        conn, "caseload_cases", [{c: row[c] for c in CASE_COLUMNS} for row in rows], who=who)


def list_snapshots(conn: sqlite3.Connection) -> list[CaseloadSnapshot]:
    """Newest first."""
    return [_snapshot(r) for r in conn.execute(
        f"SELECT {_SNAPSHOT_COLS} FROM caseload_snapshots ORDER BY taken_on DESC, id DESC")]


def get_snapshot(conn: sqlite3.Connection, snapshot_id: int) -> CaseloadSnapshot | None:
    row = conn.execute(f"SELECT {_SNAPSHOT_COLS} FROM caseload_snapshots WHERE id = ?",
                       (snapshot_id,)).fetchone()
    return None if row is None else _snapshot(row)


def latest_snapshot(conn: sqlite3.Connection, *, on_or_before: dt.date | None = None
                    ) -> CaseloadSnapshot | None:
    where, params = ("WHERE taken_on <= ?", [on_or_before.isoformat()]) if on_or_before \
        else ("", [])
    row = conn.execute(f"SELECT {_SNAPSHOT_COLS} FROM caseload_snapshots {where} "
                       "ORDER BY taken_on DESC, id DESC LIMIT 1", params).fetchone()
    return None if row is None else _snapshot(row)


def previous_snapshot(conn: sqlite3.Connection, snapshot: CaseloadSnapshot
                      ) -> CaseloadSnapshot | None:
    row = conn.execute(
        f"SELECT {_SNAPSHOT_COLS} FROM caseload_snapshots "
        "WHERE taken_on < ? OR (taken_on = ? AND id < ?) ORDER BY taken_on DESC, id DESC LIMIT 1",
        (snapshot.taken_on.isoformat(), snapshot.taken_on.isoformat(), snapshot.id)).fetchone()
    return None if row is None else _snapshot(row)


_CASE_SELECT = (
    "SELECT c.id, c.snapshot_id, c.case_reference, c.team_id, t.name, t.service_area_id, a.name, "
    "c.case_type, c.opened_on, c.team_manager_id, s.display_name FROM caseload_cases c "
    "JOIN teams t ON t.id = c.team_id JOIN service_areas a ON a.id = t.service_area_id "
    "LEFT JOIN staff s ON s.id = c.team_manager_id")


def _case(row) -> CaseloadCase:
    return CaseloadCase(id=row[0], snapshot_id=row[1], case_reference=row[2], team_id=row[3],
                        team=row[4], service_area_id=row[5], service_area=row[6],
                        case_type=row[7],
                        opened_on=dt.date.fromisoformat(row[8]) if row[8] else None,
                        team_manager_id=row[9], team_manager=row[10])


def cases(conn: sqlite3.Connection, snapshot_id: int) -> list[CaseloadCase]:
    """The snapshot's cases by team name, then case reference."""
    return [_case(r) for r in conn.execute(
        f"{_CASE_SELECT} WHERE c.snapshot_id = ? ORDER BY t.name, c.case_reference",
        (snapshot_id,))]


def cases_by_id(conn: sqlite3.Connection, ids) -> dict[int, CaseloadCase]:
    ids = list(ids)
    out: dict[int, CaseloadCase] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update((r[0], _case(r)) for r in conn.execute(
            f"{_CASE_SELECT} WHERE c.id IN ({', '.join('?' * len(chunk))})", chunk))
    return out


def counts_by_team(conn: sqlite3.Connection, snapshot_id: int) -> dict[int, int]:
    return dict(conn.execute("SELECT team_id, count(*) FROM caseload_cases WHERE snapshot_id = ? "
                             "GROUP BY team_id", (snapshot_id,)).fetchall())


def recently_audited(conn: sqlite3.Connection, since: dt.date) -> set[str]:
    """Case references (trimmed, upper-cased) with a submitted audit dated on or after
    ``since``."""
    return {r[0] for r in conn.execute(
        "SELECT DISTINCT upper(trim(case_reference)) FROM audits WHERE status = 'submitted' "
        "AND audit_date >= ? AND case_reference IS NOT NULL", (since.isoformat(),))}
