"""Every validation message the audit and organisation services give, and the role checks."""

from __future__ import annotations

import datetime as dt

import pytest

from sefton_qa.domain.errors import PermissionDenied, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Role, SectionGrade
from sefton_qa.domain.reference import case_reference_problem
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org_service
from sefton_qa.services import sign_in
from sefton_qa.services.audits import MAX_FINDINGS_CHARS
from sefton_qa.store import trail


def problems_of(exc: ValidationError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in exc.problems:
        out.setdefault(p.field, []).append(p.message)
    return out


def refused(session, inp, *, submit=True, field, phrase):
    """Assert create_audit refuses ``inp`` naming ``field`` with ``phrase``; nothing written."""
    seq = trail.head(session.store.conn)[0]
    with pytest.raises(ValidationError) as info:
        audit_service.create_audit(session, inp, submit=submit)
    messages = info.value.for_field(field)
    assert messages, f"no problem on {field!r}: {info.value}"
    assert any(phrase in m for m in messages), messages
    assert trail.head(session.store.conn)[0] == seq
    assert session.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0
    # check() (validate-as-you-type) reports the same problem without writing.
    assert any(phrase in p.message for p in audit_service.check(session, inp, complete=submit)
               if p.field == field)
    return info.value


def test_a_complete_input_is_accepted(admin, make_input):
    assert audit_service.check(admin, make_input(), complete=True) == []
    audit_service.create_audit(admin, make_input(), submit=True)


# -- case reference ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["AB", "A" * 21, "LCS 1234", "LCS_1234", "LCS/12", "ÅBC12"])
def test_case_reference_default_format(admin, make_input, value):
    refused(admin, make_input(case_reference=value), field="case_reference",
            phrase="is not a valid case reference (3 to 20 letters, digits or hyphens)")


@pytest.mark.parametrize("value", ["ABC", "A" * 20, "LCS-123456", "12-34", "---"])
def test_case_reference_default_format_accepts(admin, make_input, value):
    assert not [p for p in audit_service.check(admin, make_input(case_reference=value),
                                               complete=True) if p.field == "case_reference"]


def test_case_reference_required_and_trimmed(admin, make_input):
    refused(admin, make_input(case_reference=""), field="case_reference", phrase="is required")
    refused(admin, make_input(case_reference="   "), field="case_reference",
            phrase="is required")
    refused(admin, make_input(case_reference=" LCS-1"), field="case_reference",
            phrase="must not start or end with spaces")
    # A draft may leave it blank.
    audit_service.create_audit(admin, make_input(case_reference=""), submit=False)


def test_case_reference_custom_pattern(admin, make_input):
    org_service.set_case_reference_format(admin, r"LCS-\d{6}", "LCS- then six digits")
    exc = refused(admin, make_input(case_reference="LCS-12345"), field="case_reference",
                  phrase='"LCS-12345" is not a valid case reference (LCS- then six digits)')
    assert "3 to 20" not in str(exc)
    refused(admin, make_input(case_reference="XLCS-123456"), field="case_reference",
            phrase="LCS- then six digits")
    audit_service.create_audit(admin, make_input(case_reference="LCS-123456"), submit=True)


def test_case_reference_custom_pattern_must_compile(admin):
    with pytest.raises(ValidationError) as info:
        org_service.set_case_reference_format(admin, r"LCS-(\d{6}", "broken")
    assert "is not a valid pattern" in info.value.for_field("case_reference_pattern")[0]


def test_case_reference_problem_function():
    assert case_reference_problem("LCS-1") is None
    assert case_reference_problem("") == "is required"
    assert "spaces" in case_reference_problem("LCS-1 ")
    assert "(hint)" in case_reference_problem("x", r"\d+", "hint")


# -- dates, grades, teams, staff, themes, findings ---------------------------------------------
def test_audit_date_in_the_future(admin, make_input, today):
    tomorrow = today + dt.timedelta(days=1)
    exc = refused(admin, make_input(audit_date=tomorrow), field="audit_date",
                  phrase="is in the future")
    assert f"{tomorrow:%d/%m/%Y}" in exc.for_field("audit_date")[0]
    refused(admin, make_input(audit_date=tomorrow), submit=False, field="audit_date",
            phrase="is in the future")
    audit_service.create_audit(admin, make_input(audit_date=today), submit=True)


def test_outstanding_is_off_by_default_and_allowed_once_enabled(admin, make_input):
    refused(admin, make_input(overall_grade=Grade.OUTSTANDING), field="overall_grade",
            phrase="is not on this store's grade scale")
    refused(admin, make_input(sections={"voice": SectionGrade(Grade.OUTSTANDING)}),
            field="section:voice", phrase="is not on this store's grade scale")
    exc = refused(admin, make_input(overall_grade=Grade.OUTSTANDING), field="overall_grade",
                  phrase='"Outstanding"')
    assert "Good" in exc.for_field("overall_grade")[0]
    org_service.set_outstanding_enabled(admin, True)
    audit_service.create_audit(admin, make_input(overall_grade=Grade.OUTSTANDING,
                                                 sections={"voice":
                                                           SectionGrade(Grade.OUTSTANDING)}),
                               submit=True)
    org_service.set_outstanding_enabled(admin, False)
    with pytest.raises(ValidationError, match="grade scale"):
        audit_service.create_audit(admin, make_input(case_reference="LCS-2",
                                                     overall_grade=Grade.OUTSTANDING))


def test_unknown_section_of_the_template(admin, make_input):
    refused(admin, make_input(sections={"astrology": SectionGrade(Grade.GOOD)}),
            field="section:astrology", phrase="is not a section of")


def test_team_not_in_the_chosen_service_area(admin, org, make_input):
    refused(admin, make_input(service_area_id=org.area2, team_id=org.team_a1), field="team",
            phrase='"CP Team 1" is not a team in Children in Care')


def test_unknown_team_and_area(admin, org, make_input):
    refused(admin, make_input(team_id=999), field="team", phrase="there is no team with id 999")
    refused(admin, make_input(service_area_id=999, team_id=None), field="service_area",
            phrase="there is no service area with id 999")


def test_inactive_auditor(admin, org, make_input):
    org_service.update_staff(admin, org.auditor, active=False)
    refused(admin, make_input(auditor_id=org.auditor), field="auditor",
            phrase="Alex Auditor is not an active member of staff")
    refused(admin, make_input(auditor_id=999), field="auditor",
            phrase="there is no member of staff with id 999")


def test_unknown_and_repeated_themes(admin, org, make_input):
    refused(admin, make_input(theme_ids=[org.themes["Neglect"], 4242]), field="themes",
            phrase="unknown theme id(s): 4242")
    refused(admin, make_input(theme_ids=[org.themes["Neglect"], org.themes["Neglect"]]),
            field="themes", phrase="a theme is listed twice")


def test_findings_too_long(admin, make_input):
    refused(admin, make_input(findings="x" * (MAX_FINDINGS_CHARS + 1)), field="findings",
            phrase=f"is {MAX_FINDINGS_CHARS + 1:,} characters long; the most is "
                   f"{MAX_FINDINGS_CHARS:,}")
    audit_service.create_audit(admin, make_input(findings="x" * MAX_FINDINGS_CHARS))


def test_required_fields_on_submit(admin, make_input):
    inp = make_input(case_reference="", audit_date=None, service_area_id=None, team_id=None,
                     overall_grade=None)
    with pytest.raises(ValidationError) as info:
        audit_service.create_audit(admin, inp, submit=True)
    problems = problems_of(info.value)
    for field in ("case_reference", "audit_date", "service_area", "team", "overall_grade"):
        assert problems.get(field) == ["is required"], (field, problems)
    # The same input is a fine draft; submitting the draft then names the same fields.
    audit_id = audit_service.create_audit(admin, inp, submit=False).record_id
    with pytest.raises(ValidationError) as info:
        audit_service.submit_audit(admin, audit_id)
    assert set(problems_of(info.value)) == {"case_reference", "audit_date", "service_area",
                                            "team", "overall_grade"}


def test_auditor_defaults_to_the_signed_in_user(admin, org, make_input):
    audit_id = audit_service.create_audit(admin, make_input(auditor_id=None)).record_id
    assert audit_service.get_audit(admin, audit_id).auditor_id == org.admin


def test_reason_required_to_edit_a_submitted_audit(admin, make_input):
    audit_id = audit_service.create_audit(admin, make_input(), submit=True).record_id
    for reason in (None, "", "   "):
        with pytest.raises(ValidationError) as info:
            audit_service.update_audit(admin, audit_id, make_input(findings="new"),
                                       reason=reason)
        assert "a reason is required to edit a submitted audit" in \
            info.value.for_field("reason")
    # A draft needs no reason.
    draft = audit_service.create_audit(admin, make_input(case_reference="LCS-2")).record_id
    audit_service.update_audit(admin, draft, make_input(case_reference="LCS-2", findings="new"))


def test_edit_of_a_submitted_audit_must_stay_complete(admin, make_input):
    audit_id = audit_service.create_audit(admin, make_input(), submit=True).record_id
    with pytest.raises(ValidationError) as info:
        audit_service.update_audit(admin, audit_id, make_input(overall_grade=None),
                                   reason="regrading")
    assert info.value.for_field("overall_grade") == ["is required"]


def test_reason_required_to_withdraw(admin, make_input):
    audit_id = audit_service.create_audit(admin, make_input(), submit=True).record_id
    for reason in ("", "  "):
        with pytest.raises(ValidationError) as info:
            audit_service.withdraw_audit(admin, audit_id, reason)
        assert "a reason is required to withdraw an audit" in info.value.for_field("reason")
    audit_service.withdraw_audit(admin, audit_id, "Duplicate of another audit")
    with pytest.raises(ValidationError) as info:
        audit_service.withdraw_audit(admin, audit_id, "again")
    assert "already withdrawn" in info.value.for_field("status")[0]
    with pytest.raises(ValidationError) as info:
        audit_service.update_audit(admin, audit_id, make_input(), reason="undo")
    assert "withdrawn and cannot be edited" in info.value.for_field("status")[0]
    with pytest.raises(ValidationError) as info:
        audit_service.submit_audit(admin, audit_id)
    assert "only a draft can be submitted" in info.value.for_field("status")[0]


def test_bulk_add_reports_each_input_by_position(admin, make_input, today):
    inputs = [make_input(case_reference="LCS-1"),
              make_input(case_reference="x"),
              make_input(case_reference="LCS-3", audit_date=today + dt.timedelta(days=3))]
    with pytest.raises(ValidationError) as info:
        audit_service.add_audits(admin, inputs)
    fields = [p.field for p in info.value.problems]
    assert fields == ["audit 2, case_reference", "audit 3, audit_date"]
    assert admin.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0


# -- organisation ------------------------------------------------------------------------------
def test_organisation_name_rules(admin, org):
    with pytest.raises(ValidationError) as info:
        org_service.add_service_area(admin, "  ")
    assert info.value.for_field("name") == ["is required"]
    with pytest.raises(ValidationError) as info:
        org_service.add_service_area(admin, " Early Help")
    assert info.value.for_field("name") == ["must not start or end with spaces"]
    with pytest.raises(ValidationError) as info:
        org_service.add_service_area(admin, "x" * 121)
    assert "longer than 120" in info.value.for_field("name")[0]
    with pytest.raises(ValidationError) as info:
        org_service.add_service_area(admin, "child protection")  # names ignore case
    assert "already exists" in info.value.for_field("name")[0]
    with pytest.raises(ValidationError) as info:
        org_service.add_team(admin, "CP Team 1", org.area1)
    assert "already has a team called" in info.value.for_field("name")[0]
    org_service.add_team(admin, "CP Team 1", org.area2)  # the same name in another area is fine
    with pytest.raises(ValidationError) as info:
        org_service.add_team(admin, "New team", 999)
    assert "no service area with id 999" in info.value.for_field("service_area")[0]
    with pytest.raises(ValidationError) as info:
        org_service.add_team(admin, "New team", org.area1, service_manager_id=org.auditor)
    assert "does not hold the service manager role" in \
        info.value.for_field("service_manager")[0]
    with pytest.raises(ValidationError) as info:
        org_service.add_theme(admin, "neglect")
    assert "already exists" in info.value.for_field("name")[0]


def test_staff_rules(admin, org):
    with pytest.raises(ValidationError) as info:
        org_service.add_staff(admin, "Pat", os_username="pat smith")
    assert "is not a valid account name" in info.value.for_field("os_username")[0]
    with pytest.raises(ValidationError) as info:
        org_service.add_staff(admin, "Pat", os_username="QA.Officer")  # accounts ignore case
    assert "already belongs to someone" in info.value.for_field("os_username")[0]
    with pytest.raises(ValidationError) as info:
        org_service.add_staff(admin, "Pat", roles=["wizard"])
    assert info.value.for_field("roles")
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.admin, roles=[Role.QA_OFFICER])
    assert "your own administrator role" in info.value.for_field("roles")[0]
    with pytest.raises(ValidationError):
        org_service.update_staff(admin, org.admin, active=False)


