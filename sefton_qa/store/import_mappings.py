"""Saved header mappings: a team's own column name → the field it means."""

from __future__ import annotations

import sqlite3

from sefton_qa.store import records


def get_all(conn: sqlite3.Connection) -> dict[str, str]:
    return {h: f for h, f in conn.execute("SELECT source_header, field FROM import_mappings")}


def put(conn: sqlite3.Connection, source_header: str, field: str, *, who: records.Who) -> None:
    row = conn.execute("SELECT id FROM import_mappings WHERE source_header = ?",
                       (source_header,)).fetchone()
    if row is None:
        records.insert_record(conn, "import_mappings",
                              {"source_header": source_header, "field": field}, who=who)
    else:
        records.update_record(conn, "import_mappings", row[0], {"field": field}, who=who)
