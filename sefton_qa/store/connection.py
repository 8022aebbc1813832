"""Opening the store: one SQLite file, WAL, synchronous=FULL, foreign keys on, BEGIN IMMEDIATE writes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import stat
import sys
import threading
from pathlib import Path
from typing import Iterator


from sefton_qa.domain.errors import ServerUnreachable, StoreError

BUSY_TIMEOUT_MS = 15_000
SQLITE_HEADER = b"SQLite format 3\x00"
NETWORK_FILESYSTEMS = frozenset({
    "cifs", "smb", "smb2", "smb3", "smbfs", "nfs", "nfs4", "afs", "ncpfs", "9p",
    "fuse.sshfs", "sshfs", "davfs", "fuse.davfs2", "glusterfs", "ceph", "lustre", "fuse.rclone",
})


class StoreWriteError(StoreError, sqlite3.OperationalError):
    """A save the disk refused (full, I/O error, locked too long): a StoreError with a plain
    message, and still an ``sqlite3.OperationalError`` for code that catches that."""


class ConnectionLost(StoreWriteError, ServerUnreachable):
    """The connection to the team's server went away during a save: nothing of it remains."""


def plain_write_error(exc: sqlite3.OperationalError) -> str | None:
    """The plain message for a write SQLite could not make, or None if it is not one of those."""
    text = str(exc)
    lowered = text.lower()
    if "disk is full" in lowered or getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
        why = "the disk is full. Nothing was saved; free some space and try again."
    elif "disk i/o error" in lowered or getattr(exc, "sqlite_errorname", "").startswith(
            "SQLITE_IOERR"):
        why = (f"the disk reported an error ({text}). Nothing was saved; check the drive "
               "and try again.")
    elif "database is locked" in lowered or "database is busy" in lowered:
        why = ("another window kept it busy for too long. Nothing was saved; try again in "
               "a moment.")
    else:
        return None
    return f"The store could not be written: {why}"


