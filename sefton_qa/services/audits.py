"""Create, edit, submit and withdraw audits; bulk-add many (import, demo data)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Sequence

from sefton_qa.domain.errors import FieldProblem, NotFound, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import (
    DEFAULT_SELECTION,
    Audit,
    AuditInput,
    AuditStatus,
    AuditType,
    Change,
    Role,
    Selection,
)
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_HINT,
    DEFAULT_CASE_REFERENCE_PATTERN,
    case_reference_problem,
)
from sefton_qa.domain.text import clean_line, clean_text
from sefton_qa.services import moderation
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import records
from sefton_qa.store import sql as sql_help
from sefton_qa.store import grades as grade_store
from sefton_qa.store import service_areas as area_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store
from sefton_qa.store import templates as template_store
from sefton_qa.store import themes as theme_store
from sefton_qa.domain.wording import date_text

MAX_FINDINGS_CHARS = 100_000
MAX_DRAFT_REFERENCE = 100
LOGGERS = (Role.QA_OFFICER, Role.ADMINISTRATOR)

#: The earliest audit date taken unless the store's ``earliest_audit_date`` setting says
#: otherwise (year 0026 was once accepted for 2026); an administrator may set it no earlier.
EARLIEST_AUDIT_DATE = dt.date(2000, 1, 1)
LOWEST_EARLIEST_AUDIT_DATE = dt.date(1990, 1, 1)


def earliest_audit_date(conn) -> dt.date:
    """The store's floor for audit dates (its setting, else 1 January 2000)."""
    value = settings_store.get(conn, "earliest_audit_date")
    try:
        return max(dt.date.fromisoformat(str(value)), LOWEST_EARLIEST_AUDIT_DATE)
    except (TypeError, ValueError):
        return EARLIEST_AUDIT_DATE


class _Lookups:
    """Reference data read once per call (or once per bulk batch), so validation is cheap."""

    def __init__(self, conn):
        self.areas = {a.id: a for a in area_store.list_all(conn)}
        self.teams = {t.id: t for t in team_store.list_all(conn)}
        self.staff = {s.id: s for s in staff_store.list_all(conn)}
        self.themes = {t.id: t for t in theme_store.list_all(conn)}
        self.templates = {t.id: t for t in template_store.list_all(conn)}
        self.grades = set(grade_store.active(conn))
        self.pattern = settings_store.get(conn, "case_reference_pattern",
                                          DEFAULT_CASE_REFERENCE_PATTERN)
        self.hint = settings_store.get(conn, "case_reference_hint", DEFAULT_CASE_REFERENCE_HINT)
        self.earliest = earliest_audit_date(conn)
        self.selection_defaults = selection_defaults(conn)


def _lookups(conn) -> _Lookups:
    """The reference data, read in one round trip on a server."""
    return sql_help.read_ahead(conn, _Lookups)


def _reads_before_update(conn, audit_id: int) -> None:
    """What reading an audit (its themes) and changing it (records.update_record) read first,
    so that a server is asked for them in the same round trip as the audit itself."""
    records.linked_values(conn, "audits", audit_id)
    records.linked_values(conn, "audits", audit_id)
    records.get_row(conn, "audits", audit_id)


def _grade_problem(grade: Grade | None, lookups: _Lookups) -> str | None:
    if grade is not None and grade not in lookups.grades:
        on = ", ".join(g.label for g in sorted(lookups.grades, key=lambda g: -g.rank))
        return f'"{grade.label}" is not on this store\'s grade scale ({on})'
    return None


