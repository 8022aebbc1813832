"""Settings rows: one JSON value per key, trailed like any other record."""

from __future__ import annotations

import json
import sqlite3

from sefton_qa.store import records


def get_all(conn: sqlite3.Connection) -> dict:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM settings")}


def get(conn: sqlite3.Connection, key: str, default=None):
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def put(conn: sqlite3.Connection, key: str, value, *, who: records.Who,
        reason: str | None = None) -> None:
    row = conn.execute("SELECT id FROM settings WHERE key = ?", (key,)).fetchone()
    encoded = json.dumps(value)
    if row is None:
        records.insert_record(conn, "settings", {"key": key, "value": encoded}, who=who,
                              reason=reason)
    else:
        records.update_record(conn, "settings", row[0], {"value": encoded}, who=who,
                              reason=reason)
