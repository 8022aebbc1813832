"""The record of each import and export: which file, its SHA-256, what range, how many rows."""

from __future__ import annotations

import sqlite3

from sefton_qa.store import records


def insert(conn: sqlite3.Connection, values: dict, *, who: records.Who,
           reason: str | None = None) -> int:
    return records.insert_record(conn, "file_transfers", values, who=who, kind=values["direction"],
                                 reason=reason)


NOT_DELIVERED = " (not delivered)"


def mark_not_delivered(conn: sqlite3.Connection, transfer_id: int, why: str, *,
                       who: records.Who) -> None:
    """A second trail row for a file recorded but never put in place."""
    name = records.get_row(conn, "file_transfers", transfer_id)["file_name"]
    records.update_record(conn, "file_transfers", transfer_id,
                          {"file_name": name + NOT_DELIVERED}, who=who, kind="not_delivered",
                          reason=f"the file could not be put in place: {why}")


def list_recent(conn: sqlite3.Connection, limit: int = 50) -> list[dict]:
    cur = conn.execute("SELECT id, direction, file_name, sha256, date_from, date_to, rows_written,"
                       " rows_skipped, created_at FROM file_transfers ORDER BY id DESC LIMIT ?",
                       (limit,))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r)) for r in cur]
