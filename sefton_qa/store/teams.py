"""Teams, each within one service area and with its service manager."""

from __future__ import annotations

import sqlite3

from sefton_qa.domain.models import Team
from sefton_qa.store import records

_COLS = "id, name, service_area_id, service_manager_id, active"


def _team(row) -> Team:
    return Team(id=row[0], name=row[1], service_area_id=row[2], service_manager_id=row[3],
                active=bool(row[4]))


def list_all(conn: sqlite3.Connection, *, service_area_id: int | None = None,
             active_only: bool = False) -> list[Team]:
    clauses, params = [], []
    if service_area_id is not None:
        clauses.append("service_area_id = ?")
        params.append(service_area_id)
    if active_only:
        clauses.append("active = 1")
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    return [_team(r) for r in conn.execute(f"SELECT {_COLS} FROM teams {where} ORDER BY name",
                                           params)]


def get(conn: sqlite3.Connection, team_id: int) -> Team | None:
    row = conn.execute(f"SELECT {_COLS} FROM teams WHERE id = ?", (team_id,)).fetchone()
    return None if row is None else _team(row)


def find_by_name(conn: sqlite3.Connection, name: str) -> list[Team]:
    return [_team(r) for r in conn.execute(f"SELECT {_COLS} FROM teams WHERE name = ?",
                                           (name.strip(),))]


def insert(conn: sqlite3.Connection, values: dict, *, who: records.Who) -> int:
    return records.insert_record(conn, "teams", values, who=who)


def update(conn: sqlite3.Connection, team_id: int, values: dict, *, who: records.Who) -> dict:
    return records.update_record(conn, "teams", team_id, values, who=who)
