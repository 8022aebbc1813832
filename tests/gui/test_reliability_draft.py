"""Issue 8, item 3, in the audit form: a draft the disk cannot take.

The store is made full with SQLite's own limit (``PRAGMA max_page_count`` at the store's
current size), the user types and the draft is saved automatically: the form says plainly that
the draft was not saved, keeps every character typed, and the next save after the disk has
room again stores it. No error dialog (traceback) is shown: ``show_error`` is replaced by a
recorder that must stay empty.
"""

from __future__ import annotations

import re

import pytest
from figures import record_figure
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sefton_qa.gui import audit_form
from sefton_qa.gui.audit_form import AuditForm
from sefton_qa.services import audits as audit_service

NO_LIMIT = 1_073_741_823
CTRL = Qt.KeyboardModifier.ControlModifier
PASTED = "Chronology reviewed line by line. " * 900  # ~30,000 characters, as if pasted


@pytest.fixture
def error_dialogs(monkeypatch):
    """The error dialog is modal; record what it would have shown (must be nothing)."""
    shown: list[BaseException] = []
    monkeypatch.setattr(audit_form, "show_error", lambda _parent, exc, **_kw: shown.append(exc))
    return shown


@pytest.fixture
def form(qtbot, demo_session, gui_settings, error_dialogs):
    form = AuditForm(demo_session, None, settings=gui_settings)
    qtbot.addWidget(form)
    form.asked = []
    form.ask_discard = lambda text: form.asked.append(text) or True  # modal: answered here
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.case_edit)
    yield form
    writing_connection(demo_session).execute(f"PRAGMA max_page_count = {NO_LIMIT}")


def writing_connection(session):
    """The connection the window's saves are written on: the operations path's own (opened
    by a first, empty operation). The disk limit is set on it."""
    from sefton_qa.gui import operations

    ops = operations.for_session(session)
    if ops.worker_store is None:
        ops.call(lambda _s: None, session)
    return ops.worker_store.conn


def fill_the_disk(session) -> int:
    conn = writing_connection(session)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    return pages


def type_findings(qtbot, form: AuditForm, typed: str) -> None:
    form.findings_edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.findings_edit)
    form.findings_edit.moveCursor(form.findings_edit.textCursor().MoveOperation.End)
    qtbot.keyClicks(form.findings_edit, typed)
    form.findings_edit.insertPlainText(PASTED)  # a paste: more than the full disk can take


@pytest.mark.file_only
def test_a_draft_on_a_full_disk_is_kept_in_the_form_and_saved_when_there_is_room(
        qtbot, form, demo_session, error_dialogs):
    store = demo_session.store
    qtbot.keyClicks(form.case_edit, "LCS-88")
    qtbot.keyClick(form.case_edit, Qt.Key.Key_S, CTRL)
    assert form.save_state_label.text().startswith("Draft saved")
    audit_id = form.audit_id
    saved_version = audit_service.get_audit(demo_session, audit_id).version
    trail_rows = store.conn.execute("SELECT count(*) FROM trail").fetchone()[0]

    pages = fill_the_disk(demo_session)
    type_findings(qtbot, form, "Typed while the disk was full.")
    # The automatic save (1.5 s after the last change) runs and fails.
    qtbot.waitUntil(lambda: form.save_state_label.text() == "Draft not saved", timeout=6000)
    notice = form.notice_label.text()
    assert form.notice.isVisible()
    assert notice == ("The draft was not saved: The store could not be written: the disk is "
                      "full. Nothing was saved; free some space and try again. What you typed "
                      "is still here.")
    assert error_dialogs == []  # no traceback dialog
    assert form.findings_edit.toPlainText() == "Typed while the disk was full." + PASTED
    assert form.case_edit.text() == "LCS-88" and form.is_dirty()
    assert not store.conn.in_transaction
    assert audit_service.get_audit(demo_session, audit_id).version == saved_version
    assert store.conn.execute("SELECT count(*) FROM trail").fetchone()[0] == trail_rows

    # Saving by hand while still full: the same plain message, nothing lost.
    qtbot.keyClick(form.findings_edit, Qt.Key.Key_S, CTRL)
    assert form.save_state_label.text() == "Draft not saved"
    assert form.findings_edit.toPlainText() == "Typed while the disk was full." + PASTED

    # Room again: the next save stores exactly what was typed.
    writing_connection(demo_session).execute(f"PRAGMA max_page_count = {NO_LIMIT}")
    qtbot.keyClick(form.findings_edit, Qt.Key.Key_S, CTRL)
    assert re.fullmatch(r"Draft saved \d\d:\d\d", form.save_state_label.text())
    assert not form.is_dirty()
    audit = audit_service.get_audit(demo_session, audit_id)
    assert audit.findings == "Typed while the disk was full." + PASTED
    assert audit.version == saved_version + 1
    assert error_dialogs == []
    record_figure("draft on a full disk (GUI)",
                  f"store of {pages} pages held at its size: autosave refused plainly, "
                  f"{len(form.findings_edit.toPlainText()):,} characters kept in the form; "
                  f"saved (version {audit.version}) once there was room")


@pytest.mark.file_only
def test_a_new_audit_on_a_full_disk_is_kept_and_created_when_there_is_room(
        qtbot, form, demo_session, error_dialogs):
    store = demo_session.store
    audits = store.conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    fill_the_disk(demo_session)
    qtbot.keyClicks(form.case_edit, "LCS-89")
    type_findings(qtbot, form, "First save, disk full.")
    qtbot.keyClick(form.findings_edit, Qt.Key.Key_S, CTRL)
    assert form.audit_id is None
    assert form.save_state_label.text() == "Draft not saved"
    assert "the disk is full" in form.notice_label.text()
    assert store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == audits

    # Room again, then close: the draft is saved on the way out, without asking anything.
    writing_connection(demo_session).execute(f"PRAGMA max_page_count = {NO_LIMIT}")
    with qtbot.waitSignal(form.finished):
        form.close()
    assert form.asked == []
    assert form.audit_id is not None
    audit = audit_service.get_audit(demo_session, form.audit_id)
    assert (audit.case_reference, audit.findings) == ("LCS-89", "First save, disk full." + PASTED)
    assert error_dialogs == []
