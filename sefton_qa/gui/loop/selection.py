"""Case selection (issue 19): the caseload, audit plans, the recorded random draw, allocation,
progress by team and the allocation list, for administrators (who import, plan, draw and
allocate) and service managers (who read).

Every write goes through the store's one operations path (:func:`operations.call`); a known
error (a problem with what was asked) is said beside the controls, anything else goes to the
error dialog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import PermissionDenied, SeftonError, ValidationError
from sefton_qa.domain.models import AuditType, Role
from sefton_qa.domain.periods import months, quarter_of
from sefton_qa.domain.sampling import Quota
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import (
    Row,
    RowsModel,
    TextDialog,
    date_edit,
    fmt_date,
    from_qdate,
    message_label,
    plural,
    problem_lines,
    scroll_area,
    set_message,
    set_widths,
    table_view,
)
from sefton_qa.services import caseload as caseload_service
from sefton_qa.services import plans as plan_service
from sefton_qa.services.session import Session

READ_ONLY_WHY = ("Only an administrator can import the caseload, plan, draw and allocate; "
                 "as a service manager you see the plans, the progress and the allocation "
                 "list, check the draws and export the list.")
#: How the service's field names read beside the controls.
FIELD_NAMES = {"period": "The period", "quotas": "The quotas", "why": "A reason",
               "plan": "The plan", "draw": "The draw", "allocation": "The allocation",
               "reserve": "The reserve", "auditors": "Allocation", "file": "The file",
               "taken_on": "The date taken", "exclude_months": "Months to leave out",
               "stratify_by": "Stratified by"}
CASELOAD_FILTER = "Case lists (*.csv *.xlsx *.ods *.xls);;All files (*)"
STRATA = (("team", "Team"), ("service_area", "Service area"))
RULES = (("per_stratum", "The same for each team (or service area)"),
         ("total", "A total, shared in proportion to caseload"))


def quarter_name(start: dt.date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def is_quarter(start: dt.date, end: dt.date) -> bool:
    return start.day == 1 and start.month in (1, 4, 7, 10) and months(start, 3) == (start, end)


def period_text(start: dt.date, end: dt.date) -> str:
    if is_quarter(start, end):
        return f"{quarter_name(start)} ({fmt_date(start)} to {fmt_date(end)})"
    return f"{fmt_date(start)} to {fmt_date(end)}"


def _write(session: Session, fn):
    """A service write through the store's one operations path (never on the GUI thread)."""
    from sefton_qa.gui import operations

    return operations.call(session, fn)


def _known(exc: BaseException) -> str | None:
    """The words for an error that is the person's to fix, or None (a bug: the dialog)."""
    if isinstance(exc, ValidationError):
        return " ".join(problem_lines(exc, FIELD_NAMES))
    if isinstance(exc, SeftonError):
        return str(exc)
    return None


def report_lines(report) -> list[str]:
    """The import report's lines, its command-line words put as the dialog says them."""
    return [line.replace("import with --create-missing", "tick Create missing teams")
            for line in report.lines()]


def _lines_box(name: str, object_name: str, lines: int = 8) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(object_name)
    box.setReadOnly(True)
    box.setAccessibleName(name)
    box.setTabChangesFocus(True)
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    box.setMinimumHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


def _section(text: str, buddy: QWidget, accessible: str) -> QLabel:
    """A part's heading that is also its table's label: its Alt letter moves to the table."""
    label = buddy_label(text, buddy, accessible=accessible)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.1)
    font.setBold(True)
    label.setFont(font)
    return label


