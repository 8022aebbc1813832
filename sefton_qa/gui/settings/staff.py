"""Settings → Staff: the people who use the app, their Windows accounts, roles and teams."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sefton_qa.domain.models import Role
from sefton_qa.gui.labels import buddy_label, paragraph
from sefton_qa.gui.settings.common import _Tab, named
from sefton_qa.gui.welcome.wizard import ROLE_MNEMONICS, ROLE_ORDER
from sefton_qa.services import organisation as org


STAFF_COLUMNS = ["Name", "Windows account", *(r.label for r in ROLE_ORDER), "Team", "Status"]


class StaffTab(_Tab):
    def __init__(self, dialog):
        super().__init__(dialog)
        self.editing_id: int | None = None
        self.table = named(QTableWidget(0, len(STAFF_COLUMNS)), "Staff", "staffTable")
        self.table.setHorizontalHeaderLabels(STAFF_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.currentCellChanged.connect(lambda row, *_: self._selected(row))

        self.name = named(QLineEdit(), "Full name", "staffName")
        self.account = named(QLineEdit(), "Windows account", "staffAccount")
        self.account.setPlaceholderText("blank if they will not sign in")
        self.roles: dict[Role, QCheckBox] = {}
        roles_row = QHBoxLayout()
        for role in ROLE_ORDER:
            box = named(QCheckBox(ROLE_MNEMONICS[role]), f"Role: {role.label}")
            self.roles[role] = box
            roles_row.addWidget(box)
        roles_row.addStretch(1)
        self.team = named(QComboBox(), "Team", "staffTeam")
        self.mode = paragraph("")
        self.mode.setAccessibleName("What the form is doing")
        self.new_button = named(QPushButton("&New person"), "Clear the form to add a new person")
        self.save_button = named(QPushButton("&Save changes"), "Save", "staffSave")
        self.active_button = named(QPushButton("&Deactivate"),
                                   "Deactivate or reactivate the selected person")
        self.new_button.clicked.connect(self.new_person)
        self.save_button.clicked.connect(self.save)
        self.active_button.clicked.connect(self.toggle_active)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.mode)
        form.addRow(buddy_label("Full na&me:", self.name), self.name)
        form.addRow(buddy_label("&Windows account:", self.account), self.account)
        form.addRow(QLabel("Roles:"), roles_row)
        form.addRow(buddy_label("&Team:", self.team), self.team)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.active_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        self.edit(self.name, self.account, *self.roles.values(), self.team, self.new_button,
                  self.save_button, self.active_button)
        self.refresh()
        self.new_person()

    def refresh(self) -> None:
        keep = self.editing_id
        self.people = org.staff(self.session)
        teams = {t.id: t for t in org.teams(self.session)}
        areas = {a.id: a.name for a in org.service_areas(self.session)}
        self.table.setRowCount(len(self.people))
        for row, person in enumerate(self.people):
            team = teams.get(person.team_id)
            cells = [person.display_name, person.os_username or "(none)"]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
            for offset, role in enumerate(ROLE_ORDER):
                held = person.has_role(role)
                item = QTableWidgetItem("")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setCheckState(Qt.CheckState.Checked if held else Qt.CheckState.Unchecked)
                item.setData(Qt.ItemDataRole.AccessibleTextRole,
                             f"{role.label}: {'yes' if held else 'no'}")
                item.setToolTip(f"{role.label}: {'yes' if held else 'no'}")
                self.table.setItem(row, 2 + offset, item)
            self.table.setItem(row, 6, QTableWidgetItem(team.name if team else ""))
            status = QTableWidgetItem("Active" if person.active else "Inactive")
            self.table.setItem(row, 7, status)
            if not person.active:
                for col in range(len(STAFF_COLUMNS)):
                    cell = self.table.item(row, col)
                    font = QFont(cell.font())
                    font.setItalic(True)
                    cell.setFont(font)
        current = self.team.currentData()
        self.team.clear()
        self.team.addItem("(no team)", None)
        for team in sorted(teams.values(), key=lambda t: (areas.get(t.service_area_id, ""),
                                                          t.name)):
            if team.active:
                self.team.addItem(f"{areas.get(team.service_area_id, '?')} — {team.name}",
                                  team.id)
        self.team.setCurrentIndex(max(self.team.findData(current), 0))
        if keep is not None:
            self.select(keep)

    def select(self, staff_id: int) -> None:
        for row, person in enumerate(self.people):
            if person.id == staff_id:
                self.table.setCurrentCell(row, 0)
                self._selected(row)
                return

    def _selected(self, row: int) -> None:
        if not 0 <= row < len(self.people):
            return
        person = self.people[row]
        self.editing_id = person.id
        self.name.setText(person.display_name)
        self.account.setText(person.os_username or "")
        for role, box in self.roles.items():
            box.setChecked(person.has_role(role))
        index = self.team.findData(person.team_id)
        if index < 0 and person.team_id is not None:  # a retired team: still shown as theirs
            team = next((t for t in org.teams(self.session) if t.id == person.team_id), None)
            self.team.addItem(f"{team.name if team else '?'} (retired)", person.team_id)
            index = self.team.count() - 1
        self.team.setCurrentIndex(max(index, 0))
        self.mode.setText(f"Editing {person.display_name}"
                          + ("" if person.active else " (inactive)") + ".")
        self.save_button.setText("&Save changes")
        self.active_button.setText("&Deactivate" if person.active else "R&eactivate")
        self.active_button.setEnabled(self.dialog.is_admin)

    def new_person(self) -> None:
        self.editing_id = None
        self.table.clearSelection()
        self.table.setCurrentCell(-1, -1)
        self.name.clear()
        self.account.clear()
        for role, box in self.roles.items():
            box.setChecked(self.dialog.is_admin and role is Role.QA_OFFICER)
        self.team.setCurrentIndex(0)
        self.mode.setText("Adding a new person." if self.dialog.is_admin else
                          "Select a person to see their details.")
        self.save_button.setText("&Add person")
        self.active_button.setEnabled(False)
        if self.dialog.is_admin:
            self.name.setFocus()

    def save(self) -> None:
        name, account = self.name.text(), self.account.text().strip() or None
        roles = [r for r, box in self.roles.items() if box.isChecked()]
        team_id = self.team.currentData()
        if self.editing_id is None:
            holder = {}

            def add(s):
                holder["id"] = org.add_staff(s, name, os_username=account,
                                             roles=roles, team_id=team_id).record_id
            if self.apply(add, f"{name} added."):
                self.select(holder["id"])
                self._server_access(account, grant=True)
            return
        staff_id = self.editing_id
        self.apply(lambda s: org.update_staff(s, staff_id, display_name=name,
                                            os_username=account, roles=roles, team_id=team_id),
                   f"{name}'s record.")

    def toggle_active(self) -> None:
        if self.editing_id is None:
            return
        person = next(p for p in self.people if p.id == self.editing_id)
        staff_id = person.id
        if self.apply(lambda s: org.update_staff(s, staff_id,
                                               active=not person.active),
                      f"{person.display_name} is "
                      + ("deactivated and can no longer sign in." if person.active
                         else "active again.")):
            self._server_access(person.os_username, grant=not person.active)

    def _server_access(self, account: str | None, *, grant: bool) -> None:
        """On a server store, the login is let in (or out) too, or IT is given the SQL."""
        from sefton_qa.services import server_setup

        if not account or self.session.store.dialect.is_file:
            return
        from sefton_qa.gui import operations

        note = operations.call(
            self.session, lambda s: server_setup.give_login_access(s.store, account, grant=grant))
        if note:
            self.status.setText(f"{self.status.text()} {note}")
