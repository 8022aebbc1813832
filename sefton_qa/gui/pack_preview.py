"""A committee pack previewed and printed inside the app, on any machine: pages are drawn by
pypdfium2 (PDFium, the engine of Chrome's PDF viewer, on PyPI with its library inside), so
neither QtPdf (not in PySide6-Essentials) nor a PDF viewer needs to be installed.

Keys: PageDown/PageUp (or the page box, Alt+G) move between pages; Ctrl++ and Ctrl+- zoom,
Ctrl+0 fits the width; Ctrl+P prints through the system's print dialog; Escape closes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

#: Zoom steps, as a share of the page's width at 72 points to the inch.
ZOOMS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


def render_page(document, index: int, scale: float) -> QImage:
    """Page ``index`` of a pypdfium2 document as a QImage (``scale`` 1 = 72 dots an inch)."""
    page = document[index]
    try:
        bitmap = page.render(scale=scale, rev_byteorder=True, prefer_bgrx=True)
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        fmt = QImage.Format.Format_RGBX8888 if bitmap.n_channels == 4 else \
            QImage.Format.Format_RGB888
        image = QImage(bytes(bitmap.buffer), width, height, stride, fmt).copy()
        bitmap.close()
        return image
    finally:
        page.close()


def open_document(path: Path):
    import pypdfium2

    return pypdfium2.PdfDocument(str(path))


def print_pdf(path: Path, printer) -> int:
    """Print every page of the PDF at ``path`` on ``printer`` (a QPrinter), each page drawn at
    the printer's resolution and fitted to its page. Returns the number of pages printed."""
    document = open_document(path)
    try:
        painter = QPainter()
        if not painter.begin(printer):
            raise OSError("The printer could not be started.")
        try:
            dpi = printer.resolution()
            for index in range(len(document)):
                if index:
                    printer.newPage()
                image = render_page(document, index, dpi / 72)
                target = painter.viewport()
                size = image.size().scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.setViewport(target.x(), target.y(), size.width(), size.height())
                painter.setWindow(image.rect())
                painter.drawImage(0, 0, image)
                painter.setViewport(target)
            return len(document)
        finally:
            painter.end()
    finally:
        document.close()


class PackPreview(QDialog):
    """The pack's pages, one at a time, with zoom, page navigation and Print."""

    def __init__(self, path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("packPreview")
        self.setWindowTitle(f"Preview: {Path(path).name}")
        self.path = Path(path)
        self.document = open_document(self.path)
        self.pages = len(self.document)
        self.zoom = 1.0
        self.fit_width = True

        self.image = QLabel()
        self.image.setObjectName("pageImage")
        self.image.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.image.setAccessibleName("Page of the pack")
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.image)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.page_box = QSpinBox()
        self.page_box.setRange(1, max(1, self.pages))
        self.page_box.setAccessibleName("Page")
        page_label = QLabel("&Go to page")
        page_label.setBuddy(self.page_box)
        self.of_label = QLabel(f"of {self.pages}")
        self.page_box.valueChanged.connect(lambda _v: self._draw())
        self.zoom_out_button = QPushButton("Zoom o&ut")
        self.zoom_in_button = QPushButton("Zoom &in")
        self.fit_button = QPushButton("Fit &width")
        self.print_button = QPushButton("&Print…")
        self.close_button = QPushButton("Close")
        self.zoom_out_button.clicked.connect(lambda: self.step_zoom(-1))
        self.zoom_in_button.clicked.connect(lambda: self.step_zoom(+1))
        self.fit_button.clicked.connect(self.fit)
        self.print_button.clicked.connect(self.print_dialog)
        self.close_button.clicked.connect(self.reject)
        self.zoom_label = QLabel()
        self.zoom_label.setAccessibleName("Zoom")

        bar = QHBoxLayout()
        for widget in (page_label, self.page_box, self.of_label, self.zoom_out_button,
                       self.zoom_in_button, self.fit_button, self.zoom_label):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.print_button)
        bar.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)

        for keys, act in ((QKeySequence.StandardKey.ZoomIn, lambda: self.step_zoom(+1)),
                          ("Ctrl+=", lambda: self.step_zoom(+1)),
                          (QKeySequence.StandardKey.ZoomOut, lambda: self.step_zoom(-1)),
                          ("Ctrl+0", self.fit),
                          (QKeySequence.StandardKey.Print, self.print_dialog),
                          ("PgDown", lambda: self.page_box.setValue(self.page + 1)),
                          ("PgUp", lambda: self.page_box.setValue(self.page - 1))):
            QShortcut(QKeySequence(keys), self, act)
        self.resize(QSize(900, 1000))
        self._draw()

    @property
    def page(self) -> int:
        return self.page_box.value()

    def step_zoom(self, step: int) -> None:
        current = self._scale()
        bigger = [z for z in ZOOMS if z > current + 1e-6]
        smaller = [z for z in ZOOMS if z < current - 1e-6]
        if step > 0 and bigger:
            self.zoom = bigger[0]
        elif step < 0 and smaller:
            self.zoom = smaller[-1]
        self.fit_width = False
        self._draw()

    def fit(self) -> None:
        self.fit_width = True
        self._draw()

    def _scale(self) -> float:
        if not self.fit_width or not self.pages:
            return self.zoom
        width_pt = self.document[self.page - 1].get_width()
        room = max(200, self.scroll.viewport().width() - 24)
        return room / width_pt

    def _draw(self) -> None:
        if not self.pages:
            self.image.setText("This PDF has no pages.")
            return
        scale = self._scale()
        ratio = self.devicePixelRatioF() or 1.0
        image = render_page(self.document, self.page - 1, scale * ratio)
        image.setDevicePixelRatio(ratio)
        self.image.setPixmap(QPixmap.fromImage(image))
        self.zoom_label.setText(f"{scale * 100:.0f}%")
        self.setWindowTitle(f"Preview: {self.path.name}, page {self.page} of {self.pages}")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fit_width:
            self._draw()

    def print_dialog(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            print_pdf(self.path, printer)

    def done(self, result: int) -> None:
        super().done(result)
        self.document.close()
