"""The first-run page, shown while the store holds no audits: load demo data to try the app,
or start for real with the set-up wizard."""

from __future__ import annotations

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.models import Role
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.jobs import Job
from sefton_qa.gui.labels import heading, paragraph
from sefton_qa.gui.welcome.wizard import ROLE_ORDER, SetupPages, centre_column
from sefton_qa.services import organisation as org
from sefton_qa.services.demo import Cancelled, generate_demo
from sefton_qa.services.session import Session


class WelcomePage(QWidget):
    """Shown instead of the register while the store is empty. ``finished`` fires once the
    store is set up (demo data loaded, or the real set-up saved)."""

    finished = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("welcomePage")
        self.job: Job | None = None
        self.demo_months = 18
        self.demo_seed = 2024
        self.is_admin = session.actor.has_role(Role.ADMINISTRATOR) and session.actor.active

        self.stack = QStackedWidget()
        self.intro = self._build_intro()
        self.setup = SetupPages(session, self)
        self.setup.cancelled.connect(self.show_intro)
        self.setup.done.connect(self.finished)
        self.stack.addWidget(self.intro)
        self.stack.addWidget(self.setup)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # -- the first page -------------------------------------------------------------------------
    def _build_intro(self) -> QWidget:
        page = QWidget()
        page.setObjectName("welcomeIntro")
        title = heading("Welcome to Sefton QA", 1.8)
        about = paragraph(
            "Sefton QA is where your quality assurance team keeps its case-file audits. "
            "Auditors log each audit against the audit tool's sections and grade it; "
            "moderators re-check grades; every inadequate grade is followed up with the "
            "service manager and its actions tracked until done. From the same records you "
            "produce the quarterly report for councillors, with honest numbers and nothing "
            "that could identify a child or a worker.")
        empty = paragraph("This store is empty. How would you like to begin?")

        self.demo_button = QPushButton("&Load demo data")
        self.demo_button.setObjectName("loadDemoButton")
        self.demo_button.setAccessibleName("Load demo data")
        demo_text = paragraph(
            f"Fills this store with {self.demo_months} months of made-up audits for a made-up "
            "council, so you can try everything safely. No real children or staff. Best in a "
            "separate practice store: demo data is meant to be thrown away.")
        self.demo_button.setAccessibleDescription(demo_text.text())
        self.demo_button.clicked.connect(self.load_demo)

        self.real_button = QPushButton("&Start for real")
        self.real_button.setObjectName("startForRealButton")
        self.real_button.setAccessibleName("Start for real")
        real_text = paragraph(
            "Set up your council's service areas, teams and staff in a few short steps, then "
            "log your first audit. You can change all of it later in Settings.")
        self.real_button.setAccessibleDescription(real_text.text())
        self.real_button.clicked.connect(self.start_for_real)

        for button in (self.demo_button, self.real_button):
            font = QFont(button.font())
            font.setPointSizeF(font.pointSizeF() * 1.25)
            font.setBold(True)
            button.setFont(font)
            button.setMinimumHeight(button.fontMetrics().height() * 3)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        choices = QGridLayout()
        choices.setHorizontalSpacing(24)
        choices.addWidget(self.demo_button, 0, 0)
        choices.addWidget(self.real_button, 0, 1)
        choices.addWidget(demo_text, 1, 0, Qt.AlignmentFlag.AlignTop)
        choices.addWidget(real_text, 1, 1, Qt.AlignmentFlag.AlignTop)
        choices.setColumnStretch(0, 1)
        choices.setColumnStretch(1, 1)

        self.permission_note = paragraph("")
        self.permission_note.setObjectName("permissionNote")
        self.permission_note.setFrameShape(QFrame.Shape.StyledPanel)
        self.permission_note.setMargin(8)
        # Reachable by keyboard, so the reason is not only in the disabled buttons' tooltips.
        self.permission_note.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.permission_note.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        if not self.is_admin:
            admins = [s.display_name for s in org.staff(self.session, active_only=True)
                      if s.has_role(Role.ADMINISTRATOR)]
            who = f" ({', '.join(admins)})" if admins else ""
            roles = ", ".join(r.label_in_sentence for r in ROLE_ORDER
                              if self.session.actor.has_role(r)) or "no roles"
            self.permission_note.setText(
                f"Only an administrator can load demo data or set up this store. You are "
                f"signed in as {self.session.actor.display_name} ({roles}). Ask an "
                f"administrator{who} to set it up, or to give you the administrator role.")
            for button in (self.demo_button, self.real_button):
                button.setEnabled(False)
                button.setToolTip(self.permission_note.text())
        self.permission_note.setAccessibleName("Why the buttons are unavailable")
        self.permission_note.setVisible(not self.is_admin)

        self.progress = QProgressBar()
        self.progress.setObjectName("demoProgress")
        self.progress.setAccessibleName("Progress loading demo data")
        self.progress.setTextVisible(True)
        self.progress_status = paragraph("")
        self.progress_status.setObjectName("demoStatus")
        self.progress_status.setAccessibleName("Demo data status")
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setAccessibleName("Cancel loading demo data")
        self.cancel_button.clicked.connect(self.cancel_demo)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        box_layout = QVBoxLayout(self.progress_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addLayout(progress_row)
        self.progress_box.setVisible(False)

        inner = QVBoxLayout()
        inner.setSpacing(14)
        inner.addWidget(title)
        inner.addWidget(about)
        inner.addSpacing(6)
        inner.addWidget(empty)
        inner.addLayout(choices)
        inner.addWidget(self.permission_note)
        inner.addWidget(self.progress_box)
        inner.addWidget(self.progress_status)
        inner.addStretch(1)
        centre_column(page, inner, chars=110, stretch=6)
        QWidget.setTabOrder(self.demo_button, self.real_button)
        QWidget.setTabOrder(self.real_button, self.cancel_button)
        return page

    def show_intro(self) -> None:
        self.stack.setCurrentWidget(self.intro)
        (self.real_button if self.real_button.isEnabled() else self.demo_button).setFocus()

    # -- demo data ------------------------------------------------------------------------------
    def load_demo(self) -> None:
        if self.job is not None or not self.is_admin:
            return
        months, seed = self.demo_months, self.demo_seed

        def work(session, progress):
            return generate_demo(session, months=months, seed=seed, progress=progress)

        self.job = Job(self.session, work, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_demo_loaded)
        self.job.failed.connect(self._on_demo_failed)
        self.job.finished.connect(self._on_job_finished)
        self.demo_button.setEnabled(False)
        self.real_button.setEnabled(False)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress_box.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.progress_status.setText("Loading demo data…")
        self.job.start()
        self.cancel_button.setFocus()

    def cancel_demo(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_status.setText("Cancelling… nothing will be added.")

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress_status.setText(message + "…" if done < total else message)

    def _on_demo_loaded(self, result) -> None:
        self.progress_status.setText(
            f"Loaded {result.audits:,} demo audits across {result.teams} teams in "
            f"{result.service_areas} service areas.")
        self.finished.emit()

    def _on_demo_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.progress_status.setText("Cancelled. Nothing was added: the store is as it was.")
            return
        self.progress_status.setText("Demo data could not be loaded; nothing was added.")
        show_error(self, exc, title="Demo data could not be loaded")

    def _on_job_finished(self) -> None:
        self.job = None
        self.progress_box.setVisible(False)
        self.demo_button.setEnabled(self.is_admin)
        self.real_button.setEnabled(self.is_admin)

    # -- for real -------------------------------------------------------------------------------
    def start_for_real(self) -> None:
        if not self.is_admin or self.job is not None:
            return
        self.stack.setCurrentWidget(self.setup)
        self.setup.go_to(0)

    def stop(self, timeout_ms: int = 60_000) -> None:
        """Cancel a running job and wait until it has rolled back (before the page goes away).
        The job reports back through this thread's events, so they keep flowing meanwhile."""
        if self.job is None:
            return
        self.cancel_demo()
        loop = QEventLoop()
        self.job.finished.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        if self.job is not None:
            loop.exec()

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
