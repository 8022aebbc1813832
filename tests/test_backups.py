"""Backups: made with the backup API, checked, described by a manifest, rotated, restored."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from figures import record_figure

from sefton_qa import __version__
from sefton_qa.cli import main
from sefton_qa.domain.errors import StoreError
from sefton_qa.services import backups
from sefton_qa.services.audits import create_audit
from sefton_qa.services.verify import verify_store
from sefton_qa.store import backups as backup_store
from sefton_qa.store import open_store, records, trail
from sefton_qa.store import settings as settings_store
from sefton_qa.store.backups import BackupFile, to_keep
from sefton_qa.store.records import Who

pytestmark = [pytest.mark.file_only,  # about SQLite files themselves
              pytest.mark.usefixtures("as_admin_user")]


UTC = dt.timezone.utc


def describe_file(path: Path) -> dict:
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return backup_store.describe(conn)
    finally:
        conn.close()


def snapshot(store) -> dict:
    return backup_store.describe(store.conn)


# -- making a backup ---------------------------------------------------------------------------
def test_backup_is_a_sound_store_equal_to_the_source(demo_store):
    path = backups.make_backup(demo_store)
    assert path.parent == demo_store.path.parent / "backups"
    assert path.name.startswith("sefton-qa-demo-") and path.name.endswith("-manual.sqlite3")
    assert describe_file(path) == snapshot(demo_store)
    copy = open_store(path, read_only=True)
    try:
        report = verify_store(copy)
        assert report.ok, report.lines()
        assert trail.check_chain(copy.conn)[1] is None
        assert trail.head(copy.conn) == trail.head(demo_store.conn)
    finally:
        copy.close()
    assert not Path(str(path) + ".partial").exists()


def test_manifest_describes_the_backup(demo_store):
    before = dt.datetime.now(UTC)
    path = backups.make_backup(demo_store, kind=backups.DAILY)
    manifest = json.loads(Path(str(path) + ".json").read_text())
    conn = demo_store.conn
    expected_counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in records.TRAILED_TABLES}
    assert manifest["counts"] == expected_counts
    assert manifest["counts"]["audits"] > 100
    seq, head_hash = trail.head(conn)
    assert manifest["trail"] == {"count": trail.count(conn), "head_seq": seq,
                                 "head_hash": head_hash}
    assert manifest["app_version"] == __version__
    assert manifest["kind"] == "daily"
    assert manifest["sha256"] == backup_store.sha256_of(path)
    created = dt.datetime.strptime(manifest["created_utc"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs(created.replace(tzinfo=UTC) - before) < dt.timedelta(minutes=1)


def test_backup_folder_setting_is_used(store, tmp_path):
    folder = tmp_path / "elsewhere" / "backups"
    with store.transaction() as conn:
        settings_store.put(conn, "backup_dir", str(folder), who=Who(None, "test"))
    path = backups.make_backup(store)
    assert path.parent == folder
    assert [b.path for b in backups.list_backups(store.path, conn=store.conn)] == [path]


def test_a_backup_that_fails_integrity_check_is_deleted(store, tmp_path, monkeypatch):
    monkeypatch.setattr(backup_store, "integrity_problems", lambda conn: ["page 7: broken"])
    with pytest.raises(StoreError, match="damaged"):
        backups.make_backup(store, tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []


# -- restore -----------------------------------------------------------------------------------
def add_audits(session, make_input, n: int) -> None:
    for i in range(n):
        create_audit(session, make_input(case_reference=f"LCS-2000{i:02d}"))


def test_restore_brings_back_an_earlier_state(store, admin, org, make_input):
    add_audits(admin, make_input, 2)
    path = backups.make_backup(store)
    manifest = json.loads(Path(str(path) + ".json").read_text())
    add_audits(admin, make_input, 3)
    newer = snapshot(store)
    assert newer["counts"]["audits"] == 5
    store_path = store.path
    store.close()

    result = backups.restore(store_path, path)

    restored = open_store(store_path)
    try:
        now = snapshot(restored)
        assert now["counts"] == manifest["counts"]
        assert now["trail"] == manifest["trail"]
        assert now["counts"]["audits"] == 2
        assert verify_store(restored).ok
    finally:
        restored.close()
    assert result.before_restore is not None and result.before_restore.exists()
    assert result.before_restore.name.endswith("-before-restore.sqlite3")
    assert describe_file(result.before_restore) == newer
    assert not list(store_path.parent.glob(".*restoring*"))
    record_figure("backup and restore",
                  f"backup of {manifest['counts']['audits']} audits / "
                  f"{manifest['trail']['count']} trail rows restored over a store of "
                  f"{newer['counts']['audits']} audits: counts and trail head equal the "
                  "manifest's, verify ok, the replaced store kept as a before-restore backup")


def test_a_corrupt_backup_is_refused_and_the_store_untouched(store, admin, org, make_input):
    add_audits(admin, make_input, 2)
    path = backups.make_backup(store)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    path.write_bytes(bytes(data))
    add_audits(admin, make_input, 1)
    store_path = store.path
    store.close()
    before_bytes = store_path.read_bytes()
    before_backups = sorted(p.name for p in path.parent.iterdir())

    with pytest.raises(StoreError) as info:
        backups.restore(store_path, path)
    message = str(info.value)
    assert str(path) in message
    assert any(word in message for word in ("damaged", "changed since", "does not match"))

    assert store_path.read_bytes() == before_bytes
    assert sorted(p.name for p in path.parent.iterdir()) == before_backups  # no before-restore
    assert not list(store_path.parent.glob(".*restoring*"))


@pytest.mark.parametrize("problem", ["no manifest", "edited manifest", "not sqlite", "missing"])
def test_restore_refuses_other_bad_backups(store, problem):
    path = backups.make_backup(store)
    manifest_path = Path(str(path) + ".json")
    if problem == "no manifest":
        manifest_path.unlink()
    elif problem == "edited manifest":
        manifest = json.loads(manifest_path.read_text())
        manifest["trail"]["head_seq"] += 1
        manifest_path.write_text(json.dumps(manifest))
    elif problem == "not sqlite":
        path.write_bytes(b"hello" * 1000)
    else:
        path.unlink()
    store_path = store.path
    store.close()
    before = store_path.read_bytes()
    with pytest.raises(StoreError):
        backups.restore(store_path, path)
    assert store_path.read_bytes() == before


def test_restore_refuses_a_store_still_open(store, admin):
    path = backups.make_backup(store)
    with pytest.raises(StoreError, match="still open"):
        backups.restore(store.path, path)
    assert verify_store(store).ok  # the open store still works


# -- rotation ----------------------------------------------------------------------------------
def fake(day: dt.date, kind: str = "daily", hour: int = 8) -> BackupFile:
    created = dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)
    return BackupFile(created, Path(f"/b/s-{created:%Y%m%dT%H%M%S}Z-{kind}.sqlite3"), kind, "s")


def test_rotation_over_400_days():
    start = dt.date(2025, 10, 21)
    kept: list[BackupFile] = []
    for n in range(400):
        today = start + dt.timedelta(days=n)
        kept.append(fake(today))
        if n % 3 == 0:
            kept.append(fake(today, "manual", hour=12))
        if n % 50 == 0:
            kept.append(fake(today, "before-restore", hour=13))
        keep = to_keep(kept, today)
        kept = [b for b in kept if b.path in keep]
    today = start + dt.timedelta(days=399)
    assert today == dt.date(2026, 11, 24)
    days = sorted((b.day for b in kept if b.kind == "daily"), reverse=True)
    # 7 dailies: the last seven days.
    assert days[:7] == [today - dt.timedelta(days=i) for i in range(7)]
    # 4 weeklies: the Sunday of each of the 4 ISO weeks before the oldest daily's week.
    oldest_daily_monday = days[6] - dt.timedelta(days=days[6].weekday())
    sundays = [oldest_daily_monday - dt.timedelta(days=1 + 7 * i) for i in range(4)]
    assert days[7:11] == sundays
    # 12 monthlies: the newest surviving backup of each of the 12 months before that.
    monthly = days[11:]
    assert len(monthly) == 12
    months = [(d.year, d.month) for d in monthly]
    assert months == sorted(set(months), reverse=True)
    assert months[0] == (2026, 9) and months[-1] == (2025, 10)
    # The rule is stable: applying it again drops nothing.
    assert to_keep(kept, today) == {b.path for b in kept}
    # The other kinds: exactly the newest 10, whatever their kind.
    others = sorted((b for b in kept if b.kind != "daily"), reverse=True)
    assert len(others) == 10
    assert others[0].day == today and others[0].kind == "manual"
    record_figure("backup rotation",
                  f"400 simulated days: {len(kept)} backups kept: 7 daily, 4 weekly, "
                  f"12 monthly, {len(others)} manual/before-*")


def test_rotation_one_shot_rule():
    today = dt.date(2026, 11, 24)  # a Tuesday
    items = [fake(today - dt.timedelta(days=i)) for i in range(120)]
    items.append(fake(today, hour=9))  # a second backup today: only the newest counts
    keep = to_keep(items, today)
    kept_days = sorted({b.day for b in items if b.path in keep}, reverse=True)
    assert kept_days[:7] == [today - dt.timedelta(days=i) for i in range(7)]
    assert fake(today).path not in keep and fake(today, hour=9).path in keep
    # oldest daily is Wed 18 Nov (week of Mon 16 Nov): weeklies are the Sundays before it.
    assert kept_days[7:11] == [dt.date(2026, 11, 15), dt.date(2026, 11, 8),
                               dt.date(2026, 11, 1), dt.date(2026, 10, 25)]
    # months before October: the last day of each month that has backups.
    assert kept_days[11:] == [dt.date(2026, 9, 30), dt.date(2026, 8, 31),
                              dt.date(2026, 7, 31)]
    # A clock that went back: a backup dated after today is never dropped.
    future = fake(today + dt.timedelta(days=3))
    assert future.path in to_keep([*items, future], today)


def test_rotate_deletes_files_and_manifests(store, tmp_path):
    folder = tmp_path / "b"
    first = backups.make_backup(store, folder, kind="daily",
                                now=dt.datetime(2026, 1, 1, 9, tzinfo=UTC))
    for day in range(2, 12):
        backups.make_backup(store, folder, kind="daily",
                            now=dt.datetime(2026, 1, day, 9, tzinfo=UTC))
    names = {p.name for p in folder.iterdir()}
    assert first.name not in names and first.name + ".json" not in names
    assert len(backups.list_backups(store.path, folder)) == 7 + 1  # + 4 Jan, the newest of the week before


# -- daily at start-up -------------------------------------------------------------------------
def test_backup_if_due_makes_one_per_day(store, tmp_path):
    folder = tmp_path / "b"
    morning = dt.datetime(2026, 11, 24, 8, tzinfo=UTC)
    first = backups.backup_if_due(store, now=morning, folder=folder)
    assert first is not None and first.name.endswith("-daily.sqlite3")
    assert backups.backup_if_due(store, now=morning + dt.timedelta(hours=6), folder=folder) is None
    backups.make_backup(store, folder, now=morning + dt.timedelta(hours=7))  # manual: no effect
    assert backups.backup_if_due(store, now=morning + dt.timedelta(hours=8), folder=folder) is None
    second = backups.backup_if_due(store, now=morning + dt.timedelta(days=1), folder=folder)
    assert second is not None and second != first
    dailies = [b for b in backups.list_backups(store.path, folder) if b.kind == "daily"]
    assert [b.day for b in dailies] == [dt.date(2026, 11, 25), dt.date(2026, 11, 24)]


def test_backup_if_due_uses_the_default_folder(store):
    path = backups.backup_if_due(store)
    assert path is not None and path.parent == store.path.parent / "backups"
    assert backups.backup_if_due(store) is None


# -- the command line --------------------------------------------------------------------------
def test_cli_backup_and_restore(store, admin, org, make_input, capsys, monkeypatch):
    add_audits(admin, make_input, 1)
    store_path = store.path
    store.close()
    assert main(["--db", str(store_path), "backup"]) == 0
    out = capsys.readouterr().out.strip()
    path = Path(out)
    assert path.exists() and path.parent == store_path.parent / "backups"
    assert describe_file(path)["counts"]["audits"] == 1

    s = open_store(store_path)
    from sefton_qa.services import sign_in
    session = sign_in(s, os_user="admin.user", today=lambda: dt.date(2026, 11, 24))
    add_audits(session, make_input, 2)
    s.close()

    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code = main(["--db", str(store_path), "restore", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and "--yes" in err and "Traceback" not in err
    assert describe_file(store_path)["counts"]["audits"] == 3

    assert main(["--db", str(store_path), "restore", str(path), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "before-restore" in out and "Restored" in out
    assert describe_file(store_path)["counts"]["audits"] == 1

    assert main(["--db", str(store_path), "backups"]) == 0
    out = capsys.readouterr().out
    assert "before-restore" in out and "manual" in out and "1 audits" in out


def test_cli_restore_asks_for_the_word(store, admin, capsys, monkeypatch):
    path = backups.make_backup(store)
    store_path = store.path
    store.close()
    before = store_path.read_bytes()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": "yes")
    assert main(["--db", str(store_path), "restore", str(path)]) == 1
    assert "Nothing was changed" in capsys.readouterr().out
    assert store_path.read_bytes() == before
    monkeypatch.setattr("builtins.input", lambda prompt="": "restore")
    assert main(["--db", str(store_path), "restore", str(path)]) == 0
    assert "Restored" in capsys.readouterr().out


def test_cli_restore_of_a_corrupt_backup_is_a_plain_error(store, capsys, tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    store_path = store.path
    store.close()
    code = main(["--db", str(store_path), "restore", str(bad), "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("sefton-qa: ") and "Traceback" not in err


def test_restore_replaces_a_damaged_store_and_keeps_it_aside(store, admin, org, make_input):
    add_audits(admin, make_input, 2)
    path = backups.make_backup(store)
    store_path = store.path
    store.close()
    data = bytearray(store_path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 4096] = b"\xff" * 4096
    store_path.write_bytes(bytes(data))
    damaged = bytes(data)

    result = backups.restore(store_path, path)

    assert result.before_restore.name.startswith("sefton-qa.sqlite3.damaged-")
    assert result.before_restore.read_bytes() == damaged
    restored = open_store(store_path)
    try:
        assert verify_store(restored).ok
        assert snapshot(restored)["counts"]["audits"] == 2
    finally:
        restored.close()


@pytest.mark.parametrize("stop_after", [0, 3])
def test_a_backup_stopped_while_it_is_checked_keeps_nothing(demo_store, tmp_path, stop_after):
    """Closing the app stops the day's backup: during its integrity_check (SQLite aborts it)
    or its checksum; nothing is left in the folder, and the next backup works."""
    from sefton_qa.store.backups import BackupCancelled

    asked = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) > stop_after

    folder = tmp_path / "stopped"
    with pytest.raises(BackupCancelled, match="nothing was kept"):
        backups.backup_if_due(demo_store, folder=folder, should_stop=should_stop)
    assert asked and list(folder.iterdir()) == []
    made = backups.backup_if_due(demo_store, folder=folder, should_stop=lambda: False)
    assert made is not None and backup_store.read_manifest(made)["counts"]["audits"] > 0


# -- issue 15, finding 5: who may restore ------------------------------------------------------
def test_a_stranger_cannot_restore_her_own_backup_over_this_store(store, admin, org, tmp_path,
                                                                  monkeypatch):
    """Mallory, not on this store's staff list, restores a backup of her own store (where she
    is the administrator) over it: refused by the service (the CLI and the window alike),
    nothing changed."""
    from sefton_qa import identity
    from sefton_qa.domain.errors import PermissionDenied
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    theirs = open_store(tmp_path / "mallory" / "own.sqlite3")
    sign_in(theirs, os_user="mallory")
    her_backup = backups.make_backup(theirs)
    theirs.close()
    store_path = store.path
    store.close()
    before = store_path.read_bytes()
    monkeypatch.setattr(identity, "os_account", lambda: "mallory")
    with pytest.raises(PermissionDenied, match="'mallory' is not one"):
        backups.restore(store_path, her_backup)
    assert main(["--db", str(store_path), "restore", str(her_backup), "--yes"]) == 1
    assert store_path.read_bytes() == before
    # the administrator may (this store's list decides), and the anchors file says who did
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    reopened = open_store(store_path)
    newer = backups.make_backup(reopened)
    reopened.close()
    result = backups.restore(store_path, newer)
    assert result.authorised == "admin.user, an administrator of the current store"


def test_a_damaged_store_is_restored_by_an_administrator_in_the_backup(store, admin, org):
    from sefton_qa import identity

    path = backups.make_backup(store)
    store_path = store.path
    store.close()
    store_path.write_bytes(b"garbage" * 100)
    result = backups.restore(store_path, path, account="admin.user")
    assert "an administrator in the backup" in result.authorised
    assert identity.os_account() == "admin.user"  # this module's seam, for the CLI tests


# -- issue 15, finding 7: a backup killed part-way ---------------------------------------------
KILL_AT = {
    # the copy is checked and hashed, the manifest not yet written
    "before manifest": "backups._write_json = lambda *a, **k: os._exit(9)",
    # the manifest is in place (the first os.replace), the copy not yet renamed (the second)
    "before rename": ("real = os.replace\n"
                      "calls = []\n"
                      "def replace(a, b):\n"
                      "    calls.append(b)\n"
                      "    if len(calls) == 2: os._exit(9)\n"
                      "    real(a, b)\n"
                      "backups.os = type('o', (), {**{k: getattr(os, k) for k in dir(os) "
                      "if not k.startswith('__')}, 'replace': staticmethod(replace)})"),
}


@pytest.mark.parametrize("point", ["before manifest", "before rename"])
def test_a_daily_backup_killed_part_way_leaves_no_backup_without_its_manifest(
        store, admin, tmp_path, point):
    """The process dies (os._exit, no clean-up runs) at a point of the daily backup. No file
    has a backup's name without its manifest; the next start removes the leftovers and makes
    that day's backup; rotation never counts a leftover."""
    import subprocess
    import sys
    import textwrap

    from sefton_qa.store import backups as backup_store

    folder = tmp_path / "kept"
    good = backups.make_backup(store, folder, kind="before-restore")
    store_path = store.path
    store.close()
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from sefton_qa.store import backups
    """) + KILL_AT[point] + textwrap.dedent(f"""
        from sefton_qa.store import open_store
        from sefton_qa.services.backups import backup_if_due
        backup_if_due(open_store({str(store_path)!r}), folder=Path({str(folder)!r}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 9, done.stderr
    named = [b for b in backup_store.list_backups(folder) if b.kind == "daily"]
    assert all(b.manifest() is not None for b in named), named  # none without its manifest
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".partial")
                 or (p.name.endswith(".json") and not p.with_name(p.name[:-5]).exists())]
    assert leftovers  # the kill left something behind ...
    reopened = open_store(store_path)
    made = backups.backup_if_due(reopened, folder=folder)
    reopened.close()
    assert made is not None and made.exists()  # ... the day's backup is made all the same
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
    assert good.exists() and backup_store.read_manifest(good)  # the good one was never dropped


