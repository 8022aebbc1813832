"""Another person at another desk: a second Sefton QA window, in its own process, where
inadequate audits are typed and submitted by keyboard (tests/gui/test_live_updates_gui.py).

    python tests/gui/gui_writer.py LOCATION ACCOUNT TODAY COUNT

Prints "ready" once its window is up, waits for a line on stdin, then for each audit presses
Ctrl+N, types the case reference, chooses the service area, team and an inadequate overall
grade with the arrow keys, types the findings and presses Ctrl+Enter. After each submission
is committed it prints one JSON line: the audit's id and the system-wide monotonic clock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from sefton_qa.services import sign_in  # noqa: E402
from sefton_qa.store import open_store  # noqa: E402

CTRL = Qt.KeyboardModifier.ControlModifier


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the writer's window did not get there")
        QApplication.processEvents()
        time.sleep(0.005)


def choose(combo, text: str) -> None:
    """With the focus on ``combo``, press Down until ``text`` is chosen."""
    combo.setFocus()
    wait_until(lambda: QApplication.focusWidget() is combo)
    for _ in range(combo.count() + 1):
        if combo.currentText() == text:
            return
        QTest.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"{text!r} is not offered")


def main() -> int:
    location, account, today, count = sys.argv[1:5]
    today_date = dt.date.fromisoformat(today)
    app = QApplication([])
    store = open_store(location)
    session = sign_in(store, os_user=account, today=lambda: today_date)
    from sefton_qa.gui.main_window import MainWindow
    from sefton_qa.services import organisation

    area = next(a for a in organisation.service_areas(session, active_only=True)
                if organisation.teams(session, service_area_id=a.id, active_only=True))
    team = organisation.teams(session, service_area_id=area.id, active_only=True)[0]
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "writer.ini"),
                         QSettings.Format.IniFormat)
    window = MainWindow(session, settings)
    window.show()
    window.activateWindow()
    wait_until(lambda: QApplication.activeWindow() is window)
    print("ready", flush=True)
    sys.stdin.readline()
    for number in range(int(count)):
        forms = len(window._forms)
        window.activateWindow()  # back from the last form
        wait_until(lambda: QApplication.activeWindow() is window)
        QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_N, CTRL)
        try:
            wait_until(lambda: len(window._forms) == forms + 1)
        except TimeoutError:
            raise TimeoutError(f"Ctrl+N opened no form (New audit enabled: "
                               f"{window.new_action.isEnabled()}, focus: "
                               f"{QApplication.focusWidget()!r}, active: "
                               f"{QApplication.activeWindow()!r})") from None
        form = window._forms[-1]
        form.activateWindow()
        wait_until(lambda: QApplication.focusWidget() is form.case_edit)
        submitted = []
        form.saved.connect(lambda change: submitted.append(
            (time.monotonic(), change.record_ids[0])) if change.kind == "submit" else None)
        QTest.keyClicks(form.case_edit, f"LCS-{880000 + number}")
        choose(form.area_combo, area.name)
        choose(form.team_combo, team.name)
        choose(form.overall_combo, "Inadequate")
        form.findings_edit.setFocus()
        wait_until(lambda: QApplication.focusWidget() is form.findings_edit)
        QTest.keyClicks(form.findings_edit, "Drift: no visit for eleven weeks.")
        wait_until(lambda: form.submit_button.isEnabled())
        QTest.keyClick(form.findings_edit, Qt.Key.Key_Return, CTRL)
        wait_until(lambda: bool(submitted))
        at, audit_id = submitted[0]
        print(json.dumps({"at": at, "audit": audit_id}), flush=True)
        wait_until(lambda: not form.isVisible())
        time.sleep(0.1)
    window.close()
    store.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
