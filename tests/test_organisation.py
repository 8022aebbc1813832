"""The organisation services the settings dialog and the first-run setup use: renaming and
retiring service areas, teams and themes; staff accounts and teams; template versions; setting
a store up in one go. Each validates with a plain message, refuses non-administrators, writes
its trail rows, and leaves a store that verifies."""

from __future__ import annotations

import pytest

from sefton_qa.domain.errors import NotFound, PermissionDenied, ValidationError
from sefton_qa.domain.models import Role, TemplateSection
from sefton_qa.domain.reference import DEFAULT_TEMPLATE_NAME
from sefton_qa.services import organisation as org_service
from sefton_qa.services.verify import verify_store
from sefton_qa.store import trail


def rows_after(conn, seq: int):
    return [trail._entry(r) for r in conn.execute(
        f"SELECT {trail._COLUMNS} FROM trail WHERE seq > ? ORDER BY seq", (seq,))]


def head(store) -> int:
    return trail.head(store.conn)[0]


def assert_verifies(store) -> None:
    report = verify_store(store)
    assert report.ok, report.lines()


def area_named(session, name):
    return next(a for a in org_service.service_areas(session) if a.name == name)


def theme_named(session, name):
    return next(t for t in org_service.themes(session) if t.name == name)


def team(session, team_id):
    return next(t for t in org_service.teams(session) if t.id == team_id)


def person(session, staff_id):
    return next(s for s in org_service.staff(session) if s.id == staff_id)


# -- service areas -----------------------------------------------------------------------------
def test_rename_service_area_is_trailed(admin, org, store):
    seq = head(store)
    org_service.rename_service_area(admin, org.area1, "Child Protection and Court")
    [row] = rows_after(store.conn, seq)
    assert (row.table_name, row.record_id, row.kind) == ("service_areas", org.area1, "update")
    assert row.changes == {"name": ["Child Protection", "Child Protection and Court"]}
    assert row.staff_id == admin.actor.id
    # A change of case only is a rename of itself, not a clash.
    org_service.rename_service_area(admin, org.area1, "child protection and court")
    assert_verifies(store)


def test_rename_service_area_messages(admin, org, store):
    seq = head(store)
    with pytest.raises(ValidationError) as info:
        org_service.rename_service_area(admin, org.area1, "children in care")
    assert info.value.for_field("name") == ['a service area called "Children in Care" already '
                                            "exists"]
    with pytest.raises(ValidationError) as info:
        org_service.rename_service_area(admin, org.area1, "  ")
    assert info.value.for_field("name") == ["is required"]
    with pytest.raises(ValidationError) as info:
        org_service.rename_service_area(admin, org.area1, " Padded")
    assert info.value.for_field("name") == ["must not start or end with spaces"]
    with pytest.raises(ValidationError) as info:
        org_service.rename_service_area(admin, org.area1, "x" * 121)
    assert info.value.for_field("name") == ["is longer than 120 characters"]
    with pytest.raises(NotFound, match="no service area with id 999"):
        org_service.rename_service_area(admin, 999, "Anything")
    assert head(store) == seq


def test_retire_and_reactivate_service_area(admin, org, store):
    seq = head(store)
    org_service.set_service_area_active(admin, org.area2, False)
    assert not area_named(admin, "Children in Care").active
    assert [a.name for a in org_service.service_areas(admin, active_only=True)] == [
        "Child Protection"]
    # Retiring again changes nothing, and writes nothing.
    org_service.set_service_area_active(admin, org.area2, False)
    org_service.set_service_area_active(admin, org.area2, True)
    changes = [r.changes for r in rows_after(store.conn, seq)]
    assert changes == [{"active": [1, 0]}, {"active": [0, 1]}]
    with pytest.raises(NotFound):
        org_service.set_service_area_active(admin, 999, True)
    assert_verifies(store)


