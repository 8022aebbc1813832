"""The audit form, driven as a QA officer would: by keyboard, through the real widgets, over a
demo store (TODAY is 24/11/2026; the signed-in gui.tester is an administrator and QA officer)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QWidget

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditStatus, AuditType, Selection
from sefton_qa.gui import audit_form
from sefton_qa.gui.audit_form import GEOMETRY_KEY, AuditForm
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation, register
from sefton_qa.store import audits as audit_store

TODAY = dt.date(2026, 11, 24)
NO = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def unexpected_errors(monkeypatch):
    """The error dialog is modal; record what would have been shown instead, and fail."""
    shown: list[BaseException] = []
    monkeypatch.setattr(audit_form, "show_error", lambda _parent, exc, **_kw: shown.append(exc))
    yield shown
    assert shown == []


@pytest.fixture
def open_form(qtbot, demo_session, gui_settings, unexpected_errors):
    """Open an AuditForm as the main window would (shown, active, non-modal).

    The "discard unsaved changes?" question is modal, so each form answers it from
    ``form.discard_answer`` (True: discard) and records the question in ``form.asked``."""

    def open_(audit_id: int | None = None, session=None) -> AuditForm:
        form = AuditForm(session or demo_session, audit_id, settings=gui_settings)
        qtbot.addWidget(form)
        form.saved_changes = []
        form.saved.connect(form.saved_changes.append)
        form.asked, form.discard_answer = [], True
        form.ask_discard = lambda text: form.asked.append(text) or form.discard_answer
        form.show()
        qtbot.waitExposed(form)
        form.activateWindow()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is form.case_edit)
        return form

    return open_


def focused(form: AuditForm) -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None and form.isAncestorOf(widget), widget
    return widget


def press(qtbot, form, key, modifier=NO, times: int = 1) -> None:
    for _ in range(times):
        qtbot.keyClick(focused(form), key, modifier)


def type_text(qtbot, form, text: str) -> None:
    qtbot.keyClicks(focused(form), text)


def tab_to(qtbot, form, widget: QWidget, *, most: int = 60) -> None:
    """Press Tab until ``widget`` has the focus (as a user would), failing if it never does."""
    for _ in range(most):
        if QApplication.focusWidget() is widget:
            return
        press(qtbot, form, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is widget


def combo_texts(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]


def choose(qtbot, form, combo: QComboBox, text: str) -> None:
    """With the focus on ``combo``, press Down until ``text`` is chosen."""
    assert QApplication.focusWidget() is combo
    for _ in range(combo.count()):
        if combo.currentText() == text:
            return
        press(qtbot, form, Qt.Key.Key_Down)
    assert combo.currentText() == text


def message(form: AuditForm, field: str) -> str:
    label = form.messages[field]
    return label.text() if label.isVisible() else ""


def history_kinds(session, audit_id: int) -> list[str]:
    return [e.kind for e in register.history(session, "audits", audit_id)]


def first_area_with_two_teams(session):
    for area in organisation.service_areas(session, active_only=True):
        teams = organisation.teams(session, service_area_id=area.id, active_only=True)
        if len(teams) >= 2:
            return area, teams
    raise AssertionError("the demo store has no area with two teams")


def new_draft(session, **overrides) -> int:
    """A draft made through the services, as if typed earlier."""
    area, teams = first_area_with_two_teams(session)
    values = dict(case_reference="LCS-777001", audit_type=AuditType.DEEP_DIVE,
                  audit_date=TODAY - dt.timedelta(days=3), service_area_id=area.id,
                  team_id=teams[0].id, findings="First thoughts.")
    values.update(overrides)
    from sefton_qa.domain.models import AuditInput

    return audit_service.create_audit(session, AuditInput(**values), submit=False).record_id


def a_submitted_audit(session) -> int:
    return next(r for r in range(1, 500)
                if audit_store.get(session.store.conn, r).status is AuditStatus.SUBMITTED)


# -- creating an audit with the keyboard alone ---------------------------------------------------
def test_create_and_submit_an_audit_with_the_keyboard_alone(qtbot, open_form, demo_session):
    form = open_form()
    area, teams = first_area_with_two_teams(demo_session)
    before = audit_store.count(demo_session.store.conn)

    type_text(qtbot, form, "LCS-424242")
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.date_edit
    assert form.date_edit.text() == "24/11/2026"  # today by default, dd/MM/yyyy
    type_text(qtbot, form, "20/11/2026")
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.type_combo
    choose(qtbot, form, form.type_combo, "Themed")
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.selection_combo
    assert form.selection_combo.currentText() == "Chosen by the QA team"  # the default
    press(qtbot, form, Qt.Key.Key_Home)
    choose(qtbot, form, form.selection_combo, "Random draw")
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.area_combo
    choose(qtbot, form, form.area_combo, area.name)
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.team_combo
    choose(qtbot, form, form.team_combo, teams[1].name)
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.auditor_combo
    assert form.auditor_combo.currentText() == "gui.tester"  # the signed-in QA officer
    press(qtbot, form, Qt.Key.Key_Tab, times=2)  # past the optional team manager
    sections = list(form.sections.values())
    plan = {0: ("Good", "Seen alone at school."), 1: ("Requires improvement to be good", ""),
            2: ("Good", "Plan is clear.")}
    for index, section in enumerate(sections):
        assert focused(form) is section.grade
        grade, notes = plan.get(index, ("Not graded", ""))
        choose(qtbot, form, section.grade, grade)
        press(qtbot, form, Qt.Key.Key_Tab)
        assert focused(form) is section.notes
        type_text(qtbot, form, notes)
        press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.overall_combo
    assert form.overall_combo.currentData() is None  # the auditor decides
    qtbot.waitUntil(lambda: "Suggested: Good" in form.suggestion_label.text())
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.use_suggestion_button
    press(qtbot, form, Qt.Key.Key_Space)
    assert form.overall_combo.currentText() == "Good"
    tab_to(qtbot, form, form.theme_list)
    press(qtbot, form, Qt.Key.Key_Space)  # tick the first theme
    press(qtbot, form, Qt.Key.Key_Down)
    press(qtbot, form, Qt.Key.Key_Space)  # and the second
    chosen = form.chosen_theme_ids()
    assert len(chosen) == 2
    assert form.themes_chosen_label.text().startswith("2 chosen: ")
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.findings_edit
    type_text(qtbot, form, "Purposeful visits; the plan needs timescales.")
    qtbot.waitUntil(lambda: form.submit_button.isEnabled())
    assert form.submit_reason_label.text() == "Ready to submit."

    with qtbot.waitSignal(form.finished):
        press(qtbot, form, Qt.Key.Key_Return, CTRL)
    assert not form.isVisible()
    assert audit_store.count(demo_session.store.conn) == before + 1
    audit = audit_service.get_audit(demo_session, form.audit_id)
    assert audit.status is AuditStatus.SUBMITTED
    assert audit.case_reference == "LCS-424242"
    assert audit.audit_date == dt.date(2026, 11, 20)
    assert audit.audit_type is AuditType.THEMED
    assert audit.selection is Selection.RANDOM_DRAW
    assert (audit.service_area_id, audit.team_id) == (area.id, teams[1].id)
    assert audit.auditor_id == demo_session.actor.id
    assert audit.overall_grade is Grade.GOOD
    assert sorted(audit.theme_ids) == sorted(chosen)
    assert audit.findings == "Purposeful visits; the plan needs timescales."
    keys = [s.key for s in sections]
    assert audit.sections[keys[0]].grade is Grade.GOOD
    assert audit.sections[keys[0]].notes == "Seen alone at school."
    assert audit.sections[keys[1]].grade is Grade.REQUIRES_IMPROVEMENT
    assert keys[3] not in audit.sections  # left blank: not graded
    assert [c.kind for c in form.saved_changes][-1] == "submit"
    assert form.saved_changes[0].kind == "create"
    assert history_kinds(demo_session, audit.id)[-1] == "submit"


# -- validation as you type ----------------------------------------------------------------------
def test_validation_messages_and_why_submit_is_disabled(qtbot, open_form):
    form = open_form()
    # Nothing shouts "is required" at a field nobody has been to yet.
    assert all(not label.isVisible() for label in form.messages.values())
    assert not form.submit_button.isEnabled()
    assert form.submit_reason_label.text().startswith("Fix ")

    type_text(qtbot, form, "LC 1")
    qtbot.waitUntil(lambda: "not a valid case reference" in message(form, "case_reference"))
    assert message(form, "case_reference").startswith("Problem: ")  # said in words, not colour
    assert "not a valid case reference" in form.case_edit.accessibleDescription()
    press(qtbot, form, Qt.Key.Key_Tab)
    assert focused(form) is form.date_edit
    type_text(qtbot, form, "01/12/2026")
    qtbot.waitUntil(lambda: "in the future" in message(form, "audit_date"))
    assert "01/12/2026 is in the future" in message(form, "audit_date")
    assert not form.submit_button.isEnabled()
    reason = form.submit_reason_label.text()
    assert re.match(r"Fix \d+ problems to submit: case reference: \"LC 1\" is not a valid", reason)
    assert "audit date: 01/12/2026 is in the future" in reason
    # Untouched required fields are counted in the reason but not shouted at beside the field.
    assert message(form, "service_area") == ""
    assert message(form, "overall_grade") == ""

    # Trying to submit shows everything that is wrong and goes to the first problem.
    press(qtbot, form, Qt.Key.Key_Return, CTRL)
    assert form.isVisible()
    assert message(form, "service_area") == "Problem: service area is required."
    assert message(form, "team") == "Problem: team is required."
    assert message(form, "overall_grade") == "Problem: overall grade is required."
    assert focused(form) is form.case_edit

    # Fixing a problem clears its message.
    form.case_edit.selectAll()
    type_text(qtbot, form, "LCS-1001")
    qtbot.waitUntil(lambda: message(form, "case_reference") == "")
    assert "case reference" not in form.submit_reason_label.text()


def test_leaving_an_empty_required_field_shows_its_message(qtbot, open_form):
    form = open_form()
    press(qtbot, form, Qt.Key.Key_Tab)  # leave the case reference empty
    qtbot.waitUntil(lambda: message(form, "case_reference") != "")
    assert message(form, "case_reference") == "Problem: case reference is required."
    assert message(form, "service_area") == ""


# -- drafts ----------------------------------------------------------------------------------------
def test_draft_is_saved_automatically_and_found_again_after_closing(qtbot, open_form,
                                                                    demo_session):
    area, teams = first_area_with_two_teams(demo_session)
    form = open_form()
    type_text(qtbot, form, "LCS-55")  # unfinished: fine in a draft
    tab_to(qtbot, form, form.area_combo)
    choose(qtbot, form, form.area_combo, area.name)
    press(qtbot, form, Qt.Key.Key_Tab)
    choose(qtbot, form, form.team_combo, teams[0].name)
    first = next(iter(form.sections.values()))
    tab_to(qtbot, form, first.grade)
    choose(qtbot, form, first.grade, "Inadequate")
    press(qtbot, form, Qt.Key.Key_Tab)
    type_text(qtbot, form, "Not seen for 3 months.")
    tab_to(qtbot, form, form.theme_list)
    press(qtbot, form, Qt.Key.Key_Space)
    theme_ids = form.chosen_theme_ids()
    tab_to(qtbot, form, form.findings_edit)
    type_text(qtbot, form, "Drift.")
    qtbot.waitUntil(lambda: form.save_state_label.text().startswith("Draft saved"), timeout=5000)
    assert re.fullmatch(r"Draft saved \d\d:\d\d", form.save_state_label.text())
    assert form.saved_changes[0].kind == "create"
    audit_id = form.audit_id
    assert audit_service.get_audit(demo_session, audit_id).status is AuditStatus.DRAFT
    assert form.title_label.text() == "Audit of LCS-55 (draft)"

    # More typing, then Escape at once: the draft is saved before the form closes.
    type_text(qtbot, form, " Plan overdue.")
    with qtbot.waitSignal(form.finished):
        press(qtbot, form, Qt.Key.Key_Escape)
    assert form.saved_changes[-1].kind == "update"
    kinds = history_kinds(demo_session, audit_id)
    assert kinds[0] == "create" and set(kinds[1:]) <= {"update"}

    again = open_form(audit_id)
    assert again.case_edit.text() == "LCS-55"
    assert again.area_combo.currentText() == area.name
    assert again.team_combo.currentText() == teams[0].name
    section = again.sections[first.key]
    assert section.grade.currentText() == "Inadequate"
    assert section.notes.toPlainText() == "Not seen for 3 months."
    assert again.chosen_theme_ids() == theme_ids
    assert again.findings_edit.toPlainText() == "Drift. Plan overdue."
    assert again.date_edit.text() == "24/11/2026"
    assert not again.is_dirty()
    assert again.save_state_label.text().startswith("Draft, last saved ")
    # Opening and closing without a change writes nothing.
    versions = audit_service.get_audit(demo_session, audit_id).version
    again.close()
    assert audit_service.get_audit(demo_session, audit_id).version == versions


def test_a_draft_the_store_refuses_keeps_the_text_and_says_why(qtbot, open_form, demo_session):
    form = open_form()
    type_text(qtbot, form, "LCS-9")
    press(qtbot, form, Qt.Key.Key_Tab)
    type_text(qtbot, form, "30/11/2026")  # even a draft cannot be dated in the future
    press(qtbot, form, Qt.Key.Key_S, CTRL)
    assert form.audit_id is None
    assert form.save_state_label.text() == "Draft not saved: fix the problems shown"
    assert "in the future" in message(form, "audit_date")
    assert form.case_edit.text() == "LCS-9"

    form.discard_answer = False  # "Keep editing"
    form.close()
    assert form.isVisible() and len(form.asked) == 1
    assert "could not be saved" in form.asked[0]
    # Fix the date: the next close saves the draft and goes.
    assert focused(form) is form.date_edit
    press(qtbot, form, Qt.Key.Key_Tab, SHIFT)  # out and back in: the day is selected again
    press(qtbot, form, Qt.Key.Key_Tab)
    type_text(qtbot, form, "23/11/2026")
    with qtbot.waitSignal(form.finished):
        form.close()
    assert audit_service.get_audit(demo_session, form.audit_id).case_reference == "LCS-9"


def test_nothing_typed_means_no_draft(qtbot, open_form, demo_session):
    before = audit_store.count(demo_session.store.conn)
    form = open_form()
    with qtbot.waitSignal(form.finished):
        press(qtbot, form, Qt.Key.Key_Escape)
    assert audit_store.count(demo_session.store.conn) == before
    assert form.saved_changes == []


# -- the team follows the service area -----------------------------------------------------------
def test_team_list_follows_the_service_area(qtbot, open_form, demo_session):
    form = open_form()
    assert combo_texts(form.team_combo) == ["Choose a service area first"]
    areas = organisation.service_areas(demo_session, active_only=True)
    assert combo_texts(form.area_combo)[1:] == [a.name for a in areas]
    tab_to(qtbot, form, form.area_combo)
    area, teams = first_area_with_two_teams(demo_session)
    choose(qtbot, form, form.area_combo, area.name)
    assert combo_texts(form.team_combo) == ["Choose a team…"] + [t.name for t in teams]
    press(qtbot, form, Qt.Key.Key_Tab)
    choose(qtbot, form, form.team_combo, teams[1].name)
    # Another area: its teams only, and the old team is no longer chosen.
    other = next(a for a in areas if a.id != area.id)
    other_teams = organisation.teams(demo_session, service_area_id=other.id, active_only=True)
    press(qtbot, form, Qt.Key.Key_Tab, SHIFT)
    assert focused(form) is form.area_combo
    choose(qtbot, form, form.area_combo, other.name)
    assert combo_texts(form.team_combo) == ["Choose a team…"] + [t.name for t in other_teams]
    assert form.team_combo.currentData() is None
    # The team manager list puts the chosen team's people first.
    press(qtbot, form, Qt.Key.Key_Tab)
    choose(qtbot, form, form.team_combo, other_teams[0].name)
    in_team = [s.display_name for s in organisation.staff(demo_session, active_only=True)
               if s.team_id == other_teams[0].id]
    assert in_team and combo_texts(form.manager_combo)[1:1 + len(in_team)] == sorted(
        in_team, key=str.lower)


def test_inactive_team_is_not_offered(qtbot, open_form, demo_session):
    area, teams = first_area_with_two_teams(demo_session)
    from sefton_qa.store import teams as team_store

    with demo_session.store.transaction() as conn:
        team_store.update(conn, teams[0].id, {"active": 0}, who=demo_session.who)
    form = open_form()
    tab_to(qtbot, form, form.area_combo)
    choose(qtbot, form, form.area_combo, area.name)
    assert teams[0].name not in combo_texts(form.team_combo)
    assert teams[1].name in combo_texts(form.team_combo)


# -- the overall grade -----------------------------------------------------------------------------
def test_overall_grade_is_suggested_but_the_auditor_decides(qtbot, open_form):
    form = open_form()
    assert form.suggestion_label.text() == "Suggested: none yet (grade the sections first)"
    assert not form.use_suggestion_button.isEnabled()
    first, second, third = list(form.sections.values())[:3]
    tab_to(qtbot, form, first.grade)
    choose(qtbot, form, first.grade, "Good")
    tab_to(qtbot, form, second.grade)
    choose(qtbot, form, second.grade, "Requires improvement to be good")
    # Two grades: the median rounded down (cautious).
    assert form.suggestion_label.text() == ("Suggested: Requires improvement to be good "
                                            "(from 2 graded sections)")
    tab_to(qtbot, form, third.grade)
    choose(qtbot, form, third.grade, "Good")
    assert form.suggestion_label.text() == "Suggested: Good (from 3 graded sections)"
    assert form.overall_combo.currentData() is None  # never chosen for the auditor
    # Only grades on the store's scale are offered ("outstanding" is off here).
    assert combo_texts(form.overall_combo) == [
        "Not chosen yet", "Good", "Requires improvement to be good", "Inadequate"]
    assert combo_texts(first.grade)[0] == "Not graded"
    tab_to(qtbot, form, form.overall_combo)
    choose(qtbot, form, form.overall_combo, "Inadequate")
    assert form.use_suggestion_button.isEnabled()
    press(qtbot, form, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)  # &Use suggestion
    qtbot.waitUntil(lambda: form.overall_combo.currentText() == "Good")  # an animated click
    assert not form.use_suggestion_button.isEnabled()


def test_outstanding_is_offered_when_the_scale_has_it(qtbot, open_form, demo_session):
    organisation.set_outstanding_enabled(demo_session, True)
    form = open_form()
    assert combo_texts(form.overall_combo)[1] == "Outstanding"


# -- editing a submitted audit -------------------------------------------------------------------
def test_editing_a_submitted_audit_asks_for_a_reason_that_goes_into_the_history(
        qtbot, open_form, demo_session):
    audit_id = a_submitted_audit(demo_session)
    before = audit_service.get_audit(demo_session, audit_id)
    form = open_form(audit_id)
    assert form.save_button.text() == "Save &changes…"
    assert not form.submit_button.isVisible()
    assert not form.save_button.isEnabled()
    assert form.submit_reason_label.text() == "No changes to save."
    tab_to(qtbot, form, form.findings_edit)
    press(qtbot, form, Qt.Key.Key_End, CTRL)
    type_text(qtbot, form, " Reviewed with the team manager.")
    assert not form._autosave_timer.isActive()  # a submitted audit is never saved unasked
    qtbot.waitUntil(form.save_button.isEnabled)

    press(qtbot, form, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: form.reason_dialog is not None and form.reason_dialog.isVisible())
    dialog = form.reason_dialog
    save = dialog.buttons.buttons()[0]
    assert not save.isEnabled()  # the reason is required
    qtbot.keyClicks(dialog.reason_edit, "Team manager's view added")
    assert save.isEnabled()
    with qtbot.waitSignal(form.saved) as blocker:
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    assert blocker.args[0].kind == "update"
    after = audit_service.get_audit(demo_session, audit_id)
    assert after.findings == before.findings + " Reviewed with the team manager."
    assert after.status is AuditStatus.SUBMITTED
    assert after.version == before.version + 1 == form.version
    last = register.history(demo_session, "audits", audit_id)[-1]
    assert (last.kind, last.reason) == ("update", "Team manager's view added")
    assert set(last.changes) == {"findings"}
    assert form.save_state_label.text().startswith("Changes saved ")
    assert not form.is_dirty()


def test_cancelling_the_reason_saves_nothing(qtbot, open_form, demo_session):
    audit_id = a_submitted_audit(demo_session)
    form = open_form(audit_id)
    type_text(qtbot, form, "X")  # appended: the reference is not selected on opening
    assert form.case_edit.text().endswith("X") and len(form.case_edit.text()) > 1
    press(qtbot, form, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: form.reason_dialog is not None and form.reason_dialog.isVisible())
    qtbot.keyClick(form.reason_dialog.reason_edit, Qt.Key.Key_Escape)
    assert not form.reason_dialog.isVisible()
    assert history_kinds(demo_session, audit_id) == ["demo"]
    assert form.is_dirty()


def test_withdrawn_audit_opens_read_only(qtbot, open_form, demo_session):
    audit_id = a_submitted_audit(demo_session)
    audit_service.withdraw_audit(demo_session, audit_id, "Logged against the wrong child")
    form = open_form(audit_id)
    assert form.read_only
    assert "withdrawn" in form.notice_label.text() and form.notice.isVisible()
    assert form.case_edit.isReadOnly() and form.findings_edit.isReadOnly()
    assert form.date_edit.isReadOnly()
    assert not form.area_combo.isEnabled() and not form.overall_combo.isEnabled()
    assert all(not s.grade.isEnabled() and s.notes.isReadOnly() for s in form.sections.values())
    assert not form.save_button.isVisible() and not form.submit_button.isVisible()
    reference = form.case_edit.text()
    type_text(qtbot, form, "typed")
    press(qtbot, form, Qt.Key.Key_S, CTRL)
    assert form.case_edit.text() == reference
    item = form.theme_list.item(0)
    assert not item.flags() & Qt.ItemFlag.ItemIsUserCheckable
    with qtbot.waitSignal(form.finished):
        press(qtbot, form, Qt.Key.Key_Escape)
    assert history_kinds(demo_session, audit_id) == ["demo", "withdraw"]


# -- undo -----------------------------------------------------------------------------------------
def test_undo_reverts_the_last_saved_change_and_the_history_shows_it(qtbot, open_form,
                                                                     demo_session):
    audit_id = a_submitted_audit(demo_session)
    original = audit_service.get_audit(demo_session, audit_id)
    form = open_form(audit_id)
    form.case_edit.selectAll()
    type_text(qtbot, form, "LCS-000123")
    # Ctrl+Z in a text field is the field's own undo, never the saved change's.
    press(qtbot, form, Qt.Key.Key_Z, CTRL)
    assert form.case_edit.text() == original.case_reference
    assert history_kinds(demo_session, audit_id) == ["demo"]
    press(qtbot, form, Qt.Key.Key_End)
    type_text(qtbot, form, "-X")
    qtbot.waitUntil(lambda: form.save_button.isEnabled() and form.problems == [])
    form.save_changes()
    qtbot.waitUntil(lambda: form.reason_dialog is not None and form.reason_dialog.isVisible())
    qtbot.keyClicks(form.reason_dialog.reason_edit, "Typo in the reference")
    qtbot.keyClick(form.reason_dialog.reason_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.save_state_label.text().startswith("Changes saved"))
    assert audit_service.get_audit(demo_session, audit_id).case_reference == \
        original.case_reference + "-X"
    # the reason dialog has gone: the keyboard is back in the form
    qtbot.waitUntil(lambda: form.isAncestorOf(QApplication.focusWidget()))

    tab_to(qtbot, form, form.type_combo)  # not a text field: Ctrl+Shift+Z is the form's undo
    with qtbot.waitSignal(form.saved) as blocker:
        press(qtbot, form, Qt.Key.Key_Z, CTRL | SHIFT)
    assert blocker.args[0].kind == "undo"
    assert form.case_edit.text() == original.case_reference
    assert not form.is_dirty()
    undone = audit_service.get_audit(demo_session, audit_id)
    assert undone.case_reference == original.case_reference
    assert history_kinds(demo_session, audit_id) == ["demo", "update", "undo"]
    assert form.save_state_label.text().startswith("Last change undone")


def test_undo_of_a_new_draft_withdraws_it_and_redo_brings_it_back(qtbot, open_form,
                                                                  demo_session):
    """Undo and Redo are two actions, each saying what it will do (issue 17, finding 5)."""
    form = open_form()
    type_text(qtbot, form, "LCS-31")
    press(qtbot, form, Qt.Key.Key_S, CTRL)
    assert form.audit_id is not None and form.status is AuditStatus.DRAFT
    assert form.undo_button.text().startswith("Und&o: creating the audit")
    assert not form.redo_button.isEnabled() and form.redo_button.text() == "Redo"
    press(qtbot, form, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)  # Und&o: …
    qtbot.waitUntil(lambda: form.status is AuditStatus.WITHDRAWN)  # a mnemonic's click is animated
    assert form.read_only and "withdrawn" in form.notice_label.text()
    assert not form.undo_button.isEnabled()  # nothing left to undo: never a redo in disguise
    assert form.redo_button.isEnabled()
    assert form.redo_button.text().startswith("Redo: creating the audit")
    press(qtbot, form, Qt.Key.Key_Y, CTRL | SHIFT)  # Redo
    assert form.status is AuditStatus.DRAFT and not form.read_only
    assert form.case_edit.text() == "LCS-31"
    assert history_kinds(demo_session, form.audit_id) == ["create", "undo", "redo"]
    assert not form.redo_button.isEnabled()


def test_undo_saves_unsaved_typing_in_a_draft_first(qtbot, open_form, demo_session):
    audit_id = new_draft(demo_session)
    form = open_form(audit_id)
    tab_to(qtbot, form, form.findings_edit)
    press(qtbot, form, Qt.Key.Key_End, CTRL)
    type_text(qtbot, form, " More.")
    form.undo_last_saved_change()
    assert form.findings_edit.toPlainText() == "First thoughts."
    assert history_kinds(demo_session, audit_id) == ["create", "update", "undo"]


def test_undo_refused_is_said_plainly(qtbot, open_form, demo_session):
    """Someone else's change: only they or an administrator may undo it."""
    from sefton_qa.domain.models import Role
    from sefton_qa.services import sign_in

    audit_id = a_submitted_audit(demo_session)
    organisation.add_staff(demo_session, "Quinn Officer", os_username="quinn",
                           roles=[Role.QA_OFFICER])
    quinn = sign_in(demo_session.store, os_user="quinn", today=lambda: TODAY)
    form = open_form(audit_id, session=quinn)
    assert not form.undo_last_saved_change()
    assert form.notice.isVisible()
    assert form.notice_label.text().startswith("Nothing was undone: Only the person who made")
    assert history_kinds(demo_session, audit_id) == ["demo"]


