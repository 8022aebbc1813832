"""A page of the main window: filters above the audit register, the selected audit beside it."""

from __future__ import annotations

import html

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import SeftonError
from sefton_qa.domain.wording import date_text, change_words, field_label, local_time_text
from sefton_qa.gui.errors import log
from sefton_qa.gui.filter_bar import FilterBar
from sefton_qa.gui.loop.common import audit_html
from sefton_qa.gui.register_model import (
    COL_AREA, COL_AUDITOR, COL_CASE, COL_DATE, COL_GRADE, COL_STATUS, COL_TEAM, COL_THEMES,
    AuditRegisterModel,
)
from sefton_qa.services import register
from sefton_qa.services.audits import get_audit
from sefton_qa.services.session import Session

DEFAULT_WIDTHS = (110, 85, 150, 140, 120, 185, 85)
#: The columns in the order shown at first: what a register is scanned for (case, date, grade,
#: status, team) comes first, so it is in view on a 1024-pixel screen; people may drag them.
DEFAULT_ORDER = (COL_CASE, COL_DATE, COL_GRADE, COL_STATUS, COL_TEAM, COL_AREA, COL_AUDITOR,
                 COL_THEMES)


class RegisterPage(QWidget):
    open_requested = Signal(int)  # an audit id: Enter or double-click
    count_changed = Signal(int)
    #: A link in the detail pane: ("moderation" | "conversation" | "action" | "audit", id).
    story_requested = Signal(str, int)
    #: The tables whose changes this page shows (the window refreshes it when one is touched).
    SHOWS = ("audits", "audit_themes", "moderations", "service_areas", "teams", "staff",
             "themes", "grades", "settings", "audit_templates")

    def __init__(self, session: Session, name: str, parent=None, *, fixed: dict | None = None,
                 intro: str = ""):
        super().__init__(parent)
        self.session = session
        self.name = name
        self.filters = FilterBar(session, self, fixed=fixed)
        self.model = AuditRegisterModel(session, self, filter=self.filters.current())
        self.filters.changed.connect(self._apply_filter)
        self.model.failed.connect(self._register_failed)
        self._failure_box: QMessageBox | None = None
        if self.model.failure is not None:
            QTimer.singleShot(0, lambda: self._register_failed(self.model.failure))

        self.table = QTableView()
        self.table.setObjectName(f"{name}Register")
        self.table.setAccessibleName("Audit register")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_DATE, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._show_current)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.activated.connect(lambda index: self._open(index.row()))

        self.detail = QTextBrowser()
        self.detail.setObjectName(f"{name}Detail")
        self.detail.setAccessibleName("Selected audit")
        self.detail.setPlaceholderText("Select an audit to see its details and history.")
        # Links open what they name (Tab moves between them, Enter opens one).
        self.detail.setOpenLinks(False)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.detail.anchorClicked.connect(self._story_link)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        if intro:
            label = QLabel(intro)
            label.setWordWrap(True)
            left_layout.addWidget(label)
        left_layout.addWidget(self.filters)
        left_layout.addWidget(self.table, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.table)

    # -- behaviour ------------------------------------------------------------------------------
    def _apply_filter(self, f) -> None:
        self.model.set_filter(f)
        self.detail.clear()
        self.count_changed.emit(self.model.total)

    def _register_failed(self, exc: BaseException) -> None:
        """One message, whatever the cause, and a register that still works: the filters that
        led to it are cleared. Shown without blocking, and never twice at once."""
        log.error("The register could not be read with %s", self.model.filter, exc_info=exc)
        if self._failure_box is not None and self._failure_box.isVisible():
            return
        cleared = self.model.filter != self.filters.current_cleared()
        text = ("The register could not be read with the filters chosen, so they have been "
                "cleared." if cleared else "The register could not be read.")
        detail = str(exc) if isinstance(exc, SeftonError) else (
            "The details are in the log file. Your saved work is safe in the store.")
        box = QMessageBox(QMessageBox.Icon.Warning, "The register could not be read",
                          text, QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(detail)
        box.setObjectName("registerFailed")
        self._failure_box = box
        box.open()
        if cleared:
            # After this signal's handler returns: the model may be in the middle of painting.
            QTimer.singleShot(0, self.filters.clear)

    def refresh(self, keep_audit: int | None = None) -> None:
        current = keep_audit if keep_audit is not None else self.selected_audit_id()
        self.model.reload()
        self.count_changed.emit(self.model.total)
        if current is not None:
            row = self.model.row_of(current)
            if row is None:
                self.model.audit_id(0)  # fetch the first page, then look again
                row = self.model.row_of(current)
            if row is not None:
                self.table.selectRow(row)
                self.detail.setHtml(self.audit_html(current))
                return
        self.detail.clear()

    def selected_audit_id(self) -> int | None:
        index = self.table.currentIndex()
        return self.model.audit_id(index.row()) if index.isValid() else None

    def _open(self, row: int) -> None:
        audit_id = self.model.audit_id(row)
        if audit_id is not None:
            self.open_requested.emit(audit_id)

    def _show_current(self, current, _previous=None) -> None:
        audit_id = self.model.audit_id(current.row()) if current.isValid() else None
        if audit_id is None:
            self.detail.clear()
        else:
            self.detail.setHtml(self.audit_html(audit_id))

    def audit_html(self, audit_id: int) -> str:
        """The audit (as every page shows it), then its history from the trail. Every user
        string is escaped before it reaches the HTML."""
        e = html.escape
        status = get_audit(self.session, audit_id).status.label
        parts = [audit_html(self.session, audit_id, extra=[("Status", status)]),
                 self.story_html(audit_id), "<h4>History</h4><ul>"]
        staff = register.names(self.session)["staff"]
        for entry in register.history(self.session, "audits", audit_id):
            who = staff.get(entry.staff_id, entry.os_user)
            fields = "" if entry.kind in ("create", "demo", "import") else \
                f" ({', '.join(sorted(field_label(f) for f in entry.changes))})"
            reason = f" — reason: {entry.reason}" if entry.reason else ""
            parts.append(f"<li>{e(local_time_text(entry.at_utc))}, {e(who)}: "
                         f"{e(change_words(entry.kind))}{e(fields)}{e(reason)}</li>")
        parts.append("</ul>")
        return "".join(parts)

    def story_html(self, audit_id: int) -> str:
        """What followed the audit, each open step a link that opens it (Tab to it, Enter):
        moderation, reflective conversation, remedial actions and their re-audits."""
        from sefton_qa.domain.models import ActionStatus, ConversationStatus, ModerationStatus

        e = html.escape
        story = register.audit_story(self.session, audit_id)
        staff = register.names(self.session)["staff"]
        today = self.session.today()
        items: list[str] = []

        def link(kind: str, record_id: int, text: str) -> str:
            return f"<a href='sefton:{kind}/{record_id}'>{e(text)}</a>"

        for m in story.moderations:
            why = {"inadequate": "graded inadequate", "calibration": "a calibration sample"}.get(
                m.flagged_because, m.flagged_because)
            if m.status is ModerationStatus.PENDING:
                items.append(link("moderation", m.id, f"Moderation waiting ({why}), due "
                                                      f"{date_text(m.due_date)}"))
            elif m.status is ModerationStatus.DONE:
                by = staff.get(m.moderator_id, "a moderator")
                grade = m.moderated_grade.label.lower() if m.moderated_grade else "not graded"
                verdict = {"confirmed": f"grade confirmed as {grade}",
                           "upgraded": f"grade raised to {grade}",
                           "downgraded": f"grade lowered to {grade}"}.get(
                    m.outcome or "", f"graded {grade}")
                items.append(e(f"Moderated {date_text(m.moderation_date)} by {by} ({why}): "
                               f"{verdict}"))
            else:
                items.append(e(f"Moderation cancelled ({why})"))
        for c in story.conversations:
            if c.status is ConversationStatus.DUE:
                items.append(link("conversation", c.id, "Reflective conversation due "
                                                        f"{date_text(c.due_date)}"))
            elif c.status is ConversationStatus.HELD:
                items.append(e(f"Reflective conversation held {date_text(c.held_on)} with "
                               f"{staff.get(c.facilitator_id, 'the service manager')}"))
        for a in story.actions:
            owner = staff.get(a.owner_id, "no owner")
            if a.status is ActionStatus.OPEN:
                late = ", overdue" if a.overdue(today) else ""
                text = link("action", a.id, f"Action: {a.description} ({owner}, due "
                                            f"{date_text(a.due_date)}{late})")
            else:
                text = e(f"Action: {a.description} ({owner}): {a.status.label.lower()}"
                         + (f" {date_text(a.completed_on)}" if a.completed_on else ""))
            reaudit = story.reaudits.get(a.reaudit_audit_id)
            if reaudit is not None:
                grade = reaudit.overall_grade.label.lower() if reaudit.overall_grade else \
                    "not graded"
                text += " — " + link("audit", reaudit.id, f"re-audited "
                                                          f"{date_text(reaudit.audit_date)}: "
                                                          f"{grade}")
            items.append(text)
        if not items:
            return "<h4>What followed</h4><p>Nothing yet: no moderation, conversation or action."\
                   "</p>"
        return "<h4>What followed</h4><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"

    def _story_link(self, url) -> None:
        kind, _, record_id = url.toString().removeprefix("sefton:").partition("/")
        if record_id.isdigit():
            self.story_requested.emit(kind, int(record_id))

    # -- remembering the layout -----------------------------------------------------------------
    def restore_layout(self, settings: QSettings) -> None:
        splitter = settings.value(f"{self.name}/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([900, 320])
        header = settings.value(f"{self.name}/register_header")
        if isinstance(header, QByteArray):
            self.table.horizontalHeader().restoreState(header)
        else:
            for col, width in enumerate(DEFAULT_WIDTHS):
                self.table.setColumnWidth(col, width)
            header = self.table.horizontalHeader()
            for visual, col in enumerate(DEFAULT_ORDER):
                header.moveSection(header.visualIndex(col), visual)

    def save_layout(self, settings: QSettings) -> None:
        settings.setValue(f"{self.name}/splitter", self.splitter.saveState())
        settings.setValue(f"{self.name}/register_header",
                          self.table.horizontalHeader().saveState())
