"""File → Export…: a date range and a file; the export runs in the background."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QVBoxLayout,
)

from sefton_qa.gui.errors import show_error
from sefton_qa.gui.jobs import Job
from sefton_qa.services.import_export import export_audits
from sefton_qa.services.session import Session


class ExportDialog(QDialog):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Export audits")
        self.job: Job | None = None
        self.result = None
        today = session.today()
        self.use_from = QCheckBox("From")
        self.date_from = QDateEdit(QDate(today.year, 1, 1) if today.month > 3 else
                                   QDate(today.year - 1, 1, 1))
        self.use_to = QCheckBox("To")
        self.date_to = QDateEdit(QDate(today.year, today.month, today.day))
        self.date_from.setAccessibleName("Export audits dated from")
        self.date_to.setAccessibleName("Export audits dated up to")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.use_from.toggled.connect(self.date_from.setEnabled)
        self.use_to.toggled.connect(self.date_to.setEnabled)
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        form = QFormLayout()
        form.addRow(self.use_from, self.date_from)
        form.addRow(self.use_to, self.date_to)
        self.status = QLabel("Every submitted audit is exported unless you choose a range. "
                             "The file opens safely in Excel.")
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("&Export…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.clicked.connect(self.choose_and_export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def choose_and_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export audits", "audits.xlsx",
                                              "Excel workbook (*.xlsx);;CSV (*.csv)")
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> None:
        if path.suffix.lower() not in (".csv", ".xlsx"):
            path = path.with_suffix(".xlsx")
        start = self.date_from.date().toPython() if self.use_from.isChecked() else None
        end = self.date_to.date().toPython() if self.use_to.isChecked() else None
        self.export_button.setEnabled(False)
        self.status.setText(f"Exporting to {path}…")
        # The file dialog has asked whether to replace an existing file.
        self.job = Job(self.session, lambda s, _p: export_audits(
            s, path, date_from=start, date_to=end, overwrite=True), self)
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.start()

    def _done(self, result) -> None:
        self.job = None
        self.result = result
        self.status.setText(f"Exported {result.rows:,} audits to {result.path}.")
        self.accept()

    def _failed(self, exc) -> None:
        self.job = None
        self.export_button.setEnabled(True)
        self.status.setText(str(exc))
        show_error(self, exc, title="The export failed")