# -- someone else changed it ---------------------------------------------------------------------
def test_conflict_on_autosave_is_shown_and_the_form_reloads(qtbot, open_form, demo_session):
    audit_id = new_draft(demo_session)
    form = open_form(audit_id)
    # A colleague changes the same draft through the services, behind the form's back.
    theirs = audit_service.get_audit(demo_session, audit_id).to_input()
    theirs.findings = "Their findings."
    audit_service.update_audit(demo_session, audit_id, theirs)
    tab_to(qtbot, form, form.findings_edit)
    press(qtbot, form, Qt.Key.Key_End, CTRL)
    type_text(qtbot, form, " Mine.")
    qtbot.waitUntil(lambda: form.in_conflict, timeout=5000)
    assert form.notice.isVisible() and form.reload_button.isVisible()
    assert "Someone else changed this audit" in form.notice_label.text()
    assert form.findings_edit.toPlainText() == "First thoughts. Mine."  # nothing lost
    assert not form.submit_button.isEnabled()
    assert "someone else changed this audit" in form.submit_reason_label.text()
    assert audit_service.get_audit(demo_session, audit_id).findings == "Their findings."
    press(qtbot, form, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # Re&load their version
    qtbot.waitUntil(lambda: not form.in_conflict)  # a mnemonic's click is animated
    assert not form.notice.isVisible()
    assert form.findings_edit.toPlainText() == "Their findings."
    assert form.version == audit_service.get_audit(demo_session, audit_id).version


def test_conflict_on_saving_a_submitted_audit(qtbot, open_form, demo_session):
    audit_id = a_submitted_audit(demo_session)
    form = open_form(audit_id)
    theirs = audit_service.get_audit(demo_session, audit_id).to_input()
    theirs.findings = "Changed elsewhere."
    audit_service.update_audit(demo_session, audit_id, theirs, reason="Their edit")
    tab_to(qtbot, form, form.findings_edit)
    type_text(qtbot, form, "!")
    qtbot.waitUntil(form.save_button.isEnabled)
    press(qtbot, form, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: form.reason_dialog is not None and form.reason_dialog.isVisible())
    qtbot.keyClicks(form.reason_dialog.reason_edit, "Mine")
    qtbot.keyClick(form.reason_dialog.reason_edit, Qt.Key.Key_Return)
    assert form.in_conflict and form.reload_button.isVisible()
    assert history_kinds(demo_session, audit_id) == ["demo", "update"]
    # Undo will not undo their change unseen either (the unsaved edit is discarded first).
    assert not form.undo_last_saved_change()
    assert form.asked and "discard the edits" in form.asked[-1]
    assert history_kinds(demo_session, audit_id) == ["demo", "update"]
    assert form.in_conflict


# -- keyboard and accessibility ------------------------------------------------------------------
def test_tab_order_runs_top_to_bottom(qtbot, open_form):
    form = open_form()
    expected = [form.case_edit, form.date_edit, form.type_combo, form.selection_combo,
                form.area_combo, form.team_combo, form.auditor_combo, form.manager_combo]
    for section in form.sections.values():
        expected += [section.grade, section.notes]
    expected += [form.overall_combo, form.theme_list, form.findings_edit, form.save_button,
                 form.close_button]  # Use suggestion, Undo and Submit are disabled here
    seen = [QApplication.focusWidget()]
    for _ in range(len(expected) - 1):
        press(qtbot, form, Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == expected


def test_every_control_has_an_accessible_name_and_a_labelled_mnemonic(qtbot, open_form):
    form = open_form()
    controls = [w for w in form.findChildren(QWidget)
                if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisibleTo(form)
                and w.objectName() != "qt_spinbox_lineedit"
                and not w.objectName().startswith("qt_")]
    assert len(controls) > 25
    unnamed = [w.objectName() or type(w).__name__ for w in controls if not w.accessibleName()]
    assert unnamed == []
    buddies = {label.buddy() for label in form.findChildren(QLabel) if label.buddy()}
    for field in [form.case_edit, form.date_edit, form.type_combo, form.selection_combo,
                  form.area_combo, form.team_combo, form.auditor_combo, form.manager_combo, form.overall_combo,
                  form.theme_list, form.findings_edit]:
        assert field in buddies
    # Every field's label has a mnemonic: sections by number, and Alt+N from notes to notes.
    labels = [label for label in form.findChildren(QLabel) if label.buddy() is not None]
    assert len(labels) == 11 + 2 * len(form.sections)
    assert [label.text() for label in labels
            if not re.search(r"&[^&]", label.text().replace("&&", ""))] == []
    mnemonics = [re.search(r"&([^&])", label.text().replace("&&", "")).group(1).lower()
                 for label in labels if not label.text().endswith("Notes")]
    mnemonics += [re.search(r"&([^&])", button.text()).group(1).lower()
                  for button in (form.use_suggestion_button, form.undo_button,
                                 form.save_button, form.submit_button, form.close_button,
                                 form.reload_button)]
    assert len(mnemonics) == len(set(mnemonics))  # no two fields or buttons share one
    sections = list(form.sections.values())
    press(qtbot, form, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert focused(form) is sections[0].grade
    press(qtbot, form, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert focused(form) is sections[0].notes
    press(qtbot, form, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert focused(form) is sections[1].notes
    press(qtbot, form, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    assert focused(form) is form.findings_edit
    press(qtbot, form, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert focused(form) is form.case_edit


def test_the_form_remembers_its_size(qtbot, open_form, gui_settings):
    form = open_form()
    form.resize(700, 540)
    with qtbot.waitSignal(form.finished):
        press(qtbot, form, Qt.Key.Key_Escape)
    assert isinstance(gui_settings.value(GEOMETRY_KEY), QByteArray)
    again = open_form()
    assert (again.width(), again.height()) == (700, 540)


def test_a_draft_is_saved_when_the_application_quits(qtbot, open_form, demo_session):
    form = open_form()
    type_text(qtbot, form, "LCS-808")
    assert form.audit_id is None and form._autosave_timer.isActive()
    QApplication.instance().aboutToQuit.emit()  # what QApplication does as it quits
    assert form.audit_id is not None
    assert audit_service.get_audit(demo_session, form.audit_id).case_reference == "LCS-808"


def test_every_enum_combo_gives_the_services_members_by_keyboard(qtbot, open_form):
    """Type, each section's grade and the overall grade carry str enums: every option, chosen
    with the keyboard, reaches the services as a real AuditType/Grade (Qt hands back text)."""
    form = open_form()
    combos = [(form.type_combo, "audit_type", AuditType),
              (form.selection_combo, "selection", Selection)]
    combos += [(s.grade, None, Grade) for s in form.sections.values()]
    combos.append((form.overall_combo, "overall_grade", Grade))
    for combo, field, kind in combos:
        tab_to(qtbot, form, combo)
        press(qtbot, form, Qt.Key.Key_Home)
        for index in range(combo.count()):
            if index:
                press(qtbot, form, Qt.Key.Key_Down)
            if not combo.itemText(combo.currentIndex()):
                continue  # a separator
            inp = form.current_input()
            if field is not None:
                value = getattr(inp, field)
            else:
                key = next(k for k, s in form.sections.items() if s.grade is combo)
                value = inp.sections[key].grade if key in inp.sections else None
            data = combo.currentData()
            if data is None:
                assert value is None
            else:
                assert type(value) is kind and value is kind(data), combo.currentText()


# -- issue 17, finding 2: an impossible date is said, never saved --------------------------------
def test_an_impossible_date_typed_is_said_and_neither_autosaved_nor_submitted(
        qtbot, open_form, demo_session):
    audit_id = new_draft(demo_session)
    form = open_form(audit_id)
    saved_date = audit_service.get_audit(demo_session, audit_id).audit_date
    tab_to(qtbot, form, form.date_edit)
    type_text(qtbot, form, "31/02/2024")
    # Qt put another date in its place; the form says what was typed does not exist
    assert form.date_edit.impossible == "There is no 31 February 2024"
    assert "There is no 31 February 2024" in message(form, "audit_date")  # beside the field
    from PySide6.QtWidgets import QLabel

    label = form.findChild(QLabel, "message:audit_date")
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.width() > form.date_edit.width()  # the message is not cut to the field
    assert any(p.field == "audit_date" and p.message == "There is no 31 February 2024"
               for p in form.problems)
    press(qtbot, form, Qt.Key.Key_Tab)  # leave the field: the autosave would run soon after
    form._autosave()
    assert not form.save_draft()
    assert audit_service.get_audit(demo_session, audit_id).audit_date == saved_date
    assert not form.submit_button.isEnabled()
    # typing a real date clears it, and the draft saves
    tab_to(qtbot, form, form.date_edit)
    type_text(qtbot, form, "29/02/2024")
    assert form.date_edit.impossible is None
    assert not any(p.message.startswith("There is no") for p in form.problems)
    assert form.save_draft()
    assert audit_service.get_audit(demo_session, audit_id).audit_date == dt.date(2024, 2, 29)


@pytest.mark.parametrize("typed, said", [("31/04/2025", "There is no 31 April 2025"),
                                         ("30/02/2024", "There is no 30 February 2024"),
                                         ("29/02/2023", "There is no 29 February 2023"),
                                         ("15/13/2024", "There is no month 13"),
                                         ("28/02/2023", None), ("3102", None)])
def test_impossible_dates_are_named(typed, said):
    from sefton_qa.services.audit_editor import impossible_date

    result = impossible_date(typed)
    assert (result is None) if said is None else result.startswith(said)


# -- issue 16, item 4: how the case was chosen ----------------------------------------------------
def test_how_the_case_was_chosen_follows_the_type_until_the_user_says(qtbot, open_form,
                                                                       demo_session):
    organisation.set_selection_default(demo_session, AuditType.DIP_SAMPLE,
                                       Selection.RANDOM_DRAW)
    form = open_form()
    assert form.selection_combo.currentText() == "Chosen by the QA team"  # a deep dive's default
    press(qtbot, form, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.type_combo)
    choose(qtbot, form, form.type_combo, "Dip sample")
    assert form.selection_combo.currentText() == "Random draw"  # follows the type's default
    press(qtbot, form, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.selection_combo)
    choose(qtbot, form, form.selection_combo, "Referred for audit")
    press(qtbot, form, Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.type_combo)
    press(qtbot, form, Qt.Key.Key_Home)  # back to the top: Deep dive, then Themed
    choose(qtbot, form, form.type_combo, "Themed")
    assert form.selection_combo.currentText() == "Referred for audit"  # said: kept
    press(qtbot, form, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    type_text(qtbot, form, "LCS-424242")
    press(qtbot, form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: form.audit_id is not None)
    qtbot.waitUntil(lambda: not form.editor.is_dirty())
    saved = audit_service.get_audit(demo_session, form.audit_id)
    assert (saved.audit_type, saved.selection) == (AuditType.THEMED, Selection.REFERRED)
