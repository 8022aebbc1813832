"""The moderation loop's state machine (services/moderation.py): flagging, moderation,
reflective conversations, remedial actions, re-audits, loop stages, the calibration sample and
weighted kappa. Every transition, and every refused transition with its message."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from types import SimpleNamespace

import pytest

from sefton_qa.domain.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import (
    ActionInput,
    ActionStatus,
    ConversationStatus,
    ModerationStatus,
    Role,
)
from sefton_qa.domain.stats import weighted_kappa
from sefton_qa.services import audits as audit_service
from sefton_qa.services import moderation
from sefton_qa.services import organisation as org_service
from sefton_qa.services.session import Session
from sefton_qa.services.verify import verify_store
from sefton_qa.store import audits as audit_store
from sefton_qa.store import loop as loop_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import trail as trail_store

D = dt.date
TODAY = D(2026, 11, 24)  # a Tuesday
I, RI, G = Grade.INADEQUATE, Grade.REQUIRES_IMPROVEMENT, Grade.GOOD


# -- fixtures ------------------------------------------------------------------------------------
def set_setting(store, admin, key, value):
    with store.transaction() as conn:
        settings_store.put(conn, key, value, who=admin.who)


@pytest.fixture
def w(store, admin, org, auditor, manager, make_input):
    """The org plus moderators, a team manager (owner of actions, no roles) and someone
    inactive; sessions for each on any day; no calibration sample unless a test asks."""
    set_setting(store, admin, "calibration_rate", 0.0)
    set_setting(store, admin, "calibration_seed", 12345)

    def add(name, os_username, roles, team_id=None):
        return org_service.add_staff(admin, name, os_username=os_username, roles=roles,
                                     team_id=team_id).record_id

    moderator = add("Mo Moderator", "mo.moderator", [Role.MODERATOR])
    qa_moderator = add("Quinn Qamod", "quinn.qamod", [Role.QA_OFFICER, Role.MODERATOR])
    team_manager = add("Tia Teamlead", None, [], org.team_a1)
    gone = add("Gus Gone", None, [Role.SERVICE_MANAGER])
    org_service.update_staff(admin, gone, active=False)

    def as_(staff_id, day=TODAY):
        actor = staff_store.get(store.conn, staff_id)
        return Session(store=store, actor=actor, os_user="pytest", today=lambda: day)

    def submit(grade=I, by=None, **overrides):
        session = by or auditor
        return audit_service.create_audit(
            session, make_input(overall_grade=grade, **overrides), submit=True).record_id

    def pending(audit_id):
        (m,) = [m for m in loop_store.moderations_for_audit(store.conn, audit_id)
                if m.status is ModerationStatus.PENDING]
        return m

    def trail_count():
        return trail_store.count(store.conn)

    return SimpleNamespace(
        store=store, conn=store.conn, org=org, admin=admin, auditor=auditor, manager=manager,
        moderator=moderator, qa_moderator=qa_moderator, team_manager=team_manager, gone=gone,
        as_=as_, mod=as_(moderator), sm=manager, submit=submit, pending=pending,
        trail_count=trail_count, make_input=make_input)


def moderated_to_conversation(w, grade=I, reason="", day=TODAY):
    audit_id = w.submit(grade)
    m = w.pending(audit_id)
    moderation.moderate(w.as_(w.moderator, day), m.id, I, reason=reason or (
        "" if grade is I else "The evidence supports inadequate."))
    (conversation,) = loop_store.conversations_for_audit(w.conn, audit_id)
    return audit_id, conversation


def held_with_actions(w, actions=None, day=TODAY):
    audit_id, conversation = moderated_to_conversation(w, day=day)
    actions = actions or [ActionInput("See the child alone.", w.team_manager, D(2026, 12, 10))]
    moderation.hold_conversation(w.as_(w.org.manager, day), conversation.id, held_on=day,
                                 participants=["worker", "team manager"],
                                 learning="Visits slipped.", actions=actions)
    return audit_id, conversation, loop_store.actions_for_audit(w.conn, audit_id)


def field_messages(exc: ValidationError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in exc.problems:
        out.setdefault(p.field, []).append(p.message)
    return out


def kinds(conn, table, record_id):
    return [e.kind for e in trail_store.entries_for(conn, table, record_id)]


# -- flagging ------------------------------------------------------------------------------------
def test_an_inadequate_submission_is_flagged_at_once(w):
    audit_id = w.submit(I)
    (m,) = loop_store.moderations_for_audit(w.conn, audit_id)
    assert m.flagged_because == "inadequate"
    assert m.status is ModerationStatus.PENDING
    assert m.flagged_on == TODAY
    assert m.due_date == D(2026, 12, 1)  # 5 working days after Tuesday 24 November
    assert m.original_grade is I
    assert m.moderator_id is None and m.selection is None
    assert kinds(w.conn, "moderations", m.id) == ["flag"]


@pytest.mark.parametrize("grade", [RI, G])
def test_other_grades_are_not_flagged_when_the_sample_rate_is_zero(w, grade):
    audit_id = w.submit(grade)
    assert loop_store.moderations_for_audit(w.conn, audit_id) == []


def test_a_draft_is_flagged_when_it_is_submitted(w):
    draft = audit_service.create_audit(w.auditor, w.make_input(overall_grade=I)).record_id
    assert loop_store.moderations_for_audit(w.conn, draft) == []
    audit_service.submit_audit(w.auditor, draft)
    assert w.pending(draft).flagged_because == "inadequate"


def test_the_due_date_counts_working_days_from_the_day_of_submission(w):
    auditor = dataclasses.replace(w.auditor, today=lambda: D(2026, 12, 22))
    audit_id = w.submit(I, by=auditor, audit_date=D(2026, 12, 21))
    # 23, 24, [25 Christmas, 28 Boxing Day observed], 29, 30, 31.
    assert w.pending(audit_id).due_date == D(2026, 12, 31)


def test_editing_a_submitted_audit_to_inadequate_flags_it_once(w):
    audit_id = w.submit(RI)
    assert loop_store.moderations_for_audit(w.conn, audit_id) == []
    audit_service.update_audit(w.auditor, audit_id, w.make_input(overall_grade=I),
                               reason="Re-read the file: the child was not seen for months.")
    m = w.pending(audit_id)
    assert (m.flagged_because, m.original_grade, m.due_date) == ("inadequate", I,
                                                                 D(2026, 12, 1))
    audit_service.update_audit(w.auditor, audit_id, w.make_input(overall_grade=I,
                                                                 findings="More detail."),
                               reason="Added detail")
    assert len(loop_store.moderations_for_audit(w.conn, audit_id)) == 1


def test_editing_a_draft_to_inadequate_does_not_flag_it(w):
    draft = audit_service.create_audit(w.auditor, w.make_input(overall_grade=RI)).record_id
    audit_service.update_audit(w.auditor, draft, w.make_input(overall_grade=I))
    assert loop_store.moderations_for_audit(w.conn, draft) == []


def test_bulk_added_audits_are_flagged_unless_told_not_to(w):
    inputs = [w.make_input(case_reference=f"LCS-2000{n}", overall_grade=I) for n in range(3)]
    flagged = audit_service.add_audits(w.admin, inputs).record_ids
    assert all(w.pending(a).flagged_because == "inadequate" for a in flagged)
    quiet = audit_service.add_audits(w.admin, inputs, flag=False).record_ids
    assert all(loop_store.moderations_for_audit(w.conn, a) == [] for a in quiet)
    # Flagging twice never flags twice.
    assert moderation.flag_submitted(w.admin, list(flagged)) == 0


# -- moderating ----------------------------------------------------------------------------------
def test_confirming_inadequate_creates_a_conversation_with_the_service_manager(w):
    audit_id = w.submit(I)
    m = w.pending(audit_id)
    before = audit_store.get(w.conn, audit_id)
    change = moderation.moderate(w.mod, m.id, I, section_comments={
        "planning": "  No timescales.  ", "voice": "   "})
    assert (change.table, change.record_ids, change.kind) == ("moderations", (m.id,),
                                                              "moderate")
    done = loop_store.get_moderation(w.conn, m.id)
    assert done.status is ModerationStatus.DONE
    assert (done.moderator_id, done.moderated_grade, done.moderation_date) == (
        w.moderator, I, TODAY)
    assert done.reason is None and done.outcome == "confirmed"
    assert done.section_comments == {"planning": "No timescales."}
    assert kinds(w.conn, "moderations", m.id) == ["flag", "moderate"]
    # The audit is untouched.
    assert audit_store.get(w.conn, audit_id).version == before.version
    (c,) = loop_store.conversations_for_audit(w.conn, audit_id)
    assert c.status is ConversationStatus.DUE
    assert c.service_manager_id == w.org.manager
    assert c.moderation_id == m.id
    assert c.due_date == D(2026, 12, 8)  # 10 working days after 24 November
    assert (c.held_on, c.facilitator_id, c.participants, c.learning) == (None, None, (), "")
    assert kinds(w.conn, "reflective_conversations", c.id) == ["due"]


@pytest.mark.parametrize("grade", [RI, G])
def test_confirming_a_grade_that_is_not_inadequate_creates_nothing(w, grade):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    audit_id = w.submit(grade)
    m = w.pending(audit_id)
    assert m.flagged_because == "calibration"
    version = audit_store.get(w.conn, audit_id).version
    moderation.moderate(w.mod, m.id, grade)
    assert loop_store.get_moderation(w.conn, m.id).outcome == "confirmed"
    assert loop_store.conversations_for_audit(w.conn, audit_id) == []
    assert loop_store.actions_for_audit(w.conn, audit_id) == []
    assert audit_store.get(w.conn, audit_id).version == version
    assert audit_id not in loop_store.inadequate_audit_ids(w.conn)


def test_moderating_down_to_inadequate_regrades_the_audit_and_starts_the_loop(w):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    audit_id = w.submit(RI)
    m = w.pending(audit_id)
    later = w.as_(w.moderator, D(2026, 11, 26))
    moderation.moderate(later, m.id, I, reason="  The child was not seen alone.  ")
    done = loop_store.get_moderation(w.conn, m.id)
    assert done.outcome == "downgraded" and done.reason == "The child was not seen alone."
    audit = audit_store.get(w.conn, audit_id)
    assert audit.overall_grade is I
    last = trail_store.entries_for(w.conn, "audits", audit_id)[-1]
    assert last.kind == "moderation"
    assert last.staff_id == w.moderator
    assert last.changes == {"overall_grade": ["requires_improvement", "inadequate"]}
    assert last.reason == ("Moderated from Requires improvement to be good to Inadequate: "
                           "The child was not seen alone.")
    (c,) = loop_store.conversations_for_audit(w.conn, audit_id)
    # 10 working days after Thursday 26 November.
    assert c.due_date == D(2026, 12, 10)
    assert c.service_manager_id == w.org.manager
    assert audit_id in loop_store.inadequate_audit_ids(w.conn)
    (loop,) = moderation.loops(later)
    assert loop.stage == "awaiting reflective conversation"


def test_moderating_inadequate_up_regrades_the_audit_and_needs_no_conversation(w):
    audit_id = w.submit(I)
    moderation.moderate(w.mod, w.pending(audit_id).id, RI,
                        reason="A new manager has set clear direction.")
    assert audit_store.get(w.conn, audit_id).overall_grade is RI
    assert loop_store.conversations_for_audit(w.conn, audit_id) == []
    (loop,) = moderation.loops(w.mod)
    assert loop.stage == "closed" and not loop.overdue
    assert loop.original_grade is I


def test_the_conversation_goes_to_the_service_manager_of_the_audits_team(w):
    other_sm = org_service.add_staff(w.admin, "Ola Other", os_username="ola.other",
                                     roles=[Role.SERVICE_MANAGER]).record_id
    org_service.set_team_service_manager(w.admin, w.org.team_b1, other_sm)
    audit_id = w.submit(I, service_area_id=w.org.area2, team_id=w.org.team_b1)
    moderation.moderate(w.mod, w.pending(audit_id).id, I)
    (c,) = loop_store.conversations_for_audit(w.conn, audit_id)
    assert c.service_manager_id == other_sm


def test_moderating_twice_is_refused(w):
    audit_id = w.submit(I)
    m = w.pending(audit_id)
    moderation.moderate(w.mod, m.id, I)
    count = w.trail_count()
    with pytest.raises(ValidationError) as exc:
        moderation.moderate(w.as_(w.qa_moderator), m.id, I)
    assert field_messages(exc.value) == {"status": ["this moderation is already done"]}
    assert w.trail_count() == count
    assert len(loop_store.conversations_for_audit(w.conn, audit_id)) == 1


def test_moderating_your_own_audit_is_refused(w):
    own = w.as_(w.qa_moderator)
    audit_id = w.submit(I, by=own, auditor_id=w.qa_moderator)
    count = w.trail_count()
    with pytest.raises(PermissionDenied, match="never the audit's own auditor"):
        moderation.moderate(own, w.pending(audit_id).id, I)
    assert w.trail_count() == count
    assert w.pending(audit_id).status is ModerationStatus.PENDING


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_changing_the_grade_without_a_reason_is_refused(w, reason):
    audit_id = w.submit(I)
    m = w.pending(audit_id)
    count = w.trail_count()
    with pytest.raises(ValidationError) as exc:
        moderation.moderate(w.mod, m.id, RI, reason=reason)
    assert field_messages(exc.value) == {
        "reason": ["a reason is required when the grade is changed"]}
    assert w.trail_count() == count
    assert audit_store.get(w.conn, audit_id).overall_grade is I


def test_a_grade_off_the_scale_is_refused(w):
    m = w.pending(w.submit(I))
    with pytest.raises(ValidationError) as exc:
        moderation.moderate(w.mod, m.id, Grade.OUTSTANDING, reason="Exceptional.")
    assert field_messages(exc.value) == {
        "grade": ['"Outstanding" is not on the grade scale']}
    org_service.set_outstanding_enabled(w.admin, True)
    moderation.moderate(w.mod, m.id, Grade.OUTSTANDING, reason="Exceptional.")
    assert loop_store.get_moderation(w.conn, m.id).outcome == "upgraded"


def test_over_long_reasons_are_refused(w):
    m = w.pending(w.submit(I))
    with pytest.raises(ValidationError, match="longer than 20,000"):
        moderation.moderate(w.mod, m.id, RI, reason="x" * 20_001)
    with pytest.raises(ValidationError, match="longer than 20,000"):
        moderation.moderate(w.mod, m.id, I, section_comments={"voice": "x" * 20_001})


def test_only_moderators_may_moderate(w):
    m = w.pending(w.submit(I))
    for session in (w.auditor, w.admin, w.manager):
        with pytest.raises(PermissionDenied, match="Only a moderator can moderate audits"):
            moderation.moderate(session, m.id, I)
    inactive_moderator = dataclasses.replace(
        w.mod, actor=dataclasses.replace(w.mod.actor, active=False))
    with pytest.raises(PermissionDenied, match="inactive"):
        moderation.moderate(inactive_moderator, m.id, I)


def test_moderating_what_is_not_there_or_changed_since(w):
    with pytest.raises(NotFound, match="no moderation with id 999"):
        moderation.moderate(w.mod, 999, I)
    m = w.pending(w.submit(I))
    with pytest.raises(ConflictError, match="changed by someone else"):
        moderation.moderate(w.mod, m.id, I, expected_version=m.version + 1)
    moderation.moderate(w.mod, m.id, I, expected_version=m.version)


# -- reflective conversations --------------------------------------------------------------------
def test_holding_the_conversation_records_it_and_its_actions(w):
    audit_id, conversation = moderated_to_conversation(w)
    day = D(2026, 12, 3)
    sm = w.as_(w.org.manager, day)
    change = moderation.hold_conversation(
        sm, conversation.id, held_on=D(2026, 12, 2),
        participants=["auditor", "worker", "team manager", "worker"],
        learning="  Supervision was about tasks, not the child.  ",
        actions=[ActionInput("  See the child alone.  ", w.team_manager, D(2026, 12, 16)),
                 ActionInput("Re-audit.", w.org.manager, D(2027, 2, 1),
                             reaudit_by=D(2027, 2, 1))])
    assert change.kind == "held"
    c = loop_store.get_conversation(w.conn, conversation.id)
    assert c.status is ConversationStatus.HELD
    assert c.held_on == D(2026, 12, 2)
    assert c.facilitator_id == w.org.manager
    assert c.participants == ("worker", "team manager", "auditor")  # by role, no repeats
    assert c.learning == "Supervision was about tasks, not the child."
    assert kinds(w.conn, "reflective_conversations", c.id) == ["due", "held"]
    first, second = loop_store.actions_for_audit(w.conn, audit_id)
    assert (first.description, first.owner_id, first.due_date, first.status,
            first.conversation_id, first.reaudit_by) == (
        "See the child alone.", w.team_manager, D(2026, 12, 16), ActionStatus.OPEN, c.id, None)
    assert second.reaudit_by == D(2027, 2, 1)
    assert kinds(w.conn, "remedial_actions", first.id) == ["create"]


def test_the_loops_free_text_is_stored_as_plain_text(w):
    """Pasted control characters (a Word page break, ESC, NUL) never reach the store, the
    export or the pack: the same cleaning as an audit's findings; right-to-left text stays."""
    audit_id, conversation = moderated_to_conversation(w)
    sm = w.as_(w.org.manager, D(2026, 12, 3))
    moderation.hold_conversation(
        sm, conversation.id, held_on=D(2026, 12, 2), participants=["auditor"],
        learning="\x1b[31mPlans\x00 drifted\x0cfor months \u05e9\u05dc\u05d5\u05dd\x07",
        actions=[ActionInput("\x00\x1bSee the child alone.\x7f ", w.team_manager,
                             D(2026, 12, 16))])
    c = loop_store.get_conversation(w.conn, conversation.id)
    assert c.learning == "[31mPlans drifted\nfor months \u05e9\u05dc\u05d5\u05dd"
    (action,) = loop_store.actions_for_audit(w.conn, audit_id)
    assert action.description == "See the child alone."
    owner = w.as_(w.team_manager, D(2026, 12, 4))
    with pytest.raises(ValidationError, match="evidence"):
        moderation.complete_action(owner, action.id, "\x00\x1b\x07 ")  # only controls: empty
    moderation.complete_action(owner, action.id, "Seen\x0balone\x1b.")
    assert loop_store.get_action(w.conn, action.id).evidence == "Seen\nalone."


