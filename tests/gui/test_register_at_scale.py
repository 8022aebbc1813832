"""The register model over a million audits answers rowCount and data without loading them."""

from __future__ import annotations

import tracemalloc

import pytest
from PySide6.QtCore import Qt

from sefton_qa.gui.register_model import (
    COL_AUDITOR,
    COL_CASE,
    COL_TEAM,
    MAX_CACHED_PAGES,
    PAGE_SIZE,
    AuditRegisterModel,
)
from sefton_qa.services import sign_in
from sefton_qa.services.demo import generate_demo
from sefton_qa.services.register import RegisterFilter
from sefton_qa.store import open_store

N = 1_000_000


@pytest.fixture(scope="module")
def million(tmp_path_factory):
    """A store with a million audits, written straight into the table by SQL (the fastest way
    to make one; the trail is not what this test is about)."""
    from tests.gui.conftest import TODAY

    path = tmp_path_factory.mktemp("million") / "million.sqlite3"
    store = open_store(path)
    session = sign_in(store, os_user="scale.tester", today=lambda: TODAY)
    generate_demo(session, months=1, seed=3)
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO audits (case_reference, audit_type, audit_date, service_area_id, team_id, "
        "auditor_id, sections, overall_grade, findings, status, version, created_at, updated_at) "
        "SELECT 'SCALE-' || i, 'deep_dive', date('2020-01-01', '+' || (i % 2000) || ' days'), "
        "t.service_area_id, t.id, (SELECT min(id) FROM staff), '{}', "
        "CASE i % 3 WHEN 0 THEN 'good' WHEN 1 THEN 'requires_improvement' ELSE 'inadequate' END, "
        "'', 'submitted', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' "
        "FROM n JOIN teams t ON t.id = 1 + (i % (SELECT count(*) FROM teams))",
        (N - 100,))
    conn.execute("INSERT INTO audits_fts (rowid, case_reference, findings) "
                 "SELECT id, case_reference, findings FROM audits WHERE case_reference "
                 "LIKE 'SCALE-%'")
    conn.execute("COMMIT")
    yield session
    store.close()


@pytest.mark.slow
def test_a_million_audits_are_counted_not_loaded(million):
    tracemalloc.start()
    try:
        model = AuditRegisterModel(million)
        assert model.rowCount() >= N - 100
        for row in (0, 1, 99, 100, 500_000, model.rowCount() - 1):
            assert model.index(row, COL_CASE).data()
        for column in (COL_TEAM, COL_AUDITOR):  # sorting by a name, through SQL
            model.sort(column, Qt.SortOrder.AscendingOrder)
            assert model.index(0, COL_CASE).data()
        model.set_filter(RegisterFilter(search="SCALE-77777"))
        assert model.rowCount() >= 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.cached_rows <= MAX_CACHED_PAGES * PAGE_SIZE
    # A loaded million rows would take hundreds of megabytes; a few pages take a few.
    assert peak < 20 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB"
