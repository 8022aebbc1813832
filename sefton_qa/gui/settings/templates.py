"""Settings → Templates: the audit templates, their versions and sections."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sefton_qa.domain.models import TemplateSection
from sefton_qa.gui.labels import buddy_label, paragraph, show_problems
from sefton_qa.gui.settings.common import _Tab, named
from sefton_qa.services import organisation as org


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
