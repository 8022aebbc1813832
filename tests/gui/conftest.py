"""GUI tests run offscreen unless QT_QPA_PLATFORM says otherwise. Each test gets its own
QSettings file, so nothing leaks into the user's settings."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from sefton_qa.services import sign_in  # noqa: E402
from sefton_qa.services.demo import generate_demo  # noqa: E402
from sefton_qa.store import open_store  # noqa: E402

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def gui_settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _fill(store) -> None:
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    generate_demo(session, months=6, seed=7)
    store.close()


@pytest.fixture(scope="session")
def gui_demo_file(tmp_path_factory):
    """Six months of demo data (seed 7), made once; each test gets a copy."""
    path = tmp_path_factory.mktemp("gui-template") / "gui-demo.sqlite3"
    _fill(open_store(path))
    return path


@pytest.fixture(scope="session")
def gui_demo_database(pg_server, pg_empty_template):
    import os

    name = f"tmpl_gui_{os.getpid()}"
    url = pg_server.create(name)
    _fill(open_store(url))
    return name


@pytest.fixture
def demo_session(engine, request, tmp_path):
    """gui.tester (the administrator) on six months of demo data, on each engine."""
    import shutil

    if engine == "postgresql":
        server = request.getfixturevalue("pg_server")
        url = server.create(template=request.getfixturevalue("gui_demo_database"))
        store = open_store(url)
    else:
        path = tmp_path / "gui-demo.sqlite3"
        shutil.copy(request.getfixturevalue("gui_demo_file"), path)
        store = open_store(path)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    yield session
    store.close()
    if engine == "postgresql":
        server.drop(url)


@pytest.fixture
def shown_active(qtbot):
    """``shown_active(widget)``: shown, exposed and the active window, so keys reach it (as
    a person's click on it would make it); returns the widget."""
    from PySide6.QtWidgets import QApplication

    def show(widget):
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitExposed(widget)
        widget.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is widget)
        return widget

    return show


@pytest.fixture
def main_window(gui_settings, shown_active):
    """``main_window(session)``: a main window on ``session``, shown and active."""
    from sefton_qa.gui.main_window import MainWindow

    return lambda session: shown_active(MainWindow(session, gui_settings))


@pytest.fixture
def active_main_window(demo_session, main_window):
    """The main window on the demo session, shown and active, so keys reach its shortcuts."""
    return main_window(demo_session)


@pytest.fixture
def as_gui_tester(monkeypatch):
    """This process acts as gui.tester, the demo session's administrator."""
    from sefton_qa import identity

    monkeypatch.setattr(identity, "os_account", lambda: "gui.tester")
    from sefton_qa.services import session

    monkeypatch.setattr(session, "signed_in_account", lambda store: identity.os_account())


@pytest.fixture(autouse=True)
def no_service_write_on_the_gui_thread(monkeypatch):
    """Issue 17: no service write runs on the GUI thread. Every write transaction opened on
    the main thread with code of ``sefton_qa/gui`` on its call stack fails the test; the
    window's writes go through ``gui/operations.py`` (its worker thread) or a background job.
    A test's own set-up through the services (no window code on the stack) is not a window
    write."""
    import sys
    import threading

    from sefton_qa.store.connection import Store

    real = Store.transaction
    gui_code = os.path.join("sefton_qa", "gui") + os.sep
    seen: list[str] = []

    def transaction(self):
        if threading.current_thread() is threading.main_thread():
            frame = sys._getframe(1)
            while frame is not None:
                if gui_code in frame.f_code.co_filename:
                    seen.append(f"{frame.f_code.co_filename.split(gui_code)[-1]}:"
                                f"{frame.f_lineno} ({frame.f_code.co_name})")
                    break
                frame = frame.f_back
        return real(self)

    monkeypatch.setattr(Store, "transaction", transaction)
    yield
    assert not seen, "service writes ran on the GUI thread, from: " + "; ".join(seen)
