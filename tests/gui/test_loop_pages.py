"""The moderation loop through the GUI: the moderation queue, reflective conversations,
remedial actions, the drift dashboard and the calibration view, each driven as a person would
(select a row, fill the form, press the button) over a demo store with loops of our own."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import ActionInput, ActionStatus
from sefton_qa.gui.loop.actions import ActionsPage
from sefton_qa.gui.loop.calibration import CalibrationPage
from sefton_qa.gui.loop.common import OVERDUE
from sefton_qa.gui.loop.conversations import ConversationsPage
from sefton_qa.gui.loop.drift import DriftPage
from sefton_qa.gui.loop.moderation import ModerationPage
from sefton_qa.services import audits as audit_service
from sefton_qa.services import moderation as loop
from sefton_qa.services import organisation as org
from sefton_qa.services import register, sign_in
from sefton_qa.store import audits as audit_store
from sefton_qa.store import loop as loop_store

TODAY = dt.date(2026, 11, 24)  # as tests/gui/conftest.py


# -- a store with loops at every stage ----------------------------------------------------------
def as_user(session, os_user: str, days_ago: int = 0):
    day = TODAY - dt.timedelta(days=days_ago)
    return sign_in(session.store, os_user=os_user, today=lambda: day)


class Loops:
    """Our own inadequate audits, all in one team of demo.sm1's, at known stages:

    LOOP-001  flagged 30 days ago, waiting for moderation (overdue)
    LOOP-002  flagged 2 days ago, waiting for moderation (on time)
    LOOP-003  flagged 3 days ago; its auditor is demo.qa01, a moderator
    LOOP-004  moderated 35 days ago, reflective conversation overdue
    LOOP-005  conversation held 40 days ago: one action overdue, one due later (owner qa05)
    """

    def __init__(self, session):
        self.admin = session
        staff = {s.os_username: s for s in org.staff(session) if s.os_username}
        self.staff = staff
        self.sm1 = staff["demo.sm1"]
        self.team = min((t for t in org.teams(session) if t.service_manager_id == self.sm1.id),
                        key=lambda t: t.name)
        self.base = audit_store.get(session.store.conn, 1).to_input()
        self.ids = {
            "LOOP-001": self.submit("demo.qa02", "LOOP-001", 30),
            "LOOP-002": self.submit("demo.qa02", "LOOP-002", 2),
            "LOOP-003": self.submit("demo.qa01", "LOOP-003", 3),
            "LOOP-004": self.submit("demo.qa02", "LOOP-004", 40),
            "LOOP-005": self.submit("demo.qa02", "LOOP-005", 50),
        }
        self.moderate("LOOP-004", "demo.qa04", 35)
        self.moderate("LOOP-005", "demo.qa04", 45)
        held = as_user(session, "demo.sm1", 40)
        conversation = self.conversation_of("LOOP-005")
        owner = staff["demo.qa05"].id
        loop.hold_conversation(held, conversation.id, held_on=held.today(),
                               participants=["worker", "team manager"],
                               learning="The plan had no timescales.", actions=[
                                   ActionInput("Review the plan", owner,
                                               TODAY - dt.timedelta(days=10)),
                                   ActionInput("See the child alone", owner,
                                               TODAY + dt.timedelta(days=10))])

    def submit(self, os_user: str, ref: str, days_ago: int, grade=Grade.INADEQUATE) -> int:
        s = as_user(self.admin, os_user, days_ago)
        inp = self.base
        inp.case_reference, inp.audit_date, inp.overall_grade = ref, s.today(), grade
        inp.team_id, inp.service_area_id = self.team.id, self.team.service_area_id
        inp.auditor_id = None
        return audit_service.create_audit(s, inp, submit=True).record_id

    def moderation_of(self, ref: str):
        return next(m for m in loop_store.moderations_for_audit(self.admin.store.conn,
                                                                self.ids[ref]))

    def conversation_of(self, ref: str):
        return loop_store.conversations_for_audit(self.admin.store.conn, self.ids[ref])[0]

    def actions_of(self, ref: str):
        return loop_store.actions_for_audit(self.admin.store.conn, self.ids[ref])

    def moderate(self, ref: str, os_user: str, days_ago: int, grade=Grade.INADEQUATE,
                 reason: str = "") -> None:
        loop.moderate(as_user(self.admin, os_user, days_ago), self.moderation_of(ref).id, grade,
                      reason=reason)

    def user(self, os_user: str):
        return as_user(self.admin, os_user)


@pytest.fixture
def loops(demo_session):
    return Loops(demo_session)


def status_texts(page) -> dict[str, str]:
    """Case reference → the status column's text, for every row shown."""
    return {row.values[0]: row.values[page.STATUS] for row in page.model.rows}


