"""The register's filters: period, service area, team, auditor, grade, status, theme, search.

Every change becomes a RegisterFilter; the search box waits for a pause in typing."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.domain.models import AuditStatus
from sefton_qa.services import organisation as org
from sefton_qa.services.register import RegisterFilter
from sefton_qa.services.session import Session

ANY = "Any"


class FilterBar(QWidget):
    changed = Signal(object)  # RegisterFilter

    def __init__(self, session: Session, parent=None, *, fixed: dict | None = None):
        super().__init__(parent)
        self.session = session
        self.fixed = fixed or {}
        self._quiet = False
        self._labels: dict[QComboBox, QLabel] = {}
        today = session.today()

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search case references and findings…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search case references and findings")
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.emit_filter)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())

        self.use_from = QCheckBox("&Date from")
        self.date_from = QDateEdit(QDate(today.year - 1, today.month, 1))
        self.use_to = QCheckBox("T&o")
        self.date_to = QDateEdit(QDate(today.year, today.month, today.day))
        for check, edit, name in ((self.use_from, self.date_from, "From date"),
                                  (self.use_to, self.date_to, "To date")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setEnabled(False)
            edit.setAccessibleName(name)
            check.setAccessibleName(f"Filter by {name.lower()}")
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.emit_filter)
            edit.dateChanged.connect(self.emit_filter)

        self.area = self._combo("Service &area", [(a.name, a.id) for a in
                                                  org.service_areas(session)])
        self.team = self._combo("&Team", [])
        self.auditor = self._combo("A&uditor", [(s.display_name, s.id) for s in
                                                org.staff(session)])
        # Combo boxes carry the enum's value (plain text: Qt hands a str enum member back as a
        # str anyway), and current() turns it back into the member.
        self.grade = self._combo("&Grade", [(g.short_label, g.value) for g in ALL_GRADES])
        self.status = self._combo("&Status", [(s.label, s.value) for s in AuditStatus])
        self.theme = self._combo("The&me", [(t.name, t.id) for t in org.themes(session)])
        self.area.currentIndexChanged.connect(self._fill_teams)
        self._fill_teams()

        self.clear_button = QPushButton("&Clear filters")
        self.clear_button.clicked.connect(self.clear)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.search, 0, 0, 1, 4)
        grid.addWidget(self.clear_button, 0, 4, 1, 2)
        cells = [(self.use_from, self.date_from), (self.use_to, self.date_to)]
        cells += [(self._labels[c], c) for c in (self.area, self.team, self.auditor, self.grade,
                                                  self.status, self.theme)]
        for i, (label, widget) in enumerate(cells):
            row, col = divmod(i, 3)
            grid.addWidget(label, 1 + row, 2 * col)
            grid.addWidget(widget, 1 + row, 2 * col + 1)
        for column in (1, 3, 5):
            grid.setColumnStretch(column, 1)
        for name, combo in (("auditor_id", self.auditor), ("status", self.status)):
            if name in self.fixed:
                combo.setEnabled(False)
                combo.setToolTip("Fixed on this page")

    def _combo(self, label: str, items) -> QComboBox:
        combo = QComboBox()
        # Long names (service areas, teams) must not widen the window: show what fits.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(10)
        combo.addItem(ANY, None)
        for text, data in items:
            combo.addItem(text, data)
        combo.setAccessibleName(label.replace("&", ""))
        combo.currentIndexChanged.connect(self.emit_filter)
        caption = QLabel(label + ":")
        caption.setBuddy(combo)
        self._labels[combo] = caption
        return combo

    def _fill_teams(self) -> None:
        self._quiet = True
        area = self.area.currentData()
        current = self.team.currentData()
        self.team.clear()
        self.team.addItem(ANY, None)
        for t in org.teams(self.session, service_area_id=area):
            self.team.addItem(t.name, t.id)
        index = self.team.findData(current)
        self.team.setCurrentIndex(index if index >= 0 else 0)
        self._quiet = False
        self.emit_filter()

    def current(self) -> RegisterFilter:
        def day(check: QCheckBox, edit: QDateEdit) -> dt.date | None:
            return edit.date().toPython() if check.isChecked() else None

        values = dict(
            date_from=day(self.use_from, self.date_from), date_to=day(self.use_to, self.date_to),
            service_area_id=self.area.currentData(), team_id=self.team.currentData(),
            auditor_id=self.auditor.currentData(),
            grade=_member(Grade, self.grade.currentData()),
            status=_member(AuditStatus, self.status.currentData()),
            theme_id=self.theme.currentData(),
            search=self.search.text().strip())
        values.update(self.fixed)
        return RegisterFilter(**values)

    def current_cleared(self) -> RegisterFilter:
        """The filter with nothing chosen (what Clear filters gives on this page)."""
        return RegisterFilter(**self.fixed)

    def emit_filter(self, *_args) -> None:
        if not self._quiet:
            self.changed.emit(self.current())

    def clear(self) -> None:
        self._quiet = True
        for combo in (self.area, self.team, self.auditor, self.grade, self.status, self.theme):
            combo.setCurrentIndex(0)
        self.use_from.setChecked(False)
        self.use_to.setChecked(False)
        self.search.clear()
        self._search_timer.stop()
        self._quiet = False
        self.emit_filter()


def _member(kind, value):
    """The enum member a combo box's data stands for (None for "Any")."""
    return None if value is None else kind(value)
