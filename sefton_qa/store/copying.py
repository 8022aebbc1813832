"""Copying a whole store to another engine: every record with its id, and the trail row for row,
so the copy rebuilds from its trail exactly as the original and has the same head hash."""

from __future__ import annotations

from typing import Callable

from sefton_qa.store import dialect, records
from sefton_qa.store.migrations import SCHEMA_0001

#: In an order that satisfies every foreign key (staff.team_id is filled in after teams).
TABLES = ("settings", "grades", "service_areas", "themes", "staff", "teams", "audit_templates",
          "audits", "audit_themes", "moderations", "import_mappings", "file_transfers",
          "reflective_conversations", "remedial_actions", "caseload_snapshots",
          "caseload_cases", "audit_plans", "plan_quotas", "draws", "drawn_cases", "allocations",
          "trail")
#: Columns that point forward in TABLES: written as NULL, then set once their rows exist.
_FORWARD = {"staff": ("team_id",)}
_BATCH = 5_000
_ORDER = {"trail": "seq", "audit_themes": "audit_id, theme_id"}


def columns(conn, table: str) -> list[str]:
    """The table's stored columns (not the ones the engine computes)."""
    cur = conn.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    generated = records.GENERATED.get(table, frozenset())
    return [c[0] for c in cur.description if c[0] not in generated]


def counts(conn) -> dict[str, int]:
    present = dialect.of(conn).tables(conn)
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES
            if t in present}


def holds_work(conn) -> bool:
    """True when a store holds anything but what a new store starts with (its seeds)."""
    if "trail" not in dialect.of(conn).tables(conn):
        return False
    return conn.execute("SELECT count(*) FROM trail WHERE kind != 'seed'").fetchone()[0] > 0


def _suspend_trail_guard(conn) -> None:
    if dialect.of(conn).is_file:
        conn.execute("DROP TRIGGER IF EXISTS trail_is_append_only_delete")
    else:
        conn.execute("ALTER TABLE trail DISABLE TRIGGER trail_is_append_only_delete")


def _restore_trail_guard(conn) -> None:
    if dialect.of(conn).is_file:
        statement = next(s for s in SCHEMA_0001
                         if s.startswith("CREATE TRIGGER trail_is_append_only_delete"))
        conn.execute(statement)
    else:
        conn.execute("ALTER TABLE trail ENABLE ALWAYS TRIGGER trail_is_append_only_delete")


def refresh_statistics(conn) -> None:
    """The planner's statistics for the tables just filled (outside any transaction)."""
    conn.execute("ANALYZE" if not dialect.of(conn).is_file else "PRAGMA optimize")


def copy_all(source, dest, progress: Callable[[str, int], None] | None = None) -> None:
    """Copy every table of ``source`` into ``dest``, inside the caller's write transaction on
    ``dest`` (a new store: its seed rows are replaced by the source's)."""
    _suspend_trail_guard(dest)
    for table in reversed(TABLES):
        dest.execute(f"DELETE FROM {table}")
    _restore_trail_guard(dest)
    patches = []
    for table in TABLES:
        names = columns(source, table)
        forward = [names.index(c) for c in _FORWARD.get(table, ())]
        insert = (f"INSERT INTO {table} ({', '.join(names)}) "
                  f"VALUES ({', '.join('?' * len(names))})")
        cur = dialect.of(source).stream(
            source, f"SELECT {', '.join(names)} FROM {table} ORDER BY {_ORDER.get(table, 'id')}")
        written = 0
        while True:
            rows = cur.fetchmany(_BATCH)
            if not rows:
                break
            if forward:
                id_at = names.index("id")
                for row in rows:
                    for i in forward:
                        if row[i] is not None:
                            patches.append((table, names[i], row[i], row[id_at]))
                rows = [tuple(None if i in forward else v for i, v in enumerate(row))
                        for row in rows]
            dest.executemany(insert, rows)
            written += len(rows)
            if progress is not None:
                progress(table, written)
    for table, column, value, record_id in patches:
        dest.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, record_id))
    if dialect.of(dest).is_file:
        dest.execute("INSERT INTO audits_fts (audits_fts) VALUES ('rebuild')")