def test_an_administrator_may_hold_a_conversation_for_someone_else(w):
    _audit_id, conversation = moderated_to_conversation(w)
    moderation.hold_conversation(w.admin, conversation.id, held_on=TODAY,
                                 participants=["worker"], learning="Learnt.",
                                 facilitator_id=w.org.manager)
    assert loop_store.get_conversation(w.conn, conversation.id).facilitator_id == w.org.manager


def test_holding_a_conversation_twice_is_refused(w):
    _a, conversation = moderated_to_conversation(w)
    moderation.hold_conversation(w.sm, conversation.id, held_on=TODAY, participants=["worker"],
                                 learning="Learnt.")
    count = w.trail_count()
    with pytest.raises(ValidationError) as exc:
        moderation.hold_conversation(w.sm, conversation.id, held_on=TODAY,
                                     participants=["worker"], learning="Again.")
    assert field_messages(exc.value) == {"status": ["this conversation is already held"]}
    assert w.trail_count() == count


@pytest.mark.parametrize("kwargs, expected", [
    (dict(held_on=D(2026, 11, 25)), {"held_on": ["25/11/2026 is in the future"]}),
    (dict(held_on=D(2026, 11, 1)), {"held_on": ["is before the audit"]}),
    (dict(participants=[]), {"participants": ["say who took part (by role)"]}),
    (dict(participants=["worker", "mum", "IRO"]),
     {"participants": ["unknown role(s): mum, IRO (use worker, team manager, auditor, "
                       "service manager, other)"]}),
    (dict(learning="   "), {"learning": ["is required: what was learnt, in plain words"]}),
    (dict(learning="x" * 20_001), {"learning": ["is longer than 20,000 characters"]}),
    (dict(held_on=D(2026, 11, 30), participants=[], learning=""),
     {"held_on": ["30/11/2026 is in the future"],
      "participants": ["say who took part (by role)"],
      "learning": ["is required: what was learnt, in plain words"]}),
])
def test_a_conversation_with_missing_or_wrong_details_is_refused(w, kwargs, expected):
    _a, conversation = moderated_to_conversation(w)
    values = dict(held_on=TODAY, participants=["worker"], learning="Learnt.")
    values.update(kwargs)
    count = w.trail_count()
    with pytest.raises(ValidationError) as exc:
        moderation.hold_conversation(w.sm, conversation.id, **values)
    assert field_messages(exc.value) == expected
    assert w.trail_count() == count
    assert loop_store.get_conversation(w.conn, conversation.id).status is ConversationStatus.DUE


