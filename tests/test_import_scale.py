"""Import at scale (issue 18, items 3 and 4): the calibration draw's versioned method (method
2 for new draws, method 1 kept so past draws stay checkable, recorded with each draw by schema
step 0009), and the batched write: one trail row per record created, verify still rebuilding
every table, a server's batches streamed with COPY, and all or nothing on both engines."""

from __future__ import annotations

import json
import math
import random

import pytest
from import_helpers import ADMIN_OS_USER, TODAY, counts, row, write_rows
from test_server_security import team, trail_state, verify_ok  # noqa: F401 (a fixture)

from sefton_qa.services import import_export, moderation
from sefton_qa.services.import_export import import_audits
from sefton_qa.services.session import sign_in
from sefton_qa.services.verify import verify_store
from sefton_qa.store import migrations, open_store, pg_schema, records, trail
from sefton_qa.store import moderations as moderation_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS

STEP = "0009_calibration_draw_method"
SETUP = records.Who(staff_id=None, os_user="test setup")


def _today():
    return TODAY


# -- the draw -----------------------------------------------------------------------------------
def test_draw_method_2_is_deterministic_for_a_seed_and_an_audit_and_keyed_by_the_seed():
    draw = moderation.calibration_draw
    assert moderation.DRAW_METHOD == 2
    assert draw(42, 7) == draw(42, 7, 2) == draw(42, 7, method=2)
    assert draw(42, 7) != draw(43, 7) and draw(42, 7) != draw(42, 8)
    assert draw(42, 17) != draw(421, 7)  # the seed and the id are not simply run together
    values = [draw(20261124, i) for i in range(1, 2001)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) == len(values)
    # Each draw is a multiple of 2^-53: a float exactly, the same on every machine.
    assert all((v * 2 ** 53).is_integer() for v in values)


def test_draw_method_1_is_kept_exactly_as_it_was():
    for seed, audit_id in ((42, 7), (20261124, 1), (2 ** 47 + 5, 123_456)):
        assert moderation.calibration_draw(seed, audit_id, 1) == \
            random.Random(f"sefton-qa-calibration:{seed}:{audit_id}").random()
    assert moderation.calibration_draw(42, 7, 1) != moderation.calibration_draw(42, 7, 2)
    with pytest.raises(ValueError, match="unknown"):
        moderation.calibration_draw(42, 7, 3)


@pytest.mark.parametrize("rate", [0.02, 0.10, 0.25, 0.5])
def test_draw_method_2_samples_at_the_rate(rate):
    n = 50_000
    for seed in (1, 20261124, 2 ** 48 - 1):
        sampled = sum(moderation.calibration_draw(seed, i) < rate for i in range(1, n + 1))
        sd = math.sqrt(n * rate * (1 - rate))
        assert abs(sampled - n * rate) < 4.5 * sd, (seed, rate, sampled)
    # and evenly: each tenth of [0, 1) holds about a tenth of the draws
    tenths = [0] * 10
    for i in range(1, n + 1):
        tenths[int(moderation.calibration_draw(7, i) * 10)] += 1
    sd = math.sqrt(n * 0.1 * 0.9)
    assert all(abs(t - n / 10) < 4.5 * sd for t in tenths), tenths


def test_a_recorded_draw_is_checked_by_its_own_method():
    seed, audit_id, rate = 99, 12, 1.0
    for method in (1, 2):
        value = moderation.calibration_draw(seed, audit_id, method)
        selection = {"draw": value, "rate": rate, "seed": seed}
        assert moderation.draw_is_sound(audit_id, selection, method)
        assert not moderation.draw_is_sound(audit_id, selection, 3 - method)  # the other one
        assert not moderation.draw_is_sound(audit_id + 1, selection, method)
        assert not moderation.draw_is_sound(audit_id, dict(selection, rate=value), method)
    assert not moderation.draw_is_sound(audit_id, {"draw": 0.1}, 2)
    assert not moderation.draw_is_sound(audit_id, {"draw": 0.1, "rate": 1, "seed": 1}, None)


