"""The audit trail: one row per record changed, append-only, hash-chained, and replayable."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import tempfile
from pathlib import Path

import pytest

from sefton_qa.store import dialect
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sefton_qa.domain.errors import ConflictError, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, Role, SectionGrade
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org_service
from sefton_qa.services import sign_in
from sefton_qa.store import open_store, records, trail

TODAY = dt.date(2026, 11, 24)
UTC_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def trail_rows_after(conn, seq: int) -> list:
    return [trail._entry(r) for r in conn.execute(
        f"SELECT {trail._COLUMNS} FROM trail WHERE seq > ? ORDER BY seq", (seq,))]


def head_seq(conn) -> int:
    return trail.head(conn)[0]


def assert_replay_matches(conn) -> None:
    canonical = {key: rec for table in records.TRAILED_TABLES
                 for key, rec in records.canonical_records(conn, table)}
    rebuilt = trail.replay(conn)
    assert set(rebuilt) == set(canonical)
    for key in canonical:
        assert rebuilt[key] == canonical[key], key


def assert_well_formed(entry, *, staff_id, os_user) -> None:
    assert entry.staff_id == staff_id
    assert entry.os_user == os_user
    assert UTC_FORMAT.match(entry.at_utc), entry.at_utc
    at = dt.datetime.strptime(entry.at_utc, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=dt.timezone.utc)
    assert abs(dt.datetime.now(dt.timezone.utc) - at) < dt.timedelta(hours=1)  # UTC, not local
    for field, pair in entry.changes.items():
        assert isinstance(pair, list) and len(pair) == 2, (field, pair)


# -- one row per record changed ----------------------------------------------------------------
def test_first_sign_in_writes_one_staff_row(store):
    seq = head_seq(store.conn)
    session = sign_in(store, os_user="first.person")
    [entry] = trail_rows_after(store.conn, seq)
    assert (entry.table_name, entry.record_id, entry.kind) == ("staff", session.actor.id,
                                                               "create")
    assert_well_formed(entry, staff_id=None, os_user="first.person")
    assert entry.changes["os_username"] == [None, "first.person"]
    assert sorted(json.loads(entry.changes["roles"][1])) == ["administrator", "qa_officer"]


def test_audit_lifecycle_writes_one_row_per_change(store, admin, org, make_input):
    # (A submission may also flag the audit for calibration moderation, and withdrawing
    # cancels that: rows about the moderation, checked in test_moderation.py.)
    conn = store.conn
    seq = head_seq(conn)
    audit_id = audit_service.create_audit(admin, make_input(findings="first")).record_id
    [created] = trail_rows_after(conn, seq)
    assert (created.table_name, created.record_id, created.kind) == ("audits", audit_id, "create")
    assert_well_formed(created, staff_id=org.admin, os_user="admin.user")
    assert created.reason is None
    assert created.changes["findings"] == [None, "first"]
    assert created.changes["status"] == [None, "draft"]
    assert created.changes["themes"] == [None, [org.themes["Neglect"]]]
    assert all(old is None for old, _new in created.changes.values())
    assert "audit_quarter" not in created.changes and "version" not in created.changes

    seq = head_seq(conn)
    audit_service.update_audit(admin, audit_id, make_input(findings="second"))
    [updated] = trail_rows_after(conn, seq)
    assert updated.kind == "update" and updated.record_id == audit_id
    assert updated.changes == {"findings": ["first", "second"]}  # only what changed

    seq = head_seq(conn)
    audit_service.update_audit(admin, audit_id, make_input(findings="second"))
    assert trail_rows_after(conn, seq) == []  # nothing changed, nothing written

    seq = head_seq(conn)
    audit_service.submit_audit(admin, audit_id)
    [submitted] = [e for e in trail_rows_after(conn, seq) if e.table_name == "audits"]
    assert submitted.kind == "submit"
    assert submitted.changes == {"status": ["draft", "submitted"]}

    seq = head_seq(conn)
    audit_service.update_audit(
        admin, audit_id, make_input(findings="second",
                                    theme_ids=[org.themes["Exploitation"], org.themes["Neglect"]]),
        reason="  Added the exploitation theme after moderation  ")
    [edited] = [e for e in trail_rows_after(conn, seq) if e.table_name == "audits"]
    assert edited.reason == "Added the exploitation theme after moderation"
    assert edited.changes == {"themes": [[org.themes["Neglect"]],
                                         sorted([org.themes["Exploitation"],
                                                 org.themes["Neglect"]])]}

    seq = head_seq(conn)
    audit_service.withdraw_audit(admin, audit_id, "Logged against the wrong case")
    [withdrawn] = [e for e in trail_rows_after(conn, seq) if e.table_name == "audits"]
    assert withdrawn.kind == "withdraw"
    assert withdrawn.reason == "Logged against the wrong case"
    assert withdrawn.changes == {"status": ["submitted", "withdrawn"]}
    assert_well_formed(withdrawn, staff_id=org.admin, os_user="admin.user")
    assert_replay_matches(conn)


def test_another_user_is_recorded_as_themselves(store, auditor, org, make_input):
    seq = head_seq(store.conn)
    audit_service.create_audit(auditor, make_input(auditor_id=None))
    [entry] = trail_rows_after(store.conn, seq)
    assert_well_formed(entry, staff_id=org.auditor, os_user="qa.officer")
    assert entry.changes["auditor_id"] == [None, org.auditor]


def test_bulk_add_writes_one_row_per_audit(store, admin, org, make_input):
    seq = head_seq(store.conn)
    change = audit_service.add_audits(
        admin, [make_input(case_reference=f"LCS-40000{i}") for i in range(4)],
        reason="Imported from the spreadsheet", kind="import")
    everything = trail_rows_after(store.conn, seq)
    # Submitted audits may also be flagged for (calibration) moderation: separate records.
    assert {e.table_name for e in everything} <= {"audits", "moderations"}
    assert all(e.kind == "flag" for e in everything if e.table_name == "moderations")
    entries = [e for e in everything if e.table_name == "audits"]
    assert [(e.table_name, e.record_id, e.kind) for e in entries] == \
        [("audits", i, "import") for i in change.record_ids]
    assert {e.reason for e in entries} == {"Imported from the spreadsheet"}
    for e in entries:
        assert_well_formed(e, staff_id=org.admin, os_user="admin.user")
        assert e.changes["status"] == [None, "submitted"]
    assert_replay_matches(store.conn)


def test_organisation_changes_write_one_row_per_record(store, admin, org):
    conn = store.conn
    seq = head_seq(conn)
    org_service.set_outstanding_enabled(admin, True)
    entries = trail_rows_after(conn, seq)
    assert sorted((e.table_name, e.kind) for e in entries) == [("grades", "update"),
                                                               ("settings", "update")]
    grade_row = next(e for e in entries if e.table_name == "grades")
    assert grade_row.changes == {"active": [0, 1]}
    settings_row = next(e for e in entries if e.table_name == "settings")
    assert settings_row.changes == {"value": ["false", "true"]}

    seq = head_seq(conn)
    team = org_service.add_team(admin, "CP Team 3", org.area1).record_id
    [e] = trail_rows_after(conn, seq)
    assert (e.table_name, e.record_id, e.kind) == ("teams", team, "create")

    seq = head_seq(conn)
    org_service.update_staff(admin, org.auditor, roles=[Role.QA_OFFICER, Role.MODERATOR],
                             active=False)
    [e] = trail_rows_after(conn, seq)
    assert e.table_name == "staff" and set(e.changes) == {"roles", "active"}
    assert e.changes["active"] == [1, 0]

    seq = head_seq(conn)
    org_service.set_case_reference_format(admin, r"^LCS-\d{6}$", "LCS- and six digits")
    assert len(trail_rows_after(conn, seq)) == 2
    assert_replay_matches(conn)


def test_refused_change_writes_no_trail(store, admin, org, make_input):
    seq = head_seq(store.conn)
    with pytest.raises(ValidationError):
        audit_service.create_audit(admin, make_input(case_reference="x"), submit=True)
    audit_id = audit_service.create_audit(admin, make_input()).record_id
    seq = head_seq(store.conn)
    with pytest.raises(ConflictError):
        audit_service.update_audit(admin, audit_id, make_input(findings="late"),
                                   expected_version=99)
    assert head_seq(store.conn) == seq


# -- append-only -------------------------------------------------------------------------------
def test_trail_update_is_refused_by_a_trigger(store, admin):
    before = store.conn.execute("SELECT * FROM trail WHERE seq = 1").fetchone()
    with pytest.raises(dialect.database_errors(), match="append-only"):
        store.conn.execute("UPDATE trail SET reason = 'tidying up' WHERE seq = 1")
    with pytest.raises(dialect.database_errors(), match="append-only"):
        with store.transaction() as conn:
            conn.execute("UPDATE trail SET changes = '{}'")
    assert store.conn.execute("SELECT * FROM trail WHERE seq = 1").fetchone() == before


def test_trail_delete_is_refused_by_a_trigger(store, admin):
    count = trail.count(store.conn)
    with pytest.raises(dialect.database_errors(), match="append-only"):
        store.conn.execute("DELETE FROM trail WHERE seq = 1")
    with pytest.raises(dialect.database_errors(), match="append-only"):
        store.conn.execute("DELETE FROM trail")
    assert trail.count(store.conn) == count


def test_trail_rows_are_written_only_inside_a_transaction(store):
    with pytest.raises(RuntimeError, match="transaction"):
        trail.append(store.conn, trail.PendingChange("audits", 1, "create", {}), staff_id=None,
                     os_user="x")


def test_forged_row_appended_by_hand_breaks_the_chain(store, admin):
    seq, prev = trail.head(store.conn)
    store.conn.execute(
        "INSERT INTO trail (seq, at_utc, staff_id, os_user, table_name, record_id, kind, "
        "changes, reason, prev_hash, hash) VALUES (?, '2026-01-01T00:00:00.000000Z', 1, "
        "'mallory', 'audits', 1, 'create', '{}', NULL, ?, ?)", (seq + 1, prev, "f" * 64))
    checked, broken = trail.check_chain(store.conn)
    assert broken is not None and broken.seq == seq + 1
    assert checked == seq


def test_intact_chain_checks_every_row(store, admin):
    checked, broken = trail.check_chain(store.conn)
    assert broken is None
    assert checked == trail.count(store.conn) > 0


# -- property: replaying the trail rebuilds every record ---------------------------------------
def _copy_template(template: Path, folder: str) -> Path:
    target = Path(folder) / "store.sqlite3"
    target.write_bytes(template.read_bytes())
    return target


case_references = st.from_regex(r"\A[A-Za-z0-9-]{3,20}\Z", fullmatch=True)
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=TODAY)
grades = st.sampled_from([Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE])
texts = st.text(max_size=60)
reasons = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())


@st.composite
def audit_inputs(draw, ids, *, complete: bool):
    area = draw(st.sampled_from(sorted(ids.teams_by_area)))
    team = draw(st.sampled_from(ids.teams_by_area[area]))
    keys = draw(st.lists(st.sampled_from(ids.section_keys), unique=True, max_size=4))
    sections = {k: SectionGrade(draw(st.none() | grades), draw(texts)) for k in keys}
    themes = draw(st.lists(st.sampled_from(sorted(ids.themes.values())), unique=True,
                           max_size=3))

    def maybe(strategy):
        return draw(strategy) if complete else draw(st.none() | strategy)

    return AuditInput(
        case_reference=maybe(case_references) or "",
        audit_type=draw(st.sampled_from(list(AuditType))),
        audit_date=maybe(dates),
        service_area_id=maybe(st.just(area)),
        team_id=team if complete else draw(st.none() | st.just(team)),
        auditor_id=draw(st.sampled_from([ids.admin, ids.auditor])),
        team_manager_id=draw(st.none() | st.just(ids.manager)),
        template_id=draw(st.none() | st.just(ids.template)),
        sections=sections,
        overall_grade=maybe(grades),
        theme_ids=themes,
        findings=draw(texts),
    )


@st.composite
def operations(draw, ids):
    ops = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["create", "create", "update", "submit", "withdraw"]))
        target = draw(st.integers(min_value=0, max_value=20))
        if kind == "create":
            submit = draw(st.booleans())
            ops.append(("create", draw(audit_inputs(ids, complete=submit)), submit))
        elif kind == "update":
            ops.append(("update", target, draw(audit_inputs(ids, complete=True)),
                        draw(st.none() | reasons)))
        elif kind == "submit":
            ops.append(("submit", target))
        else:
            ops.append(("withdraw", target, draw(reasons)))
    return ops


def test_replay_rebuilds_every_record(org_store_template):
    template, ids = org_store_template

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(ops=operations(ids))
    def check(ops):
        with tempfile.TemporaryDirectory() as folder:
            store = open_store(_copy_template(template, folder))
            try:
                session = sign_in(store, os_user="admin.user", today=lambda: TODAY)
                created: list[int] = []
                for op in ops:
                    before = head_seq(store.conn)
                    try:
                        if op[0] == "create":
                            created.append(audit_service.create_audit(
                                session, op[1], submit=op[2]).record_id)
                        elif not created:
                            continue
                        elif op[0] == "update":
                            audit = created[op[1] % len(created)]
                            version = audit_service.get_audit(session, audit).version
                            audit_service.update_audit(session, audit, op[2], reason=op[3],
                                                       expected_version=version)
                        elif op[0] == "submit":
                            audit_service.submit_audit(session, created[op[1] % len(created)])
                        else:
                            audit_service.withdraw_audit(session, created[op[1] % len(created)],
                                                         op[2])
                    except ValidationError:
                        # e.g. submitting a withdrawn audit: refused, and nothing written.
                        assert head_seq(store.conn) == before
                    else:  # one row for the audit, one more when a submission flags it
                        assert head_seq(store.conn) - before in (0, 1, 2)
                assert_replay_matches(store.conn)
                assert trail.check_chain(store.conn)[1] is None
            finally:
                store.close()

    check()


# -- property: tampering with any single trail row is found at that row ------------------------
@pytest.fixture(scope="module")
def tamper_template(org_store_template, tmp_path_factory):
    """The org store plus audits in every state, so rows have reasons, old and new values."""
    template, ids = org_store_template
    path = tmp_path_factory.mktemp("tamper") / "store.sqlite3"
    path.write_bytes(template.read_bytes())
    store = open_store(path)
    session = sign_in(store, os_user="admin.user", today=lambda: TODAY)
    base = dict(audit_type=AuditType.DEEP_DIVE, audit_date=TODAY, service_area_id=ids.area1,
                team_id=ids.team_a1, overall_grade=Grade.GOOD, findings="ok", auditor_id=ids.admin,
                theme_ids=[ids.themes["Neglect"]])
    a = audit_service.create_audit(session, AuditInput(case_reference="T-1", **base)).record_id
    audit_service.submit_audit(session, a)
    audit_service.update_audit(session, a, AuditInput(case_reference="T-1", **{
        **base, "findings": "better"}), reason="moderated")
    b = audit_service.create_audit(session, AuditInput(case_reference="T-2", **base),
                                   submit=True).record_id
    audit_service.withdraw_audit(session, b, "wrong child")
    count = trail.count(store.conn)
    store.close()
    return path, count


TAMPER_FIELDS = ["changes", "changes_format", "at_utc", "reason", "staff_id", "os_user",
                 "kind", "record_id", "table_name", "prev_hash", "hash", "delete"]


def _tamper(conn: sqlite3.Connection, seq: int, field: str) -> None:
    row = dict(zip(trail._COLUMNS.split(", "),
                   conn.execute(f"SELECT {trail._COLUMNS} FROM trail WHERE seq = ?",
                                (seq,)).fetchone()))
    if field == "delete":
        conn.execute("DELETE FROM trail WHERE seq = ?", (seq,))
        return
    if field == "changes":
        changes = json.loads(row["changes"])
        name = sorted(changes)[0]
        changes[name] = [changes[name][0], "tampered"]
        value = trail.dumps(changes)
    elif field == "changes_format":  # same meaning, different text
        value = json.dumps(json.loads(row["changes"]), indent=1)
        field = "changes"
    elif field == "at_utc":
        at = dt.datetime.strptime(row["at_utc"], "%Y-%m-%dT%H:%M:%S.%fZ")
        value = (at - dt.timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    elif field == "reason":
        value = "tidied up" if row["reason"] is None else None
    elif field == "staff_id":
        value = 1 if row["staff_id"] is None else row["staff_id"] + 1
    elif field == "record_id":
        value = row["record_id"] + 1
    elif field in ("prev_hash", "hash"):
        value = ("1" if row[field][0] != "1" else "2") + row[field][1:]
    else:
        value = row[field] + "x"
    assert value != row[field]
    conn.execute(f"UPDATE trail SET {field} = ? WHERE seq = ?", (value, seq))


def test_tampering_with_one_row_is_found_at_that_row(tamper_template):
    template, count = tamper_template

    @settings(max_examples=50, deadline=None, database=None)
    @given(seq=st.integers(min_value=1, max_value=count), field=st.sampled_from(TAMPER_FIELDS))
    def check(seq, field):
        # Deleting the newest row leaves a shorter, valid chain; verify's replay check finds
        # that (see test_verify), so it is not a chain property.
        assume(not (field == "delete" and seq == count))
        with tempfile.TemporaryDirectory() as folder:
            path = _copy_template(template, folder)
            conn = sqlite3.connect(str(path), isolation_level=None)
            try:
                conn.execute("DROP TRIGGER trail_is_append_only_update")
                conn.execute("DROP TRIGGER trail_is_append_only_delete")
                assert trail.check_chain(conn)[1] is None
                _tamper(conn, seq, field)
                checked, broken = trail.check_chain(conn)
            finally:
                conn.close()
        expected = seq + 1 if field == "delete" else seq
        assert broken is not None, (seq, field)
        assert broken.seq == expected, (seq, field, broken)
        assert checked == seq - 1

    check()


def test_replaying_table_by_table_streams_the_same_records(demo_store):
    """verify's streaming replay (a table at a time, in id order) rebuilds exactly what the
    whole-trail replay does, and canonical_records streams the linked themes the same way."""
    conn = demo_store.conn
    whole = trail.replay(conn)
    streamed = {}
    for table in trail.trail_tables(conn):
        ids = []
        for record_id, record in trail.replay_table(conn, table):
            streamed[(table, record_id)] = record
            ids.append(record_id)
        assert ids == sorted(ids)
    assert streamed == whole
    for table in records.existing_trailed_tables(conn):
        assert dict(records.canonical_records(conn, table)) == {
            key: rec for key, rec in whole.items() if key[0] == table}


@settings(max_examples=200, deadline=None, database=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(), st.text(),
                                 st.lists(st.integers(), max_size=4)), min_size=4, max_size=4))
def test_created_encoder_writes_exactly_what_dumps_writes(values):
    """Bulk inserts write a new record's trail changes directly; they must hash the same."""
    fields = ("status", "audit_id", "b_field", "a_field")
    expected = trail.dumps({f: [None, v] for f, v in zip(fields, values)})
    assert trail.created_encoder(fields)(values) == expected
