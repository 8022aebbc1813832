"""The bare psycopg comparison: what ``bare.BareStore`` does with sqlite3, done with plain
psycopg on the server, no app code.

Its own table, ``bare.audits`` in the store's database: the store's audits table with its
indexes and generated columns (``CREATE TABLE ... (LIKE public.audits INCLUDING ALL)``, which
leaves out foreign keys, as the bare sqlite3 file has none enforced) but without the search
column and its GIN index, as the bare sqlite3 file has no full-text index; filled with the bare
sqlite3 file's own rows. Searches run on the store's own ``search_vector``, as
``bare.BareSearch`` runs on the store's own FTS5 table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Iterator, Sequence

from sefton_qa.store.audits import COLUMNS
from sefton_qa.store.trail import utc_now

from .bare import _GRADE_COUNTS, _PAGE, _PAGE_COLUMNS, SORTS

SCHEMA = "bare"
_NAMES = ", ".join(("id",) + COLUMNS + ("version", "created_at", "updated_at"))
_INSERT = f"INSERT INTO audits ({_NAMES}) VALUES ({', '.join(['%s'] * (len(COLUMNS) + 4))})"


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def create_table(conn, schema: str = SCHEMA) -> None:
    """A fresh, empty ``<schema>.audits`` like the store's (``conn`` autocommit)."""
    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"CREATE TABLE {schema}.audits (LIKE public.audits INCLUDING ALL)")
    conn.execute(f"ALTER TABLE {schema}.audits DROP COLUMN search_vector")


class BarePg:
    def __init__(self, url: str, schema: str = SCHEMA):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(f"SET search_path = {schema}, public")
        self.schema = schema
        self.next_id = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM audits"
                                         ).fetchone()[0]

    @classmethod
    def create(cls, url: str, bare_sqlite: Path | None = None,
               schema: str = SCHEMA) -> "BarePg":
        """The table made afresh, then filled with the bare sqlite3 file's rows (COPY)."""
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            create_table(conn, schema)
            if bare_sqlite is not None:
                source = sqlite3.connect(f"{bare_sqlite.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    with conn.cursor().copy(
                            f"COPY {schema}.audits ({_NAMES}) FROM STDIN") as copy:
                        for row in source.execute(f"SELECT {_NAMES} FROM audits ORDER BY id"):
                            copy.write_row(row)
                finally:
                    source.close()
        if bare_sqlite is not None:
            from .pgserver import vacuum_analyze

            vacuum_analyze(url, schema)
        return cls(url, schema)

    def reset(self, _i: int = 0) -> "BarePg":
        """The table made afresh and empty (a setup for the import's timed calls)."""
        create_table(self.conn, self.schema)
        self.next_id = 1
        return self

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[str]:
        """BEGIN ... COMMIT, like BareStore's; yields the time to stamp rows with."""
        self.conn.execute("BEGIN")
        yield utc_now()
        self.conn.execute("COMMIT")

    def _ids(self, k: int) -> range:
        first = self.next_id
        self.next_id += k
        return range(first, first + k)

    def insert_batch(self, rows: Sequence[tuple]) -> None:
        """executemany of the rows in one transaction (ids counted here: the server's table
        has no rowid to choose them)."""
        with self._transaction() as at:
            self.conn.cursor().executemany(_INSERT, [
                (i, *row, 1, at, at) for i, row in zip(self._ids(len(rows)), rows)])

    def insert_one(self, row: tuple) -> None:
        """One INSERT and its commit."""
        with self._transaction() as at:
            self.conn.execute(_INSERT, (self._ids(1)[0], *row, 1, at, at))

    def first_page(self, area_id: int, grade: str, start: dt.date, end: dt.date,
                   limit: int = 100) -> list[tuple]:
        return self.conn.execute(_pg(_PAGE), (area_id, grade, start.isoformat(),
                                              end.isoformat(), limit)).fetchall()

    def filter_count(self, area_id: int, grade: str, start: dt.date, end: dt.date) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM audits WHERE service_area_id = %s AND overall_grade = %s "
            "AND audit_date BETWEEN %s AND %s",
            (area_id, grade, start.isoformat(), end.isoformat())).fetchone()[0]

    def sorted_page(self, sort: str, descending: bool, limit: int = 100) -> list[tuple]:
        direction = " DESC" if descending else ""
        order = ", ".join(term + direction for term in SORTS[sort])
        return self.conn.execute(
            f"SELECT {_PAGE_COLUMNS} FROM audits ORDER BY {order} LIMIT %s", (limit,)).fetchall()

    def grade_counts(self, start: dt.date, end: dt.date) -> dict[str, int]:
        return dict(self.conn.execute(_pg(_GRADE_COUNTS), (start.isoformat(), end.isoformat())))

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM audits").fetchone()[0]

    # -- searches, on the store's own search column (public.audits) ---------------------------
    def search_count(self, tsquery: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM public.audits WHERE search_vector @@ "
            "to_tsquery('sefton_search', %s)", (tsquery,)).fetchone()[0]

    def search_page(self, tsquery: str, limit: int = 100) -> list[tuple]:
        """The 100 highest ids among the matches (as BareSearch takes the highest rowids)."""
        return self.conn.execute(
            f"SELECT {_PAGE_COLUMNS} FROM public.audits WHERE search_vector @@ "
            "to_tsquery('sefton_search', %s) ORDER BY id DESC LIMIT %s",
            (tsquery, limit)).fetchall()

    def close(self) -> None:
        self.conn.close()
