"""Opening, migrating, backing up and writing to the store."""

from __future__ import annotations

import hashlib
import importlib
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

import sefton_qa.store as store_pkg
from sefton_qa.domain.errors import StoreError
from sefton_qa.services import audits as audit_service
from sefton_qa.store import connection, open_store, trail
from sefton_qa.store.connection import BUSY_TIMEOUT_MS

migrations_module = importlib.import_module("sefton_qa.store.migrations")
REAL_MIGRATIONS = migrations_module.migrations
MIGRATION_SET = migrations_module.MIGRATION_SET


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def applied_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT migration_set, name, applied_at FROM _sqlite_migrations "
                            "ORDER BY id").fetchall()
    finally:
        conn.close()


def pragmas(conn: sqlite3.Connection) -> dict:
    return {name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}


@pytest.fixture
def extra_migrations(monkeypatch):
    """Install a Migrations set holding the real migrations plus test ones; returns a
    decorator-like ``add(name, fn)``. open_store reads ``KNOWN_MIGRATIONS`` from the store
    package and applies ``migrations`` from the migrations module, so both are patched."""
    patched = type(REAL_MIGRATIONS)(MIGRATION_SET)
    patched._migrations = list(REAL_MIGRATIONS._migrations)

    def install():
        known = tuple(m.name for m in patched._migrations)
        monkeypatch.setattr(migrations_module, "migrations", patched)
        for target in (store_pkg, migrations_module):
            monkeypatch.setattr(target, "KNOWN_MIGRATIONS", known)

    def add(name, fn):
        patched(name=name)(fn)
        install()

    install()
    return add


def backups_in(path: Path) -> list[Path]:
    folder = path.parent / "backups"
    return sorted(folder.glob("*.sqlite3")) if folder.exists() else []


# -- pragmas -----------------------------------------------------------------------------------
@pytest.mark.file_only
def test_pragmas_on_a_read_write_store(store):
    assert pragmas(store.conn) == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                                   "busy_timeout": BUSY_TIMEOUT_MS}
    assert BUSY_TIMEOUT_MS > 0


def test_pragmas_on_every_new_connection(store_path):
    # connect() is used for every connection, not only the first one that migrated.
    for read_only in (False, True):
        conn = connection.connect(store_path, read_only=read_only)
        try:
            got = pragmas(conn)
        finally:
            conn.close()
        assert got["journal_mode"] == "wal"
        assert got["synchronous"] == 2
        assert got["foreign_keys"] == 1
        assert got["busy_timeout"] > 0


def test_pragmas_on_a_read_only_store(store_path):
    with open_store(store_path, read_only=True) as ro:
        got = pragmas(ro.conn)
    assert got == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                   "busy_timeout": BUSY_TIMEOUT_MS}


def test_foreign_keys_are_enforced(store):
    from sefton_qa.store import dialect

    with pytest.raises(dialect.database_errors()):
        store.conn.execute("INSERT INTO audit_themes (audit_id, theme_id) VALUES (999, 999)")


# -- migrations --------------------------------------------------------------------------------
def test_new_store_is_migrated_once_and_recorded(tmp_path):
    path = tmp_path / "new.sqlite3"
    with open_store(path) as s:
        assert store_pkg.pending_migrations(s) == []
        tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")}
    assert {"settings", "grades", "service_areas", "themes", "staff", "teams",
            "audit_templates", "audits", "audit_themes", "trail"} <= tables
    rows = applied_rows(path)
    assert [(r[0], r[1]) for r in rows] == [(MIGRATION_SET, name)
                                            for name in store_pkg.KNOWN_MIGRATIONS]
    assert len({r[1] for r in rows}) == len(rows)
    # A new store holds nothing worth backing up.
    assert backups_in(path) == []


def test_reopen_applies_nothing_and_makes_no_backup(store_path):
    before = applied_rows(store_path)
    for _ in range(2):
        with open_store(store_path) as s:
            trail_rows = trail.count(s.conn)
    assert applied_rows(store_path) == before
    assert backups_in(store_path) == []
    with open_store(store_path) as s:
        assert trail.count(s.conn) == trail_rows