def statuses_of_overdue_rows(model, column: int) -> set[str]:
    return {model.index(r, column).data() for r in range(model.rowCount())
            if model.rows[r].overdue}


# -- the moderation queue -----------------------------------------------------------------------
def test_moderation_queue_is_oldest_first_and_says_overdue(qtbot, loops):
    page = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(page)
    refs = [r.values[0] for r in page.model.rows]
    assert refs.index("LOOP-001") < refs.index("LOOP-002")
    flagged = [r.data.waiting_days for r in page.model.rows]
    assert flagged == sorted(flagged, reverse=True)
    texts = status_texts(page)
    assert texts["LOOP-001"] == OVERDUE
    assert texts["LOOP-002"] != OVERDUE and texts["LOOP-002"].startswith("Due")
    row = page.model.row_of(page.model.rows[refs.index("LOOP-001")].key)
    index = page.model.index(row, page.STATUS)
    # the word, then the style and an icon: never colour alone
    assert index.data() == "Overdue"
    assert index.data(Qt.ItemDataRole.FontRole).bold()
    assert index.data(Qt.ItemDataRole.DecorationRole) is not None
    assert page.model.index(row, 2).data() == "Inadequate"
    assert "overdue" in page.count_label.text()


def test_moderate_confirm_through_the_form(qtbot, loops):
    page = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(page)
    assert page.select_case("LOOP-001")
    assert "LOOP-001" in page.detail.toPlainText()  # the audit, read-only, beside the form
    assert page.chosen_grade() is Grade.INADEQUATE  # preselected with the auditor's grade
    assert page.moderate_button.isEnabled()
    assert "Confirms" in page.button_hint.text()
    page.section_edits["planning"].setText("No timescales in the plan.")
    with qtbot.waitSignal(page.changed) as signal:
        qtbot.mouseClick(page.moderate_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].table == "moderations"
    moderation = loops.moderation_of("LOOP-001")
    assert moderation.status.value == "done" and moderation.outcome == "confirmed"
    assert moderation.section_comments == {"planning": "No timescales in the plan."}
    assert "LOOP-001" not in status_texts(page)
    assert "reflective conversation is now due" in page.done_label.text()
    assert loops.conversation_of("LOOP-001").status.value == "due"


def test_changing_the_grade_needs_a_reason(qtbot, loops):
    page = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(page)
    page.select_case("LOOP-002")
    page.grade_combo.setCurrentIndex(page.grade_combo.findText(
        Grade.REQUIRES_IMPROVEMENT.label))
    assert not page.moderate_button.isEnabled()
    assert "give a reason" in page.button_hint.text()
    assert page.reason_hint.text().startswith("Required")
    qtbot.keyClicks(page.reason_edit, "   ")
    assert not page.moderate_button.isEnabled()  # blanks are not a reason
    qtbot.keyClicks(page.reason_edit, "The plan was updated after the audit.")
    assert page.moderate_button.isEnabled()
    with qtbot.waitSignal(page.changed):
        page.moderate_button.click()
    moderation = loops.moderation_of("LOOP-002")
    assert moderation.moderated_grade is Grade.REQUIRES_IMPROVEMENT
    assert moderation.reason == "The plan was updated after the audit."
    audit = audit_store.get(loops.admin.store.conn, loops.ids["LOOP-002"])
    assert audit.overall_grade is Grade.REQUIRES_IMPROVEMENT
    reasons = [e.reason or "" for e in register.history(loops.admin, "audits", audit.id)]
    assert any("The plan was updated after the audit." in r for r in reasons)
    assert "changed from inadequate to requires improvement" in page.done_label.text().lower()
    assert not loop_store.conversations_for_audit(loops.admin.store.conn, audit.id)


