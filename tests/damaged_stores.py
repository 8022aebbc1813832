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


def make_newer(template: Path, dest: Path) -> Path:
    _copy(template, dest)
    conn = sqlite3.connect(dest)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('sefton_qa', '9999_from_the_future', '2031-01-01 00:00:00')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return dest


def make_tampered(template: Path, dest: Path) -> Path:
    """The trail edited outside the app: its protecting trigger dropped and a row changed."""
    _copy(template, dest)
    conn = sqlite3.connect(dest)
    conn.execute("DROP TRIGGER trail_is_append_only_update")
    conn.execute("UPDATE trail SET os_user = 'someone.else' "
                 "WHERE seq = (SELECT max(seq) / 2 FROM trail)")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return dest


def make_tail_edited(template: Path, dest: Path) -> Path:
    """The newest trail row edited and the triggers put back: only the chain can tell."""
    _copy(template, dest)
    conn = sqlite3.connect(dest)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = "
                       "'trail_is_append_only_update'").fetchone()[0]
    conn.execute("DROP TRIGGER trail_is_append_only_update")
    conn.execute("UPDATE trail SET os_user = 'someone.else' WHERE seq = (SELECT max(seq) FROM trail)")
    conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return dest


def make_rows_deleted(template: Path, dest: Path) -> Path:
    """Three of the newest trail rows deleted (triggers dropped and put back), the rest left
    alone."""
    _copy(template, dest)
    conn = sqlite3.connect(dest)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = "
                       "'trail_is_append_only_delete'").fetchone()[0]
    conn.execute("DROP TRIGGER trail_is_append_only_delete")
    conn.execute("DELETE FROM trail WHERE seq BETWEEN (SELECT max(seq) - 20 FROM trail) "
                 "AND (SELECT max(seq) - 18 FROM trail)")
    conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return dest


def make_old_row_edited(template: Path, dest: Path, seq: int = 5) -> Path:
    """An old trail row edited and the triggers put back: the quick check on opening cannot
    see it (it reads only the newest rows); the full check (``verify``) does."""
    _copy(template, dest)
    conn = sqlite3.connect(dest)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = "
                       "'trail_is_append_only_update'").fetchone()[0]
    conn.execute("DROP TRIGGER trail_is_append_only_update")
    conn.execute("UPDATE trail SET os_user = 'someone.else' WHERE seq = ?", (seq,))
    conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return dest