# -- an import: one trail row per record, verify, COPY on a server -----------------------------
def _rows(n: int, *, first: int = 1, **overrides) -> list[dict]:
    grades = ("Good", "RI", "Inadequate")
    return [row(k, grade=grades[k % 3], audit_date=f"{1 + k % 28:02d}/05/2024",
                **overrides) for k in range(first, first + n)]


def _trail_rows_by_table(conn, after: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for table_name, record_id in conn.execute(
            "SELECT table_name, record_id FROM trail WHERE seq > ? ORDER BY seq", (after,)):
        out.setdefault(table_name, []).append(record_id)
    return out


def _ids(conn, table: str) -> set[int]:
    return {r[0] for r in conn.execute(f"SELECT id FROM {table}")}


@pytest.fixture
def copy_calls(store, monkeypatch):
    """The COPY statements a server store streams (none on a file)."""
    calls: list[tuple[str, int]] = []
    if store.dialect.is_file:
        return calls
    real = type(store.conn).copy_rows

    def copy_rows(self, table, columns, rows):
        written = real(self, table, columns, rows)
        calls.append((table, written))
        return written

    monkeypatch.setattr(type(store.conn), "copy_rows", copy_rows)
    return calls


def test_an_import_writes_one_trail_row_per_record_it_creates_and_verifies(
        admin, org, store, tmp_path, monkeypatch, copy_calls):
    monkeypatch.setattr(import_export, "IMPORT_BATCH", 90)
    with store.transaction() as conn:  # every audit not inadequate is drawn: many flags a batch
        settings_store.put(conn, "calibration_rate", 1.0, who=admin.who)
    conn = store.conn
    # New names too (created by the import, each trailed), and some rows moderated already.
    rows = _rows(240) + [row(1000 + k, team="Brand New Team", auditor="Nova Newcomer",
                             grade="RI", moderator="Mo Moderator", moderated_grade="Good",
                             moderation_date="03/06/2024") for k in range(70)]
    path = write_rows(tmp_path / "many.csv", rows)
    tables = records.existing_trailed_tables(conn)
    before = {t: _ids(conn, t) for t in tables}
    seq = trail.head(conn)[0]
    report = import_audits(admin, path, create_missing=True)
    assert report.ok, report.lines()[:5]
    assert report.added == 310
    created = {t: sorted(_ids(conn, t) - before[t]) for t in tables}
    trailed = _trail_rows_by_table(conn, seq)
    # Exactly one trail row for each record created, and none for anything else.
    assert {t: sorted(ids) for t, ids in trailed.items()} == \
        {t: ids for t, ids in created.items() if ids}
    assert len(created["audits"]) == 310
    assert len(created["moderations"]) == 310  # 70 imported, 80 inadequate, 160 calibration
    # The chain is whole and the records rebuild exactly from it.
    report = verify_store(store)
    assert report.ok, report.lines()
    # New draws are method 2 and check out by it; nothing else carries a method.
    for audit_id, because, selection, method in conn.execute(
            "SELECT audit_id, flagged_because, selection, draw_method FROM moderations"):
        if because == "calibration":
            assert method == 2
            assert moderation.draw_is_sound(audit_id, json.loads(selection), method)
        else:
            assert method is None and selection is None
    if not store.dialect.is_file:  # the batches were streamed with COPY
        copied = {table for table, _n in copy_calls}
        assert {"audits", "trail", "moderations"} <= copied, copy_calls
        # (three batches of 90; the last 40 are fewer than copy_from: one multi-row INSERT)
        assert store.dialect.copy_from > 40
        assert [n for table, n in copy_calls if table == "audits"] == [90, 90, 90]


def test_a_bad_row_in_the_last_batch_writes_nothing(admin, org, store, tmp_path, monkeypatch,
                                                    copy_calls):
    """All or nothing: the earlier batches (streamed with COPY on a server) are undone with
    the transaction when a row of the last one is refused while writing."""
    from sefton_qa.services import organisation as org_service

    monkeypatch.setattr(import_export, "IMPORT_BATCH", 80)
    org_service.set_service_area_active(admin, org.area2, False)  # checked when written
    rows = _rows(200) + [row(900, service_area="Children in Care", team="CiC Team A")]
    path = write_rows(tmp_path / "bad-last.csv", rows)
    before = counts(store.conn)
    head = trail.head(store.conn)
    report = import_audits(admin, path)
    assert not report.ok and report.added == 0
    assert any(p.startswith("row 202") for p in report.problems), report.problems
    assert counts(store.conn) == before
    assert trail.head(store.conn) == head
    if not store.dialect.is_file:
        assert any(table == "audits" for table, _n in copy_calls)  # it got that far
    assert verify_store(store).ok


# -- an older store: its draws keep method 1 ---------------------------------------------------
def _store_before_step_0009(engine, request, tmp_path):
    """A new store with every schema step before 0009 (as the previous version made it)."""
    before = [name for name in KNOWN_MIGRATIONS[:KNOWN_MIGRATIONS.index(STEP)]]
    if engine == "sqlite":
        path = tmp_path / "old.sqlite3"
        store = open_store(path, migrate=False)
        store.conn.execute("BEGIN IMMEDIATE")
        migrations.migrations.apply(store.db, stop_before=STEP)
        store.conn.execute("COMMIT")
        return store, path
    server = request.getfixturevalue("pg_server")
    url = server.create()
    store = open_store(url, migrate=False)
    with store.transaction() as tx:
        pg_schema.apply(tx, before)
    store.has_trail = True
    request.addfinalizer(lambda: server.drop(url))
    return store, url


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_a_migrated_store_keeps_method_1_on_its_old_draws(engine_name, request, tmp_path,
                                                         monkeypatch):
    store, location = _store_before_step_0009(engine_name, request, tmp_path)
    try:
        assert STEP not in [r[0] for r in store.conn.execute(
            "SELECT name FROM _sqlite_migrations")]
        with store.transaction() as conn:
            settings_store.put(conn, "calibration_seed", 424242, who=SETUP)
            settings_store.put(conn, "calibration_rate", 0.5, who=SETUP)
        # The previous version's code: moderations without draw_method, draws by method 1.
        old_columns = tuple(c for c in moderation_store.COLUMNS if c != "draw_method")
        with monkeypatch.context() as old:
            old.setattr(moderation_store, "COLUMNS", old_columns)
            old.setattr(moderation_store, "_INSERT_COLUMNS",
                        ("id",) + old_columns + ("version", "created_at", "updated_at"))
            old.setattr(moderation_store, "_created_json", trail.created_encoder(old_columns))
            old.setattr(moderation, "calibration_draw",
                        lambda seed, audit_id, method=1: random.Random(
                            f"sefton-qa-calibration:{seed}:{audit_id}").random())
            admin = sign_in(store, os_user=ADMIN_OS_USER, today=_today)
            report = import_audits(admin, write_rows(tmp_path / "old.csv", _rows(60)),
                                   create_missing=True)
            assert report.ok, report.lines()[:5]
        old_draws = {r[0]: json.loads(r[1]) for r in store.conn.execute(
            "SELECT audit_id, selection FROM moderations WHERE selection IS NOT NULL")}
        assert 10 < len(old_draws) < 40
    finally:
        store.close()

    store = open_store(location)  # migrates: step 0009
    try:
        conn = store.conn
        assert STEP in [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
        methods = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT audit_id, draw_method, flagged_because FROM moderations")}
        for audit_id, (method, because) in methods.items():
            assert method == (1 if audit_id in old_draws else None), (audit_id, because)
        for audit_id, selection in old_draws.items():
            assert moderation.draw_is_sound(audit_id, selection, 1)
            assert selection["draw"] == moderation.calibration_draw(424242, audit_id, 1)
        # Each old draw's method is trailed (one row each, by the step), so verify passes.
        assert conn.execute("SELECT count(*) FROM trail WHERE kind = 'migrate' AND "
                            "table_name = 'moderations'").fetchone()[0] == len(old_draws)
        report = verify_store(store)
        assert report.ok, report.lines()
        # New draws in the upgraded store are method 2; the old ones keep method 1.
        admin = sign_in(store, os_user=ADMIN_OS_USER, today=_today)
        report = import_audits(admin, write_rows(tmp_path / "new.csv", _rows(60, first=500)))
        assert report.ok, report.lines()[:5]
        rows = conn.execute("SELECT audit_id, draw_method, selection FROM moderations "
                            "WHERE selection IS NOT NULL").fetchall()
        assert {m for a, m, _s in rows if a in old_draws} == {1}
        assert {m for a, m, _s in rows if a not in old_draws} == {2}
        assert all(moderation.draw_is_sound(a, json.loads(s), m) for a, m, s in rows)
        report = verify_store(store)
        assert report.ok, report.lines()
        draws = _check(report, "calibration draws").detail
        assert f"method 1: {len(old_draws)}," in draws and "method 2: " in draws
    finally:
        store.close()


# -- verify recomputes each recorded draw by its own method -----------------------------------
def _check(report, name):
    (found,) = [c for c in report.checks if c.name == name]
    return found


def test_verify_recomputes_each_recorded_draw_by_its_method(admin, org, store, tmp_path):
    with store.transaction() as conn:
        settings_store.put(conn, "calibration_rate", 1.0, who=admin.who)
    report = import_audits(admin, write_rows(tmp_path / "six.csv", _rows(6)))
    assert report.ok, report.lines()[:5]
    conn = store.conn
    drawn = conn.execute("SELECT id, audit_id, selection FROM moderations "
                         "WHERE draw_method = 2 ORDER BY id").fetchall()
    assert len(drawn) == 4  # the 2 inadequate audits are flagged without a draw
    draws = _check(verify_store(store), "calibration draws")
    assert draws.ok and draws.detail.startswith("4 recorded draw(s)") and "method 2: 4" in \
        draws.detail
    # A draw that its seed does not give (changed through the app's own writes, so the trail
    # and the records still agree): only this check sees it.
    moderation_id, audit_id, selection = drawn[1]
    changed = dict(json.loads(selection), seed=json.loads(selection)["seed"] + 1)
    with store.transaction() as tx:
        records.update_record(tx, "moderations", moderation_id,
                              {"selection": json.dumps(changed)}, who=admin.who)
    report = verify_store(store)
    assert _check(report, "records match trail").ok
    draws = _check(report, "calibration draws")
    assert not draws.ok and f"moderation {moderation_id} (audit {audit_id})" in draws.detail
    # Recorded as method 1, a method 2 draw does not check out either.
    with store.transaction() as tx:
        records.update_record(tx, "moderations", moderation_id,
                              {"selection": selection, "draw_method": 1}, who=admin.who)
    assert not _check(verify_store(store), "calibration draws").ok
    with store.transaction() as tx:
        records.update_record(tx, "moderations", moderation_id, {"draw_method": 2},
                              who=admin.who)
    assert verify_store(store).ok


# -- a server's guards accept what COPY writes for a login that is not the owner -------------
def test_a_staff_login_imports_through_copy_and_the_servers_guards_accept_it(
        team, tmp_path, capsys):  # noqa: F811 (the fixture)
    """Alice (an administrator's login, not the store's owner) imports 150 rows: their
    audits and trail rows are streamed with COPY, and the server's guards (step 0007: the
    chain, each row naming her login and staff record, dated by the server's clock, every
    change trailed) hold for them as for any other write."""
    from sefton_qa.cli import main
    from sefton_qa.store import postgres

    copied: list[str] = []
    real = postgres.PgConnection.copy_rows

    def copy_rows(self, table, columns, rows):
        copied.append(table)
        return real(self, table, columns, rows)

    path = write_rows(tmp_path / "alice.csv", _rows(150, auditor="Alice Admin"))
    before = trail_state(team)[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postgres.PgConnection, "copy_rows", copy_rows)
        assert main(["--db", team.url(team.alice), "import", str(path),
                     "--create-missing"]) == 0, capsys.readouterr()
    assert {"audits", "trail"} <= set(copied)
    conn = team.connect(team.it)
    try:
        stamps = set(conn.execute("SELECT login, os_user FROM trail WHERE seq > %s",
                                  (before,)).fetchall())
        audits = conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    finally:
        conn.close()
    assert stamps == {(team.alice, team.alice)} and audits == 150
    verify_ok(team)
