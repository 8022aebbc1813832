"""Period summaries: Wilson intervals, the JSON shape, and counts checked independently."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sefton_qa.cli import main
from sefton_qa.domain.errors import ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput
from sefton_qa.domain.stats import Z95, intervals_overlap, percent, wilson_interval
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org_service
from sefton_qa.services import sign_in
from sefton_qa.services.summary import period_summary, previous_period
from sefton_qa.store import open_store

GRADE_NAMES = {"outstanding", "good", "requires_improvement", "inadequate"}
TODAY = dt.date(2026, 11, 24)
START, END = dt.date(2026, 10, 1), dt.date(2026, 10, 31)


# -- Wilson intervals --------------------------------------------------------------------------
def wilson_by_inversion(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson interval found independently: the p where the score test is exactly z."""
    p_hat = k / n

    def score(p: float) -> float:
        return abs(p_hat - p) - z * math.sqrt(p * (1 - p) / n)

    def root(lo: float, hi: float) -> float:  # score(lo) and score(hi) differ in sign
        for _ in range(200):
            mid = (lo + hi) / 2
            if (score(lo) > 0) == (score(mid) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if k == 0 else root(0.0, p_hat)
    high = 1.0 if k == n else root(p_hat, 1.0)
    return low, high


def test_wilson_known_value():
    low, high = wilson_interval(4, 49)
    assert low == pytest.approx(0.0322, abs=0.0005)
    assert high == pytest.approx(0.1919, abs=0.0005)
    assert (round(100 * low, 1), round(100 * high, 1)) == (3.2, 19.2)


@pytest.mark.parametrize("k, n, expected", [
    (0, 10, (0.0, 0.2775)),
    (10, 10, (0.7225, 1.0)),
    (5, 10, (0.2366, 0.7634)),
    (81, 263, (0.2553, 0.3662)),
    (1, 1, (0.2065, 1.0)),
])
def test_wilson_table(k, n, expected):
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(expected[0], abs=0.0005)
    assert high == pytest.approx(expected[1], abs=0.0005)


def test_wilson_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    for bad in ((-1, 5), (6, 5), (1, -1)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)


@settings(max_examples=50, deadline=None, database=None)
@given(n=st.integers(min_value=1, max_value=5000), data=st.data())
def test_wilson_properties(n, data):
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    # Symmetric: the interval for failures mirrors the interval for successes.
    mirror_low, mirror_high = wilson_interval(n - k, n)
    assert low == pytest.approx(1 - mirror_high, abs=1e-12)
    assert high == pytest.approx(1 - mirror_low, abs=1e-12)
    ref_low, ref_high = wilson_by_inversion(k, n)
    assert low == pytest.approx(ref_low, abs=1e-9)
    assert high == pytest.approx(ref_high, abs=1e-9)


def test_percent_and_overlap():
    assert percent(1, 3) == pytest.approx(33.333, abs=0.001)
    assert percent(0, 0) == 0.0
    assert intervals_overlap((0.1, 0.3), (0.3, 0.5))
    assert not intervals_overlap((0.1, 0.2), (0.3, 0.5))


# -- previous period (issue 16, item 2: whole calendar months, else equal days) ------------------
@pytest.mark.parametrize("start, end, prev", [
    ("2026-10-01", "2026-10-31", ("2026-09-01", "2026-09-30")),
    ("2026-10-05", "2026-10-05", ("2026-10-04", "2026-10-04")),
    ("2024-03-01", "2024-03-31", ("2024-02-01", "2024-02-29")),
    ("2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31")),
    ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),
    ("2026-01-02", "2026-03-31", ("2025-10-05", "2026-01-01")),
])
def test_previous_period_examples(start, end, prev):
    got = previous_period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert got == tuple(dt.date.fromisoformat(d) for d in prev)


@settings(max_examples=50, deadline=None, database=None)
@given(start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 1, 1)),
       days=st.integers(min_value=0, max_value=3000))
def test_previous_period_is_the_equal_length_period_just_before(start, days):
    """Unless the period is whole calendar months (tests/test_periods.py)."""
    end = start + dt.timedelta(days=days)
    prev_start, prev_end = previous_period(start, end)
    assert prev_end == start - dt.timedelta(days=1)
    if not (start.day == 1 and (end + dt.timedelta(days=1)).day == 1):
        assert (prev_end - prev_start) == (end - start)