# -- teams -------------------------------------------------------------------------------------
def test_rename_team(admin, org, store):
    seq = head(store)
    org_service.rename_team(admin, org.team_a1, "CP Team North")
    assert team(admin, org.team_a1).name == "CP Team North"
    [row] = rows_after(store.conn, seq)
    assert row.changes == {"name": ["CP Team 1", "CP Team North"]}
    # The same name in another area is fine: names are unique within an area.
    org_service.rename_team(admin, org.team_b1, "CP Team 2")
    with pytest.raises(ValidationError) as info:
        org_service.rename_team(admin, org.team_a1, "cp team 2")
    assert info.value.for_field("name") == ['that service area already has a team called '
                                            '"cp team 2"']
    with pytest.raises(ValidationError) as info:
        org_service.rename_team(admin, org.team_a1, "")
    assert info.value.for_field("name") == ["is required"]
    with pytest.raises(NotFound, match="no team with id 999"):
        org_service.rename_team(admin, 999, "Ghosts")
    assert_verifies(store)


def test_retire_and_reactivate_team(admin, org, store):
    org_service.set_team_active(admin, org.team_a2, False)
    assert not team(admin, org.team_a2).active
    assert org.team_a2 not in {t.id for t in org_service.teams(admin, active_only=True)}
    org_service.set_team_active(admin, org.team_a2, True)
    assert team(admin, org.team_a2).active
    # A team cannot come back while its whole service area is retired.
    org_service.set_team_active(admin, org.team_b1, False)
    org_service.set_service_area_active(admin, org.area2, False)
    seq = head(store)
    with pytest.raises(ValidationError) as info:
        org_service.set_team_active(admin, org.team_b1, True)
    assert info.value.for_field("active") == [
        'its service area "Children in Care" is no longer in use; reactivate the service area '
        "first"]
    assert head(store) == seq
    with pytest.raises(NotFound):
        org_service.set_team_active(admin, 999, False)
    assert_verifies(store)


def test_team_service_manager_must_hold_the_role(admin, org, store):
    with pytest.raises(ValidationError) as info:
        org_service.set_team_service_manager(admin, org.team_a1, org.auditor)
    assert info.value.for_field("service_manager") == [
        "Alex Auditor does not hold the service manager role"]
    org_service.set_team_service_manager(admin, org.team_a1, None)
    assert team(admin, org.team_a1).service_manager_id is None
    org_service.set_team_service_manager(admin, org.team_a1, org.manager)
    assert team(admin, org.team_a1).service_manager_id == org.manager


# -- themes ------------------------------------------------------------------------------------
def test_rename_and_retire_theme(admin, org, store):
    neglect = theme_named(admin, "Neglect").id
    seq = head(store)
    org_service.rename_theme(admin, neglect, "Neglect and poverty")
    org_service.set_theme_active(admin, neglect, False)
    rows = rows_after(store.conn, seq)
    assert [(r.table_name, r.record_id, r.changes) for r in rows] == [
        ("themes", neglect, {"name": ["Neglect", "Neglect and poverty"]}),
        ("themes", neglect, {"active": [1, 0]}),
    ]
    assert "Neglect and poverty" not in {t.name for t in org_service.themes(admin,
                                                                           active_only=True)}
    org_service.set_theme_active(admin, neglect, True)
    assert theme_named(admin, "Neglect and poverty").active
    assert_verifies(store)


def test_theme_messages(admin, org, store):
    neglect = theme_named(admin, "Neglect").id
    seq = head(store)
    with pytest.raises(ValidationError) as info:
        org_service.rename_theme(admin, neglect, "domestic abuse")
    assert info.value.for_field("name") == ['a theme called "Domestic abuse" already exists']
    with pytest.raises(ValidationError) as info:
        org_service.rename_theme(admin, neglect, "")
    assert info.value.for_field("name") == ["is required"]
    with pytest.raises(NotFound, match="no theme with id 999"):
        org_service.rename_theme(admin, 999, "x")
    with pytest.raises(NotFound):
        org_service.set_theme_active(admin, 999, True)
    assert head(store) == seq


