"""The demo's moderation loop looks like a real QA team's: inadequate work moderated swiftly
by someone else, conversations with the team's service manager, actions mostly done, drift in
a team or two, re-audits linked, recent work still waiting; all trailed and reproducible."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter

import pytest

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Role
from sefton_qa.services import moderation, sign_in
from sefton_qa.services.demo import Cancelled, generate_demo
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store
from sefton_qa.store import staff as staff_store

TODAY = dt.date(2026, 11, 24)
LOOP_TABLES = ("moderations", "reflective_conversations", "remedial_actions")


def d(text):
    return dt.date.fromisoformat(text) if text else None


def loop_fingerprint(conn) -> list[tuple]:
    """The loop as a reader sees it, by names and case references rather than ids."""
    mods = conn.execute(
        "SELECT a.case_reference, a.audit_date, m.flagged_because, m.flagged_on, m.due_date, "
        "s.display_name, m.original_grade, m.moderated_grade, m.moderation_date, m.reason, "
        "m.section_comments, m.status FROM moderations m JOIN audits a ON a.id = m.audit_id "
        "LEFT JOIN staff s ON s.id = m.moderator_id ORDER BY m.id").fetchall()
    convs = conn.execute(
        "SELECT a.case_reference, c.due_date, c.held_on, s.display_name, c.participants, "
        "c.learning, c.status FROM reflective_conversations c JOIN audits a ON a.id = c.audit_id "
        "LEFT JOIN staff s ON s.id = c.facilitator_id ORDER BY c.id").fetchall()
    acts = conn.execute(
        "SELECT a.case_reference, x.description, s.display_name, x.due_date, x.status, "
        "x.status_reason, x.evidence, x.completed_on, x.reaudit_by, r.case_reference, "
        "r.audit_date FROM remedial_actions x JOIN audits a ON a.id = x.audit_id "
        "LEFT JOIN staff s ON s.id = x.owner_id LEFT JOIN audits r ON r.id = x.reaudit_audit_id "
        "ORDER BY x.id").fetchall()
    return mods + convs + acts


@pytest.fixture
def conn(demo_store):
    return demo_store.conn


@pytest.fixture
def calendar(conn):
    return moderation.loop_settings(conn).calendar


def test_the_demo_has_a_loop(conn):
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in LOOP_TABLES}
    assert counts["moderations"] > 200
    assert counts["reflective_conversations"] > 150
    assert counts["remedial_actions"] > counts["reflective_conversations"]


def test_every_inadequate_audit_is_flagged_on_its_date_and_due_in_five_working_days(
        conn, calendar):
    rows = [(audit_id, date, json.loads(changes)["overall_grade"][1])
            for audit_id, date, changes in conn.execute(
                "SELECT a.id, a.audit_date, t.changes FROM audits a JOIN trail t "
                "ON t.table_name = 'audits' AND t.record_id = a.id AND t.kind = 'demo'")]
    submitted_inadequate = {r[0] for r in rows if r[2] == "inadequate"}
    flagged = {r[0]: r for r in conn.execute(
        "SELECT audit_id, flagged_on, due_date, original_grade FROM moderations "
        "WHERE flagged_because = 'inadequate'")}
    assert set(flagged) == submitted_inadequate
    dates = {r[0]: r[1] for r in rows}
    for audit_id, flagged_on, due, original in flagged.values():
        assert flagged_on == dates[audit_id]
        assert d(due) == calendar.add(d(flagged_on), 5)
        assert original == "inadequate"


def test_the_calibration_sample_is_the_stores_own_fair_draw(conn):
    seed = json.loads(conn.execute(
        "SELECT value FROM settings WHERE key = 'calibration_seed'").fetchone()[0])
    rate = json.loads(conn.execute(
        "SELECT value FROM settings WHERE key = 'calibration_rate'").fetchone()[0])
    others = [r[0] for r in conn.execute(
        "SELECT a.id FROM audits a WHERE a.id NOT IN (SELECT audit_id FROM moderations "
        "WHERE flagged_because = 'inadequate')")]
    sampled = {r[0]: json.loads(r[1]) for r in conn.execute(
        "SELECT audit_id, selection FROM moderations WHERE flagged_because = 'calibration'")}
    methods = {r[0] for r in conn.execute(
        "SELECT draw_method FROM moderations WHERE flagged_because = 'calibration'")}
    assert methods == {moderation.DRAW_METHOD}  # the demo draws as a new store does
    assert 0.05 < len(sampled) / len(others) < 0.16
    for audit_id in others:
        draw = moderation.calibration_draw(seed, audit_id, moderation.DRAW_METHOD)
        assert (audit_id in sampled) == (draw < rate)
        if audit_id in sampled:
            assert sampled[audit_id] == {"draw": draw, "rate": rate, "seed": seed}


def test_moderators_are_never_the_auditor_and_mostly_on_time(conn):
    moderators = {s.id for s in staff_store.list_all(conn) if s.has_role(Role.MODERATOR)}
    rows = conn.execute(
        "SELECT m.moderator_id, a.auditor_id, m.due_date, m.moderation_date, m.flagged_on "
        "FROM moderations m JOIN audits a ON a.id = m.audit_id WHERE m.status = 'done'"
    ).fetchall()
    assert all(r[0] != r[1] and r[0] in moderators for r in rows)
    assert len({r[0] for r in rows}) >= 5  # shared among the moderators
    on_time = sum(r[3] <= r[2] for r in rows) / len(rows)
    assert 0.7 <= on_time < 1.0  # most on time, not all
    assert all(r[4] < r[3] <= TODAY.isoformat() for r in rows)


def test_auditors_are_a_little_optimistic(demo_admin):
    cal = moderation.calibration(demo_admin)
    assert cal.downgraded > cal.upgraded > 0
    assert cal.confirmed / cal.moderated > 0.8
    assert 0.5 < cal.kappa < 0.95
    assert "too optimistically" in cal.plain_words()
    reasons = demo_admin.store.conn.execute(
        "SELECT reason FROM moderations WHERE moderated_grade != original_grade").fetchall()
    assert reasons and all(r[0] and len(r[0]) > 40 for r in reasons)
    # Each change shows on the audit, with the reason, in the trail.
    changed = demo_admin.store.conn.execute(
        "SELECT count(*) FROM trail WHERE table_name = 'audits' AND kind = 'moderation' "
        "AND reason LIKE 'Moderated from %'").fetchone()[0]
    assert changed == cal.upgraded + cal.downgraded


def test_conversations_are_with_the_teams_service_manager_and_mostly_on_time(conn, calendar):
    rows = conn.execute(
        "SELECT c.due_date, c.held_on, c.facilitator_id, c.service_manager_id, "
        "t.service_manager_id, m.moderation_date, c.participants, c.learning, c.status, c.id "
        "FROM reflective_conversations c JOIN audits a ON a.id = c.audit_id "
        "JOIN teams t ON t.id = a.team_id JOIN moderations m ON m.id = c.moderation_id"
    ).fetchall()
    maintained = conn.execute("SELECT count(*) FROM moderations WHERE status = 'done' "
                              "AND moderated_grade = 'inadequate'").fetchone()[0]
    assert len(rows) == maintained
    held = [r for r in rows if r[8] == "held"]
    assert 0 < len(rows) - len(held) < 0.1 * len(rows)  # a few still due
    for r in rows:
        assert r[3] == r[4]
        assert d(r[0]) == calendar.add(d(r[5]), 10)
    for r in held:
        assert r[2] == r[4]
        participants = json.loads(r[6])
        assert {"worker", "team manager"} <= set(participants)
        assert len(r[7]) > 40
        n = conn.execute("SELECT count(*) FROM remedial_actions WHERE conversation_id = ?",
                         (r[9],)).fetchone()[0]
        assert 1 <= n <= 3
    on_time = sum(r[1] <= r[0] for r in held) / len(held)
    assert 0.6 <= on_time < 0.95


def test_actions_are_owned_by_team_managers_and_mostly_done(conn):
    team_managers = {s.id for s in staff_store.list_all(conn)
                     if s.team_id is not None and not s.roles}
    rows = conn.execute("SELECT owner_id, status, due_date, completed_on, evidence, "
                        "status_reason FROM remedial_actions").fetchall()
    assert {r[0] for r in rows} <= team_managers
    status = Counter(r[1] for r in rows)
    assert status["done"] > 0.7 * len(rows)
    assert status["open"] > 0 and status["not_needed"] > 0
    done = [r for r in rows if r[1] == "done"]
    assert all(r[4] and r[3] <= TODAY.isoformat() for r in done)
    assert sum(r[3] <= r[2] for r in done) / len(done) > 0.7
    assert all(r[5] for r in rows if r[1] == "not_needed")


def test_drift_shows_in_a_team_or_two(demo_admin):
    overdue = [i for i in moderation.queue(demo_admin, overdue_only=True) if i.stage == "action"]
    assert len(overdue) >= 10
    by_team = Counter(i.team for i in overdue).most_common()
    assert sum(n for _t, n in by_team[:2]) >= 0.4 * len(overdue)
    assert len(by_team) >= 4  # but not only there


def test_loop_stages_are_mixed_and_recent_work_waits(demo_admin):
    loops = moderation.loops(demo_admin)
    stages = Counter(lp.stage for lp in loops)
    assert set(stages) == set(moderation.STAGES)
    assert stages["closed"] > len(loops) / 2
    overdue = sum(lp.overdue for lp in loops)
    assert 0.05 * len(loops) < overdue < 0.35 * len(loops)
    waiting = [lp for lp in loops if lp.stage == "awaiting moderation"]
    assert all((TODAY - lp.started).days <= 28 for lp in waiting)
    # Pending moderations (either kind) are recent.
    pending = [i for i in moderation.queue(demo_admin) if i.stage == "moderation"]
    assert pending and all(i.waiting_days <= 28 for i in pending)


def test_reaudits_are_linked_and_show_the_difference(demo_admin):
    conn = demo_admin.store.conn
    rows = conn.execute(
        "SELECT a.case_reference, a.audit_date, r.case_reference, r.audit_date, x.status, "
        "x.reaudit_by FROM remedial_actions x JOIN audits a ON a.id = x.audit_id "
        "LEFT JOIN audits r ON r.id = x.reaudit_audit_id WHERE x.reaudit_by IS NOT NULL"
    ).fetchall()
    linked = [r for r in rows if r[2] is not None]
    assert len(linked) >= 10
    assert all(r[2] == r[0] and r[3] > r[1] for r in linked)
    waiting = [r for r in rows if r[2] is None]
    assert waiting and all(r[5] > TODAY.isoformat() for r in waiting)
    improved = Counter(lp.improved for lp in moderation.loops(demo_admin)
                       if lp.reaudit_grade is not None)
    assert improved[True] > 0 and improved[False] > 0


def test_nothing_happens_after_today(conn):
    for table, column in (("moderations", "moderation_date"),
                          ("reflective_conversations", "held_on"),
                          ("remedial_actions", "completed_on")):
        latest = conn.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]
        assert latest <= TODAY.isoformat()


def test_the_loop_is_trailed_and_verify_passes(demo_store):
    report = verify_store(demo_store)
    assert report.ok, report.lines()
    for table in LOOP_TABLES:
        untrailed = demo_store.conn.execute(
            f"SELECT count(*) FROM {table} x WHERE NOT EXISTS (SELECT 1 FROM trail t "
            f"WHERE t.table_name = '{table}' AND t.record_id = x.id)").fetchone()[0]
        assert untrailed == 0


def _fresh(path, empty_store_template, seed, today=TODAY):
    path.write_bytes(empty_store_template.read_bytes())
    store = open_store(path)
    session = sign_in(store, os_user="admin.user", today=lambda: today)
    started = time.perf_counter()
    result = generate_demo(session, seed=seed)
    return store, result, time.perf_counter() - started


def test_the_loop_is_deterministic_for_the_seed(tmp_path, empty_store_template, demo_store):
    first, r1, seconds = _fresh(tmp_path / "a.sqlite3", empty_store_template, 2024)
    other, r3, _ = _fresh(tmp_path / "c.sqlite3", empty_store_template, 7)
    try:
        assert seconds < 15  # a few seconds at most (about half a second here)
        assert r1.moderations and r1.conversations and r1.actions
        assert loop_fingerprint(first.conn) == loop_fingerprint(demo_store.conn)
        assert loop_fingerprint(other.conn) != loop_fingerprint(first.conn)
        assert r3 != r1
    finally:
        first.close()
        other.close()


def test_a_different_today_moves_the_whole_timeline(tmp_path, empty_store_template):
    store, _r, _ = _fresh(tmp_path / "b.sqlite3", empty_store_template, 2024,
                          today=dt.date(2026, 3, 10))
    try:
        latest = store.conn.execute("SELECT max(completed_on) FROM remedial_actions"
                                    ).fetchone()[0]
        assert latest <= "2026-03-10"
        assert verify_store(store).ok
    finally:
        store.close()


@pytest.mark.parametrize("stop_at", [76, 90])
def test_cancelling_while_the_loop_is_written_writes_nothing(store, admin, table_counts,
                                                             stop_at):
    before = table_counts(store.conn, "audits", "trail", *LOOP_TABLES)
    messages = []

    def progress(done, total, message):
        messages.append((done, message))
        return False if done >= stop_at else None

    with pytest.raises(Cancelled, match="nothing was added"):
        generate_demo(admin, months=6, seed=5, progress=progress)
    assert table_counts(store.conn, "audits", "trail", *LOOP_TABLES) == before
    assert not store.conn.in_transaction
    assert any(m.startswith("Moderating") for _d, m in messages)


def test_grades_seen_in_the_loop_are_on_the_scale(conn):
    scale = {g.value for g in Grade}
    for column in ("original_grade", "moderated_grade"):
        values = {r[0] for r in conn.execute(f"SELECT DISTINCT {column} FROM moderations")}
        assert values - {None} <= scale
