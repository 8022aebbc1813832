"""The moderation loop in the main window: the moderation queue, reflective conversations and
remedial actions (this module), and the drift and calibration dashboards (loop_dashboards).

Every page is ``XPage(session, parent=None)`` with ``refresh()`` and a ``changed`` signal that
carries the service's Change after each write, so the window can refresh the other pages.
The services are the guard; the pages hide or disable what a person cannot do and say why.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import ConflictError, SeftonError, ValidationError
from sefton_qa.domain.grades import Grade, active_grades
from sefton_qa.domain.models import PARTICIPANT_ROLES, ActionInput, Role
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop_common import (
    Row,
    RowsModel,
    TextDialog,
    audit_html,
    date_edit,
    due_status,
    fmt_date,
    from_qdate,
    message_label,
    plural,
    problem_lines,
    set_message,
    set_widths,
    table_view,
    to_qdate,
)
from sefton_qa.gui.loop_dashboards import CalibrationPage, DriftPage
from sefton_qa.services import moderation as loop
from sefton_qa.services import organisation as org
from sefton_qa.services import register
from sefton_qa.services.audits import get_audit
from sefton_qa.services.session import Session

__all__ = ["ModerationPage", "ConversationsPage", "ActionsPage", "DriftPage", "CalibrationPage"]


def _scroll(widget: QWidget, name: str) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setAccessibleName(name)
    return area


def _detail_view(name: str, placeholder: str) -> QTextBrowser:
    view = QTextBrowser()
    view.setObjectName(name)
    view.setAccessibleName("The audit, read-only")
    view.setPlaceholderText(placeholder)
    view.setOpenLinks(False)
    return view


class _QueuePage(QWidget):
    """A queue of one stage above, the selected audit and a form below."""

    changed = Signal(object)
    stage = ""
    #: The tables whose changes this page shows (the window refreshes it when one is touched).
    SHOWS = ("audits", "moderations", "reflective_conversations", "remedial_actions", "staff",
             "teams", "service_areas", "settings", "grades", "audit_templates")

    def write(self, fn):
        """A service write through the store's one operations path (never on the GUI
        thread); the window hears what it touched."""
        from sefton_qa.gui import operations

        return operations.call(self.session, fn)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.items: list[loop.QueueItem] = []
        self._keeping = False

    @property
    def me(self):
        return self.session.actor

    def selected_item(self) -> loop.QueueItem | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.rows[index.row()].data

    def select_item(self, item_id: int) -> bool:
        """Select the row of one moderation, conversation or action (by its id)."""
        row = self.model.row_of(item_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.setFocus()
        return True

    def select_case(self, case_reference: str) -> bool:
        """Select the row of a case (tests and the window use it)."""
        for n, row in enumerate(self.model.rows):
            if row.data.case_reference == case_reference:
                self.table.selectRow(n)
                return True
        return False

    def _fill(self, rows: list[Row]) -> None:
        """Show new rows, keeping the selection on the same item when it is still there."""
        current = self.selected_item()
        key = current.item_id if current else None
        self._keeping = True  # what the person is typing survives a refresh
        try:
            self.model.set_rows(rows)
            row = self.model.row_of(key) if key is not None else None
            if row is not None:
                self.table.selectRow(row)
        finally:
            self._keeping = False
        if row is None:
            self.table.clearSelection()
            self.table.setCurrentIndex(self.model.index(-1, -1))
            self._show_item(None)

    def _on_current(self, current, _previous=None) -> None:
        if self._keeping:
            return
        item = self.model.rows[current.row()].data if current.isValid() else None
        self._show_item(item)

    def _show_item(self, item) -> None:  # pragma: no cover - each page has its own
        raise NotImplementedError

    def _fail(self, exc: BaseException, label: QLabel, title: str) -> None:
        """A known error goes beside the form; anything else to the error dialog."""
        if isinstance(exc, ConflictError):
            set_message(label, f"{exc} The list has been refreshed: check the item again.")
            self.refresh()
        elif isinstance(exc, SeftonError):
            set_message(label, str(exc))
        else:
            show_error(self, exc, title=title)


# == the moderation queue =======================================================================
def why_flagged(item: loop.QueueItem, *, long: bool = False) -> str:
    """"Inadequate" or "Calibration check", from the queue's description."""
    why = item.detail.partition(": ")[0]
    if long and why == "Calibration check":
        return "Calibration check: one of a random share of the other grades"
    if long and why == "Inadequate":
        return "Graded inadequate: every inadequate audit is moderated"
    return why