# -- the summary -------------------------------------------------------------------------------
def make_audits(admin, org, make_input, specs):
    """specs: (date, grade, team, status) with status submitted / draft / withdrawn."""
    area_of = {t: a for a, teams in org.teams_by_area.items() for t in teams}
    for n, (date, grade, team, status) in enumerate(specs):
        inp = make_input(case_reference=f"LCS-{n:06d}", audit_date=date, overall_grade=grade,
                         team_id=team, service_area_id=area_of[team])
        audit_id = audit_service.create_audit(admin, inp, submit=status != "draft").record_id
        if status == "withdrawn":
            audit_service.withdraw_audit(admin, audit_id, "logged in error")


def expected_counts(specs, start, end):
    kept = [s for s in specs if s[3] == "submitted" and start <= s[0] <= end]
    return Counter(s[1].value for s in kept), kept


def assert_grades_block(block, counts: Counter, keys):
    assert list(block) == list(keys)
    total = sum(counts.values())
    for key in keys:
        n = counts.get(key, 0)
        low, high = wilson_interval(n, total)
        assert block[key] == {"count": n, "percent": round(percent(n, total), 1),
                              "ci95": [round(100 * low, 1), round(100 * high, 1)]}


@pytest.fixture
def summary_specs(org):
    d = dt.date
    G, RI, I = Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE
    return [
        # in the period, counted
        (d(2026, 10, 1), G, org.team_a1, "submitted"),
        (d(2026, 10, 2), RI, org.team_a1, "submitted"),
        (d(2026, 10, 15), RI, org.team_a2, "submitted"),
        (d(2026, 10, 20), I, org.team_b1, "submitted"),
        (d(2026, 10, 31), RI, org.team_b1, "submitted"),
        (d(2026, 10, 31), G, org.team_b1, "submitted"),
        # in the period, not counted
        (d(2026, 10, 10), I, org.team_a1, "draft"),
        (d(2026, 10, 11), I, org.team_a2, "withdrawn"),
        (d(2026, 10, 12), G, org.team_b1, "withdrawn"),
        # the previous period (2026-09-01 to 2026-09-30)
        (d(2026, 9, 1), I, org.team_a1, "submitted"),
        (d(2026, 9, 30), I, org.team_b1, "submitted"),
        (d(2026, 9, 15), G, org.team_b1, "submitted"),
        (d(2026, 9, 16), G, org.team_b1, "draft"),
        # outside both
        (d(2026, 8, 31), G, org.team_a1, "submitted"),
        (d(2026, 11, 1), I, org.team_a1, "submitted"),
    ]


def test_period_summary_shape_and_counts(admin, org, make_input, summary_specs, store):
    make_audits(admin, org, make_input, summary_specs)
    summary = period_summary(store, START, END)
    assert list(summary) == ["period", "compared_with", "total", "grades", "previous",
                             "change", "by_service_area", "by_team", "selection"]
    assert summary["period"] == {"from": "2026-10-01", "to": "2026-10-31"}
    # logged through the app with no say: the store's default for deep dives, "chosen"
    assert summary["selection"] == {"random_draw": 0, "chosen": 6, "referred": 0,
                                    "unknown": 0}
    keys = ["good", "requires_improvement", "inadequate"]  # outstanding is off
    assert set(keys) <= GRADE_NAMES

    counts, kept = expected_counts(summary_specs, START, END)
    assert summary["total"] == len(kept) == 6
    assert_grades_block(summary["grades"], counts, keys)
    assert summary["grades"]["requires_improvement"]["count"] == 3
    assert summary["grades"]["requires_improvement"]["percent"] == 50.0

    previous = summary["previous"]
    assert set(previous) == {"period", "total", "grades"}
    assert previous["period"] == {"from": "2026-09-01", "to": "2026-09-30"}
    prev_counts, prev_kept = expected_counts(summary_specs, dt.date(2026, 9, 1),
                                             dt.date(2026, 9, 30))
    assert previous["total"] == len(prev_kept) == 3
    assert_grades_block(previous["grades"], prev_counts, keys)

    area_name = {org.area1: "Child Protection", org.area2: "Children in Care"}
    team_name = {org.team_a1: "CP Team 1", org.team_a2: "CP Team 2", org.team_b1: "CiC Team A"}
    area_of = {t: a for a, teams in org.teams_by_area.items() for t in teams}
    by_area: dict = {}
    by_team: dict = {}
    for date, grade, team, _status in kept:
        by_area.setdefault(area_name[area_of[team]], Counter())[grade.value] += 1
        by_team.setdefault(team_name[team], Counter())[grade.value] += 1
    assert summary["by_service_area"] == {
        name: {k: by_area[name].get(k, 0) for k in keys} for name in sorted(by_area)}
    assert summary["by_team"] == {
        name: {k: by_team[name].get(k, 0) for k in keys} for name in sorted(by_team)}
    assert list(summary["by_service_area"]) == sorted(summary["by_service_area"])
    json.dumps(summary)  # plain JSON types only


