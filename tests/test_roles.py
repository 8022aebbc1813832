"""Every role against every service action: allowed, or PermissionDenied. Deny by default: a
person with no role, or an inactive account (whatever roles it holds), may do nothing that
changes data (except complete an action they own, for someone with no role)."""

from __future__ import annotations

import csv
import datetime as dt
from types import SimpleNamespace

import pytest

from sefton_qa.domain.errors import PermissionDenied
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import ActionInput, AuditType, Role, Selection
from sefton_qa.services import audits as audit_service
from sefton_qa.services import import_export
from sefton_qa.services import moderation
from sefton_qa.services import organisation as org_service
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import loop as loop_store
from sefton_qa.store import records
from sefton_qa.store import trail as trail_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store

TODAY = dt.date(2026, 11, 24)
ROLES = {
    "qa_officer": [Role.QA_OFFICER],
    "moderator": [Role.MODERATOR],
    "service_manager": [Role.SERVICE_MANAGER],
    "administrator": [Role.ADMINISTRATOR],
    "nobody": [],
    "inactive": list(Role),  # every role, but the account is inactive
}
QA, MOD, SM, ADMIN = "qa_officer", "moderator", "service_manager", "administrator"
LOGGERS = {QA, ADMIN}
FACILITATORS = {SM, ADMIN}


@pytest.fixture
def ctx(store, admin, org, make_input, tmp_path):
    """Something for every action to act on, and a way to make the actor."""
    with store.transaction() as conn:
        settings_store.put(conn, "calibration_rate", 0.0, who=admin.who)
    moderator = org_service.add_staff(admin, "Mo Moderator", os_username="mo.moderator",
                                      roles=[Role.MODERATOR]).record_id
    team_manager = org_service.add_staff(admin, "Tia Teamlead", roles=[],
                                         team_id=org.team_a1).record_id

    def session_for(staff_id):
        return Session(store=store, actor=staff_store.get(store.conn, staff_id),
                       os_user="role.test", today=lambda: TODAY)

    def make(role_name, sampling=False):
        actor = org_service.add_staff(admin, f"Actor {role_name}", os_username="actor",
                                      roles=ROLES[role_name]).record_id
        ids = SimpleNamespace(actor=actor)
        if sampling:
            _prepare_sampling(admin, org, make_input, tmp_path, ids, ROLES[role_name])
        ids.draft = audit_service.create_audit(admin, make_input()).record_id
        ids.draft2 = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100002")).record_id
        ids.submitted = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100003"), submit=True).record_id
        # The undo target's last change was made by the actor (written as them), so only the
        # role decides whether they may undo it.
        ids.undo = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100004")).record_id
        with store.transaction() as conn:
            audit_store.update(conn, ids.undo, {"findings": "Changed by the actor."},
                               who=records.Who(actor, "actor"))
        # The redo target: the actor's change, undone by the actor.
        ids.redo = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100014")).record_id
        with store.transaction() as conn:
            audit_store.update(conn, ids.redo, {"findings": "Changed by the actor."},
                               who=records.Who(actor, "actor"))
            changed = trail_store.entries_for(conn, "audits", ids.redo)[-1]
            audit_store.update(conn, ids.redo, {"findings": make_input().findings},
                               who=records.Who(actor, "actor"), kind="undo",
                               reason=f"Undo of change {changed.seq} (update)")
        ids.flagged = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100005", overall_grade=Grade.INADEQUATE),
            submit=True).record_id
        ids.moderation = loop_store.moderations_for_audit(store.conn, ids.flagged)[0].id
        looped = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100006", overall_grade=Grade.INADEQUATE),
            submit=True).record_id
        moderation.moderate(session_for(moderator),
                            loop_store.moderations_for_audit(store.conn, looped)[0].id,
                            Grade.INADEQUATE)
        ids.looped = looped
        (conversation,) = loop_store.conversations_for_audit(store.conn, looped)
        ids.conversation = conversation.id
        held = audit_service.create_audit(
            admin, make_input(case_reference="LCS-100007", overall_grade=Grade.INADEQUATE),
            submit=True).record_id
        moderation.moderate(session_for(moderator),
                            loop_store.moderations_for_audit(store.conn, held)[0].id,
                            Grade.INADEQUATE)
        (c2,) = loop_store.conversations_for_audit(store.conn, held)
        moderation.hold_conversation(
            admin, c2.id, held_on=TODAY, participants=["worker"], learning="Learnt.",
            actions=[ActionInput("Mine.", actor, TODAY),
                     ActionInput("Someone else's.", team_manager, TODAY)])
        ids.own_action, ids.other_action = [
            a.id for a in loop_store.actions_for_audit(store.conn, held)]
        if role_name == "inactive":
            org_service.update_staff(admin, actor, active=False)
        ids.csv = tmp_path / "audits.csv"
        with open(ids.csv, "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["case_reference", "audit_date", "service_area", "team", "auditor",
                          "grade"])
            out.writerow(["LCS-100099", "31/05/2026", "Child Protection", "CP Team 1",
                          "Alex Auditor", "Good"])
        return session_for(actor), ids

    return SimpleNamespace(make=make, org=org, make_input=make_input, tmp_path=tmp_path)


