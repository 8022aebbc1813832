"""Settings (administrators): the authority's name, the case-reference format, the grade scale,
service areas and teams, staff, themes and audit templates.

Every change goes through an organisation service, which checks the role, validates and writes
the trail; the service's own message is shown next to the fields when it refuses. Others see
the same tabs read-only, with a note saying why.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Role, TemplateSection
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_HINT,
    DEFAULT_CASE_REFERENCE_PATTERN,
    PatternTooSlow,
)
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import buddy_label, paragraph, problem_label, show_problems
from sefton_qa.gui.welcome import ROLE_MNEMONICS, ROLE_ORDER
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session
from sefton_qa.domain.wording import date_text

#: How a service's field name reads in a message shown beside the form.
FIELD_LABELS = {
    "name": "Name", "display_name": "Name", "os_username": "Windows account", "roles": "Roles",
    "team": "Team", "authority_name": "Authority's name", "case_reference_pattern": "Pattern",
    "earliest_audit_date": "Earliest audit date",
    "case_reference_hint": "Hint", "service_manager": "Service manager", "sections": "Sections",
    "service_area": "Service area", "template": "Template", "reason": "Reason",
}
IN_USE, RETIRED = "In use", "Retired"


def problem_text(problem) -> str:
    from sefton_qa.domain.wording import problem_sentence

    return problem_sentence(FIELD_LABELS.get(problem.field), problem.message,
                            capital=FIELD_LABELS.get(problem.field) is None)


def named(widget, name: str, object_name: str | None = None):
    widget.setAccessibleName(name)
    if object_name:
        widget.setObjectName(object_name)
    return widget


def status_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAccessibleName("Last change")
    return label


def mark_retired(font_owner, retired: bool) -> QFont:
    font = QFont(font_owner.font(0) if isinstance(font_owner, QTreeWidgetItem)
                 else font_owner.font())
    font.setItalic(retired)
    return font


class _Tab(QWidget):
    """A tab with its own problems and status lines, and a helper to call a service."""

    def __init__(self, dialog: "SettingsDialog"):
        super().__init__()
        self.dialog = dialog
        self.session = dialog.session
        self.problems = problem_label()
        self.status = status_label()

    def apply(self, call: Callable[[Session], object], done: str) -> bool:
        """``call(session)``, a service write, through the store's one operations path (on its
        worker, never on the GUI thread); problems are shown in the tab."""
        from sefton_qa.gui import operations

        show_problems(self.problems, [])
        try:
            operations.call(self.session, call)
        except ValidationError as exc:
            show_problems(self.problems, [problem_text(p) for p in exc.problems])
            self.status.clear()
            return False
        except SeftonError as exc:  # refused (permission, not found, changed meanwhile)
            show_problems(self.problems, [str(exc)])
            self.status.clear()
            return False
        except Exception as exc:  # noqa: BLE001 - unexpected: logged and shown with details
            show_error(self, exc, title="The change was not saved")
            return False
        self.status.setText(f"Saved: {done}")
        self.dialog.changed.emit()
        self.dialog.refresh_all(except_tab=self)
        self.refresh()
        return True

    def edit(self, *widgets) -> None:
        self.dialog.edit_controls.extend(widgets)

    def refresh(self) -> None:  # pragma: no cover - each tab has its own
        pass


# -- General -----------------------------------------------------------------------------------
class GeneralTab(_Tab):
    def __init__(self, dialog):
        super().__init__(dialog)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.authority = named(QLineEdit(), "Authority's name", "authorityName")
        self.save_authority = named(QPushButton("Save &name"), "Save the authority's name")
        self.save_authority.clicked.connect(self.save_name)
        self.authority.returnPressed.connect(self.save_name)
        row = QHBoxLayout()
        row.addWidget(self.authority, 1)
        row.addWidget(self.save_authority)
        top = QFormLayout()
        top.addRow(buddy_label("&Authority's name:", self.authority), row)
        self.earliest = named(QDateEdit(), "Earliest audit date accepted", "earliestAuditDate")
        self.earliest.setDisplayFormat("dd/MM/yyyy")
        self.earliest.setCalendarPopup(True)
        self.earliest.setToolTip("Audits dated before this are refused as a mistyped year "
                                 "(0026 for 2026). Lower it only to log older audits.")
        self.save_earliest = named(QPushButton("Save &earliest date"),
                                   "Save the earliest audit date accepted")
        self.save_earliest.clicked.connect(self.save_earliest_date)
        dates = QHBoxLayout()
        dates.addWidget(self.earliest)
        dates.addWidget(self.save_earliest)
        dates.addStretch(1)
        top.addRow(buddy_label("Earl&iest audit date:", self.earliest), dates)

        self.pattern = named(QLineEdit(), "Case-reference pattern (a regular expression)",
                             "casePattern")
        self.pattern.setFont(mono)
        self.hint = named(QLineEdit(), "Case-reference format in plain words", "caseHint")
        self.sample = named(QLineEdit(), "Try a case reference", "caseSample")
        self.sample.setPlaceholderText("type a reference to see whether it is accepted")
        self.sample_result = named(QLabel(), "Whether the sample reference is accepted",
                                   "caseSampleResult")
        self.sample_result.setWordWrap(True)
        self.sample_result.setTextFormat(Qt.TextFormat.PlainText)
        for edit in (self.pattern, self.hint, self.sample):
            edit.textChanged.connect(self.try_sample)
        self.save_format = named(QPushButton("Save &format"), "Save the case-reference format")
        self.save_format.clicked.connect(self.save_reference_format)
        self.reset_format = named(QPushButton("Use the &default"),
                                  "Put back the default case-reference format")
        self.reset_format.clicked.connect(self.use_default_format)
        refs = QGroupBox("Case references")
        form = QFormLayout(refs)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(paragraph(
            "Auditors type the child's case reference from your case-management system. The "
            "pattern (a regular expression) decides which references are accepted; the hint "
            "says the same in plain words and is shown when a reference is refused."))
        form.addRow(buddy_label("&Pattern:", self.pattern), self.pattern)
        form.addRow(buddy_label("&Hint, in plain words:", self.hint), self.hint)
        form.addRow(buddy_label("T&ry a reference:", self.sample), self.sample)
        form.addRow("", self.sample_result)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reset_format)
        buttons.addWidget(self.save_format)
        form.addRow(buttons)

        self.outstanding = named(QCheckBox("Use '&Outstanding' as a grade"),
                                 "Use Outstanding as a grade", "useOutstanding")
        self.outstanding.clicked.connect(self.set_outstanding)
        self.scale_text = paragraph("")
        grades = QGroupBox("Grade scale")
        grades_layout = QVBoxLayout(grades)
        grades_layout.addWidget(paragraph(
            "Ofsted grades on four points; many councils audit on three (good, requires "
            "improvement to be good, inadequate) and report \"good or better\". With "
            "Outstanding on, auditors can also grade an audit or a section Outstanding. "
            "Audits already logged keep their grades either way."))
        grades_layout.addWidget(self.outstanding)
        grades_layout.addWidget(self.scale_text)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(refs)
        layout.addWidget(grades)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.edit(self.authority, self.save_authority, self.earliest, self.save_earliest,
                  self.pattern, self.hint, self.save_format, self.reset_format,
                  self.outstanding)
        self.refresh()

    def refresh(self) -> None:
        values = org.settings(self.session)
        self.authority.setText(values.get("authority_name", ""))
        self.pattern.setText(values.get("case_reference_pattern", DEFAULT_CASE_REFERENCE_PATTERN))
        self.hint.setText(values.get("case_reference_hint", DEFAULT_CASE_REFERENCE_HINT))
        earliest = org.earliest_audit_date(self.session)
        self.earliest.setDate(QDate(earliest.year, earliest.month, earliest.day))
        on = bool(values.get("outstanding_enabled", False))
        self.outstanding.setChecked(on)
        grades = [Grade.OUTSTANDING.label] if on else []
        grades += [g.label for g in (Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)]
        self.scale_text.setText("Grades in use now: " + ", ".join(grades) + ".")
        self.try_sample()

    def try_sample(self) -> None:
        sample = self.sample.text()
        try:
            problem = org.try_case_reference(self.pattern.text(), self.hint.text(), sample)
        except ValidationError as exc:
            message = exc.problems[0].message
            if message.startswith("is not a valid pattern: "):
                self.sample_result.setText("✗ The pattern is not valid: "
                                           + message.removeprefix("is not a valid pattern: "))
            else:
                self.sample_result.setText(f"✗ The pattern {message}.")
            return
        except PatternTooSlow as exc:
            self.sample_result.setText(f"✗ {exc}")
            return
        if not sample:
            self.sample_result.setText("Type a reference above to try the format.")
        elif problem is None:
            self.sample_result.setText(f"✓ Accepted: \"{sample}\" is a valid case reference.")
        else:
            self.sample_result.setText(f"✗ Not accepted: {problem}.")
        self.sample_result.setAccessibleDescription(self.sample_result.text())

    def save_name(self) -> None:
        name = self.authority.text()
        self.apply(lambda s: org.set_authority_name(s, name),
                   f"the authority's name is now {name}.")

    def save_earliest_date(self) -> None:
        day = self.earliest.date().toPython()
        self.apply(lambda s: org.set_earliest_audit_date(s, day),
                   f"audits dated before {date_text(day)} are now refused as a mistyped year.")

    def save_reference_format(self) -> None:
        pattern, hint = self.pattern.text(), self.hint.text()
        self.apply(lambda s: org.set_case_reference_format(s, pattern, hint),
                   "the case-reference format. New and edited audits are checked against it.")

    def use_default_format(self) -> None:
        self.pattern.setText(DEFAULT_CASE_REFERENCE_PATTERN)
        self.hint.setText(DEFAULT_CASE_REFERENCE_HINT)

    def set_outstanding(self, on: bool) -> None:
        ok = self.apply(lambda s: org.set_outstanding_enabled(s, on),
                        "Outstanding is " + ("now a grade." if on else "no longer offered."))
        if not ok:
            self.refresh()


# -- Service areas and teams -------------------------------------------------------------------
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


# -- Staff -------------------------------------------------------------------------------------
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


# -- Themes ------------------------------------------------------------------------------------
class ThemesTab(_Tab):
    def __init__(self, dialog):
        super().__init__(dialog)
        self.list = named(QListWidget(), "Themes", "themeList")
        self.list.currentItemChanged.connect(self._selected)
        self.name = named(QLineEdit(), "Theme name", "themeName")
        self.add_button = named(QPushButton("&Add theme"), "Add a theme with this name")
        self.rename_button = named(QPushButton("&Rename selected"), "Rename the selected theme")
        self.retire_button = named(QPushButton("Re&tire selected"),
                                   "Retire or reactivate the selected theme")
        self.add_button.clicked.connect(self.add)
        self.rename_button.clicked.connect(self.rename)
        self.retire_button.clicked.connect(self.toggle_active)
        row = QHBoxLayout()
        row.addWidget(buddy_label("&Name:", self.name))
        row.addWidget(self.name, 1)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.rename_button, self.retire_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(
            "Auditors tag each audit with the themes they find, and reports count them. A "
            "retired theme stays on the audits that have it but is not offered for new ones."))
        layout.addWidget(buddy_label("T&hemes:", self.list))
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addLayout(buttons)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        self.edit(self.name, self.add_button, self.rename_button, self.retire_button)
        self.refresh()

    def refresh(self) -> None:
        keep = self.selected()
        self.list.clear()
        for theme in org.themes(self.session):
            item = QListWidgetItem(theme.name if theme.active else f"{theme.name} (retired)")
            item.setData(Qt.ItemDataRole.UserRole, (theme.id, theme.name, theme.active))
            item.setFont(mark_retired(item, not theme.active))
            self.list.addItem(item)
            if keep is not None and keep[0] == theme.id:
                self.list.setCurrentItem(item)
        self._selected(self.list.currentItem())

    def selected(self):
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def select(self, theme_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole)[0] == theme_id:
                self.list.setCurrentRow(row)
                return

    def _selected(self, item, _previous=None) -> None:
        data = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        admin = self.dialog.is_admin
        self.rename_button.setEnabled(admin and data is not None)
        self.retire_button.setEnabled(admin and data is not None)
        if data is not None:
            self.name.setText(data[1])
            self.retire_button.setText("Re&tire selected" if data[2] else
                                       "Reac&tivate selected")

    def add(self) -> None:
        name = self.name.text()
        holder = {}

        def call(s):
            holder["id"] = org.add_theme(s, name).record_id
        if self.apply(call, f"theme \"{name}\" added."):
            self.select(holder["id"])

    def rename(self) -> None:
        data = self.selected()
        if data is None:
            return
        name = self.name.text()
        self.apply(lambda s: org.rename_theme(s, data[0], name),
                   f"\"{data[1]}\" is now \"{name}\".")

    def toggle_active(self) -> None:
        data = self.selected()
        if data is None:
            return
        self.apply(lambda s: org.set_theme_active(s, data[0], not data[2]),
                   f"\"{data[1]}\" is {'retired' if data[2] else 'in use again'}.")


# -- Templates ---------------------------------------------------------------------------------
class TemplatesTab(_Tab):
    def __init__(self, dialog):
        super().__init__(dialog)
        self.editing = False
        self.version = named(QComboBox(), "Template version", "templateVersion")
        self.version.currentIndexChanged.connect(self._show)
        self.about = paragraph("")
        self.about.setAccessibleName("About this template version")
        self.table = named(QTableWidget(0, 3), "Sections of the template", "templateSections")
        self.table.setHorizontalHeaderLabels(["Key", "Title", "Prompt for the auditor"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, self.fontMetrics().averageCharWidth() * 34)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)

        self.edit_button = named(QPushButton("&Edit as a new version"),
                                 "Edit the sections as a new version", "templateEdit")
        self.edit_button.clicked.connect(self.start_editing)
        self.add_button = named(QPushButton("&Add section"), "Add a section at the end")
        self.remove_button = named(QPushButton("&Remove section"), "Remove the selected section")
        self.up_button = named(QPushButton("Move &up"), "Move the selected section up")
        self.down_button = named(QPushButton("Move do&wn"), "Move the selected section down")
        self.reason = named(QLineEdit(), "Reason for the change (kept in the trail)",
                            "templateReason")
        self.save_button = named(QPushButton("&Save as new version"),
                                 "Save the sections as a new version", "templateSave")
        self.discard_button = named(QPushButton("&Discard changes"), "Discard the edits")
        self.add_button.clicked.connect(self.add_section)
        self.remove_button.clicked.connect(self.remove_section)
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button.clicked.connect(lambda: self.move(1))
        self.save_button.clicked.connect(self.save)
        self.discard_button.clicked.connect(self.discard)

        top = QHBoxLayout()
        top.addWidget(buddy_label("&Version:", self.version))
        top.addWidget(self.version, 1)
        top.addWidget(self.edit_button)
        edit_buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            edit_buttons.addWidget(b)
        edit_buttons.addStretch(1)
        reason_row = QHBoxLayout()
        reason_row.addWidget(buddy_label("Reason for the &change:", self.reason))
        reason_row.addWidget(self.reason, 1)
        reason_row.addWidget(self.discard_button)
        reason_row.addWidget(self.save_button)
        self.edit_box = QFrame()
        box = QVBoxLayout(self.edit_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(edit_buttons)
        box.addLayout(reason_row)
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(
            "The audit tool's sections, each graded by the auditor. A change is saved as a new "
            "version: audits already logged keep the version they were logged with, and new "
            "audits use the newest."))
        layout.addLayout(top)
        layout.addWidget(self.about)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.edit_box)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        self.edit(self.edit_button)
        self.refresh()

    def refresh(self) -> None:
        self.templates = org.templates(self.session)
        current = org.current_template(self.session)
        self.version.blockSignals(True)
        self.version.clear()
        for t in sorted(self.templates, key=lambda t: (t.name, -t.version)):
            state = "in use" if t.active else "replaced"
            self.version.addItem(f"{t.name}, version {t.version} ({state})", t.id)
        self.version.blockSignals(False)
        if current is not None:
            self.version.setCurrentIndex(max(self.version.findData(current.id), 0))
        self.set_editing(False)
        self._show()

    def template(self):
        template_id = self.version.currentData()
        return next((t for t in self.templates if t.id == template_id), None)

    def _latest(self, template) -> bool:
        return template is not None and template.version == max(
            t.version for t in self.templates if t.name == template.name)

    def _show(self, _index=None) -> None:
        template = self.template()
        self.table.setRowCount(0)
        if template is None:
            self.about.setText("There is no audit template in this store.")
            return
        for section in template.sections:
            self._append_row(section)
        state = ("It is the version new audits use." if template.active else
                 "It has been replaced: only audits logged with it use it.")
        self.about.setText(f"{len(template.sections)} sections. {state}")
        latest = self._latest(template)
        self.edit_button.setEnabled(self.dialog.is_admin and latest and not self.editing)
        self.edit_button.setToolTip("" if latest else "Only the newest version can be edited.")

    def _append_row(self, section: TemplateSection, *, new: bool = False) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate((section.key, section.title, section.prompt)):
            item = QTableWidgetItem(text)
            if col == 0 and not new:
                # A key links a section's grades across versions: it never changes.
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip("The key links this section across versions; it cannot "
                                "change.")
            self.table.setItem(row, col, item)

    def set_editing(self, on: bool) -> None:
        self.editing = on
        self.edit_box.setVisible(on)
        self.version.setEnabled(not on)
        triggers = QAbstractItemView.EditTrigger
        self.table.setEditTriggers(
            triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed if on
            else triggers.NoEditTriggers)
        self.edit_button.setEnabled(self.dialog.is_admin and not on)
        if not on:
            self.reason.clear()

    def start_editing(self) -> None:
        template = self.template()
        if template is None or not self._latest(template):
            return
        self.set_editing(True)
        self.status.setText(f"Editing: saving makes version {template.version + 1}. Double-click "
                            "a cell, or press F2 or start typing, to change it. A new "
                            "section's key is made from its title when left blank.")
        self.table.setFocus()
        if self.table.rowCount():
            self.table.setCurrentCell(0, 1)

    def sections(self) -> list[TemplateSection]:
        out, taken = [], set()
        for row in range(self.table.rowCount()):
            key, title, prompt = ((self.table.item(row, c).text() if self.table.item(row, c)
                                   else "") for c in range(3))
            key = key.strip() or org.suggest_section_key(title, taken)
            taken.add(key)
            out.append(TemplateSection(key, title.strip(), prompt.strip()))
        return out

    def add_section(self) -> None:
        self._append_row(TemplateSection("", "New section", ""), new=True)
        row = self.table.rowCount() - 1
        self.table.setCurrentCell(row, 1)
        self.table.editItem(self.table.item(row, 1))

    def remove_section(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)

    def move(self, step: int) -> None:
        row = self.table.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.table.rowCount():
            return
        for col in range(3):
            a, b = self.table.takeItem(row, col), self.table.takeItem(target, col)
            self.table.setItem(row, col, b)
            self.table.setItem(target, col, a)
        self.table.setCurrentCell(target, self.table.currentColumn())

    def save(self) -> None:
        template = self.template()
        sections = self.sections()
        reason = self.reason.text().strip() or None
        self.apply(lambda s: org.add_template_version(s, template.id, sections,
                                                    reason=reason),
                   f"{template.name}, version {template.version + 1}. New audits use it.")

    def discard(self) -> None:
        self.set_editing(False)
        self.status.clear()
        show_problems(self.problems, [])
        self._show()


class SettingsDialog(QDialog):
    """Settings → tabs. ``changed`` fires after every change saved, so views can refresh."""

    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self.is_admin = session.actor.active and session.actor.has_role(Role.ADMINISTRATOR)
        self.edit_controls: list[QWidget] = []

        self.note = paragraph(
            "Only an administrator can change these settings. You can look at them here; ask "
            "an administrator to make any change.")
        self.note.setObjectName("readOnlyNote")
        self.note.setAccessibleName("Read-only")
        self.note.setFrameShape(QFrame.Shape.StyledPanel)
        self.note.setMargin(8)
        self.note.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.note.setVisible(not self.is_admin)

        self.tabs = named(QTabWidget(), "Settings sections", "settingsTabs")
        self.general = GeneralTab(self)
        self.areas = AreasTab(self)
        self.staff = StaffTab(self)
        self.themes = ThemesTab(self)
        self.templates = TemplatesTab(self)
        for tab, title in ((self.general, "General"), (self.areas, "Service areas and teams"),
                           (self.staff, "Staff"), (self.themes, "Themes"),
                           (self.templates, "Templates")):
            tab.setAccessibleName(title)
            self.tabs.addTab(tab, title)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close settings")

        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        if not self.is_admin:
            self._make_read_only()
        width = self.fontMetrics().averageCharWidth() * 150
        self.resize(width, int(width * 0.7))

    def _make_read_only(self) -> None:
        """Text stays readable and reachable by keyboard; nothing can be changed."""
        for widget in self.edit_controls:
            if isinstance(widget, QLineEdit):
                widget.setReadOnly(True)
            else:
                widget.setEnabled(False)
            widget.setToolTip("Only an administrator can change this.")

    def refresh_all(self, except_tab=None) -> None:
        """After a change on one tab, the tabs that show it too re-read the store (a renamed
        team appears on the Staff tab; a new service manager in the team's list). Tabs whose
        data did not change are left alone, so nothing typed there is lost."""
        related = {self.areas: (self.staff,), self.staff: (self.areas,)}
        for tab in related.get(except_tab, ()):
            tab.refresh()
        if not self.is_admin:
            self._make_read_only()
