"""Every window, dialog and page of the app, in one registry.

It serves two readers. Help → Keyboard shortcuts is generated from it (how to reach each
surface and the keys it has), and the tests open every surface from it to check that no two
Alt letters clash within one focus scope (tests/gui/test_mnemonics.py); a test also compares
it with the widget classes in ``sefton_qa/gui`` so that a new window, dialog or page cannot be
left out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class Surface:
    name: str  # as people call it
    cls: str  # module:Class in sefton_qa.gui (module: its dotted name below gui, "loop.drift")
    kind: str  # "window", "page", "dialog" or "tab"
    how: str  # how to reach it, by keyboard
    keys: str = ""  # its own keys, beyond Tab, Enter, Escape and the underlined Alt letters
    #: Builds it for the tests, from an open main window (None: built by its own test).
    opens: Callable | None = None


def _page(factory: str):
    return lambda window: window.show_page_of(factory)


def _tab(name: str):
    def open_(window):
        dialog = window.open_settings()
        for index in range(dialog.tabs.count()):
            if type(dialog.tabs.widget(index)).__name__ == name:
                dialog.tabs.setCurrentIndex(index)
                return dialog
        raise LookupError(name)
    return open_


def _reason(window):
    from sefton_qa.gui.reason_dialog import ReasonDialog

    return ReasonDialog(window)


def _cover(window):
    from sefton_qa.gui.cover_dialog import CoverDialog
    from sefton_qa.reports.cover import CoverReport

    return CoverDialog(CoverReport(), window)


def _text_dialog(window):
    from sefton_qa.gui.loop.common import TextDialog

    return TextDialog(window, title="Mark the action done", intro="An action.",
                      label="&Evidence:", ok_text="&Mark done", missing="Evidence is required.")


SURFACES: tuple[Surface, ...] = (
    Surface("Main window", "main_window:MainWindow", "window", "Starting Sefton QA",
            "Ctrl+1 … Ctrl+9 go to each page; F5 refreshes; Ctrl+F finds; Ctrl+Z and the "
            "platform's Redo keys undo and redo the selected audit's last change",
            lambda w: w),
    Surface("Audits (the register)", "register_page:RegisterPage", "page", "Ctrl+1",
            "Enter opens the selected audit; in the detail pane Tab moves between links and "
            "Enter opens one", lambda w: w.audits_page),
    Surface("My work", "register_page:RegisterPage", "page", "Ctrl+2",
            "Your own audits, as the register shows them", lambda w: w.my_work_page),
    Surface("Moderation", "loop.moderation:ModerationPage", "page", "Ctrl+3", "",
            _page("ModerationPage")),
    Surface("Reflective conversations", "loop.conversations:ConversationsPage", "page", "Ctrl+4", "",
            _page("ConversationsPage")),
    Surface("Actions", "loop.actions:ActionsPage", "page", "Ctrl+5", "", _page("ActionsPage")),
    Surface("Drift dashboard", "loop.drift:DriftPage", "page", "Ctrl+6", "",
            _page("DriftPage")),
    Surface("Calibration", "loop.calibration:CalibrationPage", "page", "Ctrl+7", "",
            _page("CalibrationPage")),
    Surface("Allocated to me", "loop.allocated:AllocatedPage", "page", "Ctrl+8",
            "Enter: start (or open) the selected case's audit", _page("AllocatedPage")),
    Surface("Case selection", "loop.selection:CaseSelectionPage", "page", "Ctrl+9",
            "Arrow keys choose a plan in Plans and a case in Allocations",
            _page("CaseSelectionPage")),
    Surface("Import the caseload", "loop.selection:CaseloadImportDialog", "dialog",
            "Case selection: Import caseload… (Alt+C)",
            "Enter in the file field checks the file, then imports it once checked",
            lambda w: w.show_page_of("CaseSelectionPage").import_caseload()),
    Surface("New audit plan", "loop.selection:NewPlanDialog", "dialog",
            "Case selection: New plan… (Alt+N)",
            "Enter previews the plan, then creates it once previewed",
            lambda w: w.show_page_of("CaseSelectionPage").new_plan()),
    Surface("Audit form", "audit_form:AuditForm", "dialog",
            "File → New audit… (Ctrl+N), or Enter on an audit in the register",
            "Ctrl+S saves; Ctrl+Enter submits; Alt+1 … Alt+9 go to the sections and Alt+N to "
            "the next notes; Ctrl+Shift+Z undoes the last saved change and Ctrl+Shift+Y "
            "redoes it; Ctrl+Z stays with the text you type", lambda w: w.new_audit()),
    Surface("Reason for an edit", "reason_dialog:ReasonDialog", "dialog",
            "Saving a change to a submitted audit", "", _reason),
    Surface("Evidence or reason for an action", "loop.common:TextDialog", "dialog",
            "Actions page: Mark done, or Close as no longer needed", "", _text_dialog),
    Surface("Committee pack", "report_dialog:ReportDialog", "dialog",
            "Reports → Committee pack… (Ctrl+R)", "", lambda w: w.open_report()),
    Surface("Cover report", "cover_dialog:CoverDialog", "dialog",
            "Committee pack: Cover report… (Alt+V)", "", _cover),
    Surface("Pack preview", "pack_preview:PackPreview", "dialog",
            "Committee pack: Open, once the pack is built",
            "PageDown and PageUp turn the pages; Ctrl++ and Ctrl+- zoom, Ctrl+0 fits the "
            "width; Ctrl+P prints", None),
    Surface("Import audits", "import_dialog:ImportDialog", "dialog",
            "File → Import audits… (Ctrl+I)", "", lambda w: w.open_import()),
    Surface("Export audits", "export_dialog:ExportDialog", "dialog",
            "File → Export audits… (Ctrl+E)", "", lambda w: w.open_export()),
    Surface("Backups", "backups_dialog:BackupsDialog", "dialog", "File → Backups… (a file)",
            "", lambda w: w.open_backups() if w.session.store.dialect.is_file else None),
    Surface("Backups of a server store", "server_backups_dialog:ServerBackupsDialog",
            "dialog", "File → Backups… (a server)", "",
            lambda w: w.open_backups() if not w.session.store.dialect.is_file else None),
    Surface("Open store", "open_store_dialog:OpenStoreDialog", "dialog",
            "File → Open store… (Ctrl+Shift+O)", "", lambda w: w.open_store_dialog()),
    Surface("A store that cannot be opened", "open_problem:OpenProblemDialog", "dialog",
            "Shown at start-up when the store is refused", "", None),
    Surface("Settings", "settings.dialog:SettingsDialog", "dialog", "Edit → Settings… (Ctrl+,)",
            "Ctrl+Tab moves between the tabs", lambda w: w.open_settings()),
    Surface("Settings: General", "settings.general:GeneralTab", "tab", "Settings", "",
            _tab("GeneralTab")),
    Surface("Settings: Areas and teams", "settings.areas:AreasTab", "tab", "Settings", "",
            _tab("AreasTab")),
    Surface("Settings: Staff", "settings.staff:StaffTab", "tab", "Settings", "",
            _tab("StaffTab")),
    Surface("Settings: Themes", "settings.themes:ThemesTab", "tab", "Settings", "",
            _tab("ThemesTab")),
    Surface("Settings: Templates", "settings.templates:TemplatesTab", "tab", "Settings", "",
            _tab("TemplatesTab")),
    Surface("Welcome (a new store)", "welcome.page:WelcomePage", "page",
            "Shown in a new, empty store", "", None),
    Surface("Set-up", "welcome.wizard:SetupPages", "page", "Welcome: Set up for real",
            "Enter adds the person typed", None),
    Surface("Keyboard shortcuts", "surfaces:ShortcutsDialog", "dialog",
            "Help → Keyboard shortcuts (F1)", "", lambda w: w.show_shortcuts()),
)

#: Widget classes in sefton_qa/gui that are parts of a surface, not surfaces themselves.
PARTS = {
    "audit_form:_FieldLabel": "a label of the audit form",
    "date_edit:TypedDateEdit": "the audit form's date field",
    "filter_bar:FilterBar": "the register's filters",
    "loop.period:_PeriodPage": "the base of the dashboards",
    "loop.queue:_QueuePage": "the base of the queue pages",
    "settings.common:_Tab": "the base of the settings tabs",
    "store_check:StoreCheckBanner": "a strip across the main window",
}


def shortcuts_html(window=None) -> str:
    """Help → Keyboard shortcuts: every menu command with its keys (read from the window's
    menus when given), then every surface, how to reach it and its own keys."""
    e = html.escape
    parts = ["<h2>Keyboard shortcuts</h2>",
             "<p>Everywhere: Tab and Shift+Tab move between fields; the underlined letter "
             "with Alt goes to a field or presses a button; Enter confirms; Escape closes a "
             "dialog (a draft is saved first).</p>"]
    if window is not None:
        parts.append("<h3>Menus</h3><table>")
        for menu_action in window.menuBar().actions():
            menu = menu_action.menu()
            for action in (menu.actions() if menu else []):
                if action.isSeparator() or not action.text():
                    continue
                keys = action.shortcut().toString()
                where = f"{menu_action.text().replace('&', '')} → " \
                        f"{action.text().replace('&', '')}"
                parts.append(f"<tr><td>{e(where)}</td><td><b>{e(keys)}</b></td></tr>")
        parts.append("</table>")
    parts.append("<h3>Windows, pages and dialogs</h3><table>")
    for surface in SURFACES:
        parts.append(f"<tr><td valign='top'><b>{e(surface.name)}</b></td>"
                     f"<td valign='top'>{e(surface.how)}</td>"
                     f"<td valign='top'>{e(surface.keys)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    """Help → Keyboard shortcuts, generated from the registry and the menus."""

    def __init__(self, window=None):
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.text = QTextBrowser()
        self.text.setAccessibleName("Keyboard shortcuts")
        self.text.setHtml(shortcuts_html(window))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("How to do everything from the keyboard."))
        layout.addWidget(self.text, 1)
        row = QWidget()
        row_layout = QVBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(close)
        layout.addWidget(row)
        self.resize(820, 640)
