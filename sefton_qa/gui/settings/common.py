"""The settings tabs' base (``_Tab``: its own problems and status lines, and a helper to call a
service) and the small helpers the tabs share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QTreeWidgetItem, QWidget

from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import problem_label, show_problems
from sefton_qa.services.session import Session

if TYPE_CHECKING:
    from sefton_qa.gui.settings.dialog import SettingsDialog


#: How a service's field name reads in a message shown beside the form.
FIELD_LABELS = {
    "name": "Name", "display_name": "Name", "os_username": "Windows account", "roles": "Roles",
    "team": "Team", "authority_name": "Authority's name", "case_reference_pattern": "Pattern",
    "earliest_audit_date": "Earliest audit date",
    "case_reference_hint": "Hint", "service_manager": "Service manager", "sections": "Sections",
    "service_area": "Service area", "template": "Template", "reason": "Reason",
    "exempt_information": "Exempt paragraph",
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

    def __init__(self, dialog: SettingsDialog):
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
