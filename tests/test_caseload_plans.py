"""Issue 19 on both engines: the caseload import, plans, the draw and its check, discards,
reserves, allocation, progress, export, and verify's replay after all of them."""

from __future__ import annotations

import csv
import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_qa.domain import sampling
from sefton_qa.domain.errors import PermissionDenied, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.sampling import Quota
from sefton_qa.services import caseload
from sefton_qa.services import organisation as org_service
from sefton_qa.services import plans
from sefton_qa.services.verify import verify_store
from sefton_qa.store import caseload as caseload_store

START, END = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
HEADERS = ["Case Reference", "Team", "Case type", "Open date", "Team manager"]


def write_csv(path, rows, headers=HEADERS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(headers)
        out.writerows(rows)
    return path


def caseload_rows(teams: dict[str, int], *, manager: str = "", prefix: str = "LCS") -> list:
    rows, n = [], 0
    for team, count in teams.items():
        for _ in range(count):
            n += 1
            rows.append([f"{prefix}-{n:06d}", team, "Child in need", "01/03/2026", manager])
    return rows


@pytest.fixture
def world(store, admin, org, tmp_path):
    """The org with three more QA officers (one in each team) and a team manager, and a
    caseload of 30, 10 and 20 cases in CP Team 1, CP Team 2 and CiC Team A."""
    ids = SimpleNamespace(org=org)
    ids.tm = org_service.add_staff(admin, "Tess Manager", roles=[], team_id=org.team_a1).record_id
    ids.qa1 = org_service.add_staff(admin, "Quinn One", os_username="quinn.one",
                                    team_id=org.team_a1).record_id
    ids.qa2 = org_service.add_staff(admin, "Quinn Two", os_username="quinn.two",
                                    team_id=org.team_a2).record_id
    ids.qa3 = org_service.add_staff(admin, "Quinn Three", os_username="quinn.three",
                                    team_id=org.team_b1).record_id
    rows = caseload_rows({"CP Team 1": 30, "CP Team 2": 10, "CiC Team A": 20},
                         manager="Tess Manager")
    ids.file = write_csv(tmp_path / "caseload.csv", rows)
    report = caseload.import_caseload(admin, ids.file, taken_on=dt.date(2026, 9, 30))
    assert report.ok, report.lines()
    ids.snapshot = report.snapshot_id
    return ids


# -- the caseload ---------------------------------------------------------------------------------
def test_a_caseload_import_is_a_snapshot_with_a_trail_row_per_case(store, admin, world):
    cases = caseload.snapshot_cases(admin)
    assert len(cases) == 60 and {c.team for c in cases} == {"CP Team 1", "CP Team 2",
                                                          "CiC Team A"}
    assert all(c.team_manager_id == world.tm for c in cases)
    rows = store.conn.execute("SELECT count(*) FROM trail WHERE table_name = 'caseload_cases'"
                              ).fetchone()[0]
    assert rows == 60
    (snap,) = caseload.list_snapshots(admin)
    assert snap.case_count == 60 and snap.taken_on == dt.date(2026, 9, 30)


def test_personal_data_columns_are_refused(store, admin, org, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["LCS-000001", "CP Team 1", "CIN", "1/3/2026",
                                           "Jo Bloggs", "2015-01-01"]],
                     headers=HEADERS + ["Child's name"])
    report = caseload.import_caseload(admin, path)
    assert not report.ok and "personal data" in report.problems[0]
    path = write_csv(tmp_path / "d.csv", [["LCS-000001", "CP Team 1", "CIN", "1/3/2026", "",
                                           "2015-01-01"]], headers=HEADERS + ["DOB"])
    assert "personal data" in caseload.import_caseload(admin, path).problems[0]
    assert caseload_store.list_snapshots(store.conn) == []


def test_unknown_teams_are_refused_unless_created(store, admin, org, tmp_path):
    rows = [["LCS-000001", "Nowhere Team", "CIN", "1/3/2026", "", "Early Help"]]
    path = write_csv(tmp_path / "c.csv", rows, headers=HEADERS + ["Service area"])
    report = caseload.import_caseload(admin, path)
    assert not report.ok and "not a team" in report.problems[0]
    report = caseload.import_caseload(admin, path, create_missing=True)
    assert report.ok and report.created_teams == ["Nowhere Team (Early Help)"]
    assert caseload.snapshot_cases(admin)[0].team == "Nowhere Team"