# -- roles -------------------------------------------------------------------------------------
def test_staff_without_a_logging_role_cannot_log_audits(manager, make_input, store):
    seq = trail.head(store.conn)[0]
    with pytest.raises(PermissionDenied, match="(?i)only a qa officer or administrator can "
                                               "log audits; Sam Manager is not one"):
        audit_service.create_audit(manager, make_input(), submit=True)
    with pytest.raises(PermissionDenied):
        audit_service.add_audits(manager, [make_input()])
    assert trail.head(store.conn)[0] == seq


def test_permission_message_keeps_the_role_label(manager, make_input):
    with pytest.raises(PermissionDenied) as info:
        audit_service.create_audit(manager, make_input())
    assert "Only a QA officer or administrator can log audits" in str(info.value)


def test_staff_without_a_logging_role_cannot_change_audits(admin, manager, make_input):
    audit_id = audit_service.create_audit(admin, make_input()).record_id
    with pytest.raises(PermissionDenied):
        audit_service.update_audit(manager, audit_id, make_input(findings="mine now"))
    with pytest.raises(PermissionDenied):
        audit_service.submit_audit(manager, audit_id)
    with pytest.raises(PermissionDenied):
        audit_service.withdraw_audit(manager, audit_id, "because")


def test_qa_officer_can_log_audits(auditor, make_input):
    audit_service.create_audit(auditor, make_input(), submit=True)