# -- staff -------------------------------------------------------------------------------------
def test_update_staff_account_and_team(admin, org, store):
    seq = head(store)
    org_service.update_staff(admin, org.auditor, os_username="alex.a", team_id=org.team_a1)
    [row] = rows_after(store.conn, seq)
    assert row.changes == {"os_username": ["qa.officer", "alex.a"],
                           "team_id": [None, org.team_a1]}
    # Leaving arguments out keeps those fields; None clears them.
    org_service.update_staff(admin, org.auditor, display_name="Alex Auditor-Jones")
    alex = person(admin, org.auditor)
    assert (alex.os_username, alex.team_id) == ("alex.a", org.team_a1)
    org_service.update_staff(admin, org.auditor, os_username=None, team_id=None)
    alex = person(admin, org.auditor)
    assert (alex.os_username, alex.team_id) == (None, None)
    org_service.update_staff(admin, org.auditor, os_username="")  # blank is no account too
    assert_verifies(store)


def test_update_staff_messages(admin, org, store):
    seq = head(store)
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.auditor, os_username="SERVICE.MANAGER")
    assert info.value.for_field("os_username") == [
        'the account "SERVICE.MANAGER" already belongs to Sam Manager']
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.auditor, os_username="alex auditor")
    assert "is not a valid account name" in info.value.for_field("os_username")[0]
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.admin, os_username="someone.else")
    assert info.value.for_field("os_username") == [
        "you cannot change the account you are signed in with; ask another administrator"]
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.auditor, team_id=999)
    assert info.value.for_field("team") == ["there is no team with id 999"]
    org_service.set_team_active(admin, org.team_a2, False)
    seq = head(store)
    with pytest.raises(ValidationError) as info:
        org_service.update_staff(admin, org.auditor, team_id=org.team_a2)
    assert info.value.for_field("team") == ['"CP Team 2" is no longer in use']
    with pytest.raises(ValidationError) as info:  # several problems at once
        org_service.update_staff(admin, org.auditor, display_name="", roles=["wizard"])
    assert {p.field for p in info.value.problems} == {"display_name", "roles"}
    assert head(store) == seq


def test_you_keep_your_own_admin_role_and_account(admin, org, store):
    seq = head(store)
    with pytest.raises(ValidationError, match="your own administrator role"):
        org_service.update_staff(admin, org.admin, roles=[Role.QA_OFFICER])
    with pytest.raises(ValidationError, match="deactivate yourself"):
        org_service.update_staff(admin, org.admin, active=False)
    assert head(store) == seq
    # Changing only the case of your own account is not a change of account.
    org_service.update_staff(admin, org.admin, os_username="ADMIN.USER",
                             display_name="Ada Admin")
    assert admin.actor.display_name == "Ada Admin"


# -- case references ---------------------------------------------------------------------------
def test_try_case_reference():
    assert org_service.try_case_reference(r"^LCS-\d{6}$", "LCS- and six digits",
                                          "LCS-123456") is None
    assert org_service.try_case_reference(r"^LCS-\d{6}$", "LCS- and six digits", "LCS-12") == (
        '"LCS-12" is not a valid case reference (LCS- and six digits)')
    assert org_service.try_case_reference(r"\d+", "digits", "") == "is required"
    with pytest.raises(ValidationError) as info:
        org_service.try_case_reference(r"LCS-(\d+", "x", "LCS-1")
    assert info.value.for_field("case_reference_pattern")[0].startswith(
        "is not a valid pattern")


# -- templates ---------------------------------------------------------------------------------
def test_add_template_version(admin, org, store):
    old = org_service.current_template(admin)
    assert (old.name, old.version) == (DEFAULT_TEMPLATE_NAME, 1)
    sections = list(old.sections[:3]) + [TemplateSection("education", "Education",
                                                         "Is the child in school?")]
    seq = head(store)
    change = org_service.add_template_version(admin, old.id, sections, reason="Add education")
    new = org_service.current_template(admin)
    assert (new.id, new.name, new.version, new.active) == (change.record_id, old.name, 2, True)
    assert new.sections == tuple(sections)
    rows = rows_after(store.conn, seq)
    assert [(r.table_name, r.record_id, r.kind) for r in rows] == [
        ("audit_templates", new.id, "create"), ("audit_templates", old.id, "update")]
    assert rows[0].reason == "Add education"
    assert rows[1].changes == {"active": [1, 0]}
    # The old version is kept for the audits logged with it, but no longer offered.
    assert [t.version for t in org_service.templates(admin)] == [1, 2]
    assert [t.version for t in org_service.templates(admin, active_only=True)] == [2]
    # Tuples and dicts are accepted too.
    org_service.add_template_version(admin, new.id, [("voice", "The child's voice"),
                                                     {"key": "plan", "title": "Planning"}])
    assert org_service.current_template(admin).version == 3
    assert_verifies(store)


