"""Counting the round trips a call makes to a PostgreSQL server: each statement sent outside a
pipeline waits for its answer, and a pipeline (psycopg's) waits once for all of it. Used by
tests/test_round_trips.py and by the benchmark's save over a slow link."""

from __future__ import annotations

import contextlib


class _CountingCursor:
    def __init__(self, raw_cursor, counter):
        self._cursor, self._counter = raw_cursor, counter

    def execute(self, *args, **kwargs):
        self._counter.trip()
        return self._cursor.execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        self._counter.trip()
        return self._cursor.executemany(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


class CountingConnection:
    """Stands in for the psycopg connection under PgConnection and counts the times it waits
    for the server: each statement outside a pipeline, and each pipeline as a whole."""

    def __init__(self, raw):
        self._raw = raw
        self.trips = 0
        self._piped = False

    def trip(self) -> None:
        if not self._piped:
            self.trips += 1

    def execute(self, *args, **kwargs):
        self.trip()
        return self._raw.execute(*args, **kwargs)

    def cursor(self, *args, **kwargs):
        return _CountingCursor(self._raw.cursor(*args, **kwargs), self)

    @contextlib.contextmanager
    def pipeline(self):
        self.trip()
        self._piped = True
        try:
            with self._raw.pipeline() as pipe:
                yield pipe
        finally:
            self._piped = False

    def __getattr__(self, name):
        return getattr(self._raw, name)


def count_round_trips(store, call) -> int:
    """How many times ``call()`` waited for the server of ``store`` (a PostgreSQL store)."""
    counter = CountingConnection(store.conn.raw)
    store.conn.raw = counter
    try:
        call()
    finally:
        store.conn.raw = counter._raw
    return counter.trips
