"""The audit date field: Tab leaves it in one press, and an impossible date typed is said."""

from __future__ import annotations

from PySide6.QtCore import QDate, QEvent, Qt, Signal
from PySide6.QtWidgets import QDateEdit, QWidget

from sefton_qa.services.audit_editor import impossible_date, whole_typed_date

#: A QDateEdit cannot be empty: its minimum date stands for "no date" and shows as "Not set".
NO_DATE = QDate(1900, 1, 1)


class TypedDateEdit(QDateEdit):
    """A date field that Tab leaves in one press (a plain QDateEdit tabs through day, month and
    year first). Typing "25/11/2026" still moves from part to part; so do Left and Right.

    Qt quietly makes an impossible date possible as it is typed (31/02/2024 becomes 28/02/2024).
    The keys typed are kept, so the form can say "There is no 31 February 2024" and refuse to
    save the date Qt put in its place: ``impossible`` holds that sentence until a real date is
    typed or set."""

    _tabbing = False
    _moved_on = False
    impossible_changed = Signal()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._typed = ""
        self.impossible: str | None = None

    def _set_impossible(self, message: str | None) -> None:
        if message != self.impossible:
            self.impossible = message
            self.impossible_changed.emit()

    def setDate(self, date) -> None:  # noqa: N802 (Qt's name): a date set is a real one
        self._typed = ""
        self._set_impossible(None)
        super().setDate(date)

    def keyPressEvent(self, event) -> None:
        # Typing "01/12/2026": Qt moves on to the month by itself once "01" is typed, so the
        # "/" the user types next must not move on again (to the year).
        text = event.text()
        if text and (text.isdigit() or text in "/.-"):
            if impossible_date(self._typed) is not None or whole_typed_date(self._typed):
                self._typed = ""  # a new date is being typed
            self._typed += text
        elif event.key() not in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Shift):
            self._typed = ""  # edited some other way: only whole typed dates are judged
        if text and text in "/.-" and self._moved_on:
            self._moved_on = False
            event.accept()
            self._judge()
            return
        before = self.currentSectionIndex()
        super().keyPressEvent(event)
        self._moved_on = bool(text) and text.isdigit() and self.currentSectionIndex() != before
        self._judge()

    def _judge(self) -> None:
        if whole_typed_date(self._typed):
            self._set_impossible(impossible_date(self._typed))

    def focusInEvent(self, event) -> None:
        self._moved_on = False
        self._typed = ""
        super().focusInEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Tab,
                                                                      Qt.Key.Key_Backtab):
            self._tabbing = True
            try:
                return super().event(event)
            finally:
                self._tabbing = False
        return super().event(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 (Qt's name)
        # QDateEdit also calls this to move on to the next part of the date as one is typed;
        # only a real Tab leaves the field.
        if self._tabbing:
            return QWidget.focusNextPrevChild(self, next)
        return super().focusNextPrevChild(next)