def test_template_version_messages(admin, org, store):
    old = org_service.current_template(admin)
    seq = head(store)

    def problems(sections, template_id=old.id):
        with pytest.raises(ValidationError) as info:
            org_service.add_template_version(admin, template_id, sections)
        return [p.message for p in info.value.problems]

    assert problems([]) == ["a template needs at least one section"]
    assert problems([("Voice", "The child's voice")]) == [
        'section 1: the key "Voice" must start with a lower-case letter and hold only '
        "lower-case letters, digits and _ (at most 40)"]
    assert problems([("voice", "A"), ("voice", "B")]) == [
        'section 2: the key "voice" is used twice']
    assert problems([("voice", "")]) == ["section 1: the title is required"]
    assert problems([("voice", "Voice", "x" * 1001)]) == [
        "section 1: the prompt is longer than 1000 characters"]
    assert problems(list(old.sections)) == [
        "are the same as version 1: there is nothing to save"]
    with pytest.raises(NotFound):
        org_service.add_template_version(admin, 999, [("voice", "Voice")])
    assert head(store) == seq
    org_service.add_template_version(admin, old.id, [("voice", "Voice")])
    assert problems([("voice", "Voice again")]) == [
        f"{DEFAULT_TEMPLATE_NAME} has a newer version (2) than the one edited (1); start again "
        "from version 2"]


def test_suggest_section_key():
    assert org_service.suggest_section_key("Multi-agency working") == "multi_agency_working"
    assert org_service.suggest_section_key("Voice", taken={"voice"}) == "voice_2"
    assert org_service.suggest_section_key("  ") == "section"
    assert org_service.suggest_section_key("2nd review") == "s_2nd_review"


# -- setting a store up ------------------------------------------------------------------------
def test_set_up_in_one_go(admin, store):
    assert org_service.needs_first_run(admin)
    result = org_service.set_up(
        admin, authority_name="Sefton Council", your_name="Ada Admin",
        areas={"Front Door / MASH": ["MASH Team"],
               "Children in Care": ["CiC Team A", "CiC Team B"]},
        staff=[org_service.NewStaff("Pat Auditor", "pat.a", (Role.QA_OFFICER, Role.MODERATOR),
                                    team=("Children in Care", "CiC Team B")),
               org_service.NewStaff("Sam Manager", None, (Role.SERVICE_MANAGER,))])
    assert result == org_service.SetupResult(service_areas=2, teams=3, staff=2)
    assert org_service.settings(admin)["authority_name"] == "Sefton Council"
    assert admin.actor.display_name == "Ada Admin"
    areas = {a.name: a.id for a in org_service.service_areas(admin)}
    assert set(areas) == {"Front Door / MASH", "Children in Care"}
    teams = {t.name: t for t in org_service.teams(admin)}
    assert teams["CiC Team B"].service_area_id == areas["Children in Care"]
    pat = next(s for s in org_service.staff(admin) if s.display_name == "Pat Auditor")
    assert pat.team_id == teams["CiC Team B"].id
    assert pat.roles == {Role.QA_OFFICER, Role.MODERATOR}
    assert not org_service.needs_first_run(admin)
    assert_verifies(store)


def test_set_up_reuses_what_exists(admin, org, store):
    org_service.set_service_area_active(admin, org.area2, False)
    result = org_service.set_up(admin, authority_name="Sefton Council",
                                areas=[("child protection", ["CP Team 1", "CP Team 3"]),
                                       ("Children in Care", ["CiC Team A"])])
    assert result.service_areas == 0 and result.teams == 1
    assert area_named(admin, "Children in Care").active
    assert len(org_service.service_areas(admin)) == 2