def _prepare_sampling(admin, org, make_input, tmp_path, ids, roles):
    """Issue 19: a caseload, a drawn and allocated plan (one allocation the actor's when they
    are a QA officer, with a draft audit of its case to link), and a plan not yet drawn."""
    from sefton_qa.domain.sampling import Quota
    from sefton_qa.services import caseload, plans

    ids.caseload = tmp_path / "caseload.csv"
    with open(ids.caseload, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["case_reference", "team", "case_type", "open_date"])
        for i in range(12):
            out.writerow([f"LCS-7{i:05d}", "CP Team 1" if i % 2 else "CiC Team A", "CIN",
                          "01/03/2026"])
    assert caseload.import_caseload(admin, ids.caseload, taken_on=TODAY).ok
    drawn = plans.create_plan(admin, dt.date(2026, 7, 1), dt.date(2026, 9, 30),
                              per_stratum=Quota(2, 0)).record_ids[0]
    ids.undrawn = plans.create_plan(admin, dt.date(2026, 4, 1), dt.date(2026, 6, 30),
                                    per_stratum=Quota(1, 0)).record_ids[0]
    ids.org_auditor = org.auditor
    ids.draw = plans.make_draw(admin, drawn, seed=5).draw.id
    ids.unallocated_draw = plans.make_draw(admin, plans.create_plan(
        admin, dt.date(2025, 10, 1), dt.date(2025, 12, 31), per_stratum=Quota(1, 0),
        exclude_months=0).record_ids[0], seed=6).draw.id
    plans.allocate_draw(admin, ids.draw, auditor_ids=[ids.org_auditor])
    ids.alloc, ids.alloc2 = [a.id for a in plans.allocations(admin, draw_id=ids.draw)][:2]
    if Role.QA_OFFICER in roles:
        plans.reallocate(admin, ids.alloc, ids.actor, "The actor audits this one.")
    case = plans.allocations(admin, draw_id=ids.draw)[0].case_reference
    ids.linked_audit = audit_service.create_audit(
        admin, make_input(case_reference=case)).record_id


def _import_caseload(s, c, ids):
    from sefton_qa.services import caseload

    assert caseload.import_caseload(s, ids.caseload).ok


def _create_plan(s, c, ids):
    from sefton_qa.domain.sampling import Quota
    from sefton_qa.services import plans

    plans.create_plan(s, dt.date(2026, 1, 1), dt.date(2026, 3, 31), total=Quota(4, 2))


def _set_quota(s, c, ids):
    from sefton_qa.services import plans

    plans.set_quota(s, ids.undrawn, "CP Team 1", deep_dives=3, dip_samples=0)


def _cancel_plan(s, c, ids):
    from sefton_qa.services import plans

    plans.cancel_plan(s, ids.undrawn, "Planned in error.")


def _draw(s, c, ids):
    from sefton_qa.services import plans

    plans.make_draw(s, ids.undrawn)


def _discard_draw(s, c, ids):
    from sefton_qa.services import plans

    plans.discard_draw(s, ids.draw, "Drawn from last month's caseload.")


