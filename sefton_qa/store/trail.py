"""The audit trail: append-only, hash-chained rows, one per change to any record.

Each row stores SHA-256 over the previous row's hash and its own content, so editing, removing
or reordering any row breaks the chain from that row on. Triggers forbid UPDATE and DELETE.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from sefton_qa.domain.models import TrailEntry
from sefton_qa.store import dialect

GENESIS_HASH = "0" * 64

_INSERT = (
    "INSERT INTO trail (seq, at_utc, staff_id, os_user, table_name, record_id, kind, changes,"
    " reason, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_COLUMNS = "seq, at_utc, staff_id, os_user, table_name, record_id, kind, changes, reason, prev_hash, hash"
_COLUMN_NAMES = tuple(_COLUMNS.split(", "))


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


SERVER_CLOCK_SQL = ("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")


def now(conn) -> str:
    """The time a change is stamped with: on a server the server's clock, read once when the
    writers' lock was taken (the server checks that each trail row is dated within its own
    transaction); on a file this machine's clock."""
    clock = getattr(conn, "clock", None)
    if clock:
        return clock
    if getattr(conn, "dialect", None) is not None and not conn.dialect.is_file:
        return conn.execute(SERVER_CLOCK_SQL).fetchone()[0]
    return utc_now()


def current_os_user() -> str:
    """The operating system's account for this process (never an environment variable)."""
    from sefton_qa import identity

    return identity.os_account()


#: What ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
#: builds for each call, built once.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value) -> str:
    """Canonical JSON: sorted keys, no spaces, so the same change always hashes the same."""
    return _ENCODER.encode(value)


def json_value(value) -> str:
    """Exactly ``dumps(value)``, but quicker for what records hold: str, int, None, lists.

    Bulk writes encode millions of these, so the common types skip the encoder machinery;
    everything else (floats, bools, dicts, str or int subclasses) goes through ``dumps``.
    """
    kind = type(value)
    if kind is str:
        return encode_basestring(value)  # the function dumps itself uses for str
    if kind is int:
        return int.__repr__(value)  # likewise for int
    if value is None:
        return "null"
    if kind is list:
        return "[" + ",".join(map(json_value, value)) + "]"
    return dumps(value)


def created_encoder(fields: Sequence[str]) -> Callable[[Sequence], str]:
    """A quick ``encode(values)`` for bulk inserts: exactly
    ``dumps({f: [None, v] for f, v in zip(fields, values)})``, the trail's changes for a new
    record, written out directly (fields in sorted order, as ``dumps`` writes them)."""
    order = tuple(sorted(range(len(fields)), key=fields.__getitem__))
    keys = tuple(f"{json_value(fields[i])}:[null," for i in order)

    def encode(values: Sequence) -> str:
        return "{" + "],".join([key + json_value(values[i])
                                for key, i in zip(keys, order)]) + "]}"

    return encode


def _who_json(at_utc: str, staff_id: int | None, os_user: str) -> str:
    return f"{json_value(at_utc)},{json_value(staff_id)},{json_value(os_user)}"


def _row_hash(prev_hash: str, seq: int, who_json: str, table_name: str, record_id: int,
              kind: str, changes_json: str, reason: str | None) -> str:
    # The hashed content is dumps([seq, at_utc, staff_id, os_user, table_name, record_id,
    # kind, changes_json, reason]), written out: a list is its items' JSON joined by ",".
    content = (f"[{json_value(seq)},{who_json},{json_value(table_name)},"
               f"{json_value(record_id)},{json_value(kind)},{json_value(changes_json)},"
               f"{json_value(reason)}]")
    return hashlib.sha256(f"{prev_hash}\n{content}".encode("utf-8")).hexdigest()


def row_hash(prev_hash: str, seq: int, at_utc: str, staff_id: int | None, os_user: str,
             table_name: str, record_id: int, kind: str, changes_json: str,
             reason: str | None) -> str:
    """SHA-256 of the previous hash, a newline and dumps([seq, at_utc, staff_id, os_user,
    table_name, record_id, kind, changes_json, reason])."""
    return _row_hash(prev_hash, seq, _who_json(at_utc, staff_id, os_user), table_name,
                     record_id, kind, changes_json, reason)


@dataclass(frozen=True)
class PendingChange:
    """One change to record: ``changes`` maps each field to ``[old, new]``."""

    table_name: str
    record_id: int
    kind: str
    changes: dict
    reason: str | None = None


HEAD_SQL = "SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1"


