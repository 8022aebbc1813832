"""Issue 16, finding 1: the public pack leaks what it hides, to a reader who uses every figure
at once, that counts are whole and never negative, and the links between tables.

* the integer-programming audit (reports/disclosure_audit.py) against figures worked by hand;
* the seed story's quarter and the quarter after it: no hidden cell narrower than 3 values,
  none pinned inside 1–4, including through the next pack's "previous period";
* the leaks the disclosure-control officer found, each one as a test;
* generated packs (hypothesis, derandomised in CI): the suppression always survives the audit;
* the CLI's ``report --public --disclosure-audit``.
"""

from __future__ import annotations

import dataclasses
import json

from hypothesis import HealthCheck, given, settings

import seed_story
from sefton_qa.domain.grades import Grade
from sefton_qa.reports.disclosure_audit import Range, ranges
from sefton_qa.reports.numbers import Numbers, disclosure, grade_key, describe
from sefton_qa.reports.suppression import is_small
from test_reports_suppression import pack_figures


# -- the audit itself, against hand-worked answers -----------------------------------------------
def test_a_lone_hidden_cell_of_a_table_is_pinned_and_four_are_not():
    values = {"a": 3, "b": 7, "c": 5, "d": 5, "r1": 10, "r2": 10, "k1": 8, "k2": 12}
    equations = [(("a", 1), ("b", 1), ("r1", -1)), (("c", 1), ("d", 1), ("r2", -1)),
                 (("a", 1), ("c", 1), ("k1", -1)), (("b", 1), ("d", 1), ("k2", -1))]
    assert ranges(values, equations, ["a"]) == {"a": Range(3, 3)}
    # a = 8 - c, b = 10 - a, d = 10 - c: with c free in 0..8, a runs 0..8 and b 2..10
    found = ranges(values, equations, ["a", "b", "c", "d"])
    assert found["a"] == Range(0, 8) and found["b"] == Range(2, 10)


def test_whole_non_negative_counts_pin_what_linear_algebra_cannot():
    """x + y = 1 and y + z = 0 leave x free for linear algebra; counts that are never negative
    make y = z = 0, so x = 1: a small count worked out."""
    values = {"x": 1, "y": 0, "z": 0, "t": 1, "u": 0}
    equations = [(("x", 1), ("y", 1), ("t", -1)), (("y", 1), ("z", 1), ("u", -1))]
    found = ranges(values, equations, ["x", "y", "z"])
    assert found["x"] == Range(1, 1) and not found["x"].protected(1, 4)


def test_a_cell_a_reader_knows_is_at_least_one_is_narrower():
    values = {"a": 2, "b": 2, "t": 4}
    equations = [(("a", 1), ("b", 1), ("t", -1))]
    assert ranges(values, equations, ["a", "b"])["a"] == Range(0, 4)
    assert ranges(values, equations, ["a", "b"], lowest={"a": 1, "b": 1})["a"] == Range(1, 3)
    assert not Range(1, 3).protected(1, 4) and Range(0, 4).protected(1, 4)
    assert not Range(5, 6).protected(1, 4) and Range(5, 7).protected(1, 4)


# -- the seed story ------------------------------------------------------------------------------
def hidden_ranges(figures) -> dict:
    nums = Numbers.build(figures, public=True)
    return nums, nums.model.audit(nums.suppressed)


def test_the_seed_quarters_public_pack_gives_no_hidden_cell_away():
    figures = seed_story.figures("2024-05")
    nums, audit = hidden_ranges(figures)
    assert audit.unprotected() == []
    good = grade_key(figures.period, Grade.GOOD)
    assert good in nums.suppressed  # 4 good: small
    assert audit.ranges[good].hi - audit.ranges[good].lo >= 2
    for key in nums.suppressed:
        r = audit.ranges[key]
        assert r.hi is None or r.hi - r.lo >= 2, (describe(key), r)
        assert not (r.lo >= 1 and r.hi is not None and r.hi <= 4), (describe(key), r)