def test_an_unmatched_team_manager_is_left_blank_with_a_warning(store, admin, org, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["lcs-000001 ", "CP Team 1", "cp", "01/03/2026",
                                           "Nobody Known"]])
    report = caseload.import_caseload(admin, path)
    assert report.ok and "Nobody Known" in report.warnings[0]
    (case,) = caseload.snapshot_cases(admin)
    assert case.team_manager_id is None and case.case_reference == "LCS-000001"
    assert case.case_type == "Child protection"


def test_row_problems_are_all_reported_and_nothing_is_written(store, admin, org, tmp_path):
    path = write_csv(tmp_path / "c.csv", [
        ["LCS-000001", "CP Team 1", "CIN", "31/02/2026", ""],
        ["LCS-000001", "CP Team 1", "CIN", "01/03/2026", ""],
        ["LCS 0002!", "", "CIN", "01/03/2026", ""]])
    report = caseload.import_caseload(admin, path)
    assert report.problem_count == 4, report.problems
    assert caseload_store.list_snapshots(store.conn) == []


def test_compare_with_the_previous_snapshot(store, admin, world, tmp_path):
    rows = caseload_rows({"CP Team 1": 30, "CP Team 2": 10, "CiC Team A": 20})[5:]
    rows.append(["LCS-900001", "CP Team 2", "CIN", "01/09/2026", ""])
    rows[0][1] = "CP Team 2"  # LCS-000006 moved team
    caseload.import_caseload(admin, write_csv(tmp_path / "next.csv", rows),
                             taken_on=dt.date(2026, 10, 31))
    result = caseload.compare_snapshots(admin)
    assert [c.case_reference for c in result.opened] == ["LCS-900001"]
    assert [c.case_reference for c in result.closed] == [f"LCS-{i:06d}" for i in range(1, 6)]
    assert [(a.team, b.team) for a, b in result.moved] == [("CP Team 1", "CP Team 2")]


# -- plans ----------------------------------------------------------------------------------------
def test_a_proportional_plan_shares_by_largest_remainder(store, admin, world):
    plans.create_plan(admin, START, END, total=Quota(8, 3))
    (plan,) = plans.list_plans(admin)
    got = {q.label: (q.deep_dives, q.dip_samples) for q in plan.quotas}
    # 8 over 30/10/20: 4, 1.33, 2.67 → 4, 1, 3; 3 over them: 1.5, 0.5, 1 → 2, 0, 1
    assert got == {"CP Team 1": (4, 2), "CP Team 2": (1, 0), "CiC Team A": (3, 1)}
    assert plan.quota_rule == "proportional" and plan.due_date == END


def test_recently_audited_cases_are_left_out(store, admin, world, make_input):
    from sefton_qa.services import audits as audit_service

    audit_service.create_audit(admin, make_input(case_reference="lcs-000001",
                                                 audit_date=dt.date(2026, 5, 1)), submit=True)
    audit_service.create_audit(admin, make_input(case_reference="LCS-000002",
                                                 audit_date=dt.date(2026, 3, 31)), submit=True)
    plans.create_plan(admin, START, END, per_stratum=Quota(2, 0))
    plan = plans.list_plans(admin)[0]
    preview = plans.preview_draw(admin, plan.id)
    assert preview.excluded == ("LCS-000001",)  # six months before 1 October is 1 April
    team1 = next(s for s in preview.strata if s.label == "CP Team 1")
    assert (team1.open_cases, team1.excluded, team1.eligible) == (30, 1, 29)