def validate(inp: AuditInput, lookups: _Lookups, *, today: dt.date,
             complete: bool) -> list[FieldProblem]:
    """Every problem with ``inp``. ``complete`` asks for what a submitted audit must have."""
    problems: list[FieldProblem] = []

    def bad(field: str, message: str) -> None:
        problems.append(FieldProblem(field, message))

    if complete:
        msg = case_reference_problem(inp.case_reference, lookups.pattern, lookups.hint)
        if msg:
            bad("case_reference", msg)
    elif len(inp.case_reference) > MAX_DRAFT_REFERENCE:
        # A draft keeps whatever was typed (it is checked on submit), within reason.
        bad("case_reference", f"is longer than {MAX_DRAFT_REFERENCE} characters")
    if not isinstance(inp.audit_type, AuditType):
        bad("audit_type", f'"{inp.audit_type}" is not an audit type')
    if inp.audit_date is None:
        if complete:
            bad("audit_date", "is required")
    elif inp.audit_date > today:
        bad("audit_date", f"{date_text(inp.audit_date)} is in the future; an audit is dated the "
                          "day it was done")
    elif inp.audit_date < lookups.earliest:
        bad("audit_date", f"{inp.audit_date.isoformat()} is before "
                          f"{date_text(lookups.earliest)}, the earliest audit date this store "
                          "takes; check the year")
    area = lookups.areas.get(inp.service_area_id) if inp.service_area_id is not None else None
    if inp.service_area_id is None:
        if complete:
            bad("service_area", "is required")
    elif area is None:
        bad("service_area", f"there is no service area with id {inp.service_area_id}")
    elif not area.active:
        bad("service_area", f'"{area.name}" is no longer in use')
    if inp.team_id is None:
        if complete:
            bad("team", "is required")
    else:
        team = lookups.teams.get(inp.team_id)
        if team is None:
            bad("team", f"there is no team with id {inp.team_id}")
        elif not team.active:
            bad("team", f'"{team.name}" is no longer in use')
        elif area is not None and team.service_area_id != area.id:
            bad("team", f'"{team.name}" is not a team in {area.name}')
    auditor = lookups.staff.get(inp.auditor_id) if inp.auditor_id is not None else None
    if inp.auditor_id is None:
        bad("auditor", "is required")
    elif auditor is None:
        bad("auditor", f"there is no member of staff with id {inp.auditor_id}")
    elif not auditor.active:
        bad("auditor", f"{auditor.display_name} is not an active member of staff")
    if inp.team_manager_id is not None and inp.team_manager_id not in lookups.staff:
        bad("team_manager", f"there is no member of staff with id {inp.team_manager_id}")
    template = None
    if inp.template_id is not None:
        template = lookups.templates.get(inp.template_id)
        if template is None:
            bad("template", f"there is no audit template with id {inp.template_id}")
    known_sections = {s.key for s in template.sections} if template else None
    for key, section in inp.sections.items():
        if known_sections is not None and key not in known_sections:
            bad(f"section:{key}", f'"{key}" is not a section of {template.name}')
        msg = _grade_problem(section.grade, lookups)
        if msg:
            bad(f"section:{key}", msg)
    if inp.overall_grade is None:
        if complete:
            bad("overall_grade", "is required")
    else:
        msg = _grade_problem(inp.overall_grade, lookups)
        if msg:
            bad("overall_grade", msg)
    unknown = [t for t in inp.theme_ids if t not in lookups.themes]
    if unknown:
        bad("themes", f"unknown theme id(s): {', '.join(map(str, unknown))}")
    if len(set(inp.theme_ids)) != len(inp.theme_ids):
        bad("themes", "a theme is listed twice")
    if inp.selection is not None and not isinstance(inp.selection, Selection):
        bad("selection", f'"{inp.selection}" is not a way of choosing cases')
    if len(inp.findings) > MAX_FINDINGS_CHARS:
        bad("findings", f"is {len(inp.findings):,} characters long; the most is "
                        f"{MAX_FINDINGS_CHARS:,}")
    return problems


#: The setting holding how cases are chosen by default, per audit type ({type: selection}).
SELECTION_SETTING = "selection_defaults"


def selection_defaults(conn) -> dict[AuditType, Selection]:
    """How cases are chosen, by audit type, when the person logging an audit does not say
    (setting ``selection_defaults``; administrators change it in Settings → General)."""
    stored = settings_store.get(conn, SELECTION_SETTING, None) or {}
    out = {}
    for kind in AuditType:
        try:
            out[kind] = Selection(stored.get(kind.value, DEFAULT_SELECTION[kind.value]))
        except (ValueError, AttributeError):
            out[kind] = DEFAULT_SELECTION[kind.value]
    return out


