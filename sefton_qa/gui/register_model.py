"""The audit register as a Qt table model that fetches only the rows it shows, page by page.

Sorting and filtering are done by SQL in the store; the model keeps the pages it has fetched.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

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
    Grade.REQUIRES_IMPROVEMENT: QColor("#b26a00"),
    Grade.INADEQUATE: QColor("#c62828"),
}
PAGE_SIZE = 200


class AuditRegisterModel(QAbstractTableModel):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._filter = RegisterFilter()
        self._sort, self._descending = "audit_date", True
        self._rows: list[tuple] = []
        self._total = 0
        self.reload()

    # -- data loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        self.beginResetModel()
        self._total = register.count(self._session, self._filter)
        self._rows = self._fetch(0)
        self.endResetModel()

    def _fetch(self, offset: int) -> list[tuple]:
        return register.page(self._session, self._filter, offset=offset, limit=PAGE_SIZE,
                             sort=self._sort, descending=self._descending)

    def set_filter(self, f: RegisterFilter) -> None:
        self._filter = f
        self.reload()

    @property
    def total(self) -> int:
        return self._total

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid():
            return
        more = self._fetch(len(self._rows))
        if not more:
            self._total = len(self._rows)
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_KEYS.get(column)
        if key is None:
            return
        self._sort = key
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    # -- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def audit_id(self, row: int) -> int:
        return self._rows[row][0]

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
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
            return QBrush(GRADE_COLOURS[Grade(grade)])
        if role == Qt.ItemDataRole.DecorationRole and col == COL_GRADE and grade:
            return GRADE_COLOURS[Grade(grade)]
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_THEMES and themes:
            return themes
        if role == Qt.ItemDataRole.UserRole:
            return _id
        return None


def _uk_date(iso: str | None) -> str:
    if not iso:
        return ""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"