def test_quotas_by_hand_and_from_a_file(store, admin, world, tmp_path):
    path = tmp_path / "plan.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([["Team", "Deep dives", "Dip samples"], ["CP Team 1", 3, 1],
                                  ["CiC Team A", 2, ""]])
    plans.create_plan(admin, START, END, quotas=plans.read_plan_file(path))
    plan = plans.list_plans(admin)[0]
    assert {q.label: q.total for q in plan.quotas} == {"CP Team 1": 4, "CiC Team A": 2}
    plans.set_quota(admin, plan.id, "CiC Team A", deep_dives=1, dip_samples=0)
    assert {q.label: q.total for q in plans.get_plan(admin, plan.id).quotas}["CiC Team A"] == 1
    with pytest.raises(ValidationError, match="no open cases"):
        plans.create_plan(admin, START, dt.date(2026, 11, 30), quotas={"Nowhere": Quota(1)})


# -- the draw ---------------------------------------------------------------------------------------
def _plan_and_draw(admin, seed=42, quota=Quota(3, 1)):
    plans.create_plan(admin, START, END, per_stratum=quota)
    plan = plans.list_plans(admin)[0]
    return plan, plans.make_draw(admin, plan.id, seed=seed)


def test_the_draw_is_deterministic_for_a_seed_and_the_method(store, admin, world):
    plan, result = _plan_and_draw(admin)
    assert result.draw.seed == "42" and result.draw.seed_source == "given"
    assert result.draw.method == "sha256-v1"
    cases = caseload_store.cases(store.conn, world.snapshot)
    team1 = [c.case_reference for c in cases if c.team == "CP Team 1"]
    key = f"team:{world.org.team_a1}"
    expected = sampling.order_stratum("42", key, team1)
    mine = [d for d in result.cases if d.stratum == key]
    assert [d.case_reference for d in mine] == expected[:6]  # 4 sampled, then 2 reserves
    assert [d.is_reserve for d in mine] == [False] * 4 + [True] * 2
    assert [d.audit_type for d in mine[:4]] == ["deep_dive"] * 3 + ["dip_sample"]
    # the same seed on another plan over the same snapshot gives the same cases
    plans.discard_draw(admin, result.draw.id, "Test of the same seed.")
    again = plans.make_draw(admin, plan.id, seed=42)
    assert [(d.stratum, d.case_reference) for d in again.cases] == \
        [(d.stratum, d.case_reference) for d in result.cases]


def test_a_seed_from_secrets_is_recorded(store, admin, world):
    plans.create_plan(admin, START, END, per_stratum=Quota(1, 0))
    result = plans.make_draw(admin, plans.list_plans(admin)[0].id)
    assert result.draw.seed_source == "secrets" and result.draw.seed.isdigit()
    assert all(c.ok for c in plans.check_draws(admin))


def test_no_silent_redraw_and_every_discard_is_kept(store, admin, world):
    plan, first = _plan_and_draw(admin)
    with pytest.raises(ValidationError, match="discard that draw first"):
        plans.make_draw(admin, plan.id, seed=43)
    with pytest.raises(ValidationError, match="say why"):
        plans.discard_draw(admin, first.draw.id, "  ")
    plans.discard_draw(admin, first.draw.id, "The caseload export was a month old.")
    second = plans.make_draw(admin, plan.id, seed=43)
    draws = plans.list_draws(admin, plan_id=plan.id)
    assert [(d.id, d.status) for d in draws] == [(first.draw.id, "discarded"),
                                                 (second.draw.id, "kept")]
    assert draws[0].discard_reason == "The caseload export was a month old."
    assert draws[0].discarded_by == admin.actor.id
    assert [c.ok for c in plans.check_draws(admin)] == [True, True]


def test_check_catches_a_swapped_case(store, admin, world, raw_sql):
    plan, result = _plan_and_draw(admin)
    drawn = {d.case_reference for d in result.cases}
    other = next(c for c in caseload_store.cases(store.conn, world.snapshot)
                 if c.case_reference not in drawn and c.team_id == world.org.team_a1)
    victim = next(d for d in result.cases if d.stratum == f"team:{world.org.team_a1}"
                  and not d.is_reserve)
    raw_sql(store.location if not store.dialect.is_file else store.path,
            f"UPDATE drawn_cases SET case_id = {other.id}, case_reference = "
            f"'{other.case_reference}' WHERE id = {victim.id}")
    (check,) = plans.check_draws(admin)
    assert not check.ok
    assert any(victim.case_reference in p and other.case_reference in p
               for p in check.problems), check.problems