def test_the_auditor_cannot_moderate_their_own_audit(qtbot, loops):
    page = ModerationPage(loops.user("demo.qa01"))
    qtbot.addWidget(page)
    assert "LOOP-003" not in status_texts(page)  # not in "waiting for me"
    assert not page.everyone.isHidden()  # a moderator may look at everyone's queue
    page.everyone.setChecked(True)
    assert "LOOP-003" in status_texts(page)
    page.select_case("LOOP-003")
    assert "You audited this case" in page.blocked_label.text()
    assert page.blocked_label.isVisibleTo(page)
    assert not page.moderate_button.isEnabled()
    assert not page.grade_combo.isEnabled() and not page.reason_edit.isEnabled()
    page.moderate()  # even called directly, nothing is written
    assert loops.moderation_of("LOOP-003").status.value == "pending"
    page.select_case("LOOP-001")  # someone else's audit: allowed
    assert page.moderate_button.isEnabled() and not page.blocked_label.text()


def test_someone_who_is_not_a_moderator_sees_why(qtbot, loops):
    page = ModerationPage(loops.admin)  # an administrator and QA officer, not a moderator
    qtbot.addWidget(page)
    assert page.everyone.isChecked()  # nothing is "mine", so everyone's is shown
    page.select_case("LOOP-001")
    assert "Only a moderator" in page.blocked_label.text()
    assert not page.moderate_button.isEnabled()
    officer = ModerationPage(loops.user("demo.qa02"))
    qtbot.addWidget(officer)
    assert officer.everyone.isHidden() and not officer.model.rows
    assert "Only moderators" in officer.count_label.text()


# -- reflective conversations -------------------------------------------------------------------
def test_hold_a_conversation_with_two_actions(qtbot, loops):
    page = ConversationsPage(loops.user("demo.sm1"))
    qtbot.addWidget(page)
    assert status_texts(page)["LOOP-004"] == OVERDUE
    assert page.select_case("LOOP-004")
    assert "LOOP-004" in page.detail.toPlainText()
    assert page.held_on.maximumDate() == page.held_on.date()  # never in the future
    page.record()  # empty: the service's messages appear beside the fields
    assert "who took part" in page.participants_message.text().lower()
    assert "learning" in page.learning_message.text().lower()
    assert page.participants_message.isVisibleTo(page)
    assert loops.conversation_of("LOOP-004").status.value == "due"

    page.participant_boxes["worker"].setChecked(True)
    page.participant_boxes["team manager"].setChecked(True)
    qtbot.keyClicks(page.learning, "Risks from partners were not assessed.")
    first, second = page.add_action_row(), page.add_action_row()
    first.description.setText("Hold a strategy discussion with the police")
    first.owner.setCurrentIndex(first.owner.findData(loops.staff["demo.qa05"].id))
    second.description.setText("Re-audit after the review")
    second.owner.setCurrentIndex(second.owner.findData(loops.sm1.id))
    second.reaudit.setChecked(True)
    assert second.reaudit_date.isEnabled()
    third = page.add_action_row()
    page.remove_action_row(third)  # rows can be removed
    assert len(page.action_rows) == 2 and second.number == 2
    with qtbot.waitSignal(page.changed) as signal:
        qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].table == "reflective_conversations"
    conversation = loops.conversation_of("LOOP-004")
    assert conversation.status.value == "held"
    assert conversation.participants == ("worker", "team manager")
    assert conversation.learning == "Risks from partners were not assessed."
    actions = loops.actions_of("LOOP-004")
    assert [a.description for a in actions] == ["Hold a strategy discussion with the police",
                                                "Re-audit after the review"]
    assert actions[0].reaudit_by is None and actions[1].reaudit_by is not None
    assert actions[1].owner_id == loops.sm1.id
    assert "LOOP-004" not in status_texts(page)
    assert "2 actions" in page.done_label.text()


