"""The moderation loop: flag, moderate, hold a reflective conversation, follow actions up,
re-audit, close. Every step checks the person's role, validates, writes in one transaction
and is recorded in the trail. Deadlines are in working days (England and Wales)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from sefton_qa.domain.errors import FieldProblem, NotFound, PermissionDenied, ValidationError
from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.domain.models import (
    PARTICIPANT_ROLES,
    ActionInput,
    ActionStatus,
    AuditStatus,
    Change,
    ConversationStatus,
    ModerationStatus,
    Role,
)
from sefton_qa.domain.stats import kappa_words, weighted_kappa
from sefton_qa.domain.text import clean_line
from sefton_qa.domain.working_days import WorkingCalendar, is_overdue
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import grades as grade_store
from sefton_qa.store import loop as loop_store
from sefton_qa.store import moderations as moderation_bulk
from sefton_qa.store import records
from sefton_qa.store import sql as sql_help
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store
from sefton_qa.domain.wording import date_text

MODERATORS = (Role.MODERATOR,)
FACILITATORS = (Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
MAX_TEXT = 20_000


@dataclass(frozen=True)
class LoopSettings:
    calibration_rate: float
    calibration_seed: int
    moderation_days: int
    conversation_days: int
    calendar: WorkingCalendar


def loop_settings(conn) -> LoopSettings:
    values = settings_store.get_all(conn)
    closures = [dt.date.fromisoformat(d) for d in values.get("closure_days", [])]
    return LoopSettings(
        calibration_rate=float(values.get("calibration_rate", 0.10)),
        calibration_seed=int(values.get("calibration_seed", 0)),
        moderation_days=int(values.get("moderation_working_days", 5)),
        conversation_days=int(values.get("conversation_working_days", 10)),
        calendar=WorkingCalendar(closures))


#: The calibration draw's methods, by the version recorded with each draw (the moderation's
#: ``draw_method``). New draws use :data:`DRAW_METHOD`; older ones stay checkable by theirs.
DRAW_METHODS = (1, 2)
DRAW_METHOD = 2


def calibration_draw(seed: int, audit_id: int, method: int = DRAW_METHOD) -> float:
    """The audit's own random number in [0, 1) for the calibration sample: reproducible from
    the recorded seed and method, so anyone can check the choice was fair.

    Method 2 (new draws): BLAKE2b keyed with the store's seed over the audit id, its first 53
    bits as a fraction. Method 1 (draws before schema step 0009): ``random.Random`` seeded
    with the seed and the audit id (about ten times slower: it seeds a Mersenne Twister per
    audit).
    """
    if method == 2:
        digest = hashlib.blake2b(b"%d" % audit_id, key=b"%d" % seed, digest_size=8,
                                 person=b"sefton-qa-calib").digest()
        return (int.from_bytes(digest, "big") >> 11) * _TWO_TO_MINUS_53
    if method == 1:
        return random.Random(f"sefton-qa-calibration:{seed}:{audit_id}").random()
    raise ValueError(f"calibration draw method {method!r} is unknown to this version")


_TWO_TO_MINUS_53 = 2.0 ** -53


def draw_is_sound(audit_id: int, selection: dict, method: int | None) -> bool:
    """Whether a recorded calibration draw is what its seed and method give, and under the
    recorded rate (an audit sampled fairly)."""
    if method not in DRAW_METHODS or not isinstance(selection, dict):
        return False
    try:
        draw = calibration_draw(int(selection["seed"]), audit_id, method)
        return draw == selection["draw"] and draw < float(selection["rate"])
    except (KeyError, TypeError, ValueError):
        return False


# -- flagging -----------------------------------------------------------------------------------
def flag_submitted(session: Session, audit_ids: Sequence[int]) -> int:
    """Flag newly submitted audits for moderation (every inadequate one; a random share of
    the rest for calibration) and link any re-audit they answer. Runs inside the caller's
    transaction. Returns the number of moderations flagged."""
    conn = session.store.conn
    if not audit_ids:
        return 0
    # Everything this reads, in one round trip on a server (the moderations' next id too).
    settings, info, existing, awaiting, first = sql_help.read_ahead(conn, lambda c: (
        loop_settings(c), audit_store.flag_info(c, audit_ids),
        loop_store.audits_with_moderation(c, audit_ids), loop_store.cases_awaiting_reaudit(c),
        records.next_id(c, "moderations")))
    today = session.today()
    due = settings.calendar.add(today, settings.moderation_days).isoformat()
    rows = []
    submitted, inadequate = AuditStatus.SUBMITTED.value, Grade.INADEQUATE.value
    seed, rate = settings.calibration_seed, settings.calibration_rate
    flagged_on, pending = today.isoformat(), ModerationStatus.PENDING.value
    for audit_id, status, grade, _case, _date in info:
        if status != submitted or grade is None or audit_id in existing:
            continue
        if grade == inadequate:
            because, selection, method = "inadequate", None, None
        else:
            draw = calibration_draw(seed, audit_id)  # (most are not drawn: nothing built)
            if draw >= rate:
                continue
            because, method = "calibration", DRAW_METHOD
            selection = f'{{"draw":{draw!r},"rate":{rate!r},"seed":{seed}}}'
        rows.append({"audit_id": audit_id, "flagged_on": flagged_on, "due_date": due,
                     "original_grade": grade, "status": pending, "section_comments": "{}",
                     "flagged_because": because, "selection": selection,
                     "draw_method": method})
    moderation_bulk.insert_many(conn, rows, who=session.who, kind="flag", first=first)
    for audit_id, status, _grade, case_reference, audit_date in info:
        if case_reference in awaiting and audit_date and status == AuditStatus.SUBMITTED.value:
            for action in loop_store.open_reaudit_actions(conn, case_reference,
                                                          dt.date.fromisoformat(audit_date)):
                loop_store.update_action(conn, action.id, {"reaudit_audit_id": audit_id},
                                         who=session.who, kind="reaudit-linked")
    return len(rows)


def refresh_flag_after_edit(session: Session, audit_id: int) -> None:
    """A submitted audit whose grade was edited to inadequate is flagged if it is not yet."""
    conn = session.store.conn
    audit, flags = sql_help.read_ahead(conn, lambda c: (
        audit_store.get(c, audit_id), loop_store.moderations_for_audit(c, audit_id)),
        later=lambda c: records.linked_values(c, "audits", audit_id))  # (its themes)
    if audit is None or audit.status is not AuditStatus.SUBMITTED:
        return
    open_flags = [m for m in flags
                  if m.flagged_because == "inadequate" and
                  m.status is not ModerationStatus.CANCELLED]
    for m in flags:
        if m.status is ModerationStatus.PENDING and m.original_grade is not audit.overall_grade:
            values = {"original_grade": audit.overall_grade.value if audit.overall_grade
                      else None}
            if audit.overall_grade is Grade.INADEQUATE and not open_flags:
                values["flagged_because"] = "inadequate"  # a calibration check becomes a must
                open_flags = [m]
            loop_store.update_moderation(conn, m.id, values, who=session.who, kind="regraded",
                                         reason="The audit's grade was edited")
    if audit.overall_grade is Grade.INADEQUATE and not open_flags:
        settings = loop_settings(conn)
        today = session.today()
        loop_store.insert_moderation(conn, {
            "audit_id": audit_id, "flagged_because": "inadequate",
            "flagged_on": today.isoformat(),
            "due_date": settings.calendar.add(today, settings.moderation_days).isoformat(),
            "original_grade": audit.overall_grade.value, "status": "pending"}, who=session.who)


# -- moderating ---------------------------------------------------------------------------------
def moderate(session: Session, moderation_id: int, grade: Grade, *, reason: str = "",
             section_comments: dict[str, str] | None = None,
             expected_version: int | None = None) -> Change:
    """Confirm the grade or change it (a reason is then required). If the grade ends
    inadequate, a reflective conversation becomes due with the team's service manager."""
    session.require(*MODERATORS, doing="moderate audits")
    with session.store.transaction() as conn:
        moderation = loop_store.get_moderation(conn, moderation_id)
        if moderation is None:
            raise NotFound(f"There is no moderation with id {moderation_id}.")
        if moderation.status is not ModerationStatus.PENDING:
            raise ValidationError.single("status", "this moderation is already "
                                                   f"{moderation.status.value}")
        audit = audit_store.get(conn, moderation.audit_id)
        if audit.status is not AuditStatus.SUBMITTED:
            raise ValidationError.single("status", f"this audit is {audit.status.label.lower()}"
                                                   "; only submitted audits are moderated")
        if audit.auditor_id == session.actor.id:
            raise PermissionDenied("A moderator is never the audit's own auditor: ask another "
                                   "moderator to check this grade.")
        problems = []
        if grade not in grade_store.active(conn):
            problems.append(FieldProblem("grade", f'"{grade.label}" is not on the grade scale'))
        changed = grade is not audit.overall_grade
        reason = clean_line(reason)
        if changed and not reason:
            problems.append(FieldProblem("reason", "a reason is required when the grade is "
                                                   "changed"))
        comments = {k: clean_line(v) for k, v in (section_comments or {}).items()
                    if clean_line(v)}
        if len(reason) > MAX_TEXT:
            problems.append(FieldProblem("reason", f"is longer than {MAX_TEXT:,} characters"))
        for key, text in comments.items():
            if len(text) > MAX_TEXT:
                problems.append(FieldProblem(f"section:{key}",
                                             f"is longer than {MAX_TEXT:,} characters"))
        if problems:
            raise ValidationError(problems)
        today = session.today()
        loop_store.update_moderation(conn, moderation_id, {
            "status": ModerationStatus.DONE.value, "moderator_id": session.actor.id,
            "moderated_grade": grade.value, "moderation_date": today.isoformat(),
            "reason": reason or None, "section_comments": comments},
            who=session.who, kind="moderate", reason=reason or None,
            expected_version=expected_version)
        if audit.overall_grade is not grade:
            audit_store.update(conn, audit.id, {"overall_grade": grade.value}, who=session.who,
                               kind="moderation",
                               reason=f"Moderated from {audit.overall_grade.label} to "
                                      f"{grade.label}: {reason}")
        if grade is Grade.INADEQUATE and not loop_store.conversations_for_audit(conn, audit.id):
            settings = loop_settings(conn)
            team = team_store.get(conn, audit.team_id) if audit.team_id else None
            loop_store.insert_conversation(conn, {
                "audit_id": audit.id, "moderation_id": moderation_id,
                "service_manager_id": team.service_manager_id if team else None,
                "due_date": settings.calendar.add(today, settings.conversation_days).isoformat(),
                "participants": "[]", "learning": "", "status": "due"}, who=session.who)
    return Change("moderations", (moderation_id,), "moderate")