def head_of(row) -> tuple[int, str]:
    return (0, GENESIS_HASH) if row is None else (row[0], row[1])


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The trail's last (seq, hash). A server's write transaction knows it already (read with
    the writers' lock, moved on by each append), which saves a round trip a change."""
    known = getattr(conn, "trail_head", None)
    if known is not None and conn.in_transaction:
        return known
    return head_of(conn.execute(HEAD_SQL).fetchone())


class EncodedChange(NamedTuple):
    """A change already encoded: ``changes_json`` is exactly ``dumps(changes)``.

    Bulk writers build the JSON directly, which is much quicker than building the dicts.
    """

    table_name: str
    record_id: int
    kind: str
    changes_json: str
    reason: str | None = None


def _encoded(changes: Iterable[PendingChange | EncodedChange]) -> Iterator[EncodedChange]:
    for change in changes:
        if type(change) is EncodedChange:
            yield change
        else:
            yield EncodedChange(change.table_name, change.record_id, change.kind,
                                dumps(change.changes), change.reason)


_COLLECTING = threading.local()


@contextlib.contextmanager
def collect_touched() -> Iterator[set[tuple[str, int]]]:
    """Within the block, every (table, record id) this thread writes a trail row for is added
    to the set it yields: what an operation changed, whatever services it called."""
    outer = getattr(_COLLECTING, "touched", None)
    touched: set[tuple[str, int]] = set()
    _COLLECTING.touched = touched
    try:
        yield touched
    finally:
        _COLLECTING.touched = outer
        if outer is not None:
            outer |= touched


def append_many(conn: sqlite3.Connection, changes: Iterable[PendingChange | EncodedChange], *,
                staff_id: int | None, os_user: str | None = None,
                at_utc: str | None = None) -> int:
    """Append trail rows for ``changes``; must run inside the caller's write transaction.

    Returns the sequence number of the last row written.
    """
    if not conn.in_transaction:
        raise RuntimeError("trail rows must be written inside the change's own transaction")
    os_user = os_user or current_os_user()
    at_utc = at_utc or now(conn)
    who_json = _who_json(at_utc, staff_id, os_user)
    seq, prev = head(conn)
    rows = []
    touched = getattr(_COLLECTING, "touched", None)
    for table_name, record_id, kind, changes_json, reason in _encoded(changes):
        if touched is not None:
            touched.add((table_name, record_id))
        seq += 1
        h = _row_hash(prev, seq, who_json, table_name, record_id, kind, changes_json, reason)
        rows.append((seq, at_utc, staff_id, os_user, table_name, record_id, kind, changes_json,
                     reason, prev, h))
        prev = h
    if not rows:
        return seq
    if hasattr(conn, "defer"):  # a server: a few sent with the next statement, many by COPY
        dialect.of(conn).insert_rows(conn, "trail", _COLUMN_NAMES, rows)
        conn.trail_head = (seq, prev)
    else:
        conn.executemany(_INSERT, rows)
    return seq


def append(conn: sqlite3.Connection, change: PendingChange, *, staff_id: int | None,
           os_user: str | None = None, at_utc: str | None = None) -> int:
    return append_many(conn, [change], staff_id=staff_id, os_user=os_user, at_utc=at_utc)


def _entry(row) -> TrailEntry:
    return TrailEntry(seq=row[0], at_utc=row[1], staff_id=row[2], os_user=row[3],
                      table_name=row[4], record_id=row[5], kind=row[6],
                      changes=json.loads(row[7]), reason=row[8], prev_hash=row[9], hash=row[10])


def iter_entries(conn: sqlite3.Connection, *, batch: int = 5000) -> Iterator[tuple]:
    """Raw trail rows in sequence order (tuples in column order), read in batches."""
    last = -1
    while True:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM trail WHERE seq > ? ORDER BY seq LIMIT ?",
                            (last, batch)).fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def entries_for(conn: sqlite3.Connection, table_name: str, record_id: int) -> list[TrailEntry]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM trail WHERE table_name = ? AND record_id = ? ORDER BY seq",
        (table_name, record_id)).fetchall()
    return [_entry(r) for r in rows]


def hash_at(conn, seq: int) -> str | None:
    """The hash of trail row ``seq`` (None when there is none)."""
    row = conn.execute("SELECT hash FROM trail WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM trail").fetchone()[0]


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    problem: str