def _allocate(s, c, ids):
    from sefton_qa.services import plans

    assert plans.allocate_draw(s, ids.unallocated_draw).allocated


def _reallocate(s, c, ids):
    from sefton_qa.services import plans

    plans.reallocate(s, ids.alloc2, c.org.admin, "Alex is on leave.")


def _use_reserve(s, c, ids):
    from sefton_qa.services import plans

    plans.use_reserve(s, ids.alloc2, "The case closed before it was audited.")


def _link_audit(s, c, ids):
    from sefton_qa.services import plans

    plans.link_audit(s, ids.alloc, ids.linked_audit)


def _start_audit(s, c, ids):
    from sefton_qa.services import plans

    plans.start_audit(s, ids.alloc)


def _export_allocations(s, c, ids):
    from sefton_qa.services import plans

    plans.export_allocations(s, c.tmp_path / f"allocations-{ids.actor}.csv", draw_id=ids.draw)


def _set_due_days(s, c, ids):
    from sefton_qa.services import plans

    plans.set_allocation_due_days(s, 10)


def _create(s, c, ids):
    audit_service.create_audit(s, c.make_input(case_reference="LCS-100050"))


def _edit(s, c, ids):
    audit_service.update_audit(s, ids.draft, c.make_input(findings="Edited."))


def _submit(s, c, ids):
    audit_service.submit_audit(s, ids.draft2)


def _withdraw(s, c, ids):
    audit_service.withdraw_audit(s, ids.submitted, "Logged in error.")


def _undo(s, c, ids):
    audit_service.undo_last_change(s, ids.undo)


def _redo(s, c, ids):
    audit_service.redo_last_undo(s, ids.redo)


def _import(s, c, ids):
    report = import_export.import_audits(s, ids.csv)
    assert report.ok and report.added == 1, report


def _export(s, c, ids):
    import_export.export_audits(s, c.tmp_path / "out.csv")


def _moderate(s, c, ids):
    moderation.moderate(s, ids.moderation, Grade.INADEQUATE)


def _hold(s, c, ids):
    moderation.hold_conversation(s, ids.conversation, held_on=TODAY, participants=["worker"],
                                 learning="Learnt.")


def _add_action(s, c, ids):
    moderation.add_action(s, ids.looped, ActionInput("Visit.", c.org.auditor, TODAY))


def _complete_own(s, c, ids):
    moderation.complete_action(s, ids.own_action, "Done.")


def _complete_other(s, c, ids):
    moderation.complete_action(s, ids.other_action, "Done.")


def _not_needed(s, c, ids):
    moderation.action_not_needed(s, ids.other_action, "Case transferred.")


def _add_area(s, c, ids):
    org_service.add_service_area(s, "Early Help")


def _add_team(s, c, ids):
    org_service.add_team(s, "CP Team 3", c.org.area1)


def _add_staff(s, c, ids):
    org_service.add_staff(s, "New Person")


def _change_staff(s, c, ids):
    org_service.update_staff(s, c.org.auditor, display_name="Alex A. Auditor")


def _add_theme(s, c, ids):
    org_service.add_theme(s, "Private fostering")


def _set_name(s, c, ids):
    org_service.set_authority_name(s, "Sefton Council")


def _set_exempt(s, c, ids):
    org_service.set_exempt_information(s, "Not for publication (Seaside wording).")


def _set_selection(s, c, ids):
    org_service.set_selection_default(s, AuditType.DIP_SAMPLE, Selection.RANDOM_DRAW)


def _set_grades(s, c, ids):
    org_service.set_outstanding_enabled(s, True)


def _set_reference(s, c, ids):
    org_service.set_case_reference_format(s, r"^LCS-\d{6}$", "LCS- and six digits")


def _add_audits(s, c, ids):
    audit_service.add_audits(s, [c.make_input(case_reference="LCS-300001")], submit=False)


def _rename_area(s, c, ids):
    org_service.rename_service_area(s, c.org.area1, "Child Protection and Safeguarding")


def _retire_area(s, c, ids):
    org_service.set_service_area_active(s, c.org.area2, False)


def _rename_team(s, c, ids):
    org_service.rename_team(s, c.org.team_a2, "CP Team Two")


