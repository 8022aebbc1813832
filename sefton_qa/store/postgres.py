"""The team store: the same store on a PostgreSQL server (psycopg 3).

:class:`PgConnection` gives the store modules what they use of an ``sqlite3.Connection``
(``execute`` with ``?`` placeholders, ``executemany``, ``in_transaction``, ``close``), so the
hand-written SQL serves both engines. Dates are bound as ISO text and booleans as 0/1, as
SQLite stores them, so records and the trail's JSON are byte for byte the same on either.

Credentials never pass through the app: the URL names the server, database and login, and
libpq finds the password itself (Kerberos/GSSAPI, ``~/.pgpass``/``PGPASSFILE``, a service
file), so nothing here stores one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import re

from sefton_qa.domain.errors import ServerUnreachable, StoreError
from sefton_qa.store.dialect import POSTGRESQL, translate

#: The advisory lock every write transaction takes first: one writer at a time keeps the
#: trail's hash chain linear (each save reads the trail's head, then appends after it).
WRITER_LOCK_KEY = 0x5EF7_04A0
#: How long a save waits for another's write (an import, say) before it is refused plainly.
LOCK_TIMEOUT_MS = 15_000
#: No single statement may run longer than this (verify and reports page their reads).
STATEMENT_TIMEOUT_MS = 15 * 60_000
#: A transaction left open this long by a crashed client is ended by the server.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 10 * 60_000
CONNECT_TIMEOUT_S = 10

_URL = re.compile(r"^(postgres|postgresql)://", re.IGNORECASE)
_CONNINFO = re.compile(r"^\s*[a-z_]+\s*=", re.IGNORECASE)


def is_server_location(location) -> bool:
    """A ``postgresql://`` URL or a libpq connection string (``service=NAME``, ``host=…``)."""
    text = str(location)
    return bool(_URL.match(text) or _CONNINFO.match(text))


