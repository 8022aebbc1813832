"""Service areas (Front Door, Child Protection, Children in Care...)."""

from __future__ import annotations

import sqlite3

from sefton_qa.domain.models import ServiceArea
from sefton_qa.store import records


def _area(row) -> ServiceArea:
    return ServiceArea(id=row[0], name=row[1], active=bool(row[2]))


def list_all(conn: sqlite3.Connection, *, active_only: bool = False) -> list[ServiceArea]:
    where = "WHERE active = 1" if active_only else ""
    return [_area(r) for r in conn.execute(
        f"SELECT id, name, active FROM service_areas {where} ORDER BY name")]


def get(conn: sqlite3.Connection, area_id: int) -> ServiceArea | None:
    row = conn.execute("SELECT id, name, active FROM service_areas WHERE id = ?",
                       (area_id,)).fetchone()
    return None if row is None else _area(row)


def find_by_name(conn: sqlite3.Connection, name: str) -> ServiceArea | None:
    row = conn.execute("SELECT id, name, active FROM service_areas WHERE name = ?",
                       (name.strip(),)).fetchone()
    return None if row is None else _area(row)


def insert(conn: sqlite3.Connection, name: str, *, who: records.Who) -> int:
    return records.insert_record(conn, "service_areas", {"name": name, "active": 1}, who=who)


def update(conn: sqlite3.Connection, area_id: int, values: dict, *, who: records.Who) -> dict:
    return records.update_record(conn, "service_areas", area_id, values, who=who)