# -- reflective conversations and actions -------------------------------------------------------
def _action_problems(conn, actions: Iterable[ActionInput], *, earliest: dt.date,
                     prefix: str = "") -> list[FieldProblem]:
    problems = []
    for n, action in enumerate(actions, start=1):
        label = f"{prefix}action {n}"
        description = clean_line(action.description)
        if not description:
            problems.append(FieldProblem(f"{label} description", "is required"))
        elif len(description) > MAX_TEXT:
            problems.append(FieldProblem(f"{label} description", "is too long"))
        owner = staff_store.get(conn, action.owner_id) if action.owner_id else None
        if owner is None:
            problems.append(FieldProblem(f"{label} owner", "is required"))
        elif not owner.active:
            problems.append(FieldProblem(f"{label} owner", f"{owner.display_name} is not an "
                                                           "active member of staff"))
        if action.due_date is None:
            problems.append(FieldProblem(f"{label} due date", "is required"))
        elif action.due_date < earliest:
            problems.append(FieldProblem(f"{label} due date", f"is before {date_text(earliest)}"))
        if action.reaudit_by is not None and action.reaudit_by < earliest:
            problems.append(FieldProblem(f"{label} re-audit by",
                                         f"is before {date_text(earliest)}"))
    return problems


def _insert_actions(session: Session, audit_id: int, conversation_id: int | None,
                    actions: Iterable[ActionInput]) -> list[int]:
    conn = session.store.conn
    return [loop_store.insert_action(conn, {
        "audit_id": audit_id, "conversation_id": conversation_id,
        "description": clean_line(a.description), "owner_id": a.owner_id,
        "due_date": a.due_date.isoformat(), "status": ActionStatus.OPEN.value,
        "evidence": "", "reaudit_by": a.reaudit_by.isoformat() if a.reaudit_by else None},
        who=session.who) for a in actions]