def _values(inp: AuditInput, status: AuditStatus, lookups: _Lookups,
            keep: Selection | None = None) -> dict:
    """The row for ``inp``. An input that does not say how the case was chosen keeps ``keep``
    (an edit) or takes the store's default for its audit type."""
    selection = inp.selection or keep or lookups.selection_defaults[AuditType(inp.audit_type)]
    return {
        "case_reference": clean_text(inp.case_reference) or None,
        "audit_type": AuditType(inp.audit_type).value,
        "audit_date": inp.audit_date.isoformat() if inp.audit_date else None,
        "service_area_id": inp.service_area_id,
        "team_id": inp.team_id,
        "auditor_id": inp.auditor_id,
        "team_manager_id": inp.team_manager_id,
        "template_id": inp.template_id,
        "sections": audit_store.encode_sections(inp.sections),
        "overall_grade": inp.overall_grade.value if inp.overall_grade else None,
        "findings": clean_text(inp.findings),
        "status": status.value,
        "selection": Selection(selection).value,
        "themes": sorted(inp.theme_ids),
    }


def check(session: Session, inp: AuditInput, *, complete: bool) -> list[FieldProblem]:
    """Validation without writing, for the form's validate-as-you-type."""
    return validate(inp, _lookups(session.store.conn), today=session.today(), complete=complete)


def get_audit(session: Session, audit_id: int) -> Audit:
    audit = audit_store.get(session.store.conn, audit_id)
    if audit is None:
        raise NotFound(f"There is no audit with id {audit_id}.")
    return audit


def create_audit(session: Session, inp: AuditInput, *, submit: bool = False) -> Change:
    """Save a new audit as a draft, or submitted when ``submit`` (then it must be complete)."""
    session.require(*LOGGERS, doing="log audits")
    if inp.auditor_id is None:
        inp.auditor_id = session.actor.id
    with session.store.transaction() as conn:
        lookups = _lookups(conn)
        problems = validate(inp, lookups, today=session.today(), complete=submit)
        if problems:
            raise ValidationError(problems)
        status = AuditStatus.SUBMITTED if submit else AuditStatus.DRAFT
        audit_id = audit_store.insert(conn, _values(inp, status, lookups), who=session.who)
        if submit:
            moderation.flag_submitted(session, [audit_id])
    return Change("audits", (audit_id,), "create")


def update_audit(session: Session, audit_id: int, inp: AuditInput, *,
                 expected_version: int | None = None, reason: str | None = None) -> Change:
    """Edit an audit. A submitted audit needs a reason, which goes into the trail."""
    session.require(*LOGGERS, doing="edit audits")
    with session.store.transaction() as conn, sql_help.reads_ahead(
            conn, lambda c: (audit_store.get(c, audit_id), _Lookups(c)),
            later=lambda c: _reads_before_update(c, audit_id)) as (current, lookups):
        if current is None:
            raise NotFound(f"There is no audit with id {audit_id}.")
        if current.status is AuditStatus.WITHDRAWN:
            raise ValidationError.single("status", "this audit was withdrawn and cannot be "
                                                   "edited")
        if inp.auditor_id is None:
            inp.auditor_id = current.auditor_id
        submitted = current.status is AuditStatus.SUBMITTED
        reason = clean_line(reason) or None
        if submitted and not reason:
            raise ValidationError.single("reason", "a reason is required to edit a submitted "
                                                   "audit")
        problems = validate(inp, lookups, today=session.today(), complete=submitted)
        if problems:
            raise ValidationError(problems)
        audit_store.update(conn, audit_id, _values(inp, current.status, lookups,
                                                   keep=current.selection), who=session.who,
                           reason=reason,
                           expected_version=expected_version)
        if submitted:
            moderation.refresh_flag_after_edit(session, audit_id)
    return Change("audits", (audit_id,), "update")


