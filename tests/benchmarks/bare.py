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
_PAGE = ("SELECT id, case_reference, audit_date, service_area_id, team_id, auditor_id, "
         "overall_grade, status FROM audits WHERE service_area_id = ? AND overall_grade = ? "
         "AND audit_date BETWEEN ? AND ? ORDER BY audit_date DESC, id DESC LIMIT ?")
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

    def grade_counts(self, start: dt.date, end: dt.date) -> dict[str, int]:
        return dict(self.conn.execute(_GRADE_COUNTS, (start.isoformat(), end.isoformat())))

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM audits").fetchone()[0]

    def close(self) -> None:
        self.conn.close()
