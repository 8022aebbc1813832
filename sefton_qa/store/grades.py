"""The grade scale rows (which grades are switched on)."""

from __future__ import annotations

import sqlite3

from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.store import records


def active(conn: sqlite3.Connection) -> tuple[Grade, ...]:
    keys = {r[0] for r in conn.execute("SELECT key FROM grades WHERE active = 1")}
    return tuple(g for g in ALL_GRADES if g.value in keys)


def set_active(conn: sqlite3.Connection, grade: Grade, on: bool, *, who: records.Who) -> dict:
    row = conn.execute("SELECT id FROM grades WHERE key = ?", (grade.value,)).fetchone()
    return records.update_record(conn, "grades", row[0], {"active": int(on)}, who=who)