@pytest.mark.parametrize("action", [
    lambda s, org: org_service.add_team(s, "Rogue team", org.area1),
    lambda s, org: org_service.add_service_area(s, "Rogue area"),
    lambda s, org: org_service.add_staff(s, "Rogue person"),
    lambda s, org: org_service.add_theme(s, "Rogue theme"),
    lambda s, org: org_service.set_outstanding_enabled(s, True),
    lambda s, org: org_service.set_case_reference_format(s, ".*", "anything"),
    lambda s, org: org_service.update_staff(s, org.auditor, active=False),
], ids=["add_team", "add_service_area", "add_staff", "add_theme", "outstanding",
        "case_reference_format", "update_staff"])
def test_non_administrators_cannot_change_the_organisation(auditor, manager, org, store, action):
    seq = trail.head(store.conn)[0]
    for session in (auditor, manager):
        with pytest.raises(PermissionDenied, match="administrator"):
            action(session, org)
    assert trail.head(store.conn)[0] == seq


def test_inactive_staff_are_refused(admin, org, make_input, store):
    session = sign_in(store, os_user="qa.officer", today=admin.today)
    org_service.update_staff(admin, org.auditor, active=False)
    session.refresh_actor()
    with pytest.raises(PermissionDenied, match="inactive"):
        audit_service.create_audit(session, make_input())
    with pytest.raises(PermissionDenied, match="inactive"):
        sign_in(store, os_user="qa.officer")


