"""Issue 8, item 3: a full disk and disk I/O errors.

A real SQLITE_FULL is made with SQLite's own limit: ``PRAGMA max_page_count`` on the store's
connection, set a few pages above the store's size, so saves go on until the file cannot grow.
The failing save must give a plain message (a StoreError, not a raw sqlite3 error), leave
nothing half-written, and the store must take saves again once there is room.
"""

from __future__ import annotations

import sqlite3

import pytest
from figures import record_figure

from sefton_qa.domain.errors import SeftonError, StoreError
from sefton_qa.domain.grades import Grade
from sefton_qa.services import audits as audit_service
from sefton_qa.services.verify import verify_store

pytestmark = pytest.mark.file_only  # about SQLite files themselves


FULL_MESSAGE = ("The store could not be written: the disk is full. Nothing was saved; free "
                "some space and try again.")
NO_LIMIT = 1_073_741_823
COUNTED = ("audits", "audit_themes", "trail", "moderations")


def counts(conn) -> dict[str, int]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in COUNTED if t in tables}


def refs_seen_by_another_window(path) -> set[str]:
    other = sqlite3.connect(str(path), timeout=1)
    try:
        return {r[0] for r in other.execute("SELECT case_reference FROM audits")}
    finally:
        other.close()


def assert_plain(exc: BaseException) -> None:
    assert isinstance(exc, StoreError) and isinstance(exc, SeftonError)
    text = str(exc)
    assert "Traceback" not in text and "sqlite3" not in text
    assert isinstance(exc.__cause__, sqlite3.OperationalError)  # kept for the log


def limit_pages(store, extra: int) -> int:
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + extra}")
    return pages


def test_a_full_disk_refuses_the_save_plainly_and_loses_nothing(store, auditor, make_input):
    for i in range(3):
        audit_service.create_audit(auditor, make_input(case_reference=f"LCS-7{i:05d}"),
                                   submit=True)
    pages = limit_pages(store, 4)
    saved: list[str] = []
    failure = None
    for i in range(3, 2000):
        ref = f"LCS-7{i:05d}"
        before = counts(store.conn)
        try:
            audit_service.create_audit(
                auditor, make_input(case_reference=ref, overall_grade=Grade.INADEQUATE,
                                    findings="Findings " * 40), submit=True)
        except StoreError as exc:
            failure = exc
            # The failed save left nothing: same rows in every table, no transaction open.
            assert counts(store.conn) == before
            assert not store.conn.in_transaction
            break
        saved.append(ref)
    assert failure is not None, "the store never filled up"
    assert_plain(failure)
    assert str(failure) == FULL_MESSAGE
    assert "full" in str(failure.__cause__)
    full_counts = counts(store.conn)

    # Still full: a second try fails the same way, and so does an edit of a saved audit.
    with pytest.raises(StoreError, match="disk is full"):
        audit_service.create_audit(auditor, make_input(case_reference="LCS-799998",
                                                       findings="x" * 5000), submit=True)
    assert counts(store.conn) == full_counts
    report = verify_store(store)
    assert report.ok, report.lines()
    assert set(saved) <= refs_seen_by_another_window(store.path)

    # Room again: the same save now works and everything still verifies.
    store.conn.execute(f"PRAGMA max_page_count = {NO_LIMIT}")
    audit_service.create_audit(auditor, make_input(case_reference="LCS-799999",
                                                   findings="x" * 5000), submit=True)
    after = counts(store.conn)
    assert after["audits"] == full_counts["audits"] + 1
    assert after["trail"] > full_counts["trail"]
    report = verify_store(store)
    assert report.ok, report.lines()
    assert "LCS-799999" in refs_seen_by_another_window(store.path)
    record_figure("disk full (max_page_count)",
                  f"store of {pages} pages, limit +4: {len(saved)} saves fitted, then refused "
                  f"plainly; {full_counts['audits']} audits / {full_counts['trail']} trail rows "
                  "unchanged by the refusal; verify ok; saving works again after the limit "
                  "was raised")


def test_an_edit_on_a_full_disk_leaves_the_audit_as_it_was(store, auditor, make_input):
    change = audit_service.create_audit(auditor, make_input(case_reference="LCS-710000"))
    audit_id = change.record_ids[0]
    before = audit_service.get_audit(auditor, audit_id)
    trail_rows = counts(store.conn)["trail"]
    limit_pages(store, 0)
    with pytest.raises(StoreError, match="disk is full") as raised:
        audit_service.update_audit(auditor, audit_id,
                                   make_input(case_reference="LCS-710000",
                                              findings="A long new finding. " * 2000),
                                   expected_version=before.version)
    assert_plain(raised.value)
    store.conn.execute(f"PRAGMA max_page_count = {NO_LIMIT}")
    after = audit_service.get_audit(auditor, audit_id)
    assert (after.version, after.findings) == (before.version, before.findings)
    assert counts(store.conn)["trail"] == trail_rows
    assert verify_store(store).ok


class FailingCommit:
    """Stands in for ``Store.conn``: everything passes through, except that COMMIT raises the
    error a failing disk gives (the COMMIT is not run)."""

    def __init__(self, real: sqlite3.Connection, message: str = "disk I/O error"):
        self._real = real
        self.message = message
        self.fired = 0

    def execute(self, sql, *args, **kwargs):
        if sql.strip().upper() == "COMMIT":
            self.fired += 1
            raise sqlite3.OperationalError(self.message)
        return self._real.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.mark.parametrize("message, plain", [
    ("disk I/O error", "The store could not be written: the disk reported an error"),
    ("database or disk is full", FULL_MESSAGE),
])
def test_an_io_error_at_commit_leaves_the_store_intact(store, auditor, make_input, message,
                                                       plain):
    audit_service.create_audit(auditor, make_input(case_reference="LCS-720000"), submit=True)
    real = store.conn
    before = list(real.iterdump())
    store.conn = FailingCommit(real, message)
    try:
        with pytest.raises(StoreError) as raised:
            audit_service.create_audit(
                auditor, make_input(case_reference="LCS-720001", overall_grade=Grade.INADEQUATE),
                submit=True)
    finally:
        store.conn = real
    try:
        assert store.conn is real
        assert raised.value.__cause__ is not None
        assert_plain(raised.value)
        assert str(raised.value).startswith(plain)
        assert "Nothing was saved" in str(raised.value)
        assert not real.in_transaction, "the failed save's transaction is still open"
        assert list(real.iterdump()) == before
        assert "LCS-720001" not in refs_seen_by_another_window(store.path)
        # The next save is really committed (another window sees it).
        audit_service.create_audit(auditor, make_input(case_reference="LCS-720002"),
                                   submit=True)
        assert "LCS-720002" in refs_seen_by_another_window(store.path)
        assert verify_store(store).ok
    finally:
        if real.in_transaction:
            real.execute("ROLLBACK")


def test_a_store_locked_past_the_busy_timeout_is_said_plainly(store, auditor, make_input):
    other = sqlite3.connect(str(store.path), isolation_level=None, timeout=1)
    try:
        other.execute("BEGIN IMMEDIATE")  # another window holding the write lock
        store.conn.execute("PRAGMA busy_timeout = 50")
        with pytest.raises(StoreError, match="try again in a moment") as raised:
            audit_service.create_audit(auditor, make_input(case_reference="LCS-730000"))
        assert_plain(raised.value)
        assert not store.conn.in_transaction
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.conn.execute("PRAGMA busy_timeout = 15000")
    audit_service.create_audit(auditor, make_input(case_reference="LCS-730001"))
    assert "LCS-730001" in refs_seen_by_another_window(store.path)
