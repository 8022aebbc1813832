"""When the store cannot be opened (issue 8, item 5): the plain message and a way out.

:class:`OpenProblemDialog` shows why the store was refused and offers:

* **Restore from a backup…**: the store's backups, newest first; restoring one (through
  :func:`sefton_qa.services.backups.restore`, which keeps the current file, backed up or renamed
  aside) sets :attr:`choice` to ``RESTORED`` so the app reopens the store.
* **Open read-only**: offered only when ``open_store(path, read_only=True, migrate=False)``
  succeeds: a store from a newer version, a store whose trail failed the quick check on
  opening, or one whose folder cannot be written. A damaged file or a file that is not a store
  cannot be opened even read-only; then ``sefton-qa verify`` is the way to look at it, and the
  button says so.
* **Choose another store…** (sets :attr:`other_path`) and **Quit**.

Nothing here writes to the refused file: the backup folder setting is read with SQLite's
``immutable`` flag, which creates no -wal or -shm file.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from sefton_qa import APP_NAME
from sefton_qa.domain.errors import SeftonError
from sefton_qa.services import backups as backup_service
from sefton_qa.store import backups as backup_store

RESTORED = "restored"
READ_ONLY = "read-only"
OTHER = "other"
QUIT = "quit"


def backup_folder_of(path: Path) -> Path:
    """The refused store's backup folder, reading its setting without writing anything."""
    conn = None
    with contextlib.suppress(sqlite3.Error, OSError, ValueError):
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        return backup_store.folder_for(conn, Path(path))
    finally:
        if conn is not None:
            conn.close()


def can_open_read_only(path: Path) -> bool:
    from sefton_qa.store import open_store

    try:
        open_store(path, read_only=True, migrate=False, create=False).close()
    except Exception:  # any refusal means: not offered
        return False
    return True


class OpenProblemDialog(QDialog):
    def __init__(self, path, error_message: str, parent=None):
        super().__init__(parent)
        from sefton_qa.store.postgres import is_server_location

        self.on_server = is_server_location(path)
        self.path = str(path) if self.on_server else Path(path).expanduser().absolute()
        self.error_message = error_message
        self.choice = QUIT
        self.other_path: Path | None = None
        self.restore_result = None
        self.setWindowTitle(f"{APP_NAME} cannot open its store")
        self.resize(640, 420)

        layout = QVBoxLayout(self)
        message = QLabel(error_message)
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(message)

        if self.on_server:  # a server store is backed up and restored by IT
            self.folder, self.backups = None, []
            heading = QLabel("This store is on a server: IT restores it from the server's own "
                             "backups if it is damaged.")
        else:
            self.folder = backup_folder_of(self.path)
            self.backups = backup_service.list_backups(self.path, folder=self.folder)
            heading = QLabel(f"Backups of this store in {self.folder}, newest first:"
                             if self.backups else f"There are no backups of this store in "
                             f"{self.folder}.")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for backup in self.backups:
            manifest = backup.manifest() or {}
            audits = manifest.get("counts", {}).get("audits")
            text = f"{backup.created.astimezone():%d %b %Y %H:%M} — {backup.kind}"
            if audits is not None:
                text += f" — {audits:,} audits"
            item = QListWidgetItem(text)
            item.setToolTip(str(backup.path))
            self.list.addItem(item)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.list)
        self.list.setVisible(not self.on_server)

        row = QHBoxLayout()
        self.restore_button = QPushButton("&Restore from a backup…")
        self.restore_button.clicked.connect(self.restore_selected)
        self.read_only_button = QPushButton("Open &read-only")
        self.read_only_button.clicked.connect(self.open_read_only)
        self.read_only_possible = can_open_read_only(self.path)
        if not self.read_only_possible:
            self.read_only_button.setEnabled(False)
            self.read_only_button.setToolTip(
                "This file cannot be opened, even read-only. `sefton-qa verify --db FILE` "
                "reports what is wrong with it without changing it.")
        self.other_button = QPushButton("&Choose another store…")
        self.other_button.clicked.connect(self.choose_other)
        self.quit_button = QPushButton("&Quit")
        self.quit_button.clicked.connect(self.reject)
        for button in (self.restore_button, self.read_only_button, self.other_button,
                       self.quit_button):
            row.addWidget(button)
        layout.addLayout(row)
        if self.backups:
            self.list.setCurrentRow(0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.restore_button.setEnabled(bool(self.list.selectedItems()))

    def selected_backup(self):
        row = self.list.currentRow()
        return self.backups[row] if 0 <= row < len(self.backups) else None

    # -- the ways out --------------------------------------------------------------------------
    def restore_selected(self):
        backup = self.selected_backup()
        if backup is None:
            return None
        made = backup.created.astimezone().strftime("%d %b %Y %H:%M")
        why_not = backup_service.why_not_this_stores(self.path, backup.manifest() or {},
                                                     backup.path)
        warning = (f"\n\nNote: {why_not}. Restoring it replaces this store with that one."
                   if why_not else "")
        answer = QMessageBox.question(
            self, "Restore this backup?",
            f"Replace the store with the backup made {made}? The current file is kept: "
            f"backed up first, or, if it is damaged, renamed aside beside it.{warning}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return None
        try:
            self.restore_result = backup_service.restore(self.path, backup.path,
                                                         folder=self.folder,
                                                         other_store=bool(why_not))
        except SeftonError as exc:
            QMessageBox.warning(self, "Restore failed", str(exc))
            return None
        self.choice = RESTORED
        self.accept()
        return self.restore_result

    def open_read_only(self) -> None:
        if self.read_only_possible:
            self.choice = READ_ONLY
            self.accept()

    def choose_other(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, "Choose a Sefton QA store", "" if self.on_server else str(self.path.parent),
            "Sefton QA stores (*.sqlite3 *.sqlite *.db);;All files (*)")
        if name:
            self.other_path = Path(name)
            self.choice = OTHER
            self.accept()

    def reject(self) -> None:
        self.choice = QUIT
        super().reject()