class Store:
    """An open store. ``conn`` is in autocommit mode; writes go through :meth:`transaction`.

    A store is a file (SQLite; ``path`` is the file) or a database on a server (PostgreSQL;
    ``path`` is None). ``location`` is what :func:`sefton_qa.store.open_store` takes to open
    it again, ``dialect`` what the engine can do (``dialect.is_file``)."""

    def __init__(self, path: Path | None, conn: sqlite3.Connection, *, read_only: bool = False,
                 location: str | None = None):
        from sefton_qa.store import dialect

        self.path = path
        self.conn = conn
        self.dialect = dialect.of(conn)
        self.location = location if location is not None else str(path)
        self._db = None
        self.read_only = read_only
        #: Set by ``open_store`` for a store written by a newer version (opened read-only).
        self.newer_version = False
        #: True once a write transaction of this connection has committed.
        self.wrote = False
        #: Called with what another user is doing when a save has to wait for it (server).
        self.on_wait = None
        self._doing: str | None = None
        self._lock = threading.RLock()
        #: On a server: the store's tables exist, so a write transaction reads the trail's
        #: head as it begins (not while the first migration creates them).
        self.has_trail = False
        #: Called (last added first) as the store closes.
        self.on_close: list = []

    @property
    def db(self):
        """A sqlite-utils Database over the connection (for migrations), made when first
        asked for: importing sqlite-utils is most of an idle start's cost."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- transactions -------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE so writers queue instead of failing.

        Nested use becomes a savepoint, so a service can call another service inside its own
        transaction and still be all-or-nothing.
        """
        if self.read_only:
            raise StoreError("This store is open read-only; nothing can be changed.")
        if not self.dialect.is_file:
            with self._lock, self._server_transaction() as conn:
                yield conn
            return
        with self._lock:
            if self.conn.in_transaction:
                name = f"sp_{threading.get_ident()}_{id(object())}"
                self.conn.execute(f"SAVEPOINT {name}")
                try:
                    yield self.conn
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                        self.conn.execute(f"RELEASE SAVEPOINT {name}")
                    raise
                else:
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # locked past the busy timeout, I/O error
                plain = plain_write_error(exc)
                if plain is None:
                    raise
                raise StoreWriteError(plain) from exc
            try:
                yield self.conn
                self.conn.execute("COMMIT")
                self.wrote = True
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                plain = plain_write_error(exc)
                if plain is None:
                    raise
                raise StoreWriteError(plain) from exc
            except BaseException:
                # Also when COMMIT itself fails (disk full, I/O error): never leave the
                # connection inside a dead transaction that later saves would join.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def _server_transaction(self):
        """The same on a server: BEGIN, then the writers' advisory lock, so saves take turns
        and the trail's chain stays linear; nested calls are savepoints."""
        from sefton_qa.store import postgres

        conn = self.conn
        if conn.in_transaction:
            name = f"sp_{threading.get_ident()}_{id(object())}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        try:
            self._take_writers_lock(conn)
            yield conn
            conn.clock = None
            conn.execute("COMMIT")
            self.wrote = True
        except BaseException as exc:
            conn.clock = None
            with contextlib.suppress(Exception):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            plain = postgres.plain_write_error(exc) if isinstance(exc, Exception) else None
            if plain is None:
                raise
            if postgres.connection_lost(exc, conn):
                raise ConnectionLost(plain) from exc
            raise StoreWriteError(plain) from exc

    def _take_writers_lock(self, conn) -> None:
        from sefton_qa.store import postgres, trail

        key = postgres.WRITER_LOCK_KEY
        # BEGIN, the lock, the server's clock and the trail's head in one round trip: every
        # change this transaction writes is stamped with that time (trail.now), which the
        # server checks, and its trail rows follow that head.
        cursors = conn.together([
            ("BEGIN", ()),
            (f"SELECT pg_try_advisory_xact_lock(?), ({trail.SERVER_CLOCK_SQL})", (key,)),
            *([(trail.HEAD_SQL, ())] if self.has_trail else [])])
        taken, conn.clock = cursors[1].fetchone()
        if taken:
            if self.has_trail:
                conn.trail_head = trail.head_of(cursors[2].fetchone())
            return
        holder = postgres.lock_holder(conn)
        if self.on_wait is not None:
            self.on_wait(holder)
        try:
            conn.clock = conn.execute(f"SELECT ({trail.SERVER_CLOCK_SQL}) FROM "
                                      "(SELECT pg_advisory_xact_lock(?)) AS locked",
                                      (key,)).fetchone()[0]
        except Exception as exc:
            from psycopg import errors

            if isinstance(exc, errors.LockNotAvailable):
                what = f" ({holder})" if holder else ""
                raise StoreWriteError(
                    f"The store could not be written: another user's work{what} kept it busy "
                    "for too long. Nothing was saved; your text is kept, try again in a "
                    "moment.") from exc
            raise

    @contextlib.contextmanager
    def doing(self, what: str):
        """Say what this connection is doing while a long write runs (an import): a save that
        has to wait for it on a server is told. Nothing on a file store."""
        if self.dialect.is_file:
            yield
            return
        from sefton_qa.store import postgres

        previous = self._doing
        self._doing = what
        postgres.set_activity(self.conn, what)
        try:
            yield
        finally:
            self._doing = previous
            postgres.set_activity(self.conn, previous)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read across several queries (a deferred read transaction; on a
        server, REPEATABLE READ so every statement sees the same snapshot)."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN" if self.dialect.is_file else
                              "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield self.conn
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple | list | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def stop_when(self, should_stop) -> None:
        """Abort this connection's statements once ``should_stop()`` is true (SQLite checks it
        every thousand steps; a server's statement is stopped by :meth:`interrupt`)."""
        if self.dialect.is_file:
            self.conn.set_progress_handler(lambda: 1 if should_stop() else 0, 1_000)

    def interrupt(self) -> None:
        """Stop the statement running now, from another thread."""
        if self.dialect.is_file:
            with contextlib.suppress(sqlite3.Error):
                self.conn.interrupt()
        else:
            self.conn.cancel()

    def describe(self) -> str:
        """Where the store is, for titles and messages: the file, or database and server."""
        if self.dialect.is_file:
            return str(self.path)
        from sefton_qa.store.postgres import describe_location

        return describe_location(self.location)

    def close(self) -> None:
        while self.on_close:  # what depends on this store goes first (a worker's connection)
            self.on_close.pop()()
        if not self.dialect.is_file:
            self.conn.close()
            return
        with contextlib.suppress(sqlite3.Error):
            if self.wrote and not self.read_only and not self.conn.in_transaction:
                # Keeps the query planner's statistics fresh (cheap; SQLite's advice). Only
                # after this connection wrote: opening and closing a store never changes it.
                self.conn.execute("PRAGMA optimize")
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- checks before opening ---------------------------------------------------------------------
def filesystem_type(path: Path) -> str | None:
    """The filesystem type holding ``path`` (Linux: from /proc/self/mounts), or None if unknown."""
    try:
        target = os.path.realpath(path if path.exists() else path.parent)
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[:3] for line in fh if line.strip()]
    except OSError:
        return None
    best, best_type = "", None
    for _dev, mount_point, fstype in mounts:
        mount_point = mount_point.replace("\\040", " ")
        if (target == mount_point or target.startswith(mount_point.rstrip("/") + "/")) \
                and len(mount_point) >= len(best):
            best, best_type = mount_point, fstype
    return best_type


def is_network_path(path: Path) -> bool:
    text = str(path)
    if sys.platform == "win32":
        if text.startswith("\\\\") or text.startswith("//"):
            return True
        drive = os.path.splitdrive(os.path.abspath(text))[0]
        if drive:
            try:
                import ctypes

                return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == 4  # DRIVE_REMOTE
            except (AttributeError, OSError):
                return False
        return False
    fstype = filesystem_type(path)
    return bool(fstype) and (fstype in NETWORK_FILESYSTEMS or fstype.startswith("nfs")
                             or fstype.startswith("smb"))


def check_is_sqlite_file(path: Path) -> None:
    try:
        if not path.exists():
            return
        if not stat.S_ISREG(path.stat().st_mode):  # a named pipe would block the read below
            raise StoreError(f"{path} is not a regular file, so it cannot be a Sefton QA "
                             "store. Choose another file.")
        if path.stat().st_size == 0:
            return
        with open(path, "rb") as fh:
            header = fh.read(16)
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if header != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a Sefton QA store (it is not an SQLite database). "
            "Choose another file, or restore a store from a backup."
        )


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection with the pragmas every Sefton QA connection must have."""
    if read_only:
        uri = path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"Could not switch {path} to WAL journalling (got {mode}).")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"{path} could not be opened as a Sefton QA store: {exc}. "
            "It may be damaged; restore it from a backup."
        ) from exc
    return conn


def backup_to(store: Store, destination: Path) -> Path:
    """Copy the store with SQLite's online backup API (never a file copy)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_suffix(destination.suffix + ".partial")
    if tmp.exists():
        tmp.unlink()
    target = sqlite3.connect(str(tmp))
    try:
        store.conn.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
    os.replace(tmp, destination)
    return destination


def timestamp_for_filename(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ")
