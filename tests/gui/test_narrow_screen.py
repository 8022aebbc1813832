"""Issue 17, items 5 and 3: at 1024×768 the register shows, without scrolling, what a person
scans it for: the case reference, the audit date, the team, the overall grade and the status."""

from __future__ import annotations

from sefton_qa.gui.register_model import COL_CASE, COL_DATE, COL_GRADE, COL_STATUS, COL_TEAM


def test_at_1024_by_768_the_registers_key_columns_are_in_view(qtbot, demo_session,
                                                               gui_settings):
    from sefton_qa.gui.main_window import MainWindow

    window = MainWindow(demo_session, gui_settings)  # a first start: the default layout
    qtbot.addWidget(window)
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    table = window.audits_page.table
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    visible = table.viewport().width()
    for column in (COL_CASE, COL_DATE, COL_TEAM, COL_GRADE, COL_STATUS):
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        name = table.model().headerData(column, header.orientation())
        assert header.sectionViewportPosition(column) >= 0 and right <= visible, \
            f"{name} ends at {right} px; the register shows {visible} px"
    window.close()


def test_the_keyboards_place_shows_in_the_sidebar_the_register_and_the_detail_pane(
        qtbot, demo_session, gui_settings):
    """Each of them, grabbed without the focus and with it, differs along its border."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from sefton_qa.gui.main_window import MainWindow

    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    page = window.audits_page
    page.table.selectRow(0)
    views = {"sidebar": window.nav, "register": page.table, "detail pane": page.detail}
    for name, view in views.items():
        window.audits_page.filters.search.setFocus()
        qtbot.waitUntil(lambda: not view.hasFocus())
        without = view.grab().toImage()
        view.setFocus(Qt.FocusReason.TabFocusReason)
        qtbot.waitUntil(view.hasFocus)
        with_focus = view.grab().toImage()
        w, h = without.width(), without.height()
        border = [(0, h // 2), (w - 1, h // 2), (w // 2, 0), (w // 2, h - 1)]
        changed = [p for p in border if without.pixel(*p) != with_focus.pixel(*p)]
        assert len(changed) == len(border), f"the {name} shows no focus frame ({changed})"
    window.close()
