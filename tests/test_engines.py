"""The team store: the same store on a PostgreSQL server as in a local file.

What is engine-specific is proved here: the placeholder translation, the two schemas in
lockstep, search that finds the same audits, plain refusals when opening, the writers' lock,
a connection lost mid-save, the same demo on both engines, and copying a store between them.
Everything else runs on both engines through the ``store``/``demo_store`` fixtures."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time

import pytest

from sefton_qa.domain.errors import StoreError, StoreFromNewerVersion
from sefton_qa.domain.models import AuditInput, AuditType
from sefton_qa.services import audits as audit_service
from sefton_qa.services import register, sign_in
from sefton_qa.services.copy_store import copy_store, info
from sefton_qa.services.demo import generate_demo
from sefton_qa.services.register import RegisterFilter
from sefton_qa.services.summary import period_summary
from sefton_qa.services.verify import verify_store
from sefton_qa.store import dialect, open_store, postgres, schema_check, schema_steps, trail
from sefton_qa.store.connection import StoreWriteError

from pg_server import another_users_long_write

TODAY = dt.date(2026, 11, 24)


# -- placeholders ------------------------------------------------------------------------------
@pytest.mark.parametrize("sql, expected", [
    ("SELECT ? , ?", "SELECT %s , %s"),
    ("SELECT '?' || ?", "SELECT '?' || %s"),
    ("SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , %s"),
    ('SELECT "odd?name" FROM t WHERE a = ?', 'SELECT "odd?name" FROM t WHERE a = %s'),
    ("SELECT 1 -- what?\nWHERE a = ?", "SELECT 1 -- what?\nWHERE a = %s"),
    ("SELECT /* ? */ ?", "SELECT /* ? */ %s"),
    ("SELECT 'a%b' WHERE x LIKE ? || '%'", "SELECT 'a%%b' WHERE x LIKE %s || '%%'"),
    ("SELECT 5 % ?", "SELECT 5 %% %s"),
])
def test_placeholders_are_translated_outside_literals_and_comments(sql, expected):
    assert dialect.translate(sql) == expected


def test_translated_literals_reach_the_server_unchanged(pg_server):
    conn = postgres.connect(pg_server.url)
    try:
        row = conn.execute("SELECT '?', 'a%b', ? || '%', 'it''s' -- ?\n",
                           ("x",)).fetchone()
        assert row == ("?", "a%b", "x%", "it's")
    finally:
        conn.close()


@pytest.mark.parametrize("location, is_server", [
    ("postgresql://qa@db.council.local/sefton", True),
    ("postgres://db/sefton", True),
    ("service=sefton", True),
    ("host=db dbname=sefton", True),
    ("/home/qa/sefton-qa.sqlite3", False),
    ("C:\\Users\\qa\\sefton=qa.sqlite3", False),
    ("stores/sefton-qa.sqlite3", False),
])
def test_a_server_address_is_never_taken_for_a_file(location, is_server, monkeypatch):
    from sefton_qa.paths import resolve_store_path

    assert postgres.is_server_location(location) is is_server
    resolved = resolve_store_path(location)
    assert (resolved == location) if is_server else (str(resolved) == str(location))
    monkeypatch.setenv("SEFTON_QA_DB", location)
    assert str(resolve_store_path(None)) == (location if is_server else str(resolved))


# -- the schemas in lockstep ---------------------------------------------------------------------
def test_both_engines_have_the_same_schema_after_every_step(tmp_path, pg_server):
    from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, applied_names

    file_store = open_store(tmp_path / "schema.sqlite3")
    server_store = open_store(pg_server.create())
    try:
        assert applied_names(file_store.conn) == applied_names(server_store.conn) == \
            list(KNOWN_MIGRATIONS)
        on_file = schema_check.describe_sqlite(file_store.conn)
        on_server = schema_check.describe_server(server_store.conn)
        assert set(on_file) == set(on_server)
        for table in on_file:
            for part in ("columns", "pk", "fks", "indexes", "uniques"):
                assert on_file[table][part] == on_server[table][part], (table, part)
        # the trail's protection is there on both, under the same names
        assert not trail.missing_protection(file_store.conn)
        assert not trail.missing_protection(server_store.conn)
        # and each is the schema its steps make, as verify checks it
        assert schema_check.problems(file_store.conn) == []
        assert schema_check.problems(server_store.conn) == []
    finally:
        file_store.close()
        server_store.close()


def test_the_schemas_agree_after_each_step_on_its_own(pg_server):
    """Step by step: after the first k steps on each engine, the same tables, columns, keys
    and indexes (a step written for one engine only fails here)."""
    from sefton_qa.store import pg_schema
    from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS

    for k in range(1, len(KNOWN_MIGRATIONS) + 1):
        steps = KNOWN_MIGRATIONS[:k]
        url = pg_server.create()
        conn = postgres.connect(url)
        try:
            conn.execute("BEGIN")
            pg_schema.apply(conn, list(steps))
            conn.execute("COMMIT")
            on_server = schema_check.describe_server(conn)
            on_file = schema_check.describe_sqlite(schema_check._expected_conn(steps))
            assert on_file == on_server, steps[-1]
            assert schema_check.problems(conn) == [], steps[-1]
            # the triggers expected at this step are exactly the ones the steps made
            assert {(t, n) for t, n in postgres_triggers(conn)} == \
                schema_steps.expected_triggers("postgresql", steps), steps[-1]
            file_conn = schema_check._expected_conn(steps)
            assert dialect.SQLITE.all_triggers(file_conn) == \
                schema_steps.expected_triggers("sqlite", steps), steps[-1]
            assert dialect.SQLITE.expected_triggers_of(file_conn) == \
                schema_steps.expected_triggers("sqlite", steps)
        finally:
            conn.close()
            pg_server.drop(url)


def postgres_triggers(conn):
    return dialect.POSTGRESQL.all_triggers(conn)


# -- search --------------------------------------------------------------------------------------
SEARCH_FINDINGS = [
    ("CP-2024/0007", "Plan reviewed with Zoë's social worker; drift noted."),
    ("LCS-123456", "O'Neil family: re-audit requested after the core group."),
    ("LCS-123457", "Café visits unannounced; naïve safety plan."),
    ("LCS-900001", "Voice of the child captured well; child-in-need plan"),
]
SEARCHES = ["LCS-123456", "lcs-1234", "CP-2024/0007", "2024/0007", "zoe", "Zoë", "cafe",
            "O'Neil", "oneil", "o'neil family", "re-audit", "reaudit", "child-in-need",
            "voice child", "drift", "naive safety", "unannounced visits", "&|!", "'\"",
            "LCS", "123457", "plan"]


@pytest.fixture
def searchable(demo_admin, make_search_audits):
    make_search_audits(demo_admin)
    return demo_admin


@pytest.fixture
def make_search_audits():
    def make(session):
        from sefton_qa.services import organisation as org

        area = org.service_areas(session)[0]
        team = org.teams(session, service_area_id=area.id)[0]
        for ref, findings in SEARCH_FINDINGS:
            audit_service.create_audit(session, AuditInput(
                case_reference=ref, audit_type=AuditType.DEEP_DIVE,
                audit_date=TODAY - dt.timedelta(days=5), service_area_id=area.id,
                team_id=team.id, findings=findings), submit=False)
    return make


def test_search_finds_the_same_audits_on_both_engines(demo_path, pg_server, pg_demo_template,
                                                      make_search_audits):
    file_store = open_store(demo_path)
    url = pg_server.create(template=pg_demo_template)
    server_store = open_store(url)
    try:
        results = {}
        for store in (file_store, server_store):
            session = sign_in(store, os_user="admin.user", today=lambda: TODAY)
            make_search_audits(session)
            results[store.dialect.name] = {
                text: {r[0] for r in register.page(session, RegisterFilter(search=text),
                                                   offset=0, limit=10_000)}
                for text in SEARCHES}
            for text in SEARCHES:
                assert register.count(session, RegisterFilter(search=text)) == \
                    len(results[store.dialect.name][text])
        for text in SEARCHES:
            assert results["sqlite"][text] == results["postgresql"][text], text
        found = results["postgresql"]
        assert len(found["LCS-123456"]) == 1 and len(found["CP-2024/0007"]) == 1
        assert found["zoe"] == found["Zoë"] and len(found["zoe"]) == 1
        assert found["O'Neil"] and found["re-audit"] and found["cafe"]
    finally:
        file_store.close()
        server_store.close()
        pg_server.drop(url)


# -- opening a server store ----------------------------------------------------------------------
def test_opening_refuses_plainly_and_writes_nothing(pg_server):
    from psycopg.conninfo import make_conninfo

    cases = {
        "postgresql://postgres@/no_such_db?host=/nonexistent/socket/dir": "could not be reached",
        make_conninfo(pg_server.url, dbname="no_such_database"): "There is no database",
        make_conninfo(pg_server.url, user="nobody_here"): "refused your login",
        "postgresql://[bad": "not a valid PostgreSQL address",
    }
    for location, words in cases.items():
        with pytest.raises(StoreError, match=words) as caught:
            open_store(location)
        assert "Traceback" not in str(caught.value)
        assert "password" not in location  # nothing secret was ever in the address


def test_a_database_that_is_not_a_store_is_refused_untouched(pg_server):
    url = pg_server.create()
    raw = postgres.connect(url)
    raw.execute("CREATE TABLE payroll (id BIGINT PRIMARY KEY)")
    raw.close()
    with pytest.raises(StoreError, match="not a Sefton QA store"):
        open_store(url)
    raw = postgres.connect(url)
    assert dialect.POSTGRESQL.tables(raw) == {"payroll"}
    raw.close()
    pg_server.drop(url)


def test_a_newer_versions_store_opens_read_only_only(pg_server):
    url = pg_server.create()
    open_store(url).close()
    raw = postgres.connect(url)
    raw.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                "VALUES ('sefton_qa', '9999_from_the_future', '2030-01-01')")
    raw.close()
    with pytest.raises(StoreFromNewerVersion):
        open_store(url)
    store = open_store(url, read_only=True, migrate=False)
    assert store.read_only and store.newer_version
    with pytest.raises(StoreError, match="read-only"):
        with store.transaction():
            pass
    with pytest.raises(dialect.database_errors()):  # the server refuses writes too
        store.conn.execute("INSERT INTO themes (id, name, version, created_at, updated_at) "
                           "VALUES (999, 'x', 1, 'a', 'b')")
    store.close()
    pg_server.drop(url)


def test_info_names_engine_location_schema_and_trail_head(store):
    found = info(store)
    with store.snapshot() as conn:
        seq, head = trail.head(conn)
    assert (found.trail_seq, found.trail_hash) == (seq, head) and seq > 0
    assert found.schema_step == schema_steps.KNOWN_MIGRATIONS[-1] and \
        found.schema_steps == len(schema_steps.KNOWN_MIGRATIONS) == 10
    assert found.engine == ("SQLite file" if store.dialect.is_file else "PostgreSQL server")
    assert "password" not in found.location


# -- writers take turns ------------------------------------------------------------------------
def test_a_save_waits_for_a_long_write_then_is_refused_plainly(engine, store, admin):
    """While another user's long write (an import, say) holds the writers' lock, a save waits
    up to the lock timeout, then is refused with a plain message; nothing of it is written."""
    from sefton_qa.services import organisation as org

    # The waiting side gives up after 0.3 s instead of 15 s (the setting each engine reads).
    store.conn.execute("PRAGMA busy_timeout = 300" if engine == "sqlite"
                       else "SET lock_timeout = 300")
    waits = []
    store.on_wait = waits.append
    with another_users_long_write(store.location):
        started = time.monotonic()
        with pytest.raises(StoreWriteError, match="Nothing was saved") as caught:
            org.add_service_area(admin, "Waiting Area")
        waited = time.monotonic() - started
        assert 0.25 <= waited < 5, waited
        assert "Traceback" not in str(caught.value)
        if engine == "postgresql":  # the server says what the save waited for
            assert "importing audits for Jo Tester, by postgres" in str(caught.value)
            assert waits == ["importing audits for Jo Tester, by postgres"]
    assert "Waiting Area" not in {a.name for a in org.service_areas(admin)}
    org.add_service_area(admin, "Waiting Area")  # once the other write is done, it saves
    assert verify_store(store).ok


def test_concurrent_saves_on_a_server_keep_the_chain_linear(pg_server, pg_empty_template):
    from sefton_qa.services import organisation as org

    url = pg_server.create(template=pg_empty_template)
    stores = [open_store(url) for _ in range(4)]
    sessions = [sign_in(s, os_user="admin.user", today=lambda: TODAY) for s in stores]
    errors = []

    def save(i):
        try:
            for n in range(10):
                org.add_theme(sessions[i], f"Theme {i}-{n}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = verify_store(stores[0])
    assert report.ok, report.lines()
    for s in stores:
        s.close()
    pg_server.drop(url)


def test_a_connection_lost_mid_save_says_so_and_leaves_nothing(pg_server, pg_empty_template):
    from sefton_qa.services import organisation as org

    url = pg_server.create(template=pg_empty_template)
    store = open_store(url)
    session = sign_in(store, os_user="admin.user", today=lambda: TODAY)
    pid = store.conn.raw.info.backend_pid
    before = trail.count(store.conn)

    from sefton_qa.store import service_areas

    real_insert = service_areas.insert

    def insert_then_lose_the_connection(conn, name, *, who):
        area_id = real_insert(conn, name, who=who)
        pg_server.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        return area_id

    service_areas.insert = insert_then_lose_the_connection
    try:
        with pytest.raises(StoreWriteError, match="connection to the server was lost"):
            org.add_service_area(session, "Lost Area")
    finally:
        service_areas.insert = real_insert
    store.close()
    again = open_store(url)
    assert "Lost Area" not in {r[0] for r in again.conn.execute("SELECT name FROM service_areas")}
    assert trail.count(again.conn) == before
    assert verify_store(again).ok
    again.close()
    pg_server.drop(url)


# -- the same demo on both engines ---------------------------------------------------------------
def test_the_same_seed_gives_the_same_store_on_both_engines(tmp_path, pg_server):
    stores = [open_store(tmp_path / "a.sqlite3"), open_store(pg_server.create())]
    try:
        for store in stores:
            generate_demo(sign_in(store, os_user="demo.maker", today=lambda: TODAY), months=4,
                          seed=11)
        summaries = [period_summary(s, dt.date(2026, 8, 1), dt.date(2026, 10, 31))
                     for s in stores]
        assert json.dumps(summaries[0]) == json.dumps(summaries[1])
        rows = []
        for s in stores:
            rows.append([tuple(r) for r in s.conn.execute(
                "SELECT id, case_reference, audit_date, overall_grade, status FROM audits "
                "ORDER BY id")])
            rows.append([tuple(r) for r in s.conn.execute(
                "SELECT id, audit_id, flagged_because, status, moderated_grade, selection "
                "FROM moderations ORDER BY id")])
        assert rows[0] == rows[2] and rows[1] == rows[3]
    finally:
        for s in stores:
            s.close()


def test_a_real_store_keeps_a_secret_calibration_seed(tmp_path):
    from sefton_qa.store import settings as settings_store

    seeds = set()
    for name in ("one", "two"):
        store = open_store(tmp_path / f"{name}.sqlite3")
        seeds.add(settings_store.get(store.conn, "calibration_seed"))
        store.close()
    assert len(seeds) == 2


# -- moving a store ------------------------------------------------------------------------------
def test_copy_store_round_trips_with_the_same_head_hash(demo_path, pg_server, tmp_path):
    url = pg_server.create()
    back = tmp_path / "back" / "round-trip.sqlite3"
    to_server = copy_store(demo_path, url)
    to_file = copy_store(url, back)
    heads = set()
    for location in (demo_path, url, back):
        store = open_store(location, read_only=True, create=False, migrate=False)
        report = verify_store(store)
        assert report.ok, report.lines()
        with store.snapshot() as conn:
            heads.add(trail.head(conn))
            audits = conn.execute("SELECT count(*) FROM audits").fetchone()[0]
        store.close()
        assert audits == to_server.counts["audits"] > 500
    assert len(heads) == 1
    assert (to_server.trail_seq, to_server.trail_hash) == (to_file.trail_seq, to_file.trail_hash)
    assert to_server.counts == to_file.counts
    # the copy added nothing to either trail
    assert heads == {(to_server.trail_seq, to_server.trail_hash)}
    with pytest.raises(StoreError, match="already holds work"):
        copy_store(demo_path, url)
    with pytest.raises(StoreError, match="already holds work"):
        copy_store(url, back)
    pg_server.drop(url)


def test_a_failed_copy_leaves_the_destination_as_it_was(demo_path, pg_server, monkeypatch):
    from sefton_qa.store import copying

    url = pg_server.create()
    real = copying.copy_all

    def fail_half_way(source, dest, progress=None):
        def boom(table, rows):
            if table == "audits":
                raise sqlite3.OperationalError("the disk went away")
        real(source, dest, boom)

    monkeypatch.setattr(copying, "copy_all", fail_half_way)
    with pytest.raises(StoreError, match="failed and was undone"):
        copy_store(demo_path, url)
    store = open_store(url, read_only=True, create=False, migrate=False)
    with store.snapshot() as conn:
        assert conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0
        assert not conn.execute("SELECT count(*) FROM trail WHERE kind != 'seed'").fetchone()[0]
    assert verify_store(store).ok
    store.close()
    pg_server.drop(url)


def test_server_sessions_wait_15_s_for_a_lock_and_snapshots_agree(pg_server, pg_empty_template):
    """What the README says of a server store's settings: a save waits up to 15 s for the
    writers' lock; a snapshot is REPEATABLE READ (read-only), so a concurrent save is not seen
    half-way through a report or a verify."""
    from sefton_qa.services import organisation as org

    url = pg_server.create(template=pg_empty_template)
    store, other = open_store(url), open_store(url)
    try:
        assert store.conn.execute("SHOW lock_timeout").fetchone()[0] == "15s"
        assert postgres.LOCK_TIMEOUT_MS == 15_000
        session = sign_in(other, os_user="admin.user", today=lambda: TODAY)
        with store.snapshot() as conn:
            assert conn.execute("SHOW transaction_isolation").fetchone()[0] == "repeatable read"
            first = conn.execute("SELECT count(*) FROM trail").fetchone()[0]
            org.add_theme(session, "Added meanwhile")
            assert conn.execute("SELECT count(*) FROM trail").fetchone()[0] == first
            with pytest.raises(dialect.database_errors()):  # read-only
                conn.execute("DELETE FROM themes WHERE id = -1")
        assert trail.count(store.conn) > first
    finally:
        store.close()
        other.close()
        pg_server.drop(url)


def test_verify_finds_a_trigger_added_outside_the_app(store, admin, raw_sql):
    """A trigger that quietly turns every new inadequate audit into 'requires improvement'
    (so nothing is flagged for moderation) fails verify on either engine."""
    assert verify_store(store).ok
    if store.dialect.is_file:
        raw_sql(store.location, "CREATE TRIGGER soften AFTER INSERT ON audits "
                                "WHEN new.overall_grade = 'inadequate' BEGIN UPDATE audits SET "
                                "overall_grade = 'requires_improvement' WHERE id = new.id; END")
    else:
        raw_sql(store.location,
                "CREATE FUNCTION soften() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF new.overall_grade = 'inadequate' THEN "
                "new.overall_grade := 'requires_improvement'; END IF; RETURN new; END $$",
                "CREATE TRIGGER soften BEFORE INSERT ON audits FOR EACH ROW "
                "EXECUTE FUNCTION soften()")
    report = verify_store(store)
    assert not report.ok
    assert any(line.startswith("FAIL  triggers: the trigger(s) soften on audits")
               for line in report.lines()), report.lines()
    with pytest.raises(StoreError, match="soften on audits"):
        open_store(store.location, check=True)


@pytest.mark.parametrize("change, named", [
    ("CREATE VIEW all_grades AS SELECT id, overall_grade FROM audits", "view all_grades"),
    ("CREATE INDEX audits_sneaky ON audits (findings)", "audits_sneaky"),
    ("ALTER TABLE audits ADD COLUMN shadow_grade TEXT", "shadow_grade"),
    ("CREATE TABLE notes (id INTEGER PRIMARY KEY)", "table notes"),
])
def test_verify_names_schema_changes_made_outside_the_app(store, admin, raw_sql, change, named):
    raw_sql(store.location, change)
    report = verify_store(store)
    schema = next(c for c in report.checks if c.name == "schema")
    assert not schema.ok and named in schema.detail, schema.detail


def test_verify_finds_a_changed_trigger_body(store, admin, raw_sql):
    """The trail's own guard, rewritten to let every change through: same name, new body."""
    if store.dialect.is_file:
        raw_sql(store.location, "DROP TRIGGER trail_is_append_only_update",
                "CREATE TRIGGER trail_is_append_only_update BEFORE UPDATE ON trail "
                "BEGIN SELECT 1; END", drop_trail_triggers=False)
    else:
        raw_sql(store.location, "CREATE OR REPLACE FUNCTION sefton_trail_is_append_only() "
                                "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN new; END $$")
    report = verify_store(store)
    schema = next(c for c in report.checks if c.name == "schema")
    assert not schema.ok and ("trail_is_append_only_update was changed" in schema.detail
                              or "guard function sefton_trail_is_append_only was changed" in schema.detail), schema.detail


def test_an_older_server_store_is_brought_up_to_date_on_opening(pg_server):
    """A server store at an earlier schema step is migrated when opened (one transaction),
    keeps its records and trail, and then verifies."""
    from sefton_qa.store import pg_schema
    from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, applied_names

    url = pg_server.create()
    conn = postgres.connect(url)
    conn.execute("BEGIN")
    pg_schema.apply(conn, list(KNOWN_MIGRATIONS[:3]))
    conn.execute("COMMIT")
    seeded = conn.execute("SELECT count(*) FROM trail").fetchone()[0]
    conn.close()
    store = open_store(url)
    try:
        assert applied_names(store.conn) == list(KNOWN_MIGRATIONS)
        assert trail.count(store.conn) > seeded  # the later steps' seeds, trailed
        assert verify_store(store).ok
    finally:
        store.close()
        pg_server.drop(url)