def test_action_problems_are_shown_beside_the_actions(qtbot, loops):
    page = ConversationsPage(loops.user("demo.sm1"))
    qtbot.addWidget(page)
    page.select_case("LOOP-004")
    page.participant_boxes["worker"].setChecked(True)
    page.learning.setPlainText("Learning")
    page.add_action_row()
    page.record()
    assert "Action 1 description is required" in page.actions_message.text()
    assert "Action 1 owner is required" in page.actions_message.text()
    assert loops.conversation_of("LOOP-004").status.value == "due"


def test_only_facilitators_record_conversations(qtbot, loops):
    page = ConversationsPage(loops.user("demo.qa04"))  # a moderator: sees all, records none
    qtbot.addWidget(page)
    assert "LOOP-004" in status_texts(page)
    page.select_case("LOOP-004")
    assert "Only a service manager or an administrator" in page.blocked_label.text()
    assert not page.record_button.isEnabled() and not page.learning.isEnabled()


# -- remedial actions ---------------------------------------------------------------------------
def test_mark_an_action_done_with_evidence(qtbot, loops):
    page = ActionsPage(loops.user("demo.qa05"))
    qtbot.addWidget(page)
    assert page.view_combo.currentData() == "mine"
    texts = {r.values[2]: r.values[page.STATUS] for r in page.model.rows}
    assert texts["Review the plan"] == OVERDUE
    assert texts["See the child alone"].startswith("Due in")
    page.table.selectRow(next(n for n, r in enumerate(page.model.rows)
                              if r.values[2] == "Review the plan"))
    assert page.done_button.isEnabled()
    assert not page.not_needed_button.isEnabled()  # owners mark done; managers close
    dialog = page.mark_done()
    assert dialog is page.dialog and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()
    assert "Evidence is required" in dialog.hint.text()
    qtbot.keyClicks(dialog.text_edit, "Plan reviewed on 20/11 with timescales; copy on file.")
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(page.changed) as signal:
        dialog.ok_button.click()
    assert signal.args[0].kind == "done"
    done = next(a for a in loops.actions_of("LOOP-005") if a.description == "Review the plan")
    assert done.status is ActionStatus.DONE
    assert done.evidence == "Plan reviewed on 20/11 with timescales; copy on file."
    assert "Review the plan" not in {r.values[2] for r in page.model.rows}


def test_a_manager_closes_an_action_as_no_longer_needed(qtbot, loops):
    page = ActionsPage(loops.user("demo.sm1"))
    qtbot.addWidget(page)
    assert page.view_combo.currentData() == "teams"
    page.table.selectRow(next(n for n, r in enumerate(page.model.rows)
                              if r.values[2] == "See the child alone"))
    dialog = page.not_needed()
    dialog.text_edit.setPlainText("The child moved to another authority.")
    with qtbot.waitSignal(page.changed):
        dialog.accept()
    action = next(a for a in loops.actions_of("LOOP-005")
                  if a.description == "See the child alone")
    assert action.status is ActionStatus.NOT_NEEDED
    assert "no longer needed" in page.done_label.text()


def test_everything_overdue_lists_only_overdue_actions(qtbot, loops):
    page = ActionsPage(loops.admin)
    qtbot.addWidget(page)
    page.set_view("overdue")
    assert page.model.rows
    assert all(r.values[page.STATUS] == OVERDUE for r in page.model.rows)
    assert statuses_of_overdue_rows(page.model, page.STATUS) == {OVERDUE}


# -- closing a loop, and the drift dashboard ----------------------------------------------------
def team_row(page: DriftPage, team: str) -> dict[str, object]:
    row = next(r for r in page.team_model.rows if r.key == team)
    return dict(zip(page.TEAM_HEADERS, row.values))


