"""Undo of an audit's last change (services.audits.undo_last_change), without Qt: the old values
are written back as a new trailed change, so the undo is itself in the history and the store
still verifies."""

from __future__ import annotations

import dataclasses

import pytest

from sefton_qa.domain.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditStatus, SectionGrade, Selection
from sefton_qa.services import audits as audit_service
from sefton_qa.services import register
from sefton_qa.services.verify import verify_store
from sefton_qa.store import records
from sefton_qa.store import trail as trail_store


def history(session, audit_id: int):
    return register.history(session, "audits", audit_id)


def stored(session, audit_id: int) -> dict:
    """The audit's row and themes as the store holds them, without the bookkeeping."""
    conn = session.store.conn
    row = records.get_row(conn, "audits", audit_id)
    row.update(records.linked_values(conn, "audits", audit_id))
    return {k: v for k, v in row.items() if k not in ("version", "updated_at")}


def test_undo_reverts_an_update_exactly_fields_and_themes(auditor, org, make_input):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=True).record_id
    before = stored(auditor, audit_id)
    changed = make_input(
        case_reference="LCS-200002", team_id=org.team_a2, findings="Rewritten findings.",
        overall_grade=Grade.INADEQUATE,
        sections={"voice": SectionGrade(Grade.INADEQUATE, "not seen"),
                  "recording": SectionGrade(Grade.GOOD)},
        theme_ids=[org.themes["Drift and delay"], org.themes["Child's voice"]])
    audit_service.update_audit(auditor, audit_id, changed, reason="Second look")
    assert stored(auditor, audit_id) != before
    version = audit_service.get_audit(auditor, audit_id).version

    change = audit_service.undo_last_change(auditor, audit_id)

    assert (change.kind, change.record_ids) == ("undo", (audit_id,))
    assert stored(auditor, audit_id) == before
    after = audit_service.get_audit(auditor, audit_id)
    assert after.version == version + 1
    assert after.theme_ids == (org.themes["Neglect"],)
    # (how the case was chosen: not given, so the store's default for a deep dive)
    assert after.to_input() == dataclasses.replace(make_input(), selection=Selection.CHOSEN)
    entries = history(auditor, audit_id)
    assert [e.kind for e in entries] == ["create", "update", "undo"]
    update, undo = entries[1], entries[2]
    assert undo.reason == f"Undo of change {update.seq} (update)"
    assert undo.staff_id == org.auditor
    # The undo's changes are the update's, turned round.
    assert undo.changes == {f: [new, old] for f, (old, new) in update.changes.items()}
    assert set(undo.changes) == {"case_reference", "team_id", "findings", "overall_grade",
                                 "sections", "themes"}


@pytest.mark.parametrize("submit", [False, True])
def test_undo_of_a_create_withdraws_the_audit(auditor, make_input, submit):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=submit).record_id
    before = stored(auditor, audit_id)
    audit_service.undo_last_change(auditor, audit_id)
    after = audit_service.get_audit(auditor, audit_id)
    assert after.status is AuditStatus.WITHDRAWN
    assert {k: v for k, v in stored(auditor, audit_id).items() if k != "status"} == \
        {k: v for k, v in before.items() if k != "status"}  # only the status changed
    last = history(auditor, audit_id)[-1]
    assert (last.kind, last.changes) == (
        "undo", {"status": ["submitted" if submit else "draft", "withdrawn"]})
    assert last.reason.endswith("(create)")


def test_undo_of_an_imported_audit_withdraws_it(auditor, make_input):
    change = audit_service.add_audits(auditor, [make_input(), make_input(case_reference="B-1")],
                                      kind="import", reason="Imported from a.csv")
    audit_service.undo_last_change(auditor, change.record_ids[1])
    assert audit_service.get_audit(auditor, change.record_ids[1]).status is \
        AuditStatus.WITHDRAWN
    assert audit_service.get_audit(auditor, change.record_ids[0]).status is \
        AuditStatus.SUBMITTED


def test_undo_again_takes_back_the_change_before_and_redo_makes_them_again(
        auditor, org, make_input):
    """Undo and Redo are two actions (issue 17): a second Undo undoes the change before the
    one undone, never the undo itself; Redo makes the undone changes again, latest first."""
    audit_id = audit_service.create_audit(auditor, make_input(), submit=True).record_id
    created = stored(auditor, audit_id)
    edited = make_input(findings="Edited.", theme_ids=[org.themes["Exploitation"]])
    audit_service.update_audit(auditor, audit_id, edited, reason="Edit")
    after_edit = stored(auditor, audit_id)
    assert audit_service.undo_redo_offered(auditor, audit_id)[1] is None

    audit_service.undo_last_change(auditor, audit_id)
    assert audit_service.get_audit(auditor, audit_id).findings == make_input().findings
    undo_words, redo_words = audit_service.undo_redo_offered(auditor, audit_id)
    assert undo_words.startswith("creating the audit")
    assert redo_words.startswith("Findings") or "Findings" in redo_words

    audit_service.undo_last_change(auditor, audit_id)  # the creation: withdrawn
    assert audit_service.get_audit(auditor, audit_id).status is AuditStatus.WITHDRAWN
    with pytest.raises(ValidationError, match="nothing to undo"):
        audit_service.undo_last_change(auditor, audit_id)

    change = audit_service.redo_last_undo(auditor, audit_id)  # back, submitted
    assert change.kind == "redo"
    assert audit_service.get_audit(auditor, audit_id).status is AuditStatus.SUBMITTED
    audit_service.redo_last_undo(auditor, audit_id)  # the edit again
    assert stored(auditor, audit_id) == after_edit
    assert audit_service.get_audit(auditor, audit_id).theme_ids == (org.themes["Exploitation"],)
    with pytest.raises(ValidationError, match="nothing to redo"):
        audit_service.redo_last_undo(auditor, audit_id)
    kinds = [e.kind for e in history(auditor, audit_id)]
    assert kinds == ["create", "update", "undo", "undo", "redo", "redo"]
    assert created != after_edit


