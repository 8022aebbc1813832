"""Shared fixtures for the core and CLI tests.

Following Anki's habit, an empty migrated store is built ONCE per session and its file is
copied for each test, so every test gets a fresh store without re-running the migrations. The
demo store is built the same way (generated once, copied per test).

Helpers that tests need are fixtures (not imports from this file), because tests/gui has its
own conftest.py and two modules called ``conftest`` cannot both be imported by name.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

import pg_server as pg_server_module  # noqa: E402

from sefton_qa.domain.grades import Grade  # noqa: E402
from sefton_qa.domain.models import AuditInput, AuditType, Role, SectionGrade  # noqa: E402
from sefton_qa.services import organisation as org_service  # noqa: E402
from sefton_qa.services import sign_in  # noqa: E402
from sefton_qa.services.demo import generate_demo  # noqa: E402
from sefton_qa.store import open_store  # noqa: E402
from sefton_qa.store import settings as settings_store  # noqa: E402
from sefton_qa.store.records import Who  # noqa: E402
from sefton_qa.store import templates as template_store  # noqa: E402
from sefton_qa.store import themes as theme_store  # noqa: E402

#: The fixed "today" every session in these tests uses (Session.today is a callable).
TODAY = dt.date(2026, 11, 24)
ADMIN_OS_USER = "admin.user"
AUDITOR_OS_USER = "qa.officer"
MANAGER_OS_USER = "service.manager"
DEMO_SEED = 2024


def _today() -> dt.date:
    return TODAY


def _close_cleanly(store) -> None:
    """Close a store and make sure its WAL was checkpointed away, so a plain file copy is whole."""
    path = Path(store.path)
    store.close()
    for suffix in ("-wal", "-shm"):
        leftover = Path(str(path) + suffix)
        assert not leftover.exists(), f"{leftover} survived close(); a file copy would be torn"


def copy_store_file(template: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, destination)
    return destination


def build_org(session) -> SimpleNamespace:
    """A small organisation set up through the services (the admin's session)."""
    manager = org_service.add_staff(session, "Sam Manager", os_username=MANAGER_OS_USER,
                                    roles=[Role.SERVICE_MANAGER]).record_id
    area1 = org_service.add_service_area(session, "Child Protection").record_id
    area2 = org_service.add_service_area(session, "Children in Care").record_id
    team_a1 = org_service.add_team(session, "CP Team 1", area1,
                                   service_manager_id=manager).record_id
    team_a2 = org_service.add_team(session, "CP Team 2", area1,
                                   service_manager_id=manager).record_id
    team_b1 = org_service.add_team(session, "CiC Team A", area2,
                                   service_manager_id=manager).record_id
    auditor = org_service.add_staff(session, "Alex Auditor", os_username=AUDITOR_OS_USER,
                                    roles=[Role.QA_OFFICER], team_id=None).record_id
    conn = session.store.conn
    template = template_store.current(conn)
    themes = {t.name: t.id for t in theme_store.list_all(conn)}
    return SimpleNamespace(
        admin=session.actor.id, manager=manager, auditor=auditor,
        area1=area1, area2=area2, team_a1=team_a1, team_a2=team_a2, team_b1=team_b1,
        teams_by_area={area1: (team_a1, team_a2), area2: (team_b1,)},
        template=template.id, section_keys=tuple(s.key for s in template.sections),
        themes=themes,
    )


CALIBRATION_SEED = 20261124


# -- session templates -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def empty_store_template(tmp_path_factory) -> Path:
    """One migrated, empty store, built once per session. Its calibration seed is fixed (each
    real store draws its own), so which audits a test's submissions sample for calibration
    moderation is the same on every run."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite3"
    store = open_store(path)
    with store.transaction() as conn:
        settings_store.put(conn, "calibration_seed", CALIBRATION_SEED,
                           who=Who(staff_id=None, os_user="test setup"))
    _close_cleanly(store)
    return path


@pytest.fixture(scope="session")
def org_store_template(tmp_path_factory, empty_store_template) -> tuple[Path, SimpleNamespace]:
    """The `org` organisation on a store, built once per session (for hypothesis tests, whose
    examples cannot use function-scoped fixtures)."""
    path = copy_store_file(empty_store_template,
                           tmp_path_factory.mktemp("template") / "org.sqlite3")
    store = open_store(path)
    session = sign_in(store, os_user=ADMIN_OS_USER, today=_today)
    ids = build_org(session)
    _close_cleanly(store)
    return path, ids


@pytest.fixture(scope="session")
def demo_store_template(tmp_path_factory, empty_store_template) -> Path:
    """generate_demo once, with a fixed today, into a template file."""
    path = copy_store_file(empty_store_template,
                           tmp_path_factory.mktemp("template") / "demo.sqlite3")
    store = open_store(path)
    session = sign_in(store, os_user=ADMIN_OS_USER, today=_today)
    generate_demo(session, seed=DEMO_SEED)
    _close_cleanly(store)
    return path


# -- the team store: a PostgreSQL server of the tests' own ------------------------------------
#: Every store test runs on both engines: the local file and the team's server.
ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server():
    """The tests' PostgreSQL server (see tests/pg_server.py). Under CI a server that cannot
    be started fails the tests that need it; elsewhere they are skipped, saying why."""
    server, why = pg_server_module.start()
    if server is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    yield server
    server.close()


@pytest.fixture(scope="session")
def pg_empty_template(pg_server) -> str:
    """The empty store's template database (its calibration seed fixed, as the file's)."""
    name = f"tmpl_empty_{os.getpid()}"
    store = open_store(pg_server.create(name))
    with store.transaction() as conn:
        settings_store.put(conn, "calibration_seed", CALIBRATION_SEED,
                           who=Who(staff_id=None, os_user="test setup"))
    store.close()
    return name


@pytest.fixture(scope="session")
def pg_demo_template(pg_server, pg_empty_template) -> str:
    name = f"tmpl_demo_{os.getpid()}"
    store = open_store(pg_server.create(name, template=pg_empty_template))
    session = sign_in(store, os_user=ADMIN_OS_USER, today=_today)
    generate_demo(session, seed=DEMO_SEED)
    store.close()
    return name


@pytest.fixture(params=ENGINES)
def engine(request) -> str:
    """The engine a store test runs on (each such test runs once on each)."""
    return request.param


def _server_store(request, template_fixture: str):
    server = request.getfixturevalue("pg_server")
    url = server.create(template=request.getfixturevalue(template_fixture))
    store = open_store(url)
    yield store
    store.close()
    server.drop(url)


# -- per-test fixtures -------------------------------------------------------------------------
@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.fixture
def store_path(tmp_path, empty_store_template) -> Path:
    return copy_store_file(empty_store_template, tmp_path / "store" / "sefton-qa.sqlite3")


@pytest.fixture
def store(engine, request):
    """A new, empty store on each engine."""
    if engine == "postgresql":
        yield from _server_store(request, "pg_empty_template")
        return
    s = open_store(request.getfixturevalue("store_path"))
    yield s
    s.close()


@pytest.fixture
def admin(store):
    """The first user on a brand-new store: becomes its administrator (and a QA officer)."""
    return sign_in(store, os_user=ADMIN_OS_USER, today=_today)


@pytest.fixture
def org(admin) -> SimpleNamespace:
    return build_org(admin)


@pytest.fixture
def auditor(store, org):
    """A session for the org's QA officer (not an administrator)."""
    return sign_in(store, os_user=AUDITOR_OS_USER, today=_today)


