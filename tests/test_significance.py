"""Statistics a statistician would sign (issue 16, item 3): Newcombe's hybrid score interval
against Newcombe's own published values, Fisher's exact test against classic tables and a
brute-force enumeration, Holm's correction, the run rules on a p-chart, and the words the pack
builds from them (public packs state nothing worked out from a "c")."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_qa.domain import significance as sig
from sefton_qa.domain.grades import Grade
from sefton_qa.reports.figures import GradeCounts, Loop, Moderation, PackFigures, Period
from sefton_qa.reports.numbers import Numbers, theme_key, theme_previous_key, total_key
from sefton_qa.reports import text
from test_reports_suppression import pack_figures  # the generated packs (hypothesis)


# -- Newcombe (1998), Table II, method 10 ---------------------------------------------------------
@pytest.mark.parametrize("k1, n1, k2, n2, low, high", [
    (56, 70, 48, 80, 0.0524, 0.3339),  # (a)
    (9, 10, 3, 10, 0.1705, 0.8090),  # (b)
    (6, 7, 2, 7, 0.0582, 0.8062),  # (c)
    (5, 56, 0, 29, -0.0381, 0.1926),  # (d)
    (0, 10, 0, 20, -0.1611, 0.2775),  # (e)
    (0, 10, 0, 10, -0.2775, 0.2775),  # (f)
    (10, 10, 0, 20, 0.6791, 1.0000),  # (g)
    (10, 10, 0, 10, 0.6075, 1.0000),  # (h)
])
def test_newcombe_published_values(k1, n1, k2, n2, low, high):
    d, lo, hi = sig.newcombe_interval(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert lo == pytest.approx(low, abs=0.00005)
    assert hi == pytest.approx(high, abs=0.00005)


def test_the_issues_examples():
    # 56/70 against 48/80: 0.2 (0.0524 to 0.3339), a rise too large to be chance.
    c = sig.compare(56, 70, 48, 80)
    assert c.method == sig.NEWCOMBE and c.difference == pytest.approx(0.2)
    assert c.verdict() == sig.RISE
    # Care planning fell from 31% to 6%, p = 0.002 (3 of 49 against 14 of 45).
    c = sig.compare(3, 49, 14, 45)
    assert c.verdict() == sig.FALL and round(c.p, 3) == 0.002
    # 4 of 49 good against 7 of 45: could be chance.
    assert sig.compare(4, 49, 7, 45).verdict() == sig.CHANCE
    assert sig.verdict_words(sig.FALL) == "a fall too large to be chance"
    assert sig.verdict_words(sig.RISE) == "a rise too large to be chance"
    assert sig.verdict_words(sig.CHANCE) == "could be chance"


# -- Fisher's exact test -------------------------------------------------------------------------
@pytest.mark.parametrize("table, p", [
    ((3, 1, 1, 3), 0.4857142857),  # Fisher's lady tasting tea
    ((1, 9, 11, 3), 0.0027594562),  # scipy.stats.fisher_exact's documented example
    ((8, 2, 1, 5), 0.0349650350),
    ((0, 5, 5, 0), 0.0079365079),
    ((2, 2, 2, 2), 1.0),
    ((0, 0, 0, 0), 1.0),
])
def test_fisher_classic_tables(table, p):
    assert sig.fisher_exact(*table) == pytest.approx(p, abs=1e-9)


def fisher_by_enumeration(a: int, b: int, c: int, d: int) -> Fraction:
    """Every table with the same margins, its probability exactly; sum those no more likely."""
    r1, r2, c1 = a + b, c + d, a + c
    n = r1 + r2
    probs = {x: Fraction(math.comb(r1, x) * math.comb(r2, c1 - x), math.comb(n, c1))
             for x in range(0, c1 + 1) if x <= r1 and c1 - x <= r2}
    return sum((q for q in probs.values() if q <= probs[a]), Fraction(0))


@settings(max_examples=150, deadline=None, database=None)
@given(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12), st.integers(0, 12))
def test_fisher_equals_enumeration(a, b, c, d):
    p = sig.fisher_exact(a, b, c, d)
    assert p == pytest.approx(float(fisher_by_enumeration(a, b, c, d)), abs=1e-12)
    assert p == pytest.approx(sig.fisher_exact(c, d, a, b), abs=1e-12)  # rows swapped
    assert p == pytest.approx(sig.fisher_exact(b, a, d, c), abs=1e-12)  # columns swapped


def test_fisher_is_used_when_an_expected_count_is_below_five():
    assert min(sig.expected_counts(1, 20, 8, 20)) < 5 <= min(sig.expected_counts(2, 20, 9, 20))
    c = sig.compare(1, 20, 8, 20)
    assert c.method == sig.FISHER and c.p == pytest.approx(sig.fisher_exact(1, 19, 8, 12))
    assert c.verdict() == (sig.FALL if c.p < 0.05 else sig.CHANCE)
    assert sig.compare(30, 60, 20, 60).method == sig.NEWCOMBE
    assert sig.compare(1, 0, 0, 5) is None and sig.compare(0, 5, 0, 0) is None


@settings(max_examples=150, deadline=None, database=None)
@given(n1=st.integers(1, 300), n2=st.integers(1, 300), data=st.data())
def test_the_verdict_agrees_with_the_interval_or_fishers_p(n1, n2, data):
    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2))
    c = sig.compare(k1, n1, k2, n2)
    assert 0 <= c.p <= 1 and c.low <= c.difference <= c.high
    if c.method == sig.NEWCOMBE:
        assert min(sig.expected_counts(k1, n1, k2, n2)) >= 5
        assert c.significant == (c.low > 0 or c.high < 0)
        # The p-value inverts the interval: below 0.05 exactly when the interval leaves 0 out
        # (away from the boundary, where floating point decides).
        if abs(c.p - 0.05) > 1e-6:
            assert (c.p < 0.05) == c.significant
    else:
        assert c.significant == (c.p < 0.05)
    verdict = c.verdict()
    assert verdict == (sig.CHANCE if not c.significant or k1 * n2 == k2 * n1 else
                       sig.RISE if k1 * n2 > k2 * n1 else sig.FALL)
    # The other way round is the mirror image.
    back = sig.compare(k2, n2, k1, n1)
    assert back.p == pytest.approx(c.p, abs=1e-9)
    assert back.low == pytest.approx(-c.high, abs=1e-9)


# -- Holm ----------------------------------------------------------------------------------------
def test_holm_step_down():
    assert sig.holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert sig.holm_adjusted([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06,
                                                                         0.02])
    assert sig.holm([0.04]) == [True] and sig.holm([0.06]) == [False] and sig.holm([]) == []
    # One small p among many is not enough when it is not small enough for all of them.
    assert sig.holm([0.004] + [0.5] * 14) == [False] + [False] * 14
    assert sig.holm([0.002] + [0.5] * 14) == [True] + [False] * 14


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_holm_matches_its_adjusted_p_values_and_bonferroni_is_stricter(ps):
    rejected = sig.holm(ps)
    adjusted = sig.holm_adjusted(ps)
    assert rejected == [a < 0.05 for a in adjusted]
    for p, r in zip(ps, rejected):
        if p < 0.05 / len(ps):
            assert r  # Bonferroni's rejections are Holm's too
        if r:
            assert p < 0.05


# -- run rules on a p-chart ----------------------------------------------------------------------
def rules(shares: list[int], n: int = 100):
    return sig.run_rules([(k, n) for k in shares])


def test_too_few_points_apply_no_rule():
    assert rules([5, 50, 5, 50, 5]).rules == ()
    assert rules([5, 50, 5, 50, 5]).findings == ()
    assert rules([10] * 6).rules == ("outside", "trend")
    assert rules([10] * 8).rules == ("outside", "trend", "side")


def test_a_point_outside_the_limits():
    got = rules([20, 20, 20, 20, 20, 45])
    assert [(f.rule, f.direction, f.points) for f in got.findings] == [("outside", 1, (5,))]
    got = rules([20, 20, 20, 20, 20, 20, 20, 2])
    assert ("outside", -1, (7,)) in [(f.rule, f.direction, f.points) for f in got.findings]


def test_six_rising_in_a_row():
    got = rules([16, 17, 18, 19, 20, 21])  # within the limits, but rising six times running
    assert [(f.rule, f.direction, f.points) for f in got.findings] == [
        ("trend", 1, (0, 1, 2, 3, 4, 5))]
    assert not [f for f in rules([16, 17, 18, 18, 20, 21]).findings if f.rule == "trend"]
    falling = rules([15, 21, 20, 19, 18, 17, 16, 30])
    assert ("trend", -1, (1, 2, 3, 4, 5, 6)) in [(f.rule, f.direction, f.points)
                                                 for f in falling.findings]


def test_eight_on_one_side():
    got = rules([21, 22, 21, 22, 21, 22, 21, 22, 10, 10])
    assert ("side", 1, tuple(range(8))) in [(f.rule, f.direction, f.points)
                                            for f in got.findings]
    assert not [f for f in rules([21, 22, 21, 22, 21, 22, 21, 10, 10, 10]).findings
                if f.rule == "side"]


def test_the_issues_trend_good_rose_from_7_to_30_percent():
    got = sig.run_rules([(10, 140), (14, 140), (20, 140), (28, 140), (42, 140), (35, 140)])
    words = text.run_rule_words("good", 1, got, ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"])
    assert "below its lower control limit in Q1" in words
    assert "above its upper control limit in Q5" in words
    assert words.endswith("a sign of a real improvement")
    flat = text.run_rule_words("inadequate", -1, rules([20, 21, 19, 20, 21, 20], n=140),
                               ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"])
    assert flat == ("the share inadequate stayed within its control limits with no run of 6 "
                    "rising or falling: nothing beyond ordinary variation")
    worse = text.run_rule_words("inadequate", -1, rules([16, 17, 18, 19, 20, 21]),
                                ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"])
    assert "rising 6 periods in a row (Q1 to Q6)" in worse and worse.endswith("real decline")


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 60)), min_size=0, max_size=14))
def test_run_rules_are_consistent(raw):
    pts = [(min(k, n), n) for k, n in raw]
    got = sig.run_rules(pts)
    assert set(got.rules) == {r for r, need in (("outside", 6), ("trend", 6), ("side", 8))
                              if len(pts) >= need}
    shares = [Fraction(k, n) for k, n in pts]
    for f in got.findings:
        assert f.rule in got.rules
        if f.rule == "trend":
            assert len(f.points) >= 6
            assert all((shares[i] - shares[i - 1]) * f.direction > 0 for i in f.points[1:])
        if f.rule == "side":
            centre = Fraction(sum(k for k, _ in pts), sum(n for _, n in pts))
            assert len(f.points) >= 8
            assert all((shares[i] - centre) * f.direction > 0 for i in f.points)


# -- the words in the pack -----------------------------------------------------------------------
GRADES = (Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
THIS = Period(dt.date(2024, 5, 1), dt.date(2024, 7, 31))
BEFORE = Period(dt.date(2024, 2, 1), dt.date(2024, 4, 30))


def figures_with(themes_now: dict[str, int], themes_before: dict[str, int], *, n1=49, n2=45,
                 trend=None) -> PackFigures:
    current = GradeCounts(THIS, {Grade.GOOD: 4, Grade.REQUIRES_IMPROVEMENT: n1 - 24,
                                 Grade.INADEQUATE: 20})
    prior = GradeCounts(BEFORE, {Grade.GOOD: 7, Grade.REQUIRES_IMPROVEMENT: n2 - 27,
                                 Grade.INADEQUATE: 20})
    trend = trend or [prior, current]
    return PackFigures(
        authority="A", marking="OFFICIAL", produced=dt.datetime(2024, 8, 5, 9, 0),
        period=THIS, previous=BEFORE, grades=GRADES, summary={}, current=current, prior=prior,
        trend=trend, by_area={"Area": dict(current.counts)}, by_team={}, team_areas={},
        themes={t: {"Area": n} for t, n in themes_now.items()}, themes_previous=themes_before,
        moderation=Moderation(0, 0, 0, 0, None, None, "", 5, 0, 0, 0, 0),
        loop=Loop(*[0] * 14), people={k: (5, 5) for k in ("auditors", "moderators",
                                                           "service_managers", "practitioners")},
        trail_seq=1, trail_hash="0" * 64)


def test_care_planning_fell_too_far_to_be_chance():
    themes_now = {"Care planning": 3, "Drift and delay": 12, "Child's voice": 9}
    themes_before = {"Care planning": 14, "Drift and delay": 10, "Child's voice": 9}
    f = figures_with(themes_now, themes_before)
    nums = Numbers.build(f, public=False)
    changes = text.theme_changes(f, nums)
    assert set(changes) == set(themes_now)
    assert changes["Care planning"][1] == sig.FALL
    assert changes["Drift and delay"][1] == sig.CHANCE
    said = text.theme_change_sentence(f, nums)
    assert said == ("Since the previous period, allowing for the 3 themes compared (Holm's "
                    "correction), care planning was found in 6% of audits, down from 31%: a "
                    "fall too large to be chance (p = 0.002, 0.007 after the correction). The "
                    "other themes' changes could be chance.")
    assert said in text.summary(f, nums)


def test_no_theme_changed():
    f = figures_with({"Drift and delay": 12}, {"Drift and delay": 10})
    assert text.theme_change_sentence(f, Numbers.build(f, public=False)) == (
        "No theme's change since the previous period is too large to be chance.")


def test_a_public_pack_states_no_test_of_a_hidden_theme():
    # Care planning's 3 is shown as "c": its fall is not stated, and Holm is over the rest.
    f = figures_with({"Care planning": 3, "Drift and delay": 12, "Child's voice": 9},
                     {"Care planning": 14, "Drift and delay": 10, "Child's voice": 9})
    nums = Numbers.build(f, public=True)
    assert not nums.shown(theme_key("Care planning"))
    changes = text.theme_changes(f, nums)
    assert "Care planning" not in changes
    said = text.theme_change_sentence(f, nums)
    assert "care planning" not in said.lower()
    assert all(nums.shown(theme_key(t)) and nums.shown(theme_previous_key(t)) for t in changes)
    # "None changed" is said of the published themes only: care planning did change.
    assert said == ("Of the 2 themes whose figures are published, none changed since the "
                    "previous period by more than chance would give (with Holm's correction). "
                    "One other theme is not tested here because its numbers are small.")
    f = figures_with({"Care planning": 3, "Drift and delay": 22},
                     {"Care planning": 14, "Drift and delay": 10})
    assert text.theme_change_sentence(f, Numbers.build(f, public=True)) == (
        "Since the previous period, drift and delay was found in 45% of audits, up from 22%: a "
        "rise too large to be chance (p = 0.020). One other theme is not tested here because "
        "its numbers are small.")


@st.composite
def theme_packs(draw):
    n1, n2 = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    names = [f"Theme {i}" for i in range(draw(st.integers(1, 6)))]
    now = {t: draw(st.integers(0, n1)) for t in names}
    before = {t: draw(st.integers(0, n2)) for t in names}
    return figures_with(now, before, n1=max(n1, 24), n2=max(n2, 27))


@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(theme_packs())
def test_theme_sentences_never_use_a_hidden_count(f):
    for public in (False, True):
        nums = Numbers.build(f, public=public)
        changes = text.theme_changes(f, nums)
        said = text.theme_change_sentence(f, nums)
        for theme in f.themes:
            hidden = not (nums.shown(theme_key(theme)) and nums.shown(theme_previous_key(theme))
                          and nums.shown(total_key(f.current.period))
                          and nums.shown(total_key(f.prior.period)))
            if hidden:
                assert theme not in changes
                assert f" {theme.lower()} " not in f" {said.lower()} "
            elif not public:
                assert theme in changes
        real = [t for t, (_, v) in changes.items() if v != sig.CHANCE]
        rejected = sig.holm([c.p for c, _ in changes.values()])
        assert sorted(real) == sorted(t for t, r in zip(changes, rejected) if r)
        if said and "not tested" not in said:  # said of every theme: true of the full data
            full = text.theme_changes(f, Numbers.build(f, public=False))
            assert {t: v for t, (_, v) in changes.items()} == {t: v for t, (_, v) in
                                                               full.items()}


def six_quarters(goods: list[int], n: int = 40) -> list[GradeCounts]:
    out = []
    for i, good in enumerate(goods):
        start = dt.date(2023 + (i + 1) // 4, 3 * ((i + 1) % 4) + 1, 1)
        from sefton_qa.domain.periods import months
        out.append(GradeCounts(Period(*months(start, 3)),
                               {Grade.GOOD: good, Grade.REQUIRES_IMPROVEMENT: n - good - 10,
                                Grade.INADEQUATE: 10}))
    return out


def test_the_trend_sentence_reads_the_run_rules_and_hides_what_is_hidden():
    trend = six_quarters([3, 6, 8, 12, 16, 20])
    f = figures_with({}, {}, trend=trend)
    f.current, f.prior = trend[-1], trend[-2]
    f.period, f.previous = trend[-1].period, trend[-2].period
    said = text.trend_sentence(f, Numbers.build(f, public=False))
    assert said.startswith("Over the last 6 calendar quarters, read by the usual run rules")
    assert "the share good was" in said and "rising 6 periods in a row" in said
    assert "a sign of a real improvement" in said
    assert "the share inadequate stayed within its control limits" in said
    # The public pack hides the 3 good of the oldest quarter: no word on the share good.
    nums = Numbers.build(f, public=True)
    public = text.trend_sentence(f, nums)
    assert "share good" not in public and "share inadequate" in public


def test_a_short_trend_is_said_to_be_too_short():
    f = figures_with({}, {})
    assert text.trend_sentence(f, Numbers.build(f, public=False)) == (
        "Only 2 periods of the trend have audits: too few to tell a trend from ordinary "
        "variation, which needs at least 6.")


def test_largest_numbers_are_said_as_numbers_and_ties_together():
    f = figures_with({"Drift and delay": 12, "Care planning": 12}, {})
    f.by_area = {"Child Protection": {Grade.GOOD: 1, Grade.REQUIRES_IMPROVEMENT: 9,
                                      Grade.INADEQUATE: 10},
                 "Children in Care": {Grade.GOOD: 3, Grade.REQUIRES_IMPROVEMENT: 16,
                                      Grade.INADEQUATE: 10}}
    nums = Numbers.build(f, public=False)
    assert text.where_sentence(f, nums) == ("The largest number of inadequate audits was in "
                                            "Child Protection and Children in Care: 10 in each.")
    assert text.theme_sentence(f, nums) == ("The themes found most often were care planning, "
                                            "and drift and delay, in 12 audits each (24%).")
    f.by_area["Children in Care"][Grade.INADEQUATE] = 9
    f.by_area["Children in Care"][Grade.REQUIRES_IMPROVEMENT] = 17
    assert text.where_sentence(f, nums := Numbers.build(f, public=False)) == (
        "The largest number of inadequate audits was in Child Protection: 10 of its 20 audits "
        "(50%).")


def test_summary_json_and_the_pack_say_the_same_about_each_change(demo_path, tmp_path, capsys,
                                                                  monkeypatch):
    import json
    import re

    from pypdf import PdfReader

    from sefton_qa import identity
    from sefton_qa.cli import main

    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    db = ["--db", str(demo_path)]
    for quarter in ("2026Q2", "2026Q3"):
        assert main(db + ["summary", "--quarter", quarter, "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        pdf = tmp_path / f"{quarter}.pdf"
        assert main(db + ["report", "--quarter", quarter, "-o", str(pdf)]) == 0
        capsys.readouterr()
        pages = [" ".join(p.extract_text().split()) for p in PdfReader(str(pdf)).pages]
        headline = next(p for p in pages[1:] if "2. Headline figures" in p)
        for key, change in summary["change"].items():
            g, before = summary["grades"][key], summary["previous"]["grades"][key]
            c = sig.compare(g["count"], summary["total"], before["count"],
                            summary["previous"]["total"])
            assert change["verdict"] == c.verdict() and change["method"] == c.method
            note = text.change_note(change["verdict"])
            points = change["points"]
            label = Grade(key).label
            said = (f"{'+' if points > 0 else '−'}{abs(points):.1f} points {note}"
                    if abs(points) >= 0.05 else "no change")
            row = re.escape(label) + r".{0,80}?" + re.escape(said)
            assert re.search(row, headline), (label, said)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(pack_figures())
def test_generated_public_packs_read_no_trend_or_theme_test_from_a_c(f):
    """Over the generated packs of the suppression tests: a trend reading is stated only for a
    measure whose every point is shown, a theme's test only for a theme whose counts are."""
    from sefton_qa.reports.numbers import gob_key, grade_key

    nums = Numbers.build(f, public=True)
    said = text.trend_sentence(f, nums)
    for name, key_of in (("good", lambda p: gob_key(f, p)),
                         ("inadequate", lambda p: grade_key(p, Grade.INADEQUATE))):
        if not all(nums.share_shown(key_of(t.period), total_key(t.period))
                   for t in f.trend if t.total):
            assert f"the share {name} " not in said, said
    for theme in text.theme_changes(f, nums):
        assert nums.shown(theme_key(theme)) and nums.shown(theme_previous_key(theme))
        assert nums.shown(total_key(f.current.period)) and nums.shown(total_key(f.prior.period))