def hold_conversation(session: Session, conversation_id: int, *, held_on: dt.date,
                      participants: Sequence[str], learning: str,
                      actions: Sequence[ActionInput] = (), facilitator_id: int | None = None,
                      expected_version: int | None = None) -> Change:
    """Record a reflective conversation: when, who took part (by role), the learning in plain
    words, and the remedial actions agreed."""
    session.require(*FACILITATORS, doing="record reflective conversations")
    with session.store.transaction() as conn:
        conversation = loop_store.get_conversation(conn, conversation_id)
        if conversation is None:
            raise NotFound(f"There is no reflective conversation with id {conversation_id}.")
        if conversation.status is not ConversationStatus.DUE:
            raise ValidationError.single("status", "this conversation is already "
                                                   f"{conversation.status.value}")
        audit = audit_store.get(conn, conversation.audit_id)
        problems = []
        if held_on > session.today():
            problems.append(FieldProblem("held_on", f"{date_text(held_on)} is in the future"))
        elif audit.audit_date and held_on < audit.audit_date:
            problems.append(FieldProblem("held_on", "is before the audit"))
        unknown = [p for p in participants if p not in PARTICIPANT_ROLES]
        if not participants:
            problems.append(FieldProblem("participants", "say who took part (by role)"))
        elif unknown:
            problems.append(FieldProblem("participants", f"unknown role(s): {', '.join(unknown)}"
                                                         f" (use {', '.join(PARTICIPANT_ROLES)})"))
        learning = clean_line(learning)
        if not learning:
            problems.append(FieldProblem("learning", "is required: what was learnt, in plain "
                                                     "words"))
        elif len(learning) > MAX_TEXT:
            problems.append(FieldProblem("learning", f"is longer than {MAX_TEXT:,} characters"))
        if facilitator_id is not None:
            facilitator = staff_store.get(conn, facilitator_id)
            if facilitator is None:
                problems.append(FieldProblem("facilitator", f"there is no member of staff with "
                                                            f"id {facilitator_id}"))
            elif not facilitator.active or not any(facilitator.has_role(r)
                                                   for r in FACILITATORS):
                problems.append(FieldProblem("facilitator", f"{facilitator.display_name} is not "
                                                            "an active service manager"))
        problems += _action_problems(conn, actions, earliest=held_on)
        if problems:
            raise ValidationError(problems)
        loop_store.update_conversation(conn, conversation_id, {
            "status": ConversationStatus.HELD.value, "held_on": held_on.isoformat(),
            "facilitator_id": facilitator_id or session.actor.id,
            "participants": sorted(set(participants), key=PARTICIPANT_ROLES.index),
            "learning": learning}, who=session.who, kind="held",
            expected_version=expected_version)
        _insert_actions(session, audit.id, conversation_id, actions)
    return Change("reflective_conversations", (conversation_id,), "held")


