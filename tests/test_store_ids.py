"""Issue 15, finding 14 and "what to build" 4-5: every store has an id from its creation; backups
carry it in their names and manifests, so stores sharing a backup folder never list, rotate,
delete or read the anchors of each other's backups, and a backup of another store (or one made
before ids) is restored only when an administrator says so."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from sefton_qa import identity
from sefton_qa.cli import main
from sefton_qa.services import backups, sign_in
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store

pytestmark = [pytest.mark.file_only]  # backups are files

UTC = dt.timezone.utc
FIXTURE = Path(__file__).parent / "fixtures" / "store-schema-0003.sqlite3"


def read_store_id(path: Path) -> str | None:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'store_id'").fetchone()
        return json.loads(row[0]) if row else None
    finally:
        conn.close()


def new_store(path: Path, folder: Path, account: str = "admin.user"):
    """A store made from nothing (not copied from a template), its backups in ``folder``."""
    from sefton_qa.store import settings as settings_store

    store = open_store(path)
    session = sign_in(store, os_user=account)
    with store.transaction() as conn:
        settings_store.put(conn, "backup_dir", str(folder), who=session.who)
    return store, session


def test_every_new_store_gets_its_own_id_in_the_trail(tmp_path):
    a, _ = new_store(tmp_path / "a" / "sefton-qa.sqlite3", tmp_path / "shared")
    b, _ = new_store(tmp_path / "b" / "sefton-qa.sqlite3", tmp_path / "shared")
    ids = [read_store_id(s.path) for s in (a, b)]
    for s in (a, b):
        assert verify_store(s).ok  # the id's settings row is trailed and replays
        s.close()
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids) and ids[0] != ids[1]


def test_stores_sharing_a_backup_folder_never_touch_each_others_backups(tmp_path):
    """Two stores with the same file name, one backup folder (finding 14): A's rotation used to
    delete B's backups, and A's listing offered B's for restore."""
    shared = tmp_path / "shared"
    a, _ = new_store(tmp_path / "a" / "sefton-qa.sqlite3", shared)
    b, b_admin = new_store(tmp_path / "b" / "sefton-qa.sqlite3", shared)
    start = dt.datetime(2026, 10, 1, 9, tzinfo=UTC)
    b_backups = [backups.make_backup(b, kind="daily", now=start + dt.timedelta(days=n))
                 for n in range(3)]
    # 40 daily backups of A, one a day: A's rotation keeps 7 daily + 4 weekly + ... of A's own
    for n in range(40):
        backups.make_backup(a, kind="daily", now=start + dt.timedelta(days=n))
    assert all(p.exists() for p in b_backups)
    listed_a = backups.list_backups(a.path, conn=a.conn)
    listed_b = backups.list_backups(b.path, conn=b.conn)
    assert {p.path for p in listed_b} == set(b_backups)
    assert not {p.path for p in listed_a} & set(b_backups)
    assert all(read_store_id(p.path) == read_store_id(a.path) for p in listed_a)
    # B's anchors (a longer trail) are never held against A
    from sefton_qa.services.organisation import add_service_area

    for n in range(5):
        add_service_area(b_admin, f"Area {n}")
    backups.make_backup(b, now=start + dt.timedelta(days=50))
    report = verify_store(a)
    assert report.ok, report.lines()
    a.close()
    b.close()


def test_a_backup_of_another_store_is_refused_unless_the_administrator_says_so(
        tmp_path, monkeypatch, capsys):
    """The same administrator keeps two stores; restoring B's backup over A by mistake is
    refused (service and CLI), A unchanged; with --other-store (and the confirmation) it goes
    ahead and the restore anchor records that it was confirmed."""
    shared = tmp_path / "shared"
    a, _ = new_store(tmp_path / "a" / "sefton-qa.sqlite3", shared)
    b, _ = new_store(tmp_path / "b" / "other.sqlite3", shared)
    b_backup = backups.make_backup(b)
    a_path = a.path
    a.close()
    b.close()
    before = a_path.read_bytes()
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    with pytest.raises(backups.NotThisStoresBackup, match="backup is of another store"):
        backups.restore(a_path, b_backup)
    assert main(["--db", str(a_path), "restore", str(b_backup), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "another store" in err and "--other-store" in err
    assert a_path.read_bytes() == before
    # The manifest names the store; editing it to claim A's id does not help (it is checked
    # against the file, and the file's SHA-256 against the manifest).
    manifest_path = b_backup.with_name(b_backup.name + ".json")
    manifest = json.loads(manifest_path.read_text())
    original = manifest_path.read_text()
    manifest["store_id"] = read_store_id(a_path)
    manifest_path.write_text(json.dumps(manifest))
    assert main(["--db", str(a_path), "restore", str(b_backup), "--yes"]) == 1
    assert "store id" in capsys.readouterr().err
    assert a_path.read_bytes() == before
    manifest_path.write_text(original)
    # Said on purpose: restored, and the anchor says it was another store's.
    assert main(["--db", str(a_path), "restore", str(b_backup), "--yes", "--other-store"]) == 0
    assert read_store_id(a_path) == read_store_id(b_backup)
    anchors_text = a_path.with_name(a_path.name + ".anchors").read_text()
    assert "confirmed although the backup is of another store" in anchors_text


def test_backups_from_before_store_ids_are_listed_restorable_on_confirmation_never_rotated(
        tmp_path, monkeypatch):
    """A store from before ids upgrades (its before-migration backup has no id); that backup is
    listed, is restored only with confirmation, and no rotation ever deletes it."""
    path = tmp_path / "old" / "sefton-qa.sqlite3"
    path.parent.mkdir()
    shutil.copy(FIXTURE, path)
    store = open_store(path)
    legacy = sorted((path.parent / "backups").glob("*before-migration.sqlite3"))
    assert len(legacy) == 1 and read_store_id(legacy[0]) is None
    assert read_store_id(path)  # the upgrade gave the store its id
    listed = backups.list_backups(path, conn=store.conn)
    assert legacy[0] in [b.path for b in listed]
    start = dt.datetime.now(UTC) + dt.timedelta(days=1)
    for n in range(15):  # more than the rotation keeps of every kind
        backups.make_backup(store, kind="before-restore", now=start + dt.timedelta(hours=n))
    assert legacy[0].exists()
    store.close()
    from sefton_qa.store import staff as staff_store

    conn = sqlite3.connect(path)
    admin_account = next(s.os_username for s in staff_store.list_all(conn)
                         if "administrator" in {r.value for r in s.roles})
    conn.close()
    monkeypatch.setattr(identity, "os_account", lambda: admin_account)
    with pytest.raises(backups.NotThisStoresBackup, match="before stores had ids"):
        backups.restore(path, legacy[0])
    result = backups.restore(path, legacy[0], other_store=True)
    assert "confirmed although the backup was made before stores had ids" in result.authorised