def test_the_next_quarters_pack_does_not_reveal_the_seed_quarters_good_count():
    """The following quarter's public pack prints May–July as its previous period: 25
    requires improvement and 20 inadequate of 49 would give good = 4 by subtraction."""
    figures = seed_story.figures("2024-08")
    nums, audit = hidden_ranges(figures)
    assert audit.unprotected() == []
    may_jul = figures.prior.period
    good = grade_key(may_jul, Grade.GOOD)
    assert good in nums.suppressed
    others = [grade_key(may_jul, Grade.REQUIRES_IMPROVEMENT),
              grade_key(may_jul, Grade.INADEQUATE), ("audits", may_jul)]
    assert any(k in nums.suppressed for k in others)
    assert audit.ranges[good].protected(1, 4)


def test_the_unused_outstanding_grade_is_no_hiding_place():
    """The check counted the unused "outstanding" grade as an unknown, and so believed good
    was protected when the other grades and the total were shown."""
    figures = seed_story.figures("2024-08")
    model = disclosure(figures)
    assert grade_key(figures.prior.period, Grade.OUTSTANDING) not in model.values


def test_flags_for_inadequate_grades_are_linked_to_the_inadequate_count():
    """"Flagged because graded inadequate: 20" is the inadequate count: hiding one and
    printing the other hides nothing."""
    figures = seed_story.figures("2024-05")
    nums = Numbers.build(figures, public=True)
    inadequate = grade_key(figures.period, Grade.INADEQUATE)
    flagged = ("moderation", "flagged_inadequate")
    assert (inadequate in nums.suppressed) == (flagged in nums.suppressed)
    # and "awaiting moderation" less the inadequate flags is the calibration sample
    calibration = ("moderation", "flagged_calibration")
    assert calibration in nums.suppressed  # 4: small
    assert nums.model.audit(nums.suppressed).ranges[calibration].protected(1, 4)


def test_zeros_beside_a_small_count_are_hidden_too():
    """Printed zeros told the reader every "c" beside them was at least 1 (four "c" in a
    column totalling 4 are each 1), and that a team with one grade had only that grade."""
    figures = seed_story.figures("2024-05")
    nums = Numbers.build(figures, public=False)
    hidden = nums.model.suppress()  # with the team table, as a pack that kept it would
    checked = 0
    for team, counts in figures.by_team.items():
        if any(is_small(n) for n in counts.values()):
            for g, n in counts.items():
                if n == 0:
                    assert ("team", team, g.value) in hidden, (team, g)
                    checked += 1
    assert checked  # the seed's teams have such zeros


def test_a_team_table_that_would_be_mostly_c_is_left_out_of_the_public_pack(tmp_path):
    """The seed's seven teams of 5 to 9 audits: protected, the team table would be nearly all
    "c" (and cost headline figures); the public pack publishes the service areas instead and
    says so, and the pack still survives the audit."""
    from sefton_qa.reports import pdf

    figures = seed_story.figures("2024-05")
    nums = Numbers.build(figures, public=True)
    assert nums.teams_withheld
    assert not any(k[0] == "team" for k in nums.model.values)
    assert nums.model.audit(nums.suppressed).unprotected() == []
    assert ("audits", figures.period) not in nums.suppressed  # the 49 is published
    path = tmp_path / "public.pdf"
    pdf.render(figures, path, public=True)
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "The table by team is not published in this version" in " ".join(text.split())
    assert "Fostering" not in text and "Assessment 2" not in text


def test_a_never_printed_count_worked_out_by_subtraction_is_protected():
    """6 awaiting moderation, 5 of them overdue: the pack never prints "1 in time", but a
    reader subtracts. The linear steps alone let it through; the audit does not."""
    figures = seed_story.figures("2024-05")
    figures = dataclasses.replace(figures, moderation=dataclasses.replace(
        figures.moderation, pending=6, pending_overdue=5, flagged_calibration=4,
        flagged_inadequate=20))
    model = disclosure(figures)
    linear = model.suppress(audited=False)
    assert ("moderation", "pending_in_time") in model.audit(linear).unprotected()
    audited = model.suppress()
    assert model.audit(audited).unprotected() == []


