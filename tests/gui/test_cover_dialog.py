"""Reports → Committee pack → Cover report (issue 16, finding 7), by keyboard."""

from __future__ import annotations

from sefton_qa.gui.report_dialog import ReportDialog


def test_the_cover_report_is_edited_by_keyboard_and_kept_for_the_next_pack(
        qtbot, demo_session, shown_active):
    """Issue 16, finding 7: Alt+V opens the cover report (starting from the one kept last
    time); what is typed goes into the pack built next and is kept for the one after."""
    from PySide6.QtCore import QTimer, Qt
    from PySide6.QtWidgets import QApplication

    from sefton_qa.gui.cover_dialog import CoverDialog
    from sefton_qa.services.reports import stored_cover

    dialog = shown_active(ReportDialog(demo_session))
    seen = []

    def type_in_the_cover():
        cover = QApplication.activeModalWidget()
        seen.append(cover)
        assert isinstance(cover, CoverDialog)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                        and QApplication.focusWidget().window() is cover)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_C,
                       Qt.KeyboardModifier.AltModifier)
        assert QApplication.focusWidget() is cover.contact
        qtbot.keyClicks(QApplication.focusWidget(), "Head of QA, qa@example.gov.uk")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_U,
                       Qt.KeyboardModifier.AltModifier)  # clicked ~100 ms later

    QTimer.singleShot(200, type_in_the_cover)
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_V,
                   Qt.KeyboardModifier.AltModifier)  # a mnemonic clicks ~100 ms later
    qtbot.waitUntil(lambda: dialog.cover is not None, timeout=5_000)
    assert seen
    assert dialog.cover.contact_officer == "Head of QA, qa@example.gov.uk"
    dialog.build()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.result is not None, dialog.status.text()
    assert stored_cover(demo_session).contact_officer == "Head of QA, qa@example.gov.uk"