def test_set_up_is_all_or_nothing(admin, store, table_counts):
    before = table_counts(store.conn)
    # Caught before anything is written.
    with pytest.raises(ValidationError) as info:
        org_service.set_up(admin, authority_name="", areas={
            "Assessment": [], "": ["X"]},
            staff=[org_service.NewStaff("", "bad name"),
                   org_service.NewStaff("Pat", "pat", team=("Nowhere", "None"))])
    messages = [str(p) for p in info.value.problems]
    assert messages == [
        "authority_name: is required",
        "teams:Assessment: Assessment needs at least one team",
        "service_areas: a service area's name is required",
        "staff:1: person 1: the name is required",
        'staff:1: person 1: "bad name" is not a valid account name (letters, digits, . _ @ \\ -)',
        'staff:2: Pat: the team "None" is not one of those being set up',
    ]
    with pytest.raises(ValidationError, match="choose at least one service area"):
        org_service.set_up(admin, authority_name="Sefton", areas={})
    with pytest.raises(ValidationError, match='Area lists "a" twice'):
        org_service.set_up(admin, authority_name="Sefton", areas={"Area": ["A", "a"]})
    with pytest.raises(ValidationError, match='Pat Two: the account "PAT" is listed twice'):
        org_service.set_up(admin, authority_name="Sefton", areas={"Area": ["A"]},
                           staff=[org_service.NewStaff("Pat", "pat"),
                                  org_service.NewStaff("Pat Two", "PAT")])
    # Found only while writing (the account is the administrator's own): everything before it
    # is rolled back, and the message says whose it is.
    with pytest.raises(ValidationError) as info:
        org_service.set_up(admin, authority_name="Sefton Council",
                           areas={"Assessment": ["Assessment Team"]},
                           staff=[org_service.NewStaff("Copy Cat", "admin.user")])
    assert [str(p) for p in info.value.problems] == [
        'staff:1: Copy Cat: the account "admin.user" already belongs to someone']
    assert table_counts(store.conn) == before
    assert org_service.settings(admin)["authority_name"] == "Example Borough Council"
    assert org_service.needs_first_run(admin)


# -- who may ----------------------------------------------------------------------------------
NEW_SERVICES = {
    "rename_service_area": lambda s, o: org_service.rename_service_area(s, o.area1, "X"),
    "set_service_area_active": lambda s, o: org_service.set_service_area_active(s, o.area1,
                                                                                False),
    "rename_team": lambda s, o: org_service.rename_team(s, o.team_a1, "X"),
    "set_team_active": lambda s, o: org_service.set_team_active(s, o.team_a1, False),
    "rename_theme": lambda s, o: org_service.rename_theme(s, o.themes["Neglect"], "X"),
    "set_theme_active": lambda s, o: org_service.set_theme_active(s, o.themes["Neglect"],
                                                                  False),
    "update_staff_account": lambda s, o: org_service.update_staff(s, o.auditor,
                                                                  os_username="x"),
    "add_template_version": lambda s, o: org_service.add_template_version(
        s, o.template, [("voice", "Voice")]),
    "set_up": lambda s, o: org_service.set_up(s, authority_name="X", areas={"A": ["T"]}),
}


@pytest.mark.parametrize("action", list(NEW_SERVICES.values()), ids=list(NEW_SERVICES))
def test_non_administrators_are_refused(auditor, manager, org, store, action):
    seq = head(store)
    for session in (auditor, manager):
        with pytest.raises(PermissionDenied, match="Only an administrator can"):
            action(session, org)
    assert head(store) == seq


def test_an_inactive_administrator_is_refused(admin, org, store):
    from sefton_qa.services import sign_in

    org_service.update_staff(admin, org.auditor, roles=[Role.ADMINISTRATOR])
    other = sign_in(store, os_user="qa.officer", today=admin.today)
    org_service.update_staff(admin, org.auditor, active=False)
    other.refresh_actor()
    with pytest.raises(PermissionDenied, match="inactive"):
        org_service.rename_theme(other, org.themes["Neglect"], "X")
