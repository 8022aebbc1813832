"""Issue 17, item 8: one walkthrough per role, driven by key presses from start to finish, each
person in their own window (the services' sign-in seam, as the local-store trust issue allows
for tests acting as several people).

A QA officer logs and submits an inadequate audit; a moderator confirms the grade; the team's
service manager records the reflective conversation with an action; an administrator adds a
team in Settings. Each step is checked in the store.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sefton_qa.domain.models import Role
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org
from sefton_qa.services import sign_in
from sefton_qa.store import loop as loop_store

TODAY = dt.date(2026, 11, 24)  # as tests/gui/conftest.py
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
CASE = "LCS-770001"


def _as(session, account: str):
    return sign_in(session.store, os_user=account, today=lambda: TODAY)


def _key(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    for _ in range(times):
        target = QApplication.focusWidget() or QApplication.activeWindow()
        assert target is not None, "the keyboard is nowhere"
        qtbot.keyClick(target, key, modifier)


def _type(qtbot, text: str) -> None:
    qtbot.keyClicks(QApplication.focusWidget(), text)


def _active(qtbot, window) -> None:
    """Building a page or a row with date fields (their calendar pop-ups) can leave the
    offscreen platform with no active window; a desktop keeps the person's window active."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def _tab_to(qtbot, widget, most: int = 80) -> None:
    _active(qtbot, widget.window())
    for _ in range(most):
        if QApplication.focusWidget() is widget:
            return
        _key(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is widget, QApplication.focusWidget()


def _choose(qtbot, combo, text: str) -> None:
    assert QApplication.focusWidget() is combo
    _key(qtbot, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText() == text:
            return
        _key(qtbot, Qt.Key.Key_Down)
    assert combo.currentText() == text


def _select_case(qtbot, page) -> None:
    """In a queue page: Tab to the queue, Home, then Down until the case is selected."""
    _tab_to(qtbot, page.table)
    _key(qtbot, Qt.Key.Key_Home)
    for _ in range(len(page.model.rows)):
        if page.selected_item() is not None and page.selected_item().case_reference == CASE:
            break
        _key(qtbot, Qt.Key.Key_Down)
    assert page.selected_item().case_reference == CASE


def _people(session):
    staff = {s.os_username: s for s in org.staff(session) if s.os_username}
    area = next(a for a in org.service_areas(session, active_only=True)
                if org.teams(session, service_area_id=a.id, active_only=True))
    team = org.teams(session, service_area_id=area.id, active_only=True)[0]
    manager = next(s for s in staff.values() if s.id == team.service_manager_id)
    officer = next(s for name, s in sorted(staff.items())
                   if name.startswith("demo.qa") and s.has_role(Role.QA_OFFICER)
                   and not s.has_role(Role.MODERATOR))
    moderator = next(s for name, s in sorted(staff.items())
                     if s.has_role(Role.MODERATOR) and s.id != officer.id)
    return area, team, officer, moderator, manager


def _submit_by_keyboard(qtbot, window, area, team) -> int:
    """Ctrl+N, the form filled with the keys alone, Ctrl+Enter."""
    forms = len(window._forms)
    _key(qtbot, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: len(window._forms) == forms + 1)
    form = window._forms[-1]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.case_edit)
    _type(qtbot, CASE)
    _tab_to(qtbot, form.area_combo)
    _choose(qtbot, form.area_combo, area.name)
    _tab_to(qtbot, form.team_combo)
    _choose(qtbot, form.team_combo, team.name)
    _tab_to(qtbot, form.overall_combo)
    _choose(qtbot, form.overall_combo, "Inadequate")
    _tab_to(qtbot, form.findings_edit)
    _type(qtbot, "No visit for eleven weeks; the plan has no timescales.")
    qtbot.waitUntil(form.submit_button.isEnabled)
    with qtbot.waitSignal(form.finished):
        _key(qtbot, Qt.Key.Key_Return, CTRL)
    return form.audit_id


def test_walkthrough_of_each_role_by_keyboard(qtbot, demo_session, main_window):
    area, team, officer, moderator, manager = _people(demo_session)

    # 1. The QA officer logs and submits an inadequate audit, then finds it in My work.
    window = main_window(_as(demo_session, officer.os_username))
    audit_id = _submit_by_keyboard(qtbot, window, area, team)
    audit = audit_service.get_audit(demo_session, audit_id)
    assert (audit.case_reference, audit.status.value) == (CASE, "submitted")
    window.activateWindow()  # the form has closed: back in the window (as the desktop does)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    _key(qtbot, Qt.Key.Key_2, CTRL)  # My work
    mine = window.my_work_page
    qtbot.waitUntil(lambda: any(mine.model.audit_id(r) == audit_id
                                for r in range(mine.model.rowCount())))
    window.close()

    # 2. A moderator confirms the grade from the moderation queue.
    window = main_window(_as(demo_session, moderator.os_username))
    _key(qtbot, Qt.Key.Key_3, CTRL)
    page = window.stack.currentWidget()
    if page.everyone.isVisible() and not page.everyone.isChecked():
        _key(qtbot, Qt.Key.Key_O, ALT)  # Show every&one's
        qtbot.waitUntil(page.everyone.isChecked)
    _select_case(qtbot, page)
    _key(qtbot, Qt.Key.Key_G, ALT)  # Moderated &grade
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.grade_combo)
    _choose(qtbot, page.grade_combo, "Inadequate")
    qtbot.waitUntil(page.moderate_button.isEnabled)
    _key(qtbot, Qt.Key.Key_M, ALT)  # &Moderate
    qtbot.waitUntil(lambda: "Moderated " + CASE in page.done_label.text())
    [moderation] = loop_store.moderations_for_audit(demo_session.store.conn, audit_id)
    assert moderation.status.value == "done" and moderation.moderator_id == moderator.id
    window.close()

    # 3. The team's service manager records the reflective conversation, with an action.
    window = main_window(_as(demo_session, manager.os_username))
    _key(qtbot, Qt.Key.Key_4, CTRL)
    page = window.stack.currentWidget()
    _select_case(qtbot, page)
    _tab_to(qtbot, page.participant_boxes["worker"])
    _key(qtbot, Qt.Key.Key_Space)
    _tab_to(qtbot, page.learning)
    _type(qtbot, "Visits lapsed when the worker left; nobody picked the case up.")
    _key(qtbot, Qt.Key.Key_A, ALT)  # &Add an action
    qtbot.waitUntil(lambda: bool(page.action_rows))
    _tab_to(qtbot, page.action_rows[-1].description)
    _type(qtbot, "Allocate the case and visit within five working days")
    _tab_to(qtbot, page.action_rows[-1].owner)
    _key(qtbot, Qt.Key.Key_Down)
    qtbot.waitUntil(page.record_button.isEnabled)
    _key(qtbot, Qt.Key.Key_C, ALT)  # Re&cord conversation
    qtbot.waitUntil(lambda: "Recorded the reflective conversation" in page.done_label.text())
    [conversation] = loop_store.conversations_for_audit(demo_session.store.conn, audit_id)
    assert conversation.status.value == "held"
    [action] = loop_store.actions_for_audit(demo_session.store.conn, audit_id)
    assert action.description.startswith("Allocate the case")
    window.close()

    # 4. An administrator adds a team in Settings.
    window = main_window(_as(demo_session, "gui.tester"))
    _key(qtbot, Qt.Key.Key_Comma, CTRL)
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if type(w).__name__ == "SettingsDialog" and w.isVisible())
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    for _ in range(dialog.tabs.count()):
        if type(dialog.tabs.currentWidget()).__name__ == "AreasTab":
            break
        _key(qtbot, Qt.Key.Key_Tab, CTRL)
    tab = dialog.tabs.currentWidget()
    assert type(tab).__name__ == "AreasTab"
    before = len(org.teams(demo_session))
    _tab_to(qtbot, tab.tree)
    _key(qtbot, Qt.Key.Key_Home)  # the first service area
    assert tab.tree.currentItem() is not None and tab.tree.currentItem().parent() is None
    _key(qtbot, Qt.Key.Key_N, ALT)  # &Name:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.name)
    _type(qtbot, "Walkthrough Team")
    _key(qtbot, Qt.Key.Key_T, ALT)  # Add &team to area
    qtbot.waitUntil(lambda: len(org.teams(demo_session)) == before + 1)
    assert any(t.name == "Walkthrough Team" for t in org.teams(demo_session))
    dialog.close()
    window.close()