@pytest.mark.file_only
def test_pending_migration_on_a_store_with_data_is_backed_up_first(
        store, admin, org, make_input, extra_migrations):
    audit_service.create_audit(admin, make_input(), submit=True)
    audit_service.create_audit(admin, make_input(case_reference="LCS-200002"))
    path = store.path
    expected = store.conn.execute("SELECT * FROM audits ORDER BY id").fetchall()
    expected_trail = trail.count(store.conn)
    store.close()
    seen_during_migration = []

    def m9001_add_column(db):
        # The backup must already exist when the migration runs.
        seen_during_migration.extend(backups_in(path))
        db.conn.execute("ALTER TABLE audits ADD COLUMN moderated INTEGER NOT NULL DEFAULT 0")

    extra_migrations("9001_test_add_column", m9001_add_column)
    with open_store(path) as migrated:
        columns = {r[1] for r in migrated.conn.execute("PRAGMA table_info(audits)")}
        assert "moderated" in columns
    backups = backups_in(path)
    assert len(backups) == 1
    assert seen_during_migration == backups
    backup = backups[0]
    assert backup.name.startswith(f"{path.stem}-")
    assert backup.name.endswith("-before-migration.sqlite3")
    assert backup.with_name(backup.name + ".json").exists()  # its manifest
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"
    conn = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT * FROM audits ORDER BY id").fetchall() == expected
        assert conn.execute("SELECT count(*) FROM trail").fetchone()[0] == expected_trail
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
        assert "9001_test_add_column" not in names
    finally:
        conn.close()
    assert not Path(str(backup) + ".partial").exists()


@pytest.mark.file_only
def test_failing_migration_leaves_the_store_unchanged(store, admin, org, make_input,
                                                       extra_migrations):
    audit_service.create_audit(admin, make_input(), submit=True)
    path = store.path
    store.close()
    before_rows = applied_rows(path)
    conn = sqlite3.connect(str(path))
    before_schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"
                                 ).fetchall()
    before_audits = conn.execute("SELECT * FROM audits").fetchall()
    conn.close()

    def m9001_ok(db):
        db.conn.execute("CREATE TABLE good_step (id INTEGER PRIMARY KEY)")

    def m9002_fails(db):
        db.conn.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        db.conn.execute("INSERT INTO audits (audit_type, auditor_id, created_at, updated_at) "
                        "VALUES ('deep_dive', 1, 'x', 'x')")
        raise RuntimeError("boom in step two")

    extra_migrations("9001_test_ok", m9001_ok)
    extra_migrations("9002_test_fails", m9002_fails)
    with pytest.raises(StoreError, match="undone") as info:
        open_store(path)
    assert "boom in step two" in str(info.value)
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"
                            ).fetchall() == before_schema
        assert conn.execute("SELECT * FROM audits").fetchall() == before_audits
    finally:
        conn.close()
    assert applied_rows(path) == before_rows


def test_store_from_a_newer_version_is_refused_without_writing(store_path, monkeypatch):
    conn = sqlite3.connect(str(store_path))
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES (?, '9999_from_the_future', '2030-01-01')", (MIGRATION_SET,))
    conn.commit()
    conn.close()
    digest = sha256(store_path)
    with pytest.raises(StoreError, match="newer version") as info:
        open_store(store_path)
    assert "9999_from_the_future" in str(info.value)
    assert sha256(store_path) == digest
    assert backups_in(store_path) == []


def test_non_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_text("Dear diary, this is not a database.\n" * 50)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an SQLite database"):
        open_store(path)
    assert path.read_bytes() == before


def _foreign_database(path: Path) -> Path:
    conn = sqlite3.connect(str(path))  # rollback-journal mode, like most SQLite files
    conn.execute("CREATE TABLE shopping (item TEXT)")
    conn.execute("INSERT INTO shopping VALUES ('milk')")
    conn.commit()
    conn.close()
    return path


def test_sqlite_file_that_is_not_a_store_is_refused(tmp_path):
    path = _foreign_database(tmp_path / "other.sqlite3")
    with pytest.raises(StoreError, match="not a Sefton QA store"):
        open_store(path)
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("SELECT item FROM shopping").fetchall() == [("milk",)]
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'trail'"
                            ).fetchone()[0] == 0
    finally:
        conn.close()


def test_refusing_a_foreign_sqlite_file_does_not_change_it(tmp_path):
    path = _foreign_database(tmp_path / "other.sqlite3")
    digest = sha256(path)
    with pytest.raises(StoreError, match="nothing has been changed"):
        open_store(path)
    assert sha256(path) == digest


