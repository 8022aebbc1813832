"""Issue 17, item 7: dates read the same everywhere (the window, the CLI, the packs), because
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