def test_close_a_loop_through_the_gui_and_the_drift_counts_follow(qtbot, loops):
    sm1 = loops.user("demo.sm1")
    drift = DriftPage(sm1)
    qtbot.addWidget(drift)
    assert drift.mine.isChecked()  # a service manager starts with their own teams
    qtbot.waitUntil(lambda: drift.ready)
    team = loops.team.name
    assert {r.key for r in drift.team_model.rows} >= {team, ""}
    before = team_row(drift, team)
    oldest = {r.values[0]: r for r in drift.oldest_model.rows}
    assert oldest["LOOP-005"].values[5] == OVERDUE  # an overdue action: labelled in words

    # 1. moderate (another moderator confirms the inadequate grade)
    moderation = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(moderation)
    moderation.select_case("LOOP-002")
    moderation.moderate_button.click()
    # 2. the service manager holds the conversation and agrees one action
    conversations = ConversationsPage(sm1)
    qtbot.addWidget(conversations)
    conversations.select_case("LOOP-002")
    conversations.participant_boxes["worker"].setChecked(True)
    conversations.learning.setPlainText("Drift after the review.")
    action = conversations.add_action_row()
    action.description.setText("Convene the review")
    action.owner.setCurrentIndex(action.owner.findData(loops.sm1.id))
    conversations.record_button.click()
    assert loops.conversation_of("LOOP-002").status.value == "held"
    # 3. the owner marks it done: the loop closes
    actions = ActionsPage(sm1)
    qtbot.addWidget(actions)
    actions.set_view("mine")
    actions.table.selectRow(next(n for n, r in enumerate(actions.model.rows)
                                 if r.values[0] == "LOOP-002"))
    for page in (moderation, conversations, actions):  # as the main window wires them
        page.changed.connect(lambda _change: drift.refresh())
    dialog = actions.mark_done()
    dialog.text_edit.setPlainText("Review held on 24/11.")
    dialog.accept()
    assert not drift.ready  # reading again, off the GUI thread
    qtbot.waitUntil(lambda: drift.ready)
    after = team_row(drift, team)
    assert after["Closed"] == before["Closed"] + 1
    assert after["Waiting for\nmoderation"] == before["Waiting for\nmoderation"] - 1
    stages = {x.case_reference: x.stage for x in loop.loops(sm1)}
    assert stages["LOOP-002"] == "closed"
    assert "still waiting" in drift.status_label.text()


def test_drift_period_and_every_team(qtbot, loops):
    drift = DriftPage(loops.admin)
    qtbot.addWidget(drift)
    assert drift.mine.isHidden()  # an administrator sees every team
    qtbot.waitUntil(lambda: drift.ready)
    start, end = drift.period()
    assert end == TODAY and (end - start).days in (364, 365)
    total = next(r for r in drift.team_model.rows if r.key == "")
    assert total.values[0] == "All teams" and total.bold
    assert len(drift.oldest_model.rows) <= 10
    ages = [r.values[4] for r in drift.oldest_model.rows]
    assert ages == sorted(ages, reverse=True)
    assert statuses_of_overdue_rows(drift.oldest_model, 5) <= {OVERDUE}
    # a period before any of our loops: they drop out
    drift.to_edit.setDate(drift.to_edit.date().addDays(-60))
    qtbot.waitUntil(lambda: drift.ready)
    assert "LOOP-001" not in {r.values[0] for r in drift.oldest_model.rows}


# -- calibration --------------------------------------------------------------------------------
def test_calibration_page_shows_kappa_and_plain_words(qtbot, loops):
    loops.moderate("LOOP-001", "demo.qa04", 0, Grade.REQUIRES_IMPROVEMENT,
                   reason="Partners' risks were assessed after all.")
    page = CalibrationPage(loops.admin)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.ready)
    start, end = page.period()
    expected = loop.calibration(loops.admin, start=start, end=end)
    assert expected.moderated >= 3 and expected.kappa is not None
    assert page.plain_label.text() == expected.plain_words()
    assert f"{expected.kappa:.2f}" in page.kappa_label.text()
    assert "weighted kappa" in page.kappa_label.text().lower()
    assert f"upgraded (grade raised) {expected.upgraded}" in page.shares_label.text()
    # rows: the auditor's grade; columns: the moderator's
    rows = {r.values[0]: r.values for r in page.grade_model.rows}
    headers = page.grade_model.headers
    col = headers.index("Moderated\nrequires improvement")
    assert rows["Inadequate"][col] == expected.table["inadequate"]["requires_improvement"]
    assert rows["Total"][-1] == expected.moderated
    by_auditor = {r.values[0]: r.values for r in page.auditor_model.rows}
    assert set(by_auditor) == set(expected.by_auditor)
    explained = " ".join(w.text() for w in page.findChildren(type(page.plain_label)))
    assert "What kappa means" in explained and "beyond the agreement" in explained


