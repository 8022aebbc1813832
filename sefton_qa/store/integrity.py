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


def search_index_problems(conn: sqlite3.Connection) -> list[str]:
    """Every audit is in the search index, and nothing else is (read-only: FTS5's own
    'integrity-check' needs a writable connection)."""
    missing = conn.execute("SELECT count(*) FROM audits a LEFT JOIN audits_fts_docsize d "
                           "ON d.id = a.id WHERE d.id IS NULL").fetchone()[0]
    extra = conn.execute("SELECT count(*) FROM audits_fts_docsize d LEFT JOIN audits a "
                         "ON a.id = d.id WHERE a.id IS NULL").fetchone()[0]
    problems = []
    if missing:
        problems.append(f"{missing:,} audit(s) are missing from the search index")
    if extra:
        problems.append(f"the search index holds {extra:,} audit(s) that do not exist")
    return problems
