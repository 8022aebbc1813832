"""Damaged, foreign and tampered store files, made from a template store (issue 8, item 5).

Shared by tests/test_reliability_files.py and tests/gui/test_store_check.py.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


def _copy(template: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, dest)
    return dest


def _page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big") or 65536


def _middle_btree_page(data: bytes, page_size: int) -> int:
    """The index (0-based) of the first b-tree page at or after the middle of the file."""
    pages = len(data) // page_size
    for page in range(pages // 2, pages):
        if data[page * page_size] in (0x02, 0x05, 0x0A, 0x0D):
            return page
    raise AssertionError("no b-tree page in the second half of the file")


def make_truncated(template: Path, dest: Path) -> Path:
    data = template.read_bytes()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data[: len(data) // 2])
    return dest


def make_flipped(template: Path, dest: Path) -> Path:
    """Flip the page-type byte of a b-tree page in the middle of the file."""
    data = bytearray(template.read_bytes())
    size = _page_size(template)
    data[_middle_btree_page(bytes(data), size) * size] ^= 0xFF
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(bytes(data))
    return dest


def make_not_sqlite(template: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"Minutes of the QA panel, November\n" * 200)
    return dest


def make_foreign(template: Path, dest: Path) -> Path:
    """An SQLite database that is not ours: one unrelated, empty table."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(dest)
    conn.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    return dest


def _edit(template: Path, dest: Path, *statements: str) -> Path:
    """A copy of ``template`` with ``statements`` run on it by plain sqlite3, as a tool outside
    the app would, and checkpointed so the main file holds the change."""
    _copy(template, dest)
    conn = sqlite3.connect(dest)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return dest


def edit_trail_outside_the_app(path: Path, sql: str, trigger: str) -> None:
    """Run ``sql`` on the trail in place, with its protecting ``trigger`` dropped for the
    edit and put back afterwards, so that only the hash chain can tell."""
    conn = sqlite3.connect(path)
    (create,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                             (trigger,)).fetchone()
    conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute(sql)
    conn.execute(create)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _trail_edited(template: Path, dest: Path, sql: str,
                  trigger: str = "trail_is_append_only_update") -> Path:
    _copy(template, dest)
    edit_trail_outside_the_app(dest, sql, trigger)
    return dest


def make_newer(template: Path, dest: Path) -> Path:
    return _edit(template, dest,
                 "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('sefton_qa', '9999_from_the_future', '2031-01-01 00:00:00')")


def make_tampered(template: Path, dest: Path) -> Path:
    """The trail edited outside the app: its protecting trigger dropped and a row changed."""
    return _edit(template, dest, "DROP TRIGGER trail_is_append_only_update",
                 "UPDATE trail SET os_user = 'someone.else' "
                 "WHERE seq = (SELECT max(seq) / 2 FROM trail)")


def make_tail_edited(template: Path, dest: Path) -> Path:
    """The newest trail row edited and the triggers put back: only the chain can tell."""
    return _trail_edited(template, dest, "UPDATE trail SET os_user = 'someone.else' "
                                         "WHERE seq = (SELECT max(seq) FROM trail)")


def make_rows_deleted(template: Path, dest: Path) -> Path:
    """Three of the newest trail rows deleted (triggers dropped and put back), the rest left
    alone."""
    return _trail_edited(template, dest,
                         "DELETE FROM trail WHERE seq BETWEEN (SELECT max(seq) - 20 FROM trail) "
                         "AND (SELECT max(seq) - 18 FROM trail)", "trail_is_append_only_delete")


def make_old_row_edited(template: Path, dest: Path, seq: int = 5) -> Path:
    """An old trail row edited and the triggers put back: the quick check on opening cannot
    see it (it reads only the newest rows); the full check (``verify``) does."""
    return _trail_edited(template, dest,
                         f"UPDATE trail SET os_user = 'someone.else' WHERE seq = {int(seq)}")