def test_empty_file_becomes_a_new_store(tmp_path):
    # SQLite treats a zero-length file as an empty database: it is set up like a new store.
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    with open_store(path) as s:
        assert store_pkg.pending_migrations(s) == []
        assert s.conn.execute("SELECT count(*) FROM themes").fetchone()[0] > 0
    assert backups_in(path) == []


@pytest.mark.parametrize("keep", [100, 4096, 0.5])
def test_truncated_store_is_refused_with_a_plain_message(demo_path, keep):
    size = demo_path.stat().st_size
    keep = int(size * keep) if isinstance(keep, float) else keep
    with open(demo_path, "r+b") as fh:
        fh.truncate(keep)
    with pytest.raises(StoreError, match="damaged"):
        open_store(demo_path)


def test_missing_store_without_create_is_refused(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        open_store(tmp_path / "nothing.sqlite3", create=False)
    with pytest.raises(StoreError, match="no store"):
        open_store(tmp_path / "nothing.sqlite3", read_only=True)
    assert not (tmp_path / "nothing.sqlite3").exists()


@pytest.mark.parametrize("fstype", ["cifs", "nfs4", "smb3", "fuse.sshfs"])
def test_network_filesystem_is_refused(tmp_path, monkeypatch, fstype):
    monkeypatch.setattr(connection, "filesystem_type", lambda path: fstype)
    path = tmp_path / "shared.sqlite3"
    with pytest.raises(StoreError, match="network drive"):
        open_store(path)
    assert not path.exists()


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "tmpfs", None])
def test_local_filesystem_is_accepted(tmp_path, monkeypatch, fstype):
    monkeypatch.setattr(connection, "filesystem_type", lambda path: fstype)
    with open_store(tmp_path / "local.sqlite3"):
        pass


def test_filesystem_type_reads_the_mount_table(tmp_path):
    # The real lookup finds some type for a folder that exists (Linux).
    if not Path("/proc/self/mounts").exists():
        pytest.skip("no /proc/self/mounts")
    assert connection.filesystem_type(tmp_path)


def test_read_only_store_refuses_writes(store_path):
    with open_store(store_path, read_only=True) as ro:
        with pytest.raises(StoreError, match="read-only"):
            with ro.transaction():
                pass