# -- the headline councillors asked for (issue 16, finding 5) ------------------------------------
def test_the_internal_pack_says_92_percent_requires_improvement_or_inadequate():
    from sefton_qa.reports import text

    figures = seed_story.figures("2024-05")
    said = text.summary(figures, Numbers.build(figures, public=False))
    assert said[0].startswith("From 1 May to 31 July 2024, 49 deep-dive audits of children's")
    assert said[1] == ("92% were graded requires improvement or inadequate (45 of 49), and 8% "
                       "good. Grades are as they stand after moderation.")
    assert text.SELECTION_SENTENCE in said
    # the public pack cannot say it: 92% of 49 is 45, which leaves the 4 good
    public = text.summary(figures, Numbers.build(figures, public=True))
    assert not any("92%" in line for line in public)


def test_imported_history_says_why_there_is_no_moderation():
    from sefton_qa.reports import text

    figures = dataclasses.replace(seed_story.figures("2024-05"), imported=49)
    said = text.summary(figures, Numbers.build(figures, public=False))
    i = said.index("No audits were moderated in the period.")
    assert said[i + 1].startswith("All of this period's audits were brought in from earlier "
                                  "records by import")


# -- generated packs -----------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack_figures())
def test_every_generated_public_pack_survives_the_integer_programming_attack(figures):
    nums = Numbers.build(figures, public=True)
    audit = nums.model.audit(nums.suppressed)
    assert audit.unprotected() == [], [(describe(k), audit.ranges[k])
                                       for k in audit.unprotected()]


