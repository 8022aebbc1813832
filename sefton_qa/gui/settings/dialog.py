"""Settings → the dialog: a note for those who may only look, and the tabs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.models import Role
from sefton_qa.gui.labels import paragraph
from sefton_qa.gui.settings.areas import AreasTab
from sefton_qa.gui.settings.common import named
from sefton_qa.gui.settings.general import GeneralTab
from sefton_qa.gui.settings.staff import StaffTab
from sefton_qa.gui.settings.templates import TemplatesTab
from sefton_qa.gui.settings.themes import ThemesTab
from sefton_qa.services.session import Session


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
