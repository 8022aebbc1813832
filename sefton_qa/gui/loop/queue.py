"""The base of the queue pages (moderation, reflective conversations, actions): a queue of one
stage above, the selected audit and a form below."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import ConflictError, SeftonError
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import heading
from sefton_qa.gui.loop.common import Row, set_message
from sefton_qa.services import moderation as loop
from sefton_qa.services.session import Session


def detail_view(name: str, placeholder: str) -> QTextBrowser:
    view = QTextBrowser()
    view.setObjectName(name)
    view.setAccessibleName("The audit, read-only")
    view.setPlaceholderText(placeholder)
    view.setOpenLinks(False)
    return view


class _QueuePage(QWidget):
    """A queue of one stage above, the selected audit and a form below."""

    changed = Signal(object)
    stage = ""
    #: The tables whose changes this page shows (the window refreshes it when one is touched).
    SHOWS = ("audits", "moderations", "reflective_conversations", "remedial_actions", "staff",
             "teams", "service_areas", "settings", "grades", "audit_templates")

    def write(self, fn):
        """A service write through the store's one operations path (never on the GUI
        thread); the window hears what it touched."""
        from sefton_qa.gui import operations

        return operations.call(self.session, fn)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.items: list[loop.QueueItem] = []
        self._keeping = False

    def _lay_out(self, title: str, intro: QLabel, top: QHBoxLayout, table_label: QLabel,
                 form_pane: QWidget, *, stretch: tuple[int, int, int, int]) -> None:
        """The page: its title, ``intro``, the ``top`` line and the queue above; the selected
        audit beside ``form_pane`` below. ``stretch``: the audit's and the form's shares of
        the width, then the queue's and the lower half's shares of the height."""
        top_part = QWidget()
        top_layout = QVBoxLayout(top_part)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(heading(title, 1.25))
        top_layout.addWidget(intro)
        top_layout.addLayout(top)
        top_layout.addWidget(table_label)
        top_layout.addWidget(self.table, 1)
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(self.detail)
        below.addWidget(form_pane)
        below.setStretchFactor(0, stretch[0])
        below.setStretchFactor(1, stretch[1])
        below.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top_part)
        self.splitter.addWidget(below)
        self.splitter.setStretchFactor(0, stretch[2])
        self.splitter.setStretchFactor(1, stretch[3])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.table)
        self.refresh()

    @property
    def me(self):
        return self.session.actor

    def selected_item(self) -> loop.QueueItem | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.rows[index.row()].data

    def select_item(self, item_id: int) -> bool:
        """Select the row of one moderation, conversation or action (by its id)."""
        row = self.model.row_of(item_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.setFocus()
        return True

    def select_case(self, case_reference: str) -> bool:
        """Select the row of a case (tests and the window use it)."""
        for n, row in enumerate(self.model.rows):
            if row.data.case_reference == case_reference:
                self.table.selectRow(n)
                return True
        return False

    def _fill(self, rows: list[Row]) -> None:
        """Show new rows, keeping the selection on the same item when it is still there."""
        current = self.selected_item()
        key = current.item_id if current else None
        self._keeping = True  # what the person is typing survives a refresh
        try:
            self.model.set_rows(rows)
            row = self.model.row_of(key) if key is not None else None
            if row is not None:
                self.table.selectRow(row)
        finally:
            self._keeping = False
        if row is None:
            self.table.clearSelection()
            self.table.setCurrentIndex(self.model.index(-1, -1))
            self._show_item(None)

    def _on_current(self, current, _previous=None) -> None:
        if self._keeping:
            return
        item = self.model.rows[current.row()].data if current.isValid() else None
        self._show_item(item)

    def _show_item(self, item) -> None:  # pragma: no cover - each page has its own
        raise NotImplementedError

    def _fail(self, exc: BaseException, label: QLabel, title: str) -> None:
        """A known error goes beside the form; anything else to the error dialog."""
        if isinstance(exc, ConflictError):
            set_message(label, f"{exc} The list has been refreshed: check the item again.")
            self.refresh()
        elif isinstance(exc, SeftonError):
            set_message(label, str(exc))
        else:
            show_error(self, exc, title=title)
