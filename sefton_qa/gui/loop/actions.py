"""Open remedial actions: mine, my teams', or everything overdue; mark done or close."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from sefton_qa.domain.errors import ValidationError
from sefton_qa.domain.models import Role
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import (
    Row,
    RowsModel,
    TextDialog,
    due_status,
    fmt_date,
    message_label,
    plural,
    problem_lines,
    set_message,
    set_widths,
    table_view,
)
from sefton_qa.gui.loop.queue import _QueuePage
from sefton_qa.services import moderation as loop
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session


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
        return self._ask(self.done_button, loop.complete_action, "marked done",
                         title="Mark the action done",
                         intro="Say what shows it is done (for example the plan updated, the "
                               "child seen); the evidence is kept with the action.",
                         label="&Evidence:", ok_text="&Mark done",
                         missing="Evidence is required: what shows the action is done.")

    def not_needed(self) -> TextDialog | None:
        return self._ask(self.not_needed_button, loop.action_not_needed,
                         "closed as no longer needed",
                         title="Close the action as no longer needed",
                         intro="Say why the action is no longer needed; the reason is kept in "
                               "its history.",
                         label="Rea&son:", ok_text="&Close the action",
                         missing="A reason is required.")

    def _ask(self, button: QPushButton, service, what: str, *, intro: str,
             **words: str) -> TextDialog | None:
        """Ask for the evidence or reason (``words``: the dialog's), then write
        ``service(session, action id, text)``; ``what`` the action was, said after."""
        item = self.selected_item()
        if item is None or not button.isEnabled():
            return None
        dialog = TextDialog(self, intro=f"{self.selected_label.text()} {intro}", **words)
        dialog.accepted.connect(lambda: self._apply(
            item, lambda text: self.write(lambda s: service(
                s, item.item_id, text, expected_version=item.version)),
            dialog.text(), what))
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
