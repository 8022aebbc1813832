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
import sqlite3
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


def test_closing_the_window_stops_a_check_between_two_statements(
        qtbot, tmp_path, own_store_template, gui_settings, monkeypatch):
    """The chain's walk runs a query, then hashes in Python with no statement running, then
    queries again. An interrupt landing in that gap is lost; closing the window must still end
    the check's thread (Qt aborts the app if a QThread outlives its owner), with no banner."""
    import threading

    from sefton_qa.services import verify as verify_service

    walking = threading.Event()
    outcome = {}

    def slow_chain(conn):
        walking.set()
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                conn.execute("SELECT count(*) FROM trail").fetchone()
                time.sleep(0.002)  # Python work between two statements
        except sqlite3.OperationalError as exc:
            outcome["aborted"] = str(exc)
            raise
        outcome["ran to its deadline"] = True
        return verify_service.Check("trail chain", True, "slow")

    monkeypatch.setattr(verify_service, "_chain", slow_chain)
    path = tmp_path / "slow.sqlite3"
    shutil.copy(own_store_template, path)
    session, _read_only = open_session_or_way_out(path)
    try:
        window = _window(qtbot, session, gui_settings)
        window.check_store()
        assert walking.wait(30)
        job = window.store_checker.job
        window.close()
        assert not job._thread.isRunning()
        # SQLite aborted the check's next statement (it did not run on to its deadline).
        assert "interrupted" in outcome.get("aborted", ""), outcome
        assert window.store_check_banner.isHidden()
    finally:
        session.store.close()


def test_restoring_from_the_banner_clears_it_and_checks_the_restored_store(
        qtbot, tmp_path, own_store_template, gui_settings, monkeypatch):
    from PySide6.QtWidgets import QMessageBox
    from damaged_stores import edit_trail_outside_the_app

    from sefton_qa.services import backups as backup_service

    path = tmp_path / "restore" / "store.sqlite3"
    path.parent.mkdir()
    shutil.copy(own_store_template, path)
    store = open_store(path)
    backup = backup_service.make_backup(store)
    store.close()
    edit_trail_outside_the_app(path, "UPDATE trail SET os_user = 'x' WHERE seq = 7",
                               "trail_is_append_only_update")
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail(str(a)))
    session, _read_only = open_session_or_way_out(path)
    window = None
    try:
        window = _window(qtbot, session, gui_settings)
        with qtbot.waitSignal(window.store_checker.checked, timeout=60_000):
            window.check_store()
        assert window.store_check_banner.isVisible()
        qtbot.mouseClick(window.store_check_banner.read_only_button, Qt.MouseButton.LeftButton)
        assert session.store.read_only

        dialog = window.open_backups()  # what the banner's "Restore from a backup…" opens
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(window.store_checker.checked, timeout=60_000) as blocker:
            assert dialog.restore(backup) is not None
        assert blocker.args[0].ok
        assert window.store_check_banner.isHidden()
        assert not session.store.read_only
        assert not window.windowTitle().endswith("(read-only)")
    finally:
        if window is not None:
            window.close()
        session.store.close()


def test_switching_to_read_only_waits_for_work_still_being_written(
        qtbot, tmp_path, own_store_template, gui_settings, monkeypatch):
    """An import still running holds its own read-write connection: the switch is refused
    with a plain message until it has finished (a read-only job does not hold it up)."""
    import threading

    from PySide6.QtWidgets import QMessageBox

    from sefton_qa.gui.jobs import Job

    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    path = tmp_path / "busy.sqlite3"
    shutil.copy(own_store_template, path)
    session, _read_only = open_session_or_way_out(path)
    window = None
    release = threading.Event()
    try:
        window = _window(qtbot, session, gui_settings)
        writer = Job(session, lambda s, p: release.wait(30))
        reader = Job(session, lambda s, p: release.wait(30), writes=False)
        writer.start()
        reader.start()
        qtbot.waitUntil(lambda: writer in Job.running())
        assert reader not in Job.running() and reader in Job.running(writing=False)

        assert window.switch_to_read_only() is False
        assert not session.store.read_only and "still being written" in told[0]

        release.set()
        assert writer.wait(30_000) and reader.wait(30_000)
        assert window.switch_to_read_only() is True and session.store.read_only
    finally:
        release.set()
        if window is not None:
            window.close()
        session.store.close()