@pytest.mark.parametrize("make_action, expected", [
    (lambda w: ActionInput("  ", w.team_manager, D(2026, 12, 1)),
     {"action 1 description": ["is required"]}),
    (lambda w: ActionInput("x" * 20_001, w.team_manager, D(2026, 12, 1)),
     {"action 1 description": ["is too long"]}),
    (lambda w: ActionInput("Visit.", None, D(2026, 12, 1)),
     {"action 1 owner": ["is required"]}),
    (lambda w: ActionInput("Visit.", 9999, D(2026, 12, 1)),
     {"action 1 owner": ["is required"]}),
    (lambda w: ActionInput("Visit.", w.gone, D(2026, 12, 1)),
     {"action 1 owner": ["Gus Gone is not an active member of staff"]}),
    (lambda w: ActionInput("Visit.", w.team_manager, None),
     {"action 1 due date": ["is required"]}),
    (lambda w: ActionInput("Visit.", w.team_manager, D(2026, 11, 23)),
     {"action 1 due date": ["is before 24/11/2026"]}),
    (lambda w: ActionInput("Re-audit.", w.team_manager, D(2026, 12, 1),
                           reaudit_by=D(2026, 11, 20)),
     {"action 1 re-audit by": ["is before 24/11/2026"]}),
])
def test_a_conversation_with_a_bad_action_is_refused(w, make_action, expected):
    audit_id, conversation = moderated_to_conversation(w)
    with pytest.raises(ValidationError) as exc:
        moderation.hold_conversation(w.sm, conversation.id, held_on=TODAY,
                                     participants=["worker"], learning="Learnt.",
                                     actions=[make_action(w)])
    assert field_messages(exc.value) == expected
    assert loop_store.actions_for_audit(w.conn, audit_id) == []
    assert loop_store.get_conversation(w.conn, conversation.id).status is ConversationStatus.DUE