def _retire_team(s, c, ids):
    org_service.set_team_active(s, c.org.team_a2, False)


def _set_manager(s, c, ids):
    org_service.set_team_service_manager(s, c.org.team_a1, None)


def _rename_theme(s, c, ids):
    org_service.rename_theme(s, c.org.themes["Neglect"], "Neglect and drift")


def _retire_theme(s, c, ids):
    org_service.set_theme_active(s, c.org.themes["Neglect"], False)


def _set_earliest(s, c, ids):
    org_service.set_earliest_audit_date(s, dt.date(1998, 1, 1))


def _new_template(s, c, ids):
    from sefton_qa.domain.models import TemplateSection

    old = org_service.current_template(s)
    org_service.add_template_version(
        s, old.id, list(old.sections) + [TemplateSection("education", "Education",
                                                         "Is the child in school?")],
        reason="Add education")


def _set_up(s, c, ids):
    org_service.set_up(s, authority_name="Sefton Council", areas={"Early Help": ["EH Team 1"]})


def _pack(s, c, ids):
    from sefton_qa.services.reports import committee_pack

    committee_pack(s, TODAY - dt.timedelta(days=90), TODAY,
                   c.tmp_path / f"pack-{ids.actor}.pdf")


SAMPLING_ACTIONS = {
    "import caseload": (_import_caseload, {ADMIN}),
    "create audit plan": (_create_plan, {ADMIN}),
    "set a plan's quota": (_set_quota, {ADMIN}),
    "cancel audit plan": (_cancel_plan, {ADMIN}),
    "draw a sample": (_draw, {ADMIN}),
    "discard a draw": (_discard_draw, {ADMIN}),
    "allocate a draw": (_allocate, {ADMIN}),
    "reallocate a case": (_reallocate, {ADMIN}),
    "use a reserve": (_use_reserve, {ADMIN}),
    "link an audit to its allocation": (_link_audit, {QA, ADMIN}),
    "start an allocated audit": (_start_audit, {QA, ADMIN}),
    "export allocations": (_export_allocations, {SM, ADMIN}),
    "set when allocations are due": (_set_due_days, {ADMIN}),
}
ACTIONS = {
    **SAMPLING_ACTIONS,
    "add audits in bulk": (_add_audits, LOGGERS),
    "rename service area": (_rename_area, {ADMIN}),
    "retire service area": (_retire_area, {ADMIN}),
    "rename team": (_rename_team, {ADMIN}),
    "retire team": (_retire_team, {ADMIN}),
    "set team's service manager": (_set_manager, {ADMIN}),
    "rename theme": (_rename_theme, {ADMIN}),
    "retire theme": (_retire_theme, {ADMIN}),
    "change earliest audit date": (_set_earliest, {ADMIN}),
    "new template version": (_new_template, {ADMIN}),
    "set up the store": (_set_up, {ADMIN}),
    "build committee pack": (_pack, {QA, MOD, SM, ADMIN}),
    "create audit": (_create, LOGGERS),
    "edit audit": (_edit, LOGGERS),
    "submit audit": (_submit, LOGGERS),
    "withdraw audit": (_withdraw, LOGGERS),
    "undo audit change": (_undo, LOGGERS),
    "redo audit change": (_redo, LOGGERS),
    "import audits": (_import, LOGGERS),
    "export audits": (_export, {QA, MOD, SM, ADMIN}),
    "moderate": (_moderate, {MOD}),
    "hold conversation": (_hold, FACILITATORS),
    "add action": (_add_action, FACILITATORS),
    "complete own action": (_complete_own, {QA, MOD, SM, ADMIN, "nobody"}),
    "complete someone else's action": (_complete_other, FACILITATORS),
    "close action as not needed": (_not_needed, FACILITATORS),
    "add service area": (_add_area, {ADMIN}),
    "add team": (_add_team, {ADMIN}),
    "add staff": (_add_staff, {ADMIN}),
    "change staff": (_change_staff, {ADMIN}),
    "add theme": (_add_theme, {ADMIN}),
    "change authority name": (_set_name, {ADMIN}),
    "change grade scale": (_set_grades, {ADMIN}),
    "change exempt-information paragraph": (_set_exempt, {ADMIN}),
    "change how cases are recorded as chosen": (_set_selection, {ADMIN}),
    "change case-reference format": (_set_reference, {ADMIN}),
}