def test_first_user_on_a_new_store_becomes_administrator(store):
    session = sign_in(store, os_user="first.person")
    assert session.actor.roles == frozenset({Role.ADMINISTRATOR, Role.QA_OFFICER})
    assert session.actor.os_username == "first.person"
    # Signing in again finds the same person, and adds nobody.
    again = sign_in(store, os_user="FIRST.PERSON")
    assert again.actor.id == session.actor.id
    assert store.conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 1


def test_second_unknown_os_user_is_refused(store):
    sign_in(store, os_user="first.person")
    seq = trail.head(store.conn)[0]
    with pytest.raises(PermissionDenied, match="not set up in this store"):
        sign_in(store, os_user="second.person")
    assert store.conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 1
    assert trail.head(store.conn)[0] == seq


def test_retired_team_and_area(admin, org, make_input, store):
    from sefton_qa.store import service_areas as area_store
    from sefton_qa.store import teams as team_store

    with store.transaction() as conn:
        team_store.update(conn, org.team_a2, {"active": 0}, who=admin.who)
        area_store.update(conn, org.area2, {"active": 0}, who=admin.who)
    refused(admin, make_input(team_id=org.team_a2), field="team",
            phrase='"CP Team 2" is no longer in use')
    refused(admin, make_input(service_area_id=org.area2, team_id=org.team_b1),
            field="service_area", phrase='"Children in Care" is no longer in use')


