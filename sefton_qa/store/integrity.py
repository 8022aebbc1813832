"""The engine's own checks: on SQLite integrity_check and foreign_key_check; on a server,
foreign keys by anti-join (the server keeps its files sound itself: checksums, amcheck)."""

from __future__ import annotations

import sqlite3

from sefton_qa.store import dialect

#: What verify says of the file check on a server store.
SERVER_KEEPS_ITS_FILES = ("the server keeps its own files sound (page checksums, amcheck, "
                          "its backups): IT's job, not the app's")


def integrity_problems(conn: sqlite3.Connection, *, max_errors: int = 20) -> list[str]:
    if not dialect.of(conn).is_file:
        return []
    rows = [r[0] for r in conn.execute(f"PRAGMA integrity_check({max_errors})")]
    return [] if rows == ["ok"] else rows


def foreign_key_problems(conn: sqlite3.Connection, *, limit: int = 20) -> list[str]:
    out = []
    if dialect.of(conn).is_file:
        for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
            out.append(f"{table} row {rowid} points to a missing {parent} row")
            if len(out) >= limit:
                break
        return out
    for table, column, parent, parent_column in _server_foreign_keys(conn):
        rows = conn.execute(
            f"SELECT c.ctid::text FROM {table} c LEFT JOIN {parent} p "
            f"ON p.{parent_column} = c.{column} WHERE c.{column} IS NOT NULL "
            f"AND p.{parent_column} IS NULL LIMIT ?", (limit - len(out),)).fetchall()
        out.extend(f"{table} row {r[0]} points to a missing {parent} row" for r in rows)
        if len(out) >= limit:
            break
    return out


def _server_foreign_keys(conn) -> list[tuple[str, str, str, str]]:
    """(table, column, parent table, parent column) of every single-column foreign key."""
    return conn.execute(
        "SELECT cl.relname, a.attname, pcl.relname, pa.attname FROM pg_constraint c "
        "JOIN pg_class cl ON cl.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = cl.relnamespace "
        "JOIN pg_class pcl ON pcl.oid = c.confrelid "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND n.nspname = current_schema() "
        "AND array_length(c.conkey, 1) = 1 ORDER BY cl.relname, c.conname").fetchall()


def search_index_problems(conn: sqlite3.Connection) -> list[str]:
    """Every audit is in the search index, and nothing else is (read-only: FTS5's own
    'integrity-check' needs a writable connection). A server's index is a generated column
    of each audit, which cannot drift."""
    if not dialect.of(conn).is_file:
        return []
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