def test_a_new_change_after_an_undo_leaves_nothing_to_redo(auditor, make_input):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=False).record_id
    audit_service.update_audit(auditor, audit_id, make_input(findings="First."))
    audit_service.undo_last_change(auditor, audit_id)
    audit_service.update_audit(auditor, audit_id, make_input(findings="Second."))
    assert audit_service.undo_redo_offered(auditor, audit_id)[1] is None
    with pytest.raises(ValidationError, match="nothing to redo"):
        audit_service.redo_last_undo(auditor, audit_id)


def test_undo_then_redo_after_a_create_brings_the_draft_back(auditor, make_input):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=False).record_id
    audit_service.undo_last_change(auditor, audit_id)
    assert audit_service.get_audit(auditor, audit_id).status is AuditStatus.WITHDRAWN
    audit_service.redo_last_undo(auditor, audit_id)
    assert audit_service.get_audit(auditor, audit_id).status is AuditStatus.DRAFT


def test_undo_of_a_submit_and_of_a_withdrawal(auditor, make_input):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=False).record_id
    audit_service.submit_audit(auditor, audit_id)
    audit_service.undo_last_change(auditor, audit_id)
    assert audit_service.get_audit(auditor, audit_id).status is AuditStatus.DRAFT
    audit_service.withdraw_audit(auditor, audit_id, "Wrong child")
    audit_service.undo_last_change(auditor, audit_id)
    assert audit_service.get_audit(auditor, audit_id).status is AuditStatus.DRAFT
    assert [e.kind for e in history(auditor, audit_id)] == [
        "create", "submit", "undo", "withdraw", "undo"]


def test_someone_elses_change_cannot_be_undone_by_a_non_administrator(admin, auditor,
                                                                       make_input):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=True).record_id
    # The administrator (also a QA officer) edits the auditor's audit...
    audit_service.update_audit(admin, audit_id, make_input(findings="Admin's words."),
                               reason="Moderation")
    trail_rows = trail_store.count(auditor.store.conn)
    # ...which the auditor may not undo,
    with pytest.raises(PermissionDenied, match="Only the person who made that change"):
        audit_service.undo_last_change(auditor, audit_id)
    assert trail_store.count(auditor.store.conn) == trail_rows
    assert audit_service.get_audit(auditor, audit_id).findings == "Admin's words."
    # but the auditor's own change an administrator may.
    audit_service.update_audit(auditor, audit_id, make_input(findings="Mine again."),
                               reason="Disagree")
    audit_service.undo_last_change(admin, audit_id)
    assert audit_service.get_audit(admin, audit_id).findings == "Admin's words."
    assert history(admin, audit_id)[-1].staff_id == admin.actor.id


def test_undo_needs_a_role_that_logs_audits(manager, auditor, make_input):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=True).record_id
    with pytest.raises(PermissionDenied):
        audit_service.undo_last_change(manager, audit_id)


def test_undo_of_a_missing_audit(auditor):
    with pytest.raises(NotFound):
        audit_service.undo_last_change(auditor, 999_999)


@pytest.mark.parametrize("outside_edit", [
    "UPDATE audits SET findings = 'Changed outside the app' WHERE id = {id}",
    "DELETE FROM audit_themes WHERE audit_id = {id}",
])
def test_a_record_changed_since_its_last_change_raises_conflict(auditor, org, make_input,
                                                                raw_sql, outside_edit):
    audit_id = audit_service.create_audit(auditor, make_input(), submit=True).record_id
    audit_service.update_audit(auditor, audit_id, make_input(
        findings="Edited.", theme_ids=[org.themes["Neglect"], org.themes["Exploitation"]]),
        reason="Edit")
    raw_sql(auditor.store.location, outside_edit.format(id=audit_id))
    before = stored(auditor, audit_id)
    trail_rows = trail_store.count(auditor.store.conn)
    with pytest.raises(ConflictError, match="changed since"):
        audit_service.undo_last_change(auditor, audit_id)
    assert stored(auditor, audit_id) == before
    assert trail_store.count(auditor.store.conn) == trail_rows


def test_verify_still_passes_after_undos(store, admin, auditor, org, make_input):
    ids = [audit_service.create_audit(auditor, make_input(case_reference=f"LCS-30000{n}"),
                                      submit=n % 2 == 0).record_id for n in range(4)]
    audit_service.update_audit(auditor, ids[0], make_input(
        case_reference="LCS-300000", findings="Changed", theme_ids=[]), reason="Edit")
    audit_service.undo_last_change(auditor, ids[0])           # an update
    audit_service.undo_last_change(auditor, ids[0])           # the undo
    audit_service.undo_last_change(auditor, ids[1])           # a create (withdraws)
    audit_service.submit_audit(auditor, ids[3])
    audit_service.undo_last_change(admin, ids[3])             # a submit, by an administrator
    audit_service.update_audit(auditor, ids[2], make_input(
        case_reference="LCS-300002", sections={}, overall_grade=Grade.GOOD), reason="Again")
    audit_service.undo_last_change(auditor, ids[2])
    report = verify_store(store)
    assert report.ok, report.lines()
    replayed = trail_store.replay(store.conn)
    for audit_id in ids:
        rebuilt = replayed[("audits", audit_id)]
        assert {k: v for k, v in rebuilt.items() if not k.startswith("_")} == \
            {k: v for k, v in stored(auditor, audit_id).items()
             if k not in ("id", "created_at") and k not in records.GENERATED["audits"]}