def submit_audit(session: Session, audit_id: int, *,
                 expected_version: int | None = None) -> Change:
    session.require(*LOGGERS, doing="submit audits")
    with session.store.transaction() as conn:
        current = audit_store.get(conn, audit_id)
        if current is None:
            raise NotFound(f"There is no audit with id {audit_id}.")
        if current.status is not AuditStatus.DRAFT:
            raise ValidationError.single("status", f"only a draft can be submitted; this audit "
                                                   f"is {current.status.label.lower()}")
        problems = validate(current.to_input(), _lookups(conn), today=session.today(),
                            complete=True)
        if problems:
            raise ValidationError(problems)
        audit_store.update(conn, audit_id, {"status": AuditStatus.SUBMITTED.value},
                           who=session.who, kind="submit", expected_version=expected_version)
        moderation.flag_submitted(session, [audit_id])
    return Change("audits", (audit_id,), "submit")


def withdraw_audit(session: Session, audit_id: int, reason: str, *,
                   expected_version: int | None = None) -> Change:
    """Withdraw an audit (logged in error, wrong case...). It stays in the store and the trail."""
    session.require(*LOGGERS, doing="withdraw audits")
    reason = clean_line(reason)
    if not reason:
        raise ValidationError.single("reason", "a reason is required to withdraw an audit")
    with session.store.transaction() as conn:
        current = audit_store.get(conn, audit_id)
        if current is None:
            raise NotFound(f"There is no audit with id {audit_id}.")
        if current.status is AuditStatus.WITHDRAWN:
            raise ValidationError.single("status", "this audit is already withdrawn")
        audit_store.update(conn, audit_id, {"status": AuditStatus.WITHDRAWN.value},
                           who=session.who, kind="withdraw", reason=reason,
                           expected_version=expected_version)
        moderation.cancel_open_steps(session, audit_id, f"Audit withdrawn: {reason}")
    return Change("audits", (audit_id,), "withdraw")


def add_audits(session: Session, inputs: Sequence[AuditInput], *, submit: bool = True,
               reason: str | None = None, kind: str = "create",
               labels: Sequence[str] | None = None, flag: bool = True) -> Change:
    """Add many audits at once, all or nothing: every input is checked before any is written.

    Problems are reported together, each field prefixed with the input's label (``labels``,
    e.g. "row 17" for an import) or its position ("audit 3").
    """
    session.require(*LOGGERS, doing="add audits")
    status = AuditStatus.SUBMITTED if submit else AuditStatus.DRAFT
    with session.store.transaction() as conn:
        lookups = _lookups(conn)
        today = session.today()
        problems: list[FieldProblem] = []
        rows = []
        for number, inp in enumerate(inputs, start=1):
            label = labels[number - 1] if labels else f"audit {number}"
            for p in validate(inp, lookups, today=today, complete=submit):
                problems.append(FieldProblem(f"{label}, {p.field}", p.message))
            if not problems:
                rows.append(_values(inp, status, lookups))
        if problems:
            raise ValidationError(problems)
        ids = audit_store.insert_many(conn, rows, who=session.who, reason=reason, kind=kind)
        if submit and flag:
            moderation.flag_submitted(session, ids)
    return Change("audits", tuple(ids), kind)


UNDOABLE_CREATES = ("create", "import", "demo")
_UNDO_OF = re.compile(r"^(Undo|Redo) of change (\d+)")


def undo_stacks(entries) -> tuple[list, list]:
    """From an audit's trail entries: the changes Undo takes back (the last one last) and those
    Redo makes again (the last undone last). An undo takes back the latest change still done;
    a redo makes again the latest undone; any other change clears what could be redone."""
    by_seq = {e.seq: e for e in entries}
    done: list = []
    undone: list = []
    for entry in entries:
        match = _UNDO_OF.match(entry.reason or "") if entry.kind in ("undo", "redo") else None
        target = by_seq.get(int(match[2])) if match else None
        if entry.kind == "undo" and target is not None and done and done[-1] is target:
            undone.append(done.pop())
        elif entry.kind == "redo" and target is not None and undone and undone[-1] is target:
            done.append(undone.pop())
        elif entry.kind == "undo" and target is not None and target.kind == "undo":
            # A store from before Redo: undoing an undo made the change again.
            inner = by_seq.get(int(_UNDO_OF.match(target.reason or "")[2])) \
                if _UNDO_OF.match(target.reason or "") else None
            if inner is not None and undone and undone[-1] is inner:
                done.append(undone.pop())
        else:
            done.append(entry)
            undone.clear()
    return done, undone


