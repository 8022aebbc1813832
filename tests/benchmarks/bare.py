"""The bare sqlite3 comparison: the same operations on the audits table alone, no app code.

Its own file, with the store's own audits table and indexes (copied from the store's
sqlite_master) and the same pragmas: WAL and synchronous=FULL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Iterator, Sequence

from sefton_qa.store.audits import COLUMNS
from sefton_qa.store.trail import utc_now

_NAMES = ", ".join(COLUMNS + ("version", "created_at", "updated_at"))
_INSERT = f"INSERT INTO audits ({_NAMES}) VALUES ({', '.join('?' * (len(COLUMNS) + 3))})"
_PAGE_COLUMNS = ("id, case_reference, audit_date, service_area_id, team_id, auditor_id, "
                 "overall_grade, status")
_FILTER = "service_area_id = ? AND overall_grade = ? AND audit_date BETWEEN ? AND ?"
_PAGE = (f"SELECT {_PAGE_COLUMNS} FROM audits WHERE {_FILTER} "
         "ORDER BY audit_date DESC, id DESC LIMIT ?")
#: The register's sorts on the bare table: its own columns (ids where the register sorts by
#: the name the id points at; the bare file has no names), then date and id.
SORTS = {
    "audit_date": ("audit_date", "id"),
    "case_reference": ("case_reference", "audit_date", "id"),
    "overall_grade": ("grade_rank", "audit_date", "id"),
    "status": ("status", "audit_date", "id"),
    "service_area": ("service_area_id", "audit_date", "id"),
    "team": ("team_id", "audit_date", "id"),
    "auditor": ("auditor_id", "audit_date", "id"),
}
_GRADE_COUNTS = ("SELECT overall_grade, count(*) FROM audits WHERE status = 'submitted' "
                 "AND audit_date BETWEEN ? AND ? AND overall_grade IS NOT NULL "
                 "GROUP BY overall_grade")


def audits_schema(conn: sqlite3.Connection) -> list[str]:
    """The CREATE statements of the audits table and its indexes, from a store (not its
    triggers: what they maintain, like full-text search, is the app's work, as the trail is)."""
    return [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'audits' AND type IN ('table', 'index') "
        "AND sql IS NOT NULL ORDER BY type = 'index', name")]


def audits_triggers(conn: sqlite3.Connection) -> list[str]:
    """The names of the store's triggers on the audits table (the bare file has none)."""
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE tbl_name = 'audits' AND type = 'trigger' "
        "ORDER BY name")]


class BareStore:
    def __init__(self, path: Path):
        self.path = path
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")

    @classmethod
    def create(cls, path: Path, schema: Sequence[str]) -> "BareStore":
        bare = cls(path)
        for statement in schema:
            bare.conn.execute(statement)
        return bare

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[str]:
        """BEGIN IMMEDIATE ... COMMIT, like the store's; yields the time to stamp rows with."""
        self.conn.execute("BEGIN IMMEDIATE")
        yield utc_now()
        self.conn.execute("COMMIT")

    def insert_batch(self, rows: Sequence[tuple]) -> None:
        """executemany of the rows in one transaction."""
        with self._transaction() as at:
            self.conn.executemany(_INSERT, [(*row, 1, at, at) for row in rows])

    def insert_one(self, row: tuple) -> None:
        """One INSERT and its commit."""
        with self._transaction() as at:
            self.conn.execute(_INSERT, (*row, 1, at, at))

    def first_page(self, area_id: int, grade: str, start: dt.date, end: dt.date,
                   limit: int = 100) -> list[tuple]:
        return self.conn.execute(_PAGE, (area_id, grade, start.isoformat(), end.isoformat(),
                                         limit)).fetchall()

    def filter_count(self, area_id: int, grade: str, start: dt.date, end: dt.date) -> int:
        return self.conn.execute(f"SELECT count(*) FROM audits WHERE {_FILTER}", (
            area_id, grade, start.isoformat(), end.isoformat())).fetchone()[0]

    def sorted_page(self, sort: str, descending: bool, limit: int = 100) -> list[tuple]:
        direction = " DESC" if descending else ""
        order = ", ".join(term + direction for term in SORTS[sort])
        return self.conn.execute(f"SELECT {_PAGE_COLUMNS} FROM audits ORDER BY {order} LIMIT ?",
                                 (limit,)).fetchall()

    def grade_counts(self, start: dt.date, end: dt.date) -> dict[str, int]:
        return dict(self.conn.execute(_GRADE_COUNTS, (start.isoformat(), end.isoformat())))

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM audits").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


class BareSearch:
    """Full-text search with plain sqlite3 on the store's own FTS5 table (the bare file has
    none): the count of matches, then the newest 100 by rowid, FTS5's own order."""

    def __init__(self, store_path: Path):
        self.conn = sqlite3.connect(f"{store_path.resolve().as_uri()}?mode=ro", uri=True)

    def count(self, query: str) -> int:
        return self.conn.execute("SELECT count(*) FROM audits_fts WHERE audits_fts MATCH ?",
                                 (query,)).fetchone()[0]

    def first_page(self, query: str, limit: int = 100) -> list[tuple]:
        columns = ", ".join(f"a.{c.strip()}" for c in _PAGE_COLUMNS.split(","))
        return self.conn.execute(
            f"SELECT {columns} FROM audits_fts f JOIN audits a ON a.id = f.rowid "
            "WHERE audits_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?", (query, limit)).fetchall()

    def close(self) -> None:
        self.conn.close()
