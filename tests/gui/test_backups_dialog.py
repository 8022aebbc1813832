"""File → Backups…: Back up now adds a row; Restore brings the store back to the backup's
manifest (counts and trail head) and the main window refreshes onto the reopened store."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from sefton_qa.domain.models import AuditStatus
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.services import audits as audit_service
from sefton_qa.services import backups as backup_service
from sefton_qa.store import audits as audit_store
from sefton_qa.store import backups as backup_store


pytestmark = [pytest.mark.file_only,  # backup files are for a store file
              pytest.mark.usefixtures("as_gui_tester")]


def _open(qtbot, demo_session, gui_settings):
    window = MainWindow(demo_session, settings=gui_settings)
    qtbot.addWidget(window)
    action = next(a for a in window.findChildren(type(window.new_action))
                  if a.objectName() == "backups")
    assert action.text() == "&Backups…"
    dialog = window.open_backups()
    qtbot.addWidget(dialog)
    return window, dialog


def test_back_up_now_adds_a_row(qtbot, demo_session, gui_settings, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)
    _window, dialog = _open(qtbot, demo_session, gui_settings)
    rows = dialog.table.rowCount()

    path = dialog.back_up_now()

    assert path is not None and path.is_file()
    assert dialog.table.rowCount() == rows + 1
    assert dialog.table.item(0, 4).text() == path.name  # newest first
    manifest = backup_store.read_manifest(path)
    assert dialog.table.item(0, 2).text() == f"{manifest['counts']['audits']:,}"
    assert dialog.table.item(0, 3).text() == f"{manifest['trail']['count']:,}"


def test_restore_brings_the_store_back_to_the_manifest(qtbot, demo_session, gui_settings,
                                                       monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window, dialog = _open(qtbot, demo_session, gui_settings)
    backup = dialog.back_up_now()
    manifest = backup_store.read_manifest(backup)
    old_store = demo_session.store
    total_at_backup = window.audits_page.model.total

    # Change the store after the backup: withdraw a few audits (the trail grows).
    ids = [r[0] for r in old_store.conn.execute(
        "SELECT id FROM audits WHERE status != ? ORDER BY id LIMIT 3",
        (AuditStatus.WITHDRAWN.value,))]
    for audit_id in ids:
        audit_service.withdraw_audit(demo_session, audit_id, "logged on the wrong case")
    window.refresh()
    assert backup_store.differences(manifest, backup_store.describe(old_store.conn))

    refreshed = []
    original_refresh = window.refresh
    monkeypatch.setattr(window, "refresh", lambda: (refreshed.append(1), original_refresh()))
    dialog.table.selectRow(next(i for i, b in enumerate(dialog.backups) if b.path == backup))
    assert dialog.restore_button.isEnabled()

    result = dialog.restore_selected()

    assert warnings == []
    assert result is not None and result.restored_from == backup
    assert demo_session.store is not old_store and window.session.store is demo_session.store
    conn = demo_session.store.conn
    assert backup_store.differences(manifest, backup_store.describe(conn)) == []
    assert all(audit_store.get(conn, i).status is not AuditStatus.WITHDRAWN for i in ids)
    assert refreshed, "the main window was not refreshed"
    assert window.audits_page.model.total == total_at_backup  # read from the reopened store
    # The before-restore backup of the changed store is listed, so the restore can be undone.
    kinds = [b.kind for b in backup_service.list_backups(demo_session.store.path,
                                                         conn=conn)]
    assert backup_service.BEFORE_RESTORE in kinds
    assert dialog.table.rowCount() == len(kinds)


# -- the way out when the store cannot be opened -------------------------------------------------
def _store_with_a_backup(tmp_path):
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    path = tmp_path / "store" / "sefton-qa.sqlite3"
    store = open_store(path)
    sign_in(store)  # the current OS user becomes the administrator
    backup = backup_service.make_backup(store)
    store.close()
    return path, backup


def test_open_problem_restores_a_truncated_store_and_the_app_reopens_it(
        qtbot, tmp_path, monkeypatch):
    from sefton_qa.gui import open_problem
    from sefton_qa.gui.app import open_session_or_way_out

    path, backup = _store_with_a_backup(tmp_path)
    manifest = backup_store.read_manifest(backup)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail(str(a)))
    shown = []

    def factory(p, message):
        dialog = open_problem.OpenProblemDialog(p, message)
        qtbot.addWidget(dialog)
        shown.append((dialog, message))
        assert [b.path for b in dialog.backups] == [backup]
        assert not dialog.read_only_button.isEnabled()  # a damaged file cannot be read
        monkeypatch.setattr(dialog, "exec", dialog.restore_selected)
        return dialog

    session, read_only = open_session_or_way_out(path, dialog_factory=factory)
    try:
        assert len(shown) == 1 and "could not be read" in shown[0][1]
        assert shown[0][0].choice == open_problem.RESTORED
        assert not read_only
        assert backup_store.differences(manifest,
                                        backup_store.describe(session.store.conn)) == []
        # The damaged file was kept, renamed aside, not deleted.
        assert shown[0][0].restore_result.before_restore.read_bytes() == data[: len(data) // 2]
    finally:
        session.store.close()


def test_open_problem_quit_leaves_a_foreign_file_alone(qtbot, tmp_path, monkeypatch):
    from sefton_qa.gui import open_problem
    from sefton_qa.gui.app import open_session_or_way_out

    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"not a database\n" * 100)
    before = path.read_bytes(), path.stat().st_mtime_ns
    dialogs = []

    def factory(p, message):
        dialog = open_problem.OpenProblemDialog(p, message)
        qtbot.addWidget(dialog)
        dialogs.append(dialog)
        assert dialog.backups == [] and not dialog.restore_button.isEnabled()
        assert not dialog.read_only_button.isEnabled()
        monkeypatch.setattr(dialog, "exec", dialog.reject)
        return dialog

    assert open_session_or_way_out(path, dialog_factory=factory) == (None, False)
    assert dialogs[0].choice == open_problem.QUIT
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]


def test_open_problem_choose_another_store(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from sefton_qa.gui import open_problem
    from sefton_qa.gui.app import open_session_or_way_out

    good, _backup = _store_with_a_backup(tmp_path)
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"x" * 4096)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))

    def factory(p, message):
        dialog = open_problem.OpenProblemDialog(p, message)
        qtbot.addWidget(dialog)
        monkeypatch.setattr(dialog, "exec", dialog.choose_other)
        return dialog

    session, read_only = open_session_or_way_out(bad, dialog_factory=factory)
    try:
        assert session.store.path == good and not read_only
    finally:
        session.store.close()


def test_the_days_first_start_backs_up_in_the_background(qtbot, demo_session, gui_settings):
    """The daily backup runs off the GUI thread (half a minute at a million audits): the window
    is usable at once, the backup is made and said, and a second start that day makes none."""
    window = MainWindow(demo_session, settings=gui_settings)
    qtbot.addWidget(window)
    folder = backup_service.backup_folder(demo_session.store)
    before = {b.path for b in backup_service.list_backups(demo_session.store.path,
                                                          folder=folder)}
    job = window.start_daily_backup()
    assert job is not None and not job.writes
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    made = [b for b in backup_service.list_backups(demo_session.store.path, folder=folder)
            if b.path not in before]
    assert [b.kind for b in made] == [backup_service.DAILY]
    assert window.statusBar().currentMessage() == f"Today's backup: {made[0].path}"
    assert backup_store.read_manifest(made[0].path)["counts"]["audits"] > 0

    again = window.start_daily_backup()
    with qtbot.waitSignal(again.finished, timeout=60_000):
        pass
    assert len(backup_service.list_backups(demo_session.store.path, folder=folder)) == \
        len(before) + 1
    assert not window.statusBar().currentMessage().startswith("Making today's backup")


def test_a_backup_from_before_store_ids_is_marked_and_restored_only_when_confirmed(
        qtbot, tmp_path, gui_settings, monkeypatch):
    """A store from the first release upgrades; its before-migration backup has no store id,
    so it cannot be shown to be this store's: the list marks it, the question says so, Cancel
    changes nothing, and Yes restores it."""
    import shutil
    from pathlib import Path

    from sefton_qa import identity
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    monkeypatch.setattr(identity, "os_account", lambda: "fixture.admin")
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a))
    path = tmp_path / "old" / "sefton-qa.sqlite3"
    path.parent.mkdir()
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "store-schema-0003.sqlite3", path)
    session = sign_in(open_store(path))
    window = MainWindow(session, settings=gui_settings)
    qtbot.addWidget(window)
    dialog = window.open_backups()
    qtbot.addWidget(dialog)
    row = next(r for r in range(dialog.table.rowCount())
               if "before-migration" in dialog.table.item(r, 4).text())
    assert dialog.table.item(row, 1).text().endswith("(made before store ids)")
    asked = []
    answer = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _parent, _title, text, *a, **k: (asked.append(text), answer[0])[1])
    dialog.table.selectRow(row)
    before = path.read_bytes()
    assert dialog.restore_selected() is None
    assert "made before stores had ids" in asked[-1] and path.read_bytes() == before
    answer[0] = QMessageBox.StandardButton.Yes
    result = dialog.restore_selected()
    assert warnings == [] and result is not None
    assert "confirmed although" in result.authorised


def test_restore_checks_the_backup_off_the_gui_thread_with_a_progress_bar(
        qtbot, demo_session, gui_settings, monkeypatch):
    """Issue 17, finding 6: the full check of a restore ran on the GUI thread (about a minute
    at a million audits). It runs on a worker now, the window painting meanwhile."""
    import threading
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QProgressDialog

    from sefton_qa.services import backups as backup_service

    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)
    window, dialog = _open(qtbot, demo_session, gui_settings)
    backup = dialog.back_up_now()
    real = backup_service.restore
    seen = {}

    def slow_restore(*args, **kwargs):
        seen["thread"] = threading.current_thread()
        time.sleep(0.6)  # a big store's check
        return real(*args, **kwargs)

    monkeypatch.setattr(backup_service, "restore", slow_restore)
    ticks = []
    timer = QTimer(interval=50)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    shown = []
    QTimer.singleShot(450, lambda: shown.extend(
        w for w in dialog.findChildren(QProgressDialog) if w.isVisible()))
    result = dialog.restore(backup)
    timer.stop()
    assert result is not None
    assert seen["thread"] is not threading.main_thread()
    assert len(ticks) >= 8  # the GUI thread went on while the backup was checked
    assert shown and "Checking the backup" in shown[0].labelText()
