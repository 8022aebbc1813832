"""File → Backups…: the store's backups, Back up now, and Restore (issue 8, item 6).

Restoring closes the store, lets :func:`sefton_qa.services.backups.restore` replace the file
(it first makes a before-restore backup of the store as it was), then reopens the store and
puts the new Store into the same Session the main window holds, so every page sees it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sefton_qa.domain.errors import SeftonError, StoreDamaged
from sefton_qa.domain.models import Role
from sefton_qa.gui.errors import show_error
from sefton_qa.services import backups as backup_service
from sefton_qa.services.session import Session

COLUMNS = ("Made", "Kind", "Audits", "Trail rows", "File")

KIND_LABELS = {
    backup_service.DAILY: "Daily",
    backup_service.MANUAL: "Made by hand",
    backup_service.BEFORE_RESTORE: "Before a restore",
    backup_service.BEFORE_MIGRATION: "Before an update",
}


def _local_time(created: dt.datetime) -> str:
    return created.astimezone().strftime("%d %b %Y %H:%M:%S")


def in_background(parent, what: str, fn):
    """``fn()`` on a worker thread while a progress dialog (busy: no steps to count) says
    what is happening and the window keeps painting; its result, or its exception raised
    here."""
    import threading

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QProgressDialog

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - raised again on the GUI thread
            outcome["error"] = exc

    progress = QProgressDialog(what, None, 0, 0, parent)
    progress.setWindowTitle("Please wait")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setAutoClose(False)
    progress.hide()
    worker = threading.Thread(target=run, name="sefton-qa-backups", daemon=True)
    worker.start()
    # Shown only when the work takes a while: a quick one does not flash a dialog.
    QTimer.singleShot(300, lambda: progress.show() if worker.is_alive() else None)
    loop = QEventLoop()
    timer = QTimer(interval=50)
    timer.timeout.connect(lambda: loop.quit() if not worker.is_alive() else None)
    timer.start()
    while worker.is_alive():
        loop.exec()
    timer.stop()
    progress.close()
    progress.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


class BackupsDialog(QDialog):
    #: Emitted with the RestoreResult after a restore, once the store is reopened.
    restored = Signal(object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.backups: list = []
        self.setWindowTitle("Backups")
        self.resize(760, 420)

        layout = QVBoxLayout(self)
        self.folder_label = QLabel()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setAccessibleName("Where this store's backups are kept")
        self.folder_label.setWordWrap(True)
        layout.addWidget(self.folder_label)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("This store's backups")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table)

        row = QHBoxLayout()
        self.backup_button = QPushButton("&Back up now")
        self.backup_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton("&Restore…")
        self.restore_button.clicked.connect(self.restore_selected)
        row.addWidget(self.backup_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        layout.addLayout(row)

        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reload()

    # -- listing --------------------------------------------------------------------------------
    @property
    def can_restore(self) -> bool:
        return self.session.actor.has_role(Role.ADMINISTRATOR)

    def reload(self) -> None:
        store = self.session.store
        folder = backup_service.backup_folder(store)
        self.folder_label.setText(f"Backups of {store.path.name} are kept in {folder}.")
        self.backups = backup_service.list_backups(store.path, conn=store.conn)
        self.table.setRowCount(len(self.backups))
        for r, backup in enumerate(self.backups):
            manifest = backup.manifest() or {}
            audits = manifest.get("counts", {}).get("audits")
            trail_rows = manifest.get("trail", {}).get("count")
            kind = KIND_LABELS.get(backup.kind, backup.kind)
            if not manifest.get("store_id"):
                kind += " (made before store ids)"
            cells = (_local_time(backup.created), kind,
                     "—" if audits is None else f"{audits:,}",
                     "—" if trail_rows is None else f"{trail_rows:,}", backup.path.name)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        if not self.can_restore:
            self.note.setText("Only an administrator can restore a backup.")
        self._update_buttons()

    def selected_backup(self):
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        self.restore_button.setEnabled(self.can_restore and self.selected_backup() is not None)

    # -- actions --------------------------------------------------------------------------------
    def back_up_now(self) -> Path | None:
        store = self.session.store
        try:
            path = in_background(self, "Backing up the store…",
                                 lambda: backup_service.make_backup(store))
        except SeftonError as exc:
            QMessageBox.warning(self, "Backup failed", str(exc))
            return None
        self.reload()
        self.note.setText(f"Backed up to {path}.")
        return path

    def restore_selected(self):
        backup = self.selected_backup()
        if backup is None or not self.can_restore:
            return None
        why_not = backup_service.why_not_this_stores(self.session.store.path,
                                                     backup.manifest() or {}, backup.path)
        warning = (f"\n\nNote: {why_not}. Restoring it replaces this store with that one."
                   if why_not else "")
        answer = QMessageBox.question(
            self, "Restore this backup?",
            f"Restore the backup made {_local_time(backup.created)}?\n\n"
            "Sefton QA will close the store, back up the store as it is now (a 'before a "
            "restore' backup, so this can be undone), replace it with the backup, and reopen "
            "it. Work done since the backup was made will then only be in that "
            f"before-restore backup.{warning}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return self.restore(backup.path, other_store=bool(why_not))

    def restore(self, backup_file: Path, *, other_store: bool = False):
        """Close the store, restore ``backup_file`` over it, reopen it into the session."""
        from sefton_qa.store import open_store

        store = self.session.store
        store_path = Path(store.path)
        folder = backup_service.backup_folder(store)
        was_read_only = store.read_only
        live = getattr(self.parent(), "live", None)
        if live is not None:  # its look at the trail's head would keep the file busy
            live.stop()
        store.close()
        result, failure = None, None
        try:
            # The backup is checked in full (about a minute at a million audits): in the
            # background, with a progress bar, never on the GUI thread.
            result = in_background(
                self, "Checking the backup and restoring it…",
                lambda: backup_service.restore(store_path, backup_file, folder=folder,
                                               other_store=other_store))
        except SeftonError as exc:
            failure = exc
        try:
            if failure is not None and was_read_only:  # the same store: read-only it stays
                self.session.store = open_store(store_path, read_only=True, migrate=False,
                                                create=False)
            else:
                try:
                    self.session.store = open_store(store_path, backup_dir=folder, check=True)
                except StoreDamaged as exc:  # the backup itself fails the quick check
                    self.session.store = open_store(store_path, read_only=True,
                                                    migrate=False, create=False)
                    failure = failure or exc
        except Exception as exc:  # the store is closed; say so plainly, with details
            show_error(self, exc)
            self.setEnabled(False)
            return None
        self.session.refresh_actor()
        parent = self.parent()
        if parent is not None and hasattr(parent, "_start_live_updates"):
            parent._start_live_updates()  # on the store as reopened, restored or not
        if parent is not None and hasattr(parent, "refresh"):
            parent.refresh()
        self.reload()
        if failure is not None:
            QMessageBox.warning(self, "Restore failed", str(failure))
            return None
        before = f" The store as it was is in {result.before_restore}." \
            if result.before_restore else ""
        self.note.setText(f"Restored {Path(backup_file).name}.{before}")
        self.restored.emit(result)
        return result
