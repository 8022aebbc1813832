"""The minimal main window over a demo store: the register, paging, detail, remembered layout."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sefton_qa.domain.grades import Grade
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.gui.register_model import (
    COL_AUDITOR,
    COL_CASE,
    COL_DATE,
    COL_GRADE,
    MAX_CACHED_PAGES,
    PAGE_SIZE,
    AuditRegisterModel,
)
from sefton_qa.services import audits as audit_service
from sefton_qa.services.register import RegisterFilter
from sefton_qa.store import audits as audit_store


def test_register_model_pages_through_every_audit(demo_session):
    model = AuditRegisterModel(demo_session)
    total = audit_store.count(demo_session.store.conn)
    assert model.total == model.rowCount() == total > PAGE_SIZE
    assert model.cached_rows == PAGE_SIZE  # the first screen only, read with the count
    ids = {model.audit_id(r) for r in range(model.rowCount())}
    assert len(ids) == total
    assert model.cached_rows <= MAX_CACHED_PAGES * PAGE_SIZE


def test_register_model_sorts_by_sql_and_shows_grade_as_text(demo_session):
    model = AuditRegisterModel(demo_session)
    model.sort(COL_DATE, Qt.SortOrder.AscendingOrder)
    dates = [model.index(r, COL_DATE).data() for r in range(model.rowCount())]
    as_iso = [d[6:] + d[3:5] + d[:2] for d in dates]
    assert as_iso == sorted(as_iso)
    model.sort(COL_AUDITOR, Qt.SortOrder.DescendingOrder)
    names = [model.index(r, COL_AUDITOR).data() for r in range(model.rowCount())]
    assert names == sorted(names, reverse=True)
    labels = {model.index(r, COL_GRADE).data() for r in range(model.rowCount())}
    assert labels <= {g.short_label for g in Grade}
    # colour is never the only signal: the decoration sits beside a text label
    assert model.index(0, COL_GRADE).data(Qt.ItemDataRole.DecorationRole) is not None


def test_register_model_filter(demo_session):
    model = AuditRegisterModel(demo_session)
    model.set_filter(RegisterFilter(grade=Grade.INADEQUATE))
    assert model.rowCount() == model.total > 0
    assert {model.index(r, COL_GRADE).data() for r in range(model.rowCount())} == {"Inadequate"}


def test_main_window_shows_store_user_and_count(qtbot, demo_session, gui_settings):
    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    total = audit_store.count(demo_session.store.conn)
    assert window.count_label.text() == f"{total:,} audits"
    assert demo_session.store.describe() in window.path_label.text()
    assert "gui.tester" in window.user_label.text()
    assert "Administrator" in window.user_label.text()


def test_selecting_an_audit_shows_details_escaped(qtbot, demo_session, gui_settings):
    first = audit_store.get(demo_session.store.conn, 1)
    inp = first.to_input()
    inp.findings = "<b>not bold</b> & <img src=x>"
    audit_service.update_audit(demo_session, first.id, inp, reason="Testing escaping")
    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    html = window.audits_page.audit_html(first.id)
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;img src=x&gt;" in html
    assert "<img src=x>" not in html
    assert "Testing escaping" in html  # the trail's reason shows in the history
    window.audits_page.table.selectRow(0)
    assert window.audits_page.model.index(0, COL_CASE).data() in window.audits_page.detail.toPlainText()


def test_layout_is_remembered(qtbot, demo_session, gui_settings):
    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    window.resize(792, 520)  # the offscreen screen is 800 wide
    window.audits_page.table.setColumnWidth(COL_CASE, 222)
    window.close()
    again = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(again)
    again.show()
    assert again.size().width() == 792 and again.size().height() == 520
    assert again.audits_page.table.columnWidth(COL_CASE) == 222


def test_every_page_and_dialog_opens_from_the_main_window(qtbot, demo_session, gui_settings):
    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert titles == ["Audits", "My work", "Moderation", "Reflective conversations",
                      "Actions", "Drift dashboard", "Calibration", "Allocated to me",
                      "Case selection"]
    assert window.pages[2][1] is None  # loop pages are built when first shown
    for row in range(window.nav.count()):
        window.nav.setCurrentRow(row)
        assert window.stack.currentWidget() is window.pages[row][1] is not None
    for opener in (window.open_report, window.open_settings, window.open_export):
        dialog = opener()
        qtbot.addWidget(dialog)
        assert dialog.isVisible()
        dialog.close()


def test_undo_from_the_main_window_reverts_the_selected_audit(qtbot, demo_session, gui_settings):
    from sefton_qa.services import audits as audit_service

    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    page = window.audits_page
    page.table.selectRow(0)
    audit_id = page.selected_audit_id()
    before = audit_service.get_audit(demo_session, audit_id)
    inp = before.to_input()
    inp.findings = "Changed by mistake"
    audit_service.update_audit(demo_session, audit_id, inp, reason="oops")
    page.refresh(keep_audit=audit_id)
    window.undo_action.trigger()
    after = audit_service.get_audit(demo_session, audit_id)
    assert after.findings == before.findings
    assert "Undone" in window.statusBar().currentMessage()
    assert "undo" in page.detail.toPlainText()  # the undo is in the history shown


def test_grade_colours_follow_a_dark_palette(qapp):
    from PySide6.QtGui import QColor, QPalette

    from sefton_qa.gui.register_model import GRADE_COLOURS_ON_DARK, grade_colours

    original = qapp.palette()
    dark = QPalette(original)
    dark.setColor(QPalette.ColorRole.Base, QColor("#121212"))
    qapp.setPalette(dark)
    try:
        assert grade_colours() is GRADE_COLOURS_ON_DARK
    finally:
        qapp.setPalette(original)


def test_opening_the_window_counts_each_register_once(qtbot, demo_session, gui_settings,
                                                      monkeypatch):
    """At a million audits each count is milliseconds: opening the window counts each of its
    two registers once; sorting fetches pages again but never recounts; the same filter set
    again changes nothing."""
    from sefton_qa.services import register

    calls = []
    real = register.count
    monkeypatch.setattr(register, "count", lambda *a, **k: calls.append(1) or real(*a, **k))
    window = MainWindow(demo_session, settings=gui_settings)
    qtbot.addWidget(window)
    assert len(calls) == 2
    model = window.audits_page.model
    total = model.total
    model.sort(COL_AUDITOR, Qt.SortOrder.AscendingOrder)
    model.set_filter(model.filter)
    assert len(calls) == 2 and model.total == total
    assert model.data(model.index(0, COL_AUDITOR)) is not None


def test_edit_undo_and_redo_on_the_selected_audit_by_keyboard(qtbot, demo_session,
                                                              active_main_window):
    """Edit → Undo (Ctrl+Z) takes back the selected audit's last change; Edit → Redo (the
    platform's Redo keys) makes it again; a second Undo never acts as a Redo."""
    from PySide6.QtGui import QKeySequence

    from sefton_qa.domain.models import AuditStatus
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services import register as register_service

    window = active_main_window
    table = window.audits_page.table
    table.setFocus()
    table.selectRow(0)
    audit_id = window.audits_page.selected_audit_id()
    before = audit_service.get_audit(demo_session, audit_id).status
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert audit_service.get_audit(demo_session, audit_id).status is AuditStatus.WITHDRAWN
    assert "Undone" in window.statusBar().currentMessage()
    redo = QKeySequence(QKeySequence.StandardKey.Redo)[0]
    qtbot.keyClick(table, redo.key(), redo.keyboardModifiers())
    assert audit_service.get_audit(demo_session, audit_id).status is before
    kinds = [e.kind for e in register_service.history(demo_session, "audits", audit_id)]
    assert kinds[-2:] == ["undo", "redo"]
    window.close()
