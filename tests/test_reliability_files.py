"""Item 5 (issue 8): corrupt or foreign store files.

Each damaged or foreign file is opened with open_store and through the CLI (``summary`` and
``verify``). Each must give a clear message (a StoreError, or a verify FAIL line naming the
problem), never a traceback, and never write: the file's bytes and mtime are the same after,
and no -wal file with content is left beside it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from sefton_qa import cli
from sefton_qa.domain.errors import StoreError
from sefton_qa.store import open_store

PERIOD = ["--from", "2020-01-01", "--to", "2030-12-31"]


# -- making the damaged files ------------------------------------------------------------------
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


# -- looking at a file -------------------------------------------------------------------------
def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def _assert_unwritten(path: Path, before: tuple[bytes, int]) -> None:
    assert _snapshot(path) == before, f"{path.name} was written"
    wal = Path(str(path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "a -wal with content was left behind"


def _cli(path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--db", str(path), *args])
    return code, out.getvalue(), err.getvalue()


# -- the cases ---------------------------------------------------------------------------------
#: (name, maker, what open_store says (None: it opens), words verify's output must contain)
REFUSED = [
    ("truncated", make_truncated, "could not be read as a Sefton QA store"),
    ("not sqlite", make_not_sqlite, "not an SQLite database"),
    ("foreign sqlite", make_foreign, "not a Sefton QA store"),
    ("newer version", make_newer, "newer version of Sefton QA"),
]


@pytest.mark.parametrize("name, maker, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_files_give_a_clear_message_and_are_not_written(
        tmp_path, demo_store_template, name, maker, message):
    path = maker(demo_store_template, tmp_path / "store" / "sefton-qa.sqlite3")
    before = _snapshot(path)

    with pytest.raises(StoreError, match=message):
        open_store(path)
    _assert_unwritten(path, before)
    with pytest.raises(StoreError, match=message):
        open_store(path, read_only=True, migrate=False)
    _assert_unwritten(path, before)

    for args in (["summary", *PERIOD], ["verify"]):
        code, out, err = _cli(path, *args)
        assert code == 1
        assert err.startswith("sefton-qa: ") and message in err
        assert "Traceback" not in out + err
        _assert_unwritten(path, before)
    assert not list(path.parent.glob("backups/*")), "a refused file was backed up (a write)"


def test_tampered_trail_opens_but_verify_names_the_problem(tmp_path, demo_store_template):
    path = make_tampered(demo_store_template, tmp_path / "store" / "sefton-qa.sqlite3")
    before = _snapshot(path)

    code, out, err = _cli(path, "verify")
    assert code == 1
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert any("trail protection" in line for line in fails), out
    assert any("trail chain" in line for line in fails), out
    assert "FAILED verification" in out and "Traceback" not in out + err
    _assert_unwritten(path, before)

    # Read-only, it can still be looked at (the GUI's "Open read-only").
    store = open_store(path, read_only=True, migrate=False)
    store.close()
    _assert_unwritten(path, before)


def test_flipped_byte_is_refused_by_verify_or_open(tmp_path, demo_store_template):
    path = make_flipped(demo_store_template, tmp_path / "store" / "sefton-qa.sqlite3")
    before = _snapshot(path)
    # The damage is past the pages open_store reads, so it opens; opening writes nothing.
    open_store(path).close()
    _assert_unwritten(path, before)
    code, out, err = _cli(path, "verify")  # the damage is a FAIL line, never an exception
    assert code == 1
    assert "Traceback" not in out + err
    assert "FAIL" in out or err.startswith("sefton-qa: ")
    _assert_unwritten(path, before)


def test_truncated_store_is_not_written_even_by_a_plain_open(tmp_path, demo_store_template):
    """A file SQLite would treat as a fresh database must not be migrated into a store."""
    path = make_truncated(demo_store_template, tmp_path / "store" / "sefton-qa.sqlite3")
    before = _snapshot(path)
    for _ in range(2):
        with pytest.raises(StoreError):
            open_store(path)
    _assert_unwritten(path, before)
    assert os.path.getsize(path) == len(before[0])
