"""The moderation loop's three record kinds: moderations, reflective conversations and remedial
actions, with the queries the queues, the drift dashboard and the calibration view need."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import (
    ActionStatus,
    ConversationStatus,
    Moderation,
    ModerationStatus,
    ReflectiveConversation,
    RemedialAction,
)
from sefton_qa.store import dialect, records
from sefton_qa.store.sql import date_range, in_chunks


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _grade(text: str | None) -> Grade | None:
    return Grade(text) if text else None


# -- moderations --------------------------------------------------------------------------------
_MOD = ("id, audit_id, flagged_because, flagged_on, due_date, moderator_id, original_grade, "
        "moderated_grade, moderation_date, reason, section_comments, status, selection, version")


def _moderation(r) -> Moderation:
    return Moderation(id=r[0], audit_id=r[1], flagged_because=r[2], flagged_on=_date(r[3]),
                      due_date=_date(r[4]), moderator_id=r[5], original_grade=_grade(r[6]),
                      moderated_grade=_grade(r[7]), moderation_date=_date(r[8]), reason=r[9],
                      section_comments=json.loads(r[10] or "{}"),
                      status=ModerationStatus(r[11]),
                      selection=json.loads(r[12]) if r[12] else None, version=r[13])


def get_moderation(conn: sqlite3.Connection, moderation_id: int) -> Moderation | None:
    row = conn.execute(f"SELECT {_MOD} FROM moderations WHERE id = ?",
                       (moderation_id,)).fetchone()
    return None if row is None else _moderation(row)


def moderations_for_audit(conn: sqlite3.Connection, audit_id: int) -> list[Moderation]:
    return [_moderation(r) for r in conn.execute(
        f"SELECT {_MOD} FROM moderations WHERE audit_id = ? ORDER BY id", (audit_id,))]


def insert_moderation(conn: sqlite3.Connection, values: dict, *, who: records.Who,
                      reason: str | None = None, kind: str = "flag") -> int:
    values = dict(values)
    for key in ("section_comments", "selection"):
        if key in values and not isinstance(values[key], (str, type(None))):
            values[key] = json.dumps(values[key], sort_keys=True)
    return records.insert_record(conn, "moderations", values, who=who, reason=reason, kind=kind)


def update_moderation(conn: sqlite3.Connection, moderation_id: int, values: dict, *,
                      who: records.Who, kind: str, reason: str | None = None,
                      expected_version: int | None = None) -> dict:
    values = dict(values)
    if "section_comments" in values and not isinstance(values["section_comments"], str):
        values["section_comments"] = json.dumps(values["section_comments"], sort_keys=True)
    return records.update_record(conn, "moderations", moderation_id, values, who=who, kind=kind,
                                 reason=reason, expected_version=expected_version)


# -- reflective conversations -------------------------------------------------------------------
_CONV = ("id, audit_id, moderation_id, service_manager_id, due_date, held_on, facilitator_id, "
         "participants, learning, status, version")


def _conversation(r) -> ReflectiveConversation:
    return ReflectiveConversation(
        id=r[0], audit_id=r[1], moderation_id=r[2], service_manager_id=r[3],
        due_date=_date(r[4]), held_on=_date(r[5]), facilitator_id=r[6],
        participants=tuple(json.loads(r[7] or "[]")), learning=r[8],
        status=ConversationStatus(r[9]), version=r[10])


def get_conversation(conn: sqlite3.Connection, conversation_id: int
                     ) -> ReflectiveConversation | None:
    row = conn.execute(f"SELECT {_CONV} FROM reflective_conversations WHERE id = ?",
                       (conversation_id,)).fetchone()
    return None if row is None else _conversation(row)


def conversations_for_audit(conn: sqlite3.Connection, audit_id: int
                            ) -> list[ReflectiveConversation]:
    return [_conversation(r) for r in conn.execute(
        f"SELECT {_CONV} FROM reflective_conversations WHERE audit_id = ? ORDER BY id",
        (audit_id,))]


def insert_conversation(conn: sqlite3.Connection, values: dict, *, who: records.Who,
                        kind: str = "due") -> int:
    return records.insert_record(conn, "reflective_conversations", values, who=who, kind=kind)


def update_conversation(conn: sqlite3.Connection, conversation_id: int, values: dict, *,
                        who: records.Who, kind: str, reason: str | None = None,
                        expected_version: int | None = None) -> dict:
    values = dict(values)
    if "participants" in values and not isinstance(values["participants"], str):
        values["participants"] = json.dumps(list(values["participants"]))
    return records.update_record(conn, "reflective_conversations", conversation_id, values,
                                 who=who, kind=kind, reason=reason,
                                 expected_version=expected_version)


# -- remedial actions ---------------------------------------------------------------------------
_ACT = ("id, audit_id, conversation_id, description, owner_id, due_date, status, status_reason, "
        "evidence, completed_on, reaudit_by, reaudit_audit_id, version")


def _action(r) -> RemedialAction:
    return RemedialAction(id=r[0], audit_id=r[1], conversation_id=r[2], description=r[3],
                          owner_id=r[4], due_date=_date(r[5]), status=ActionStatus(r[6]),
                          status_reason=r[7], evidence=r[8], completed_on=_date(r[9]),
                          reaudit_by=_date(r[10]), reaudit_audit_id=r[11], version=r[12])


def get_action(conn: sqlite3.Connection, action_id: int) -> RemedialAction | None:
    row = conn.execute(f"SELECT {_ACT} FROM remedial_actions WHERE id = ?",
                       (action_id,)).fetchone()
    return None if row is None else _action(row)


def actions_for_audit(conn: sqlite3.Connection, audit_id: int) -> list[RemedialAction]:
    return [_action(r) for r in conn.execute(
        f"SELECT {_ACT} FROM remedial_actions WHERE audit_id = ? ORDER BY id", (audit_id,))]


def insert_action(conn: sqlite3.Connection, values: dict, *, who: records.Who) -> int:
    return records.insert_record(conn, "remedial_actions", values, who=who)


def update_action(conn: sqlite3.Connection, action_id: int, values: dict, *, who: records.Who,
                  kind: str, reason: str | None = None,
                  expected_version: int | None = None) -> dict:
    return records.update_record(conn, "remedial_actions", action_id, values, who=who,
                                 kind=kind, reason=reason, expected_version=expected_version)


def cases_awaiting_reaudit(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute(
        # An ordered join: loop over the (few) actions, never over every audit.
        f"SELECT DISTINCT a.case_reference FROM remedial_actions x "
        f"{dialect.of(conn).ordered_join} audits a ON a.id = x.audit_id WHERE x.reaudit_by IS NOT NULL AND x.reaudit_audit_id IS NULL")}


def audits_with_moderation(conn: sqlite3.Connection, audit_ids) -> set[int]:
    return {r[0] for r in in_chunks(conn, "SELECT audit_id FROM moderations WHERE status != "
                                         "'cancelled' AND audit_id IN ({marks})", audit_ids)}


def open_reaudit_actions(conn: sqlite3.Connection, case_reference: str, after: dt.date
                         ) -> list[RemedialAction]:
    """Actions asking for a re-audit of this case that no later audit has answered yet."""
    return [_action(r) for r in conn.execute(
        f"SELECT {', '.join('x.' + c.strip() for c in _ACT.split(','))} "
        f"FROM remedial_actions x {dialect.of(conn).ordered_join} audits a ON a.id = x.audit_id "
        "WHERE a.case_reference = ? AND x.reaudit_by IS NOT NULL "
        "AND x.reaudit_audit_id IS NULL AND a.audit_date < ? ORDER BY x.id",
        (case_reference, after.isoformat()))]


# -- queues and the dashboard ------------------------------------------------------------------
_AUDIT_COLS = ("a.id, a.case_reference, a.audit_date, sa.name, t.name, t.id, s.display_name, "
               "a.auditor_id, a.overall_grade, t.service_manager_id")
_AUDIT_JOIN = ("JOIN audits a ON a.id = x.audit_id LEFT JOIN teams t ON t.id = a.team_id "
               "LEFT JOIN service_areas sa ON sa.id = a.service_area_id "
               "LEFT JOIN staff s ON s.id = a.auditor_id")


def pending_moderations(conn: sqlite3.Connection) -> list[tuple]:
    """(moderation id, flagged_because, flagged_on, due_date, version, *audit columns),
    oldest first."""
    return conn.execute(
        f"SELECT x.id, x.flagged_because, x.flagged_on, x.due_date, x.version, {_AUDIT_COLS} "
        f"FROM moderations x {_AUDIT_JOIN} WHERE x.status = 'pending' "
        "AND a.status = 'submitted' "
        "ORDER BY x.flagged_on, x.id").fetchall()


def due_conversations(conn: sqlite3.Connection) -> list[tuple]:
    """(conversation id, due_date, service_manager_id, version, *audit columns), oldest first."""
    return conn.execute(
        f"SELECT x.id, x.due_date, x.service_manager_id, x.version, {_AUDIT_COLS} "
        f"FROM reflective_conversations x {_AUDIT_JOIN} WHERE x.status = 'due' "
        "ORDER BY x.due_date, x.id").fetchall()


def open_actions(conn: sqlite3.Connection) -> list[tuple]:
    """(action id, description, owner_id, owner name, due_date, reaudit_by, version,
    *audit columns), soonest due first."""
    return conn.execute(
        "SELECT x.id, x.description, x.owner_id, o.display_name, x.due_date, x.reaudit_by, "
        f"x.version, {_AUDIT_COLS} FROM remedial_actions x {_AUDIT_JOIN} "
        "LEFT JOIN staff o ON o.id = x.owner_id WHERE x.status = 'open' "
        "ORDER BY x.due_date, x.id").fetchall()


def inadequate_audit_ids(conn: sqlite3.Connection, start: dt.date | None = None,
                         end: dt.date | None = None) -> list[int]:
    """Audits whose loop is tracked: those with an inadequate flag or a conversation."""
    clauses, params = date_range("a.audit_date", start, end)
    where = (" AND " + " AND ".join(clauses)) if clauses else ""
    # One IN over the (few) loop records, so only those audits are looked at.
    return [r[0] for r in conn.execute(
        "SELECT a.id FROM audits a WHERE a.id IN ("
        "SELECT audit_id FROM moderations WHERE flagged_because = 'inadequate' "
        "AND status != 'cancelled' UNION SELECT audit_id FROM reflective_conversations) "
        f"AND a.status = 'submitted'{where} ORDER BY a.audit_date, a.id", params)]


def done_moderations(conn: sqlite3.Connection, start: dt.date | None = None,
                     end: dt.date | None = None) -> list[tuple]:
    """(auditor_id, auditor name, original_grade, moderated_grade, flagged_on,
    moderation_date, flagged_because, moderator_id) for moderations completed in the range."""
    clauses, params = date_range("x.moderation_date", start, end)
    clauses.insert(0, "x.status = 'done'")
    return conn.execute(
        "SELECT a.auditor_id, s.display_name, x.original_grade, x.moderated_grade, "
        "x.flagged_on, x.moderation_date, x.flagged_because, x.moderator_id "
        "FROM moderations x JOIN audits a ON a.id = x.audit_id "
        f"LEFT JOIN staff s ON s.id = a.auditor_id WHERE {' AND '.join(clauses)} "
        "ORDER BY x.id", params).fetchall()