# -- keyboard and screen readers ----------------------------------------------------------------
@pytest.mark.parametrize("page_class", [ModerationPage, ConversationsPage, ActionsPage,
                                        DriftPage, CalibrationPage])
def test_every_control_is_named_and_reachable(qtbot, loops, page_class):
    page = page_class(loops.user("demo.sm1"))
    qtbot.addWidget(page)
    if hasattr(page, "select_case"):
        page.table.selectRow(0)
    if isinstance(page, ConversationsPage):
        page.add_action_row()
    page.show()
    if hasattr(page, "ready"):
        qtbot.waitUntil(lambda: page.ready)
    unnamed = []
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page) or widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if widget.objectName().startswith("qt_") or type(widget).__name__ in (
                "QScrollBar", "QScrollArea", "QSplitterHandle", "QCalendarWidget"):
            continue  # Qt's own parts: a date edit's line edit speaks for the date edit
        name = widget.accessibleName() or (widget.text() if isinstance(widget,
                                                                       QAbstractButton) else "")
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and not name:
            unnamed.append(f"{type(widget).__name__} {widget.objectName()}")
    assert not unnamed
    buddies = [label for label in page.findChildren(QLabel) if label.buddy() is not None]
    assert buddies and any("&" in label.text() for label in buddies)


def test_tab_goes_through_the_moderation_form_to_the_button(qtbot, loops):
    page = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(page)
    page.show()
    page.select_case("LOOP-001")
    chain, widget = [], page.grade_combo
    for _ in range(40):
        widget = widget.nextInFocusChain()
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisibleTo(page):
            chain.append(widget)
        if widget is page.moderate_button:
            break
    edits = list(page.section_edits.values())
    assert chain[0] is page.reason_edit
    assert [w for w in chain if w in edits] == edits  # in the template's order
    assert chain[-1] is page.moderate_button


def test_a_refresh_keeps_what_is_being_typed(qtbot, loops):
    page = ConversationsPage(loops.user("demo.sm1"))
    qtbot.addWidget(page)
    page.select_case("LOOP-004")
    page.learning.setPlainText("Half-written learning")
    page.add_action_row().description.setText("An action")
    page.refresh()  # another page changed something: the window refreshes this one
    assert page.selected_item().case_reference == "LOOP-004"
    assert page.learning.toPlainText() == "Half-written learning"
    assert page.action_rows[0].description.text() == "An action"
    moderation = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(moderation)
    moderation.select_case("LOOP-001")
    moderation.reason_edit.setPlainText("Typing")
    moderation.refresh()
    assert moderation.reason_edit.toPlainText() == "Typing"


def test_the_moderated_grade_is_chosen_by_keyboard_as_a_grade(qtbot, loops):
    page = ModerationPage(loops.user("demo.qa04"))
    qtbot.addWidget(page)
    page.show()
    assert page.select_case("LOOP-001")
    page.grade_combo.setFocus()
    qtbot.keyClick(page.grade_combo, Qt.Key.Key_Home)
    chosen = []
    for index in range(page.grade_combo.count()):
        if index:
            qtbot.keyClick(page.grade_combo, Qt.Key.Key_Down)
        grade = page.chosen_grade()
        assert type(grade) is Grade and grade.label == page.grade_combo.currentText()
        chosen.append(grade)
    assert len(set(chosen)) == page.grade_combo.count() >= 3