def add_action(session: Session, audit_id: int, action: ActionInput, *,
               conversation_id: int | None = None) -> Change:
    session.require(*FACILITATORS, doing="agree remedial actions")
    with session.store.transaction() as conn:
        if audit_store.get(conn, audit_id) is None:
            raise NotFound(f"There is no audit with id {audit_id}.")
        if conversation_id is not None:
            conversation = loop_store.get_conversation(conn, conversation_id)
            if conversation is None or conversation.audit_id != audit_id:
                raise ValidationError.single("conversation", "is not a reflective conversation "
                                                             "about this audit")
        problems = _action_problems(conn, [action], earliest=session.today())
        if problems:
            raise ValidationError(problems)
        (new_id,) = _insert_actions(session, audit_id, conversation_id, [action])
    return Change("remedial_actions", (new_id,), "create")


def complete_action(session: Session, action_id: int, evidence: str, *,
                    completed_on: dt.date | None = None,
                    expected_version: int | None = None) -> Change:
    """Mark an action done, with evidence. Its owner, a service manager or an administrator."""
    with session.store.transaction() as conn:
        action = loop_store.get_action(conn, action_id)
        if action is None:
            raise NotFound(f"There is no remedial action with id {action_id}.")
        if not session.actor.active:
            raise PermissionDenied(f"{session.actor.display_name}'s account is inactive.")
        if action.owner_id != session.actor.id:
            session.require(*FACILITATORS, doing="complete someone else's action")
        if action.status is not ActionStatus.OPEN:
            raise ValidationError.single("status", f"this action is already "
                                                   f"{action.status.label.lower()}")
        completed_on = completed_on or session.today()
        problems = []
        evidence = clean_line(evidence)
        if not evidence:
            problems.append(FieldProblem("evidence", "is required: what shows it is done"))
        elif len(evidence) > MAX_TEXT:
            problems.append(FieldProblem("evidence", f"is longer than {MAX_TEXT:,} characters"))
        if completed_on > session.today():
            problems.append(FieldProblem("completed_on", "is in the future"))
        conversation = (loop_store.get_conversation(conn, action.conversation_id)
                        if action.conversation_id else None)
        agreed = (conversation.held_on if conversation and conversation.held_on
                  else audit_store.get(conn, action.audit_id).audit_date)
        if agreed and completed_on < agreed:
            problems.append(FieldProblem("completed_on", f"is before the action was agreed "
                                                         f"({date_text(agreed)})"))
        if problems:
            raise ValidationError(problems)
        loop_store.update_action(conn, action_id, {
            "status": ActionStatus.DONE.value, "evidence": evidence,
            "completed_on": completed_on.isoformat()}, who=session.who, kind="done",
            expected_version=expected_version)
    return Change("remedial_actions", (action_id,), "done")


