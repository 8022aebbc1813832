"""Staff: auditors, moderators, service managers, administrators (display names, never children)."""

from __future__ import annotations

import json
import sqlite3

from sefton_qa.domain.models import Role, Staff
from sefton_qa.store import records

_COLS = "id, display_name, os_username, roles, team_id, active"


def encode_roles(roles) -> str:
    return json.dumps(sorted(Role(r).value for r in roles))


def _staff(row) -> Staff:
    return Staff(id=row[0], display_name=row[1], os_username=row[2],
                 roles=frozenset(Role(r) for r in json.loads(row[3])), team_id=row[4],
                 active=bool(row[5]))


def list_all(conn: sqlite3.Connection, *, active_only: bool = False) -> list[Staff]:
    where = "WHERE active = 1" if active_only else ""
    return [_staff(r) for r in conn.execute(
        f"SELECT {_COLS} FROM staff {where} ORDER BY display_name")]


def get(conn: sqlite3.Connection, staff_id: int) -> Staff | None:
    row = conn.execute(f"SELECT {_COLS} FROM staff WHERE id = ?", (staff_id,)).fetchone()
    return None if row is None else _staff(row)


def find_by_os_username(conn: sqlite3.Connection, username: str) -> Staff | None:
    row = conn.execute(f"SELECT {_COLS} FROM staff WHERE os_username = ?",
                       (username,)).fetchone()
    return None if row is None else _staff(row)


def find_by_name(conn: sqlite3.Connection, display_name: str) -> list[Staff]:
    return [_staff(r) for r in conn.execute(
        f"SELECT {_COLS} FROM staff WHERE display_name = ? COLLATE NOCASE",
        (display_name.strip(),))]


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM staff").fetchone()[0]


def insert(conn: sqlite3.Connection, values: dict, *, who: records.Who) -> int:
    values = dict(values)
    values["roles"] = encode_roles(values.get("roles", ()))
    return records.insert_record(conn, "staff", values, who=who)


def update(conn: sqlite3.Connection, staff_id: int, values: dict, *, who: records.Who) -> dict:
    values = dict(values)
    if "roles" in values:
        values["roles"] = encode_roles(values["roles"])
    return records.update_record(conn, "staff", staff_id, values, who=who)
