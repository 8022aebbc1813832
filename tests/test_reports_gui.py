"""Reports → Committee pack dialog: quarter presets, the headline figures before building, the
public option, building in the background, cancelling, saving."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("PySide6")

from sefton_qa.gui.report_dialog import ReportDialog, quarter_of, quarter_presets  # noqa: E402
from sefton_qa.services.summary import period_summary  # noqa: E402
from sefton_qa.store import file_transfers  # noqa: E402


def test_quarters():
    assert quarter_of(dt.date(2026, 11, 24)) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert quarter_of(dt.date(2026, 2, 28)) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    presets = quarter_presets(dt.date(2026, 11, 24))
    assert [(s, e) for _, s, e in presets] == [
        (dt.date(2026, 10, 1), dt.date(2026, 11, 24)),
        (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        (dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2025, 10, 1), dt.date(2025, 12, 31))]


@pytest.fixture
def dialog(qtbot, demo_admin):
    d = ReportDialog(demo_admin)
    qtbot.addWidget(d)
    yield d
    if d.job is not None:
        d.job.cancel()
        d.job.wait()


def test_opens_on_last_quarter_with_its_headline_figures(dialog, demo_admin):
    assert dialog.period() == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    summary = period_summary(demo_admin.store, *dialog.period())
    rows = {dialog.figures.item(r, 0).text(): [dialog.figures.item(r, c).text()
                                               for c in range(1, 6)]
            for r in range(dialog.figures.rowCount())}
    good = summary["grades"]["good"]
    assert rows["Good"][:3] == [str(good["count"]), f"{good['percent']:.1f}%",
                                f"{good['ci95'][0]:.1f}–{good['ci95'][1]:.1f}%"]
    assert rows["All audits"][0] == str(summary["total"])
    # Whole calendar months: compared with the quarter before (issue 16, item 2).
    assert "1 April to 30 June 2026" in dialog.compared.text()
    assert "3 whole calendar months just before" in dialog.compared.text()


def test_presets_and_custom_dates(dialog, qtbot):
    dialog.preset.setCurrentIndex(2)
    assert dialog.period() == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    dialog.set_period(dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert dialog.preset.currentText() == "Custom dates"
    qtbot.waitUntil(lambda: "1 May to 31 May 2026" in dialog.figures_note.text())
    dialog.set_period(dt.date(2026, 6, 1), dt.date(2026, 5, 1))
    dialog.show_figures()
    assert not dialog.build_button.isEnabled()


def test_public_turns_the_appendix_off(dialog):
    dialog.appendix.setChecked(True)
    dialog.public.setChecked(True)
    assert not dialog.appendix.isChecked() and not dialog.appendix.isEnabled()
    assert dialog.options().public and not dialog.options().appendix
    dialog.public.setChecked(False)
    assert dialog.appendix.isEnabled()


def test_build_then_save(dialog, qtbot, tmp_path, demo_store):
    before = len(file_transfers.list_recent(demo_store.conn))
    assert not dialog.save_button.isEnabled()
    dialog.build()
    assert dialog.job is not None and not dialog.build_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.result is not None, dialog.status.text()
    assert dialog.built_path.read_bytes().startswith(b"%PDF")
    assert dialog.save_button.isEnabled() and dialog.open_button.isEnabled()
    assert "Built:" in dialog.status.text()
    saved = dialog.save_to(tmp_path / "mine")
    assert saved.name == "mine.pdf" and saved.read_bytes() == dialog.built_path.read_bytes()
    assert len(file_transfers.list_recent(demo_store.conn)) == before + 1
    dialog.public.setChecked(True)  # a changed option means the built pack is stale
    assert dialog.result is None and not dialog.save_button.isEnabled()


def test_cancel_keeps_nothing(dialog, qtbot, demo_store):
    before = len(file_transfers.list_recent(demo_store.conn))
    dialog.build()
    dialog.cancel()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    if dialog.result is None:  # the usual case: cancelled before the first step
        assert "Cancelled" in dialog.status.text()
        assert len(file_transfers.list_recent(demo_store.conn)) == before
        assert not dialog.save_button.isEnabled()
    assert dialog.build_button.isEnabled()


def test_month_presets_and_the_keyboard(dialog):
    """Issue 16, item 2: the last months are offered beside the quarters, and the period
    list and dates are reached by Alt+E and Alt+D."""
    from PySide6.QtWidgets import QLabel

    from sefton_qa.gui.report_dialog import month_presets

    assert [(s, e) for _, s, e in month_presets(dt.date(2026, 11, 24))] == [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
        (dt.date(2026, 8, 1), dt.date(2026, 8, 31))]
    items = [dialog.preset.itemText(i) for i in range(dialog.preset.count())]
    last_month = items.index("Last month: Oct 2026")
    assert "Last quarter: Jul–Sep 2026" in items
    dialog.preset.setCurrentIndex(last_month)
    assert dialog.period() == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    dialog._refresh.stop()  # shown now, not by the timer after the store is closed
    dialog.show_figures()
    assert "1 September to 30 September 2026 (the month just before)" in dialog.compared.text()
    buddies = {label.text(): label.buddy() for label in dialog.findChildren(QLabel)
               if label.buddy() is not None}
    assert buddies["P&eriod"] is dialog.preset and buddies["&Dates"] is dialog.date_from


def test_the_accessible_web_page_from_the_keyboard(dialog, qtbot, tmp_path, demo_store):
    """Issue 16, item 6: the dialog offers the HTML version beside the PDF, reached by
    Alt+R (its label's buddy) or Tab, chosen with the arrow keys, built and saved like the
    PDF."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    buddies = {label.text(): label.buddy() for label in dialog.findChildren(QLabel)
               if label.buddy() is not None}
    assert buddies["Fo&rmat"] is dialog.format
    assert dialog.format.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert dialog.format.currentText() == "PDF, for printing"
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.preset.setFocus()
    qtbot.keyClick(dialog.preset, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.format.hasFocus())
    qtbot.keyClick(dialog.format, Qt.Key.Key_Down)
    assert dialog.format.currentText() == "Web page (HTML): the accessible version"
    dialog.public.setChecked(True)
    assert dialog.default_file_name().endswith("-public.html")
    before = len(file_transfers.list_recent(demo_store.conn))
    qtbot.mouseClick(dialog.build_button, Qt.MouseButton.LeftButton)
    assert not dialog.format.isEnabled()  # not changed under a running build
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.result is not None, dialog.status.text()
    text = dialog.built_path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in text
    assert "Built: a web page" in dialog.status.text()
    assert dialog.save_button.isEnabled() and dialog.open_elsewhere_button.isEnabled()
    assert not dialog.open_button.isEnabled()  # the in-app preview is for PDFs
    assert dialog.format.isEnabled()
    saved = dialog.save_to(tmp_path / "mine")
    assert saved.name == "mine.html" and saved.read_bytes() == dialog.built_path.read_bytes()
    assert len(file_transfers.list_recent(demo_store.conn)) == before + 1
    assert file_transfers.list_recent(demo_store.conn, 1)[0]["file_name"].endswith(".html")
    qtbot.keyClick(dialog.format, Qt.Key.Key_Up)  # a changed format: the page is stale
    assert dialog.result is None and not dialog.save_button.isEnabled()