def action_not_needed(session: Session, action_id: int, reason: str, *,
                      expected_version: int | None = None) -> Change:
    session.require(*FACILITATORS, doing="close actions as no longer needed")
    reason = clean_line(reason)
    if not reason:
        raise ValidationError.single("reason", "a reason is required")
    with session.store.transaction() as conn:
        action = loop_store.get_action(conn, action_id)
        if action is None:
            raise NotFound(f"There is no remedial action with id {action_id}.")
        if action.status is not ActionStatus.OPEN:
            raise ValidationError.single("status", "only an open action can be closed")
        loop_store.update_action(conn, action_id, {
            "status": ActionStatus.NOT_NEEDED.value, "status_reason": reason,
            "completed_on": session.today().isoformat()}, who=session.who, kind="not-needed",
            reason=reason, expected_version=expected_version)
    return Change("remedial_actions", (action_id,), "not-needed")


# -- where each loop stands --------------------------------------------------------------------
STAGES = ("awaiting moderation", "awaiting reflective conversation", "actions open", "closed")


@dataclass
class Loop:
    audit_id: int
    case_reference: str
    team: str
    service_area: str
    audit_date: dt.date
    stage: str
    started: dt.date  # when the loop began (flagged)
    age_days: int  # calendar days from start to today (or to closing)
    overdue: bool
    reaudit_grade: Grade | None = None
    original_grade: Grade | None = None
    detail: list[str] = field(default_factory=list)

    @property
    def improved(self) -> bool | None:
        if self.reaudit_grade is None or self.original_grade is None:
            return None
        return self.reaudit_grade.rank > self.original_grade.rank