# -- transactions ------------------------------------------------------------------------------
def test_failed_write_leaves_no_partial_rows(store, admin, org, make_input, monkeypatch,
                                             table_counts):
    audit_service.create_audit(admin, make_input(), submit=True)
    before = table_counts(store.conn)

    def broken_append_many(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setattr(trail, "append_many", broken_append_many)
    inp = make_input(case_reference="LCS-300003",
                     theme_ids=[org.themes["Neglect"], org.themes["Exploitation"]])
    with pytest.raises(sqlite3.OperationalError, match="simulated"):
        audit_service.create_audit(admin, inp)
    assert table_counts(store.conn) == before
    # The bulk path (import, demo data) too.
    with pytest.raises(sqlite3.OperationalError, match="simulated"):
        audit_service.add_audits(admin, [make_input(case_reference=f"BULK-{i}")
                                         for i in range(5)])
    assert table_counts(store.conn) == before
    assert not store.conn.in_transaction


def test_failed_update_leaves_the_record_as_it_was(store, admin, org, make_input, monkeypatch,
                                                  table_counts):
    audit_id = audit_service.create_audit(admin, make_input()).record_id
    before_row = store.conn.execute("SELECT * FROM audits WHERE id = ?", (audit_id,)).fetchone()
    before = table_counts(store.conn)

    def broken_append_many(*args, **kwargs):
        raise RuntimeError("trail write failed (simulated)")

    monkeypatch.setattr(trail, "append_many", broken_append_many)
    with pytest.raises(RuntimeError, match="simulated"):
        audit_service.update_audit(admin, audit_id, make_input(findings="changed",
                                                               theme_ids=[]))
    assert store.conn.execute("SELECT * FROM audits WHERE id = ?",
                              (audit_id,)).fetchone() == before_row
    assert table_counts(store.conn) == before


def test_transaction_rolls_back_everything_on_an_exception(store, table_counts):
    before = table_counts(store.conn)
    with pytest.raises(ZeroDivisionError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO service_areas (id, name, version, created_at, "
                         "updated_at) VALUES (990, 'Ghost', 1, 'x', 'x')")
            1 / 0
    assert table_counts(store.conn) == before
    assert not store.conn.in_transaction


@pytest.mark.file_only
def test_nested_transaction_uses_a_savepoint(store):
    statements = []
    store.conn.set_trace_callback(statements.append)
    try:
        with store.transaction() as conn:
            conn.execute("INSERT INTO service_areas (name, version, created_at, updated_at) "
                         "VALUES ('Outer', 1, 'x', 'x')")
            with pytest.raises(ValueError):
                with store.transaction() as inner:
                    inner.execute("INSERT INTO service_areas (name, version, created_at, "
                                  "updated_at) VALUES ('Inner', 1, 'x', 'x')")
                    raise ValueError("undo the inner block only")
            with store.transaction() as inner:
                inner.execute("INSERT INTO service_areas (name, version, created_at, "
                              "updated_at) VALUES ('Inner kept', 1, 'x', 'x')")
    finally:
        store.conn.set_trace_callback(None)
    names = [r[0] for r in store.conn.execute("SELECT name FROM service_areas ORDER BY id")]
    assert names == ["Outer", "Inner kept"]
    assert sum(s.startswith("BEGIN IMMEDIATE") for s in statements) == 1
    assert sum(s.startswith("SAVEPOINT") for s in statements) == 2
    assert sum(s.startswith("ROLLBACK TO SAVEPOINT") for s in statements) == 1
    assert sum(s == "COMMIT" for s in statements) == 1


def test_outer_failure_undoes_a_released_savepoint(store, table_counts):
    before = table_counts(store.conn)
    with pytest.raises(KeyError):
        with store.transaction():
            with store.transaction() as inner:
                inner.execute("INSERT INTO service_areas (id, name, version, created_at, "
                              "updated_at) VALUES (991, 'Inner', 1, 'x', 'x')")
            raise KeyError("outer fails after the inner block succeeded")
    assert table_counts(store.conn) == before


@pytest.mark.file_only
def test_backup_to_makes_a_whole_copy(store, admin, org, make_input, tmp_path):
    audit_service.create_audit(admin, make_input(), submit=True)
    destination = connection.backup_to(store, tmp_path / "b" / "copy.sqlite3")
    with open_store(destination, read_only=True) as copy:
        assert copy.conn.execute("SELECT * FROM audits").fetchall() == \
            store.conn.execute("SELECT * FROM audits").fetchall()
    shutil.rmtree(tmp_path / "b")


def test_a_folder_is_refused_with_a_plain_message(tmp_path):
    folder = tmp_path / "a-folder.sqlite3"
    folder.mkdir()
    with pytest.raises(StoreError):
        open_store(folder)


def test_optimistic_locking_across_two_connections(store, admin, org, make_input):
    from sefton_qa.domain.errors import ConflictError
    from sefton_qa.services import sign_in

    audit_id = audit_service.create_audit(admin, make_input()).record_id
    seen_version = audit_service.get_audit(admin, audit_id).version
    with open_store(store.location) as other:
        colleague = sign_in(other, os_user="admin.user", today=admin.today)
        audit_service.update_audit(colleague, audit_id, make_input(findings="theirs"),
                                   expected_version=seen_version)
    before = trail.count(store.conn)
    with pytest.raises(ConflictError, match="changed by someone else"):
        audit_service.update_audit(admin, audit_id, make_input(findings="mine"),
                                   expected_version=seen_version)
    assert audit_service.get_audit(admin, audit_id).findings == "theirs"
    assert trail.count(store.conn) == before
    audit_service.update_audit(admin, audit_id, make_input(findings="mine"),
                               expected_version=seen_version + 1)
    assert audit_service.get_audit(admin, audit_id).findings == "mine"


def test_a_second_connection_sees_committed_changes_only(store, admin, org, make_input):
    with open_store(store.location) as other:
        with store.transaction():
            audit_service.create_audit(admin, make_input())
            assert other.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0
        assert other.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 1


def test_opening_an_up_to_date_store_does_not_import_sqlite_utils(store_path):
    """Start-up cost: the schema check reads the migrations table itself; sqlite-utils (and
    the click, pluggy and importlib.metadata it pulls in) loads only when a step is pending.
    The steps listed for that check are exactly the migrations defined."""
    import subprocess

    code = ("import sys; from sefton_qa.store import open_store, pending_migrations; "
            f"s = open_store({str(store_path)!r}, check=True); assert pending_migrations(s) == []; "
            "s.close(); print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlite_utils', 'click', 'pluggy') or m == 'importlib.metadata'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", done.stdout
    assert migrations_module.KNOWN_MIGRATIONS == store_pkg.KNOWN_MIGRATIONS