def test_the_second_bad_action_is_named(w):
    _a, conversation = moderated_to_conversation(w)
    with pytest.raises(ValidationError) as exc:
        moderation.hold_conversation(
            w.sm, conversation.id, held_on=TODAY, participants=["worker"], learning="Learnt.",
            actions=[ActionInput("Fine.", w.team_manager, D(2026, 12, 1)),
                     ActionInput("", None, None)])
    assert field_messages(exc.value) == {"action 2 description": ["is required"],
                                         "action 2 owner": ["is required"],
                                         "action 2 due date": ["is required"]}


def test_actions_may_be_due_on_the_day_the_conversation_was_held(w):
    audit_id, conversation = moderated_to_conversation(w)
    moderation.hold_conversation(w.as_(w.org.manager, D(2026, 11, 30)), conversation.id,
                                 held_on=D(2026, 11, 25), participants=["worker"],
                                 learning="Learnt.",
                                 actions=[ActionInput("Visit.", w.team_manager, D(2026, 11, 25))])
    assert loop_store.actions_for_audit(w.conn, audit_id)[0].due_date == D(2026, 11, 25)


def test_only_service_managers_and_administrators_hold_conversations(w):
    _a, conversation = moderated_to_conversation(w)
    for session in (w.auditor, w.mod, w.as_(w.team_manager)):
        with pytest.raises(PermissionDenied,
                           match="Only a service manager or administrator can record "
                                 "reflective conversations"):
            moderation.hold_conversation(session, conversation.id, held_on=TODAY,
                                         participants=["worker"], learning="Learnt.")
    with pytest.raises(NotFound, match="no reflective conversation with id 999"):
        moderation.hold_conversation(w.sm, 999, held_on=TODAY, participants=["worker"],
                                     learning="Learnt.")


# -- remedial actions ----------------------------------------------------------------------------
def test_adding_an_action_later(w):
    audit_id, conversation, _ = held_with_actions(w)
    change = moderation.add_action(
        w.sm, audit_id, ActionInput("Refer to panel.", w.team_manager, D(2027, 1, 8)),
        conversation_id=conversation.id)
    action = loop_store.get_action(w.conn, change.record_id)
    assert (action.description, action.status, action.conversation_id) == (
        "Refer to panel.", ActionStatus.OPEN, conversation.id)
    moderation.add_action(w.admin, audit_id, ActionInput("Another.", w.team_manager, TODAY))
    with pytest.raises(ValidationError) as exc:
        moderation.add_action(w.sm, audit_id, ActionInput("Late.", w.team_manager,
                                                          D(2026, 11, 23)))
    assert field_messages(exc.value) == {"action 1 due date": ["is before 24/11/2026"]}
    with pytest.raises(NotFound, match="no audit with id 999"):
        moderation.add_action(w.sm, 999, ActionInput("x", w.team_manager, TODAY))
    for session in (w.auditor, w.mod, w.as_(w.team_manager)):
        with pytest.raises(PermissionDenied, match="can agree remedial actions"):
            moderation.add_action(session, audit_id,
                                  ActionInput("x", w.team_manager, TODAY))