def _undo_target(conn, audit_id: int, *, redo: bool):
    from sefton_qa.store import trail as trail_store

    done, undone = undo_stacks(trail_store.entries_for(conn, "audits", audit_id))
    stack = undone if redo else done
    return stack[-1] if stack else None


def undo_redo_offered(session: Session, audit_id: int) -> tuple[str | None, str | None]:
    """What Undo and Redo would do to the audit now, in words for their buttons (None when
    there is nothing to undo or redo)."""
    from sefton_qa.domain.wording import field_label, local_time_text

    conn = session.store.conn

    def words(entry) -> str | None:
        if entry is None:
            return None
        if entry.kind in UNDOABLE_CREATES:
            what = "creating the audit"
        else:
            fields = [field_label(f) for f in entry.changes if f not in ("status",)] or \
                     [field_label(f) for f in entry.changes]
            what = ", ".join(fields[:3]) + (" and more" if len(fields) > 3 else "")
        return f"{what} ({local_time_text(entry.at_utc)[-5:]})"

    return (words(_undo_target(conn, audit_id, redo=False)),
            words(_undo_target(conn, audit_id, redo=True)))


def undo_last_change(session: Session, audit_id: int) -> Change:
    """Undo the latest change to an audit still done, through the trail: the old values are
    written back as a new change (kind "undo"), so the undo is itself in the history. Undoing
    the audit's creation withdraws it. Pressed again, it undoes the change before (Redo makes
    an undone change again). Only the person who made the change, or an administrator, may."""
    return _undo_or_redo(session, audit_id, redo=False)


def redo_last_undo(session: Session, audit_id: int) -> Change:
    """Make the latest undone change again (kind "redo"), while nothing else has changed the
    audit since; a redone creation brings a withdrawn audit back."""
    return _undo_or_redo(session, audit_id, redo=True)


def _undo_or_redo(session: Session, audit_id: int, *, redo: bool) -> Change:
    from sefton_qa.domain.errors import ConflictError, PermissionDenied

    verb = "redo" if redo else "undo"
    session.require(*LOGGERS, doing=f"{verb} changes to audits")
    with session.store.transaction() as conn:
        current = audit_store.get(conn, audit_id)
        if current is None:
            raise NotFound(f"There is no audit with id {audit_id}.")
        target = _undo_target(conn, audit_id, redo=redo)
        if target is None:
            raise ValidationError.single("status", f"there is nothing to {verb} on this audit")
        if target.staff_id != session.actor.id and not session.actor.has_role(
                Role.ADMINISTRATOR):
            raise PermissionDenied(f"Only the person who made that change to this audit, or "
                                   f"an administrator, can {verb} it.")
        reason = f"{verb.capitalize()} of change {target.seq} ({target.kind})"
        if target.kind in UNDOABLE_CREATES:
            if redo:
                if current.status is not AuditStatus.WITHDRAWN:
                    raise ConflictError("This audit has changed since; it cannot be brought "
                                        "back.")
                status = (target.changes.get("status") or [None, AuditStatus.DRAFT.value])[1]
                values = {"status": status}
            else:
                if current.status is AuditStatus.WITHDRAWN:
                    raise ValidationError.single("status", "this audit is already withdrawn")
                values = {"status": AuditStatus.WITHDRAWN.value}
        else:
            row = records.get_row(conn, "audits", audit_id)
            row.update(records.linked_values(conn, "audits", audit_id))
            now_side, then_side = (0, 1) if redo else (1, 0)
            if any(row.get(f) != pair[now_side] for f, pair in target.changes.items()):
                raise ConflictError("This audit has changed since; that change cannot be "
                                    + ("redone." if redo else "undone."))
            values = {f: pair[then_side] for f, pair in target.changes.items()}
        audit_store.update(conn, audit_id, values, who=session.who, kind=verb, reason=reason)
    return Change("audits", (audit_id,), verb)
