"""Settings → Themes: the themes an audit can be tagged with."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from sefton_qa.gui.labels import buddy_label, paragraph
from sefton_qa.gui.settings.common import _Tab, mark_retired, named
from sefton_qa.services import organisation as org


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