def test_the_owner_completes_their_action_with_evidence(w):
    _a, _c, (action,) = held_with_actions(w)
    owner = w.as_(w.team_manager, D(2026, 12, 4))
    change = moderation.complete_action(owner, action.id, "  Child seen alone on 3/12.  ",
                                        completed_on=D(2026, 12, 3))
    assert change.kind == "done"
    done = loop_store.get_action(w.conn, action.id)
    assert (done.status, done.evidence, done.completed_on) == (
        ActionStatus.DONE, "Child seen alone on 3/12.", D(2026, 12, 3))
    assert kinds(w.conn, "remedial_actions", action.id) == ["create", "done"]
    last = trail_store.entries_for(w.conn, "remedial_actions", action.id)[-1]
    assert last.staff_id == w.team_manager


def test_completing_an_action_defaults_to_today(w):
    _a, _c, (action,) = held_with_actions(w)
    moderation.complete_action(w.as_(w.team_manager, D(2026, 12, 7)), action.id, "Done.")
    assert loop_store.get_action(w.conn, action.id).completed_on == D(2026, 12, 7)


def test_completing_an_action_twice_is_refused(w):
    _a, _c, (action,) = held_with_actions(w)
    owner = w.as_(w.team_manager)
    moderation.complete_action(owner, action.id, "Done.")
    count = w.trail_count()
    with pytest.raises(ValidationError) as exc:
        moderation.complete_action(owner, action.id, "Done again.")
    assert field_messages(exc.value) == {"status": ["this action is already done"]}
    with pytest.raises(ValidationError) as exc:
        moderation.action_not_needed(w.sm, action.id, "Changed my mind.")
    assert field_messages(exc.value) == {"status": ["only an open action can be closed"]}
    assert w.trail_count() == count


def test_completing_needs_evidence_and_a_date_not_in_the_future(w):
    _a, _c, (action,) = held_with_actions(w)
    owner = w.as_(w.team_manager)
    with pytest.raises(ValidationError) as exc:
        moderation.complete_action(owner, action.id, "  ", completed_on=D(2026, 11, 25))
    assert field_messages(exc.value) == {
        "evidence": ["is required: what shows it is done"],
        "completed_on": ["is in the future"]}
    assert loop_store.get_action(w.conn, action.id).status is ActionStatus.OPEN


def test_someone_elses_action_needs_a_service_manager_or_administrator(w):
    _a, _c, (action,) = held_with_actions(w)
    for session in (w.auditor, w.mod):
        with pytest.raises(PermissionDenied, match="can complete someone else's action"):
            moderation.complete_action(session, action.id, "Done.")
    moderation.complete_action(w.sm, action.id, "Confirmed with the team manager.")
    assert loop_store.get_action(w.conn, action.id).status is ActionStatus.DONE
    with pytest.raises(NotFound, match="no remedial action with id 999"):
        moderation.complete_action(w.sm, 999, "x")


def test_an_action_no_longer_needed_is_closed_with_a_reason(w):
    _a, _c, (action,) = held_with_actions(w)
    for reason in ("", "  ", None):
        with pytest.raises(ValidationError) as exc:
            moderation.action_not_needed(w.sm, action.id, reason)
        assert field_messages(exc.value) == {"reason": ["a reason is required"]}
    with pytest.raises(PermissionDenied, match="can close actions as no longer needed"):
        moderation.action_not_needed(w.as_(w.team_manager), action.id, "Moved away.")
    with pytest.raises(NotFound):
        moderation.action_not_needed(w.sm, 999, "x")
    moderation.action_not_needed(w.as_(w.org.manager, D(2026, 12, 2)), action.id,
                                 " The family moved away. ")
    closed = loop_store.get_action(w.conn, action.id)
    assert (closed.status, closed.status_reason, closed.completed_on) == (
        ActionStatus.NOT_NEEDED, "The family moved away.", D(2026, 12, 2))
    last = trail_store.entries_for(w.conn, "remedial_actions", action.id)[-1]
    assert (last.kind, last.reason) == ("not-needed", "The family moved away.")
    with pytest.raises(ValidationError, match="already no longer needed"):
        moderation.complete_action(w.sm, action.id, "Done.")


def test_an_inactive_owner_cannot_complete_their_action(w):
    _a, _c, (action,) = held_with_actions(w)
    org_service.update_staff(w.admin, w.team_manager, active=False)
    with pytest.raises(PermissionDenied, match="inactive"):
        moderation.complete_action(w.as_(w.team_manager), action.id, "Done.")


# -- loops: stages, ages, closing -----------------------------------------------------------------
def test_a_loop_goes_through_every_stage_to_closed(w):
    def loop_on(day):
        (loop,) = moderation.loops(w.as_(w.admin.actor.id, day))
        return loop.stage, loop.overdue, loop.age_days

    audit_id = w.submit(I, case_reference="LCS-555555")
    assert loop_on(TODAY) == ("awaiting moderation", False, 0)
    assert loop_on(D(2026, 12, 1)) == ("awaiting moderation", False, 7)  # due today
    assert loop_on(D(2026, 12, 2)) == ("awaiting moderation", True, 8)
    moderation.moderate(w.as_(w.moderator, D(2026, 12, 2)), w.pending(audit_id).id, I)
    (conversation,) = loop_store.conversations_for_audit(w.conn, audit_id)
    assert conversation.due_date == D(2026, 12, 16)
    assert loop_on(D(2026, 12, 2)) == ("awaiting reflective conversation", False, 8)
    assert loop_on(D(2026, 12, 17)) == ("awaiting reflective conversation", True, 23)
    moderation.hold_conversation(
        w.as_(w.org.manager, D(2026, 12, 10)), conversation.id, held_on=D(2026, 12, 10),
        participants=["worker", "team manager"], learning="Nobody owned the plan.",
        actions=[ActionInput("Review the plan.", w.team_manager, D(2026, 12, 18)),
                 ActionInput("Refresh the chronology.", w.team_manager, D(2027, 1, 15))])
    assert loop_on(D(2026, 12, 10)) == ("actions open", False, 16)
    assert loop_on(D(2026, 12, 21)) == ("actions open", True, 27)
    first, second = loop_store.actions_for_audit(w.conn, audit_id)
    moderation.complete_action(w.as_(w.team_manager, D(2026, 12, 21)), first.id,
                               "Review held.")
    assert loop_on(D(2026, 12, 21)) == ("actions open", False, 27)
    moderation.action_not_needed(w.as_(w.org.manager, D(2026, 12, 22)), second.id,
                                 "Case transferred.")
    # Closed: its age is fixed at the day it closed.
    assert loop_on(D(2027, 3, 1)) == ("closed", False, 28)
    (loop,) = moderation.loops(w.admin)
    assert (loop.case_reference, loop.team, loop.service_area, loop.started) == (
        "LCS-555555", "CP Team 1", "Child Protection", TODAY)
    assert loop.improved is None
    assert verify_store(w.store).ok


