"""Allocated to me: the cases the recorded random draw gave this auditor, due first. Enter
starts the audit of the selected case (pre-filled, recorded as drawn at random, linked to its
allocation) or opens it when it was started already."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from sefton_qa.domain.errors import SeftonError
from sefton_qa.domain.models import AuditType
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import (
    Row,
    RowsModel,
    fmt_date,
    message_label,
    plural,
    set_message,
    set_widths,
    table_view,
)
from sefton_qa.services import plans
from sefton_qa.services.session import Session

STATUS = {"draft": "Started", "submitted": "Done", "withdrawn": "Withdrawn"}


def allocation_status(allocation, today) -> tuple[str, bool]:
    """What the list says of an allocation, and whether it is overdue."""
    if allocation.is_done():
        return "Done", False
    if allocation.is_overdue(today):
        return "Overdue", True
    if allocation.audit_id is not None:
        return STATUS.get(allocation.audit_status or "", "Started"), False
    return "To do", False


class AllocatedPage(QWidget):
    """The cases allocated to the signed-in auditor by a kept draw."""

    changed = Signal(object)
    #: An audit to open in its form (the window opens it).
    open_requested = Signal(int)
    SHOWS = ("allocations", "draws", "drawn_cases", "audits", "audit_plans")
    HEADERS = ("Case reference", "Team", "Audit type", "Due date", "Status", "Reserve for")
    STATUS_COLUMN = 4

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setObjectName("allocatedPage")
        self.session = session
        self.show_done = QCheckBox("Show &done ones too")
        self.show_done.setAccessibleName("Show allocated cases already audited")
        self.show_done.toggled.connect(lambda _on: self.refresh())
        self.count_label = QLabel()
        self.count_label.setAccessibleName("How many cases are allocated to you")
        top = QHBoxLayout()
        top.addWidget(self.show_done)
        top.addStretch(1)
        top.addWidget(self.count_label)

        self.model = RowsModel(self.HEADERS, self, status_column=self.STATUS_COLUMN)
        self.table = table_view(self.model, "Cases allocated to you", "allocatedList")
        set_widths(self.table, (130, 220, 110, 100, 100))
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update())
        self.table.doubleClicked.connect(lambda _i: self.start_or_open())
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table)
        enter.setContext(Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(self.start_or_open)
        list_label = buddy_label("&Allocated cases:", self.table,
                                 accessible="Cases allocated to you")
        self.start_button = QPushButton("&Start audit")
        self.start_button.setObjectName("startAllocatedAudit")
        self.start_button.setAccessibleName("Start or open the audit of the selected case")
        self.start_button.clicked.connect(self.start_or_open)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("About the selected case")
        self.message = message_label("Allocated cases message")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.hint, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Allocated to me", 1.25))
        layout.addWidget(paragraph(
            "Cases drawn at random from the caseload for this period's audit plan and "
            "allocated to you. Start the audit of a case here (Enter): it is filled in from "
            "the caseload, recorded as drawn at random and linked to its allocation, so the "
            "committee pack can speak for the whole caseload.", "About allocated cases"))
        layout.addLayout(top)
        layout.addWidget(list_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.setFocusProxy(self.table)
        self.items: list = []
        self.refresh()

    def refresh(self) -> None:
        try:
            items = plans.my_allocations(self.session, include_done=self.show_done.isChecked())
        except SeftonError as exc:  # an inactive account: said, not raised
            items = []
            set_message(self.message, str(exc))
        today = self.session.today()
        current = self.selected()
        rows = []
        for a in sorted(items, key=lambda a: (a.due_date, a.case_reference)):
            status, overdue = allocation_status(a, today)
            rows.append(Row((a.case_reference, a.team, AuditType(a.audit_type).label,
                             fmt_date(a.due_date), status,
                             "a case that closed" if a.is_reserve and a.replaces_id else ""),
                            key=a.id, overdue=overdue, data=a,
                            tooltip=a.reserve_reason or ""))
        self.items = items
        self.model.set_rows(rows)
        row = self.model.row_of(current.id) if current is not None else None
        if row is None and rows:
            row = 0
        if row is not None:
            self.table.selectRow(row)
        open_ = [a for a in items if not a.is_done()]
        overdue = sum(r.overdue for r in rows)
        self.count_label.setText(
            f"{plural(len(open_), 'case')} to audit" + (f", {overdue:,} overdue" if overdue
                                                        else ""))
        self._update()

    def selected(self):
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()].data

    def _update(self) -> None:
        a = self.selected()
        self.start_button.setEnabled(a is not None)
        if a is None:
            self.start_button.setText("&Start audit")
            self.hint.setText("Nothing is allocated to you." if not self.items else
                              "Select a case to start its audit.")
        elif a.audit_id is not None:
            self.start_button.setText("&Open audit")
            self.hint.setText(f"{a.case_reference}: audit started; due "
                              f"{fmt_date(a.due_date)}.")
        else:
            self.start_button.setText("&Start audit")
            self.hint.setText(f"{a.case_reference} ({a.team}), due {fmt_date(a.due_date)}.")

    def start_or_open(self) -> int | None:
        """Open the selected case's audit, starting it first when there is none yet. Returns
        the audit's id (None when nothing was selected or the start was refused)."""
        a = self.selected()
        if a is None:
            return None
        set_message(self.message, "")
        audit_id = a.audit_id
        if audit_id is None:
            from sefton_qa.gui import operations

            try:
                change = operations.call(self.session,
                                         lambda s: plans.start_audit(s, a.id))
            except SeftonError as exc:
                set_message(self.message, str(exc))
                return None
            except Exception as exc:  # noqa: BLE001 - logged and shown with details
                show_error(self, exc, title="The audit was not started")
                return None
            audit_id = change.record_id
            self.changed.emit(change)
            self.refresh()
        self.open_requested.emit(audit_id)
        return audit_id
