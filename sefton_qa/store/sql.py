"""Small SQL-building helpers shared by the store modules."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from typing import Iterable, Iterator, Sequence

#: Stay well under SQLite's limit on bound parameters in one statement.
CHUNK = 900


def in_chunks(conn: sqlite3.Connection, sql: str, values: Iterable,
              params_before: Sequence = ()) -> Iterator[tuple]:
    """Run ``sql`` (which holds one ``{marks}`` for an IN list) over ``values`` in chunks,
    yielding every row."""
    values = list(values)
    for start in range(0, len(values), CHUNK):
        chunk = values[start:start + CHUNK]
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))),
                                [*params_before, *chunk])


def date_range(column: str, start: dt.date | None, end: dt.date | None
               ) -> tuple[list[str], list[str]]:
    """Clauses and parameters for ``start <= column <= end`` (either end may be open)."""
    clauses, params = [], []
    if start:
        clauses.append(f"{column} >= ?")
        params.append(start.isoformat())
    if end:
        clauses.append(f"{column} <= ?")
        params.append(end.isoformat())
    return clauses, params


class _NotARead(Exception):
    """A read-ahead function tried to write (or stream): recording stops there."""


class _EmptyCursor:
    description = ()
    rowcount = 0

    def fetchone(self):
        return None

    def fetchall(self):
        return []

    def __iter__(self):
        return iter(())


class _Recorder:
    """Stands in for a connection to learn which reads a function makes: every read returns
    no rows, anything else stops the recording."""

    def __init__(self, conn):
        self._conn = conn
        self.reads: list[tuple[str, tuple]] = []

    def execute(self, sql: str, params=()):
        if not sql.lstrip()[:6].upper() == "SELECT":
            raise _NotARead
        self.reads.append((sql, tuple(params or ())))
        return _EmptyCursor()

    def executemany(self, sql, rows):
        raise _NotARead

    def stream(self, sql, params=()):
        raise _NotARead

    def __getattr__(self, name):
        return getattr(self._conn, name)


@contextlib.contextmanager
def reads_ahead(conn, reads, *, later=None):
    """Yields ``reads(conn)``, with the reads it makes sent to a server together first: one
    round trip instead of one per query, which is most of a save's time over a slow link.

    The function runs for real afterwards, against the rows it would have read itself; a
    query it makes that was not foreseen (one whose text depends on what an earlier query
    found) simply runs then. Reads it made twice in the recording but once for real stay
    ready too. On a file this is just ``reads(conn)``.

    ``later`` names reads the block's own code will make (before it writes anything): they are
    sent with the others and kept for it, until the block ends or anything is written.
    """
    if getattr(conn, "read_ahead", None) is None:
        yield reads(conn)
        return
    recorder = _Recorder(conn)
    for each in (reads, later):
        try:
            if each is not None:
                each(recorder)
        except Exception:  # noqa: BLE001 - a write, or it met no rows: the real run says
            pass
    if recorder.reads:
        conn.read_ahead(recorder.reads)
    try:
        yield reads(conn)
    finally:
        conn.forget_reads_ahead()  # none left over for a later read, which may be elsewhere


def read_ahead(conn, reads, *, later=None):
    """``reads(conn)`` as :func:`reads_ahead` runs it: its reads in one round trip."""
    with reads_ahead(conn, reads, later=later) as result:
        return result