@pytest.fixture
def manager(store, org):
    """A session for the org's service manager (neither QA officer nor administrator)."""
    return sign_in(store, os_user=MANAGER_OS_USER, today=_today)


@pytest.fixture
def demo_path(tmp_path, demo_store_template) -> Path:
    return copy_store_file(demo_store_template, tmp_path / "demo" / "sefton-qa-demo.sqlite3")


@pytest.fixture
def demo_store(engine, request):
    """The demo store (seed 2024) on each engine."""
    if engine == "postgresql":
        yield from _server_store(request, "pg_demo_template")
        return
    s = open_store(request.getfixturevalue("demo_path"))
    yield s
    s.close()


def pytest_collection_modifyitems(config, items):
    """Tests marked file_only are about SQLite files themselves: their server half is left
    out (and said so in the count of deselected tests); server_only, the other way round."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("engine") == "postgresql" and item.get_closest_marker("file_only") or \
                params.get("engine") == "sqlite" and item.get_closest_marker("server_only"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- how many tests ran on each engine, and how long they took ---------------------------------
_ENGINE_TIMES: dict[str, list[float]] = {}


def pytest_runtest_logreport(report):
    """Each test's time with its set-up (a database cloned per test) and tear-down."""
    engine = next((e for e in ENGINES if f"[{e}" in report.nodeid or f"-{e}]" in report.nodeid
                   or f"-{e}-" in report.nodeid), None)
    times = _ENGINE_TIMES.setdefault(engine or "no store", [0, 0.0])
    times[1] += report.duration
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        times[0] += 1


