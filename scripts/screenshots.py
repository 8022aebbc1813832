"""Take the README's screenshots on a real (virtual) X screen.

    xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python scripts/screenshots.py [OUT_DIR]

Builds a demo store in a temporary folder (synthetic data only), opens the main window and
the audit form as a user would see them, and saves what the X screen shows.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from sefton_qa.gui.app import make_app  # noqa: E402
from sefton_qa.gui.main_window import MainWindow  # noqa: E402
from sefton_qa.services import sign_in  # noqa: E402
from sefton_qa.services.demo import generate_demo  # noqa: E402
from sefton_qa.store import open_store  # noqa: E402

TODAY = dt.date(2026, 11, 24)


def settle(app, ms: int = 400) -> None:
    done = []
    QTimer.singleShot(ms, lambda: done.append(True))
    while not done:
        app.processEvents()


def grab(app, widget, path: Path) -> None:
    widget.raise_()
    widget.activateWindow()
    settle(app)
    screen = QGuiApplication.primaryScreen()
    frame = widget.frameGeometry()
    screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(str(path))
    print(f"wrote {path}")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = make_app([])
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "demo.sqlite3")
        session = sign_in(store, os_user="qa.officer", today=lambda: TODAY)
        generate_demo(session, seed=2024)
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(session, settings)
        window.resize(1400, 860)
        window.move(10, 10)
        window.show()
        window.audits_page.table.selectRow(2)
        grab(app, window, out / "register.png")
        form = window.new_audit()
        form.move(120, 40)
        settle(app)
        grab(app, form, out / "audit-form.png")
        form.close()
        report = window.open_report()
        report.build()
        while report.job is not None:
            app.processEvents()
        report.open_pdf()
        preview = report.preview_dialog
        preview.resize(900, 960)
        preview.move(200, 10)
        preview.page_box.setValue(2)
        settle(app)
        grab(app, preview, out / "pack-preview.png")
        preview.close()
        report.close()
        window.close()
        store.close()
        grab_store_check(app, Path(tmp) / "demo.sqlite3", settings, out)
    return 0


def grab_store_check(app, path: Path, settings, out: Path) -> None:
    """The banner the background check shows for a store whose old trail row was edited
    outside the app (the quick check on opening reads only the newest rows, so it opens)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from damaged_stores import edit_trail_outside_the_app

    edit_trail_outside_the_app(path, "UPDATE trail SET os_user = 'someone.else' WHERE seq = 40",
                               "trail_is_append_only_update")
    store = open_store(path, check=True)
    session = sign_in(store, os_user="qa.officer", today=lambda: TODAY)
    window = MainWindow(session, settings)
    window.resize(1400, 860)
    window.move(10, 10)
    window.show()
    done = []
    window.store_checker.checked.connect(done.append)
    window.check_store()
    while not done:
        app.processEvents()
    grab(app, window, out / "store-check-banner.png")
    window.close()
    store.close()


if __name__ == "__main__":
    raise SystemExit(main())