def check_chain(conn: sqlite3.Connection) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain. Returns (rows checked, first break or None)."""
    return _walk(iter_entries(conn), GENESIS_HASH, 1)


def check_tail(conn: sqlite3.Connection, rows: int = 1000) -> tuple[int, ChainBreak | None]:
    """A quick check for opening a store: the newest ``rows`` rows are all there (no gap in
    their sequence), chain onto each other and match their hashes.

    It reads about ``rows`` rows whatever the trail's size (milliseconds at millions of rows).
    It cannot see an edit to, or the deletion of, an older row, nor the newest rows cut off
    altogether: only :func:`check_chain` and the records' replay (``verify``) see those.
    """
    last = conn.execute("SELECT max(seq) FROM trail").fetchone()[0]
    if last is None:
        return 0, None
    first = max(1, last - rows + 1)
    prev = GENESIS_HASH
    if first > 1:
        row = conn.execute("SELECT hash FROM trail WHERE seq = ?", (first - 1,)).fetchone()
        if row is None:
            return 0, ChainBreak(first - 1, f"sequence jumps before row {first}: rows are "
                                            "missing")
        prev = row[0]
    tail = conn.execute(f"SELECT {_COLUMNS} FROM trail WHERE seq >= ? ORDER BY seq",
                        (first,)).fetchall()
    return _walk(tail, prev, first)


def _walk(rows: Iterable[tuple], prev: str, expected_seq: int) -> tuple[int, ChainBreak | None]:
    checked = 0
    for row in rows:
        seq, at_utc, staff_id, os_user, table_name, record_id, kind, changes, reason, p, h = row
        if seq != expected_seq:
            return checked, ChainBreak(seq, f"sequence jumps from {expected_seq - 1} to {seq}: "
                                            "rows are missing")
        if p != prev:
            return checked, ChainBreak(seq, "its previous-hash does not match the row before it")
        if row_hash(prev, seq, at_utc, staff_id, os_user, table_name, record_id, kind, changes,
                    reason) != h:
            return checked, ChainBreak(seq, "its content does not match its hash "
                                            "(it was edited outside the app)")
        prev = h
        expected_seq += 1
        checked += 1
    return checked, None


#: Columns a later schema step added to a trailed table, with the value the step gave the rows
#: already there: a record created before the step has no trail entry for the column, so its
#: rebuild starts from that value (a record created since has the column in its first entry).
#: {table: {column: (the step that added it, its value for the rows already there)}}.
ADDED_COLUMNS: dict[str, dict[str, tuple[str, object]]] = {
    "audits": {"selection": ("0008_audit_selection", "unknown")},
    # (a draw made before the step says method 1 in a trail row the step writes)
    "moderations": {"draw_method": ("0009_calibration_draw_method", None)},
}


def _added_columns(conn) -> dict[str, dict[str, object]]:
    """The columns of :data:`ADDED_COLUMNS` this store has (a backup may predate the step)."""
    from sefton_qa.store.schema_steps import applied_names

    applied = set(applied_names(conn))
    return {table: {column: value for column, (step, value) in columns.items()
                    if step in applied}
            for table, columns in ADDED_COLUMNS.items()}


def _new_record(added: dict, table_name: str, at_utc: str) -> dict:
    return {**added.get(table_name, {}), "_version": 0, "_created_at": at_utc}


def replay(conn: sqlite3.Connection) -> dict[tuple[str, int], dict]:
    """Rebuild every record from the trail: {(table, id): {field: value, ...}}.

    Also rebuilds the bookkeeping fields each trailed table keeps: ``version`` (number of
    changes), ``created_at`` and ``updated_at`` (times of the first and last change).
    Holds every record in memory; :func:`replay_table` streams one table instead.
    """
    records: dict[tuple[str, int], dict] = {}
    added = _added_columns(conn)
    for row in iter_entries(conn):
        _seq, at_utc, _staff, _os, table_name, record_id, _kind, changes, *_rest = row
        key = (table_name, record_id)
        rec = records.get(key)
        if rec is None:
            rec = records[key] = _new_record(added, table_name, at_utc)
        _apply(rec, at_utc, changes)
    return records


def _apply(rec: dict, at_utc: str, changes: str) -> None:
    for field, (_old, new) in json.loads(changes).items():
        rec[field] = new
    rec["_version"] += 1
    rec["_updated_at"] = at_utc


def trail_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables the trail has rows for."""
    return [r[0] for r in conn.execute("SELECT DISTINCT table_name FROM trail "
                                       "ORDER BY table_name")]


def replay_table(conn: sqlite3.Connection, table_name: str) -> Iterator[tuple[int, dict]]:
    """Rebuild the records of one table from the trail, in id order, one at a time:
    (id, record) as :func:`replay` builds it, with memory for one record whatever the size."""
    added = _added_columns(conn)
    cur = conn.execute("SELECT record_id, at_utc, changes FROM trail "
                       "WHERE table_name = ? ORDER BY record_id, seq", (table_name,))
    current, rec = None, None
    for record_id, at_utc, changes in cur:
        if record_id != current:
            if rec is not None:
                yield current, rec
            current, rec = record_id, _new_record(added, table_name, at_utc)
        _apply(rec, at_utc, changes)
    if rec is not None:
        yield current, rec


PROTECTION_TRIGGERS = ("trail_is_append_only_update", "trail_is_append_only_delete")


def missing_protection(conn: sqlite3.Connection) -> list[str]:
    """Names of the append-only triggers that are missing (someone dropped them)."""
    from sefton_qa.store import dialect

    present = dialect.of(conn).triggers(conn, "trail")
    return [name for name in PROTECTION_TRIGGERS if name not in present]
