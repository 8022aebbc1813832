"""SQLite's own checks: integrity_check and foreign_key_check."""

from __future__ import annotations

import sqlite3


def integrity_problems(conn: sqlite3.Connection, *, max_errors: int = 20) -> list[str]:
    rows = [r[0] for r in conn.execute(f"PRAGMA integrity_check({max_errors})")]
    return [] if rows == ["ok"] else rows


def foreign_key_problems(conn: sqlite3.Connection, *, limit: int = 20) -> list[str]:
    out = []
    for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        out.append(f"{table} row {rowid} points to a missing {parent} row")
        if len(out) >= limit:
            break
    return out
