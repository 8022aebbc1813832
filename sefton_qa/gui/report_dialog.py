"""Reports → Committee pack: choose the period (quarter presets or any dates), see the headline
figures, build the PDF, or the web page (HTML) that is its accessible version, in the
background with a progress bar and Cancel, then save it, open it in another app, or preview
and print a PDF here (pack_preview.py, on any machine)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import SeftonError
from sefton_qa.domain.grades import Grade
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.jobs import Job
from sefton_qa.reports.figures import Period
from sefton_qa.reports.cover import CoverReport
from sefton_qa.services.reports import PackCancelled, PackOptions, committee_pack
from sefton_qa.services.session import Session
from sefton_qa.domain.periods import month_of, quarter_of, rule_words
from sefton_qa.services.summary import period_summary, previous_period

CUSTOM = "Custom dates"
#: The pack's formats: (what the list says, file suffix, the save dialog's filter).
FORMATS = [("PDF, for printing", ".pdf", "PDF (*.pdf)"),
           ("Web page (HTML): the accessible version", ".html", "Web page (*.html)")]


def quarter_presets(today: dt.date, count: int = 5) -> list[tuple[str, dt.date, dt.date]]:
    """("This quarter, so far", start, today), ("Last quarter", ...), then the ones before."""
    out = []
    start, end = quarter_of(today)
    out.append(("This quarter, so far", start, min(end, today)))
    names = ["Last quarter", "The quarter before", "Three quarters ago", "A year ago"]
    for name in names[:count - 1]:
        start, end = quarter_of(start - dt.timedelta(days=1))
        out.append((name, start, end))
    return out


def month_presets(today: dt.date, count: int = 3) -> list[tuple[str, dt.date, dt.date]]:
    """("Last month", ...), ("The month before", ...), ...: whole calendar months."""
    out = []
    start, _ = month_of(today)
    names = ["Last month", "The month before", "Three months ago"]
    for name in names[:count]:
        start, end = month_of(start - dt.timedelta(days=1))
        out.append((name, start, end))
    return out


def presets(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The period choices the dialog offers, quarters first (what committees usually get)."""
    return quarter_presets(today) + month_presets(today)


