"""File → Backups…: Back up now adds a row; Restore brings the store back to the backup's
manifest (counts and trail head) and the main window refreshes onto the reopened store."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from sefton_qa.domain.models import AuditStatus
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.services import audits as audit_service
from sefton_qa.services import backups as backup_service
from sefton_qa.store import audits as audit_store
from sefton_qa.store import backups as backup_store


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
