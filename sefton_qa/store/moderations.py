"""Moderations: a second person's check of an audit's grade."""

from __future__ import annotations

import sqlite3
from typing import Iterator, Sequence

from sefton_qa.store import dialect, records, trail
from sefton_qa.store.sql import in_chunks

TABLE = "moderations"
COLUMNS = ("audit_id", "flagged_because", "due_date", "moderator_id", "original_grade",
           "moderated_grade", "moderation_date", "reason", "section_comments", "status",
           "flagged_on", "selection", "draw_method")
_COMMENTS, _STATUS = COLUMNS.index("section_comments"), COLUMNS.index("status")
_INSERT_COLUMNS = ("id",) + COLUMNS + ("version", "created_at", "updated_at")
#: The trail's changes for a new moderation: {field: [None, value]} over COLUMNS.
_created_json = trail.created_encoder(COLUMNS)


def latest_done_for_audits(conn: sqlite3.Connection, audit_ids: Sequence[int]) -> dict[int, tuple]:
    """audit id → (moderator name, moderated grade, moderation date) of its latest completed
    moderation."""
    out: dict[int, tuple] = {}
    for audit_id, name, grade, date in in_chunks(
            conn, "SELECT m.audit_id, s.display_name, m.moderated_grade, m.moderation_date "
                  "FROM moderations m LEFT JOIN staff s ON s.id = m.moderator_id "
                  "WHERE m.status = 'done' AND m.audit_id IN ({marks}) ORDER BY m.id",
            audit_ids):
        out[audit_id] = (name, grade, date)  # later rows (newer moderations) win
    return out


def recorded_draws(conn) -> Iterator[tuple]:
    """(moderation id, audit id, selection JSON, draw method) of every moderation a calibration
    draw chose (its selection recorded), in id order, streamed."""
    return iter(dialect.of(conn).stream(
        conn, "SELECT id, audit_id, selection, draw_method FROM moderations "
              "WHERE selection IS NOT NULL ORDER BY id"))


def insert_many(conn: sqlite3.Connection, rows: Sequence[dict], *, who: records.Who,
                reason: str | None = None, kind: str = "create",
                first: int | None = None) -> list[int]:
    """Bulk insert with one trail row each (the caller holds the transaction). ``first`` is
    the first id, when the caller has just read it (records.next_id)."""
    if not rows:
        return []
    at_utc = trail.now(conn)
    first = first or records.next_id(conn, "moderations")
    values, changes = [], []
    for record_id, row in enumerate(rows, start=first):
        cells = [row.get(c) for c in COLUMNS]
        cells[_COMMENTS] = cells[_COMMENTS] or "{}"
        cells[_STATUS] = cells[_STATUS] or "pending"
        values.append((record_id, *cells, 1, at_utc, at_utc))
        changes.append(trail.EncodedChange(TABLE, record_id, kind, _created_json(cells), reason))
    # (a server gets a few with the next statement, many streamed with COPY)
    dialect.of(conn).insert_rows(conn, TABLE, _INSERT_COLUMNS, values)
    trail.append_many(conn, changes, staff_id=who.staff_id, os_user=who.os_user, at_utc=at_utc)
    return list(range(first, first + len(rows)))