def test_a_loop_without_actions_closes_when_the_conversation_is_held(w):
    _a, conversation = moderated_to_conversation(w)
    moderation.hold_conversation(w.sm, conversation.id, held_on=TODAY, participants=["worker"],
                                 learning="Learnt.")
    (loop,) = moderation.loops(w.sm)
    assert loop.stage == "closed"


def test_loops_are_filtered_by_audit_date(w):
    w.submit(I, audit_date=D(2026, 10, 1), case_reference="LCS-100010")
    w.submit(I, audit_date=D(2026, 11, 2), case_reference="LCS-100011")
    w.submit(RI, audit_date=D(2026, 11, 3), case_reference="LCS-100012")  # not a loop
    refs = [lp.case_reference for lp in moderation.loops(w.admin, start=D(2026, 11, 1),
                                                         end=D(2026, 11, 30))]
    assert refs == ["LCS-100011"]
    assert len(moderation.loops(w.admin)) == 2


def test_a_withdrawn_audit_is_not_a_loop(w):
    audit_id = w.submit(I)
    audit_service.withdraw_audit(w.auditor, audit_id, "Wrong case.")
    assert moderation.loops(w.admin) == []


def test_a_withdrawn_audits_moderation_leaves_the_queue(w):
    audit_id = w.submit(I)
    audit_service.withdraw_audit(w.auditor, audit_id, "Wrong case.")
    assert [q for q in moderation.queue(w.mod) if q.audit_id == audit_id] == []


# -- re-audits -----------------------------------------------------------------------------------
def reaudit_setup(w, case="LCS-100001"):
    audit_id = w.submit(I, case_reference=case, audit_date=D(2026, 11, 2))
    moderation.moderate(w.mod, w.pending(audit_id).id, I)
    (conversation,) = loop_store.conversations_for_audit(w.conn, audit_id)
    moderation.hold_conversation(
        w.sm, conversation.id, held_on=TODAY, participants=["worker"], learning="Learnt.",
        actions=[ActionInput("Visit.", w.team_manager, D(2026, 12, 1)),
                 ActionInput("Re-audit the case.", w.team_manager, D(2027, 2, 1),
                             reaudit_by=D(2027, 2, 1))])
    visit, reaudit = loop_store.actions_for_audit(w.conn, audit_id)
    return audit_id, visit, reaudit


@pytest.mark.parametrize("later_grade, improved", [(RI, True), (G, True), (I, False)])
def test_a_later_audit_of_the_case_is_linked_and_compared(w, later_grade, improved):
    audit_id, visit, reaudit = reaudit_setup(w)
    assert loop_store.cases_awaiting_reaudit(w.conn) == {"LCS-100001"}
    w.submit(RI, case_reference="LCS-999999", audit_date=D(2026, 11, 20))  # another case
    earlier = w.submit(RI, case_reference="LCS-100001", audit_date=D(2026, 10, 1))
    assert loop_store.get_action(w.conn, reaudit.id).reaudit_audit_id is None
    later = w.submit(later_grade, case_reference="LCS-100001", audit_date=D(2026, 11, 20))
    linked = loop_store.get_action(w.conn, reaudit.id)
    assert linked.reaudit_audit_id == later != earlier
    assert linked.status is ActionStatus.OPEN  # linking is not completing
    assert loop_store.get_action(w.conn, visit.id).reaudit_audit_id is None
    assert kinds(w.conn, "remedial_actions", reaudit.id) == ["create", "reaudit-linked"]
    assert loop_store.cases_awaiting_reaudit(w.conn) == set()
    # A second later audit does not replace the first.
    w.submit(G, case_reference="LCS-100001", audit_date=D(2026, 11, 23))
    assert loop_store.get_action(w.conn, reaudit.id).reaudit_audit_id == later
    loop = next(lp for lp in moderation.loops(w.admin) if lp.audit_id == audit_id)
    assert (loop.original_grade, loop.reaudit_grade, loop.improved) == (I, later_grade,
                                                                        improved)


def test_a_draft_reaudit_is_linked_when_submitted(w):
    _audit_id, _visit, reaudit = reaudit_setup(w)
    draft = audit_service.create_audit(w.auditor, w.make_input(
        case_reference="LCS-100001", audit_date=D(2026, 11, 20), overall_grade=RI)).record_id
    assert loop_store.get_action(w.conn, reaudit.id).reaudit_audit_id is None
    audit_service.submit_audit(w.auditor, draft)
    assert loop_store.get_action(w.conn, reaudit.id).reaudit_audit_id == draft


def test_improvement_is_measured_from_the_moderated_grade(w):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    audit_id = w.submit(RI, audit_date=D(2026, 11, 2))
    moderation.moderate(w.mod, w.pending(audit_id).id, I, reason="Not seen alone.")
    set_setting(w.store, w.admin, "calibration_rate", 0.0)
    (conversation,) = loop_store.conversations_for_audit(w.conn, audit_id)
    moderation.hold_conversation(
        w.sm, conversation.id, held_on=TODAY, participants=["worker"], learning="Learnt.",
        actions=[ActionInput("Re-audit.", w.team_manager, D(2027, 2, 1),
                             reaudit_by=D(2027, 2, 1))])
    w.submit(RI, audit_date=D(2026, 11, 20))
    (loop,) = moderation.loops(w.admin)
    assert loop.reaudit_grade is RI
    assert loop.original_grade is I
    assert loop.improved is True