# -- the command line ----------------------------------------------------------------------------
def test_report_disclosure_audit_prints_each_hidden_cells_range(demo_store, capsys,
                                                                as_admin_user, monkeypatch,
                                                                tmp_path):
    from sefton_qa.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    location = str(demo_store.location)
    rc = main(["--db", location, "report", "--from", "2026-07-01", "--to", "2026-09-30",
               "--public", "--disclosure-audit", "--json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert rc == 0 and out["unprotected"] == 0 and out["cells"]
    for cell in out["cells"]:
        assert cell["protected"] and cell["shown_as"] in ("c", "never shown")
        assert cell["highest"] is None or cell["highest"] - cell["lowest"] >= 2
    assert main(["--db", location, "report", "--from", "2026-07-01", "--to", "2026-09-30",
                 "--disclosure-audit"]) != 0  # the internal pack hides nothing to audit
    assert "add --public" in capsys.readouterr().err


def test_the_pack_knows_which_audits_were_imported_and_their_types(admin, org, store,
                                                                    make_input, tmp_path):
    """On both engines: audits brought in by import are counted as imported (their record
    was created by an import trail row), logged ones are not; types are counted."""
    import datetime as dt

    from import_helpers import row, write_rows
    from sefton_qa.domain.models import AuditType
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services.import_export import import_audits
    from sefton_qa.services.reports import PackOptions, gather

    report = import_audits(admin, write_rows(tmp_path / "history.csv",
                                             [row(1), row(2), row(3)]), create_missing=True)
    assert report.ok and report.added == 3
    may = (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    figures = gather(admin, *may, PackOptions())
    assert figures.imported == 3 == figures.current.total
    assert figures.by_type == {"deep_dive": 3} and figures.audits_called == "deep-dive audits"
    audit_service.create_audit(admin, make_input(audit_date=dt.date(2024, 5, 20),
                                                 audit_type=AuditType.THEMED), submit=True)
    figures = gather(admin, *may, PackOptions())
    assert figures.imported == 3 and figures.current.total == 4
    assert figures.by_type == {"deep_dive": 3, "themed": 1}
    assert figures.audits_called == "audits"


def test_an_attacker_with_only_the_pdfs_text_pins_no_hidden_cell(tmp_path):
    """tests/pack_attacker.py imports nothing from Sefton QA: it reads the seed quarter's and
    the next quarter's public PDFs as text, writes down every sum a reader knows between the
    headline and the table by service area, and runs integer programming on its own. No "c"
    can be narrowed to fewer than 3 values or into 1–4; and the next pack's "previous period"
    prints nothing the seed pack hid."""
    import pack_attacker
    from sefton_qa.reports import pdf

    read = {}
    for quarter in ("2024-05", "2024-08"):
        path = tmp_path / f"{quarter}.pdf"
        pdf.render(seed_story.figures(quarter), path, public=True)
        read[quarter] = pack = pack_attacker.read_pack(pack_attacker.pdf_text(path))
        assert pack["headline"]["All audits"][0] is not None and pack["areas"]
        found = pack_attacker.ranges(pack)
        assert found  # there are hidden cells to attack
        for cell, (lo, hi) in found.items():
            assert hi is None or hi - lo >= 2, (quarter, cell, lo, hi)
            assert not (lo >= 1 and hi is not None and hi <= 4), (quarter, cell, lo, hi)
    for grade, (now, _before) in read["2024-05"]["headline"].items():
        later = read["2024-08"]["headline"][grade][1]
        if now is None:
            assert later is None, grade  # hidden in May's pack, hidden as August's previous
        elif later is not None:
            assert later == now, grade


def test_the_next_pack_prints_the_previous_period_as_published_or_c(demo_store, demo_admin,
                                                                     tmp_path):
    """Each public pack records what it published for its period, with its own trail row and
    in the same transaction; the next quarter's public pack prints exactly those figures for
    its previous period, or "c" where they have changed since (an audit withdrawn or
    moderated later), so the two packs cannot be subtracted one from the other."""
    import datetime as dt

    from sefton_qa.domain.grades import Grade
    from sefton_qa.reports import text
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services.reports import PackOptions, committee_pack, gather, published_key
    from sefton_qa.store import settings as settings_store

    q2 = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    q3 = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    before = gather(demo_admin, *q3, PackOptions(public=True))
    assert before.previous_published is None
    assert "no public pack for that period is on record" in " ".join(
        text.summary(before, Numbers.build(before, public=True)))

    committee_pack(demo_admin, *q2, tmp_path / "q2.pdf", options=PackOptions(public=True))
    period = seed_story.Period(*q2)  # the pack figures' own Period
    published = settings_store.get(demo_store.conn, published_key(period))
    q2_public = Numbers.build(gather(demo_admin, *q2, PackOptions(public=True)), public=True)
    assert published["audits"] == q2_public.value(("audits", period))
    trail = demo_store.conn.execute(
        "SELECT count(*) FROM trail WHERE table_name = 'settings' AND reason LIKE "
        "'What the public pack q2.pdf published%'").fetchone()[0]
    assert trail == 1

    # A Q2 audit graded good is withdrawn after the Q2 pack was published.
    audit_id = demo_store.conn.execute(
        "SELECT id FROM audits WHERE status = 'submitted' AND overall_grade = 'good' AND "
        "audit_date BETWEEN '2026-04-01' AND '2026-06-30' ORDER BY id LIMIT 1").fetchone()[0]
    audit_service.withdraw_audit(demo_admin, audit_id, "Logged against the wrong case",
                                 expected_version=audit_service.get_audit(demo_admin,
                                                                          audit_id).version)
    after = gather(demo_admin, *q3, PackOptions(public=True))
    assert after.previous_published == published
    nums = Numbers.build(after, public=True)
    assert ("audits", period) in nums.suppressed  # 1 fewer than published: not printed
    assert grade_key(period, Grade.GOOD) in nums.suppressed
    for g in after.grades:
        key = grade_key(period, g)
        if nums.shown(key):  # whatever it does print is what the Q2 pack printed
            assert nums.value(key) == published[g.value]
    assert "those its own public pack published" in " ".join(text.summary(after, nums))
    assert nums.model.audit(nums.suppressed).unprotected() == []


# -- the audit's shortcuts (the benchmark: a public pack's audit within a second) ----------------
def _audit_inputs(model, suppressed):
    from sefton_qa.reports import suppression

    eqs = [eq for eq in model.equations]
    rows, unknown, lowest, protect = suppression._audit_model(model.values, eqs, suppressed,
                                                              model.hidden)
    order = {k: i for i, k in enumerate(model.values)}
    return rows, unknown, lowest, sorted(protect, key=order.__getitem__)


def test_a_cell_is_certified_only_when_every_range_holding_its_values_is_protected():
    """Two values a cell is known to take prove it protected only if every range [lo, hi]
    around them is: the rule must be monotone, exhaustively over small ranges."""
    from sefton_qa.reports.disclosure_audit import certified

    for lo in range(0, 9):
        for hi in [*range(lo, 14), None]:
            top = 13 if hi is None else hi
            for a in range(lo, top + 1):
                for b in range(a, top + 1):
                    if certified(a, b, 1, 4):
                        assert Range(lo, hi).protected(1, 4), (lo, hi, a, b)
    assert certified(0, 2, 1, 4) and certified(3, 5, 1, 4) and not certified(1, 4, 1, 4)


def test_a_false_solution_cannot_certify_a_narrow_cell():
    """x + y = 1 and y + z = 0 pin x at 1. Solutions that are not whole, non-negative figures
    agreeing with the pack (y = -4, x = 2.5, a changed published total, an equation off by
    one) would each "show" x taking 5 or 0, and so prove it protected: every one must be
    thrown out, and x still reported."""
    from sefton_qa.reports.disclosure_audit import Solutions, attainable, unprotected

    values = {"x": 1, "y": 0, "z": 0, "t": 1, "u": 0}
    equations = [(("x", 1), ("y", 1), ("t", -1)), (("y", 1), ("z", 1), ("u", -1))]
    unknown = ["x", "y", "z"]
    false = [{"x": 5, "y": -4, "z": 4},             # negative
             {"x": 0.5, "y": 0.5, "z": -0.5},       # not whole (and negative)
             {"x": 5, "y": 0, "z": 0},              # an equation no longer holds
             {"x": 5, "t": 5},                      # a published total changed
             {"x": 0, "y": 1, "z": -1}]             # negative again, the other way
    for point in false:
        assert not attainable(point, values, equations, set(unknown), {})
    solutions = Solutions()
    solutions.points += [dict(p) for p in false]
    stats: dict = {}
    assert unprotected(values, equations, unknown, ["x"], solutions=solutions,
                       stats=stats) == ["x"]
    assert all(
        attainable(p, values, equations, set(unknown), {}) for p in solutions.points)
    assert stats["solves"] >= 1  # x was solved for, not taken on trust
    # and a solution valid for one audit is dropped when a reader knows more (x at least 1)
    solutions = Solutions()
    solutions.points.append({"x": 0, "y": 1, "z": 0, "t": 1, "u": 1})  # t, u change: invalid
    assert solutions.usable(values, equations, set(unknown), {}) == [{}]


def test_a_solution_valid_before_a_cell_was_hidden_is_checked_again():
    """Kept between rounds, a solution is re-checked against the next round's lowest values:
    a "c" a reader knows is at least 1 cannot be certified by a solution where it is 0."""
    from sefton_qa.reports.disclosure_audit import Solutions

    values = {"a": 2, "b": 2, "t": 4}
    equations = [(("a", 1), ("b", 1), ("t", -1))]
    solutions = Solutions()
    solutions.points.append({"a": 0, "b": 4})
    assert len(solutions.usable(values, equations, {"a", "b"}, {})) == 2
    assert solutions.usable(values, equations, {"a", "b"}, {"a": 1, "b": 1}) == [{}]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack_figures())
def test_the_certified_audit_agrees_with_full_integer_ranges(figures):
    """On generated packs, hiding what the linear steps hide (some cells then unprotected) and
    what the pack hides: the cells the shortcut audit reports are exactly those whose full
    min/max ranges (one MILP each way, no shortcut) are not protected; every solution it
    kept lies inside every cell's full range; its first answer is the first in order."""
    from sefton_qa.reports.disclosure_audit import Solutions, attainable, ranges, unprotected

    model = disclosure(figures)
    for suppressed in (model.suppress(audited=False), Numbers.build(figures,
                                                                    public=True).suppressed):
        if set(suppressed) - set(model.values):  # the pack withheld its team table
            continue
        rows, unknown, lowest, protect = _audit_inputs(model, suppressed)
        if not protect:
            continue
        full = ranges(model.values, rows, unknown, lowest=lowest, only=protect)
        narrow = [k for k in protect if not full[k].protected(1, 4)]
        solutions = Solutions()
        found = unprotected(model.values, rows, unknown, protect, lowest=lowest,
                            solutions=solutions)
        assert found == narrow, ([describe(k) for k in found], [describe(k) for k in narrow])
        for point in solutions.points:
            assert attainable(point, model.values, rows, set(unknown), lowest)
            for k in protect:
                v = point.get(k, model.values[k])
                assert full[k].lo <= v and (full[k].hi is None or v <= full[k].hi)
        assert unprotected(model.values, rows, unknown, protect, lowest=lowest,
                           first=True) == narrow[:1]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack_figures())
def test_suppression_hides_the_same_cells_as_with_the_full_audit_each_round(figures):
    """The secondary suppression asks each round only for the first unprotected cell, proved
    with as little solving as will do; asked of the full audit (every range, by MILP) each
    round instead, it hides exactly the same cells."""
    import pytest

    from sefton_qa.reports import suppression

    def full(values, equations, suppressed, hidden, order, **_):
        found = suppression.audit(values, equations, suppressed, hidden=hidden)
        return sorted(found.unprotected(), key=order.__getitem__)

    model = disclosure(figures)
    with pytest.MonkeyPatch.context() as patch:
        # (no time limit: the full audit is slow enough to reach it, and then withholds more)
        patch.setattr(suppression, "AUDIT_SECONDS", float("inf"))
        quick = model.suppress()
        patch.setattr(suppression, "_failing", full)
        slow = model.suppress()
    assert quick == slow
    assert model.audit(quick).unprotected() == []


def test_the_seed_quarters_audit_solves_a_fraction_of_the_cells():
    """The point of the shortcuts: the seed quarter's public pack, suppression and audit, with
    far fewer MILPs than two per hidden cell per round (a regression guard, not a timing)."""
    import highspy

    counted = {"runs": 0}
    run = highspy.Highs.run

    def counting(self):
        counted["runs"] += 1
        return run(self)

    import pytest

    figures = seed_story.figures("2024-05")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(highspy.Highs, "run", counting)
        nums = Numbers._public(figures)
    cells = len(nums.suppressed)
    assert counted["runs"] < cells, (counted["runs"], cells)
    assert nums.model.audit(nums.suppressed).unprotected() == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack_figures())
def test_the_team_table_is_left_out_as_it_would_be_after_auditing_it(figures):
    """The public pack no longer audits a team table that the linear steps already hide too
    much of (the audit only ever hides more): it publishes what it would have published had it
    audited the table first and then decided."""
    from sefton_qa.reports import numbers

    nums = Numbers.build(figures, public=True)
    model = disclosure(figures)
    forced = numbers.changed_since_published(figures)
    hidden = model.suppress(forced)
    linear = model.suppress(forced, audited=False)
    assert linear <= hidden
    coarse = disclosure(dataclasses.replace(figures, by_team={}, team_areas={}))
    coarse_hidden = coarse.suppress(forced)
    cells = [numbers.team_key(t, g) for t in figures.by_team for g in figures.grades]
    withheld = bool(figures.by_team) and (
        sum(k in hidden for k in cells) > numbers.TEAMS_HIDDEN_SHARE * len(cells)
        or any(k in hidden and k not in coarse_hidden for k in numbers._headline_keys(figures)))
    assert nums.teams_withheld == withheld
    assert nums.suppressed == (coarse_hidden if withheld else hidden)