def test_rotation_counts_only_backups_with_a_manifest(store, admin, tmp_path):
    """Files that look like backups but have no manifest (half-made, or planted) never count,
    so they can never push a good backup out of the rotation (one was deleted that way)."""
    from sefton_qa.store import backups as backup_store

    folder = tmp_path / "rot"
    good = backups.make_backup(store, folder, kind="before-restore")
    stem = store.path.stem
    start = dt.datetime(2026, 11, 1, 8, tzinfo=UTC)
    for n in range(15):
        for kind in ("before-restore", "daily"):
            when = start + dt.timedelta(days=n)
            (folder / backup_store.backup_name(stem, kind, when)).write_bytes(b"half made")
    backup_store.rotate(folder, stem, dt.date(2026, 11, 30))
    assert good.exists() and backup_store.read_manifest(good)


def test_a_manifest_without_a_sha256_is_refused(store, admin):
    path = backups.make_backup(store)
    manifest_path = path.with_name(path.name + ".json")
    manifest = json.loads(manifest_path.read_text())
    del manifest["sha256"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="has no SHA-256"):
        backups.check_backup(path)


def test_a_newer_versions_backup_is_refused_with_the_reason(store, admin, raw_sql):
    path = backups.make_backup(store)
    raw_sql(path, "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                  "VALUES ('sefton_qa', '9999_from_the_future', 'x')")
    with pytest.raises(StoreError, match="made by a newer version"):
        backups.check_backup(path)


def test_a_killed_restores_temporary_copy_is_removed_next_time(store, admin):
    """Every killed restore left a full-size copy beside the store; a dead process's copy
    goes at the next start (and before the next restore)."""
    dead = 2 ** 22 + 12345  # above the usual pid range: no such process
    leftover = store.path.with_name(f".{store.path.name}.restoring-{dead}")
    leftover.write_bytes(b"x" * 4096)
    assert backups.remove_stale_restore_copies(store.path) == [leftover]
    assert not leftover.exists()
