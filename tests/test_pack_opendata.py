"""The public pack's tables as CSV for open data (issue 16, item 6): each table cell for cell
as the public pack prints it ("c" included), a file saying what they are, written and
recorded from the service and the command line, refused for the internal pack."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sefton_qa import identity
from sefton_qa.cli import main
from sefton_qa.domain.errors import ValidationError
from sefton_qa.reports import html as pack_html
from sefton_qa.reports.numbers import Numbers, area_key, grade_key, total_key
from sefton_qa.reports.opendata import ABOUT, tables
from sefton_qa.services.reports import PackOptions, committee_pack
from sefton_qa.store import file_transfers

sys.path.insert(0, str(Path(__file__).parent))
import seed_story  # noqa: E402

Q3 = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))


class Tables(HTMLParser):
    """caption → rows of cell text, from the HTML page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_caption = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th"):
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self.tables[self._caption] = self._rows

    def handle_data(self, data):
        if self._in_caption:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def seed_files():
    figures = seed_story.figures("2024-05")
    return figures, tables(figures)


def test_each_table_is_the_public_pages_cell_for_cell(seed_files, tmp_path):
    figures, files = seed_files
    page = tmp_path / "pack.html"
    pack_html.render(figures, page, public=True)
    shown = Tables(page.read_text(encoding="utf-8")).tables
    about = dict((row[0], row[1]) for row in read(files[0][1])[1:] if row[0] != "Table")
    captions = [row[1].split(": ", 1)[1] for row in read(files[0][1]) if row[0] == "Table"]
    assert len(captions) == len(files) - 1 >= 10
    for (name, text, rows), caption in zip(files[1:], captions):
        data = read(text)
        assert len(data) == rows + 1 and all(len(r) == len(data[0]) for r in data), name
        body = [r for r in shown[caption] if r and len(r) == len(data[0])]
        assert data[1:] == body[-rows:], (name, caption)
    assert "Terms used in this pack" not in captions and "About this pack" not in captions
    assert about["Trail anchor (sefton-qa verify --anchor)"] == "1234:" + "ab" * 32
    assert about["Period"] == "2024-05-01 to 2024-07-31"
    assert about["c"].startswith("Not published: a count from 1 to 4")


def test_c_exactly_where_the_public_pack_hides_a_figure(seed_files):
    figures, files = seed_files
    nums = Numbers.build(figures, public=True)
    by_name = {name: read(text) for name, text, _ in files}
    # The seed's seven small teams: the public pack publishes the service areas only.
    assert nums.teams_withheld and "04-audits-by-grade-in-each-team.csv" not in by_name
    team = by_name["03-audits-by-grade-in-each-service-area.csv"]
    assert team[0] == ["Service area", "Good", "Requires improvement", "Inadequate", "Audits",
                       "Share inadequate (95% interval)"]
    for row in team[1:-1]:
        expected = [nums.fmt(area_key(row[0], g)) for g in figures.grades]
        assert row[1:5] == expected + [nums.fmt(area_key(row[0]))], row
    headline = by_name["01-audits-by-grade-this-period-and-the-previous-period.csv"]
    assert headline[0][:3] == ["Grade", "This period Audits", "This period Share"]
    for row, grade in zip(headline[1:], figures.grades):
        assert row[1] == nums.fmt(grade_key(figures.period, grade))
    assert headline[-1][:2] == ["All audits", nums.fmt(total_key(figures.period))]
    assert sum(row.count("c") for row in team) > 0
    # Nothing smaller than 5 stands as a count where the public pack hides it.
    assert all(cell == "c" or not cell.isdigit() or int(cell) == 0 or int(cell) >= 5
               for row in team[1:] for cell in row[1:5])


def test_committee_pack_writes_and_records_the_tables(demo_store, demo_admin, tmp_path):
    conn = demo_store.conn
    before = len(file_transfers.list_recent(conn, 1000))
    folder = tmp_path / "pack-tables"
    result = committee_pack(demo_admin, *Q3, tmp_path / "pack.html",
                            options=PackOptions(public=True), csv_dir=folder)
    assert result.tables and result.tables[0].name == ABOUT
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in result.tables)
    rows = file_transfers.list_recent(conn, 1000)
    assert len(rows) == before + 1 + len(result.tables)
    recorded = {r["file_name"]: r["sha256"] for r in rows[:len(result.tables)]}
    for path in result.tables:
        assert recorded[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()
        read(path.read_text(encoding="utf-8"))
    # Again into the same folder: refused before anything is built, unless replacing.
    with pytest.raises(ValidationError):
        committee_pack(demo_admin, *Q3, tmp_path / "again.pdf",
                       options=PackOptions(public=True), csv_dir=folder)
    assert not (tmp_path / "again.pdf").exists()
    again = committee_pack(demo_admin, *Q3, tmp_path / "again.pdf",
                           options=PackOptions(public=True), csv_dir=folder, overwrite=True)
    assert len(again.tables) == len(result.tables)


def test_internal_tables_are_not_open_data(demo_admin, tmp_path):
    with pytest.raises(ValidationError) as info:
        committee_pack(demo_admin, *Q3, tmp_path / "pack.pdf", csv_dir=tmp_path / "t")
    assert info.value.for_field("csv")
    assert not (tmp_path / "pack.pdf").exists() and not (tmp_path / "t").exists()


def test_cli_csv_dir(demo_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    folder = tmp_path / "tables"
    assert main(["--db", str(demo_path), "report", "--from", Q3[0].isoformat(), "--to",
                 Q3[1].isoformat(), "--public", "-o", str(tmp_path / "pack.html"),
                 "--csv-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"tables as CSV into {folder}" in out
    assert (folder / ABOUT).is_file() and len(list(folder.glob("*.csv"))) >= 10