def test_previous_is_none_when_it_has_no_audits(admin, org, make_input, store):
    make_audits(admin, org, make_input, [(dt.date(2026, 10, 5), Grade.GOOD, org.team_a1,
                                          "submitted"),
                                         (dt.date(2026, 9, 5), Grade.GOOD, org.team_a1,
                                          "draft")])
    summary = period_summary(store, START, END)
    assert summary["previous"] is None
    assert summary["total"] == 1


def test_empty_period(store, admin):
    summary = period_summary(store, START, END)
    assert summary["total"] == 0
    assert summary["previous"] is None
    assert summary["by_service_area"] == {} and summary["by_team"] == {}
    for block in summary["grades"].values():
        assert block == {"count": 0, "percent": 0.0, "ci95": [0.0, 100.0]}


def test_end_before_start_is_refused(store):
    with pytest.raises(ValidationError) as info:
        period_summary(store, END, START)
    assert "is before the start of the period" in info.value.for_field("to")[0]


def test_outstanding_is_shown_when_enabled_or_used(admin, org, make_input, store):
    org_service.set_outstanding_enabled(admin, True)
    assert list(period_summary(store, START, END)["grades"])[0] == "outstanding"
    make_audits(admin, org, make_input, [(dt.date(2026, 10, 5), Grade.OUTSTANDING,
                                          org.team_a1, "submitted")])
    org_service.set_outstanding_enabled(admin, False)
    summary = period_summary(store, START, END)
    assert list(summary["grades"]) == ["outstanding", "good", "requires_improvement",
                                       "inadequate"]
    assert summary["grades"]["outstanding"]["count"] == 1
    assert summary["by_team"]["CP Team 1"]["outstanding"] == 1
    assert "outstanding" not in period_summary(store, dt.date(2025, 1, 1),
                                               dt.date(2025, 1, 31))["grades"]


def test_team_names_that_clash_are_qualified_by_area(admin, org, make_input, store):
    clash = org_service.add_team(admin, "CP Team 1", org.area2).record_id
    org.teams_by_area[org.area2] = (org.team_b1, clash)
    make_audits(admin, org, make_input, [
        (dt.date(2026, 10, 5), Grade.GOOD, org.team_a1, "submitted"),
        (dt.date(2026, 10, 6), Grade.INADEQUATE, clash, "submitted")])
    by_team = period_summary(store, START, END)["by_team"]
    assert by_team == {
        "CP Team 1 (Child Protection)": {"good": 1, "requires_improvement": 0, "inadequate": 0},
        "CP Team 1 (Children in Care)": {"good": 0, "requires_improvement": 0, "inadequate": 1},
    }


def test_demo_store_summary_matches_an_independent_count(demo_store):
    start, end = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
    summary = period_summary(demo_store, start, end)
    rows = demo_store.conn.execute(
        "SELECT a.status, a.audit_date, a.overall_grade, sa.name, t.name FROM audits a "
        "JOIN service_areas sa ON sa.id = a.service_area_id JOIN teams t ON t.id = a.team_id"
    ).fetchall()
    kept = [r for r in rows if r[0] == "submitted"
            and start <= dt.date.fromisoformat(r[1]) <= end]
    assert summary["total"] == len(kept) > 200
    counts = Counter(r[2] for r in kept)
    assert_grades_block(summary["grades"], counts, list(summary["grades"]))
    areas: dict = {}
    for r in kept:
        areas.setdefault(r[3], Counter())[r[2]] += 1
    assert summary["by_service_area"] == {
        n: {k: areas[n].get(k, 0) for k in summary["grades"]} for n in sorted(areas)}
    assert sum(sum(c.values()) for c in summary["by_team"].values()) == len(kept)
    prev = summary["previous"]
    assert prev["period"] == {"from": "2025-07-01", "to": "2025-12-31"}
    prev_kept = [r for r in rows if r[0] == "submitted"
                 and dt.date(2025, 7, 1) <= dt.date.fromisoformat(r[1]) <= dt.date(2025, 12, 31)]
    assert prev["total"] == len(prev_kept)


