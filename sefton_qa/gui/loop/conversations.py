"""Reflective conversations due, with the form that records one and its remedial actions."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
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
from sefton_qa.domain.models import PARTICIPANT_ROLES, ActionInput, Role
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import (
    Row,
    RowsModel,
    audit_html,
    date_edit,
    due_status,
    fmt_date,
    from_qdate,
    message_label,
    plural,
    problem_lines,
    scroll_area,
    set_message,
    set_widths,
    table_view,
    to_qdate,
)
from sefton_qa.gui.loop.queue import _QueuePage, detail_view
from sefton_qa.services import moderation as loop
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session


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
        self.detail = detail_view("conversationAudit",
                                   "Select a conversation to read the audit here.")
        self.form = self._build_form()

        self._lay_out("Reflective conversations", intro, top, list_label,
                      scroll_area(self.form, "Record a reflective conversation"),
                      stretch=(2, 3, 1, 3))

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
