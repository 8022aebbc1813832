"""File → Open store…, driven by the keyboard: a file or the team's server, recent stores, and
plain refusals that keep what was typed."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from sefton_qa.gui.open_store_dialog import OpenStoreDialog, recent_stores
from sefton_qa.services import sign_in
from sefton_qa.services.demo import generate_demo
from sefton_qa.store import open_store

TODAY = dt.date(2026, 11, 24)  # as tests/gui/conftest.py


@pytest.fixture
def window(active_main_window):
    return active_main_window


def open_dialog(qtbot, window) -> OpenStoreDialog:
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), OpenStoreDialog))
    dialog = QApplication.activeModalWidget()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.location)
    return dialog


def type_location(qtbot, dialog, text: str) -> None:
    qtbot.keyClick(dialog.location, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.location, text)
    qtbot.keyClick(dialog.location, Qt.Key.Key_Return)


def test_open_the_teams_server_store_by_keyboard(qtbot, window, pg_server, pg_empty_template,
                                                 gui_settings, tmp_path, monkeypatch):
    url = pg_server.create(template=pg_empty_template)
    store = open_store(url)
    generate_demo(sign_in(store, today=lambda: TODAY), months=2, seed=3)  # this OS account
    store.close()
    first = window.session.store.location
    dialog = open_dialog(qtbot, window)
    assert dialog.location.text() == first  # the store open now, to edit from
    type_location(qtbot, dialog, url)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=15_000)
    new = window.replaced_by
    qtbot.addWidget(new)
    assert not window.isVisible() and new.isVisible()
    assert not new.session.store.dialect.is_file
    assert "(server)" not in new.windowTitle() and "on local socket" in new.windowTitle()
    assert "on local socket" in new.path_label.text()
    assert new.count_label.text().endswith("audits") and not new.count_label.text().startswith("0 ")
    # File → Backups… on a server says IT backs it up, and offers a verified snapshot
    backups = new.open_backups()
    qtbot.addWidget(backups)
    assert any("Council IT backs it up" in label.text()
               for label in backups.findChildren(type(backups.note)))
    snapshot = tmp_path / "snapshot.sqlite3"
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName",  # the file chooser answers this name
                        lambda *a, **k: (str(snapshot), "Sefton QA store (*.sqlite3)"))
    qtbot.waitExposed(backups)
    backups.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is backups)
    qtbot.keyClick(backups, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # &Save a snapshot
    qtbot.waitUntil(lambda: backups.result is not None, timeout=60_000)
    assert snapshot.is_file()
    assert "checked against the server" in backups.note.text()
    backups.close()
    assert recent_stores(gui_settings)[0] == url
    new.close()
    assert new.session.store.conn.closed
    pg_server.drop(url)


@pytest.mark.parametrize("typed, words", [
    ("postgresql://nobody@/none?host=/nonexistent/dir", "could not be reached"),
    ("postgresql://qa:secret@db.example/sefton", "Leave the password out"),
])
def test_a_refused_store_is_said_in_the_dialog_and_the_text_kept(qtbot, window, typed, words):
    dialog = open_dialog(qtbot, window)
    type_location(qtbot, dialog, typed)
    qtbot.waitUntil(lambda: words in dialog.message.text(), timeout=15_000)
    assert dialog.isVisible() and dialog.location.text() == typed
    assert window.isVisible() and window.session.store.conn is not None
    qtbot.waitUntil(lambda: dialog.location.isEnabled())
    qtbot.keyClick(dialog.location, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_recent_stores_are_offered_first(qtbot, window, gui_settings, tmp_path):
    other = tmp_path / "other.sqlite3"
    open_store(other).close()
    gui_settings.setValue("recent_stores", [str(other), window.session.store.location])
    dialog = open_dialog(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is dialog.recent
    qtbot.keyClick(dialog.recent, Qt.Key.Key_Home)
    assert dialog.location.text() == str(other)
    qtbot.keyClick(dialog.recent, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=15_000)
    qtbot.addWidget(window.replaced_by)
    assert window.replaced_by.session.store.path == other
    window.replaced_by.close()
