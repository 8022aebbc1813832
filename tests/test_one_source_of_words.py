"""Issue 17, items 2 and 7: dates, kappa words, the overdue rule and problem sentences read the
same everywhere (the window, the CLI, the packs): each is written once. Dates because
the format is written in one place, ``sefton_qa.domain.wording``."""

from __future__ import annotations

from pathlib import Path

import datetime as dt

from sefton_qa.domain.wording import date_text, local_time_text

ROOT = Path(__file__).resolve().parent.parent / "sefton_qa"


def test_the_date_format_is_written_once_in_the_app():
    places = [f"{path.relative_to(ROOT)}:{n}" for path in sorted(ROOT.rglob("*.py"))
              for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if "%d/%m/%Y" in line]
    assert places == ["domain/wording.py:45"] or (
        len(places) == 1 and places[0].startswith("domain/wording.py:")), places


def test_dates_and_trail_times_read_as_people_write_them():
    assert date_text(dt.date(2026, 2, 3)) == "03/02/2026"
    assert date_text(None) == "—" and date_text(None, "no date") == "no date"
    assert local_time_text("2026-12-04T09:05:00.000000Z")[:10] == "04/12/2026"


def test_kappa_words_and_the_overdue_rule_are_said_once_and_agree_everywhere():
    """Issue 17, item 2: the kappa words existed three times and disagreed below zero; the
    overdue rule three times. Each is now one helper that every place uses."""
    from sefton_qa.domain.models import ActionStatus, RemedialAction
    from sefton_qa.domain.stats import kappa_words
    from sefton_qa.domain.working_days import is_overdue
    from sefton_qa.reports.text import kappa_strength

    for kappa in (-0.3, 0.0, 0.1, 0.3, 0.5, 0.7, 0.9):
        assert kappa_strength(kappa) == kappa_words(kappa)
    assert kappa_words(-0.3) == "less than chance" and kappa_words(0.9) == "almost perfect"
    today = dt.date(2026, 11, 24)
    assert not is_overdue(None, today) and not is_overdue(today, today)
    assert is_overdue(today - dt.timedelta(days=1), today)
    action = RemedialAction(1, 1, None, "x", None, today - dt.timedelta(days=1),
                            ActionStatus.OPEN, None, "", None, None, None, 1)
    assert action.overdue(today) and not action.overdue(today - dt.timedelta(days=1))
    sources = "".join(p.read_text(encoding="utf-8") for p in ROOT.rglob("*.py"))
    assert sources.count('"almost perfect" if kappa > 0.8') == 1


def test_problems_read_the_same_wherever_they_are_shown():
    """Issue 17, item 2: "problem → sentence" was written four times; one rule now."""
    from sefton_qa.domain.wording import problem_sentence

    assert problem_sentence("Case reference", "is required") == "Case reference is required"
    assert problem_sentence("Team", "no such team") == "Team: no such team"
    assert problem_sentence("Team", "say who took part", beside=True) == "Say who took part"
    assert problem_sentence(None, "the store is busy") == "The store is busy"
    assert problem_sentence("learning", "is required", full_stop=True) == "Learning is required."
    assert problem_sentence("case reference", "is required", capital=False) == \
        "case reference is required"
    sources = "".join(p.read_text(encoding="utf-8") for p in ROOT.rglob("*.py"))
    assert sources.count('startswith(("is ", "must ", "are "))') == 1


def test_time_left_is_said_roughly_and_only_when_it_means_something():
    from sefton_qa.domain.wording import time_left_text

    assert time_left_text(1.0, 10, 100) is None  # too early to say
    assert time_left_text(5.0, 0, 100) is None
    assert time_left_text(5.0, 100, 100) is None  # finished
    assert time_left_text(4.0, 50, 100) == "a few seconds left"
    assert time_left_text(10.0, 25, 100) == "about 30 seconds left"
    assert time_left_text(60.0, 20, 100) == "about 4 minutes left"
    assert time_left_text(60.0, 50, 100) == "about 1 minute left"
