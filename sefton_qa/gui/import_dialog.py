"""File → Import…: choose a file, see a preview, the column mapping and every problem before
anything is written; then import in the background with a progress bar and a cancel button."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.models import Role
from sefton_qa.domain.wording import time_left_text
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.jobs import Job
from sefton_qa.services.import_export import (
    FIELDS,
    REQUIRED,
    ImportReport,
    import_audits,
    write_problems,
)
from sefton_qa.services.session import Session

IGNORE = "(ignore this column)"
NO_PROBLEMS = "Problems (nothing is imported while there are any):"


def problems_text(report: ImportReport) -> str:
    total = max(report.problem_count, len(report.problems))
    if not total:
        return NO_PROBLEMS
    listed = "" if total == len(report.problems) else \
        f"; the first {len(report.problems):,} are listed"
    return f"{total:,} problem{'s' if total > 1 else ''}{listed}. Nothing is imported while " \
           "there are any:"


class ImportDialog(QDialog):
    imported = Signal(object)  # the ImportReport of a completed import

    def __init__(self, session: Session, parent: QWidget | None = None,
                 path: str | Path | None = None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Import audits")
        self.resize(980, 680)
        self.path: Path | None = None
        self.report: ImportReport | None = None
        self.job: Job | None = None

        self.file_label = QLabel("No file chosen.")
        choose = QPushButton("&Choose file…")
        choose.clicked.connect(self.choose_file)
        top = QHBoxLayout()
        top.addWidget(self.file_label, 1)
        top.addWidget(choose)

        self.preview = QTableWidget()
        self.preview.setObjectName("importPreview")
        self.preview.setAccessibleName("The file's first rows, as they will be read")
        self.preview.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.mapping_box = QGroupBox("Columns: which field each column of the file holds")
        self.mapping_grid = QGridLayout(self.mapping_box)
        self.problems = QListWidget()
        self.problems.setObjectName("importProblems")
        self.problems.setAccessibleName("Problems found in the file")
        self.problems_label = QLabel(NO_PROBLEMS)
        self.problems_label.setObjectName("importProblemCount")
        self.save_problems = QPushButton("&Save the list of problems…")
        self.save_problems.setObjectName("saveImportProblems")
        self.save_problems.setToolTip("A CSV file of every problem listed (row, column, "
                                      "problem), for whoever corrects the file")
        self.save_problems.setEnabled(False)
        self.save_problems.clicked.connect(self.save_problem_list)
        self.summary = QLabel()
        self.summary.setWordWrap(True)

        self.create_missing = QCheckBox("Create what is missing: service areas, teams, staff "
                                        "and themes not yet known")
        self.create_missing.setEnabled(session.actor.has_role(Role.ADMINISTRATOR))
        if not self.create_missing.isEnabled():
            self.create_missing.setToolTip("Only an administrator can create them.")
        self.create_missing.toggled.connect(self.check)
        self.save_mapping = QCheckBox("Remember this column mapping for next time")

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.buttons = QDialogButtonBox()
        self.check_button = self.buttons.addButton("Check &again",
                                                   QDialogButtonBox.ButtonRole.ActionRole)
        self.check_button.clicked.connect(self.check)
        self.import_button = self.buttons.addButton("&Import",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.clicked.connect(self.run_import)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.cancel)
        self.import_button.setEnabled(False)
        self.check_button.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("The first rows of the file:"))
        layout.addWidget(self.preview, 2)
        layout.addWidget(self.mapping_box)
        layout.addWidget(self.summary)
        problems_row = QHBoxLayout()
        problems_row.addWidget(self.problems_label, 1)
        problems_row.addWidget(self.save_problems)
        layout.addLayout(problems_row)
        layout.addWidget(self.problems, 1)
        layout.addWidget(self.create_missing)
        layout.addWidget(self.save_mapping)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._combos: dict[str, QComboBox] = {}
        if path is not None:
            self.set_file(Path(path))

    # -- choosing and checking ------------------------------------------------------------------
    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Import audits", "", "Spreadsheets (*.csv *.xlsx *.ods *.xls);;All files (*)")
        if name:
            self.set_file(Path(name))

    def set_file(self, path: Path) -> None:
        self.path = path
        self.file_label.setText(str(path))
        self._combos.clear()
        while self.mapping_grid.count():
            widget = self.mapping_grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.check_button.setEnabled(True)
        self.check()

    def mapping(self) -> dict[str, str]:
        """The user's choices that differ from what the file's own headers say."""
        chosen = {}
        for header, combo in self._combos.items():
            value = combo.currentData()
            if value and (self.report is None or self.report.mapping.get(header) != value):
                chosen[header] = value
        return chosen

    def check(self) -> None:
        """A dry run in the background: nothing is written."""
        if self.path is not None:
            self._run(dry_run=True)

    def run_import(self) -> None:
        self._run(dry_run=False)

    def _run(self, *, dry_run: bool) -> None:
        if self.job is not None:
            return
        path, mapping = self.path, self.mapping()
        create = self.create_missing.isChecked()
        save = self.save_mapping.isChecked() and not dry_run

        def work(session, progress):
            return import_audits(session, path, dry_run=dry_run, create_missing=create,
                                 mapping=mapping, save_mapping=save, progress=progress)

        self.job = Job(self.session, work, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(lambda report: self._on_report(report, dry_run))
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._on_finished)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._started = time.monotonic()
        self.import_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self.status.setText("Checking the file…" if dry_run else "Importing…")
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling… nothing will be written.")
        else:
            self.reject()

    # -- results --------------------------------------------------------------------------------
    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        left = time_left_text(time.monotonic() - self._started, done, total)
        self.status.setText(f"{message} ({left}; Escape cancels and writes nothing)" if left
                            else message)

    def _on_finished(self) -> None:
        self.job = None
        self.progress.setVisible(False)
        self.check_button.setEnabled(self.path is not None)

    def _on_failed(self, exc: BaseException) -> None:
        self.report = None
        self.save_problems.setEnabled(False)
        self.problems_label.setText(NO_PROBLEMS)
        self.problems.clear()
        self.problems.addItem(str(exc))
        self.status.setText("The file cannot be imported.")
        self.import_button.setEnabled(False)
        self.import_button.setToolTip(str(exc))
        from sefton_qa.domain.errors import SeftonError

        if not isinstance(exc, SeftonError):
            show_error(self, exc)

    def _on_report(self, report: ImportReport, dry_run: bool) -> None:
        self.report = report
        self._show_preview(report)
        self._show_mapping(report)
        self.problems.clear()
        self.problems.addItems(report.problems)
        self.problems_label.setText(problems_text(report))
        self.save_problems.setEnabled(bool(report.problems))
        lines = [line for line in report.lines()[1:] if not line.startswith("  ")]
        self.summary.setText("\n".join(lines))
        if not dry_run and report.ok:
            self.status.setText(f"Imported {report.added:,} audits.")
            self.imported.emit(report)
            self.accept()
            return
        can_import = report.ok and report.added > 0
        self.import_button.setEnabled(can_import)
        if report.ok and report.added == 0:
            why = "Every row is already in the store: there is nothing to import."
        elif not report.ok:
            why = "Fix the problems listed (or change the column mapping), then check again."
        else:
            why = f"Ready: {report.added:,} audits will be added."
        self.import_button.setToolTip(why)
        self.status.setText(why)

    def save_problem_list(self) -> None:
        """Save the problems listed to a CSV file, for whoever corrects the workbook."""
        if self.report is None or not self.report.problems:
            return
        suggested = str(Path(self.path or "import").with_name(
            f"{Path(self.path or 'import').stem} problems.csv"))
        name, _ = QFileDialog.getSaveFileName(self, "Save the list of problems", suggested,
                                              "CSV (*.csv)")
        if not name:
            return
        try:
            count = write_problems(self.report, name)
        except OSError as exc:
            self.status.setText(f"Could not save {name}: {exc.strerror or exc}")
            return
        self.status.setText(f"Saved the list of {count:,} problem(s) to {name}.")

    def _show_preview(self, report: ImportReport) -> None:
        self.preview.clear()
        self.preview.setColumnCount(len(report.headers))
        self.preview.setHorizontalHeaderLabels(report.headers)
        self.preview.setRowCount(len(report.preview))
        self.preview.setVerticalHeaderLabels([f"Row {n}" for n, _cells in report.preview])
        for r, (_number, cells) in enumerate(report.preview):
            for c, value in enumerate(cells[:len(report.headers)]):
                self.preview.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
        self.preview.resizeColumnsToContents()

    def _show_mapping(self, report: ImportReport) -> None:
        if self._combos:
            return  # keep the user's choices while they check again
        per_row = 3
        for position, header in enumerate(h for h in report.headers if h):
            combo = QComboBox()
            combo.addItem(IGNORE, None)
            for name in FIELDS:
                suffix = " (required)" if name in REQUIRED else ""
                combo.addItem(name.replace("_", " ") + suffix, name)
            current = report.mapping.get(header)
            combo.setCurrentIndex(combo.findData(current) if current else 0)
            combo.currentIndexChanged.connect(lambda _=0: self.import_button.setEnabled(False))
            self._combos[header] = combo
            label = QLabel(f"{header}:")
            label.setBuddy(combo)
            row, col = divmod(position, per_row)
            self.mapping_grid.addWidget(label, row, 2 * col)
            self.mapping_grid.addWidget(combo, row, 2 * col + 1)

    def reject(self) -> None:
        """Escape: while an import runs, it cancels it (nothing is written) and the dialog
        stays to say so; otherwise it closes the dialog."""
        if self.job is not None:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait()
        super().closeEvent(event)