# -- a grade edited after flagging ---------------------------------------------------------------
def test_a_moderator_cannot_silently_undo_an_edit_made_after_flagging(w):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    audit_id = w.submit(RI)
    calibration_check = w.pending(audit_id)
    audit_service.update_audit(w.auditor, audit_id, w.make_input(overall_grade=I),
                               reason="The child was not seen.")
    with pytest.raises(ValidationError, match="reason"):
        moderation.moderate(w.mod, calibration_check.id, RI)


def test_an_edit_to_inadequate_after_a_calibration_flag_flags_it_as_inadequate_too(w):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    audit_id = w.submit(RI)
    audit_service.update_audit(w.auditor, audit_id, w.make_input(overall_grade=I),
                               reason="The child was not seen.")
    # The pending calibration check becomes the inadequate check (one moderation, not two),
    # and the trail says why it changed.
    (flag,) = loop_store.moderations_for_audit(w.conn, audit_id)
    assert flag.flagged_because == "inadequate" and flag.original_grade is I
    kinds = [r[0] for r in w.conn.execute(
        "SELECT kind FROM trail WHERE table_name = 'moderations' AND record_id = ?",
        (flag.id,))]
    assert kinds == ["flag", "regraded"]


# -- the queue -----------------------------------------------------------------------------------
def test_the_queue_shows_each_stage_oldest_first_and_whose_it_is(w):
    own = w.as_(w.qa_moderator)
    mine_to_audit = w.submit(I, by=own, auditor_id=w.qa_moderator, case_reference="LCS-100020")
    audit_id, _c, (action,) = held_with_actions(w)
    _a2, conversation = moderated_to_conversation(w)
    items = moderation.queue(w.admin)
    assert [i.stage for i in items] == ["moderation", "conversation", "action"]
    assert items[0].audit_id == mine_to_audit and not items[0].overdue
    assert items[0].detail == "Inadequate: graded inadequate by Quinn Qamod"
    assert items[1].item_id == conversation.id and items[1].service_manager_id == w.org.manager
    assert items[2].item_id == action.id and items[2].owner_id == w.team_manager
    assert [i.stage for i in moderation.queue(own, mine=True)] == []  # own audit, not mine
    assert [i.stage for i in moderation.queue(w.mod, mine=True)] == ["moderation"]
    assert [i.stage for i in moderation.queue(w.sm, mine=True)] == ["conversation", "action"]
    assert [i.stage for i in moderation.queue(w.as_(w.team_manager), mine=True)] == ["action"]
    later = w.as_(w.admin.actor.id, D(2026, 12, 11))
    overdue = moderation.queue(later, overdue_only=True)
    assert [(i.stage, i.waiting_days) for i in overdue] == [
        ("moderation", 17), ("conversation", 3), ("action", 1)]


# -- calibration sample --------------------------------------------------------------------------
def test_the_calibration_draw_is_reproducible():
    assert moderation.calibration_draw(42, 7) == moderation.calibration_draw(42, 7)
    assert moderation.calibration_draw(42, 7) != moderation.calibration_draw(43, 7)
    assert moderation.calibration_draw(42, 7) != moderation.calibration_draw(42, 8)
    assert 0 <= moderation.calibration_draw(42, 7) < 1


@pytest.mark.parametrize("rate", [0.10, 0.25])
def test_the_calibration_sample_takes_its_share_and_can_be_checked(w, rate):
    set_setting(w.store, w.admin, "calibration_rate", rate)
    seed = 987654321
    set_setting(w.store, w.admin, "calibration_seed", seed)
    n = 2000
    inputs = [w.make_input(case_reference=f"LCS-{300000 + k}",
                           overall_grade=RI if k % 2 else G) for k in range(n)]
    ids = audit_service.add_audits(w.admin, inputs).record_ids
    flagged = {m[0]: m for m in w.conn.execute(
        "SELECT audit_id, flagged_because, selection, due_date, draw_method FROM moderations")}
    share = len(flagged) / n
    # Binomial sd at 10% of 2,000 is 0.7 points; at 25%, 1.0 point.
    assert abs(share - rate) < 0.03, share
    assert {m[1] for m in flagged.values()} == {"calibration"}
    for audit_id in ids:
        draw = moderation.calibration_draw(seed, audit_id)
        assert (audit_id in flagged) == (draw < rate)
        if audit_id in flagged:
            # The selection recorded on the moderation lets anyone recompute the choice.
            # (with the method recorded beside it: new draws use the current one)
            selection = json.loads(flagged[audit_id][2])
            assert selection == {"draw": draw, "rate": rate, "seed": seed}
            assert flagged[audit_id][4] == moderation.DRAW_METHOD == 2
            assert moderation.calibration_draw(selection["seed"], audit_id,
                                               flagged[audit_id][4]) == \
                selection["draw"] < selection["rate"]
            assert moderation.draw_is_sound(audit_id, selection, flagged[audit_id][4])
    # Both grades are sampled alike.
    by_grade = {g: sum(1 for a in ids if a in flagged and
                       audit_store.get(w.conn, a).overall_grade is g) for g in (RI, G)}
    assert all(v > n * rate / 2 * 0.7 for v in by_grade.values()), by_grade


def test_inadequate_audits_are_never_in_the_calibration_sample(w):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    audit_id = w.submit(I)
    (m,) = loop_store.moderations_for_audit(w.conn, audit_id)
    assert m.flagged_because == "inadequate" and m.selection is None


# -- calibration view and weighted kappa ---------------------------------------------------------
CATS = ["inadequate", "requires_improvement", "good"]


def pairs_from(table):
    return [(CATS[i], CATS[j]) for i, row in enumerate(table) for j, n in enumerate(row)
            for _ in range(n)]


