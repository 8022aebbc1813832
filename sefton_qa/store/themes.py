"""Themes audits are tagged with (drift and delay, neglect, exploitation...)."""

from __future__ import annotations

import sqlite3

from sefton_qa.domain.models import Theme
from sefton_qa.store import records


def _theme(row) -> Theme:
    return Theme(id=row[0], name=row[1], active=bool(row[2]))


def list_all(conn: sqlite3.Connection, *, active_only: bool = False) -> list[Theme]:
    where = "WHERE active = 1" if active_only else ""
    return [_theme(r) for r in conn.execute(
        f"SELECT id, name, active FROM themes {where} ORDER BY name")]


def get(conn: sqlite3.Connection, theme_id: int) -> Theme | None:
    row = conn.execute("SELECT id, name, active FROM themes WHERE id = ?",
                       (theme_id,)).fetchone()
    return None if row is None else _theme(row)


def find_by_name(conn: sqlite3.Connection, name: str) -> Theme | None:
    row = conn.execute("SELECT id, name, active FROM themes WHERE name = ?",
                       (name.strip(),)).fetchone()
    return None if row is None else _theme(row)


def existing_ids(conn: sqlite3.Connection, ids) -> set[int]:
    ids = list(ids)
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    return {r[0] for r in conn.execute(f"SELECT id FROM themes WHERE id IN ({marks})", ids)}


def insert(conn: sqlite3.Connection, name: str, *, who: records.Who) -> int:
    return records.insert_record(conn, "themes", {"name": name, "active": 1}, who=who)


def update(conn: sqlite3.Connection, theme_id: int, values: dict, *, who: records.Who) -> dict:
    return records.update_record(conn, "themes", theme_id, values, who=who)
