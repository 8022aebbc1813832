"""Pieces the moderation-loop pages share: a small table model whose "Overdue" rows carry the
word as well as the style, message lines beside fields, a scroll area, a dialog that asks for a
required text, the read-only audit view, and a loader that runs slow reads off the GUI thread."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import ValidationError
from sefton_qa.gui.labels import buddy_label, paragraph
from sefton_qa.services import register
from sefton_qa.services.audits import get_audit
from sefton_qa.services.session import Session
from sefton_qa.domain.wording import date_text
from sefton_qa.domain.working_days import is_overdue


OVERDUE = "Overdue"
#: Overdue is shown by its word first; the colours only repeat it (and pass WCAG AA contrast).
OVERDUE_FOREGROUND = QColor("#8e0000")
OVERDUE_BACKGROUND = QColor("#fde7e7")
PROBLEM_STYLE = "color: #8e0000;"


def fmt_date(d: dt.date | None) -> str:
    return date_text(d)


def to_qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def from_qdate(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


def due_status(due: dt.date | None, today: dt.date) -> tuple[str, bool]:
    """The status column's words, and whether the item is overdue."""
    if due is None:
        return "No due date", False
    days = (due - today).days
    if is_overdue(due, today):
        return OVERDUE, True
    if days == 0:
        return "Due today", False
    return f"Due in {days} day{'s' if days != 1 else ''}", False


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def date_edit(name: str, value: dt.date, *, maximum: dt.date | None = None,
              minimum: dt.date | None = None) -> QDateEdit:
    edit = QDateEdit(to_qdate(value))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setAccessibleName(name)
    if maximum is not None:
        edit.setMaximumDate(to_qdate(maximum))
    if minimum is not None:
        edit.setMinimumDate(to_qdate(minimum))
    return edit


def scroll_area(widget: QWidget, name: str) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setAccessibleName(name)
    return area


def message_label(name: str, *, problem: bool = True) -> QLabel:
    """A plain-text line for a message beside a field (hidden while empty)."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAccessibleName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    if problem:
        label.setStyleSheet(PROBLEM_STYLE)
    label.hide()
    return label


def set_message(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def problem_lines(exc: ValidationError, names: dict[str, str], *,
                  beside: bool = False) -> list[str]:
    """Service problems as sentences a person reads: "The learning is required: ...".
    ``beside``: the message sits beside its field, so a message that makes sense alone
    ("say who took part") is not prefixed with the field's name."""
    from sefton_qa.domain.wording import problem_sentence

    return [problem_sentence(names.get(p.field, p.field.replace("_", " ")), p.message,
                             beside=beside, full_stop=True) for p in exc.problems]


# -- a small table ------------------------------------------------------------------------------
@dataclass
class Row:
    values: Sequence[Any]
    key: Any = None
    overdue: bool = False
    tooltip: str = ""
    bold: bool = False
    data: Any = None


class RowsModel(QAbstractTableModel):
    """A few hundred rows at most (what is waiting, never the whole register). The status
    column of an overdue row says "Overdue" and is also bold, tinted and marked with an icon."""

    def __init__(self, headers: Sequence[str], parent=None, *, status_column: int | None = None,
                 numeric_columns: Sequence[int] = ()):
        super().__init__(parent)
        self.headers = list(headers)
        self.status_column = status_column
        self.numeric_columns = set(numeric_columns)
        self.rows: list[Row] = []

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def row_of(self, key) -> int | None:
        return next((n for n, r in enumerate(self.rows) if r.key == key), None)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        col = index.column()
        value = row.values[col]
        flagged = row.overdue and col == self.status_column
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self.numeric_columns:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and (flagged or row.bold):
            font = QFont()
            font.setBold(True)
            return font
        if flagged and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(OVERDUE_FOREGROUND)
        if flagged and role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(OVERDUE_BACKGROUND)
        if flagged and role == Qt.ItemDataRole.DecorationRole:
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return None


def table_view(model: RowsModel, name: str, object_name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(object_name)
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move within it
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                | Qt.AlignmentFlag.AlignVCenter)
    return view


def set_widths(view: QTableView, widths: Sequence[int]) -> None:
    for col, width in enumerate(widths):
        view.setColumnWidth(col, width)


