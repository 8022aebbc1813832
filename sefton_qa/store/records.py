"""Generic, trailed writes: every insert or update here writes its trail row in the same transaction.

Every trailed table has ``id``, ``version``, ``created_at`` and ``updated_at``; the trail rows for
a record rebuild all of its other columns exactly (see :func:`sefton_qa.store.trail.replay`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from sefton_qa.domain.errors import ConflictError, NotFound
from sefton_qa.store import dialect, trail

#: Tables whose every change is trailed, in the order verification reports them.
TRAILED_TABLES = ("settings", "grades", "service_areas", "themes", "staff", "teams",
                  "audit_templates", "audits", "moderations", "import_mappings",
                  "file_transfers", "reflective_conversations", "remedial_actions",
                  # step 0010: the caseload, audit plans, draws and allocations (issue 19)
                  "caseload_snapshots", "caseload_cases", "audit_plans", "plan_quotas",
                  "draws", "drawn_cases", "allocations")
BOOKKEEPING = ("id", "version", "created_at", "updated_at")
#: Columns the engine computes itself; never written, never trailed.
GENERATED = {"audits": frozenset({"audit_quarter", "grade_rank", "search_vector"})}
#: Child rows stored in link tables but trailed as a field of their parent record.
LINKED_FIELDS = {"audits": {"themes": ("audit_themes", "audit_id", "theme_id")}}


@dataclass(frozen=True)
class Who:
    staff_id: int | None
    os_user: str


def get_row(conn: sqlite3.Connection, table: str, record_id: int) -> dict:
    cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (record_id,))
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"No {table.rstrip('s').replace('_', ' ')} with id {record_id}.")
    return dict(zip([c[0] for c in cur.description], row))


def linked_values(conn: sqlite3.Connection, table: str, record_id: int) -> dict:
    out = {}
    for field, (link_table, parent_col, child_col) in LINKED_FIELDS.get(table, {}).items():
        out[field] = [r[0] for r in conn.execute(
            f"SELECT {child_col} FROM {link_table} WHERE {parent_col} = ? ORDER BY {child_col}",
            (record_id,))]
    return out


def _write_links(conn: sqlite3.Connection, table: str, record_id: int, field: str, ids) -> None:
    link_table, parent_col, child_col = LINKED_FIELDS[table][field]
    write = getattr(conn, "defer", conn.executemany)  # a server sends them with what follows
    write(f"DELETE FROM {link_table} WHERE {parent_col} = ?", [(record_id,)])
    rows = [(record_id, i) for i in ids]
    if rows:
        write(f"INSERT INTO {link_table} ({parent_col}, {child_col}) VALUES (?, ?)", rows)


def next_id(conn: sqlite3.Connection, table: str) -> int:
    """The id the next record of ``table`` gets: the next after the highest, as SQLite would
    choose, so the same records get the same ids on either engine (writers take turns, so no
    two choose at once)."""
    return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


def insert_record(conn: sqlite3.Connection, table: str, values: dict, *, who: Who,
                  kind: str = "create", reason: str | None = None,
                  at_utc: str | None = None) -> int:
    """Insert one record and its trail row. ``values`` may hold linked fields (e.g. themes)."""
    at_utc = at_utc or trail.now(conn)
    links = {k: sorted(values.get(k, ())) for k in LINKED_FIELDS.get(table, {})}
    columns = {k: v for k, v in values.items() if k not in links}
    # The id is chosen as next_id does, in the INSERT itself; the row comes back from it
    # (RETURNING) so that columns left to their defaults are trailed too: replay is exact.
    names = [*columns, "version", "created_at", "updated_at"]
    cur = conn.execute(
        f"INSERT INTO {table} (id, {', '.join(names)}) "
        f"VALUES ((SELECT coalesce(max(id), 0) + 1 FROM {table}), "
        f"{', '.join('?' * len(names))}) RETURNING *",
        [*columns.values(), 1, at_utc, at_utc])
    stored = dict(zip([c[0] for c in cur.description], cur.fetchall()[0]))
    record_id = stored["id"]
    for field, ids in links.items():
        _write_links(conn, table, record_id, field, ids)
    generated = GENERATED.get(table, frozenset())
    changes = {k: [None, v] for k, v in stored.items()
               if k not in BOOKKEEPING and k not in generated}
    changes.update({k: [None, v] for k, v in links.items()})
    trail.append(conn, trail.PendingChange(table, record_id, kind, changes, reason),
                 staff_id=who.staff_id, os_user=who.os_user, at_utc=at_utc)
    return record_id


def insert_many_records(conn: sqlite3.Connection, table: str, rows: list[dict], *, who: Who,
                        kind: str = "create", reason: str | None = None,
                        at_utc: str | None = None) -> list[int]:
    """Insert many records of a table with no linked fields nor generated columns, and one
    trail row each, in a few statements (a caseload of thousands of cases). Every row names
    every column but the bookkeeping ones, the same in each row, so what is trailed is what is
    stored. Returns the new ids in order."""
    if not rows:
        return []
    if LINKED_FIELDS.get(table) or GENERATED.get(table):
        raise ValueError(f"{table} has linked or generated fields: use insert_record")
    at_utc = at_utc or trail.now(conn)
    names = list(rows[0])
    encode = trail.created_encoder(names)
    first = next_id(conn, table)
    values, changes = [], []
    for record_id, row in enumerate(rows, start=first):
        if list(row) != names:
            raise ValueError(f"every {table} row must name the same columns, in order")
        row_values = [row[n] for n in names]
        values.append((record_id, *row_values, 1, at_utc, at_utc))
        changes.append(trail.EncodedChange(table, record_id, kind, encode(row_values), reason))
    conn.executemany(
        f"INSERT INTO {table} (id, {', '.join(names)}, version, created_at, updated_at) "
        f"VALUES ({', '.join('?' * (len(names) + 4))})", values)
    trail.append_many(conn, changes, staff_id=who.staff_id, os_user=who.os_user, at_utc=at_utc)
    return list(range(first, first + len(rows)))


def update_record(conn: sqlite3.Connection, table: str, record_id: int, values: dict, *,
                  who: Who, kind: str = "update", reason: str | None = None,
                  expected_version: int | None = None, at_utc: str | None = None) -> dict:
    """Change the given fields; returns {field: [old, new]} for what really changed.

    With ``expected_version``, refuses (ConflictError) when someone else changed the record
    since it was read. Nothing is written when nothing changed.
    """
    current = get_row(conn, table, record_id)
    if expected_version is not None and current["version"] != expected_version:
        raise ConflictError(
            "This record was changed by someone else since you opened it "
            f"(version {current['version']}, you had {expected_version}). "
            "Reopen it to see their change, then make yours again.")
    link_fields = LINKED_FIELDS.get(table, {})
    current.update(linked_values(conn, table, record_id) if any(k in values for k in link_fields)
                   else {})
    changes = {}
    for field, new in values.items():
        if field in link_fields:
            new = sorted(new)
        if current.get(field) != new:
            changes[field] = [current.get(field), new]
    if not changes:
        return {}
    at_utc = at_utc or trail.now(conn)
    columns = {k: v[1] for k, v in changes.items() if k not in link_fields}
    assignments = "".join(f"{k} = ?, " for k in columns)
    cur = conn.execute(
        f"UPDATE {table} SET {assignments}version = version + 1, updated_at = ? "
        "WHERE id = ? AND version = ?",
        [*columns.values(), at_utc, record_id, current["version"]])
    if cur.rowcount != 1:
        raise ConflictError("This record was changed by someone else while saving; try again.")
    for field in link_fields:
        if field in changes:
            _write_links(conn, table, record_id, field, changes[field][1])
    trail.append(conn, trail.PendingChange(table, record_id, kind, changes, reason),
                 staff_id=who.staff_id, os_user=who.os_user, at_utc=at_utc)
    return changes


def existing_trailed_tables(conn: sqlite3.Connection) -> list[str]:
    """The trailed tables this store has (an older store, opened read-only, may lack some)."""
    present = dialect.of(conn).tables(conn)
    return [t for t in TRAILED_TABLES if t in present]


def canonical_records(conn: sqlite3.Connection, table: str):
    """Yield ((table, id), record) as the trail would rebuild it, for every row of ``table``,
    in id order. Streams: the linked rows (an audit's themes) are read alongside, in the same
    order, so memory does not grow with the table."""
    generated = GENERATED.get(table, frozenset())
    links = LINKED_FIELDS.get(table, {})
    link_groups = {field: _grouped(conn.execute(
        f"SELECT {parent_col}, {child_col} FROM {link_table} ORDER BY {parent_col}, {child_col}"))
        for field, (link_table, parent_col, child_col) in links.items()}
    pending = {field: next(groups, None) for field, groups in link_groups.items()}
    cur = conn.execute(f"SELECT * FROM {table} ORDER BY id")
    names = [c[0] for c in cur.description]
    for row in cur:
        values = dict(zip(names, row))
        record_id = values["id"]
        rec = {k: v for k, v in values.items() if k not in BOOKKEEPING and k not in generated}
        for field, groups in link_groups.items():
            group = pending[field]
            while group is not None and group[0] < record_id:  # links to no record: skipped
                group = next(groups, None)
            if group is not None and group[0] == record_id:
                rec[field] = group[1]
                group = next(groups, None)
            else:
                rec[field] = []
            pending[field] = group
        rec["_version"] = values["version"]
        rec["_created_at"] = values["created_at"]
        rec["_updated_at"] = values["updated_at"]
        yield (table, record_id), rec


def _grouped(rows) -> Iterator[tuple[int, list[int]]]:
    """(parent, [children]) from rows ordered by parent."""
    current, children = None, []
    for parent, child in rows:
        if parent != current:
            if current is not None:
                yield current, children
            current, children = parent, []
        children.append(child)
    if current is not None:
        yield current, children
