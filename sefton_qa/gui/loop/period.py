"""The base of the dashboards (drift, calibration): a page over a period (from, to) that reads
its figures on a worker thread, so a large store never freezes the window; and the helpers
that fit their tables."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from sefton_qa.gui.labels import buddy_label
from sefton_qa.gui.loop.common import Loader, date_edit, from_qdate, scroll_area, to_qdate
from sefton_qa.services.session import Session


def year_before(day: dt.date) -> dt.date:
    """The day after the same date a year earlier: the last 12 months end on ``day``."""
    try:
        earlier = day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        earlier = day.replace(year=day.year - 1, day=28)
    return earlier + dt.timedelta(days=1)


def bold(label: QLabel) -> QLabel:
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def fit_width(view: QTableView) -> None:
    """A narrow table is as wide as its columns, not the window."""
    columns = sum(view.columnWidth(c) for c in range(view.model().columnCount()))
    scroll = view.verticalScrollBar()
    extra = scroll.sizeHint().width() if scroll.maximum() > 0 else 0
    view.setMaximumWidth(columns + 2 * view.frameWidth() + extra + 2)


def fit_height(view: QTableView) -> None:
    """A short table shows every row without its own scroll bar."""
    header = view.horizontalHeader()
    rows = view.verticalHeader().length() or view.verticalHeader().defaultSectionSize()
    scroll = view.horizontalScrollBar()
    extra = scroll.sizeHint().height() if scroll.maximum() > 0 else 0
    view.setFixedHeight(max(header.height(), header.sizeHint().height()) + rows
                        + 2 * view.frameWidth() + extra + 2)


class _PeriodPage(QWidget):
    """A page over a period (from, to) that reads its figures on a worker thread."""

    changed = Signal(object)  # never emitted: these pages only read; kept for the window
    SHOWS = ("audits", "moderations", "reflective_conversations", "remedial_actions", "staff",
             "teams", "service_areas", "settings", "grades")

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.result = None
        today = session.today()
        self.from_edit = date_edit("Period from", year_before(today), maximum=today)
        self.from_edit.setObjectName("periodFrom")
        self.to_edit = date_edit("Period to", today)
        self.to_edit.setObjectName("periodTo")
        self.last_year_button = QPushButton("Last &12 months")
        self.last_year_button.setAccessibleName("Show the last 12 months")
        self.last_year_button.clicked.connect(self.show_last_year)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.refresh)
        self.from_edit.dateChanged.connect(lambda _d: self.timer.start())
        self.to_edit.dateChanged.connect(lambda _d: self.timer.start())
        self.loader = Loader(session, self)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.status_label = QLabel()
        self.status_label.setObjectName("dashboardStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Summary")

    def period_row(self, what: str) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(what))
        row.addWidget(buddy_label("Fro&m:", self.from_edit, accessible="Period from"))
        row.addWidget(self.from_edit)
        row.addWidget(buddy_label("&To:", self.to_edit, accessible="Period to"))
        row.addWidget(self.to_edit)
        row.addWidget(self.last_year_button)
        row.addStretch(1)
        return row

    def period(self) -> tuple[dt.date, dt.date]:
        start, end = from_qdate(self.from_edit.date()), from_qdate(self.to_edit.date())
        return (start, end) if start <= end else (end, start)

    def show_last_year(self) -> None:
        today = self.session.today()
        self.to_edit.setDate(to_qdate(today))
        self.from_edit.setDate(to_qdate(year_before(today)))

    @property
    def ready(self) -> bool:
        """The figures on screen are for the period shown (nothing is still loading)."""
        return not self.timer.isActive() and not self.loader.busy and self.result is not None

    def refresh(self) -> None:
        self.timer.stop()
        self.status_label.setText("Reading the figures…")
        start, end = self.period()
        self.loader.run(self.reader(start, end))

    def reader(self, start: dt.date, end: dt.date) -> Callable[[Session], Any]:
        """What to read, as a function of a session: it runs on the worker thread, so it
        takes every choice from the page now and touches no widget later."""
        raise NotImplementedError

    def _loaded(self, result) -> None:
        self.result = result
        self.show_result(result)

    def _failed(self, exc) -> None:
        self.result = None
        self.status_label.setText(f"The figures could not be read: {exc}")

    def show_result(self, result) -> None:  # pragma: no cover - each page has its own
        raise NotImplementedError


def scrolled(page: QWidget, content: QWidget, name: str) -> None:
    """``content`` in a scroll area that fills ``page``."""
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(scroll_area(content, name))
