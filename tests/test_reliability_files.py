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
import sqlite3
from pathlib import Path

import pytest
from figures import record_figure

from damaged_stores import (
    make_flipped,
    make_foreign,
    make_newer,
    make_not_sqlite,
    make_rows_deleted,
    make_tail_edited,
    make_tampered,
    make_truncated,
)

from sefton_qa import cli
from sefton_qa.domain.errors import StoreDamaged, StoreError, StoreFromNewerVersion
from sefton_qa.store import audits as audit_store
from sefton_qa.store import open_store

PERIOD = ["--from", "2020-01-01", "--to", "2030-12-31"]


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
    record_figure("refused file", f"{name}: \"{message}\" from open_store (read-write and "
                                  "read-only), summary and verify exit 1, file unchanged")


def test_a_newer_version_store_is_refused_for_writing_and_opens_read_only(
        tmp_path, demo_store_template):
    path = make_newer(demo_store_template, tmp_path / "store" / "sefton-qa.sqlite3")
    before = _snapshot(path)
    message = "newer version of Sefton QA"

    with pytest.raises(StoreFromNewerVersion, match=message):
        open_store(path)
    with pytest.raises(StoreFromNewerVersion, match="open it read-only"):
        open_store(path, check=True)
    _assert_unwritten(path, before)
    store = open_store(path, read_only=True, migrate=False)  # the GUI's "Open read-only"
    try:
        assert store.newer_version and store.read_only
        assert audit_store.count(store.conn) > 0
    finally:
        store.close()
    _assert_unwritten(path, before)

    code, out, err = _cli(path, "summary", *PERIOD)
    assert code == 1 and err.startswith("sefton-qa: ") and message in err
    code, out, err = _cli(path, "verify")  # verify only reads: it looks, and says so
    assert "newer version" in out and "Traceback" not in out + err
    _assert_unwritten(path, before)
    assert not list(path.parent.glob("backups/*")), "a refused file was backed up (a write)"


TAMPERED = [
    ("trigger dropped, a middle row edited", make_tampered, "protection"),
    ("newest row edited, triggers put back", make_tail_edited, "does not match its hash"),
    ("recent rows deleted, triggers put back", make_rows_deleted, "rows are missing"),
]


@pytest.mark.parametrize("name, maker, words", TAMPERED, ids=[t[0] for t in TAMPERED])
def test_a_tampered_trail_is_refused_on_opening_before_anything_is_written(
        tmp_path, demo_store_template, name, maker, words):
    path = maker(demo_store_template, tmp_path / "store" / "sefton-qa.sqlite3")
    before = _snapshot(path)

    with pytest.raises(StoreDamaged, match=words) as caught:
        open_store(path, check=True)  # as the app's window and the CLI's writers open it
    assert "Open it read-only" in str(caught.value) and "restore it from a backup" in str(
        caught.value)
    _assert_unwritten(path, before)
    code, out, err = _cli(path, "import", str(path.parent / "nothing.csv"))
    assert code == 1 and err.startswith("sefton-qa: ") and "failed its check" in err
    code, out, err = _cli(path, "verify")
    assert code == 1 and "FAIL" in out and "Traceback" not in out + err
    record_figure("tampered store", f"{name}: refused on opening (\"{words}\"), import "
                                    "refused, verify FAIL, file unchanged")
    # Opened and closed without the check (and without writing), it is not changed either.
    open_store(path).close()
    _assert_unwritten(path, before)
    open_store(path, read_only=True, migrate=False).close()
    _assert_unwritten(path, before)
    assert not list(path.parent.glob("backups/*"))


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
