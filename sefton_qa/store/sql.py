"""Small SQL-building helpers shared by the store modules."""

from __future__ import annotations

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