CASES = []
for action_name, (_fn, allowed) in ACTIONS.items():
    for role_name in ROLES:
        CASES.append(pytest.param(action_name, role_name, role_name in allowed,
                                  id=f"{action_name}-{role_name}"))


@pytest.mark.parametrize("action_name, role_name, allowed", CASES)
def test_role_table(ctx, store, action_name, role_name, allowed):
    session, ids = ctx.make(role_name, sampling=action_name in SAMPLING_ACTIONS)
    fn = ACTIONS[action_name][0]
    if allowed:  # and it wrote: every allowed action leaves its trail rows, as this actor
        before = store.conn.execute("SELECT coalesce(max(seq), 0) FROM trail").fetchone()[0]
        fn(session, ctx, ids)
        written = store.conn.execute("SELECT DISTINCT staff_id FROM trail WHERE seq > ?",
                                     (before,)).fetchall()
        assert written and {r[0] for r in written} <= {ids.actor}, written
        return
    trail_rows = store.conn.execute("SELECT count(*) FROM trail").fetchone()[0]
    with pytest.raises(PermissionDenied) as exc:
        fn(session, ctx, ids)
    message = str(exc.value)
    if role_name == "inactive":
        assert "inactive" in message
    else:
        assert message.startswith("Only "), message
    assert store.conn.execute("SELECT count(*) FROM trail").fetchone()[0] == trail_rows


def test_the_table_covers_every_role_and_is_deny_by_default():
    assert set(ROLES) >= {r.value for r in Role} | {"nobody", "inactive"}
    for _name, (_fn, allowed) in ACTIONS.items():
        assert "inactive" not in allowed
    # With no role, the only thing anyone may do is close out an action they own.
    assert [n for n, (_f, allowed) in ACTIONS.items() if "nobody" in allowed] == [
        "complete own action"]


def test_a_person_may_hold_several_roles(ctx, store, admin):
    session, ids = ctx.make("qa_officer")
    org_service.update_staff(admin, ids.actor, roles=[Role.QA_OFFICER, Role.MODERATOR])
    session.refresh_actor()
    _moderate(session, ctx, ids)
    _create(session, ctx, ids)
    with pytest.raises(PermissionDenied):
        _hold(session, ctx, ids)


#: What each row calls: the service functions the table covers.
COVERS = {
    "audits": {"add_audits", "create_audit", "redo_last_undo", "submit_audit",
               "undo_last_change",
               "update_audit", "withdraw_audit"},
    "import_export": {"export_audits", "import_audits"},
    "moderation": {"action_not_needed", "add_action", "complete_action", "hold_conversation",
                   "moderate"},
    "organisation": {"add_service_area", "add_staff", "add_team", "add_template_version",
                     "add_theme", "rename_service_area", "rename_team", "rename_theme",
                     "set_authority_name", "set_case_reference_format",
                     "set_exempt_information", "set_selection_default",
                     "set_earliest_audit_date", "set_outstanding_enabled",
                     "set_service_area_active", "set_team_active", "set_team_service_manager",
                     "set_theme_active", "set_up", "update_staff"},
    "reports": {"gather", "committee_pack"},
    "caseload": {"import_caseload"},
    "plans": {"create_plan", "set_quota", "cancel_plan", "make_draw", "discard_draw",
              "allocate_draw", "reallocate", "use_reserve", "link_audit", "start_audit",
              "export_allocations",
              "set_allocation_due_days"},
}
#: Issue 19's reads, each held to its readers by test_sampling_reads_by_role.
SAMPLING_READS = {
    ("caseload", "list_snapshots"): {ADMIN, SM},
    ("caseload", "snapshot_cases"): {ADMIN, SM},
    ("caseload", "compare_snapshots"): {ADMIN, SM},
    ("plans", "list_plans"): {ADMIN, SM},
    ("plans", "get_plan"): {ADMIN, SM},
    ("plans", "plan_for_period"): {ADMIN, SM},
    ("plans", "preview_plan"): {ADMIN},
    ("plans", "preview_draw"): {ADMIN},
    ("plans", "list_draws"): {ADMIN, SM},
    ("plans", "drawn_cases"): {ADMIN, SM},
    ("plans", "check_draws"): {QA, MOD, SM, ADMIN},
    ("plans", "allocations"): {ADMIN, SM},
    ("plans", "plan_progress"): {ADMIN, SM},
    ("plans", "audit_prefill"): {QA, SM, ADMIN},
    ("plans", "sample_estimate"): {QA, SM, ADMIN},
    ("plans", "kept_draw"): {ADMIN, SM},
    ("plans", "allocation_of_audit"): {QA, MOD, SM, ADMIN},
}
#: Writers checked elsewhere, and why.
EXEMPT = {
    ("reports", "stored_cover"): "a read (the cover report committee_pack keeps), for pack "
                                 "builders only: test_the_kept_cover_is_read_by_pack_builders_only",
    ("import_export", "deliver_recorded"): "a helper of export_audits and committee_pack, which "
                                           "check the role before it runs",
    ("demo", "generate_demo"): "administrators only, on an empty store: "
                               "test_demo_data_is_for_administrators_only",
    **{key: "a read: test_sampling_reads_by_role" for key in SAMPLING_READS},
}