class ModerationPage(_QueuePage):
    """Flagged audits waiting for moderation, oldest first, beside the moderation form."""

    stage = "moderation"
    HEADERS = ("Case reference", "Team", "Why flagged", "Auditor", "Days waiting", "Due date",
               "Status")
    STATUS = 6

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        self.setObjectName("moderationPage")
        self.can_moderate = self.me.has_role(Role.MODERATOR)
        self.may_see_all = self.can_moderate or self.me.has_role(Role.ADMINISTRATOR)

        intro = paragraph(
            "Audits waiting for moderation, oldest first. Every audit graded inadequate is "
            "moderated, and a random share of the others is checked too (a calibration check), "
            "because over-optimistic grading only shows when good grades are checked. You "
            "never moderate your own audits.", "About the moderation queue")
        self.everyone = QCheckBox("Show every&one's, not only those I can moderate")
        self.everyone.setObjectName("showEveryone")
        self.everyone.setAccessibleName("Show everyone's moderations")
        self.everyone.setVisible(self.may_see_all)
        self.everyone.setChecked(self.may_see_all and not self.can_moderate)
        self.everyone.toggled.connect(lambda _on: self.refresh())
        self.count_label = QLabel()
        self.count_label.setAccessibleName("How many are waiting")
        top = QHBoxLayout()
        top.addWidget(self.everyone)
        top.addStretch(1)
        top.addWidget(self.count_label)

        self.model = RowsModel(self.HEADERS, self, status_column=self.STATUS,
                               numeric_columns=(4,))
        self.table = table_view(self.model, "Moderation queue", "moderationQueue")
        set_widths(self.table, (120, 190, 140, 150, 100, 95, 110))
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        queue_label = buddy_label("Moderation &queue:", self.table, accessible="Moderation queue")

        self.detail = _detail_view("moderationAudit", "Select an audit in the queue to read it "
                                                      "here and moderate it.")
        self.form = self._build_form()

        top_part = QWidget()
        top_layout = QVBoxLayout(top_part)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(heading("Moderation queue", 1.25))
        top_layout.addWidget(intro)
        top_layout.addLayout(top)
        top_layout.addWidget(queue_label)
        top_layout.addWidget(self.table, 1)
        form_pane = QWidget()
        pane = QVBoxLayout(form_pane)
        pane.setContentsMargins(6, 0, 0, 0)
        pane.addWidget(_scroll(self.form, "Moderation form"), 1)
        pane.addLayout(self.button_row)
        pane.addWidget(self.message)
        pane.addWidget(self.done_label)
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(self.detail)
        below.addWidget(form_pane)
        below.setStretchFactor(0, 1)
        below.setStretchFactor(1, 1)
        below.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top_part)
        self.splitter.addWidget(below)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.table)
        self.refresh()

    def _build_form(self) -> QWidget:
        form = QWidget()
        form.setObjectName("moderationForm")
        layout = QVBoxLayout(form)
        layout.setContentsMargins(0, 0, 0, 0)
        self.form_title = heading("Moderate the selected audit")
        self.blocked_label = message_label("Why you cannot moderate this audit")
        self.original_label = QLabel()
        self.original_label.setAccessibleName("The auditor's grade")
        self.original_label.setWordWrap(True)

        grades = active_grades(bool(org.settings(self.session).get("outstanding_enabled")))
        self.grade_combo = QComboBox()
        self.grade_combo.setObjectName("moderatedGrade")
        for grade in grades:
            self.grade_combo.addItem(grade.label, grade.value)
        self.grade_combo.currentIndexChanged.connect(self._update_button)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setObjectName("moderationReason")
        self.reason_edit.setTabChangesFocus(True)
        self.reason_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.reason_edit.textChanged.connect(self._update_button)
        self.reason_hint = QLabel()
        self.reason_hint.setWordWrap(True)
        self.reason_hint.setAccessibleName("When a reason is needed")
        self.reason_edit.setAccessibleDescription(
            "Required when you change the grade; it goes into the audit's history.")

        fields = QFormLayout()
        fields.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        fields.addRow(buddy_label("Moderated &grade:", self.grade_combo), self.grade_combo)
        reason_box = QVBoxLayout()
        reason_box.setSpacing(2)
        reason_box.addWidget(self.reason_edit)
        reason_box.addWidget(self.reason_hint)
        fields.addRow(buddy_label("Rea&son:", self.reason_edit,
                                  accessible="Reason for changing the grade"), reason_box)

        self.sections_box = QGroupBox("Comments on sections (optional)")
        self.sections_box.setAccessibleName("Comments on sections (optional)")
        self.sections_layout = QFormLayout(self.sections_box)
        self.sections_layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.sections_layout.setFieldGrowthPolicy(
            QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.section_edits: dict[str, QLineEdit] = {}

        self.moderate_button = QPushButton("&Moderate")
        self.moderate_button.setObjectName("moderateButton")
        self.moderate_button.setAccessibleName("Moderate the selected audit")
        self.moderate_button.clicked.connect(self.moderate)
        self.button_hint = QLabel()
        self.button_hint.setObjectName("moderateHint")
        self.button_hint.setWordWrap(True)
        self.button_hint.setAccessibleName("What Moderate will do, or why it is not available")
        self.message = message_label("Moderation message")
        self.message.setObjectName("moderationMessage")
        self.done_label = message_label("Last moderation", problem=False)
        self.done_label.setObjectName("moderationDone")
        self.button_row = QHBoxLayout()
        self.button_row.setContentsMargins(0, 4, 0, 0)
        self.button_row.addWidget(self.moderate_button)
        self.button_row.addWidget(self.button_hint, 1)

        layout.addWidget(self.form_title)
        layout.addWidget(self.blocked_label)
        layout.addWidget(self.original_label)
        layout.addLayout(fields)
        layout.addWidget(self.sections_box)
        layout.addStretch(1)
        self._current_audit = None
        return form

    # -- data ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        mine = not (self.may_see_all and self.everyone.isChecked())
        today = self.session.today()
        self.items = [i for i in loop.queue(self.session, mine=mine)
                      if i.stage == "moderation"]
        rows = []
        for item in self.items:
            why = why_flagged(item)
            rest = item.detail.partition(": ")[2]
            auditor = rest.rpartition(" by ")[2] if " by " in rest else ""
            status, overdue = due_status(item.due_date, today)
            rows.append(Row((item.case_reference, item.team, why, auditor,
                             item.waiting_days, fmt_date(item.due_date), status),
                            key=item.item_id, overdue=overdue, tooltip=item.detail, data=item))
        self._fill(rows)
        overdue = sum(r.overdue for r in rows)
        whose = "in the queue" if not mine else "waiting for you"
        if not self.can_moderate and not self.may_see_all:
            self.count_label.setText("Only moderators moderate audits.")
        else:
            self.count_label.setText(f"{plural(len(rows), 'audit')} {whose}"
                                     + (f", {overdue:,} overdue" if overdue else ""))
        self._update_button()

    def _show_item(self, item: loop.QueueItem | None) -> None:
        set_message(self.message, "")
        for edit in self.section_edits.values():
            edit.deleteLater()
        while self.sections_layout.rowCount():
            self.sections_layout.removeRow(0)
        self.section_edits = {}
        self.reason_edit.clear()
        self._current_audit = None
        if item is None:
            self.detail.clear()
            self.form_title.setText("Moderate the selected audit")
            self.original_label.setText("Select an audit in the queue.")
            self.sections_box.hide()
            self._update_button()
            return
        audit = get_audit(self.session, item.audit_id)
        self._current_audit = audit
        self.detail.setHtml(audit_html(self.session, item.audit_id, extra=[
            ("Why flagged", why_flagged(item, long=True)),
            ("Moderation due", fmt_date(item.due_date))]))
        self.form_title.setText(f"Moderate the audit of {item.case_reference}")
        original = audit.overall_grade
        self.original_label.setText(
            f"The auditor graded it {original.label.lower() if original else 'nothing'}. "
            "Confirm the grade, or choose another and say why.")
        index = self.grade_combo.findData(original.value if original else None)
        self.grade_combo.setCurrentIndex(max(0, index))
        titles = register.section_titles(self.session, audit.template_id)
        for number, (key, title) in enumerate(titles.items(), start=1):
            edit = QLineEdit()
            edit.setObjectName(f"sectionComment:{key}")
            edit.setAccessibleName(f"Comment on section {number}, {title}")
            label = QLabel(f"{title}:")
            label.setBuddy(edit)
            self.sections_layout.addRow(label, edit)
            self.section_edits[key] = edit
        previous = self.reason_edit
        for edit in self.section_edits.values():  # Tab follows the form, then Moderate
            self.setTabOrder(previous, edit)
            previous = edit
        self.setTabOrder(previous, self.moderate_button)
        self.sections_box.setVisible(bool(titles))
        self._update_button()

    # -- the form --------------------------------------------------------------------------------
    def chosen_grade(self) -> Grade | None:
        value = self.grade_combo.currentData()
        return Grade(value) if value else None

    def blocked_reason(self) -> str:
        """Why the selected audit cannot be moderated by me, or ''."""
        item = self.selected_item()
        if item is None:
            return ""
        if not self.can_moderate:
            return ("Only a moderator can moderate audits. You can see the queue, but "
                    f"{self.me.display_name} is not a moderator.")
        if item.auditor_id == self.me.id:
            return ("You audited this case, so you cannot moderate it: a moderator is never "
                    "the audit's own auditor. Another moderator will check this grade.")
        return ""

    def _update_button(self, *_args) -> None:
        item = self.selected_item()
        blocked = self.blocked_reason()
        set_message(self.blocked_label, blocked)
        editable = item is not None and not blocked
        for widget in (self.grade_combo, self.reason_edit, *self.section_edits.values()):
            widget.setEnabled(editable)
        original = self._current_audit.overall_grade if self._current_audit else None
        grade = self.chosen_grade()
        changed = editable and grade is not None and grade is not original
        reason = self.reason_edit.toPlainText().strip()
        if changed:
            self.reason_hint.setText(
                f"Required: you are changing the grade from {original.label.lower()} to "
                f"{grade.label.lower()}. The reason goes into the audit's history."
                if original else "Required: say why you give this grade.")
        else:
            self.reason_hint.setText("Only needed if you change the grade.")
        if item is None:
            why = "Select an audit in the queue to moderate it."
        elif blocked:
            why = "Not available: see the note above."
        elif changed and not reason:
            why = "Not available yet: give a reason for changing the grade."
        elif changed:
            why = f"Changes the grade to {grade.label.lower()}."
        else:
            why = (f"Confirms the grade as {grade.label.lower()}." if grade else "")
        self.moderate_button.setEnabled(editable and grade is not None
                                        and (not changed or bool(reason)))
        self.button_hint.setText(why)

    def moderate(self) -> None:
        item = self.selected_item()
        grade = self.chosen_grade()
        if item is None or grade is None or not self.moderate_button.isEnabled():
            return
        comments = {k: e.text() for k, e in self.section_edits.items() if e.text().strip()}
        reason = self.reason_edit.toPlainText().strip()
        original = self._current_audit.overall_grade if self._current_audit else None
        try:
            change = self.write(lambda s: loop.moderate(
                s, item.item_id, grade, reason=reason, section_comments=comments,
                expected_version=item.version))
        except ValidationError as exc:
            set_message(self.message, " ".join(problem_lines(exc, {"reason": "The reason",
                                                                   "grade": "The grade"})))
            return
        except BaseException as exc:  # noqa: BLE001 - shown to the person, never lost
            self._fail(exc, self.message, "Cannot moderate")
            return
        row = self.table.currentIndex().row()
        if grade is original:
            what = f"grade confirmed as {grade.label.lower()}"
        else:
            what = (f"grade changed from {original.label.lower() if original else 'none'} to "
                    f"{grade.label.lower()}")
        after = (" A reflective conversation is now due with the team's service manager."
                 if grade is Grade.INADEQUATE else "")
        self.refresh()
        if self.model.rows:
            self.table.selectRow(min(row, len(self.model.rows) - 1))
        set_message(self.done_label, f"Moderated {item.case_reference}: {what}.{after}")
        self.changed.emit(change)


# == reflective conversations ===================================================================
class _ActionRow:
    """One remedial action in the conversation form: what, who, by when, re-audit by."""

    def __init__(self, page: "ConversationsPage", number: int):
        self.description = QLineEdit()
        self.description.setPlaceholderText("What will be done")
        self.owner = QComboBox()
        self.owner.addItem("Choose an owner…", None)
        for person in page.staff:
            self.owner.addItem(person.display_name, person.id)
        self.owner.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.owner.setMinimumContentsLength(14)
        today = page.session.today()
        self.due = date_edit("", today + dt.timedelta(days=28))
        self.reaudit = QCheckBox("Re-audit by")
        self.reaudit_date = date_edit("", today + dt.timedelta(days=90))
        self.reaudit_date.setEnabled(False)
        self.reaudit.toggled.connect(self.reaudit_date.setEnabled)
        self.remove = QPushButton("Remove")
        self.widgets = (self.description, self.owner, self.due, self.reaudit,
                        self.reaudit_date, self.remove)
        self.renumber(number)

    def renumber(self, number: int) -> None:
        self.number = number
        self.description.setAccessibleName(f"Action {number}: what will be done")
        self.owner.setAccessibleName(f"Action {number}: owner")
        self.due.setAccessibleName(f"Action {number}: due date")
        self.reaudit.setAccessibleName(f"Action {number}: ask for a re-audit")
        self.reaudit_date.setAccessibleName(f"Action {number}: re-audit by")
        self.remove.setAccessibleName(f"Remove action {number}")

    def value(self) -> ActionInput:
        return ActionInput(description=self.description.text(),
                           owner_id=self.owner.currentData(),
                           due_date=from_qdate(self.due.date()),
                           reaudit_by=from_qdate(self.reaudit_date.date())
                           if self.reaudit.isChecked() else None)


class ConversationsPage(_QueuePage):
    """Reflective conversations due, with the form that records one and its actions."""

    stage = "conversation"
    HEADERS = ("Case reference", "Team", "Service manager", "Due date", "Status")
    STATUS = 4
    FIELD_NAMES = {"held_on": "The date held", "participants": "Who took part",
                   "learning": "The learning", "status": "This conversation"}

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        self.setObjectName("conversationsPage")
        self.is_manager = self.me.has_role(Role.SERVICE_MANAGER)
        self.can_record = self.is_manager or self.me.has_role(Role.ADMINISTRATOR)
        self.staff = org.staff(session, active_only=True)
        self.names = {s.id: s.display_name for s in org.staff(session)}

        intro = paragraph(
            "When a moderator keeps an inadequate grade, the service manager of the audit's "
            "team holds a reflective conversation with the worker and team manager: what went "
            "wrong, what is learnt, and the actions that must now happen for the child.",
            "About reflective conversations")
        self.everyone = QCheckBox("Show every &team's, not only mine")
        self.everyone.setObjectName("showEveryTeam")
        self.everyone.setAccessibleName("Show every team's conversations")
        self.everyone.setVisible(self.is_manager)
        self.everyone.toggled.connect(lambda _on: self.refresh())
        self.count_label = QLabel()
        self.count_label.setAccessibleName("How many conversations are due")
        top = QHBoxLayout()
        top.addWidget(self.everyone)
        top.addStretch(1)
        top.addWidget(self.count_label)

        self.model = RowsModel(self.HEADERS, self, status_column=self.STATUS)
        self.table = table_view(self.model, "Reflective conversations due", "conversationList")
        set_widths(self.table, (120, 210, 170, 95, 110))
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        list_label = buddy_label("Conversations &due:", self.table,
                                 accessible="Reflective conversations due")
        self.detail = _detail_view("conversationAudit",
                                   "Select a conversation to read the audit here.")
        self.form = self._build_form()

        top_part = QWidget()
        top_layout = QVBoxLayout(top_part)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(heading("Reflective conversations", 1.25))
        top_layout.addWidget(intro)
        top_layout.addLayout(top)
        top_layout.addWidget(list_label)
        top_layout.addWidget(self.table, 1)
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(self.detail)
        below.addWidget(_scroll(self.form, "Record a reflective conversation"))
        below.setStretchFactor(0, 2)
        below.setStretchFactor(1, 3)
        below.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top_part)
        self.splitter.addWidget(below)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.table)
        self.refresh()

    def _build_form(self) -> QWidget:
        form = QWidget()
        form.setObjectName("conversationForm")
        layout = QVBoxLayout(form)
        layout.setContentsMargins(6, 0, 0, 0)
        self.form_title = heading("Record the conversation")
        self.blocked_label = message_label("Why you cannot record this conversation")
        today = self.session.today()
        self.held_on = date_edit("Date held", today, maximum=today)
        self.held_on.setObjectName("heldOn")
        self.held_message = message_label("Problem with the date held")
        self.participant_boxes: dict[str, QCheckBox] = {}
        roles_row = QHBoxLayout()
        for role in PARTICIPANT_ROLES:
            box = QCheckBox(role[:1].upper() + role[1:])
            box.setObjectName(f"participant:{role}")
            box.setAccessibleName(f"Took part: {role}")
            self.participant_boxes[role] = box
            roles_row.addWidget(box)
        roles_row.addStretch(1)
        self.participants_message = message_label("Problem with who took part")
        self.learning = QPlainTextEdit()
        self.learning.setObjectName("learning")
        self.learning.setTabChangesFocus(True)
        self.learning.setPlaceholderText("What went wrong, and what is learnt, in plain words")
        self.learning.setMinimumHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.learning.setMaximumHeight(self.fontMetrics().lineSpacing() * 8 + 12)
        self.learning_message = message_label("Problem with the learning")

        fields = QFormLayout()
        fields.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        fields.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        fields.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        def stacked(*widgets) -> QVBoxLayout:
            box = QVBoxLayout()
            box.setSpacing(2)
            for w in widgets:
                if isinstance(w, QHBoxLayout):
                    box.addLayout(w)
                else:
                    box.addWidget(w)
            return box

        held_row = QHBoxLayout()
        held_row.addWidget(self.held_on)
        held_row.addStretch(1)
        fields.addRow(buddy_label("Da&te held:", self.held_on), stacked(held_row,
                                                                        self.held_message))
        first_box = self.participant_boxes[PARTICIPANT_ROLES[0]]
        who = QLabel("Who took &part:")
        who.setBuddy(first_box)
        fields.addRow(who, stacked(roles_row, self.participants_message))
        fields.addRow(buddy_label("What was &learnt:", self.learning,
                                  accessible="What was learnt"),
                      stacked(self.learning, self.learning_message))

        self.actions_box = QGroupBox("Remedial actions agreed")
        self.actions_box.setAccessibleName("Remedial actions agreed")
        box_layout = QVBoxLayout(self.actions_box)
        self.actions_grid = QGridLayout()
        self.actions_grid.setColumnStretch(0, 3)
        self.actions_grid.setColumnStretch(1, 2)
        for col, text in enumerate(("What will be done", "Owner", "Due by",
                                    "Re-audit (optional)")):
            label = QLabel(f"<b>{text}</b>")
            self.actions_grid.addWidget(label, 0, col if col < 3 else 3, 1, 1 if col < 3 else 2)
        self.no_actions = paragraph("No actions yet. Add each action agreed, with its owner "
                                    "and due date.", "No actions yet")
        self.action_rows: list[_ActionRow] = []
        self.add_action_button = QPushButton("&Add an action")
        self.add_action_button.setObjectName("addAction")
        self.add_action_button.setAccessibleName("Add a remedial action")
        self.add_action_button.clicked.connect(lambda: self.add_action_row(focus=True))
        self.actions_message = message_label("Problems with the actions")
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_action_button)
        add_row.addStretch(1)
        box_layout.addLayout(self.actions_grid)
        box_layout.addWidget(self.no_actions)
        box_layout.addLayout(add_row)
        box_layout.addWidget(self.actions_message)

        self.record_button = QPushButton("Re&cord conversation")
        self.record_button.setObjectName("recordConversation")
        self.record_button.setAccessibleName("Record the reflective conversation")
        self.record_button.clicked.connect(self.record)
        self.button_hint = QLabel()
        self.button_hint.setWordWrap(True)
        self.button_hint.setAccessibleName("Why Record conversation is not available")
        self.message = message_label("Conversation message")
        self.message.setObjectName("conversationMessage")
        self.done_label = message_label("Last conversation recorded", problem=False)
        self.done_label.setObjectName("conversationDone")
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.button_hint, 1)

        layout.addWidget(self.form_title)
        layout.addWidget(self.blocked_label)
        layout.addLayout(fields)
        layout.addWidget(self.actions_box)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.done_label)
        layout.addStretch(1)
        self._update_actions()
        return form

    # -- the actions table -----------------------------------------------------------------------
    def add_action_row(self, *, focus: bool = False) -> _ActionRow:
        row = _ActionRow(self, len(self.action_rows) + 1)
        row.remove.clicked.connect(lambda _c=False, r=row: self.remove_action_row(r))
        self.action_rows.append(row)
        self._lay_out_actions()
        if focus:  # the new row is shown first: a hidden field cannot take the keyboard
            for widget in row.widgets:
                widget.setVisible(True)
            row.description.setFocus(Qt.FocusReason.OtherFocusReason)
        return row

    def remove_action_row(self, row: _ActionRow) -> None:
        index = self.action_rows.index(row)
        self.action_rows.remove(row)
        for widget in row.widgets:
            self.actions_grid.removeWidget(widget)
            widget.deleteLater()
        for number, other in enumerate(self.action_rows, start=1):
            other.renumber(number)
        self._lay_out_actions()
        if self.action_rows:
            self.action_rows[min(index, len(self.action_rows) - 1)].description.setFocus()
        else:
            self.add_action_button.setFocus()

    def _lay_out_actions(self) -> None:
        previous = self.learning
        for n, row in enumerate(self.action_rows, start=1):
            for col, widget in enumerate(row.widgets):
                self.actions_grid.addWidget(widget, n, col)
                self.setTabOrder(previous, widget)
                previous = widget
        self.setTabOrder(previous, self.add_action_button)
        self.setTabOrder(self.add_action_button, self.record_button)
        self._update_actions()

    def _update_actions(self) -> None:
        self.no_actions.setVisible(not self.action_rows)

    def clear_form(self) -> None:
        today = to_qdate(self.session.today())
        self.held_on.setMaximumDate(today)
        self.held_on.setDate(today)
        for box in self.participant_boxes.values():
            box.setChecked(False)
        self.learning.clear()
        for row in list(self.action_rows):
            self.action_rows.remove(row)
            for widget in row.widgets:
                self.actions_grid.removeWidget(widget)
                widget.deleteLater()
        self._update_actions()
        for label in (self.held_message, self.participants_message, self.learning_message,
                      self.actions_message, self.message):
            set_message(label, "")

    # -- data ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        mine = self.is_manager and not self.everyone.isChecked()
        today = self.session.today()
        self.items = [i for i in loop.queue(self.session, mine=mine)
                      if i.stage == "conversation"]
        rows = []
        for item in self.items:
            status, overdue = due_status(item.due_date, today)
            manager = self.names.get(item.service_manager_id, "No service manager")
            rows.append(Row((item.case_reference, item.team, manager, fmt_date(item.due_date),
                             status), key=item.item_id, overdue=overdue, data=item,
                            tooltip=f"Overdue by {plural(item.waiting_days, 'day')}"
                            if overdue else ""))
        self._fill(rows)
        overdue = sum(r.overdue for r in rows)
        whose = "for your teams" if mine else "for every team"
        self.count_label.setText(f"{plural(len(rows), 'conversation')} due {whose}"
                                 + (f", {overdue:,} overdue" if overdue else ""))
        self._update_button()

    def _show_item(self, item: loop.QueueItem | None) -> None:
        self.clear_form()
        if item is None:
            self.detail.clear()
            self.form_title.setText("Record the conversation")
        else:
            self.detail.setHtml(audit_html(self.session, item.audit_id, extra=[
                ("Conversation due", fmt_date(item.due_date)),
                ("Service manager", self.names.get(item.service_manager_id, ""))]))
            self.form_title.setText(f"Record the conversation about {item.case_reference}")
        self._update_button()

    def blocked_reason(self) -> str:
        if self.selected_item() is None:
            return ""
        if not self.can_record:
            return ("Only a service manager or an administrator records reflective "
                    f"conversations; {self.me.display_name} is neither.")
        return ""

    def _update_button(self) -> None:
        item = self.selected_item()
        blocked = self.blocked_reason()
        set_message(self.blocked_label, blocked)
        editable = item is not None and not blocked
        for widget in (self.held_on, self.learning, self.add_action_button,
                       *self.participant_boxes.values(),
                       *(w for r in self.action_rows for w in r.widgets)):
            widget.setEnabled(editable)
        for row in self.action_rows:
            row.reaudit_date.setEnabled(editable and row.reaudit.isChecked())
        self.record_button.setEnabled(editable)
        self.button_hint.setText("Select a conversation in the list to record it." if item is None
                                 else "Not available: see the note above." if blocked else "")

    def record(self) -> None:
        item = self.selected_item()
        if item is None or not self.record_button.isEnabled():
            return
        participants = [r for r, box in self.participant_boxes.items() if box.isChecked()]
        actions = [r.value() for r in self.action_rows]
        for label in (self.held_message, self.participants_message, self.learning_message,
                      self.actions_message, self.message, self.done_label):
            set_message(label, "")
        try:
            held_on, learning = from_qdate(self.held_on.date()), self.learning.toPlainText()
            change = self.write(lambda s: loop.hold_conversation(
                s, item.item_id, held_on=held_on, participants=participants,
                learning=learning, actions=actions, expected_version=item.version))
        except ValidationError as exc:
            self._show_problems(exc)
            return
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc, self.message, "Cannot record the conversation")
            return
        n = len(actions)
        self.refresh()
        set_message(self.done_label, f"Recorded the reflective conversation about "
                                     f"{item.case_reference}, with {plural(n, 'action')} "
                                     "agreed.")
        self.changed.emit(change)

    def _show_problems(self, exc: ValidationError) -> None:
        by_label = {"held_on": self.held_message, "participants": self.participants_message,
                    "learning": self.learning_message}
        grouped: dict[QLabel, list[str]] = {}
        for problem in exc.problems:
            one = ValidationError([problem])
            text = problem_lines(one, self.FIELD_NAMES,
                                 beside=problem.field in by_label)[0]
            if problem.field in by_label:
                target = by_label[problem.field]
            elif problem.field.startswith("action "):
                target = self.actions_message
            else:
                target = self.message
            grouped.setdefault(target, []).append(text)
        for label, lines in grouped.items():
            set_message(label, "\n".join(lines))
        set_message(self.message, "\n".join(grouped.get(self.message, [])) or
                    "Not recorded: fix the problems shown.")


