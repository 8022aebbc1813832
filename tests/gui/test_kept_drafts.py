"""Issue 14, item 6: a draft typed while the team's server cannot be reached is kept in a file
of the user's own (deleted once saved), saved when the server is back, offered again after the
app was closed, and never overwrites a change made on the server meanwhile.

The connection is really lost (the server ends it, as a restart or a dropped network does);
while the server is "away", making a new connection fails as it would with the network down.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sefton_qa.domain.errors import ServerUnreachable
from sefton_qa.gui import audit_form
from sefton_qa.gui.audit_form import AuditForm
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.services import audits as audit_service
from sefton_qa.services import kept_drafts, sign_in
from sefton_qa.store import open_store
from sefton_qa.store import postgres

TODAY = dt.date(2026, 11, 24)  # as tests/gui/conftest.py
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def team(pg_server, gui_demo_database, tmp_path, monkeypatch):
    """A server store, this user's own data folder, and a switch for the server being away."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(audit_form, "KEPT_RETRY_MS", 200)
    shown = []
    monkeypatch.setattr(audit_form, "show_error", lambda _parent, exc, **_kw: shown.append(exc))
    url = pg_server.create(template=gui_demo_database)
    real_connect = postgres.connect

    class Server:
        away = False

        def __init__(self):
            self.url = url
            self.shown = shown

        def go_away(self, store) -> None:
            """The server ends every connection to the store (the window's, and the one its
            saves are written on), and cannot be reached for now."""
            Server.away = True
            database = store.conn.raw.info.dbname
            pg_server.admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))

        def come_back(self) -> None:
            Server.away = False

    def connect(conninfo, **kwargs):
        if Server.away:
            raise ServerUnreachable("The server for the store could not be reached "
                                    "(connection refused). Check the address and the network.")
        return real_connect(conninfo, **kwargs)

    monkeypatch.setattr(postgres, "connect", connect)
    yield Server()
    assert shown == []
    pg_server.drop(url)


def _open_form(qtbot, session, gui_settings, **kwargs) -> AuditForm:
    form = AuditForm(session, kwargs.pop("audit_id", None), settings=gui_settings, **kwargs)
    qtbot.addWidget(form)
    form.ask_discard = lambda text: pytest.fail(f"asked to discard: {text}")
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.case_edit)
    return form


def _kept_files(tmp_path):
    folder = kept_drafts.folder()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_draft_typed_while_the_server_is_away_is_kept_then_saved_when_it_is_back(
        qtbot, team, gui_settings, tmp_path):
    store = open_store(team.url)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    form = _open_form(qtbot, session, gui_settings)
    qtbot.keyClicks(form.case_edit, "LCS-5150")
    qtbot.keyClick(form.case_edit, Qt.Key.Key_S, CTRL)
    assert form.save_state_label.text().startswith("Draft saved")
    audit_id = form.audit_id

    team.go_away(store)
    qtbot.keyClicks(form.case_edit, "9")
    form.findings_edit.setFocus()
    qtbot.keyClicks(form.findings_edit, "Typed while the network was down.")
    qtbot.keyClick(form.findings_edit, Qt.Key.Key_S, CTRL)
    assert form.save_state_label.text() == \
        "Kept on this computer: the server cannot be reached"
    assert "kept on this computer" in form.notice_label.text()
    [kept] = _kept_files(tmp_path)
    if os.name == "posix":  # readable by this user only
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    body = json.loads(kept.read_text())
    assert body["input"]["case_reference"] == "LCS-51509"
    assert body["input"]["findings"] == "Typed while the network was down."
    assert body["audit_id"] == audit_id
    # More typing replaces the same file, never a second one.
    qtbot.keyClicks(form.findings_edit, " More.")
    qtbot.keyClick(form.findings_edit, Qt.Key.Key_S, CTRL)
    assert [p.name for p in _kept_files(tmp_path)] == [kept.name]

    team.come_back()  # the form tries again by itself
    qtbot.waitUntil(lambda: form.save_state_label.text().startswith("Draft saved"),
                    timeout=10_000)
    assert _kept_files(tmp_path) == [] and form.kept_path is None
    assert form.notice.isHidden()
    saved = audit_service.get_audit(session, audit_id)
    assert saved.case_reference == "LCS-51509"
    assert saved.findings == "Typed while the network was down. More."
    from sefton_qa.gui import operations

    assert operations.for_session(session).worker_store.conn.reconnects >= 1
    form.close()
    store.close()


def test_a_kept_draft_is_offered_after_a_restart_and_saved_by_keyboard(
        qtbot, team, gui_settings, tmp_path):
    store = open_store(team.url)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    form = _open_form(qtbot, session, gui_settings)
    team.go_away(store)
    qtbot.keyClicks(form.case_edit, "LCS-6160")
    qtbot.keyClick(form.case_edit, Qt.Key.Key_Escape)  # closing: kept, nothing asked
    qtbot.waitUntil(lambda: not form.isVisible())
    assert len(_kept_files(tmp_path)) == 1
    store.close()

    team.come_back()  # the next day, the app is started again
    store = open_store(team.url)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    window = MainWindow(session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    assert window.kept_banner.isVisible()
    assert "1 draft typed while the server could not be reached is kept on this computer" \
        in window.kept_label.text()
    assert "LCS-6160 (a new audit)" in window.kept_label.text()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # so Alt keys reach it
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_K,
                   Qt.KeyboardModifier.AltModifier)  # Open &kept drafts
    qtbot.waitUntil(lambda: len(window._forms) == 1)
    form = window._forms[0]
    qtbot.waitUntil(lambda: form.save_state_label.text().startswith("Draft saved"))
    assert form.case_edit.text() == "LCS-6160" and form.audit_id is not None
    assert audit_service.get_audit(session, form.audit_id).case_reference == "LCS-6160"
    assert _kept_files(tmp_path) == [] and not window.kept_banner.isVisible()
    form.close()
    window.close()
    store.close()


def test_a_kept_draft_never_overwrites_a_change_made_on_the_server_meanwhile(
        qtbot, team, gui_settings, tmp_path):
    store = open_store(team.url)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    form = _open_form(qtbot, session, gui_settings)
    qtbot.keyClicks(form.case_edit, "LCS-7170")
    qtbot.keyClick(form.case_edit, Qt.Key.Key_S, CTRL)
    audit_id = form.audit_id
    team.go_away(store)
    form.findings_edit.setFocus()
    qtbot.keyClicks(form.findings_edit, "Mine, typed offline.")
    qtbot.keyClick(form.case_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not form.isVisible())
    store.close()
    team.come_back()

    # Meanwhile a colleague changed the same draft on the server.
    other = open_store(team.url)
    colleague = sign_in(other, os_user="gui.tester", today=lambda: TODAY)
    current = audit_service.get_audit(colleague, audit_id)
    inp = current.to_input()
    inp.findings = "Theirs, saved on the server."
    audit_service.update_audit(colleague, audit_id, inp, expected_version=current.version)
    other.close()

    store = open_store(team.url)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    [kept] = kept_drafts.kept_for(store.location)
    form = _open_form(qtbot, session, gui_settings, kept=kept)
    qtbot.waitUntil(lambda: form.in_conflict)
    assert form.reload_button.isVisible()
    assert form.findings_edit.toPlainText() == "Mine, typed offline."  # still here to copy
    assert audit_service.get_audit(session, audit_id).findings == "Theirs, saved on the server."
    assert _kept_files(tmp_path) == [kept.path]  # kept until the user has dealt with it
    form.ask_discard = lambda text: True
    form.close()
    store.close()