# -- asking for a required text -----------------------------------------------------------------
class TextDialog(QDialog):
    """Asks for a required text (evidence, a reason). OK stays disabled, with the reason shown,
    until something is written."""

    def __init__(self, parent: QWidget | None, *, title: str, intro: str, label: str,
                 ok_text: str, missing: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("loopTextDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("dialogText")
        self.text_edit.setTabChangesFocus(True)
        self.missing = missing
        caption = buddy_label(label, self.text_edit)
        self.hint = message_label(f"Why {ok_text.replace('&', '')} is not available",
                                  problem=False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setAccessibleName(ok_text.replace("&", ""))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(intro, "About this"))
        layout.addWidget(caption)
        layout.addWidget(self.text_edit)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.text_edit.textChanged.connect(self._update)
        self._update()
        width = self.fontMetrics().averageCharWidth() * 72
        self.resize(width, self.sizeHint().height() + 40)

    def text(self) -> str:
        return self.text_edit.toPlainText().strip()

    def _update(self) -> None:
        ok = bool(self.text())
        self.ok_button.setEnabled(ok)
        set_message(self.hint, "" if ok else self.missing)


# -- the audit, read-only -----------------------------------------------------------------------
def audit_html(session: Session, audit_id: int, *, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The audit as the moderator or service manager reads it: its facts, findings, section
    grades and the other audits of the same case. Every user string is escaped."""
    e = html.escape
    names = register.names(session)
    a = get_audit(session, audit_id)
    grade = a.overall_grade.label if a.overall_grade else "Not graded"
    themes = ", ".join(names["themes"].get(t, "?") for t in a.theme_ids) or "None"
    rows = [
        ("Case reference", a.case_reference or ""),
        ("Audit date", fmt_date(a.audit_date)),
        ("Audit type", a.audit_type.label),
        ("How the case was chosen", a.selection.label),
        ("Service area", names["service_areas"].get(a.service_area_id, "")),
        ("Team", names["teams"].get(a.team_id, "")),
        ("Auditor", names["staff"].get(a.auditor_id, "")),
        ("Team manager", names["staff"].get(a.team_manager_id, "") if a.team_manager_id else ""),
        ("Overall grade", grade),
        ("Themes", themes),
        *extra,
    ]
    parts = [f"<h3>Audit of {e(a.case_reference or 'a new case')}</h3><table>"]
    parts += [f"<tr><td valign='top'><b>{e(k)}</b>&nbsp;</td><td>{e(v)}</td></tr>"
              for k, v in rows if v]
    parts.append("</table>")
    if a.findings:
        parts.append(f"<h4>Findings</h4><p>{e(a.findings).replace(chr(10), '<br>')}</p>")
    if a.sections:
        titles = register.section_titles(session, a.template_id)
        order = [k for k in titles if k in a.sections] + sorted(set(a.sections) - set(titles))
        parts.append("<h4>Sections</h4><ul>")
        for key in order:
            s = a.sections[key]
            label = s.grade.short_label if s.grade else "Not graded"
            title = titles.get(key, key.replace("_", " ").capitalize())
            notes = f" — {s.notes}" if s.notes else ""
            parts.append(f"<li>{e(title)}: <b>{e(label)}</b>{e(notes)}</li>")
        parts.append("</ul>")
    if a.case_reference:
        journey = register.case_history(session, a.case_reference)
        if len(journey) > 1:
            parts.append("<h4>Audits of this case</h4><ul>")
            for other in journey:
                g = other.overall_grade.short_label if other.overall_grade else "Not graded"
                mark = " (this audit)" if other.id == a.id else ""
                parts.append(f"<li>{e(fmt_date(other.audit_date))}: {e(g)}{e(mark)}</li>")
            parts.append("</ul>")
    return "".join(parts)


# -- slow reads off the GUI thread --------------------------------------------------------------
_RUNNING: set = set()  # jobs outlive a page that is closed while they run


class Loader(QObject):
    """Runs ``fn(session)`` on a worker thread with its own connection; only the latest
    request's answer is delivered (``loaded``), so a page refreshed twice shows the newer."""

    loaded = Signal(object)
    failed = Signal(object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self._generation = 0
        self._pending = 0

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(self, fn: Callable[[Session], Any]) -> None:
        from sefton_qa.gui.jobs import Job

        self._generation += 1
        generation = self._generation
        self._pending += 1
        job = Job(self.session, lambda session, _progress: fn(session), writes=False)
        _RUNNING.add(job)

        def done(result, ok: bool) -> None:
            try:
                self._pending -= 1
                if generation == self._generation:
                    (self.loaded if ok else self.failed).emit(result)
            except RuntimeError:  # the page was closed while the job ran
                pass

        job.succeeded.connect(lambda result: done(result, True))
        job.failed.connect(lambda exc: done(exc, False))
        # Let go of the job only after its own signal has returned.
        job.finished.connect(lambda: QTimer.singleShot(0, lambda: _RUNNING.discard(job)))
        job.start()