def test_strata_sizes_and_reserves_with_a_small_stratum(store, admin, world):
    plan, result = _plan_and_draw(admin, quota=Quota(9, 0))
    sizes = {s.label: (s.sample, s.reserves, s.short) for s in result.draw.strata}
    # 9 asked: 3 reserves (a quarter, rounded up); CP Team 2 has 10 cases: 9 and 1 reserve
    assert sizes == {"CP Team 1": (9, 3, 0), "CP Team 2": (9, 1, 0), "CiC Team A": (9, 3, 0)}


# -- allocation -----------------------------------------------------------------------------------
def test_allocation_never_goes_to_the_team_or_its_manager_and_is_even(store, admin, world):
    _plan, result = _plan_and_draw(admin, quota=Quota(4, 2))
    outcome = plans.allocate_draw(admin, result.draw.id)
    assert outcome.allocated == 18 and outcome.unallocated == ()
    people = {s.id: s for s in org_service.staff(admin)}
    items = plans.allocations(admin, draw_id=result.draw.id)
    for a in items:
        assert a.auditor_id != a.team_manager_id
        assert people[a.auditor_id].team_id != a.team_id
        assert a.due_date == END
    counts = {}
    for a in items:
        counts[a.auditor_id] = counts.get(a.auditor_id, 0) + 1
    # five QA officers (admin, Alex, and one in each team): 18 cases, 3 or 4 each
    assert len(counts) == 5 and max(counts.values()) - min(counts.values()) <= 1


def test_my_allocations_progress_reserves_and_export(store, admin, world, make_input,
                                                     tmp_path):
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services.session import Session
    from sefton_qa.store import staff as staff_store

    _plan, result = _plan_and_draw(admin, quota=Quota(2, 0))
    plans.allocate_draw(admin, result.draw.id, auditor_ids=[world.org.auditor, world.qa1])
    auditor = Session(store=store, actor=staff_store.get(store.conn, world.org.auditor),
                      os_user="qa.officer", today=admin.today)
    mine = plans.my_allocations(auditor)
    assert mine and all(a.auditor_id == world.org.auditor for a in mine)
    with pytest.raises(PermissionDenied):
        plans.allocations(auditor)
    first = mine[0]
    prefill = plans.audit_prefill(auditor, first.id)
    assert prefill.selection == "random_draw" and prefill.case_reference == first.case_reference
    audit_id = audit_service.create_audit(auditor, make_input(
        case_reference=prefill.case_reference, team_id=prefill.team_id,
        service_area_id=prefill.service_area_id, auditor_id=world.org.auditor,
        audit_date=dt.date(2026, 11, 20), overall_grade=Grade.GOOD), submit=True).record_id
    plans.link_audit(auditor, first.id, audit_id)
    assert plans.allocation_of_audit(auditor, audit_id).id == first.id
    assert plans.kept_draw(admin, result.draw.plan_id).id == result.draw.id
    assert result.draw.sample_size == 6 and result.draw.open_cases == 60
    # a case closed before it was audited: its reserve replaces it, saying why
    second = mine[1]
    plans.use_reserve(admin, second.id, "Case closed on 2 November.")
    items = plans.allocations(admin, draw_id=result.draw.id)
    reserve = next(a for a in items if a.replaces_id == second.id)
    assert reserve.is_reserve and reserve.reserve_reason == "Case closed on 2 November."
    assert reserve.audit_type == second.audit_type and reserve.stratum == second.stratum
    progress = {p.team: p for p in plans.plan_progress(admin, result.draw.plan_id)}
    assert sum(p.planned for p in progress.values()) == 6
    assert sum(p.done for p in progress.values()) == 1
    out = plans.export_allocations(admin, tmp_path / "alloc.csv", draw_id=result.draw.id)
    assert out.rows == 6
    text = (tmp_path / "alloc.csv").read_text(encoding="utf-8-sig")
    assert "Case closed on 2 November." in text and first.case_reference in text
    assert all(c.ok for c in plans.check_draws(admin))
    estimate = plans.sample_estimate(admin, result.draw.id)
    assert estimate.audited == 1 and estimate.share == 1.0
    report = verify_store(store)
    assert report.ok, report.lines()


