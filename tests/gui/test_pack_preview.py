"""Issue 17, item 6: a committee pack is previewed and printed inside the app, without QtPdf or
a PDF viewer (pypdfium2 draws the pages). Open shows the preview; "Open in another app…" hands
the file to the system and says plainly when no app takes it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sefton_qa.gui import report_dialog
from sefton_qa.gui.pack_preview import PackPreview, print_pdf
from sefton_qa.gui.report_dialog import ReportDialog

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def built(qtbot, demo_session):
    """The report dialog with a pack built for its first quarter."""
    dialog = ReportDialog(demo_session)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.build()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.built_path is not None, dialog.status.text()
    yield dialog
    dialog.close()


def _pages(path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def test_open_previews_the_pack_in_the_app_and_the_keyboard_moves_through_it(qtbot, built):
    qtbot.keyClick(QApplication.focusWidget() or built, Qt.Key.Key_O, ALT)  # &Open
    qtbot.waitUntil(lambda: built.preview_dialog is not None
                    and built.preview_dialog.isVisible())
    preview = built.preview_dialog
    assert preview.pages == _pages(built.built_path) >= 2
    assert preview.page == 1 and preview.image.pixmap() is not None
    first = preview.image.pixmap().toImage()
    preview.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is preview)
    qtbot.keyClick(QApplication.focusWidget() or preview, Qt.Key.Key_PageDown)
    assert preview.page == 2 and preview.image.pixmap().toImage() != first
    assert "page 2 of" in preview.windowTitle()
    width = preview.image.pixmap().width()
    qtbot.keyClick(QApplication.focusWidget() or preview, Qt.Key.Key_Plus, CTRL)
    assert preview.image.pixmap().width() != width and not preview.fit_width
    qtbot.keyClick(QApplication.focusWidget() or preview, Qt.Key.Key_0, CTRL)
    assert preview.fit_width
    qtbot.keyClick(QApplication.focusWidget() or preview, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not preview.isVisible())


def test_printing_gives_every_page_of_the_pack(qtbot, built, tmp_path):
    """Printed through QPrinter (to a PDF file, as no printer is attached here): the same
    number of pages as the pack."""
    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setResolution(150)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    printed = print_pdf(built.built_path, printer)
    assert printed == _pages(built.built_path) == _pages(out)


def test_open_in_another_app_says_so_when_no_app_takes_pdfs(qtbot, built, monkeypatch):
    monkeypatch.setattr(report_dialog.QDesktopServices, "openUrl", lambda _url: False)
    qtbot.keyClick(QApplication.focusWidget() or built, Qt.Key.Key_I, ALT)  # Open &in another app
    qtbot.waitUntil(lambda: "No app on this computer opens PDF files" in built.status.text())
    assert built.preview_dialog is None or not built.preview_dialog.isVisible()


def test_the_preview_has_no_clashing_alt_letters(qtbot, built):
    built.open_pdf()
    preview = built.preview_dialog
    letters = [b.text().split("&")[1][0].lower() for b in
               (preview.zoom_out_button, preview.zoom_in_button, preview.fit_button,
                preview.print_button)] + ["g"]
    assert len(letters) == len(set(letters))
    preview.close()
    assert isinstance(preview, PackPreview)
