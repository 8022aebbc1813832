"""Starting the GUI: open the store, sign in, fill demo data when asked, show the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from sefton_qa import APP_ID, APP_NAME, __version__
from sefton_qa.domain.errors import SeftonError
from sefton_qa.gui.errors import install_excepthook, setup_logging, show_error


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_ID)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setApplicationDisplayName(APP_NAME)
    return app


def open_session(path: Path, *, fill_demo: bool = False, read_only: bool = False):
    """Open the store and sign in. With ``fill_demo``, an empty store is filled with demo data
    here (the GUI instead loads it in the background from the welcome page). ``read_only``
    opens it without migrating or writing (signing in only finds an existing staff record);
    otherwise a store that fails the quick check on opening is refused (StoreDamaged) before
    anything is written, and the OpenProblemDialog offers read-only or a restore."""
    from sefton_qa.services import sign_in
    from sefton_qa.services.demo import generate_demo
    from sefton_qa.store import audits as audit_store
    from sefton_qa.store import open_store

    store = open_store(path, read_only=True, migrate=False, create=False) if read_only \
        else open_store(path, check=True)
    try:
        session = sign_in(store)
        if fill_demo and audit_store.count(store.conn) == 0:
            generate_demo(session)
    except BaseException:
        store.close()
        raise
    return session


def run_gui(path: Path, *, fill_demo: bool = False) -> int:
    app = make_app()
    log_file = setup_logging()
    install_excepthook(log_file)
    try:
        session, read_only = open_session_or_way_out(path)
    except SeftonError as exc:
        QMessageBox.critical(None, f"{APP_NAME} cannot open its store", str(exc))
        return 1
    except Exception as exc:  # shown with details and logged; never a bare traceback
        show_error(None, exc, log_file=log_file)
        return 1
    if session is None:
        return 1
    window = show_main_window(session)
    if fill_demo and window.welcome is not None:
        window.welcome.load_demo()  # in the background, with a progress bar and Cancel
    try:
        return app.exec()
    finally:
        session.store.close()  # the first store (a switched-to one is closed by its window)


def show_main_window(session, settings=None):
    """A main window on ``session``: shown, then today's backup and the full store check in
    the background. The store is remembered among the recent ones (File → Open store…)."""
    from PySide6.QtCore import QSettings

    from sefton_qa.gui.main_window import MainWindow
    from sefton_qa.gui.open_store_dialog import remember_store

    window = MainWindow(session, settings)
    remember_store(settings or QSettings(), session.store.location)
    window.show()
    window.start_daily_backup()  # in the background: seconds to a minute on a big store
    window.check_store()  # the full check, in the background; a banner if it fails
    return window


def open_session_or_way_out(path: Path, *, dialog_factory=None):
    """Open a session; when the store is refused (StoreError), show the OpenProblemDialog and
    act on its choice: reopen after a restore, open read-only, try another file, or give up.
    Returns ``(session, read_only)``, or ``(None, False)`` when the user quits."""
    from sefton_qa.domain.errors import StoreError
    from sefton_qa.gui import open_problem

    dialog_factory = dialog_factory or open_problem.OpenProblemDialog
    read_only = False
    while True:
        try:
            return open_session(path, read_only=read_only), read_only
        except StoreError as exc:
            dialog = dialog_factory(path, str(exc))
            dialog.exec()
            choice = dialog.choice
            read_only = choice == open_problem.READ_ONLY
            if choice == open_problem.OTHER and dialog.other_path is not None:
                path = dialog.other_path
            elif choice not in (open_problem.RESTORED, open_problem.READ_ONLY):
                return None, False