def loops(session: Session, *, start: dt.date | None = None,
          end: dt.date | None = None) -> list[Loop]:
    """Every tracked loop (inadequate audits) with its stage and age."""
    conn = session.store.conn
    today = session.today()
    out = []
    with session.store.snapshot():
        names = {t.id: t for t in team_store.list_all(conn)}
        from sefton_qa.store import service_areas as area_store

        areas = {a.id: a.name for a in area_store.list_all(conn)}
        for audit_id in loop_store.inadequate_audit_ids(conn, start, end):
            audit = audit_store.get(conn, audit_id)
            mods = [m for m in loop_store.moderations_for_audit(conn, audit_id)
                    if m.status is not ModerationStatus.CANCELLED]
            convs = loop_store.conversations_for_audit(conn, audit_id)
            acts = loop_store.actions_for_audit(conn, audit_id)
            flag = next((m for m in mods if m.flagged_because in ("inadequate", "imported")),
                        mods[0] if mods else None)
            started = (flag.flagged_on if flag and flag.flagged_on else audit.audit_date)
            overdue = False
            if any(m.status is ModerationStatus.PENDING for m in mods):
                stage = STAGES[0]
                overdue = any(is_overdue(m.due_date, today) for m in mods
                              if m.status is ModerationStatus.PENDING)
            elif any(c.status is ConversationStatus.DUE for c in convs):
                stage = STAGES[1]
                overdue = any(is_overdue(c.due_date, today) for c in convs
                              if c.status is ConversationStatus.DUE)
            elif any(a.status is ActionStatus.OPEN for a in acts):
                stage = STAGES[2]
                overdue = any(a.overdue(today) for a in acts)
            else:
                stage = STAGES[3]
            ended = today
            if stage == STAGES[3]:
                dates = [d for d in [*(m.moderation_date for m in mods),
                                     *(c.held_on for c in convs),
                                     *(a.completed_on for a in acts)] if d]
                ended = max(dates) if dates else today
            reaudit = None
            for a in acts:
                if a.reaudit_audit_id:
                    later = audit_store.get(conn, a.reaudit_audit_id)
                    reaudit = later.overall_grade if later else None
            # The grade that put the audit in the loop: the moderator's when they lowered it
            # to inadequate, else the auditor's.
            original = audit.overall_grade
            if flag:
                original = (flag.moderated_grade if flag.moderated_grade is Grade.INADEQUATE
                            else flag.original_grade)
            team = names.get(audit.team_id)
            out.append(Loop(audit_id=audit_id, case_reference=audit.case_reference or "",
                            team=team.name if team else "",
                            service_area=areas.get(audit.service_area_id, ""),
                            audit_date=audit.audit_date, stage=stage, started=started,
                            age_days=(ended - started).days if started else 0,
                            overdue=overdue, reaudit_grade=reaudit, original_grade=original))
    return out


@dataclass(frozen=True)
class QueueItem:
    stage: str  # moderation / conversation / action
    item_id: int
    audit_id: int
    case_reference: str
    team: str
    team_id: int | None
    detail: str
    due_date: dt.date | None
    waiting_days: int
    overdue: bool
    version: int
    service_manager_id: int | None = None
    owner_id: int | None = None
    auditor_id: int | None = None


def queue(session: Session, *, overdue_only: bool = False, mine: bool = False
          ) -> list[QueueItem]:
    """What is waiting at each stage, oldest first. ``mine``: moderations I may do (not my
    own audits), conversations for teams I manage, actions I own."""
    conn = session.store.conn
    today = session.today()
    me = session.actor.id
    items: list[QueueItem] = []
    with session.store.snapshot():
        for (mid, because, flagged_on, due, version, audit_id, case_ref, _date, area, team,
             team_id, auditor, auditor_id, grade, sm_id) in loop_store.pending_moderations(conn):
            flagged = dt.date.fromisoformat(flagged_on) if flagged_on else today
            due_date = dt.date.fromisoformat(due) if due else None
            if mine and (auditor_id == me or not session.actor.has_role(Role.MODERATOR)):
                continue
            items.append(QueueItem(
                "moderation", mid, audit_id, case_ref or "", team or "", team_id,
                f"{'Calibration check' if because == 'calibration' else 'Inadequate'}: "
                f"graded {Grade(grade).short_label.lower() if grade else 'ungraded'} by "
                f"{auditor}", due_date, (today - flagged).days,
                is_overdue(due_date, today), version, sm_id, None, auditor_id))
        for (cid, due, sm_id, version, audit_id, case_ref, _date, area, team, team_id, auditor,
             auditor_id, grade, team_sm) in loop_store.due_conversations(conn):
            due_date = dt.date.fromisoformat(due) if due else None
            if mine and sm_id != me:
                continue
            created = due_date or today
            items.append(QueueItem(
                "conversation", cid, audit_id, case_ref or "", team or "", team_id,
                "Reflective conversation due", due_date,
                max(0, (today - created).days) if is_overdue(due_date, today) else 0,
                is_overdue(due_date, today), version, sm_id, None, auditor_id))
        for (aid, description, owner_id, owner, due, reaudit_by, version, audit_id, case_ref,
             _date, area, team, team_id, auditor, auditor_id, grade,
             sm_id) in loop_store.open_actions(conn):
            due_date = dt.date.fromisoformat(due)
            if mine and owner_id != me and sm_id != me:
                continue
            items.append(QueueItem(
                "action", aid, audit_id, case_ref or "", team or "", team_id,
                f"{description} (owner: {owner or 'nobody'})", due_date,
                max(0, (today - due_date).days), is_overdue(due_date, today), version, sm_id,
                owner_id,
                auditor_id))
    if overdue_only:
        items = [i for i in items if i.overdue]
    return items


