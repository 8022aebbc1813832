"""The names of the schema's steps, and which a store has applied, without sqlite-utils.

Every start of the app checks a store's schema steps; importing sqlite-utils (and through it
click, pluggy and importlib.metadata) costs more than the rest of that check, so the check
reads the migrations table directly and ``migrations.py`` (the steps themselves, with
sqlite-utils) is imported only when a step is pending. ``migrations.py`` refuses to load if
its steps and :data:`KNOWN_MIGRATIONS` ever disagree.
"""

from __future__ import annotations

import sqlite3

MIGRATION_SET = "sefton_qa"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite_utils.migrations.Migrations.migrations_table
KNOWN_MIGRATIONS = (
    "0001_initial_schema",
    "0002_moderations_and_import",
    "0003_search_and_register_indexes",
    "0004_moderation_loop",
    "0005_faster_bulk_insert",
)


def applied_names(conn: sqlite3.Connection) -> list[str]:
    """The steps this store has applied, in the order they were applied (read-only)."""
    from sefton_qa.store import dialect

    d = dialect.of(conn)
    if MIGRATIONS_TABLE not in d.tables(conn):
        return []
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? "
        f"ORDER BY {d.migrations_order}", (MIGRATION_SET,))]