def describe_location(conninfo: str) -> str:
    """Server and database, for titles and messages (never a password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(conninfo)
    except Exception:  # noqa: BLE001 - only for display
        return "a PostgreSQL server"
    host = params.get("host") or "localhost"
    if host.startswith("/"):
        host = "local socket"
    db = params.get("dbname") or params.get("service") or params.get("user") or "?"
    port = params.get("port")
    return f"{db} on {host}{':' + str(port) if port and port != '5432' else ''}"


_CURSOR_NAMES = itertools.count(1)
#: A plain read (its rows can be sent ahead; it changes nothing).
_READ = re.compile(r"^\s*SELECT\b", re.IGNORECASE)
#: The end of a transaction: what this connection remembered of it is dropped (on a
#: rollback, also what it had yet to send).
_COMMIT = re.compile(r"^\s*(COMMIT|END)\b", re.IGNORECASE)
_ROLLBACK = re.compile(r"^\s*(ROLLBACK|ABORT)\b", re.IGNORECASE)
#: A statement that may write the trail.
_TRAIL_WRITE = re.compile(r"\btrail\b", re.IGNORECASE)


_VALUES = re.compile(r"^\s*(?P<head>INSERT INTO \w+ \([\w, ]+\))\s*VALUES\s*"
                     r"\((\s*\?\s*,)*\s*\?\s*\)\s*$", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def _multi_row(head: str, width: int, rows: int) -> str:
    one = "(" + ",".join(["%s"] * width) + ")"
    return f"{head} VALUES " + ",".join([one] * rows)


class PgConnection:
    """An autocommit psycopg connection behind the sqlite3-like API the store modules use."""

    dialect = POSTGRESQL

    def __init__(self, raw, conninfo: str | None = None, read_only: bool = False):
        self.raw = raw
        #: The server's clock when this transaction took the writers' lock (None outside one).
        self.clock: str | None = None
        self.conninfo = conninfo
        self.read_only = read_only
        #: How many times the connection was made again after it was lost.
        self.reconnects = 0
        #: The trail's head (seq, hash) as this write transaction knows it: read with the
        #: writers' lock, moved on by each trail row it appends (nobody else can append
        #: meanwhile); None when it must be read.
        self.trail_head: tuple[int, str] | None = None
        #: Writes whose results nobody reads (link rows, trail rows), sent with the next
        #: statement in one round trip (psycopg's pipeline mode).
        self._deferred: list[tuple[str, list]] = []
        #: Reads sent ahead in one round trip (:meth:`read_ahead`), by statement and values;
        #: dropped by any write.
        self._ahead: dict[tuple, list] = {}

    def _live(self):
        """The connection, made again first if it was lost (the server restarted, the network
        dropped): the app reconnects by itself. A lost connection is never in a transaction,
        so nothing is carried over; if the server is still out of reach, a plain StoreError
        says so and nothing happens."""
        raw = self.raw
        if (raw.closed or raw.broken) and self.conninfo is not None:
            fresh = connect(self.conninfo, read_only=self.read_only)
            self.raw, self.clock = fresh.raw, None
            self._forget()
            self.reconnects += 1
            with contextlib.suppress(Exception):
                raw.close()
        return self.raw

    # -- round trips ---------------------------------------------------------------------------
    # On a link with 20 ms of round trip, a save's cost is its round trips, not its SQL. Three
    # things cut them, each leaving the statements and their order unchanged: writes nobody
    # reads the result of are deferred and sent with the next statement; reads a service will
    # make next are sent together (read_ahead); the trail's head is remembered within the
    # write transaction that holds the writers' lock.
    def _forget(self) -> None:
        self._deferred.clear()
        self._ahead.clear()
        self.trail_head = None

    def _wrote(self, sql: str) -> None:
        """A statement that is not a plain read: reads sent ahead may be stale now, and a write
        to the trail other than :func:`trail.append_many`'s makes its head unknown."""
        self._ahead.clear()
        if _TRAIL_WRITE.search(sql):
            self.trail_head = None

    def together(self, statements) -> list:
        """Send the deferred writes and then ``statements`` (``(sql, params)`` pairs) in one
        round trip; returns a cursor for each statement, its rows ready to fetch. The first
        failure is raised (the later statements are not run)."""
        raw = self._live()
        pending, self._deferred = self._deferred, []
        idle = not self.in_transaction
        try:
            return self._send(raw, pending, statements)
        except Exception as exc:
            # As in execute: a connection the server ended while idle is made again and the
            # statements sent once more (outside a transaction nothing was deferred or lost).
            if not (idle and not pending and self.conninfo is not None
                    and (raw.closed or raw.broken) and _is_operational(exc)):
                raise
            return self._send(self._live(), [], statements)

    def _send(self, raw, pending, statements) -> list:
        cursors = []
        with raw.pipeline():
            for sql, params in pending:
                raw.execute(sql, params)
            for sql, params in statements:
                if not _READ.match(sql):
                    self._wrote(sql)
                cursors.append(raw.execute(translate(sql), params if params is not None
                                           else ()))
        return cursors

    def defer(self, sql: str, rows) -> None:
        """Write ``rows`` with ``sql`` (an ``INSERT … VALUES (?, …)`` or a ``DELETE``) with
        the next statement sent: only inside a transaction, and only where no result is read.
        A failure is raised by that next statement (at the latest COMMIT), so the transaction
        still fails as a whole."""
        if not self.in_transaction:
            self.executemany(sql, rows)
            return
        self._wrote(sql)
        self._deferred.extend(self._statements(sql, rows))

    def read_ahead(self, queries) -> None:
        """Send ``queries`` (``(sql, params)`` pairs, reads only) together; each one's rows
        are then handed to the next :meth:`execute` of the same statement with the same values,
        until something is written."""
        queries = [(sql, tuple(params or ())) for sql, params in queries]
        queries = [q for q in queries if _hashable(q)]
        for (sql, params), cur in zip(queries, self.together(queries)):
            self._ahead.setdefault((sql, params), []).append(cur)

    def forget_reads_ahead(self) -> None:
        self._ahead.clear()

    def execute(self, sql: str, params=()):
        params = params if params is not None else ()
        if self._ahead:
            try:
                waiting = self._ahead.get((sql, tuple(params)))
            except TypeError:  # a value that cannot be a key (a list): never sent ahead
                waiting = None
            if waiting:
                return waiting.pop(0)
        if _READ.match(sql):
            pass
        elif _ROLLBACK.match(sql):  # what was deferred is undone with the rest
            self._forget()
        elif _COMMIT.match(sql):
            try:
                return self.together([(sql, params)])[0]
            finally:
                self._forget()
        else:
            self._wrote(sql)
        if self._deferred:
            return self.together([(sql, params)])[0]
        raw = self._live()
        idle = not self.in_transaction
        try:
            return raw.execute(translate(sql), params)
        except Exception as exc:
            # A connection the server ended while it sat idle (a restart) is only found dead
            # when next used: outside a transaction nothing was lost, so connect again and
            # run the statement once more.
            if not (idle and self.conninfo is not None and (raw.closed or raw.broken)
                    and _is_operational(exc)):
                raise
            return self._live().execute(translate(sql), params)

    def stream(self, sql: str, params=()):
        """A named (server-side) cursor; needs an open transaction."""
        if self._deferred:
            self.together([])
        name = f"sefton_stream_{next(_CURSOR_NAMES)}"
        cur = self._live().cursor(name=name)
        cur.itersize = 5_000
        cur.execute(translate(sql), params if params is not None else ())
        return cur

    def executemany(self, sql: str, rows):
        """As sqlite3's. An ``INSERT … VALUES (?, …)`` is sent as multi-row statements (up to
        the protocol's 65,535 parameters each): one statement per thousands of rows, so the
        server's statement-level checks (the trail's chain, changes held to the trail) run
        once per batch, and a bulk insert makes few round trips."""
        self._wrote(sql)
        if self._deferred:
            self.together([])
        match = _VALUES.match(sql)
        self._live()
        if match is None:
            cur = self.raw.cursor()
            cur.executemany(translate(sql), rows)
            return cur
        cur = self.raw.cursor()
        for statement, values in self._statements(sql, rows):
            cur.execute(statement, values)
        return cur

    def copy_rows(self, table: str, columns, rows) -> int:
        """Write ``rows`` (tuples in ``columns``' order) into ``table`` with ``COPY … FROM
        STDIN``, streamed a row at a time: no statement text to build or parse, however many
        rows. Only inside a transaction (the caller's: a failure undoes it with the rest). The
        writes deferred so far are sent first, so the order of writes is kept. Returns the
        number of rows written."""
        if not self.in_transaction:
            raise RuntimeError("COPY is only used inside the caller's write transaction")
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        self._wrote(sql)
        if self._deferred:
            self.together([])
        written = 0
        with self.raw.cursor() as cur, cur.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                written += 1
        return written

    @staticmethod
    def _statements(sql: str, rows) -> list[tuple[str, list]]:
        """``sql`` over ``rows`` as psycopg statements: an ``INSERT … VALUES (?, …)`` as
        multi-row statements (up to the protocol's 65,535 parameters each), anything else
        once a row."""
        match = _VALUES.match(sql)
        if match is None:
            return [(translate(sql), list(row)) for row in rows]
        width = sql.count("?")
        per = max(1, min(5_000, 65_535 // width))
        rows = rows if isinstance(rows, list) else list(rows)
        return [(_multi_row(match["head"], width, len(rows[start:start + per])),
                 [v for row in rows[start:start + per] for v in row])
                for start in range(0, len(rows), per)]

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        raw = self.raw
        if raw.closed or raw.broken:  # a lost connection holds no transaction any more
            return False
        return raw.info.transaction_status != TransactionStatus.IDLE

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def cancel(self) -> None:
        """Stop the statement running now (from another thread)."""
        try:
            self.raw.cancel_safe(timeout=5)
        except Exception:  # noqa: BLE001 - the connection may be gone already
            pass

    def close(self) -> None:
        self.conninfo = None  # closed on purpose: never made again
        self._forget()
        try:
            self.raw.close()
        except Exception:  # noqa: BLE001
            pass


def _is_operational(exc: BaseException) -> bool:
    import psycopg

    return isinstance(exc, psycopg.OperationalError)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _adapters(raw) -> None:
    """Bind dates as ISO text and booleans as 0/1, exactly as the SQLite store holds them."""
    from psycopg.adapt import Dumper
    from psycopg.types.numeric import IntDumper

    class IsoDateDumper(Dumper):
        oid = 25  # text

        def dump(self, obj):
            return obj.isoformat().encode()

    class BoolAsIntDumper(IntDumper):
        def dump(self, obj):
            return b"1" if obj else b"0"

    raw.adapters.register_dumper(dt.date, IsoDateDumper)
    raw.adapters.register_dumper(bool, BoolAsIntDumper)


def connect(conninfo: str, *, read_only: bool = False) -> PgConnection:
    """Connect, with the timeouts every Sefton QA session has. Errors are plain sentences."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        raise StoreError("This installation cannot open a PostgreSQL store: the psycopg "
                         "package is missing.") from exc
    where = describe_location(conninfo)
    options = (f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS} "
               f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    if read_only:
        options += " -c default_transaction_read_only=on"
    try:
        raw = psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                              options=options, application_name="Sefton QA")
    except psycopg.ProgrammingError as exc:  # a malformed URL or connection string
        raise StoreError(f"The store address is not a valid PostgreSQL address: "
                         f"{first_line(exc)}.") from exc
    except psycopg.OperationalError as exc:
        plain = plain_connect_error(exc, where)
        if "could not be reached" in plain:
            raise ServerUnreachable(plain) from exc
        raise StoreError(plain) from exc
    _adapters(raw)
    return PgConnection(raw, conninfo, read_only)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def plain_connect_error(exc: BaseException, where: str) -> str:
    text = str(exc)
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered \
            or "authentication failed" in lowered or "role" in lowered and "does not exist" in lowered:
        return (f"The server refused your login for {where}. Check the user name in the "
                "address and your password (kept by PostgreSQL's own password file or "
                "Kerberos, never by Sefton QA), or ask IT for access.")
    if "database" in lowered and "does not exist" in lowered:
        return f"There is no database {where}. Check the address, or ask IT to create it."
    if "no pg_hba.conf entry" in lowered or "permission denied" in lowered:
        return f"The server does not let you in to {where} ({first_line(exc)}). Ask IT."
    return (f"The server for {where} could not be reached ({first_line(exc)}). Check the "
            "address and the network, then try again.")


APP_NAME = "Sefton QA"


def set_activity(conn: PgConnection, what: str | None) -> None:
    """Show what this session is doing in the server's activity view (application_name)."""
    text = f"{APP_NAME}: {what}" if what else APP_NAME
    conn.execute("SELECT set_config('application_name', ?, false)", (text[:63],))


def lock_holder(conn: PgConnection) -> str | None:
    """What the session holding the writers' lock says it is doing, if it says."""
    row = conn.execute(
        "SELECT a.application_name, a.usename FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.granted AND l.objid = ? AND l.pid <> pg_backend_pid() "
        # advisory locks are the database's own: another store on the server is not waited for
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "LIMIT 1",
        (WRITER_LOCK_KEY & 0xFFFFFFFF,)).fetchone()
    if row is None:
        return None
    name, user = row
    if name and name.startswith(f"{APP_NAME}: "):
        what = name[len(APP_NAME) + 2:]
        return f"{what}, by {user}" if user else what
    return f"a save by {user}" if user else None


def connection_lost(exc: BaseException, conn: PgConnection) -> bool:
    """``exc`` is the connection going away (not a refusal by a live server)."""
    import psycopg

    return isinstance(exc, psycopg.OperationalError) and (conn.raw.closed or conn.raw.broken)


def plain_write_error(exc: BaseException) -> str | None:
    """The plain message for a save the server refused for a reason that is not a bug, or None."""
    import psycopg
    from psycopg import errors

    if isinstance(exc, errors.LockNotAvailable):
        return ("The store could not be written: another user's work (an import, say) kept it "
                "busy for too long. Nothing was saved; your text is kept, try again in a "
                "moment.")
    if isinstance(exc, errors.QueryCanceled):
        return "The store could not be written: the save took too long and was stopped. " \
               "Nothing was saved."
    if isinstance(exc, (errors.DiskFull, errors.InsufficientResources)):
        return "The store could not be written: the server is out of space. Nothing was " \
               "saved; tell IT."
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return "This store is open read-only; nothing can be changed."
    if isinstance(exc, psycopg.OperationalError):
        return ("The store could not be written: the connection to the server was lost "
                f"({first_line(exc)}). The save did not happen; nothing half-written "
                "remains. Check the network and try again.")
    return None


def store_exists_unseen(conn) -> bool:
    """A store's tables are there, but this login may not read them."""
    return bool(conn.execute(
        "SELECT to_regclass('_sqlite_migrations') IS NOT NULL AND NOT "
        "has_table_privilege(to_regclass('_sqlite_migrations'), 'SELECT')").fetchone()[0])


def is_superuser(conn) -> bool:
    return bool(conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = session_user")
                .fetchone()[0])


def session_login(conn) -> str:
    """The login the server authenticated this connection as (never an environment
    variable: a login given without its credentials is refused by the server)."""
    return conn.execute("SELECT session_user").fetchone()[0]