def test_verify_replays_caseload_plan_draw_and_allocation(store, admin, world):
    _plan, result = _plan_and_draw(admin)
    plans.allocate_draw(admin, result.draw.id)
    plans.discard_draw(admin, result.draw.id, "Redo with the November caseload.")
    report = verify_store(store)
    assert report.ok, report.lines()


# -- roles ------------------------------------------------------------------------------------------
def test_only_administrators_import_plan_and_draw(store, admin, world, auditor, manager):
    for session in (auditor, manager):
        with pytest.raises(PermissionDenied):
            caseload.import_caseload(session, world.file)
        with pytest.raises(PermissionDenied):
            plans.create_plan(session, START, END, per_stratum=Quota(1))
    plans.create_plan(admin, START, END, per_stratum=Quota(1))
    plan = plans.list_plans(admin)[0]
    for session in (auditor, manager):
        with pytest.raises(PermissionDenied):
            plans.make_draw(session, plan.id, seed=1)
        with pytest.raises(PermissionDenied):
            plans.preview_draw(session, plan.id)
    draw = plans.make_draw(admin, plan.id, seed=1).draw
    for session in (auditor, manager):
        with pytest.raises(PermissionDenied):
            plans.discard_draw(session, draw.id, "Because.")
        with pytest.raises(PermissionDenied):
            plans.allocate_draw(session, draw.id)
    assert plans.list_plans(manager)  # service managers see plans and progress
    with pytest.raises(PermissionDenied):
        caseload.snapshot_cases(auditor)
    assert all(c.ok for c in plans.check_draws(auditor))


# -- hypothesis over random caseloads, through the store --------------------------------------------
@given(st.lists(st.integers(0, 12), min_size=1, max_size=3), st.integers(0, 4),
       st.integers(0, 2**32))
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_caseloads_draw_and_allocate_by_the_rules(tmp_path, org_store_template,
                                                         sizes, quota, seed):
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store
    import shutil

    path, org = org_store_template
    copy = tmp_path / f"h{seed}-{'-'.join(map(str, sizes))}-{quota}.sqlite3"
    shutil.copy(path, copy)
    store = open_store(copy)
    try:
        admin = sign_in(store, os_user="admin.user", today=lambda: dt.date(2026, 11, 24))
        teams = ["CP Team 1", "CP Team 2", "CiC Team A"][:len(sizes)]
        for team_id in (org.team_a1, org.team_a2):
            org_service.add_staff(admin, f"In {team_id}", team_id=team_id)
        csv_path = write_csv(copy.with_suffix(".csv"),
                             caseload_rows(dict(zip(teams, sizes)), manager="Alex Auditor"))
        if sum(sizes) == 0:
            return
        assert caseload.import_caseload(admin, csv_path).ok
        plans.create_plan(admin, START, END, per_stratum=Quota(quota, 0))
        plan = plans.list_plans(admin)[0]
        result = plans.make_draw(admin, plan.id, seed=seed)
        for info in result.draw.strata:
            assert info.sample == min(quota, info.eligible)
        outcome = plans.allocate_draw(admin, result.draw.id)
        people = {s.id: s for s in org_service.staff(admin)}
        items = plans.allocations(admin, draw_id=result.draw.id)
        assert len(items) + len(outcome.unallocated) == sum(i.sample for i in result.draw.strata)
        for a in items:
            assert a.auditor_id != a.team_manager_id  # Alex manages every case: never his
            assert people[a.auditor_id].team_id != a.team_id
        assert all(c.ok for c in plans.check_draws(admin))
    finally:
        store.close()


