"""Audits: one row per audit of one child's case, plus its themes in ``audit_themes``."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import operator
import sqlite3
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _ascii
from typing import Sequence

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Audit, AuditStatus, AuditType, SectionGrade, Selection
from sefton_qa.store import dialect, records, trail
from sefton_qa.store.sql import date_range, in_chunks

TABLE = "audits"
#: Every column a service writes (all but id, the generated quarter and the bookkeeping).
COLUMNS = ("case_reference", "audit_type", "audit_date", "service_area_id", "team_id",
           "auditor_id", "team_manager_id", "template_id", "sections", "overall_grade",
           "findings", "status", "selection")
_SELECT = ("SELECT id, case_reference, audit_type, audit_date, service_area_id, team_id, "
           "auditor_id, team_manager_id, template_id, sections, overall_grade, findings, status, "
           "version, created_at, updated_at, selection FROM audits")


def encode_sections(sections: dict[str, SectionGrade]) -> str:
    parts = []
    for key in sorted(sections):
        section = sections[key]
        grade = section.grade.value if section.grade else None
        if type(key) is not str or type(section.notes) is not str \
                or (grade is not None and type(grade) is not str):
            return _encode_sections(sections)
        # What json.dumps writes for {"grade": grade, "notes": notes}, written out: bulk
        # writes encode millions of these.
        parts.append(f'{_ascii(key)}: {{"grade": {"null" if grade is None else _ascii(grade)}, '
                     f'"notes": {_ascii(section.notes)}}}')
    return "{" + ", ".join(parts) + "}"


def _encode_sections(sections: dict[str, SectionGrade]) -> str:
    return json.dumps({k: {"grade": v.grade.value if v.grade else None, "notes": v.notes}
                       for k, v in sorted(sections.items())}, sort_keys=True)


def decode_sections(text: str) -> dict[str, SectionGrade]:
    return {k: SectionGrade(Grade(v["grade"]) if v.get("grade") else None, v.get("notes", ""))
            for k, v in json.loads(text).items()}


def _audit(row, theme_ids: Sequence[int]) -> Audit:
    return Audit(id=row[0], case_reference=row[1], audit_type=AuditType(row[2]),
                 audit_date=dt.date.fromisoformat(row[3]) if row[3] else None,
                 service_area_id=row[4],
                 team_id=row[5], auditor_id=row[6], team_manager_id=row[7], template_id=row[8],
                 sections=decode_sections(row[9]),
                 overall_grade=Grade(row[10]) if row[10] else None,
                 theme_ids=tuple(theme_ids), findings=row[11], status=AuditStatus(row[12]),
                 version=row[13], created_at=row[14], updated_at=row[15],
                 selection=Selection(row[16]))


def get(conn: sqlite3.Connection, audit_id: int) -> Audit | None:
    row = conn.execute(f"{_SELECT} WHERE id = ?", (audit_id,)).fetchone()
    if row is None:
        return None
    themes = [r[0] for r in conn.execute(
        "SELECT theme_id FROM audit_themes WHERE audit_id = ? ORDER BY theme_id", (audit_id,))]
    return _audit(row, themes)


def for_case(conn: sqlite3.Connection, case_reference: str) -> list[Audit]:
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM audits WHERE case_reference = ? ORDER BY audit_date, id",
        (case_reference,))]
    return [get(conn, i) for i in ids]


def count(conn: sqlite3.Connection, *, status: str | None = None) -> int:
    if status is None:
        return conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    return conn.execute("SELECT count(*) FROM audits WHERE status = ?", (status,)).fetchone()[0]


def find_duplicate(conn: sqlite3.Connection, case_reference: str, audit_date: dt.date,
                   auditor_id: int) -> int | None:
    row = conn.execute(
        "SELECT id FROM audits WHERE case_reference = ? AND audit_date = ? AND auditor_id = ? "
        "AND status != 'withdrawn' LIMIT 1",
        (case_reference, audit_date.isoformat(), auditor_id)).fetchone()
    return None if row is None else row[0]


_INDEX_FOR_SEARCH = ("INSERT INTO audits_fts (rowid, case_reference, findings) "
                     "SELECT id, case_reference, findings FROM audits WHERE id >= ? AND id <= ?")


def _index_for_search(conn, first: int, last: int) -> None:
    """SQLite's search index is written per batch (the server's is a generated column)."""
    if dialect.of(conn) is dialect.SQLITE:
        conn.execute(_INDEX_FOR_SEARCH, (first, last))


def insert(conn: sqlite3.Connection, values: dict, *, who: records.Who,
           reason: str | None = None) -> int:
    audit_id = records.insert_record(conn, TABLE, values, who=who, reason=reason)
    _index_for_search(conn, audit_id, audit_id)
    return audit_id


def update(conn: sqlite3.Connection, audit_id: int, values: dict, *, who: records.Who,
           kind: str = "update", reason: str | None = None,
           expected_version: int | None = None) -> dict:
    return records.update_record(conn, TABLE, audit_id, values, who=who, kind=kind,
                                 reason=reason, expected_version=expected_version)


_INSERT_COLUMNS = ("id",) + COLUMNS + ("version", "created_at", "updated_at")
_INSERT_MANY = (f"INSERT INTO audits ({', '.join(_INSERT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})")
_column_values = operator.itemgetter(*COLUMNS)
#: The trail's changes for a new audit: {field: [None, value]} over COLUMNS and themes.
_created_json = trail.created_encoder(COLUMNS + ("themes",))


def insert_many(conn: sqlite3.Connection, rows: Sequence[dict], *, who: records.Who,
                reason: str | None = None, kind: str = "create") -> list[int]:
    """Bulk insert (import, demo data): ``rows`` hold every column in COLUMNS plus ``themes``.

    Writes the audits, their themes and one trail row each with executemany; the caller
    holds the transaction. Returns the new ids in order.
    """
    if not rows:
        return []
    with _gc_paused():
        at_utc = trail.now(conn)
        first = records.next_id(conn, "audits")
        audit_rows, theme_rows, changes = [], [], []
        for audit_id, row in enumerate(rows, start=first):
            values = _column_values(row)
            audit_rows.append((audit_id, *values, 1, at_utc, at_utc))
            themes = sorted(row.get("themes", ()))
            for theme in themes:
                theme_rows.append((audit_id, theme))
            changes.append(trail.EncodedChange(TABLE, audit_id, kind,
                                               _created_json((*values, themes)), reason))
        engine = dialect.of(conn)
        if engine.is_file:
            conn.executemany(_INSERT_MANY, audit_rows)
            conn.executemany("INSERT INTO audit_themes (audit_id, theme_id) VALUES (?, ?)",
                             theme_rows)
        else:  # streamed with COPY
            engine.insert_rows(conn, TABLE, _INSERT_COLUMNS, audit_rows)
            engine.insert_rows(conn, "audit_themes", ("audit_id", "theme_id"), theme_rows)
        _index_for_search(conn, first, first + len(rows) - 1)
        trail.append_many(conn, changes, staff_id=who.staff_id, os_user=who.os_user,
                          at_utc=at_utc)
    return list(range(first, first + len(rows)))


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection for the duration: a bulk insert builds hundreds of
    thousands of short-lived containers, and the collector's passes over everything alive
    cost more than the insert itself. Reference counting still frees what is let go."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- the register (what the GUI lists) ---------------------------------------------------------
@dataclass(frozen=True)
class RegisterFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    service_area_id: int | None = None
    team_id: int | None = None
    auditor_id: int | None = None
    grade: Grade | None = None
    status: AuditStatus | None = None
    theme_id: int | None = None
    search: str = ""  # words in the case reference or the findings (full-text, prefixes)

    def __post_init__(self) -> None:
        # Whatever a caller holds (a widget hands back the plain text of a str enum member),
        # the store gets real members; a value that is no grade or status is refused here,
        # by name, not deep inside the query.
        for name, kind in (("grade", Grade), ("status", AuditStatus)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                try:
                    object.__setattr__(self, name, kind(value))
                except ValueError:
                    raise ValueError(f"{value!r} is not a {name} the register knows") from None


def fts_query(text: str, conn=None) -> str | None:
    """A safe search query from what a person typed: every word must appear (as a prefix).

    Each typed term is a phrase of its word parts, so "LCS-123" finds "LCS" then "123..." side
    by side (a case reference) rather than every audit with "LCS" anywhere. Only letters and
    digits reach the engine, so operators typed by the user (AND, NEAR, *, ", &, !) are just
    words. ``conn`` chooses the engine's syntax (SQLite's FTS5 when None).
    """
    return (dialect.of(conn) if conn is not None else dialect.SQLITE).search_query(text)


#: How the register sorts: the outer table to loop over (None: audits alone), the ORDER BY
#: terms, and the column that must not be NULL for the audit to appear in that loop. Looping
#: over a small named table (service areas, teams, staff) in name order, with an index on
#: (its id, audit_date) in audits, gives the first screen of a sorted million-row register
#: without sorting the whole table.
_SORT_PLANS = {
    "audit_date": (None, ("a.audit_date", "a.id")),
    "case_reference": (None, ("a.case_reference", "a.audit_date", "a.id")),
    "overall_grade": (None, ("a.grade_rank", "a.audit_date", "a.id")),
    "status": (None, ("a.status", "a.audit_date", "a.id")),
    # (outer table, audits' column, the (column, audit_date) index to read audits through)
    "service_area": (("service_areas", "service_area_id", "audits_by_area_date"),
                     ("o.name", "a.audit_date", "a.id")),
    # Names need not be unique: o.id keeps each one's audits together, in index order.
    "team": (("teams", "team_id", "audits_by_team_date"),
             ("o.name", "o.id", "a.audit_date", "a.id")),
    "auditor": (("staff", "auditor_id", "audits_by_auditor_date"),
                ("o.display_name COLLATE NOCASE", "o.id", "a.audit_date", "a.id")),
}
REGISTER_SORTS = tuple(_SORT_PLANS)
SORT_IN_MEMORY_UP_TO = 50_000
_SORT_INDEXES = {"audit_date": "audits_by_date", "case_reference": "audits_by_case_date_auditor",
                 "overall_grade": "audits_by_grade_rank_date", "status": "audits_for_summary"}


#: On the server, a search matching at most this many audits is read from the search index
#: first and sorted; counting further costs more than it saves (200 ms for "drift" at 1M).
SEARCH_FIRST_UP_TO = 5_000


def _few_matches(conn, query: str) -> bool:
    """At most SEARCH_FIRST_UP_TO audits match (counted no further than that)."""
    return conn.execute(f"SELECT count(*) FROM ({dialect.of(conn).search_ids()} LIMIT ?) AS m",
                        (query, SEARCH_FIRST_UP_TO + 1)).fetchone()[0] <= SEARCH_FIRST_UP_TO


def _fts_matches(conn: sqlite3.Connection, query: str) -> int:
    return conn.execute(dialect.of(conn).search_count(), (query,)).fetchone()[0]
_REGISTER_COLUMNS = (
    "a.id, a.case_reference, a.audit_date, "
    "(SELECT name FROM service_areas WHERE id = a.service_area_id), "
    "(SELECT name FROM teams WHERE id = a.team_id), "
    "(SELECT display_name FROM staff WHERE id = a.auditor_id), "
    "a.overall_grade, a.status, "
    "(SELECT {themes} FROM audit_themes x "
    " JOIN themes th ON th.id = x.theme_id WHERE x.audit_id = a.id)")


def _register_columns(conn) -> str:
    return _REGISTER_COLUMNS.format(themes=dialect.of(conn).group_concat("th.name", "'; '"))


def _register_where(conn, f: RegisterFilter) -> tuple[str, list]:
    clauses, params = date_range("a.audit_date", f.date_from, f.date_to)
    for column, value in (("a.service_area_id", f.service_area_id), ("a.team_id", f.team_id),
                          ("a.auditor_id", f.auditor_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if f.grade is not None:
        clauses.append("a.overall_grade = ?")
        params.append(f.grade.value)
    if f.status is not None:
        clauses.append("a.status = ?")
        params.append(f.status.value)
    if f.theme_id is not None:
        clauses.append("a.id IN (SELECT audit_id FROM audit_themes WHERE theme_id = ?)")
        params.append(f.theme_id)
    query = fts_query(f.search, conn) if f.search else None
    if query:
        clauses.append(dialect.of(conn).search_clause("a"))
        params.append(query)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def register_count(conn: sqlite3.Connection, f: RegisterFilter) -> int:
    query = fts_query(f.search, conn) if f.search else None
    if query and f == RegisterFilter(search=f.search):
        # A search and nothing else: the index counts its own matches (every audit is in it),
        # far quicker than checking a hundred thousand ids against the audits table.
        return _fts_matches(conn, query)
    where, params = _register_where(conn, f)
    return conn.execute(f"SELECT count(*) FROM audits a {where}", params).fetchone()[0]


def register_page(conn: sqlite3.Connection, f: RegisterFilter, *, offset: int, limit: int,
                  sort: str = "audit_date", descending: bool = True) -> list[tuple]:
    """One page of register rows: (id, case_reference, audit_date, service area, team, auditor,
    overall_grade, status, themes joined with '; ')."""
    where, params = _register_where(conn, f)
    columns = _register_columns(conn)
    d = dialect.of(conn)
    outer, terms = _SORT_PLANS[sort]
    direction = " DESC" if descending else ""
    order = d.order_by(terms, descending)
    if outer is None:
        # A search matching a great many audits: walk the sort's own index and keep the
        # matches, instead of sorting every match to find the first screen.
        hint = ""
        query = fts_query(f.search, conn) if f.search else None
        if query and d.is_file and _fts_matches(conn, query) > SORT_IN_MEMORY_UP_TO:
            hint = d.indexed_by(_SORT_INDEXES[sort])
        elif query and not d.is_file and _few_matches(conn, query):
            # The server may walk the sort's index testing every audit against a rare search
            # (0.7 s at a million): the matches first, from the search index, then sorted.
            sql = (f"SELECT {columns} FROM audits a WHERE a.id IN ("
                   f"SELECT a.id FROM (SELECT * FROM audits WHERE id IN ({d.search_ids()}) "
                   f"OFFSET 0) AS a {where} ORDER BY {order} LIMIT ? OFFSET ?) "
                   f"ORDER BY {order}")
            return conn.execute(sql, [query, *params, limit, offset]).fetchall()
        # The page's ids first, then the names and themes for those rows only.
        sql = (f"SELECT {columns} FROM audits a WHERE a.id IN ("
               f"SELECT a.id FROM audits a {hint} {where} ORDER BY {order} LIMIT ? OFFSET ?) "
               f"ORDER BY {order}")
        return conn.execute(sql, [*params, limit, offset]).fetchall()
    table, column, index = outer
    if where and register_count(conn, f) <= SORT_IN_MEMORY_UP_TO:
        # A filtered register small enough to sort whole: the filter's own index finds the
        # rows, and sorting them is quicker than walking every audit in name order.
        unnamed_first = "(o.id IS NULL)" + direction
        sql = (f"SELECT {columns} FROM audits a LEFT JOIN {table} o "
               f"ON o.id = a.{column} {where} ORDER BY {unnamed_first}, {order} "
               "LIMIT ? OFFSET ?")
        return conn.execute(sql, [*params, limit, offset]).fetchall()
    join_where = where.replace("WHERE", "AND", 1) if where else ""
    outer_where, outer_params = "", []
    if table == "teams" and f.service_area_id is not None:
        # Only that area's teams are walked, not every team's audits.
        outer_where, outer_params = "AND o.service_area_id = ?", [f.service_area_id]
    # INDEXED BY: with statistics the planner may pick another index on the same column
    # (say area + grade + date) and then sort a million rows; this one gives the order.
    named_from = (f"FROM {table} o {d.ordered_join} audits a {d.indexed_by(index)} "
                  f"ON a.{column} = o.id {outer_where} {join_where}")
    by_date = d.order_by(("a.audit_date", "a.id"), descending)

    def named(start: int, count: int) -> list[tuple]:
        if d.is_file:
            return conn.execute(f"SELECT {columns} {named_from} ORDER BY {order} LIMIT ? OFFSET ?",
                                [*outer_params, *params, count, start]).fetchall()
        # The server plans its own joins: each named record's first start + count audits,
        # read through its (column, audit_date) index, then the page from those few rows.
        # (The named record's column leads the inner order, so the plan reads that record's
        # own (column, audit_date) index rather than filtering another.)
        inner = d.order_by((f"a.{column}", "a.audit_date", "a.id"), descending)
        return conn.execute(
            f"SELECT {columns} FROM {table} o CROSS JOIN LATERAL (SELECT a.* FROM audits a "
            f"WHERE a.{column} = o.id {join_where} ORDER BY {inner} LIMIT ?) AS a "
            f"WHERE TRUE {outer_where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, start + count, *outer_params, count, start]).fetchall()

    # Audits without the named record (an unfinished draft) come after the rest, or before
    # them in descending order; each part is read in index order, never sorted whole.
    unnamed_sql = f"FROM audits a WHERE a.{column} IS NULL {join_where}"

    def unnamed(start: int, count: int) -> list[tuple]:
        return conn.execute(f"SELECT {columns} {unnamed_sql} ORDER BY {by_date} "
                            "LIMIT ? OFFSET ?", [*params, count, start]).fetchall()

    def size(part) -> int:
        sql, args = (named_from, [*outer_params, *params]) if part is named \
            else (unnamed_sql, params)
        return conn.execute(f"SELECT count(*) {sql}", args).fetchone()[0]

    first, second = (unnamed, named) if descending else (named, unnamed)
    rows = first(offset, limit)
    if len(rows) < limit:
        rows += second(max(0, offset - size(first)), limit - len(rows))
    return rows


_SEMICOLON = "'; '"


def export_rows(conn: sqlite3.Connection, date_from: dt.date | None,
                date_to: dt.date | None) -> list[tuple]:
    """Submitted audits in a date range for export: (id, case_reference, audit_date, audit_type,
    service area, team, auditor, overall_grade, themes joined with '; ', findings, selection)."""
    clauses, params = date_range("a.audit_date", date_from, date_to)
    clauses.insert(0, "a.status = 'submitted'")
    return conn.execute(
        "SELECT a.id, a.case_reference, a.audit_date, a.audit_type, sa.name, t.name, "
        "s.display_name, a.overall_grade, "
        f"(SELECT {dialect.of(conn).group_concat('name', _SEMICOLON)} "
        "FROM (SELECT th.name FROM audit_themes x "
        " JOIN themes th ON th.id = x.theme_id WHERE x.audit_id = a.id ORDER BY th.name) "
        "AS named), "
        "a.findings, a.selection FROM audits a "
        "JOIN service_areas sa ON sa.id = a.service_area_id "
        "JOIN teams t ON t.id = a.team_id JOIN staff s ON s.id = a.auditor_id "
        f"WHERE {' AND '.join(clauses)} ORDER BY a.audit_date, a.id", params).fetchall()


def existing_keys(conn: sqlite3.Connection, case_references) -> set[tuple[str, str, int]]:
    """(case reference, ISO audit date, auditor id) of the audits (not withdrawn) of the given
    cases: how an import finds rows it already holds."""
    return set(in_chunks(conn, "SELECT case_reference, audit_date, auditor_id FROM audits "
                               "WHERE case_reference IN ({marks}) AND status != 'withdrawn'",
                         sorted(set(case_references))))


def flag_info(conn: sqlite3.Connection, audit_ids) -> list[tuple]:
    """(id, status, overall_grade, case_reference, audit_date) of many audits at once, in id
    order (on every engine: moderations are numbered in this order)."""
    return list(in_chunks(conn, "SELECT id, status, overall_grade, case_reference, audit_date "
                                "FROM audits WHERE id IN ({marks}) ORDER BY id",
                          sorted(audit_ids)))
