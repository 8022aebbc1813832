"""Item 5 (issue 8) in the window: a store that fails its checks is said plainly, with a way out.

* The quick check on opening refuses a store whose newest trail rows were edited (the
  OpenProblemDialog offers read-only); nothing is written to it.
* An old trail row edited outside the app passes the quick check; the full check, run in the
  background once the window is open, finds it and shows the banner, whose "Switch to
  read-only" reopens the store read-only. The file is never written.
* A store from a newer version opens read-only through the dialog, and the window says why.
* A sound store: no banner, "Store checked: sound" in the status bar.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from damaged_stores import make_newer, make_old_row_edited, make_tail_edited
from figures import record_figure

from sefton_qa.gui import open_problem
from sefton_qa.gui.app import open_session_or_way_out
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.services import sign_in
from sefton_qa.services.demo import generate_demo
from sefton_qa.store import open_store
from sefton_qa.store import trail as trail_store


@pytest.fixture(scope="module")
def own_store_template(tmp_path_factory) -> Path:
    """A demo store whose administrator is the current OS user (as the app signs in)."""
    path = tmp_path_factory.mktemp("store-check") / "template.sqlite3"
    store = open_store(path)
    try:
        generate_demo(sign_in(store), months=12, seed=11)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert trail_store.count(store.conn) > 1500  # so row 5 is far from the newest rows
    finally:
        store.close()
    return path


def _snapshot(path: Path):
    return path.read_bytes(), path.stat().st_mtime_ns


def _window(qtbot, session, gui_settings) -> MainWindow:
    window = MainWindow(session, settings=gui_settings)
    qtbot.addWidget(window)
    window.show()
    return window


def _dialogs(qtbot, monkeypatch, choose):
    shown = []

    def factory(path, message):
        dialog = open_problem.OpenProblemDialog(path, message)
        qtbot.addWidget(dialog)
        shown.append((dialog, message))
        monkeypatch.setattr(dialog, "exec", getattr(dialog, choose))
        return dialog

    return factory, shown


def test_a_sound_store_is_checked_in_the_background_and_no_banner_shows(
        qtbot, tmp_path, own_store_template, gui_settings):
    path = tmp_path / "sound.sqlite3"
    shutil.copy(own_store_template, path)
    session, read_only = open_session_or_way_out(path)
    window = None
    try:
        window = _window(qtbot, session, gui_settings)
        with qtbot.waitSignal(window.store_checker.checked, timeout=60_000) as blocker:
            window.check_store()
        assert blocker.args[0].ok and not read_only
        assert window.store_check_banner.isHidden()
        assert "Store checked: sound" in window.statusBar().currentMessage()
    finally:
        if window is not None:
            window.close()
        session.store.close()


def test_an_old_trail_row_edited_outside_the_app_shows_the_banner_and_read_only_writes_nothing(
        qtbot, tmp_path, own_store_template, gui_settings):
    path = make_old_row_edited(own_store_template, tmp_path / "edited" / "store.sqlite3")
    before = _snapshot(path)
    session, read_only = open_session_or_way_out(path)  # passes the quick check
    window = None
    try:
        assert not read_only
        window = _window(qtbot, session, gui_settings)
        trail_rows = trail_store.count(session.store.conn)
        started = time.monotonic()
        with qtbot.waitSignal(window.store_checker.checked, timeout=60_000) as blocker:
            window.check_store()
        elapsed = time.monotonic() - started
        report = blocker.args[0]
        assert not report.ok
        banner = window.store_check_banner
        assert banner.isVisible()
        text = banner.message.text()
        assert "failed its full check" in text and "trail chain: breaks at trail row 5" in text
        assert banner.message.textFormat() == Qt.TextFormat.RichText
        assert banner.read_only_button.isVisible() and banner.restore_button.isVisible()

        qtbot.mouseClick(banner.read_only_button, Qt.MouseButton.LeftButton)
        assert session.store.read_only
        assert window.windowTitle().endswith("(read-only)")
        assert not banner.read_only_button.isVisible()
        assert window.audits_page.model.total > 0  # still readable
        record_figure("store check in the background",
                      f"an old trail row (5 of {trail_rows:,}) edited outside the app: opened "
                      f"(the quick check reads the newest 1,000); the full check found it in "
                      f"{elapsed:.1f} s and showed the banner; Switch to read-only reopened "
                      "it read-only; file unchanged")
    finally:
        if window is not None:
            window.close()
        session.store.close()
    assert _snapshot(path) == before


def _open_read_only_through_the_dialog(qtbot, monkeypatch, gui_settings, path, check):
    """Open ``path`` as the app does; the OpenProblemDialog must offer, and get, read-only.
    ``check(message, session, window)`` looks at what the user sees. The file is unchanged."""
    before = _snapshot(path)
    factory, shown = _dialogs(qtbot, monkeypatch, "open_read_only")
    session, read_only = open_session_or_way_out(path, dialog_factory=factory)
    window = None
    try:
        (dialog, message), = shown
        assert dialog.read_only_button.isEnabled()
        assert read_only and session.store.read_only
        window = _window(qtbot, session, gui_settings)
        assert window.windowTitle().endswith("(read-only)")
        check(message, session, window)
    finally:
        if window is not None:
            window.close()
        session.store.close()
    assert _snapshot(path) == before


def test_the_newest_trail_rows_edited_is_refused_on_opening_and_opens_read_only(
        qtbot, tmp_path, own_store_template, gui_settings, monkeypatch):
    def check(message, _session, _window):
        assert "failed its check on opening" in message and "does not match its hash" in message

    _open_read_only_through_the_dialog(
        qtbot, monkeypatch, gui_settings,
        make_tail_edited(own_store_template, tmp_path / "tail" / "store.sqlite3"), check)


def test_a_store_from_a_newer_version_opens_read_only_and_says_why(
        qtbot, tmp_path, own_store_template, gui_settings, monkeypatch):
    def check(message, session, window):
        assert "newer version of Sefton QA" in message and session.store.newer_version
        assert "newer version" in window.statusBar().currentMessage()
        # The background check runs on it too (read-only), and finds it sound.
        with qtbot.waitSignal(window.store_checker.checked, timeout=60_000) as blocker:
            window.check_store()
        assert blocker.args[0].ok and window.store_check_banner.isHidden()

    _open_read_only_through_the_dialog(
        qtbot, monkeypatch, gui_settings,
        make_newer(own_store_template, tmp_path / "newer" / "store.sqlite3"), check)