def test_other_reference_fields(admin, make_input):
    refused(admin, make_input(audit_type="peer_review"), field="audit_type",
            phrase='"peer_review" is not an audit type')
    refused(admin, make_input(team_manager_id=999), field="team_manager",
            phrase="there is no member of staff with id 999")
    refused(admin, make_input(template_id=999), field="template",
            phrase="there is no audit template with id 999")


def test_several_problems_are_reported_together(admin, make_input, today):
    with pytest.raises(ValidationError) as info:
        audit_service.create_audit(admin, make_input(case_reference="x",
                                                     audit_date=today + dt.timedelta(days=9),
                                                     theme_ids=[777]), submit=True)
    assert set(problems_of(info.value)) == {"case_reference", "audit_date", "themes"}
    assert len(info.value.problems) == 3


def test_missing_records(admin, org, make_input):
    from sefton_qa.domain.errors import NotFound

    for call in (lambda: audit_service.get_audit(admin, 999),
                 lambda: audit_service.update_audit(admin, 999, make_input()),
                 lambda: audit_service.submit_audit(admin, 999),
                 lambda: audit_service.withdraw_audit(admin, 999, "gone"),
                 lambda: org_service.update_staff(admin, 999, display_name="Nobody"),
                 lambda: org_service.set_team_service_manager(admin, 999, None)):
        with pytest.raises(NotFound, match="999"):
            call()


def test_more_organisation_messages(admin, org):
    with pytest.raises(ValidationError) as info:
        org_service.add_staff(admin, "Pat", team_id=999)
    assert "there is no team with id 999" in info.value.for_field("team")[0]
    with pytest.raises(ValidationError) as info:
        org_service.set_team_service_manager(admin, org.team_a1, 999)
    assert "no member of staff with id 999" in info.value.for_field("service_manager")[0]
    with pytest.raises(ValidationError) as info:
        org_service.set_authority_name(admin, "")
    assert info.value.for_field("authority_name") == ["is required"]
    with pytest.raises(ValidationError) as info:
        org_service.set_case_reference_format(admin, r"\d+", " ")
    assert info.value.for_field("case_reference_hint") == ["is required"]
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.auditor, display_name="")
    assert info.value.for_field("display_name") == ["is required"]
    org_service.set_team_service_manager(admin, org.team_a1, None)
    org_service.set_authority_name(admin, "Sefton Council")
    assert org_service.settings(admin)["authority_name"] == "Sefton Council"