def _button(text: str, name: str, object_name: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(object_name)
    button.setAccessibleName(name)
    button.clicked.connect(lambda _checked=False: slot())
    return button


# -- importing the caseload ------------------------------------------------------------------------
class CaseloadImportDialog(QDialog):
    """Import a case list: choose the file, check it (a dry run: its report, nothing written),
    then import it as a dated snapshot. Problems are listed; nothing is imported while any."""

    imported = Signal(object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("caseloadImportDialog")
        self.setWindowTitle("Import the caseload")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.checked: tuple | None = None  # what the last clean dry run was of
        self.report = None
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("caseloadFile")
        self.path_edit.setPlaceholderText("A .csv, .xlsx, .ods or .xls file")
        self.browse_button = _button("&Browse…", "Choose the case list file", "caseloadBrowse",
                                     self.browse)
        self.create_missing = QCheckBox("Create &missing teams (and service areas)")
        self.create_missing.setObjectName("caseloadCreateMissing")
        self.create_missing.setAccessibleName("Create teams the store does not know")
        today = session.today()
        self.taken_on = date_edit("The date the caseload was taken", today, maximum=today)
        self.taken_on.setObjectName("caseloadTakenOn")
        self.check_button = _button("Chec&k the file", "Check the file (a dry run, nothing "
                                    "written)", "caseloadCheck", self.check)
        self.import_button = _button("&Import", "Import the caseload", "caseloadImport",
                                     self.do_import)
        self.report_box = _lines_box("What the check or import found", "caseloadReport", 10)
        self.hint = message_label("Why Import is not available", problem=False)
        self.message = message_label("Import problem")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.browse_button)
        form = QGridLayout()
        form.addWidget(buddy_label("&File:", self.path_edit, accessible="The case list file"),
                       0, 0)
        form.addLayout(file_row, 0, 1)
        form.addWidget(buddy_label("Taken &on:", self.taken_on), 1, 0)
        form.addWidget(self.taken_on, 1, 1, Qt.AlignmentFlag.AlignLeft)
        form.addWidget(self.create_missing, 2, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.check_button)
        actions.addWidget(self.import_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(
            "The open cases exported from the case-management system: case reference, team, "
            "case type and open date (and optionally the team manager). The file is checked "
            "first and nothing is written until you import it; columns of personal data are "
            "refused.", "About importing the caseload"))
        layout.addLayout(form)
        layout.addLayout(actions)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        layout.addWidget(buddy_label("&Report:", self.report_box,
                                     accessible="What the check or import found"))
        layout.addWidget(self.report_box, 1)
        layout.addWidget(self.buttons)
        self.path_edit.textChanged.connect(self._changed)
        self.create_missing.toggled.connect(self._changed)
        self.taken_on.dateChanged.connect(self._changed)
        self._changed()
        self.resize(self.fontMetrics().averageCharWidth() * 96, 520)

    def _what(self) -> tuple:
        return (self.path_edit.text().strip(), self.create_missing.isChecked(),
                from_qdate(self.taken_on.date()))

    def _changed(self, *_args) -> None:
        ready = self.checked is not None and self.checked == self._what()
        self.import_button.setEnabled(ready)
        self.check_button.setEnabled(bool(self._what()[0]))
        self.check_button.setDefault(not ready)
        self.import_button.setDefault(ready)
        set_message(self.hint, "" if ready else
                    "Choose the file and check it first: Import is available once the check "
                    "finds no problem.")

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "The caseload to import",
                                              self.path_edit.text(), CASELOAD_FILTER)
        if name:
            self.path_edit.setText(name)
            self.check_button.setFocus()

    def _run(self, dry_run: bool):
        path, create, taken = self._what()
        set_message(self.message, "")
        if not path:
            return None
        if not Path(path).is_file():
            set_message(self.message, f"There is no file {path}.")
            return None
        try:
            return _write(self.session, lambda s: caseload_service.import_caseload(
                s, path, taken_on=taken, create_missing=create, dry_run=dry_run))
        except BaseException as exc:  # noqa: BLE001
            words = _known(exc)
            if words is None:
                show_error(self, exc, title="Cannot import the caseload")
            else:
                set_message(self.message, words)
            return None

    def check(self) -> None:
        report = self._run(dry_run=True)
        self.checked = None
        if report is not None:
            self.report_box.setPlainText("\n".join(report_lines(report)))
            if report.ok:
                self.checked = self._what()
            else:
                set_message(self.message, "The file has problems (listed below); nothing can "
                                          "be imported until they are put right.")
        self._changed()
        if self.import_button.isEnabled():
            self.import_button.setFocus()

    def do_import(self) -> None:
        if not self.import_button.isEnabled():
            return
        report = self._run(dry_run=False)
        if report is None:
            return
        self.report = report
        self.report_box.setPlainText("\n".join(report_lines(report)))
        self.checked = None
        self._changed()
        if report.ok:
            self.imported.emit(report)
        else:
            set_message(self.message, "The file has problems (listed below); nothing was "
                                      "imported.")