def test_weighted_kappa_against_a_worked_example():
    # Auditor (rows) against moderator (columns), worst first, n = 100:
    #             I   RI   G  | row
    #   I        20    5   0  |  25
    #   RI       10   30   5  |  45
    #   G         0    5  25  |  30
    #   col      30   40  30
    # Linear disagreement weights |i - j| / 2: 0 on the diagonal, 0.5 next to it, 1 at the
    # corners.
    # Observed:  0.5 x (5 + 10 + 5 + 5) + 1 x (0 + 0) = 12.5, / 100 = 0.125.
    # Expected (row x col / n^2):  0.5 x (25x40 + 45x30 + 45x30 + 30x40) = 0.5 x 4900 = 2450,
    #   plus 1 x (25x30 + 30x30) = 1650; (2450 + 1650) / 10000 = 0.41.
    # Kappa = 1 - 0.125 / 0.41 = 0.69512...
    table = [[20, 5, 0], [10, 30, 5], [0, 5, 25]]
    assert round(weighted_kappa(pairs_from(table), CATS), 3) == 0.695
    # Quadratic weights (0, 0.25, 1): observed 0.25 x 25 / 100 = 0.0625;
    # expected (0.25 x 4900 + 1650) / 10000 = 0.2875; kappa = 1 - 0.0625/0.2875 = 0.78261.
    assert round(weighted_kappa(pairs_from(table), CATS, weights="quadratic"), 3) == 0.783


def test_weighted_kappa_bounds():
    assert weighted_kappa(pairs_from([[10, 0, 0], [0, 7, 0], [0, 0, 3]]), CATS) == 1.0
    # Independence: every cell is row total x column total / n, so kappa is 0.
    independent = [[10, 5, 5], [20, 10, 10], [10, 5, 5]]
    assert weighted_kappa(pairs_from(independent), CATS) == pytest.approx(0.0, abs=1e-12)
    # Systematic disagreement is worse than chance.
    assert weighted_kappa(pairs_from([[0, 0, 5], [0, 0, 0], [5, 0, 0]]), CATS) < 0
    assert weighted_kappa([], CATS) is None
    assert weighted_kappa([("good", "good")], ["good"]) is None  # one category: nothing
    # Everyone in one category of several: no disagreement possible, agreement is perfect.
    assert weighted_kappa([("good", "good")] * 4, CATS) == 1.0


def test_the_calibration_view_counts_directions_and_kappa(w):
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    outcomes = [(I, I), (I, I), (I, RI), (RI, I), (RI, RI), (G, RI), (G, G)]
    for n, (original, moderated) in enumerate(outcomes):
        audit_id = w.submit(original, case_reference=f"LCS-40000{n}")
        moderation.moderate(w.as_(w.moderator, D(2026, 11, 26)), w.pending(audit_id).id,
                            moderated, reason="" if original is moderated else "Because.")
    cal = moderation.calibration(w.admin)
    assert (cal.moderated, cal.confirmed, cal.upgraded, cal.downgraded) == (7, 4, 1, 2)
    assert cal.table == {"inadequate": {"inadequate": 2, "requires_improvement": 1},
                         "requires_improvement": {"inadequate": 1,
                                                  "requires_improvement": 1},
                         "good": {"requires_improvement": 1, "good": 1}}
    order = ["outstanding", "good", "requires_improvement", "inadequate"]
    assert cal.kappa == pytest.approx(weighted_kappa(
        [(o.value, m.value) for o, m in outcomes], order))
    assert cal.median_working_days == 2  # flagged Tuesday, moderated Thursday
    assert cal.by_auditor["Alex Auditor"]["moderated"] == 7
    words = cal.plain_words()
    assert words.startswith("7 audits were moderated. Moderators agreed with the auditor's "
                            "grade in 4 (57%), raised it in 1 and lowered it in 2.")
    assert "too optimistically" in words
    assert moderation.calibration(w.admin, start=D(2026, 12, 1)).plain_words() == \
        "No audits were moderated in this period."


# -- everything together is trailed --------------------------------------------------------------
def test_the_whole_loop_is_trailed_and_verify_passes(w):
    audit_id, _visit, reaudit = reaudit_setup(w)
    w.submit(RI, case_reference="LCS-100001", audit_date=D(2026, 11, 20))
    moderation.complete_action(w.as_(w.team_manager), reaudit.id, "Re-audited.")
    moderation.action_not_needed(w.sm, _visit.id, "Overtaken by events.")
    set_setting(w.store, w.admin, "calibration_rate", 1.0)
    other = w.submit(G, case_reference="LCS-100002")
    moderation.moderate(w.mod, w.pending(other).id, RI, reason="Optimistic.")
    report = verify_store(w.store)
    assert report.ok, report.lines()
    tables = {r[0] for r in w.conn.execute("SELECT DISTINCT table_name FROM trail")}
    assert {"moderations", "reflective_conversations", "remedial_actions"} <= tables
    (loop,) = [lp for lp in moderation.loops(w.admin) if lp.audit_id == audit_id]
    assert loop.stage == "closed" and loop.improved is True


# -- gaps found while writing these tests, now closed ------------------------------------------
def test_an_unknown_facilitator_is_refused_plainly(w):
    _a, conversation = moderated_to_conversation(w)
    with pytest.raises(ValidationError, match="facilitator"):
        moderation.hold_conversation(w.sm, conversation.id, held_on=TODAY,
                                     participants=["worker"], learning="Learnt.",
                                     facilitator_id=99999)


def test_the_facilitator_must_be_a_service_manager_or_administrator(w):
    _a, conversation = moderated_to_conversation(w)
    with pytest.raises(ValidationError, match="facilitator"):
        moderation.hold_conversation(w.sm, conversation.id, held_on=TODAY,
                                     participants=["worker"], learning="Learnt.",
                                     facilitator_id=w.org.auditor)


def test_add_action_checks_the_conversation(w):
    audit_id, conversation = moderated_to_conversation(w)
    other = w.submit(I, case_reference="LCS-100099")
    for bad in (99999, conversation.id):
        target = audit_id if bad == 99999 else other
        with pytest.raises((ValidationError, NotFound)):
            moderation.add_action(w.sm, target, ActionInput("x", w.team_manager, TODAY),
                                  conversation_id=bad)


def test_an_action_cannot_be_completed_before_it_was_agreed(w):
    _a, _c, (action,) = held_with_actions(w)
    with pytest.raises(ValidationError, match="completed_on"):
        moderation.complete_action(w.as_(w.team_manager), action.id, "Done.",
                                   completed_on=D(2020, 1, 1))


def test_a_withdrawn_audit_cannot_be_moderated(w):
    audit_id = w.submit(I)
    pending = w.pending(audit_id).id
    audit_service.withdraw_audit(w.auditor, audit_id, "Wrong case.")
    with pytest.raises(ValidationError):  # withdrawing cancelled it
        moderation.moderate(w.mod, pending, I)
    assert loop_store.conversations_for_audit(w.conn, audit_id) == []