def test_an_xlsx_caseload_with_date_cells(store, admin, org, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Case ref", "Team", "Category", "Date opened", "Team manager"])
    sheet.append(["LCS-000001", "CP Team 1", "CLA", dt.datetime(2026, 3, 1), "Sam Manager"])
    sheet.append(["LCS-000002", "CiC Team A", "Care leaver", dt.datetime(2025, 12, 9), ""])
    book.save(tmp_path / "cases.xlsx")
    report = caseload.import_caseload(admin, tmp_path / "cases.xlsx")
    assert report.ok, report.problems
    cases = {c.case_reference: c for c in caseload.snapshot_cases(admin)}
    assert cases["LCS-000001"].opened_on == dt.date(2026, 3, 1)
    assert cases["LCS-000001"].case_type == "Child looked after"
    assert cases["LCS-000001"].team_manager_id == org.manager
    assert cases["LCS-000002"].opened_on == dt.date(2025, 12, 9)


def test_a_plan_by_service_area_draws_and_checks(store, admin, world):
    plans.create_plan(admin, START, END, total=Quota(6, 0), stratify_by="service_area")
    plan = plans.list_plans(admin)[0]
    # Child Protection holds 40 open cases (30 + 10), Children in Care 20: 4 and 2
    assert {q.label: q.deep_dives for q in plan.quotas} == {"Child Protection": 4,
                                                           "Children in Care": 2}
    result = plans.make_draw(admin, plan.id, seed="area seed")
    cp = next(s for s in result.draw.strata if s.label == "Child Protection")
    assert set(cp.team_ids) == {world.org.team_a1, world.org.team_a2} and cp.open_cases == 40
    assert all(c.ok for c in plans.check_draws(admin))
    outcome = plans.allocate_draw(admin, result.draw.id)
    assert outcome.allocated == 6


def test_cancelling_and_replanning_a_period(store, admin, world):
    plans.create_plan(admin, START, END, per_stratum=Quota(1))
    plan = plans.list_plans(admin)[0]
    with pytest.raises(ValidationError, match="already covers"):
        plans.create_plan(admin, START, END, per_stratum=Quota(2))
    draw = plans.make_draw(admin, plan.id, seed=3).draw
    with pytest.raises(ValidationError, match="discard"):
        plans.cancel_plan(admin, plan.id, "Wrong quotas.")
    plans.discard_draw(admin, draw.id, "Wrong quotas.")
    plans.cancel_plan(admin, plan.id, "Wrong quotas.")
    plans.create_plan(admin, START, END, per_stratum=Quota(2))
    assert [p.status for p in plans.list_plans(admin)] == ["open", "cancelled"]
    report = verify_store(store)
    assert report.ok, report.lines()


def test_starting_an_allocated_audit_prefills_links_and_records_the_random_draw(
        store, admin, world):
    """One transaction: a draft of the allocated case, by its auditor, recorded as drawn at
    random and linked to the allocation; a second start is refused; another auditor cannot."""
    from sefton_qa.domain.models import AuditStatus, AuditType, Selection
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services.session import Session
    from sefton_qa.services.verify import verify_store
    from sefton_qa.store import staff as staff_store

    _plan, result = _plan_and_draw(admin, quota=Quota(2, 0))
    plans.allocate_draw(admin, result.draw.id, auditor_ids=[world.org.auditor, world.qa1])
    auditor = Session(store=store, actor=staff_store.get(store.conn, world.org.auditor),
                      os_user="qa.officer", today=admin.today)
    first = plans.my_allocations(auditor)[0]
    made = plans.start_audit(auditor, first.id).record_id
    audit = audit_service.get_audit(auditor, made)
    assert audit.status is AuditStatus.DRAFT and audit.selection is Selection.RANDOM_DRAW
    assert (audit.case_reference, audit.team_id, audit.auditor_id, audit.audit_type) == (
        first.case_reference, first.team_id, world.org.auditor, AuditType(first.audit_type))
    assert audit.template_id is not None and audit.audit_date == admin.today()
    assert plans.allocation_of_audit(auditor, made).id == first.id
    with pytest.raises(ValidationError, match="started already"):
        plans.start_audit(auditor, first.id)
    other = next(a for a in plans.allocations(admin, draw_id=result.draw.id)
                 if a.auditor_id == world.qa1)
    with pytest.raises(PermissionDenied):
        plans.start_audit(auditor, other.id)
    assert store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 1
    assert verify_store(store).ok


def test_the_pack_reports_the_weighted_estimate_of_the_worked_example(store, admin, world,
                                                                      tmp_path):
    """Issue 19's worked example through the whole path: teams of 300 and 100 open cases,
    10 drawn and audited in each (quotas by hand, not in proportion), 2 and 6 good: the pack
    says 30% weighted (95% interval 14% to 53%) beside 40% unweighted; the public pack says
    the design but not the estimate, since each team's sample holds small counts."""
    from sefton_qa.domain.grades import Grade
    from sefton_qa.reports import text
    from sefton_qa.reports.numbers import Numbers
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services.reports import PackOptions, gather

    path = write_csv(tmp_path / "caseload-2.csv",
                     caseload_rows({"CP Team 1": 300, "CP Team 2": 100}, prefix="WE"))
    assert caseload.import_caseload(admin, path, taken_on=dt.date(2026, 10, 1)).ok
    plans.create_plan(admin, START, END, quotas={"CP Team 1": Quota(10), "CP Team 2": Quota(10)})
    plan = plans.list_plans(admin)[0]
    draw = plans.make_draw(admin, plan.id, seed=19).draw
    plans.allocate_draw(admin, draw.id)
    good_wanted = {world.org.team_a1: 2, world.org.team_a2: 6}
    for allocation in plans.allocations(admin, draw_id=draw.id):
        audit_id = plans.start_audit(admin, allocation.id).record_id
        inp = audit_service.get_audit(admin, audit_id).to_input()
        good = good_wanted[allocation.team_id] > 0
        good_wanted[allocation.team_id] -= good
        inp.overall_grade = Grade.GOOD if good else Grade.REQUIRES_IMPROVEMENT
        audit_service.update_audit(admin, audit_id, inp)
        audit_service.submit_audit(admin, audit_id)
    figures = gather(admin, START, END, PackOptions())
    est = figures.sample.estimate
    assert (est.audited, round(100 * est.share, 1), round(100 * est.unweighted, 1)) == \
        (20, 30.0, 40.0)
    assert (round(100 * est.low, 1), round(100 * est.high, 1)) == (14.2, 52.6)
    said = text.sample_sentence(figures, Numbers.build(figures, public=False))
    assert said == (
        "For this period's audit plan, 20 of 400 open cases were drawn at random within each "
        "team (2 teams); 20 of them have been audited so far. From them, weighted by each "
        "team's open cases, an estimated 30% of all the open cases would be good (95% interval "
        "14% to 53%). Counted without weights, 40% of the audited sample were good; the quotas "
        "were not in proportion to each team's open cases, so the weighted figure is the "
        "estimate. The headline, the change from the previous period and the trend count all "
        "the period's audits, unweighted.")
    assert said in text.summary(figures, Numbers.build(figures, public=False))
    public_figures = gather(admin, START, END, PackOptions(public=True))
    public = text.sample_sentence(public_figures, Numbers.build(public_figures, public=True))
    assert public.startswith("For this period's audit plan, 20 of 400 open cases")
    assert "not published" in public and "30%" not in public and "40%" not in public
    # the rule itself: printed only when no stratum's sample holds 1 to 4 of anything and the
    # public pack hides nothing else
    import dataclasses

    from sefton_qa.domain.sampling import StratumResult

    nums = Numbers.build(public_figures, public=True)
    clear = dataclasses.replace(nums, suppressed=frozenset())
    for strata, expected in ((((300, 10, 5), (100, 10, 5)), True),
                             (((300, 10, 0), (100, 10, 10)), True),
                             (((300, 10, 6), (100, 10, 4)), False),
                             (((300, 12, 9), (100, 10, 5)), False)):
        sample = dataclasses.replace(public_figures.sample, estimate=dataclasses.replace(
            est, strata=tuple(StratumResult(*s) for s in strata)))
        shaped = dataclasses.replace(public_figures, sample=sample)
        assert text.sample_publishable(shaped, clear) is expected, strata
        assert text.sample_publishable(shaped, nums) is (expected and not nums.suppressed)
