"""The moderation queue: flagged audits waiting for moderation, oldest first, beside the
moderation form."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import ValidationError
from sefton_qa.domain.grades import Grade, active_grades
from sefton_qa.domain.models import Role
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import (
    Row,
    RowsModel,
    audit_html,
    due_status,
    fmt_date,
    message_label,
    plural,
    problem_lines,
    scroll_area,
    set_message,
    set_widths,
    table_view,
)
from sefton_qa.gui.loop.queue import _QueuePage, detail_view
from sefton_qa.services import moderation as loop
from sefton_qa.services import organisation as org
from sefton_qa.services import register
from sefton_qa.services.audits import get_audit
from sefton_qa.services.session import Session


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

        self.detail = detail_view("moderationAudit", "Select an audit in the queue to read it "
                                                      "here and moderate it.")
        self.form = self._build_form()

        form_pane = QWidget()
        pane = QVBoxLayout(form_pane)
        pane.setContentsMargins(6, 0, 0, 0)
        pane.addWidget(scroll_area(self.form, "Moderation form"), 1)
        pane.addLayout(self.button_row)
        pane.addWidget(self.message)
        pane.addWidget(self.done_label)
        self._lay_out("Moderation queue", intro, top, queue_label, form_pane,
                      stretch=(1, 1, 2, 3))

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
