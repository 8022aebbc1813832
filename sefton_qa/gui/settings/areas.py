"""Settings → Service areas and teams: add, rename and retire them, and name each team's
service manager."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from sefton_qa.domain.models import Role
from sefton_qa.gui.labels import buddy_label, paragraph, show_problems
from sefton_qa.gui.settings.common import IN_USE, RETIRED, _Tab, mark_retired, named
from sefton_qa.services import organisation as org


class AreasTab(_Tab):
    def __init__(self, dialog):
        super().__init__(dialog)
        self.tree = named(QTreeWidget(), "Service areas and their teams", "areaTree")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Name", "Status", "Service manager"])
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.tree.currentItemChanged.connect(self._selected)
        self.name = named(QLineEdit(), "Name of the area or team", "areaName")
        self.add_area_button = named(QPushButton("Add &area"), "Add a service area with this name")
        self.add_team_button = named(QPushButton("Add &team to area"),
                                     "Add a team with this name to the selected service area")
        self.rename_button = named(QPushButton("&Rename selected"),
                                   "Rename the selected area or team")
        self.retire_button = named(QPushButton("Ret&ire selected"),
                                   "Retire or reactivate the selected area or team")
        self.add_area_button.clicked.connect(self.add_area)
        self.add_team_button.clicked.connect(self.add_team)
        self.rename_button.clicked.connect(self.rename)
        self.retire_button.clicked.connect(self.toggle_active)
        self.manager = named(QComboBox(), "Service manager of the selected team",
                             "serviceManager")
        self.set_manager_button = named(QPushButton("&Set manager"),
                                        "Make this person the team's service manager")
        self.set_manager_button.clicked.connect(self.set_manager)

        name_row = QHBoxLayout()
        name_row.addWidget(buddy_label("&Name:", self.name))
        name_row.addWidget(self.name, 1)
        buttons = QHBoxLayout()
        for b in (self.add_area_button, self.add_team_button, self.rename_button,
                  self.retire_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        manager_row = QHBoxLayout()
        manager_row.addWidget(buddy_label("Service &manager of the selected team:", self.manager))
        manager_row.addWidget(self.manager, 1)
        manager_row.addWidget(self.set_manager_button)
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(
            "Nothing is ever deleted: audits keep the names they were logged under. Retire an "
            "area or team that is no longer used and it is not offered for new audits; it can "
            "be reactivated. Only staff holding the service manager role can manage a team."))
        layout.addWidget(self.tree, 1)
        layout.addLayout(name_row)
        layout.addLayout(buttons)
        layout.addLayout(manager_row)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        self.edit(self.name, self.add_area_button, self.add_team_button, self.rename_button,
                  self.retire_button, self.manager, self.set_manager_button)
        self.refresh()

    def refresh(self) -> None:
        keep = self.selected()
        staff = {s.id: s for s in org.staff(self.session)}
        self.tree.clear()
        for area in org.service_areas(self.session):
            a_item = QTreeWidgetItem([area.name, IN_USE if area.active else RETIRED, ""])
            a_item.setData(0, Qt.ItemDataRole.UserRole, ("area", area.id, area.active))
            a_item.setFont(0, mark_retired(a_item, not area.active))
            self.tree.addTopLevelItem(a_item)
            for team in org.teams(self.session, service_area_id=area.id):
                manager = staff.get(team.service_manager_id)
                t_item = QTreeWidgetItem([team.name, IN_USE if team.active else RETIRED,
                                          manager.display_name if manager else "None"])
                t_item.setData(0, Qt.ItemDataRole.UserRole, ("team", team.id, team.active))
                t_item.setFont(0, mark_retired(t_item, not team.active))
                a_item.addChild(t_item)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(1)
        self.tree.resizeColumnToContents(2)
        self.manager.clear()
        self.manager.addItem("(no service manager)", None)
        for person in staff.values():
            if person.active and person.has_role(Role.SERVICE_MANAGER):
                self.manager.addItem(person.display_name, person.id)
        if keep is not None:
            self.select(keep[0], keep[1])
        self._selected(self.tree.currentItem())

    def selected(self):
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def select(self, kind: str, record_id: int) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for item in [top] + [top.child(j) for j in range(top.childCount())]:
                data = item.data(0, Qt.ItemDataRole.UserRole)
                if data[0] == kind and data[1] == record_id:
                    self.tree.setCurrentItem(item)
                    return

    def _selected(self, item, _previous=None) -> None:
        data = None if item is None else item.data(0, Qt.ItemDataRole.UserRole)
        admin = self.dialog.is_admin
        self.rename_button.setEnabled(admin and data is not None)
        self.retire_button.setEnabled(admin and data is not None)
        self.add_team_button.setEnabled(admin and data is not None)
        is_team = data is not None and data[0] == "team"
        self.manager.setEnabled(admin and is_team)
        self.set_manager_button.setEnabled(admin and is_team)
        if data is None:
            return
        self.name.setText(item.text(0))
        active = data[2]
        self.retire_button.setText("Ret&ire selected" if active else "React&ivate selected")
        if is_team:
            team = next(t for t in org.teams(self.session) if t.id == data[1])
            index = self.manager.findData(team.service_manager_id)
            self.manager.setCurrentIndex(max(index, 0))

    def _area_id(self) -> int | None:
        data = self.selected()
        if data is None:
            return None
        if data[0] == "area":
            return data[1]
        return next(t.service_area_id for t in org.teams(self.session) if t.id == data[1])

    def add_area(self) -> None:
        name = self.name.text()
        holder = {}

        def call(s):
            holder["id"] = org.add_service_area(s, name).record_id
        if self.apply(call, f"service area \"{name}\" added."):
            self.select("area", holder["id"])

    def add_team(self) -> None:
        area_id = self._area_id()
        if area_id is None:
            show_problems(self.problems, ["Select the service area the team belongs to."])
            return
        name = self.name.text()
        holder = {}

        def call(s):
            holder["id"] = org.add_team(s, name, area_id).record_id
        if self.apply(call, f"team \"{name}\" added."):
            self.select("team", holder["id"])

    def rename(self) -> None:
        data = self.selected()
        if data is None:
            return
        kind, record_id, _active = data
        name = self.name.text()
        call = (org.rename_service_area if kind == "area" else org.rename_team)
        self.apply(lambda s: call(s, record_id, name), f"renamed to \"{name}\".")

    def toggle_active(self) -> None:
        data = self.selected()
        if data is None:
            return
        kind, record_id, active = data
        call = org.set_service_area_active if kind == "area" else org.set_team_active
        what = "service area" if kind == "area" else "team"
        self.apply(lambda s: call(s, record_id, not active),
                   f"the {what} is {'retired' if active else 'in use again'}.")

    def set_manager(self) -> None:
        data = self.selected()
        if data is None or data[0] != "team":
            return
        staff_id = self.manager.currentData()
        self.apply(lambda s: org.set_team_service_manager(s, data[1], staff_id),
                   f"the team's service manager is now {self.manager.currentText()}.")
