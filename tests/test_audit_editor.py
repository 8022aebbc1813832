"""The audit form's presenter, without widgets (sefton_qa.services.audit_editor).

Every rule of the form that is not about a widget is here, driven through a recording view on
both engines: what shows when, when a draft is saved, submit, edits with a reason, conflicts,
undo and redo, drafts kept while the server is away, and closing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sefton_qa.domain.errors import ServerUnreachable
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditStatus
from sefton_qa.services import audits as audit_service
from sefton_qa.services import kept_drafts
from sefton_qa.services.audit_editor import AuditEditor, RecordingView, impossible_date


def editor_for(session, audit_id=None, **kw) -> tuple[AuditEditor, RecordingView]:
    view = RecordingView()
    editor = AuditEditor(session, view, audit_id, **kw)
    editor.start()
    return editor, view


def type_into(editor: AuditEditor, view: RecordingView, **values) -> None:
    """As a user types: the values change, then the editor hears of each field."""
    view.values = dataclasses.replace(view.values, **values)
    for name in values:
        editor.changed({"service_area_id": "service_area", "team_id": "team",
                        "auditor_id": "auditor", "team_manager_id": "team_manager",
                        "theme_ids": "themes"}.get(name, name))


def test_a_new_audit_starts_blank_with_me_as_auditor_and_nothing_said(auditor, org):
    editor, view = editor_for(auditor)
    assert view.mode.title == "New audit" and view.mode.draft and not view.mode.read_only
    assert view.values.auditor_id == org.auditor
    assert view.save_state == "Not saved yet"
    # problems exist (nothing is filled in) but "is required" waits until a field is visited
    assert editor.problems and view.beside == {} and view.general == []
    assert not view.buttons.submit and view.buttons.save
    assert view.buttons.why.startswith("Fix ")
    editor.left("case_reference")
    assert view.beside["case_reference"] == ["case reference is required."]


def test_typing_starts_the_timers_and_autosave_creates_then_updates_the_draft(
        auditor, make_input):
    editor, view = editor_for(auditor)
    type_into(editor, view, case_reference="LCS-777")
    assert {"validate", "autosave"} <= view.timers
    editor.autosave()
    assert editor.audit_id is not None and editor.status is AuditStatus.DRAFT
    assert view.save_state.startswith("Draft saved ")
    assert len(view.announced) == 1
    assert audit_service.get_audit(auditor, editor.audit_id).case_reference == "LCS-777"
    assert not editor.is_dirty()
    editor.autosave()  # nothing new: no write
    assert len(view.announced) == 1
    type_into(editor, view, findings="More to say.")
    assert editor.is_dirty()
    assert editor.save_draft()
    assert audit_service.get_audit(auditor, editor.audit_id).findings == "More to say."
    assert view.buttons.undo  # the update can be undone, and Undo says what it undoes


def test_an_impossible_date_is_said_and_never_saved(auditor, make_input):
    editor, view = editor_for(auditor)
    type_into(editor, view, case_reference="LCS-778")
    view.impossible = impossible_date("31/02/2024")
    editor.date_judged()
    assert view.beside["audit_date"] == ["There is no 31 February 2024."]
    assert not editor.save_draft()
    assert editor.audit_id is None
    assert view.save_state == "Draft not saved: the audit date does not exist"
    assert not editor.submit()


def test_a_complete_draft_submits_and_the_form_closes(auditor, make_input):
    editor, view = editor_for(auditor)
    type_into(editor, view, **{f.name: getattr(make_input(), f.name)
                               for f in dataclasses.fields(make_input())})
    assert editor.validate_now() == []
    assert view.buttons.submit and view.buttons.why == "Ready to submit."
    assert view.suggestion.grade is Grade.REQUIRES_IMPROVEMENT and not view.suggestion.offer
    assert editor.submit()
    assert view.closed is True
    assert audit_service.get_audit(auditor, editor.audit_id).status is AuditStatus.SUBMITTED


def test_submit_with_problems_shows_them_all_and_goes_to_the_first(auditor):
    editor, view = editor_for(auditor)
    type_into(editor, view, findings="Only findings so far.")
    assert not editor.submit()
    assert editor.show_all and view.went_to == "case_reference"
    assert "case_reference" in view.beside and view.closed is None


def test_editing_a_submitted_audit_asks_for_a_reason_and_records_it(auditor, make_input):
    change = audit_service.create_audit(auditor, make_input(), submit=True)
    editor, view = editor_for(auditor, change.record_id)
    assert not view.mode.draft and view.mode.title == "Audit of LCS-100001 (submitted)"
    assert view.buttons.why == "No changes to save." and not view.buttons.save
    type_into(editor, view, findings="Corrected after moderation.")
    assert view.buttons.save and "autosave" not in view.timers  # submitted: never autosaved
    editor.save_changes()  # asked for a reason; none given: nothing saved
    assert audit_service.get_audit(auditor, editor.audit_id).findings != \
        "Corrected after moderation."
    view.reasons.append("typo in the findings")
    editor.save_changes()
    assert audit_service.get_audit(auditor, editor.audit_id).findings == \
        "Corrected after moderation."
    assert view.save_state.startswith("Changes saved ")


def test_someone_elses_change_stops_saving_until_reload(auditor, admin, make_input):
    change = audit_service.create_audit(auditor, make_input(), submit=False)
    editor, view = editor_for(auditor, change.record_id)
    theirs = audit_service.get_audit(admin, change.record_id)
    audit_service.update_audit(admin, change.record_id, make_input(findings="Theirs."),
                               expected_version=theirs.version)
    assert editor.check_changed_elsewhere()
    assert editor.in_conflict and view.offer_reload
    type_into(editor, view, findings="Mine.")
    assert "autosave" not in view.timers
    assert not editor.save_draft()
    assert view.buttons.why.startswith("Saving is stopped")
    editor.reload()
    assert not editor.in_conflict and view.values.findings == "Theirs."
    assert view.save_state == "Reloaded"


def test_a_conflict_met_at_save_keeps_the_typing(auditor, admin, make_input):
    change = audit_service.create_audit(auditor, make_input(), submit=False)
    editor, view = editor_for(auditor, change.record_id)
    theirs = audit_service.get_audit(admin, change.record_id)
    audit_service.update_audit(admin, change.record_id, make_input(findings="Theirs."),
                               expected_version=theirs.version)
    type_into(editor, view, findings="Mine.")
    assert not editor.save_draft()
    assert editor.in_conflict and view.values.findings == "Mine."
    assert view.save_state == "Not saved"
    view.discard_answer = False
    assert not editor.ready_to_close()  # the user keeps editing
    assert "someone else" in view.asked[-1]


def test_undo_then_redo_through_the_editor(auditor, make_input):
    change = audit_service.create_audit(auditor, make_input(), submit=False)
    editor, view = editor_for(auditor, change.record_id)
    type_into(editor, view, findings="Second thoughts.")
    assert editor.undo()  # saves the typing first, then undoes that save
    assert view.values.findings == "The plan lacks timescales."
    assert view.buttons.redo
    type_into(editor, view, findings="typing in the way")
    assert not editor.redo()
    assert view.notice == "Save or undo your typing first: Redo would overwrite it."
    editor.reload()
    assert editor.redo()
    assert view.values.findings == "Second thoughts."
    assert view.save_state.startswith("Change redone ")


def test_a_service_manager_sees_a_read_only_form(manager, auditor, make_input):
    change = audit_service.create_audit(auditor, make_input(), submit=True)
    editor, view = editor_for(manager, change.record_id)
    assert view.mode.read_only and "is not one, so this is read-only" in view.notice
    assert view.buttons.why is None and not view.buttons.undo
    assert not editor.save_draft() and not editor.submit() and editor.ready_to_close()


def test_a_draft_is_kept_on_this_computer_while_the_server_is_away(
        auditor, make_input, tmp_path, monkeypatch):
    monkeypatch.setattr(kept_drafts, "folder", lambda: tmp_path / "kept")

    def away(fn):
        raise ServerUnreachable("The server cannot be reached.")

    editor, view = editor_for(auditor, run=away)
    type_into(editor, view, case_reference="LCS-779")
    assert not editor.save_draft()
    assert editor.kept_path is not None and editor.kept_path.exists()
    assert "retry" in view.timers and view.notice.startswith("The server cannot be reached")
    assert editor.ready_to_close()  # kept: closing loses nothing
    editor.run = lambda fn: fn(auditor)  # the server is back
    editor.retry_kept()
    assert editor.audit_id is not None and editor.kept_path is None
    assert "retry" not in view.timers and view.notice is None


def test_an_unexpected_error_is_shown_and_the_typing_stays(auditor):
    def broken(fn):
        raise RuntimeError("disk on fire")

    editor, view = editor_for(auditor, run=broken)
    type_into(editor, view, case_reference="LCS-780")
    assert not editor.save_draft()
    assert [str(e) for e in view.unexpected] == ["disk on fire"]
    assert view.save_state == "Draft not saved" and view.values.case_reference == "LCS-780"


def test_closing_a_dirty_draft_saves_it_first(auditor):
    editor, view = editor_for(auditor)
    type_into(editor, view, case_reference="LCS-781")
    assert editor.ready_to_close() and editor.audit_id is not None
    editor.close_now(accepted=False)
    assert view.closed is False and view.timers == set()


@pytest.mark.parametrize("typed", ["29/02/2023", "31/04/2024", "00/13/2024"])
def test_impossible_dates_are_impossible(typed):
    assert impossible_date(typed)


def test_a_real_date_is_not(today=dt.date(2024, 2, 29)):
    assert impossible_date(today.strftime("%d/%m/%Y")) is None


def test_checking_while_the_server_is_away_keeps_the_last_problems(auditor, monkeypatch):
    """The validation timer fires as the server goes: no error escapes into the event loop,
    the problems last found stand."""
    editor, view = editor_for(auditor)
    before = list(editor.problems)
    assert before

    def away(*_args, **_kw):
        raise ServerUnreachable("The server cannot be reached.")

    monkeypatch.setattr(audit_service, "check", away)
    type_into(editor, view, case_reference="LCS-782")
    assert editor.validate_now() == before