# -- calibration --------------------------------------------------------------------------------
@dataclass
class Calibration:
    moderated: int
    confirmed: int
    upgraded: int
    downgraded: int
    kappa: float | None
    median_working_days: float | None
    table: dict[str, dict[str, int]]  # auditor's grade → moderated grade → count
    by_auditor: dict[str, dict]  # name → {moderated, confirmed, upgraded, downgraded, kappa}

    def plain_words(self) -> str:
        if not self.moderated:
            return "No audits were moderated in this period."
        share = 100 * self.confirmed / self.moderated
        audits = "audit was" if self.moderated == 1 else "audits were"
        text = (f"{self.moderated} {audits} moderated. Moderators agreed with the auditor's "
                f"grade in {self.confirmed} ({share:.0f}%), raised it in {self.upgraded} and "
                f"lowered it in {self.downgraded}.")
        if self.downgraded > self.upgraded:
            text += (" More grades were lowered than raised: auditors may be grading too "
                     "optimistically.")
        elif self.upgraded > self.downgraded:
            text += " More grades were raised than lowered: auditors may be grading harshly."
        if self.kappa is not None:
            text += (f" Agreement beyond chance (weighted kappa) is {self.kappa:.2f}: "
                     f"{kappa_words(self.kappa)}.")
        return text


def calibration(session: Session, *, start: dt.date | None = None,
                end: dt.date | None = None) -> Calibration:
    conn = session.store.conn
    settings = loop_settings(conn)
    rows = loop_store.done_moderations(conn, start, end)
    order = [g.value for g in ALL_GRADES][::-1]  # worst first
    table: dict[str, dict[str, int]] = {}
    per_auditor: dict[str, list[tuple[str, str]]] = {}
    days = []
    counts = {"confirmed": 0, "upgraded": 0, "downgraded": 0}
    pairs = []
    for auditor_id, name, original, moderated, flagged_on, moderated_on, _b, _m in rows:
        if not original or not moderated:
            continue
        pairs.append((original, moderated))
        per_auditor.setdefault(name or f"#{auditor_id}", []).append((original, moderated))
        table.setdefault(original, {}).setdefault(moderated, 0)
        table[original][moderated] += 1
        diff = Grade(moderated).rank - Grade(original).rank
        counts["confirmed" if diff == 0 else "upgraded" if diff > 0 else "downgraded"] += 1
        if flagged_on and moderated_on:
            days.append(settings.calendar.between(dt.date.fromisoformat(flagged_on),
                                                  dt.date.fromisoformat(moderated_on)))
    by_auditor = {}
    for name, ps in sorted(per_auditor.items()):
        c = {"confirmed": 0, "upgraded": 0, "downgraded": 0}
        for o, m in ps:
            diff = Grade(m).rank - Grade(o).rank
            c["confirmed" if diff == 0 else "upgraded" if diff > 0 else "downgraded"] += 1
        by_auditor[name] = dict(moderated=len(ps), **c,
                                kappa=weighted_kappa(ps, order) if len(ps) > 1 else None)
    return Calibration(moderated=len(pairs), **counts,
                       kappa=weighted_kappa(pairs, order),
                       median_working_days=statistics.median(days) if days else None,
                       table=table, by_auditor=by_auditor)



def cancel_open_steps(session: Session, audit_id: int, reason: str) -> None:
    """A withdrawn audit leaves the loop: its pending moderations and due conversations are
    cancelled (inside the caller's transaction), with the reason."""
    conn = session.store.conn
    for m in loop_store.moderations_for_audit(conn, audit_id):
        if m.status is ModerationStatus.PENDING:
            loop_store.update_moderation(conn, m.id, {"status": "cancelled"}, who=session.who,
                                         kind="cancel", reason=reason)
    for c in loop_store.conversations_for_audit(conn, audit_id):
        if c.status is ConversationStatus.DUE:
            loop_store.update_conversation(conn, c.id, {"status": "cancelled"},
                                           who=session.who, kind="cancel", reason=reason)