# -- a new plan ------------------------------------------------------------------------------------
class NewPlanDialog(QDialog):
    """A plan for a quarter (or dates): the quotas the same for each team or a total shared in
    proportion to caseload, cases audited recently left out; previewed before it is made."""

    created = Signal(object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("newPlanDialog")
        self.setWindowTitle("New audit plan")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.previewed: tuple | None = None
        today = session.today()
        current = quarter_of(today)[0]
        self.quarter_radio = QRadioButton("A &quarter:")
        self.quarter_radio.setObjectName("planByQuarter")
        self.dates_radio = QRadioButton("&Dates:")
        self.dates_radio.setObjectName("planByDates")
        group = QButtonGroup(self)
        group.addButton(self.quarter_radio)
        group.addButton(self.dates_radio)
        self.quarter_combo = QComboBox()
        self.quarter_combo.setObjectName("planQuarter")
        self.quarter_combo.setAccessibleName("The quarter to plan")
        for step in range(-4, 9):
            index = current.year * 12 + current.month - 1 + 3 * step
            start = dt.date(index // 12, index % 12 + 1, 1)
            self.quarter_combo.addItem(period_text(*months(start, 3)), start)
        self.quarter_combo.setCurrentIndex(4)
        start, end = quarter_of(today)
        self.from_edit = date_edit("The plan's first day", start)
        self.from_edit.setObjectName("planFrom")
        self.to_edit = date_edit("The plan's last day", end)
        self.to_edit.setObjectName("planTo")
        self.stratify = QComboBox()
        self.stratify.setObjectName("planStratify")
        for key, text in STRATA:
            self.stratify.addItem(text, key)
        self.rule = QComboBox()
        self.rule.setObjectName("planRule")
        for key, text in RULES:
            self.rule.addItem(text, key)
        self.deep = QSpinBox()
        self.deep.setObjectName("planDeepDives")
        self.deep.setRange(0, 1000)
        self.deep.setValue(2)
        self.dip = QSpinBox()
        self.dip.setObjectName("planDipSamples")
        self.dip.setRange(0, 1000)
        self.dip.setValue(1)
        self.exclude = QSpinBox()
        self.exclude.setObjectName("planExcludeMonths")
        self.exclude.setRange(0, plan_service.MAX_EXCLUDE_MONTHS)
        self.exclude.setValue(plan_service.DEFAULT_EXCLUDE_MONTHS)
        self.exclude.setSuffix(" months")
        self.quota_words = QLabel()
        self.quota_words.setWordWrap(True)
        self.quota_words.setAccessibleName("What the quotas mean")
        self.preview_box = _lines_box("What the plan would draw", "planPreview", 8)
        self.message = message_label("Plan problem")
        self.message.setObjectName("planMessage")
        self.hint = message_label("Why Create plan is not available", problem=False)
        self.preview_button = _button("&Preview", "Preview the plan (nothing is written)",
                                      "planPreviewButton", self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("&Create plan")
        self.create_button.setObjectName("planCreate")
        self.create_button.setAccessibleName("Create the plan")
        self.buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)

        form = QGridLayout()
        period = QHBoxLayout()
        period.addWidget(self.from_edit)
        period.addWidget(buddy_label("&To:", self.to_edit, accessible="The plan's last day"))
        period.addWidget(self.to_edit)
        period.addStretch(1)
        form.addWidget(self.quarter_radio, 0, 0)
        form.addWidget(self.quarter_combo, 0, 1)
        form.addWidget(self.dates_radio, 1, 0)
        form.addLayout(period, 1, 1)
        form.addWidget(buddy_label("Stratif&y by:", self.stratify,
                                   accessible="Stratified by"), 2, 0)
        form.addWidget(self.stratify, 2, 1)
        form.addWidget(buddy_label("Quota &rule:", self.rule, accessible="How the quotas are set"),
                       3, 0)
        form.addWidget(self.rule, 3, 1)
        counts = QHBoxLayout()
        counts.addWidget(buddy_label("Deep di&ves:", self.deep, accessible="Deep dives"))
        counts.addWidget(self.deep)
        counts.addWidget(buddy_label("D&ip samples:", self.dip, accessible="Dip samples"))
        counts.addWidget(self.dip)
        counts.addStretch(1)
        form.addLayout(counts, 4, 1)
        form.addWidget(self.quota_words, 5, 1)
        form.addWidget(buddy_label("Months to &leave out:", self.exclude,
                                   accessible="Leave out cases audited in the months before"),
                       6, 0)
        form.addWidget(self.exclude, 6, 1, Qt.AlignmentFlag.AlignLeft)
        form.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(paragraph(
            "Plan a period's random sample from the latest caseload snapshot. Cases with an "
            "audit submitted in the months before the period starts are left out. Preview the "
            "plan first: it shows each team's open, left-out and eligible cases and what "
            "the draw would take.", "About a new plan"))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buddy_label("What the plan &would draw:", self.preview_box,
                                     accessible="What the plan would draw"))
        layout.addWidget(self.preview_box, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.quarter_radio.setChecked(True)
        for signal in (self.quarter_radio.toggled, self.quarter_combo.currentIndexChanged,
                       self.from_edit.dateChanged, self.to_edit.dateChanged,
                       self.stratify.currentIndexChanged, self.rule.currentIndexChanged,
                       self.deep.valueChanged, self.dip.valueChanged,
                       self.exclude.valueChanged):
            signal.connect(self._changed)
        self._changed()
        self.resize(self.fontMetrics().averageCharWidth() * 100, 600)

    def period(self) -> tuple[dt.date, dt.date]:
        if self.quarter_radio.isChecked():
            return months(self.quarter_combo.currentData(), 3)
        return from_qdate(self.from_edit.date()), from_qdate(self.to_edit.date())

    def arguments(self) -> tuple[dt.date, dt.date, dict]:
        start, end = self.period()
        quota = Quota(self.deep.value(), self.dip.value())
        key = "per_stratum" if self.rule.currentData() == "per_stratum" else "total"
        return start, end, {key: quota, "stratify_by": self.stratify.currentData(),
                            "exclude_months": self.exclude.value()}

    def _changed(self, *_args) -> None:
        by_quarter = self.quarter_radio.isChecked()
        self.quarter_combo.setEnabled(by_quarter)
        self.from_edit.setEnabled(not by_quarter)
        self.to_edit.setEnabled(not by_quarter)
        unit = "team" if self.stratify.currentData() == "team" else "service area"
        self.quota_words.setText(
            f"Each {unit} gets these deep dives and dip samples." if
            self.rule.currentData() == "per_stratum" else
            f"The plan's whole sample, shared among the {unit}s in proportion to their open "
            "cases.")
        ready = self.previewed is not None and self.previewed == self._key()
        self.create_button.setEnabled(ready)
        self.create_button.setDefault(ready)
        self.preview_button.setDefault(not ready)
        set_message(self.hint, "" if ready else
                    "Preview the plan first: Create plan is available once the preview shows "
                    "what it would draw.")

    def _key(self) -> tuple:
        start, end, kwargs = self.arguments()
        return (start, end, tuple(sorted((k, v) for k, v in kwargs.items())))

    def _check(self) -> None:
        """A plan that would draw nothing is refused here, before the service is asked."""
        if self.deep.value() + self.dip.value() == 0:
            raise ValidationError.single("quotas", "give at least one deep dive or dip sample")

    def _ask(self, fn):
        set_message(self.message, "")
        try:
            self._check()
            return fn()
        except BaseException as exc:  # noqa: BLE001
            words = _known(exc)
            if words is None:
                show_error(self, exc, title="Cannot plan")
            else:
                set_message(self.message, words)
            return None

    def preview(self) -> None:
        start, end, kwargs = self.arguments()
        key = self._key()
        found = self._ask(lambda: plan_service.preview_plan(self.session, start, end, **kwargs))
        self.previewed = key if found is not None else None
        self.preview_box.setPlainText("\n".join(found.lines()) if found is not None else "")
        self._changed()
        if self.create_button.isEnabled():
            self.create_button.setFocus()

    def create(self) -> None:
        if not self.create_button.isEnabled():
            return
        start, end, kwargs = self.arguments()
        change = self._ask(lambda: _write(self.session, lambda s: plan_service.create_plan(
            s, start, end, **kwargs)))
        if change is None:
            self.previewed = None
            self._changed()
            return
        self.created.emit(change)
        self.accept()


# -- the page --------------------------------------------------------------------------------------
class CaseSelectionPage(QWidget):
    """The caseload, the plans, the selected plan's draw, its progress by team and its
    allocation list."""

    changed = Signal(object)
    #: The tables whose changes this page shows (the window refreshes it when one is touched).
    SHOWS = ("caseload_snapshots", "caseload_cases", "audit_plans", "plan_quotas", "draws",
             "drawn_cases", "allocations", "audits", "staff", "teams")
    PLAN_HEADERS = ("Period", "By", "Deep dives", "Dip samples", "Status", "Kept draw")
    PROGRESS_HEADERS = ("Team", "Planned", "Done", "Overdue")
    ALLOCATION_HEADERS = ("Case reference", "Team", "Audit type", "Auditor", "Due date",
                          "Status", "Why a reserve")

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("caseSelectionPage")
        self.dialog = None
        self.plans: list = []
        self.kept: dict[int, object] = {}
        #: How many draws each plan has had (kept and discarded).
        self.draw_counts: dict[int, int] = {}
        self.can_read = True

        # caseload
        self.caseload_label = QLabel()
        self.caseload_label.setObjectName("caseloadSummary")
        self.caseload_label.setWordWrap(True)
        self.caseload_label.setTextFormat(Qt.TextFormat.PlainText)
        self.caseload_label.setAccessibleName("The latest caseload snapshot")
        self.import_button = _button("Import &caseload…", "Import the caseload from a file",
                                     "importCaseload", self.import_caseload)

        # plans
        self.plan_model = RowsModel(self.PLAN_HEADERS, self, numeric_columns=(2, 3))
        self.plan_table = table_view(self.plan_model, "Audit plans", "planList")
        set_widths(self.plan_table, (100, 50, 75, 85, 75, 90))
        rows_high = self.plan_table.verticalHeader().defaultSectionSize()
        self.plan_table.setMaximumHeight(rows_high * 6 + 40)
        self.plan_table.selectionModel().currentRowChanged.connect(
            lambda *_a: self._show_plan())
        self.new_plan_button = _button("&New plan…", "Plan a period's random sample",
                                       "newPlan", self.new_plan)
        self.cancel_plan_button = _button("Cancel p&lan…", "Cancel the selected plan, with a "
                                          "reason", "cancelPlan", self.cancel_plan)

        # draw
        self.draw_label = QLabel()
        self.draw_label.setObjectName("drawSummary")
        self.draw_label.setWordWrap(True)
        self.draw_label.setTextFormat(Qt.TextFormat.PlainText)
        self.draw_label.setAccessibleName("The selected plan's draw")
        self.preview_button = _button("Previe&w draw", "Preview the selected plan's draw "
                                      "(nothing is drawn)", "previewDraw", self.preview_draw)
        self.draw_button = _button("&Draw now…", "Draw the selected plan's sample and "
                                   "allocate it", "drawNow", self.draw_now)
        self.discard_button = _button("Disc&ard draw…", "Discard the selected plan's draw, "
                                      "with a reason", "discardDraw", self.discard_draw)
        self.check_button = _button("Chec&k draws", "Recompute every recorded draw",
                                    "checkDraws", self.check_draws)
        self.details = _lines_box("Draw details", "drawDetails", 7)
        self.details_label = buddy_label("Draw detail&s:", self.details,
                                         accessible="Draw details")

        # progress and allocations
        self.progress_model = RowsModel(self.PROGRESS_HEADERS, self, status_column=3,
                                        numeric_columns=(1, 2, 3))
        self.progress_table = table_view(self.progress_model, "Progress by team",
                                         "progressList")
        set_widths(self.progress_table, (230, 70, 60, 70))
        self.allocation_model = RowsModel(self.ALLOCATION_HEADERS, self, status_column=5)
        self.allocation_table = table_view(self.allocation_model, "Allocations",
                                           "allocationList")
        set_widths(self.allocation_table, (100, 165, 80, 125, 80, 70, 160))
        self.allocation_table.selectionModel().currentRowChanged.connect(
            lambda *_a: self._update_buttons())
        self.reserve_button = _button("&Use reserve…", "Replace the selected case by its "
                                      "team's next reserve, with a reason", "useReserve",
                                      self.use_reserve)
        self.export_button = _button("E&xport allocations…", "Export the allocation list",
                                     "exportAllocations", self.export_allocations)
        self.allocation_count = QLabel()
        self.allocation_count.setAccessibleName("How many cases are allocated")

        self.why_label = QLabel()
        self.why_label.setObjectName("caseSelectionWhy")
        self.why_label.setWordWrap(True)
        self.why_label.setAccessibleName("Why the buttons are not available")
        self.message = message_label("Case selection problem")
        self.message.setObjectName("caseSelectionMessage")
        self.done_label = message_label("Last change", problem=False)
        self.done_label.setObjectName("caseSelectionDone")

        # the layout: the caseload, plans and draw on the left; progress and allocations right
        left = QVBoxLayout()
        left.addWidget(heading("Caseload"))
        left.addWidget(self.caseload_label)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addStretch(1)
        left.addLayout(row)
        left.addWidget(_section("&Plans", self.plan_table, "Audit plans"))
        left.addWidget(self.plan_table)
        row = QHBoxLayout()
        row.addWidget(self.new_plan_button)
        row.addWidget(self.cancel_plan_button)
        row.addStretch(1)
        left.addLayout(row)
        left.addWidget(heading("Draw"))
        left.addWidget(self.draw_label)
        row = QHBoxLayout()
        for button in (self.preview_button, self.draw_button, self.discard_button,
                       self.check_button):
            row.addWidget(button)
        row.addStretch(1)
        left.addLayout(row)
        left.addWidget(self.details_label)
        left.addWidget(self.details, 1)

        right = QVBoxLayout()
        right.addWidget(_section("Pro&gress by team", self.progress_table,
                                 "Progress by team"))
        right.addWidget(self.progress_table, 2)
        top = QHBoxLayout()
        top.addWidget(_section("All&ocations", self.allocation_table, "Allocations"))
        top.addStretch(1)
        top.addWidget(self.allocation_count)
        right.addLayout(top)
        right.addWidget(self.allocation_table, 5)
        row = QHBoxLayout()
        row.addWidget(self.reserve_button)
        row.addWidget(self.export_button)
        row.addStretch(1)
        right.addLayout(row)

        body = QWidget()
        columns = QHBoxLayout()
        columns.addLayout(left, 5)
        columns.addLayout(right, 7)
        inner = QVBoxLayout(body)
        inner.addWidget(heading("Case selection", 1.25))
        inner.addWidget(paragraph(
            "Choose which cases to audit: a fair, random, recorded sample of the caseload. "
            "Import the caseload, plan the period's quotas, then draw: each team's cases are "
            "drawn at random and allocated to auditors outside the team.",
            "About case selection"))
        inner.addWidget(self.why_label)
        inner.addWidget(self.message)
        inner.addWidget(self.done_label)
        inner.addLayout(columns, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll_area(body, "Case selection"))
        # No focus proxy: Tab into the page starts at its first control (Import caseload),
        # not in the middle of it; Alt+P goes to the plans.
        self.refresh()

    # -- who may do what ---------------------------------------------------------------------
    @property
    def me(self):
        return self.session.actor

    @property
    def is_planner(self) -> bool:
        return self.me.has_role(Role.ADMINISTRATOR)

    # -- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        current = self.selected_plan()
        keep = current.id if current else None
        try:
            snapshots = caseload_service.list_snapshots(self.session)
            comparison = caseload_service.compare_snapshots(self.session) if snapshots \
                else None
            self.plans = plan_service.list_plans(self.session)
            draws = plan_service.list_draws(self.session)
            self.kept = {d.plan_id: d for d in draws if d.status == "kept"}
            self.draw_counts = {}
            for d in draws:
                self.draw_counts[d.plan_id] = self.draw_counts.get(d.plan_id, 0) + 1
            self.can_read = True
        except PermissionDenied:
            self.can_read = False
            snapshots, comparison, self.plans, self.kept = [], None, [], {}
            self.draw_counts = {}
        self._show_caseload(snapshots, comparison)
        rows = []
        for plan in self.plans:
            deep = sum(q.deep_dives for q in plan.quotas)
            dip = sum(q.dip_samples for q in plan.quotas)
            kept = self.kept.get(plan.id)
            short = quarter_name(plan.period_start) \
                if is_quarter(plan.period_start, plan.period_end) \
                else period_text(plan.period_start, plan.period_end)
            by = "Team" if plan.stratify_by == "team" else "Area"
            rows.append(Row((short, by, deep, dip,
                             plan.status.capitalize(),
                             f"Yes (draw {kept.id})" if kept else "No"),
                            key=plan.id, data=plan,
                            tooltip=f"{period_text(plan.period_start, plan.period_end)}; cases "
                                    f"audited in the {plan.exclude_months} months before left "
                                    f"out; due by {fmt_date(plan.due_date)}"))
        self.plan_model.set_rows(rows)
        row = self.plan_model.row_of(keep) if keep is not None else None
        if row is None and rows:
            this_quarter = quarter_of(self.session.today())
            row = next((n for n, r in enumerate(rows) if r.data.status == "open" and
                        (r.data.period_start, r.data.period_end) == this_quarter), None)
            if row is None:  # else the newest open plan (the list is newest first)
                row = next((n for n, r in enumerate(rows) if r.data.status == "open"), 0)
        if row is not None:
            self.plan_table.selectRow(row)
        self._show_plan()

    def _show_caseload(self, snapshots, comparison) -> None:
        if not self.can_read:
            self.caseload_label.setText("Case selection is for administrators and service "
                                        "managers.")
            return
        if not snapshots:
            self.caseload_label.setText("No caseload yet: import the case list exported from "
                                        "the case-management system to plan and draw.")
            return
        latest = snapshots[0]
        text = (f"Latest snapshot: taken on {fmt_date(latest.taken_on)}, "
                f"{plural(latest.case_count, 'open case')}, from {latest.file_name}.")
        if comparison is not None and comparison.previous is not None:
            text += (f" Since the snapshot of {fmt_date(comparison.previous.taken_on)}: "
                     f"{len(comparison.opened):,} opened, {len(comparison.closed):,} closed"
                     + (f", {len(comparison.moved):,} moved team" if comparison.moved else "")
                     + ".")
        else:
            text += " It is the first snapshot: nothing to compare it with."
        self.caseload_label.setText(text)

    def selected_plan(self):
        index = self.plan_table.currentIndex()
        if not index.isValid() or index.row() >= len(self.plan_model.rows):
            return None
        return self.plan_model.rows[index.row()].data

    def select_plan(self, plan_id: int) -> bool:
        row = self.plan_model.row_of(plan_id)
        if row is None:
            return False
        self.plan_table.selectRow(row)
        return True

    def selected_allocation(self):
        index = self.allocation_table.currentIndex()
        if not index.isValid() or index.row() >= len(self.allocation_model.rows):
            return None
        return self.allocation_model.rows[index.row()].data

    def kept_draw(self):
        plan = self.selected_plan()
        return self.kept.get(plan.id) if plan else None

    def _show_plan(self) -> None:
        plan = self.selected_plan()
        draw = self.kept.get(plan.id) if plan else None
        today = self.session.today()
        if plan is None:
            self.draw_label.setText("No plan yet: make one with New plan." if self.can_read
                                    else "")
        elif draw is None:
            made = self.draw_counts.get(plan.id, 0)
            self.draw_label.setText(
                f"{period_text(plan.period_start, plan.period_end)}: "
                + ("cancelled." if plan.status != "open" else "not drawn yet.")
                + (f" {plural(made, 'earlier draw')} discarded (kept on record)." if made
                   else ""))
        else:
            seed = "a given seed" if draw.seed_source == "given" else "a random seed"
            self.draw_label.setText(
                f"{period_text(plan.period_start, plan.period_end)}: draw {draw.id}, "
                f"{plural(draw.sample_size, 'case')} drawn from "
                f"{plural(draw.open_cases, 'open case')} with {seed}, due by "
                f"{fmt_date(plan.due_date)}."
                + (f" {plural(made - 1, 'earlier draw')} discarded (kept on record)."
                   if (made := self.draw_counts.get(plan.id, 0)) > 1 else ""))
        progress = plan_service.plan_progress(self.session, plan.id) \
            if plan is not None and self.can_read else []
        self.progress_model.set_rows([
            Row((p.team, p.planned, p.done, f"{p.overdue}" + (" (overdue)" if p.overdue
                                                              else "")),
                key=p.team_id, overdue=bool(p.overdue), data=p) for p in progress])
        items = plan_service.allocations(self.session, draw_id=draw.id, current_only=False) \
            if draw is not None else []
        items = [a for a in items if a.status != "cancelled"]
        rows = []
        for a in items:
            if a.status == "replaced":
                status, late = "Replaced", False
            elif a.is_done():
                status, late = "Done", False
            elif a.is_overdue(today):
                status, late = "Overdue", True
            else:
                status, late = "To do", False
            rows.append(Row((a.case_reference, a.team, AuditType(a.audit_type).label,
                             a.auditor or "Nobody", fmt_date(a.due_date), status,
                             a.reserve_reason or ""), key=a.id, overdue=late, data=a,
                            tooltip=a.reserve_reason or ""))
        selected = self.selected_allocation()
        self.allocation_model.set_rows(rows)
        if selected is not None and self.allocation_model.row_of(selected.id) is not None:
            self.allocation_table.selectRow(self.allocation_model.row_of(selected.id))
        current = [a for a in items if a.status == "allocated"]
        self.allocation_count.setText(
            f"{plural(len(current), 'case')}, {sum(a.is_done() for a in current):,} done"
            if draw is not None else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        plan = self.selected_plan()
        draw = self.kept.get(plan.id) if plan else None
        allocation = self.selected_allocation()
        planner = self.is_planner
        is_open = plan is not None and plan.status == "open"
        self.import_button.setEnabled(planner)
        self.new_plan_button.setEnabled(planner)
        self.cancel_plan_button.setEnabled(planner and is_open and draw is None)
        self.preview_button.setEnabled(planner and is_open)
        self.draw_button.setEnabled(planner and is_open and draw is None)
        self.discard_button.setEnabled(planner and draw is not None)
        self.check_button.setEnabled(self.can_read)
        self.reserve_button.setEnabled(planner and allocation is not None
                                       and allocation.status == "allocated"
                                       and not allocation.is_done())
        self.export_button.setEnabled(self.can_read and draw is not None)
        if not self.can_read:
            why = "Case selection is for administrators and service managers."
        elif not planner:
            why = READ_ONLY_WHY
        elif plan is None:
            why = "Make a plan for the period (New plan), then draw it."
        elif not is_open:
            why = "The selected plan is cancelled: select an open plan to draw it."
        elif draw is not None:
            why = ("The plan is drawn: to draw again, discard the draw first, saying why. "
                   "Select an allocated case to use a reserve for it.")
        else:
            why = "Preview the draw, then draw it: the cases are allocated at once."
        self.why_label.setText(why)

    # -- writing ---------------------------------------------------------------------------------
    def write(self, fn):
        """A service write through the store's one operations path (never on the GUI
        thread); the window hears what it touched."""
        return _write(self.session, fn)

    def _attempt(self, fn, title: str):
        """``fn()``; a known error is said beside the controls (None returned), anything else
        goes to the error dialog."""
        set_message(self.message, "")
        set_message(self.done_label, "")
        try:
            return fn()
        except BaseException as exc:  # noqa: BLE001
            words = _known(exc)
            if words is None:
                show_error(self, exc, title=title)
            else:
                set_message(self.message, words)
            return None

    def _done(self, text: str, change=None) -> None:
        self.refresh()
        set_message(self.done_label, text)
        if change is not None:
            self.changed.emit(change)

    def _open(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: (dialog.deleteLater(),
                                            setattr(self, "dialog", None)))
        dialog.open()
        return dialog

    def _show_details(self, lines: list[str]) -> None:
        self.details.setPlainText("\n".join(lines))

    # caseload
    def import_caseload(self) -> CaseloadImportDialog | None:
        if not self.import_button.isEnabled():
            return None
        dialog = CaseloadImportDialog(self.session, self)
        dialog.imported.connect(lambda report: self._done(
            f"Imported a caseload snapshot of {plural(report.cases, 'open case')}.",
            caseload_service.import_change(report)))
        return self._open(dialog)

    # plans
    def new_plan(self) -> NewPlanDialog | None:
        if not self.new_plan_button.isEnabled():
            return None
        dialog = NewPlanDialog(self.session, self)
        dialog.created.connect(self._plan_created)
        return self._open(dialog)

    def _plan_created(self, change) -> None:
        self.refresh()
        if change.record_ids:
            self.select_plan(change.record_ids[0])
        plan = self.selected_plan()
        set_message(self.done_label, "Plan made" + (
            f" for {period_text(plan.period_start, plan.period_end)}" if plan else "")
            + ": preview the draw, then draw it.")
        self.changed.emit(change)

    def _reason(self, *, title: str, intro: str, label: str, ok_text: str, then) -> TextDialog:
        dialog = TextDialog(self, title=title, intro=intro, label=label, ok_text=ok_text,
                            missing="A reason is required: it is kept on record.")
        dialog.accepted.connect(lambda: then(dialog.text()))
        return self._open(dialog)

    def cancel_plan(self) -> TextDialog | None:
        plan = self.selected_plan()
        if plan is None or not self.cancel_plan_button.isEnabled():
            return None
        what = period_text(plan.period_start, plan.period_end)

        def then(why: str) -> None:
            change = self._attempt(lambda: self.write(
                lambda s: plan_service.cancel_plan(s, plan.id, why)), "Cannot cancel the plan")
            if change is not None:
                self._done(f"The plan for {what} was cancelled.", change)

        return self._reason(title="Cancel the plan",
                            intro=f"The plan for {what}. Say why it is cancelled; the reason "
                                  "is kept on record.",
                            label="&Why the plan is cancelled:", ok_text="Cancel the &plan",
                            then=then)

    # the draw
    def preview_draw(self) -> None:
        plan = self.selected_plan()
        if plan is None or not self.preview_button.isEnabled():
            return
        found = self._attempt(lambda: plan_service.preview_draw(self.session, plan.id),
                              "Cannot preview the draw")
        if found is not None:
            self._show_details(found.lines())
            set_message(self.done_label, f"Preview: the draw would take "
                                         f"{plural(found.sample, 'case')} from "
                                         f"{plural(found.open_cases, 'open case')}; nothing "
                                         "was drawn.")

    def draw_now(self) -> QMessageBox | None:
        plan = self.selected_plan()
        if plan is None or not self.draw_button.isEnabled():
            return None
        box = QMessageBox(QMessageBox.Icon.Question, "Draw the sample",
                          f"Draw the sample for {period_text(plan.period_start, plan.period_end)}"
                          " now, and allocate it to auditors?\n\nThe draw is recorded with its "
                          "seed. To draw again later it must be discarded with a reason, and "
                          "the discarded draw stays on record.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setObjectName("confirmDraw")
        box.button(QMessageBox.StandardButton.Yes).setText("&Draw and allocate")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.finished.connect(lambda _r: self._draw(plan) if box.clickedButton() is yes
                             else None)
        return self._open(box)

    def _draw(self, plan) -> None:
        result = self._attempt(lambda: self.write(
            lambda s: plan_service.make_draw(s, plan.id)), "Cannot draw")
        if result is None:
            self.refresh()
            return
        outcome = self._attempt(lambda: self.write(
            lambda s: plan_service.allocate_draw(s, result.draw.id)), "Cannot allocate")
        if outcome is None:  # drawn and kept, but not allocated: say so beside the problem
            problem = self.message.text() or "the error shown."
            self.refresh()
            self._show_details(result.lines(plan))
            set_message(self.message, f"Draw {result.draw.id} was made and is kept, but its "
                                      f"cases could not be allocated: {problem} Put that "
                                      "right, then discard the draw (saying why) and draw "
                                      "again.")
            self.changed.emit(result.change)
            return
        self._show_details(result.lines(plan) + outcome.lines())
        reserves = sum(1 for c in result.cases if c.is_reserve)
        auditors = len(outcome.counts)
        text = (f"Draw {result.draw.id}: {plural(result.draw.sample_size, 'case')} drawn at "
                f"random from {plural(result.draw.open_cases, 'open case')}, with "
                f"{plural(reserves, 'reserve')}; {outcome.allocated:,} allocated to "
                f"{plural(auditors, 'auditor')}.")
        if outcome.unallocated:
            text += " No auditor may take " + ", ".join(outcome.unallocated) + \
                " (own team or team manager)."
        self._done(text, result.change)

    def discard_draw(self) -> TextDialog | None:
        draw = self.kept_draw()
        if draw is None or not self.discard_button.isEnabled():
            return None

        def then(why: str) -> None:
            change = self._attempt(lambda: self.write(
                lambda s: plan_service.discard_draw(s, draw.id, why)), "Cannot discard the draw")
            if change is not None:
                self._done(f"Draw {draw.id} was discarded and stays on record; its "
                           "allocations were cancelled. The plan can be drawn again.", change)

        return self._reason(title="Discard the draw",
                            intro=f"Draw {draw.id}. Every draw, including discarded ones, is "
                                  "kept on record with who discarded it and why, so nobody can "
                                  "redraw until the sample suits. Its allocations are "
                                  "cancelled and the plan can be drawn again.",
                            label="&Why the draw is discarded:", ok_text="&Discard the draw",
                            then=then)

    def check_draws(self) -> None:
        if not self.check_button.isEnabled():
            return
        found = self._attempt(lambda: plan_service.check_draws(self.session),
                              "Cannot check the draws")
        if found is None:
            return
        bad = [c for c in found if not c.ok]
        self._show_details([c.line() for c in found] or ["No draw has been made yet."])
        set_message(self.done_label,
                    f"Every recorded draw ({len(found):,}, discarded ones included) was "
                    "recomputed: " + ("each case is the one the method gives." if not bad else
                                      f"{plural(len(bad), 'draw')} do not match (see below)."))

    # allocations
    def use_reserve(self) -> TextDialog | None:
        allocation = self.selected_allocation()
        if allocation is None or not self.reserve_button.isEnabled():
            return None

        def then(why: str) -> None:
            change = self._attempt(lambda: self.write(
                lambda s: plan_service.use_reserve(s, allocation.id, why)),
                "Cannot use a reserve")
            if change is not None:
                new = plan_service.allocations(self.session, draw_id=allocation.draw_id,
                                               current_only=False)
                added = next((a for a in new if a.id == change.record_ids[-1]), None)
                self._done(f"{allocation.case_reference} was replaced by the reserve "
                           f"{added.case_reference if added else ''}"
                           + (f", allocated to {added.auditor}" if added and added.auditor
                              else "") + ".", change)

        return self._reason(title="Use a reserve",
                            intro=f"{allocation.case_reference} ({allocation.team}) is replaced "
                                  "by its team's next reserve, in the draw's order. Say why "
                                  "(for example, the case closed before it was audited).",
                            label="&Why a reserve is needed:", ok_text="&Use the reserve",
                            then=then)

    def export_allocations(self, path: str | None = None):
        draw = self.kept_draw()
        plan = self.selected_plan()
        if draw is None or not self.export_button.isEnabled():
            return None
        if path is None:
            suggested = f"allocations-{quarter_name(plan.period_start).replace(' ', '')}.csv"
            path, _ = QFileDialog.getSaveFileName(
                self, "Export the allocation list", suggested,
                "CSV (*.csv);;Excel workbook (*.xlsx)")
            if not path:
                return None
        if not path.lower().endswith((".csv", ".xlsx")):
            path += ".csv"
        result = self._attempt(lambda: self.write(lambda s: plan_service.export_allocations(
            s, path, draw_id=draw.id, overwrite=True)), "Cannot export the allocation list")
        if result is not None:
            set_message(self.done_label, f"Exported {plural(result.rows, 'allocation')} to "
                                         f"{result.path}.")
        return result