def test_every_service_that_writes_has_a_row_in_the_table():
    """Found by introspection: every public service function taking a session that writes (a
    transaction) or checks a role. A new one fails here until the table has a row for it."""
    import importlib
    import inspect
    import pkgutil

    import sefton_qa.services as services

    found = set()
    for info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"sefton_qa.services.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            params = list(inspect.signature(fn).parameters)
            source = inspect.getsource(fn)
            if params[:1] == ["session"] and (".transaction(" in source or
                                              ".require(" in source):
                found.add((info.name, name))
    covered = {(m, f) for m, names in COVERS.items() for f in names}
    assert found - covered - set(EXEMPT) == set()
    assert ("audits", "create_audit") in found and len(found) >= 30


def test_demo_data_is_for_administrators_only(store, admin, org):
    from sefton_qa.services.demo import generate_demo

    officer = Session(store=store, actor=staff_store.get(store.conn, org.auditor),
                      os_user="qa.officer", today=lambda: TODAY)
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        generate_demo(officer, months=1, seed=1)


@pytest.mark.parametrize("role_name", ["nobody", "inactive", "qa_officer", "administrator"])
def test_the_kept_cover_is_read_by_pack_builders_only(ctx, role_name):
    from sefton_qa.services.reports import stored_cover

    session, _ids = ctx.make(role_name)
    if role_name in ("nobody", "inactive"):
        with pytest.raises(PermissionDenied):
            stored_cover(session)
    else:
        assert stored_cover(session).purpose


def _sampling_read(module, name, s, ids):
    from sefton_qa.services import caseload, plans

    fn = getattr({"caseload": caseload, "plans": plans}[module], name)
    if name == "preview_plan":
        from sefton_qa.domain.sampling import Quota

        return fn(s, dt.date(2026, 1, 1), dt.date(2026, 3, 31), per_stratum=Quota(1))
    if name == "plan_for_period":
        return fn(s, dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    if name == "allocation_of_audit":
        return fn(s, ids.linked_audit)
    if name in ("get_plan", "preview_draw", "plan_progress", "kept_draw"):
        return fn(s, ids.undrawn)
    if name in ("drawn_cases", "sample_estimate"):
        return fn(s, ids.draw)
    if name == "audit_prefill":
        return fn(s, ids.alloc)
    return fn(s)


@pytest.mark.parametrize("role_name", list(ROLES))
def test_sampling_reads_by_role(ctx, store, role_name):
    """Issue 19's reads: the caseload, plans and draws for administrators and service
    managers; a QA officer starts the audits allocated to them; anyone may check the draws."""
    session, ids = ctx.make(role_name, sampling=True)
    for (module, name), allowed in SAMPLING_READS.items():
        if role_name in allowed:
            _sampling_read(module, name, session, ids)
        else:
            with pytest.raises(PermissionDenied):
                _sampling_read(module, name, session, ids)