def pytest_terminal_summary(terminalreporter):
    if not _ENGINE_TIMES:
        return
    terminalreporter.section("tests by engine")
    for engine, (count, seconds) in sorted(_ENGINE_TIMES.items()):
        terminalreporter.write_line(f"{engine}: {count} tests, {seconds:.1f} s "
                                    "(set-up and tear-down included)")


@pytest.fixture
def demo_admin(demo_store):
    return sign_in(demo_store, os_user=ADMIN_OS_USER, today=_today)


@pytest.fixture
def make_input(org):
    """Build a complete, valid AuditInput for the org, with overrides."""

    def make(**overrides) -> AuditInput:
        values = dict(
            case_reference="LCS-100001",
            audit_type=AuditType.DEEP_DIVE,
            audit_date=TODAY - dt.timedelta(days=10),
            service_area_id=org.area1,
            team_id=org.team_a1,
            auditor_id=org.auditor,
            team_manager_id=None,
            template_id=org.template,
            sections={"voice": SectionGrade(Grade.GOOD, "seen alone"),
                      "planning": SectionGrade(Grade.REQUIRES_IMPROVEMENT)},
            overall_grade=Grade.REQUIRES_IMPROVEMENT,
            theme_ids=[org.themes["Neglect"]],
            findings="The plan lacks timescales.",
        )
        values.update(overrides)
        return AuditInput(**values)

    return make


@pytest.fixture
def raw_sql():
    """Run SQL on a store file the way someone editing it outside the app would."""

    def run(path, *statements: str, drop_trail_triggers: bool = False) -> None:
        """``path``: a store file, or a server store's location (``store.location``)."""
        from sefton_qa.store import postgres

        on_server = postgres.is_server_location(path)
        conn = postgres.connect(str(path)) if on_server else \
            sqlite3.connect(str(path), isolation_level=None)
        on_table = " ON trail" if on_server else ""
        try:
            conn.execute("BEGIN")
            if drop_trail_triggers:
                for name in ("trail_is_append_only_update", "trail_is_append_only_delete"):
                    conn.execute(f"DROP TRIGGER IF EXISTS {name}{on_table}")
            # On a server the tests' login is a superuser, who alone can switch off the check
            # that every record change has its trail row (docs/SERVER.md: what a superuser
            # could still do). It is switched back on in the same transaction.
            guarded = on_server and conn.execute(
                "SELECT to_regclass('sefton_unchecked_changes') IS NOT NULL").fetchone()[0]
            if guarded:
                conn.execute("ALTER TABLE sefton_unchecked_changes "
                             "DISABLE TRIGGER sefton_changes_are_trailed")
            for sql in statements:
                conn.execute(sql)
            if guarded:
                conn.execute("DELETE FROM sefton_unchecked_changes "
                             "WHERE xact = pg_current_xact_id()")
                conn.execute("ALTER TABLE sefton_unchecked_changes "
                             "ENABLE ALWAYS TRIGGER sefton_changes_are_trailed")
            conn.execute("COMMIT")
        finally:
            conn.close()

    return run


@pytest.fixture
def table_counts():
    def counts(conn, *tables: str) -> dict[str, int]:
        tables = tables or ("audits", "audit_themes", "trail", "staff", "teams",
                            "service_areas", "settings", "grades", "themes")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    return counts


@pytest.fixture
def as_admin_user(monkeypatch):
    """This process acts as the test stores' administrator's operating-system account (the
    account is the system's, never an environment variable; this is the tests' seam)."""
    from sefton_qa import identity
    from sefton_qa.services import session

    monkeypatch.setattr(identity, "os_account", lambda: ADMIN_OS_USER)
    # On the tests' server every connection is the superuser's: the account stands in for the
    # login (tests/test_server_security.py signs in with real logins).
    monkeypatch.setattr(session, "signed_in_account", lambda store: identity.os_account())
