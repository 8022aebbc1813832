"""Synthetic demo data: deterministic, plausible, honest (through the services, trailed)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.domain.models import Role
from sefton_qa.services import sign_in
from sefton_qa.services.demo import Cancelled, generate_demo
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store
from sefton_qa.store import staff as staff_store

TODAY = dt.date(2026, 11, 24)


def fingerprint(store) -> list[tuple]:
    """Everything a reader would see, by names rather than ids (the same on either engine)."""
    themes = store.dialect.group_concat("th.name", "'|'")
    return store.conn.execute(
        "SELECT a.case_reference, a.audit_type, a.audit_date, sa.name, t.name, s.display_name, "
        "a.overall_grade, a.sections, a.findings, a.status, "
        f"(SELECT {themes} FROM (SELECT th.name FROM audit_themes x "
        " JOIN themes th ON th.id = x.theme_id WHERE x.audit_id = a.id ORDER BY th.name) th) "
        "FROM audits a JOIN service_areas sa ON sa.id = a.service_area_id "
        "JOIN teams t ON t.id = a.team_id JOIN staff s ON s.id = a.auditor_id ORDER BY a.id"
    ).fetchall()


def demo_on_fresh(store_path_factory, *, seed, months=18, today=TODAY, os_user="admin.user"):
    store = open_store(store_path_factory())
    session = sign_in(store, os_user=os_user, today=lambda: today)
    result = generate_demo(session, months=months, seed=seed)
    return store, result


@pytest.fixture
def fresh_path(tmp_path, empty_store_template):
    counter = iter(range(1000))

    def make():
        path = tmp_path / f"fresh-{next(counter)}.sqlite3"
        path.write_bytes(empty_store_template.read_bytes())
        return path

    return make


@pytest.fixture
def demo_rows(demo_store):
    return demo_store.conn.execute(
        "SELECT a.id, a.audit_date, a.overall_grade, a.status, sa.name, a.auditor_id "
        "FROM audits a JOIN service_areas sa ON sa.id = a.service_area_id").fetchall()


def test_same_seed_and_today_give_the_same_data(fresh_path, demo_store):
    first, r1 = demo_on_fresh(fresh_path, seed=2024)
    second, r2 = demo_on_fresh(fresh_path, seed=2024, os_user="someone.else")
    other, r3 = demo_on_fresh(fresh_path, seed=99)
    try:
        assert r1 == r2
        assert fingerprint(first) == fingerprint(second) == fingerprint(demo_store)
        assert fingerprint(other) != fingerprint(first)
    finally:
        for s in (first, second, other):
            s.close()


def test_demo_refuses_a_store_that_holds_audits(demo_admin, demo_store):
    count = demo_store.conn.execute("SELECT count(*) FROM trail").fetchone()[0]
    with pytest.raises(SeftonError, match="already holds audits"):
        generate_demo(demo_admin)
    assert demo_store.conn.execute("SELECT count(*) FROM trail").fetchone()[0] == count


def test_demo_months_must_be_sensible(admin):
    for months in (0, 121):
        with pytest.raises(ValidationError, match="between 1 and 120"):
            generate_demo(admin, months=months)


def test_demo_organisation(demo_store):
    conn = demo_store.conn
    assert conn.execute("SELECT count(*) FROM service_areas").fetchone()[0] == 6
    assert 9 <= conn.execute("SELECT count(*) FROM teams").fetchone()[0] <= 10
    qa_officers = [s for s in staff_store.list_all(conn) if s.has_role(Role.QA_OFFICER)
                   and not s.has_role(Role.ADMINISTRATOR)]
    assert len(qa_officers) == 12
    auditors = {r[0] for r in conn.execute("SELECT DISTINCT auditor_id FROM audits")}
    assert auditors == {s.id for s in qa_officers}
    # Every team's manager and service manager exist; no real people: display names only.
    assert conn.execute("SELECT count(*) FROM teams WHERE service_manager_id IS NULL"
                        ).fetchone()[0] == 0


def test_demo_audits_per_month(demo_rows):
    per_month = Counter(r[1][:7] for r in demo_rows)
    months = sorted(per_month)
    assert months[-1] == "2026-11"
    full = months[:-1]  # this month is still running
    assert len(full) == 18
    assert full[0] == "2025-05"
    for month in full:
        assert 40 <= per_month[month] <= 60, (month, per_month[month])
    assert per_month["2026-11"] <= 60


def test_demo_dates_never_in_the_future_and_grades_never_missing(demo_rows):
    assert max(dt.date.fromisoformat(r[1]) for r in demo_rows) <= TODAY
    assert all(r[2] in ("good", "requires_improvement", "inadequate") for r in demo_rows)
    assert {r[3] for r in demo_rows} == {"submitted"}


def test_demo_themes_cluster(demo_store):
    rows = demo_store.conn.execute(
        "SELECT sa.name, count(*) FROM audit_themes x JOIN themes th ON th.id = x.theme_id "
        "JOIN audits a ON a.id = x.audit_id JOIN service_areas sa ON sa.id = a.service_area_id "
        "WHERE th.name = 'Exploitation' GROUP BY sa.name").fetchall()
    by_area = dict(rows)
    total = sum(by_area.values())
    assert total >= 20
    assert by_area.get("Exploitation and Adolescent Services", 0) / total >= 0.8
    kinship = dict(demo_store.conn.execute(
        "SELECT sa.name, count(*) FROM audit_themes x JOIN themes th ON th.id = x.theme_id "
        "JOIN audits a ON a.id = x.audit_id JOIN service_areas sa ON sa.id = a.service_area_id "
        "WHERE th.name = 'Kinship carer assessments' GROUP BY sa.name").fetchall())
    assert kinship.get("Permanence and Fostering", 0) / sum(kinship.values()) >= 0.8


def test_demo_grades_improve(demo_rows):
    months = sorted({r[1][:7] for r in demo_rows})
    first, last = set(months[:6]), set(months[-7:-1])  # last six full months

    def share_inadequate(which):
        rows = [r for r in demo_rows if r[1][:7] in which]
        return sum(r[2] == "inadequate" for r in rows) / len(rows)

    def share_good(which):
        rows = [r for r in demo_rows if r[1][:7] in which]
        return sum(r[2] == "good" for r in rows) / len(rows)

    assert share_inadequate(first) > share_inadequate(last)
    assert share_good(first) < share_good(last)


def test_demo_every_record_is_trailed_and_verify_passes(demo_store):
    report = verify_store(demo_store)
    assert report.ok, report.lines()
    kinds = dict(demo_store.conn.execute(
        "SELECT kind, count(*) FROM trail WHERE table_name = 'audits' GROUP BY kind"))
    # Every audit was created as demo data; a moderator's change of grade is its own row.
    assert kinds["demo"] == demo_store.conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    assert set(kinds) <= {"demo", "moderation"}
    reasons = {r[0] for r in demo_store.conn.execute(
        "SELECT DISTINCT reason FROM trail WHERE table_name = 'audits'")}
    assert {r for r in reasons if not r.startswith("Moderated from ")} == \
        {"Synthetic demo data"}


@pytest.mark.parametrize("stop_at", [0, 5, 70, 100])
def test_cancelling_writes_nothing(store, admin, table_counts, stop_at):
    before = table_counts(store.conn)
    seen = []

    def progress(done, total, message):
        seen.append(done)
        assert total == 100 and message
        return False if done >= stop_at else None

    with pytest.raises(Cancelled, match="nothing was added"):
        generate_demo(admin, seed=5, progress=progress)
    assert table_counts(store.conn) == before
    assert not store.conn.in_transaction
    assert seen[-1] >= stop_at
    # And after a cancel, the store is still usable for a real run.
    result = generate_demo(admin, seed=5)
    assert result.audits == store.conn.execute("SELECT count(*) FROM audits").fetchone()[0]


def test_progress_reports_run_from_0_to_100(admin):
    seen = []
    generate_demo(admin, months=6, seed=1, progress=lambda d, t, m: seen.append(d))
    assert seen[0] == 0 and seen[-1] == 100
    assert seen == sorted(seen)


def test_demo_fills_a_store_with_an_existing_service_area(store, admin):
    from sefton_qa.services import organisation as org_service

    org_service.add_service_area(admin, "Assessment")
    generate_demo(admin, months=6, seed=3)
    assert store.conn.execute("SELECT count(*) FROM service_areas").fetchone()[0] == 6
    assert verify_store(store).ok


@pytest.mark.parametrize("months", [1, 2])
def test_short_demo_runs(fresh_path, months):
    # months=1 fails for every seed; months=2 for seeds 3, 5, 6, 9 among 0..9.
    for seed in (3, 5):
        store, result = demo_on_fresh(fresh_path, seed=seed, months=months)
        try:
            assert result.audits > 0
        finally:
            store.close()
