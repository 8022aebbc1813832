"""The audit register as a Qt table model that fetches only the rows on screen.

Sorting and filtering are done by SQL in the store; the model keeps a few recent pages.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditStatus
from sefton_qa.services import register
from sefton_qa.services.register import RegisterFilter
from sefton_qa.services.session import Session

COL_CASE, COL_DATE, COL_AREA, COL_TEAM, COL_AUDITOR, COL_GRADE, COL_STATUS, COL_THEMES = range(8)
HEADERS = ("Case reference", "Audit date", "Service area", "Team", "Auditor", "Overall grade",
           "Status", "Themes")
SORT_KEYS = {COL_CASE: "case_reference", COL_DATE: "audit_date", COL_AREA: "service_area",
             COL_TEAM: "team", COL_AUDITOR: "auditor", COL_GRADE: "overall_grade",
             COL_STATUS: "status"}
#: Colour is never the only signal: the grade's name is always shown beside it.
GRADE_COLOURS = {
    Grade.OUTSTANDING: QColor("#1b5e20"),
    Grade.GOOD: QColor("#2e7d32"),
    Grade.REQUIRES_IMPROVEMENT: QColor("#945700"),  # 5.8:1 on white, 5.4:1 on alternate rows
    Grade.INADEQUATE: QColor("#c62828"),
}
#: The same hues, light enough to read on a dark or high-contrast palette.
GRADE_COLOURS_ON_DARK = {
    Grade.OUTSTANDING: QColor("#a5d6a7"),
    Grade.GOOD: QColor("#81c784"),
    Grade.REQUIRES_IMPROVEMENT: QColor("#ffcc80"),
    Grade.INADEQUATE: QColor("#ef9a9a"),
}


def grade_colours() -> dict[Grade, QColor]:
    """Colours that keep their contrast with the user's palette (dark themes included)."""
    base = QGuiApplication.palette().color(QPalette.ColorRole.Base)
    return GRADE_COLOURS_ON_DARK if base.lightnessF() < 0.5 else GRADE_COLOURS
PAGE_SIZE = 100
MAX_CACHED_PAGES = 20  # at most 2,000 rows in memory, however large the store


class AuditRegisterModel(QAbstractTableModel):
    """rowCount is the number of audits matching the filter; rows are fetched a page at a time
    as the view asks for them, and only the last few pages are kept. Sorting and filtering
    are SQL in the store, so the register stays quick at a million audits.

    A query that fails (for any reason) never escapes into Qt's painting, where every repaint
    would raise it again: the model shows no rows and emits ``failed`` once for that filter."""

    failed = Signal(object)  # the exception; once per filter and sort

    def __init__(self, session: Session, parent=None, *, filter: RegisterFilter | None = None):
        super().__init__(parent)
        self._session = session
        self._filter = filter or RegisterFilter()
        self._sort, self._descending = "audit_date", True
        self._pages: OrderedDict[int, list[tuple]] = OrderedDict()
        self._total = 0
        self._failure: BaseException | None = None
        self.reload()

    # -- data loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        self.beginResetModel()
        self._pages.clear()
        self._failure = None
        try:
            # The count and the first screen from one snapshot: they agree while others save.
            self._total, first = register.count_and_first_page(
                self._session, self._filter, limit=PAGE_SIZE, sort=self._sort,
                descending=self._descending)
            self._pages[0] = first
        except Exception as exc:  # noqa: BLE001 - shown once by the page, never re-raised
            self._total = 0
            self._fail(exc)
        finally:
            self.endResetModel()

    def _fail(self, exc: BaseException) -> None:
        if self._failure is not None:
            return  # already said for this filter
        self._failure = exc
        self.failed.emit(exc)

    @property
    def failure(self) -> BaseException | None:
        """Why the last count or page could not be read (None when all is well)."""
        return self._failure

    def _empty_after_failure(self) -> None:
        if self._failure is not None and self._total:
            self.beginResetModel()
            self._pages.clear()
            self._total = 0
            self.endResetModel()

    def _row(self, row: int) -> tuple | None:
        if self._failure is not None:
            return None
        number, index = divmod(row, PAGE_SIZE)
        page = self._pages.get(number)
        if page is None:
            try:
                page = register.page(self._session, self._filter, offset=number * PAGE_SIZE,
                                     limit=PAGE_SIZE, sort=self._sort,
                                     descending=self._descending)
            except Exception as exc:  # noqa: BLE001 - see the class's docstring
                self._fail(exc)
                # Called from data() while the view paints: empty the model once it is done.
                QTimer.singleShot(0, self._empty_after_failure)
                return None
            self._pages[number] = page
            while len(self._pages) > MAX_CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[index] if index < len(page) else None

    @property
    def cached_rows(self) -> int:
        return sum(len(p) for p in self._pages.values())

    def set_filter(self, f: RegisterFilter) -> None:
        if f == self._filter:
            return  # the same rows: nothing to count or fetch again
        self._filter = f
        self.reload()

    @property
    def filter(self) -> RegisterFilter:
        return self._filter

    @property
    def total(self) -> int:
        return self._total

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_KEYS.get(column)
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = key, descending
        if self._failure is not None:
            self.reload()  # another order may read fine where the last one failed
            return
        # The same rows in another order: the pages are fetched again, the count stands.
        self.beginResetModel()
        self._pages.clear()
        self.endResetModel()

    def row_of(self, audit_id: int) -> int | None:
        """The row an audit is on, if it is in the pages already fetched."""
        for number, page in self._pages.items():
            for index, row in enumerate(page):
                if row[0] == audit_id:
                    return number * PAGE_SIZE + index
        return None

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def audit_id(self, row: int) -> int | None:
        found = self._row(row)
        return None if found is None else found[0]

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in _ROLES:
            return None
        row = self._row(index.row())
        if row is None:  # the store changed under us; a refresh will follow
            return None
        col = index.column()
        _id, case_ref, date, area, team, auditor, grade, status, themes = row
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_GRADE:
                return Grade(grade).short_label if grade else "Not graded"
            if col == COL_STATUS:
                return AuditStatus(status).label
            if col == COL_DATE:
                return _uk_date(date)
            return (case_ref, date, area, team, auditor, grade, status, themes)[col] or ""
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_GRADE and grade:
            return QBrush(grade_colours()[Grade(grade)])
        if role == Qt.ItemDataRole.DecorationRole and col == COL_GRADE and grade:
            return grade_colours()[Grade(grade)]
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_THEMES and themes:
            return themes
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.UserRole:
            return _id
        return None


_ROLES = {Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
          Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
          Qt.ItemDataRole.UserRole, Qt.ItemDataRole.AccessibleTextRole}


def _uk_date(iso: str | None) -> str:
    if not iso:
        return ""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
