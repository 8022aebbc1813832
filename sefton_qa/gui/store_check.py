"""The store's full check, run in the background once the window is open (issue 8, item 5).

Opening a store only runs the quick check (:func:`sefton_qa.store.open_store` with
``check=True``: the trail's triggers, no missing rows, the newest rows' hashes), which takes
milliseconds at any size. A flipped byte in the middle of the file, or an old trail row edited
outside the app, is only found by the full check (``sefton-qa verify``: integrity_check, the
whole hash chain, every record rebuilt from the trail). :class:`StoreChecker` runs that check
on its own read-only connection in a worker thread, shows its progress in the status bar, and
when the check fails shows :class:`StoreCheckBanner` at the top of the window: what failed, and
the ways out (switch to read-only, restore from a backup).
"""

from __future__ import annotations

import html
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from sefton_qa.gui.jobs import Job
from sefton_qa.services.verify import CHECKS, VerifyReport, verify_store
from sefton_qa.store import open_store


class StoreCheckBanner(QFrame):
    """A warning strip across the top of the main window; hidden until a check fails."""

    read_only_requested = Signal()
    restore_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("storeCheckBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#storeCheckBanner { background: #fdecea; border: 1px solid #b3261e; }"
                           " QLabel { color: #410e0b; }")
        layout = QVBoxLayout(self)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)  # every text in it is escaped
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName("Store check problem")
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.read_only_button = QPushButton("Switch to &read-only")
        self.read_only_button.setToolTip("Keep looking at the store without changing it.")
        self.read_only_button.clicked.connect(self.read_only_requested)
        self.restore_button = QPushButton("Restore from a &backup…")
        self.restore_button.clicked.connect(self.restore_requested)
        self.hide_button = QPushButton("Hide")
        self.hide_button.clicked.connect(self.hide)
        row.addWidget(self.read_only_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        row.addWidget(self.hide_button)
        layout.addLayout(row)
        self.hide()

    def show_report(self, report: VerifyReport, *, read_only: bool,
                    newer_version: bool = False) -> None:
        failed = [c for c in report.checks if not c.ok]
        details = "<br>".join(f"• {html.escape(c.name)}: {html.escape(c.detail)}"
                              for c in failed[:4])
        advice = ("It is open read-only, so nothing will be written to it. Restore it from a "
                  "backup to carry on working." if read_only else
                  "Work saved now may sit on a damaged store. Switch to read-only to look "
                  "without changing anything, or restore it from a backup.")
        why = ("It was written by a newer version of Sefton QA, which this version may not "
               "fully understand; or it may have been changed outside Sefton QA." if newer_version
               else "It may have been changed outside Sefton QA, or be damaged.")
        self.message.setText(f"<b>The store failed its full check.</b> {html.escape(why)}<br>"
                             f"{details}<br>{html.escape(advice)}")
        self.read_only_button.setVisible(not read_only)
        self.show()


class StoreChecker(QObject):
    """Runs the full check once in the background and reports to the window."""

    #: Emitted with the VerifyReport when the check finishes (not when cancelled).
    checked = Signal(object)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.job: Job | None = None
        self.report: VerifyReport | None = None
        self._store_lock = threading.Lock()
        self._check_store = None
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setAccessibleName("Store check progress")
        self.progress.setFormat("Checking store %p%")
        self.progress.hide()
        window.statusBar().addPermanentWidget(self.progress)

    def start(self) -> None:
        """Run the check (again: a check still running is stopped first)."""
        self.stop()
        session = self.window.session
        self.job = Job(session, self._run, self, writes=False)
        self.job.progressed.connect(self._progressed)
        self.job.succeeded.connect(self._succeeded)
        self.job.failed.connect(self._failed)
        self.progress.setRange(0, len(CHECKS))
        self.progress.setValue(0)
        self.progress.show()
        self.job.start()

    def _run(self, session, progress):
        store = open_store(session.store.location, read_only=True, migrate=False, create=False)
        job = self.job
        # Once cancelled, whatever statement this connection runs next is aborted (on SQLite
        # an interrupt alone is lost when it lands between two batches of the chain's walk).
        store.stop_when(lambda: job.cancelled)
        with self._store_lock:
            self._check_store = store
        try:
            return verify_store(store, progress=progress)
        finally:
            with self._store_lock:
                self._check_store = None
            store.close()

    def _progressed(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setToolTip(f"Checking the store in the background: {message}")

    def _succeeded(self, report: VerifyReport) -> None:
        self.progress.hide()
        if self.job is not None and self.job.cancelled or report.cancelled:
            return
        self.report = report
        if report.ok:
            self.window.statusBar().showMessage(
                "Store checked: sound (integrity, trail chain and every record).", 8_000)
        else:
            store = self.window.session.store
            self.window.store_check_banner.show_report(
                report, read_only=store.read_only, newer_version=store.newer_version)
        self.checked.emit(report)

    def _failed(self, exc) -> None:
        self.progress.hide()
        if self.job is not None and self.job.cancelled:
            return
        self.window.statusBar().showMessage(f"The store could not be checked: {exc}", 30_000)

    def stop(self) -> None:
        """Cancel a running check and wait until its thread has ended: SQLite aborts the
        check's current statement at once (interrupt) and any later one (progress handler),
        so this takes about one batch of the chain's walk (milliseconds)."""
        if self.job is None:
            return
        self.job.cancel()
        with self._store_lock:
            if self._check_store is not None:
                self._check_store.interrupt()
        self.job.wait(None)  # never let the thread outlive the window (Qt would abort)

    def wait(self, msecs: int = 60_000) -> bool:
        return self.job.wait(msecs) if self.job is not None else True
