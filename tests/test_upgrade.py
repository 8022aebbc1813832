"""Upgrades keep data: a store written by the first release's schema (migrations 0001-0003,
tests/fixtures/store-schema-0003.sqlite3, made by scripts/make_upgrade_fixture.py) opens with
this version, is backed up first, migrates, and still verifies with every record kept."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sefton_qa import cli
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store, pending_migrations
from sefton_qa.store.migrations import KNOWN_MIGRATIONS

FIXTURE = Path(__file__).parent / "fixtures" / "store-schema-0003.sqlite3"


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("audits", "staff", "teams", "service_areas", "trail")}
    finally:
        conn.close()


def test_the_fixture_is_an_older_schema():
    conn = sqlite3.connect(f"{FIXTURE.resolve().as_uri()}?mode=ro", uri=True)
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    conn.close()
    assert applied == list(KNOWN_MIGRATIONS[:3])
    assert len(KNOWN_MIGRATIONS) > 3  # there is something to upgrade


def test_an_old_store_upgrades_keeping_everything(tmp_path):
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURE, path)
    before = counts(path)
    store = open_store(path)
    try:
        assert pending_migrations(store) == []
        report = verify_store(store)
        assert report.ok, report.lines()
        after = counts(path)
        assert {k: v for k, v in after.items() if k != "trail"} == \
            {k: v for k, v in before.items() if k != "trail"}
        assert after["trail"] >= before["trail"]  # the new settings rows are trailed too
    finally:
        store.close()
    backups = sorted((tmp_path / "backups").glob("*before-migration.sqlite3"))
    assert len(backups) == 1
    assert counts(backups[0]) == before  # the backup is the store as it was


def test_the_cli_opens_an_old_store(tmp_path, capsys):
    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURE, path)
    assert cli.main(["--db", str(path), "summary", "--from", "2025-05-01",
                     "--to", "2025-07-31", "--json"]) == 0
    assert '"total": 3' in capsys.readouterr().out


def test_an_old_store_passes_the_check_on_opening_and_its_backup_restores(tmp_path,
                                                                          monkeypatch):
    """The check on opening (the window's and the writing commands') holds a store to the
    triggers of its own schema step: the first release's search trigger, which a later step
    drops, was once taken for one added outside the app, so an old store was refused at
    opening and its before-migration backup could not be restored."""
    from sefton_qa import identity
    from sefton_qa.services import backups

    path = tmp_path / "old.sqlite3"
    shutil.copy(FIXTURE, path)
    store = open_store(path, check=True)
    assert verify_store(store).ok
    store.close()
    backup = sorted((tmp_path / "backups").glob("*before-migration.sqlite3"))[0]
    conn = sqlite3.connect(path)
    account = next(name for name, roles in conn.execute("SELECT os_username, roles FROM staff")
                   if "administrator" in roles)
    conn.close()
    monkeypatch.setattr(identity, "os_account", lambda: account)
    backups.restore(path, backup, other_store=True)  # made before ids: confirmed
    assert counts(path) == counts(backup)
    store = open_store(path, check=True)  # and it upgrades again
    assert verify_store(store).ok
    store.close()