# -- property: any mix of audits is counted exactly --------------------------------------------
def test_summary_counts_any_mix_of_audits(org_store_template):
    template, ids = org_store_template
    teams = [t for teams in ids.teams_by_area.values() for t in teams]
    area_of = {t: a for a, ts in ids.teams_by_area.items() for t in ts}
    spec = st.tuples(st.dates(min_value=dt.date(2026, 8, 15), max_value=dt.date(2026, 11, 10)),
                     st.sampled_from([Grade.GOOD, Grade.REQUIRES_IMPROVEMENT,
                                      Grade.INADEQUATE]),
                     st.sampled_from(teams),
                     st.sampled_from(["submitted", "submitted", "draft", "withdrawn"]))

    @settings(max_examples=30, deadline=None, database=None)
    @given(specs=st.lists(spec, max_size=25))
    def check(specs):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "s.sqlite3"
            path.write_bytes(template.read_bytes())
            with open_store(path) as store:
                admin = sign_in(store, os_user="admin.user", today=lambda: TODAY)
                for n, (date, grade, team, status) in enumerate(specs):
                    inp = AuditInput(case_reference=f"P-{n}", audit_date=date,
                                     overall_grade=grade, team_id=team,
                                     service_area_id=area_of[team])
                    audit_id = audit_service.create_audit(
                        admin, inp, submit=status != "draft").record_id
                    if status == "withdrawn":
                        audit_service.withdraw_audit(admin, audit_id, "error")
                summary = period_summary(store, START, END)
        counts, kept = expected_counts(specs, START, END)
        assert summary["total"] == len(kept)
        assert_grades_block(summary["grades"], counts,
                            ["good", "requires_improvement", "inadequate"])
        prev_counts, prev_kept = expected_counts(specs, dt.date(2026, 9, 1),
                                                 dt.date(2026, 9, 30))
        if prev_kept:
            assert summary["previous"]["total"] == len(prev_kept)
            assert_grades_block(summary["previous"]["grades"], prev_counts,
                                ["good", "requires_improvement", "inadequate"])
        else:
            assert summary["previous"] is None
        assert sum(sum(v.values()) for v in summary["by_team"].values()) == len(kept)
        assert sum(sum(v.values()) for v in summary["by_service_area"].values()) == len(kept)

    check()


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_summary_json_matches(demo_path, capsys):
    code = main(["--db", str(demo_path), "summary", "--from", "2026-04-01", "--to",
                 "2026-06-30", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    printed = json.loads(out)
    with open_store(demo_path) as store:
        assert printed == period_summary(store, dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert printed["total"] > 0


def test_cli_summary_table(demo_path, capsys):
    code = main(["--db", str(demo_path), "summary", "--from", "2026-04-01", "--to",
                 "2026-06-30"])
    out = capsys.readouterr().out
    assert code == 0
    with open_store(demo_path) as store:
        summary = period_summary(store, dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
    assert out.startswith(f"Audits from 2026-04-01 to 2026-06-30: {summary['total']}")
    assert "95% interval" in out and "Previous" in out
    assert "By service area" in out and "By team" in out
    good = summary["grades"]["good"]
    good_line = next(line for line in out.splitlines() if line.startswith("Good "))
    assert str(good["count"]) in good_line and f"{good['percent']:.1f}%" in good_line
    for name in summary["by_team"]:
        assert any(line.startswith(name) for line in out.splitlines())


def test_cli_summary_table_without_a_previous_period(store_path, capsys):
    assert main(["--db", str(store_path), "summary", "--from", "2026-10-01", "--to",
                 "2026-10-31"]) == 0
    out = capsys.readouterr().out
    assert "Audits from 2026-10-01 to 2026-10-31: 0" in out
    assert "The previous period, 2026-09-01 to 2026-09-30, has no audits." in out