# == remedial actions ===========================================================================
VIEWS = (("mine", "My actions"), ("teams", "My teams' actions"),
         ("overdue", "Everything overdue"), ("all", "All open actions"))


class ActionsPage(_QueuePage):
    """Open remedial actions: mine, my teams', or everything overdue; mark done or close."""

    stage = "action"
    HEADERS = ("Case reference", "Team", "Action", "Owner", "Due date", "Status")
    STATUS = 5

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        self.setObjectName("actionsPage")
        self.is_facilitator = (self.me.has_role(Role.SERVICE_MANAGER)
                               or self.me.has_role(Role.ADMINISTRATOR))
        self.names = {s.id: s.display_name for s in org.staff(session)}
        self.view_combo = QComboBox()
        self.view_combo.setObjectName("actionsView")
        for key, text in VIEWS:
            self.view_combo.addItem(text, key)
        default = ("teams" if self.me.has_role(Role.SERVICE_MANAGER) else
                   "all" if self.me.has_role(Role.ADMINISTRATOR) else "mine")
        self.view_combo.setCurrentIndex(self.view_combo.findData(default))
        self.view_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.count_label = QLabel()
        self.count_label.setAccessibleName("How many actions are shown")
        top = QHBoxLayout()
        top.addWidget(buddy_label("&Show:", self.view_combo, accessible="Which actions to show"))
        top.addWidget(self.view_combo)
        top.addStretch(1)
        top.addWidget(self.count_label)

        self.model = RowsModel(self.HEADERS, self, status_column=self.STATUS)
        self.table = table_view(self.model, "Remedial actions", "actionList")
        set_widths(self.table, (120, 215, 370, 150, 95, 110))
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        list_label = buddy_label("Open &actions:", self.table, accessible="Remedial actions")

        self.done_button = QPushButton("Mark &done…")
        self.done_button.setObjectName("markDone")
        self.done_button.setAccessibleName("Mark the selected action done, with evidence")
        self.done_button.clicked.connect(self.mark_done)
        self.not_needed_button = QPushButton("&No longer needed…")
        self.not_needed_button.setObjectName("notNeeded")
        self.not_needed_button.setAccessibleName("Close the selected action as no longer needed")
        self.not_needed_button.clicked.connect(self.not_needed)
        self.button_hint = QLabel()
        self.button_hint.setWordWrap(True)
        self.button_hint.setAccessibleName("Why the buttons are not available")
        self.selected_label = QLabel()
        self.selected_label.setWordWrap(True)
        self.selected_label.setTextFormat(Qt.TextFormat.PlainText)
        self.selected_label.setAccessibleName("The selected action")
        self.message = message_label("Action message")
        self.done_label = message_label("Last change", problem=False)
        self.done_label.setObjectName("actionDone")
        buttons = QHBoxLayout()
        buttons.addWidget(self.done_button)
        buttons.addWidget(self.not_needed_button)
        buttons.addWidget(self.button_hint, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Remedial actions", 1.25))
        layout.addWidget(paragraph(
            "The actions agreed at reflective conversations, followed up until they change the "
            "child's situation. Mark an action done with the evidence that shows it; an action "
            "that is no longer needed is closed with a reason.", "About remedial actions"))
        layout.addLayout(top)
        layout.addWidget(list_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.selected_label)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.done_label)
        self.dialog: TextDialog | None = None
        self.setFocusProxy(self.table)
        self.refresh()

    def set_view(self, key: str) -> None:
        self.view_combo.setCurrentIndex(self.view_combo.findData(key))

    def refresh(self) -> None:
        view = self.view_combo.currentData()
        today = self.session.today()
        me = self.me.id
        items = [i for i in loop.queue(self.session) if i.stage == "action"]
        if view == "mine":
            items = [i for i in items if i.owner_id == me]
        elif view == "teams":
            items = [i for i in items if i.service_manager_id == me]
        elif view == "overdue":
            items = [i for i in items if i.overdue]
        self.items = items
        rows = []
        for item in items:
            owner = self.names.get(item.owner_id) if item.owner_id else None
            description = item.detail.removesuffix(f" (owner: {owner or 'nobody'})")
            status, overdue = due_status(item.due_date, today)
            rows.append(Row((item.case_reference, item.team, description, owner or "Nobody",
                             fmt_date(item.due_date), status), key=item.item_id,
                            overdue=overdue, tooltip=description, data=item))
        self._fill(rows)
        overdue = sum(r.overdue for r in rows)
        self.count_label.setText(f"{plural(len(rows), 'open action')}"
                                 + (f", {overdue:,} overdue" if overdue else ""))
        self._update_buttons()

    def _show_item(self, item) -> None:
        set_message(self.message, "")
        if item is None:
            self.selected_label.setText("")
        else:
            row = self.model.rows[self.model.row_of(item.item_id)]
            self.selected_label.setText(f"Selected: {item.case_reference}, "
                                        f"“{row.values[2]}” (owner {row.values[3]}, due "
                                        f"{row.values[4]}).")
        self._update_buttons()

    def _update_buttons(self) -> None:
        item = self.selected_item()
        own = item is not None and item.owner_id == self.me.id
        self.done_button.setEnabled(item is not None and (own or self.is_facilitator))
        self.not_needed_button.setEnabled(item is not None and self.is_facilitator)
        if item is None:
            why = "Select an action to mark it done or close it."
        elif not (own or self.is_facilitator):
            why = ("Only the action's owner, a service manager or an administrator can mark it "
                   "done.")
        elif not self.is_facilitator:
            why = "Only a service manager or an administrator can close an action as no longer needed."
        else:
            why = ""
        self.button_hint.setText(why)

    def mark_done(self) -> TextDialog | None:
        item = self.selected_item()
        if item is None or not self.done_button.isEnabled():
            return None
        dialog = TextDialog(self, title="Mark the action done",
                            intro=f"{self.selected_label.text()} Say "
                                  "what shows it is done (for example the plan updated, the "
                                  "child seen); the evidence is kept with the action.",
                            label="&Evidence:", ok_text="&Mark done",
                            missing="Evidence is required: what shows the action is done.")
        dialog.accepted.connect(lambda: self._apply(
            item, lambda text: self.write(lambda s: loop.complete_action(
                s, item.item_id, text, expected_version=item.version)),
            dialog.text(), "marked done"))
        return self._open(dialog)

    def not_needed(self) -> TextDialog | None:
        item = self.selected_item()
        if item is None or not self.not_needed_button.isEnabled():
            return None
        dialog = TextDialog(self, title="Close the action as no longer needed",
                            intro=f"{self.selected_label.text()} Say why the action is no "
                                  "longer needed; the reason is kept in its history.",
                            label="Rea&son:", ok_text="&Close the action",
                            missing="A reason is required.")
        dialog.accepted.connect(lambda: self._apply(
            item, lambda text: self.write(lambda s: loop.action_not_needed(
                s, item.item_id, text, expected_version=item.version)),
            dialog.text(), "closed as no longer needed"))
        return self._open(dialog)

    def _open(self, dialog: TextDialog) -> TextDialog:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: (dialog.deleteLater(),
                                            setattr(self, "dialog", None)))
        dialog.open()
        return dialog

    def _apply(self, item, call, text: str, what: str) -> None:
        set_message(self.message, "")
        try:
            change = call(text)
        except ValidationError as exc:
            set_message(self.message, " ".join(problem_lines(
                exc, {"evidence": "Evidence", "reason": "A reason", "status": "This action"})))
            return
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc, self.message, "Cannot change the action")
            return
        self.refresh()
        set_message(self.done_label, f"The action for {item.case_reference} was {what}.")
        self.changed.emit(change)