def _short(d: dt.date) -> str:
    return f"{d.day} {d:%b %Y}"


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ReportDialog(QDialog):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Committee pack")
        self.setMinimumWidth(640)
        self.job: Job | None = None
        self.result = None  # the PackResult once built
        self.built_path: Path | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="sefton-qa-pack-",
                                                ignore_cleanup_errors=True)
        today = session.today()

        self.preset = QComboBox()
        self.preset.setAccessibleName("Period")
        self._presets = presets(today)
        for name, start, end in self._presets:
            self.preset.addItem(f"{name}: {_short(start)} to {_short(end)}"
                                if name.startswith("This") else
                                f"{name}: {Period(start, end).short_label()}")
        self.preset.addItem(CUSTOM)
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for edit, name in ((self.date_from, "From"), (self.date_to, "To")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setAccessibleName(name)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        self.compared = QLabel()
        self.compared.setWordWrap(True)

        self.public = QCheckBox("&Public version (small numbers shown as “c”)")
        self.public.setToolTip("Aggregate figures only, no case references and no names; any "
                               "count from 1 to 4, and any figure that would let one be worked "
                               "out, is shown as “c”.")
        self.appendix = QCheckBox("&Appendix: the period's audits by case reference")
        self.appendix.setToolTip("Internal packs only: never in a public pack.")
        self.public.toggled.connect(self._public_toggled)
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for label, _suffix, _filter in FORMATS:
            self.format.addItem(label)
        self.format.setToolTip("The web page holds the same figures as the PDF, for screen "
                               "readers and other assistive technology: publish it beside "
                               "the PDF.")
        self.format.currentIndexChanged.connect(lambda _i: self._forget_built())

        form = QFormLayout()
        form.addRow("P&eriod", self.preset)
        self.date_label = QLabel("&Dates")
        self.date_label.setBuddy(self.date_from)
        form.addRow(self.date_label, dates)
        form.addRow("Compared with", self.compared)
        form.addRow("", self.public)
        form.addRow("", self.appendix)
        self.format_label = QLabel("Fo&rmat")
        self.format_label.setBuddy(self.format)
        form.addRow(self.format_label, self.format)
        #: The cover report chosen for this pack (None: the one kept from the last pack).
        self.cover: CoverReport | None = None
        self.cover_button = QPushButton("Co&ver report…")
        self.cover_button.setAccessibleName("Edit the cover report")
        self.cover_button.setToolTip("Purpose, recommendations, contact officer and background "
                                     "papers: what the committee reads before the figures.")
        self.cover_button.clicked.connect(self.edit_cover)
        form.addRow("Cover report", self.cover_button)

        self.figures = QTableWidget(0, 6)
        self.figures.setHorizontalHeaderLabels(["Grade", "Audits", "Share", "95% interval",
                                                "Previous", "Share"])
        self.figures.verticalHeader().setVisible(False)
        self.figures.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figures.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.figures.setAccessibleName("Headline figures")
        header = self.figures.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 6):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.figures_note = QLabel()
        self.figures_note.setWordWrap(True)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("Choose the period, then build the pack.")
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.build_button = self.buttons.addButton("&Build pack",
                                                   QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = self.buttons.addButton("&Save as…",
                                                  QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button = self.buttons.addButton("&Open", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setToolTip("Preview the pack here, and print it.")
        self.open_elsewhere_button = self.buttons.addButton(
            "Open &in another app…", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.build_button.setDefault(True)
        self.build_button.clicked.connect(self.build)
        self.save_button.clicked.connect(self.choose_and_save)
        self.open_button.clicked.connect(self.open_pdf)
        self.open_elsewhere_button.clicked.connect(self.open_elsewhere)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        self.save_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.open_elsewhere_button.setEnabled(False)
        self.cancel_button.setVisible(False)
        #: The in-app preview of the built pack (pack_preview.py), once opened.
        self.preview_dialog = None

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Headline figures</b>"))
        layout.addWidget(self.figures)
        layout.addWidget(self.figures_note)
        layout.addStretch(1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(150)
        self._refresh.timeout.connect(self.show_figures)
        self._setting_preset = False
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.date_from.dateChanged.connect(self._dates_edited)
        self.date_to.dateChanged.connect(self._dates_edited)
        self.preset.setCurrentIndex(1)  # last quarter: what committees usually get
        self._preset_chosen(1)
        self._refresh.stop()
        self.show_figures()

    # -- the period -----------------------------------------------------------------------------
    def period(self) -> tuple[dt.date, dt.date]:
        return self.date_from.date().toPython(), self.date_to.date().toPython()

    def set_period(self, start: dt.date, end: dt.date) -> None:
        """Choose any dates (the preset becomes "Custom dates" unless they match one)."""
        self._setting_preset = True
        try:
            self.date_from.setDate(_qdate(start))
            self.date_to.setDate(_qdate(end))
            match = next((i for i, (_, s, e) in enumerate(self._presets)
                          if (s, e) == (start, end)), len(self._presets))
            self.preset.setCurrentIndex(match)
        finally:
            self._setting_preset = False
        self._period_changed()

    def _preset_chosen(self, index: int) -> None:
        if self._setting_preset or not 0 <= index < len(self._presets):
            return
        _, start, end = self._presets[index]
        self._setting_preset = True
        try:
            self.date_from.setDate(_qdate(start))
            self.date_to.setDate(_qdate(end))
        finally:
            self._setting_preset = False
        self._period_changed()

    def _dates_edited(self) -> None:
        if self._setting_preset:
            return
        start, end = self.period()
        match = next((i for i, (_, s, e) in enumerate(self._presets) if (s, e) == (start, end)),
                     len(self._presets))
        self._setting_preset = True
        try:
            self.preset.setCurrentIndex(match)
        finally:
            self._setting_preset = False
        self._period_changed()

    def _period_changed(self) -> None:
        self._forget_built()
        self._refresh.start()

    def _public_toggled(self, public: bool) -> None:
        if public:
            self.appendix.setChecked(False)
        self.appendix.setEnabled(not public)
        self._forget_built()

    def _forget_built(self) -> None:
        if self.result is not None:
            self.status.setText("The period or options changed: build the pack again.")
        self.result = None
        self.built_path = None
        self.save_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.open_elsewhere_button.setEnabled(False)

    def options(self) -> PackOptions:
        return PackOptions(public=self.public.isChecked(),
                           appendix=self.appendix.isChecked() and not self.public.isChecked(),
                           cover=self.cover)

    def edit_cover(self) -> None:
        """Edit the cover report for this pack, starting from the one kept last time."""
        from sefton_qa.gui.cover_dialog import CoverDialog
        from sefton_qa.services.reports import stored_cover

        self.cover_dialog = CoverDialog(self.cover or stored_cover(self.session), self)
        if self.cover_dialog.exec() == QDialog.DialogCode.Accepted:
            self.cover = self.cover_dialog.cover
            self.status.setText("The cover report will be used for this pack and kept for "
                                "the next.")

    # -- the headline figures -------------------------------------------------------------------
    def show_figures(self) -> None:
        start, end = self.period()
        self.figures.setRowCount(0)
        if end < start:
            self.compared.setText("–")
            self.figures_note.setText("The end of the period is before its start.")
            self.build_button.setEnabled(False)
            return
        try:
            prev = Period(*previous_period(start, end))
            summary = period_summary(self.session.store, start, end)
        except SeftonError as exc:
            self.figures_note.setText(str(exc))
            self.build_button.setEnabled(False)
            return
        self.build_button.setEnabled(self.job is None)
        self.compared.setText(f"{prev.label()} ({rule_words(start, end, (prev.start, prev.end))})")
        previous = summary["previous"]
        rows = list(summary["grades"].items())
        self.figures.setRowCount(len(rows) + 1)
        for r, (key, g) in enumerate(rows):
            low, high = g["ci95"]
            cells = [Grade(key).label, f"{g['count']:,}", f"{g['percent']:.1f}%",
                     f"{low:.1f}–{high:.1f}%"]
            if previous:
                pg = previous["grades"][key]
                cells += [f"{pg['count']:,}", f"{pg['percent']:.1f}%"]
            else:
                cells += ["–", "–"]
            self._set_row(r, cells)
        self._set_row(len(rows), ["All audits", f"{summary['total']:,}", "", "",
                                  f"{previous['total']:,}" if previous else "0", ""])
        self.figures.resizeRowsToContents()
        height = self.figures.horizontalHeader().height() + 2 * self.figures.frameWidth()
        height += sum(self.figures.rowHeight(r) for r in range(self.figures.rowCount()))
        self.figures.setFixedHeight(height)
        note = (f"{summary['total']:,} audits from {Period(start, end).label()}."
                if summary["total"] else "There are no audits in this period.")
        if self.public.isChecked():
            note += " The public pack shows counts from 1 to 4 as “c”."
        self.figures_note.setText(note)

    def _set_row(self, r: int, cells: list[str]) -> None:
        for c, value in enumerate(cells):
            item = QTableWidgetItem(value)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.figures.setItem(r, c, item)

    # -- building -------------------------------------------------------------------------------
    def suffix(self) -> str:
        """The chosen format's file suffix: ".pdf" or ".html"."""
        return FORMATS[self.format.currentIndex()][1]

    def default_file_name(self) -> str:
        start, end = self.period()
        kind = "public" if self.public.isChecked() else "internal"
        return (f"committee-pack-{start.isoformat()}-to-{end.isoformat()}-{kind}"
                f"{self.suffix()}")

    def build(self) -> None:
        if self.job is not None:
            return
        start, end = self.period()
        options = self.options()
        folder = Path(self._tmp.name)
        folder.mkdir(parents=True, exist_ok=True)  # again, if the dialog is shown again
        path = folder / self.default_file_name()

        def work(session, progress):
            # The dialog's own temporary folder: a build of the same period replaces the last.
            return committee_pack(session, start, end, path, options=options,
                                  progress=progress, overwrite=True)

        self._forget_built()
        self.job = Job(self.session, work, self)
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_built)
        self.job.failed.connect(self._on_failed)
        self.job.finished.connect(self._on_finished)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.build_button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.close_button.setEnabled(False)
        for widget in (self.preset, self.date_from, self.date_to, self.public, self.appendix,
                       self.format):
            widget.setEnabled(False)
        self.status.setText("Building the pack…")
        self.job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling… no file will be kept and nothing recorded.")

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(message)

    def _on_built(self, result) -> None:
        self.result = result
        self.built_path = result.path
        self.save_button.setEnabled(True)
        web = result.path.suffix.lower() == ".html"
        self.open_button.setEnabled(not web)  # the preview shows PDFs; a browser shows the page
        self.open_elsewhere_button.setEnabled(True)
        size = "a web page" if web else f"{result.pages} pages"
        self.status.setText(
            f"Built: {size}, {result.audits:,} audits, in {result.seconds:.1f} s. "
            f"Recorded in the trail (SHA-256 {result.sha256[:16]}…). Save it, or open it"
            + (" in a web browser (Open in another app)." if web else "."))

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, PackCancelled):
            self.status.setText("Cancelled: no pack was built.")
            return
        self.status.setText(str(exc))
        show_error(self, exc, title="The pack could not be built")

    def _on_finished(self) -> None:
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.close_button.setEnabled(True)
        for widget in (self.preset, self.date_from, self.date_to, self.public, self.format):
            widget.setEnabled(True)
        self.appendix.setEnabled(not self.public.isChecked())
        self.build_button.setEnabled(True)

    # -- after building -------------------------------------------------------------------------
    def choose_and_save(self) -> None:
        if self.built_path is None:
            return
        kind = next(f for _, suffix, f in FORMATS if suffix == self.built_path.suffix.lower())
        name, _ = QFileDialog.getSaveFileName(self, "Save the committee pack",
                                              self.default_file_name(), kind)
        if name:
            self.save_to(Path(name))

    def save_to(self, path: Path) -> Path:
        suffix = self.built_path.suffix.lower()
        if path.suffix.lower() != suffix:
            path = path.with_suffix(suffix)
        from sefton_qa.services.files import copy_into_place

        try:  # the file dialog has asked whether to replace an existing file
            copy_into_place(self.built_path, path, overwrite=True)
        except SeftonError as exc:
            show_error(self, exc)
            return path
        self.status.setText(f"Saved to {path}.")
        return path

    def open_pdf(self) -> None:
        """Open: the pack previewed inside the app (zoom, pages, Print), on any machine."""
        if self.built_path is None or self.built_path.suffix.lower() != ".pdf":
            return
        from sefton_qa.gui.pack_preview import PackPreview

        if self.preview_dialog is not None:
            self.preview_dialog.close()
        try:
            self.preview_dialog = PackPreview(self.built_path, self)
        except Exception as exc:  # noqa: BLE001 - a PDF engine failure: said, with details
            show_error(self, exc, title="The pack could not be previewed")
            return
        self.preview_dialog.show()

    def open_elsewhere(self) -> None:
        """The pack in the system's PDF app (or web browser), and a plain word when there is
        none."""
        if self.built_path is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.built_path))):
            if self.built_path.suffix.lower() == ".pdf":
                self.status.setText("No app on this computer opens PDF files. Use Open to "
                                    "preview and print the pack here, or Save as… to keep it.")
            else:
                self.status.setText("No web browser on this computer opened the page. Use "
                                    "Save as… to keep it.")

    def reject(self) -> None:
        if self.job is not None:  # closing while building: stop it first
            self.job.cancel()
            self.job.wait()
        super().reject()

    def done(self, result: int) -> None:
        self._refresh.stop()
        super().done(result)
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        self._tmp.cleanup()

