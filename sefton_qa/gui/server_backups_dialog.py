"""File → Backups… on a server store: who backs it up (IT, with the server's own tools), and a
verified snapshot of the whole store to a file for anyone who needs a portable copy
(``copy-store``, run in the background with progress; both sides verified)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from sefton_qa.gui.errors import show_error
from sefton_qa.gui.jobs import Job


class ServerBackupsDialog(QDialog):
    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Backups of the team's store")
        self.setObjectName("serverBackupsDialog")
        self.job: Job | None = None
        self.result = None
        where = session.store.describe()
        explain = QLabel(
            f"This store is on a server ({where}). Council IT backs it up with the server's "
            "own tools, and restores it if it is ever needed: that is an IT procedure "
            "(docs/SERVER.md), not a button here.\n\n"
            "You can save a snapshot of the whole store to a file: every record and the whole "
            "audit trail, checked against the server's copy before it is kept. It opens in "
            "Sefton QA like any store file.")
        explain.setWordWrap(True)
        self.snapshot_button = QPushButton("&Save a snapshot to a file…")
        self.snapshot_button.setAccessibleName("Save a verified snapshot of the store to a file")
        self.snapshot_button.clicked.connect(self.choose_and_snapshot)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setObjectName("snapshotNote")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.snapshot_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

    def choose_and_snapshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save a snapshot of the store",
                                              str(Path.home() / "sefton-qa-snapshot.sqlite3"),
                                              "Sefton QA store (*.sqlite3)")
        if path:
            self.snapshot(Path(path))

    def snapshot(self, path: Path) -> Job | None:
        from sefton_qa.services.copy_store import copy_store

        if path.exists():
            self.note.setText(f"{path} already exists; choose a new file name. Nothing was "
                              "written.")
            return None
        location = self.session.store.location

        def work(_session, progress):
            return copy_store(location, path,
                              progress=lambda table, rows: progress(0, 0, f"{table}: {rows:,}"))

        self.snapshot_button.setEnabled(False)
        self.progress.show()
        self.note.setText("Copying and checking…")
        self.job = Job(self.session, work, self, writes=False)
        self.job.progressed.connect(lambda _d, _t, message: self.note.setText(message))
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.start()
        return self.job

    def _done(self, result) -> None:
        self.result = result
        self.progress.hide()
        self.snapshot_button.setEnabled(True)
        self.note.setText(f"Saved {result.destination}: {result.counts.get('audits', 0):,} "
                          f"audits, {result.counts.get('trail', 0):,} trail rows, checked "
                          f"against the server (trail head row {result.trail_seq:,}).")

    def _failed(self, exc) -> None:
        self.progress.hide()
        self.snapshot_button.setEnabled(True)
        self.note.setText("The snapshot was not saved.")
        show_error(self, exc, title="The snapshot was not saved")
