"""The SQLite store. All SQL in Sefton QA lives in this package, one module per noun."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sefton_qa.domain.errors import (
    ServerStoreNeedsMigration,
    StoreDamaged,
    StoreError,
    StoreFromNewerVersion,
)
from sefton_qa.store.connection import (
    Store,
    backup_to,
    check_is_sqlite_file,
    connect,
    is_network_path,
    timestamp_for_filename,
)
from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, applied_names

__all__ = ["Store", "open_store", "StoreError"]


def _has_user_tables(conn: sqlite3.Connection) -> bool:
    from sefton_qa.store import dialect

    return bool(dialect.of(conn).tables(conn))


def open_store(path: str | Path, *, create: bool = True, migrate: bool = True,
               read_only: bool = False, backup_dir: Path | None = None,
               check: bool = False) -> Store:
    """Open (and create, and migrate) the store at ``path``.

    Refuses network filesystems, files that are not SQLite, and stores written by a newer
    version of the app (those open read-only, with ``store.newer_version`` set). When a
    migration is pending on a store that already holds data, a backup is taken first with
    SQLite's backup API; a failed migration is rolled back whole.

    With ``check`` (the app's windows and the CLI's writing commands), a read-write open first
    runs a quick check on a read-only connection: the trail's append-only triggers are there,
    no trail row is missing and the newest trail rows match their hashes. A store that fails it
    is refused with :class:`StoreDamaged` before anything is written; it can still be opened
    read-only, or restored from a backup.

    ``path`` may also be a PostgreSQL server's address (a ``postgresql://`` URL, or a libpq
    connection string such as ``service=NAME``): the team store. See :func:`_open_server_store`.
    """
    from sefton_qa.store import postgres

    if postgres.is_server_location(path):
        return _open_server_store(str(path), create=create, migrate=migrate,
                                  read_only=read_only, check=check)
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
    newer = False
    if path.exists() and path.stat().st_size > 0:
        # read-only: a file we refuse is never changed (not even to WAL)
        newer = _probe(path, allow_newer=read_only, check=check and not read_only)
    conn = connect(path, read_only=read_only)
    store = Store(path, conn, read_only=read_only)
    store.newer_version = newer
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


def _open_server_store(location: str, *, create: bool, migrate: bool, read_only: bool,
                       check: bool) -> Store:
    """Open the store in a PostgreSQL database. Every refusal is one plain sentence and
    nothing is written: a bad address, an unreachable server, a refused login, a database that
    is not a Sefton QA store, or one from a newer version (opened read-only when asked). An
    empty database becomes a new store, and an older store is brought up to date, each in one
    transaction."""
    from sefton_qa.store import dialect, pg_schema, postgres

    conn = postgres.connect(location, read_only=read_only)
    where = postgres.describe_location(location)
    errors = dialect.database_errors()
    try:
        newer = False
        try:
            _check_version(conn, where)
        except StoreFromNewerVersion:
            if not read_only:
                raise
            newer = True
        applied = applied_names(conn)
        if not applied and postgres.store_exists_unseen(conn):
            from sefton_qa.domain.errors import PermissionDenied

            login = postgres.session_login(conn)
            raise PermissionDenied(
                f"The login '{login}' is not let into the Sefton QA store in {where}: permission "
                "denied. An administrator adds you to the staff list (sefton-qa staff add), "
                "which lets your login in.")
        if not applied and (read_only or not create):
            raise StoreError(f"There is no Sefton QA store in {where} yet.")
        # Only a superuser's connection sets up or upgrades a store here (the tests, a one-person
        # server); otherwise IT does, as the store's owner, with server init / server migrate.
        trusted = postgres.is_superuser(conn)
        if not applied and not trusted:
            raise StoreError(
                f"There is no Sefton QA store in {where} yet. A store on a server is set up "
                "by IT, as the database's owner: sefton-qa --db URL server init --admin LOGIN "
                "(docs/SERVER.md).")
        if check and applied and not read_only and not newer:
            _check_at_open(conn, where)
        store = Store(None, conn, read_only=read_only, location=location)
        store.newer_version = newer
        store.has_trail = bool(applied)
        if migrate and not read_only:
            pending = [n for n in KNOWN_MIGRATIONS if n not in set(applied)]
            if pending and not trusted:
                raise ServerStoreNeedsMigration(
                    f"The store in {where} was set up by an older version of Sefton QA. IT "
                    "brings it up to date, as its owner: sefton-qa --db URL server migrate "
                    "(docs/SERVER.md). Until then it can be opened read-only.")
            if pending:
                with store.transaction() as tx:
                    # Another user may have migrated while this one waited for the lock.
                    pending = [n for n in KNOWN_MIGRATIONS if n not in set(applied_names(tx))]
                    if pending:
                        pg_schema.apply(tx, pending)
                store.has_trail = True
        return store
    except StoreError:
        conn.close()
        raise
    except errors as exc:
        conn.close()
        raise StoreError(f"{where} could not be used as a Sefton QA store: "
                         f"{postgres.first_line(exc)}.") from exc
    except BaseException:
        conn.close()
        raise


def _probe(path: Path, *, allow_newer: bool = False, check: bool = False) -> bool:
    """Check, without writing, that ``path`` is a Sefton QA store this version can open.
    Returns True for a store from a newer version (only when ``allow_newer``)."""
    try:
        probe = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{path} cannot be opened: {exc}.") from exc
    try:
        try:
            _check_version(probe, path)
        except StoreFromNewerVersion:
            if not allow_newer:
                raise
            return True
        if check:
            _check_at_open(probe, path)
        return False
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} could not be read as a Sefton QA store: {exc}. "
                         "It may be damaged; restore it from a backup.") from exc
    finally:
        probe.close()


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    applied = applied_names(conn)
    unknown = [name for name in applied if name not in KNOWN_MIGRATIONS]
    if unknown:
        raise StoreFromNewerVersion(
            f"{path} was written by a newer version of Sefton QA (schema step "
            f"{unknown[-1]!r} is unknown to this version). Install the newer version to work "
            "in it, or open it read-only to look at it; nothing has been changed.")
    if _has_user_tables(conn) and not applied:
        raise StoreError(f"{path} holds other tables: it is not a Sefton QA store. "
                         "Choose another file; nothing has been changed.")


def _check_at_open(conn: sqlite3.Connection, path: Path) -> None:
    """The quick check before a read-write open (milliseconds at any size; the full check is
    ``sefton-qa verify``, which the app also runs in the background once its window is open)."""
    from sefton_qa.store import trail

    from sefton_qa.store import dialect

    if "trail" not in dialect.of(conn).tables(conn):
        return  # a store from before the first migration: nothing to check yet
    problems = []
    missing = trail.missing_protection(conn)
    if missing:
        problems.append(f"the trail's protection ({', '.join(missing)}) was removed")
    d = dialect.of(conn)
    extra = sorted(d.all_triggers(conn) - d.expected_triggers_of(conn))
    if extra:
        problems.append("trigger(s) were added outside the app ("
                        + ", ".join(f"{name} on {table}" for table, name in extra) + ")")
    try:
        _checked, broken = trail.check_tail(conn)
    except (TypeError, ValueError) as exc:  # a value the app never writes (a blob, say)
        problems.append(f"the audit trail holds values Sefton QA never writes ({exc})")
    else:
        if broken is not None:
            problems.append(f"the audit trail breaks at row {broken.seq:,}: {broken.problem}")
    if problems:
        raise StoreDamaged(
            f"{path} failed its check on opening: {'; '.join(problems)}. It may have been "
            "changed outside Sefton QA, or be damaged. Nothing has been written to it. Open it "
            "read-only to look at it, or restore it from a backup.")


def pending_migrations(store: Store) -> list[str]:
    applied = set(applied_names(store.conn))
    return [name for name in KNOWN_MIGRATIONS if name not in applied]


def _steps():
    """The migrations themselves (imports sqlite-utils): only when one is pending."""
    from sefton_qa.store import migrations as steps  # a plain import, so bundlers see it

    return steps.migrations


def _migrate(store: Store, backup_dir: Path) -> None:
    if not pending_migrations(store):
        return
    if _has_user_tables(store.conn):
        from sefton_qa.store import backups

        # Checked with integrity_check and described by a manifest, so it can be restored.
        stem = backups.backup_stem(store.path, backups.store_id_of(store.conn))
        backups.backup_connection(store.conn, backup_dir, stem, "before-migration",
                                  source=store.path)
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")  # one writer migrates; others wait, then find nothing to do
    try:
        _steps().apply(store.db)
        conn.execute("COMMIT")
        store.wrote = True
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, Exception):
            raise StoreError(f"Updating the store's structure failed and was undone: {exc}. "
                             "The store is as it was.") from exc
        raise
