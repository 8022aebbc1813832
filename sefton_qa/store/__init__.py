"""The SQLite store. All SQL in Sefton QA lives in this package, one module per noun."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from sefton_qa.domain.errors import StoreError
from sefton_qa.store.connection import (
    Store,
    backup_to,
    check_is_sqlite_file,
    connect,
    is_network_path,
    timestamp_for_filename,
)
from sefton_qa.store.migrations import KNOWN_MIGRATIONS, migrations

__all__ = ["Store", "open_store", "StoreError"]


def _has_user_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()[0] > 0


def open_store(path: str | Path, *, create: bool = True, migrate: bool = True,
               read_only: bool = False, backup_dir: Path | None = None) -> Store:
    """Open (and create, and migrate) the store at ``path``.

    Refuses network filesystems, files that are not SQLite, and stores written by a newer
    version of the app. When a migration is pending on a store that already holds data, a
    backup is taken first with SQLite's backup API; a failed migration is rolled back whole.
    """
    path = Path(path).expanduser().absolute()
    if is_network_path(path):
        raise StoreError(
            f"{path} is on a network drive. Sefton QA keeps its store on this computer's own "
            "disk because SQLite's write-ahead log is only safe when every user is on one "
            "machine. Choose a folder on a local disk.")
    if not path.exists():
        if not create or read_only:
            raise StoreError(f"There is no store at {path}.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the folder for the store at {path}: {exc}") from exc
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file. Give the path of the store "
                         "file itself (for example sefton-qa.sqlite3).")
    check_is_sqlite_file(path)
    if path.exists() and path.stat().st_size > 0:
        _probe(path)  # read-only: a file we refuse is never changed (not even to WAL)
    conn = connect(path, read_only=read_only)
    store = Store(path, conn, read_only=read_only)
    try:
        if migrate and not read_only:
            _migrate(store, backup_dir or path.parent / "backups")
    except sqlite3.DatabaseError as exc:
        store.close()
        raise StoreError(f"{path} could not be read as a Sefton QA store: {exc}. "
                         "It may be damaged; restore it from a backup.") from exc
    except BaseException:
        store.close()
        raise
    return store


def _probe(path: Path) -> None:
    """Check, without writing, that ``path`` is a Sefton QA store this version can open."""
    try:
        probe = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened: {exc}.") from exc
    try:
        _check_version(probe, path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} could not be read as a Sefton QA store: {exc}. "
                         "It may be damaged; restore it from a backup.") from exc
    finally:
        probe.close()


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    applied = [m.name for m in migrations.applied(sqlite_utils.Database(conn))]
    unknown = [name for name in applied if name not in KNOWN_MIGRATIONS]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer version of Sefton QA (schema step "
            f"{unknown[-1]!r} is unknown to this version). Install the newer version to open it; "
            "nothing has been changed.")
    if _has_user_tables(conn) and not applied:
        raise StoreError(f"{path} is an SQLite database but not a Sefton QA store. "
                         "Choose another file; nothing has been changed.")


def pending_migrations(store: Store) -> list[str]:
    return [m.name for m in migrations.pending(store.db)]


def _migrate(store: Store, backup_dir: Path) -> None:
    if not pending_migrations(store):
        return
    if _has_user_tables(store.conn):
        from sefton_qa.store import backups

        # Checked with integrity_check and described by a manifest, so it can be restored.
        backups.backup_connection(store.conn, backup_dir, store.path.stem, "before-migration",
                                  source=store.path)
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")  # one writer migrates; others wait, then find nothing to do
    try:
        migrations.apply(store.db)
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, Exception):
            raise StoreError(f"Updating the store's structure failed and was undone: {exc}. "
                             "The store is as it was.") from exc
        raise
