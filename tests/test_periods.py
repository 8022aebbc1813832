"""Calendar periods (issue 16, item 2): month and quarter presets, the period a period is
compared with (whole calendar months, else equal days), and the trend's periods, which tile
without gaps or overlaps in the same units."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sefton_qa.domain import periods
from sefton_qa.domain.periods import (
    CALENDAR,
    CHOSEN,
    EQUAL_DAYS,
    PeriodError,
    comparison,
    month_names,
    month_period,
    previous_period,
    quarter_of,
    quarter_period,
    rule_words,
    trend_periods,
    whole_months,
)

D = dt.date.fromisoformat
ONE_DAY = dt.timedelta(days=1)


def test_the_issues_example_may_to_july_is_compared_with_february_to_april():
    assert previous_period(D("2024-05-01"), D("2024-07-31")) == (D("2024-02-01"), D("2024-04-30"))
    assert comparison(D("2024-05-01"), D("2024-07-31"), (D("2024-02-01"), D("2024-04-30"))) \
        == CALENDAR
    assert month_names(D("2024-02-01"), D("2024-04-30")) == "Feb–Apr 2024"


@pytest.mark.parametrize("start, end, prev", [
    ("2024-03-01", "2024-03-31", ("2024-02-01", "2024-02-29")),  # a leap February
    ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),
    ("2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31")),  # across a year
    ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),
    ("2024-12-01", "2025-02-28", ("2024-09-01", "2024-11-30")),
    ("2026-10-05", "2026-10-05", ("2026-10-04", "2026-10-04")),  # not whole months: days
    ("2025-03-28", "2025-06-27", ("2024-12-26", "2025-03-27")),
    ("2026-10-01", "2026-11-24", ("2026-08-07", "2026-09-30")),  # a quarter so far
])
def test_previous_period_examples(start, end, prev):
    assert previous_period(D(start), D(end)) == (D(prev[0]), D(prev[1]))


def test_whole_months():
    assert whole_months(D("2024-05-01"), D("2024-07-31")) == 3
    assert whole_months(D("2024-02-01"), D("2024-02-29")) == 1
    assert whole_months(D("2023-11-01"), D("2024-10-31")) == 12
    assert whole_months(D("2024-05-02"), D("2024-07-31")) is None
    assert whole_months(D("2024-05-01"), D("2024-07-30")) is None
    assert whole_months(D("2024-07-31"), D("2024-05-01")) is None


def test_presets():
    assert quarter_period("2024Q2") == (D("2024-04-01"), D("2024-06-30"))
    assert quarter_period("2024-q4") == (D("2024-10-01"), D("2024-12-31"))
    assert month_period("2024-05") == (D("2024-05-01"), D("2024-05-31"))
    assert month_period("2024-2") == (D("2024-02-01"), D("2024-02-29"))
    assert quarter_of(D("2026-11-24")) == (D("2026-10-01"), D("2026-12-31"))
    for bad in ("2024Q5", "2024", "Q2 2024", ""):
        with pytest.raises(PeriodError):
            quarter_period(bad)
    for bad in ("2024-13", "2024-00", "May 2024", "2024-05-01"):
        with pytest.raises(PeriodError):
            month_period(bad)


def test_no_period_before_the_year_one():
    with pytest.raises(PeriodError):
        previous_period(D("0001-01-01"), D("0001-03-31"))
    with pytest.raises(PeriodError):
        previous_period(D("0001-01-01"), D("0001-01-05"))
    assert trend_periods(D("0001-04-01"), D("0001-06-30")) == [
        (D("0001-01-01"), D("0001-03-31")), (D("0001-04-01"), D("0001-06-30"))]


@pytest.mark.parametrize("start, end, label", [
    ("2024-02-01", "2024-04-30", "Feb–Apr 2024"),
    ("2023-11-01", "2024-01-31", "Nov 2023–Jan 2024"),
    ("2024-05-01", "2024-05-31", "May 2024"),
    ("2025-03-28", "2025-06-27", "28 Mar–27 Jun 2025"),
    ("2024-12-28", "2025-01-27", "28 Dec 2024–27 Jan 2025"),
    ("2026-05-04", "2026-05-04", "4 May 2026"),
])
def test_labels(start, end, label):
    assert month_names(D(start), D(end)) == label


def test_the_trend_is_eight_quarters_or_twelve_months():
    quarters = trend_periods(D("2024-05-01"), D("2024-07-31"))
    assert len(quarters) == 8
    assert [month_names(*p) for p in quarters[-3:]] == ["Nov 2023–Jan 2024", "Feb–Apr 2024",
                                                         "May–Jul 2024"]
    assert quarters[0] == (D("2022-08-01"), D("2022-10-31"))
    months = trend_periods(D("2024-05-01"), D("2024-05-31"))
    assert len(months) == 12 and months[0] == (D("2023-06-01"), D("2023-06-30"))
    days = trend_periods(D("2024-05-02"), D("2024-05-31"))
    assert len(days) == 8 and all((e - s).days == 29 for s, e in days)
    # 1-28 March 2023 is not whole months; the 28 days before it happen to be February, but
    # the trend stays in blocks of 28 days.
    feb = trend_periods(D("2023-03-01"), D("2023-03-28"))
    assert feb[-2] == (D("2023-02-01"), D("2023-02-28"))
    assert all((e - s).days == 27 for s, e in feb)


def test_a_chosen_previous_period_moves_the_trend_too():
    chosen = (D("2024-01-01"), D("2024-03-31"))
    got = trend_periods(D("2024-05-01"), D("2024-07-31"), chosen)
    assert got[-1] == (D("2024-05-01"), D("2024-07-31")) and got[-2] == chosen
    assert got[-3] == (D("2023-10-01"), D("2023-12-31"))
    assert len(got) == 8
    assert comparison(D("2024-05-01"), D("2024-07-31"), chosen) == CHOSEN
    assert rule_words(D("2024-05-01"), D("2024-07-31"), chosen) == "chosen for this comparison"


def test_rule_words():
    assert rule_words(D("2024-05-01"), D("2024-07-31"), (D("2024-02-01"), D("2024-04-30"))) \
        == "the 3 whole calendar months just before"
    assert rule_words(D("2024-05-01"), D("2024-05-31"), (D("2024-04-01"), D("2024-04-30"))) \
        == "the month just before"
    said = rule_words(D("2024-05-02"), D("2024-05-31"), previous_period(D("2024-05-02"),
                                                                       D("2024-05-31")))
    assert said.startswith("the 30 days just before") and "not whole calendar months" in said
    assert comparison(D("2024-05-02"), D("2024-05-31"),
                      previous_period(D("2024-05-02"), D("2024-05-31"))) == EQUAL_DAYS


# -- properties ---------------------------------------------------------------------------------
MONTH_STARTS = st.builds(lambda y, m: dt.date(y, m, 1), st.integers(5, 9990), st.integers(1, 12))


@settings(max_examples=200, deadline=None, database=None)
@given(first=MONTH_STARTS, count=st.integers(1, 36))
def test_a_whole_months_periods_previous_is_whole_months_adjacent_and_the_same_count(first,
                                                                                      count):
    start, end = periods.months(first, count)
    assert whole_months(start, end) == count
    prev_start, prev_end = previous_period(start, end)
    assert whole_months(prev_start, prev_end) == count
    assert prev_end + ONE_DAY == start


@settings(max_examples=200, deadline=None, database=None)
@given(start=st.dates(min_value=dt.date(5, 1, 1), max_value=dt.date(9990, 1, 1)),
       days=st.integers(0, 1200))
def test_any_other_periods_previous_is_the_same_number_of_days_just_before(start, days):
    end = start + dt.timedelta(days=days)
    prev_start, prev_end = previous_period(start, end)
    assert prev_end + ONE_DAY == start
    if whole_months(start, end) is None:
        assert prev_end - prev_start == end - start
    else:
        assert whole_months(prev_start, prev_end) == whole_months(start, end)


@settings(max_examples=200, deadline=None, database=None)
@given(start=st.dates(min_value=dt.date(200, 1, 1), max_value=dt.date(9990, 1, 1)),
       days=st.integers(0, 800), whole=st.booleans(), count=st.integers(1, 24))
def test_trend_periods_tile_without_gaps_or_overlaps(start, days, whole, count):
    if whole:
        start, end = periods.months(start, count)
    else:
        end = start + dt.timedelta(days=days)
    trend = trend_periods(start, end)
    assert trend[-1] == (start, end)
    assert len(trend) == (12 if whole_months(start, end) == 1 else 8)
    for (s1, e1), (s2, e2) in zip(trend, trend[1:]):
        assert s1 <= e1 and e1 + ONE_DAY == s2  # adjacent: no gap, no overlap
        if whole_months(start, end) is not None:
            assert whole_months(s1, e1) == whole_months(start, end)
        else:
            assert e1 - s1 == end - start


@settings(max_examples=100, deadline=None, database=None)
@given(first=MONTH_STARTS, count=st.integers(1, 12), gap=st.integers(0, 400),
       length=st.integers(0, 200))
def test_with_a_chosen_previous_the_earlier_periods_tile_back_from_it(first, count, gap, length):
    start, end = periods.months(first, count)
    prev_end = start - dt.timedelta(days=1 + gap)
    chosen = (prev_end - dt.timedelta(days=length), prev_end)
    trend = trend_periods(start, end, chosen)
    assert trend[-2:] == [chosen, (start, end)]
    for (s1, e1), (s2, e2) in zip(trend[:-1], trend[1:-1]):
        assert e1 + ONE_DAY == s2


# -- the summary, the pack and the command line agree --------------------------------------------
def _pages(path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(p.extract_text().split()) for p in PdfReader(str(path)).pages]


def test_quarter_and_month_presets_on_the_command_line(demo_path, tmp_path, capsys, monkeypatch):
    import json

    from sefton_qa import identity
    from sefton_qa.cli import main

    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    db = ["--db", str(demo_path)]
    assert main(db + ["summary", "--quarter", "2026Q3", "--json"]) == 0
    by_quarter = json.loads(capsys.readouterr().out)
    assert by_quarter["period"] == {"from": "2026-07-01", "to": "2026-09-30"}
    assert by_quarter["compared_with"] == {"from": "2026-04-01", "to": "2026-06-30",
                                           "rule": CALENDAR}
    assert main(db + ["summary", "--from", "2026-07-01", "--to", "2026-09-30", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == by_quarter
    assert main(db + ["summary", "--month", "2026-08", "--json"]) == 0
    month = json.loads(capsys.readouterr().out)
    assert month["compared_with"]["from"] == "2026-07-01"
    assert month["previous"]["period"] == {"from": "2026-07-01", "to": "2026-07-31"}
    assert main(db + ["summary", "--quarter", "2026Q3", "--previous-from", "2026-01-01",
                      "--previous-to", "2026-03-31", "--json"]) == 0
    chosen = json.loads(capsys.readouterr().out)
    assert chosen["compared_with"] == {"from": "2026-01-01", "to": "2026-03-31", "rule": CHOSEN}
    assert chosen["previous"]["period"] == {"from": "2026-01-01", "to": "2026-03-31"}
    # The pack for the quarter shows the summary's previous period and its figures.
    pdf = tmp_path / "q.pdf"
    assert main(db + ["report", "--quarter", "2026Q3", "-o", str(pdf)]) == 0
    capsys.readouterr()
    pages = _pages(pdf)
    assert "1 April 2026 to 30 June 2026 (the 3 whole calendar months just before)" in pages[0]
    headline = next(p for p in pages[1:] if "2. Headline figures" in p)
    assert f"All audits {by_quarter['total']:,} 100% {by_quarter['previous']['total']:,} 100%" \
        in headline
    for bad, phrase in ((["--quarter", "2026Q5"], "not a quarter"),
                        (["--month", "2026-13"], "not a month"),
                        (["--quarter", "2026Q3", "--month", "2026-08"], "one of them"),
                        ([], "one of them"), (["--from", "2026-07-01"], "both --from and --to")):
        assert main(db + ["summary", *bad]) == 1
        err = capsys.readouterr().err
        assert phrase in err and "Traceback" not in err, err


def test_help_states_the_rule(capsys):
    from sefton_qa.cli import main

    for command in ("summary", "report"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "compared with the same number of whole months just before it" in out
        assert "same number of days just before" in out and "--quarter" in out


def test_a_chosen_previous_period_moves_the_headline_and_the_trend(demo_admin, demo_store,
                                                                   tmp_path):
    from sefton_qa.reports.figures import Period
    from sefton_qa.services.reports import PackOptions, gather
    from sefton_qa.services.summary import period_summary

    start, end = D("2026-07-01"), D("2026-09-30")
    chosen = Period(D("2026-01-01"), D("2026-03-31"))
    figures = gather(demo_admin, start, end, PackOptions(previous=chosen))
    assert figures.prior.period == chosen == figures.trend[-2].period
    assert figures.trend[-3].period == Period(D("2025-10-01"), D("2025-12-31"))
    summary = period_summary(demo_store, start, end, (chosen.start, chosen.end))
    assert figures.summary == summary and summary["compared_with"]["rule"] == CHOSEN
    assert figures.prior.total == summary["previous"]["total"]
    # By default the trend is the 8 quarters before, as far back as the demo's audits reach.
    default = gather(demo_admin, start, end)
    assert default.prior.period == Period(D("2026-04-01"), D("2026-06-30"))
    assert all(p.period.days > 80 and periods.whole_months(p.period.start, p.period.end) == 3
               for p in default.trend)
    assert default.trend[0].total and len(default.trend) <= 8


def test_a_period_that_is_not_whole_months_is_compared_with_equal_days_and_says_so(
        demo_admin, tmp_path):
    from sefton_qa.services.reports import committee_pack

    path = tmp_path / "days.pdf"
    committee_pack(demo_admin, D("2026-07-02"), D("2026-09-30"), path)
    pages = _pages(path)
    headline = next(p for p in pages[1:] if "2. Headline figures" in p)
    assert "2 April to 1 July 2026 (the 91 days just before: this period is not whole " \
        "calendar months, so it is compared with a period of the same number of days)" \
        in headline
    trend = next(p for p in pages[1:] if "3. Trend" in p)
    assert "periods of 91 days" in trend
