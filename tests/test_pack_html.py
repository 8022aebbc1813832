"""The committee pack's accessible version, one self-contained HTML page (issue 16, item 6):
its language, headings, tables and charts read back with the standard library's HTML parser;
it loads nothing and runs nothing; its figures are the PDF's, "c" wherever the PDF has it;
hostile names print as text; it is written and recorded like the PDF, from the service, the
command line and the PDF's cover points to it."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from sefton_qa import identity
from sefton_qa.cli import main
from sefton_qa.reports import html as pack_html
from sefton_qa.reports import pdf as pack_pdf
from sefton_qa.reports.numbers import Numbers
from sefton_qa.services.reports import PackOptions, committee_pack
from sefton_qa.services.verify import verify_store
from sefton_qa.store import file_transfers, trail

sys.path.insert(0, str(Path(__file__).parent))
import seed_story  # noqa: E402

Q3 = ("2026-07-01", "2026-09-30")
HOSTILE_TEAM = "<script>alert(1)</script>"
HOSTILE_AREA = 'Area & <b>"x"</b> <img src=http://evil.example/x.png>'


class Page(HTMLParser):
    """What the tests look at: every element with its attributes and its parents, the
    headings, the tables, and the text (with the text inside <svg> and <table> apart)."""

    VOID = {"meta", "br", "img", "link", "input", "hr", "col", "area", "base", "source",
            "path", "rect", "line", "circle", "ellipse", "polyline", "polygon"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, tuple[str, ...]]] = []
        self.stack: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self.text: list[str] = []
        self.tables: list[dict] = []
        self.svgs: list[dict] = []
        self._heading: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs, tuple(self.stack)))
        if tag == "table":
            self.tables.append({"caption": "", "th": [], "td": 0})
        elif tag == "th":
            self.tables[-1]["th"].append(attrs.get("scope"))
        elif tag == "td":
            self.tables[-1]["td"] += 1
        elif tag == "svg":
            self.svgs.append({"attrs": attrs, "title": None})
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), tuple(self.stack)))

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((int(tag[1]), " ".join("".join(self._heading).split())))
            self._heading = None
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not {"head", "style"} & set(self.stack) and not (
                "svg" in self.stack and self.stack[-1] == "title"):
            self.text.append(data)  # what the page shows (a chart's title is its label)
        if self._heading is not None:
            self._heading.append(data)
        if self.stack and self.stack[-1] == "caption":
            self.tables[-1]["caption"] += data
        if self.stack and self.stack[-1] == "title" and "svg" in self.stack:
            self.svgs[-1]["title"] = (self.svgs[-1]["title"] or "") + data

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def seed_pages(tmp_path_factory):
    """The seed quarter's public and internal packs, each as HTML and as PDF text."""
    out = {}
    folder = tmp_path_factory.mktemp("packs")
    for public in (True, False):
        figures = seed_story.figures("2024-05")
        html_path, pdf_path = folder / f"{public}.html", folder / f"{public}.pdf"
        pack_html.render(figures, html_path, public=public)
        pack_pdf.render(figures, pdf_path, public=public)
        pdf_text = [p.extract_text() for p in PdfReader(str(pdf_path)).pages]
        out[public] = (html_path.read_text(encoding="utf-8"), pdf_text)
    return out


@pytest.fixture(params=[True, False], ids=["public", "internal"])
def seed(request, seed_pages):
    return seed_pages[request.param]


def test_language_title_and_no_script(seed):
    text, _ = seed
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    (html_tag,) = [a for t, a, _ in page.elements if t == "html"]
    assert html_tag["lang"] == "en-GB"
    titles = [a for t, a, parents in page.elements if t == "title" and "svg" not in parents]
    assert len(titles) == 1
    assert "<title>Case-file audit committee pack, 1 May to 31 July 2024</title>" in text
    assert not [t for t, _, _ in page.elements if t in ("script", "iframe", "object",
                                                          "embed", "link", "base")]
    for tag, attrs, _ in page.elements:
        assert not any(name.lower().startswith("on") for name in attrs), (tag, attrs)


def test_loads_nothing_from_outside(seed):
    text, _ = seed
    page = Page(text)
    for tag, attrs, _ in page.elements:
        for name in ("src", "href", "xlink:href", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not re.match(r"(https?:)?//", value), (tag, name, value)
            assert not value or value.startswith(("#", "data:")), (tag, name, value)
    style = re.search(r"<style>(.*?)</style>", text, re.S).group(1)
    assert "url(" not in style and "@import" not in style


def test_headings_in_order_with_the_pdfs_numbering(seed):
    text, _ = seed
    page = Page(text)
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, page.headings  # no level skipped
    sections = [words for level, words in page.headings if level == 2]
    numbered = [f"{i}. {title}" for i, title in enumerate(pack_pdf.SECTIONS, start=1)]
    assert sections == ["Contents", pack_pdf.COVER_REPORT, *numbered,
                        "Where these figures come from"]
    assert (3, "By service area") in page.headings
    # The contents list links to each section.
    links = [a["href"] for t, a, parents in page.elements if t == "a" and "nav" in parents]
    ids = {a.get("id") for _, a, _ in page.elements}
    assert len(links) == len(numbered) + 2 and all(h[1:] in ids for h in links)


def test_every_table_has_a_caption_and_header_cells(seed):
    text, _ = seed
    page = Page(text)
    assert len(page.tables) >= 12
    for table in page.tables:
        assert table["caption"].strip(), table
        assert table["th"], table
        assert all(scope in ("col", "row", "colgroup") for scope in table["th"]), table
    captions = [t["caption"] for t in page.tables]
    assert "Audits by grade, this period and the previous period" in captions
    assert "The trend: audits graded good and inadequate, by period" in captions


def test_every_chart_is_an_image_with_a_text_alternative(seed):
    text, _ = seed
    page = Page(text)
    assert page.svgs
    for svg in page.svgs:
        assert svg["attrs"].get("role") == "img"
        label = svg["attrs"].get("aria-label", "")
        assert len(label) > 20 and svg["title"] == label
    labels = [s["attrs"]["aria-label"] for s in page.svgs]
    assert any(label.startswith("Line chart: the share of audits graded good") and
               "“The trend: audits graded good and inadequate, by period”" in label
               for label in labels)
    # Ids are unique, so nothing on the page points at the wrong chart.
    ids = [a["id"] for _, a, _ in page.elements if "id" in a]
    assert len(ids) == len(set(ids))


def test_the_chain_head_is_printed(seed):
    text, _ = seed
    words = Page(text).all_text
    assert "1234:" + "ab" * 32 in words
    assert "Trail entry (sequence number): 1234" in words


NUMBER = re.compile(r"(?<![\w.])[−+-]?\d[\d,]*(?:\.\d+)?%?")
SUPPRESSED = re.compile(r"(?<![\w“])c(?![\w”])")


def _numbers(text: str) -> Counter:
    return Counter(NUMBER.findall(text))


def assert_same_figures(html: str, pdf_pages: list[str], period) -> None:
    """The same numbers, as many times each, in the HTML as in the PDF (the PDF's page
    numbers and running header aside), and "c" as often."""
    html_text = Page(html).all_text
    pdf_text = " ".join(" ".join(p.split()) for p in pdf_pages)
    pdf_text = re.sub(r"Page \d+ of \d+", " ", pdf_text)
    # Paper only: the running header on every page and the PDF's cover note.
    pdf_text = pdf_text.replace(pack_pdf.ACCESSIBLE_NOTE["pdf"], " ")
    html_text = html_text.replace(pack_pdf.ACCESSIBLE_NOTE["html"], " ")
    header = f"Committee pack: {period.short_label().replace('–', ' – ')}"
    pdf_text = pdf_text.replace(header, " ")
    html_numbers, pdf_numbers = _numbers(html_text), _numbers(pdf_text)
    # An ordered list's numbers are the browser's, not text: the PDF prints them.
    for items in re.findall(r"<ol>(.*?)</ol>", html, re.S):
        html_numbers.update(f"{n}" for n in range(1, items.count("<li>") + 1))
    assert html_numbers == pdf_numbers, (html_numbers - pdf_numbers, pdf_numbers - html_numbers)
    assert len(SUPPRESSED.findall(html_text)) == len(SUPPRESSED.findall(pdf_text))


def test_every_figure_is_the_pdfs(seed):
    text, pdf_pages = seed
    assert_same_figures(text, pdf_pages, seed_story.MAY_JUL)


@pytest.mark.parametrize("public", [True, False], ids=["public", "internal"])
def test_every_figure_is_the_pdfs_for_the_demo_quarter(demo_admin, tmp_path, public):
    """A fuller pack: six periods of trend with control limits, many teams and themes."""
    import datetime as dt

    from sefton_qa.reports.figures import Period

    from sefton_qa.services.reports import gather

    period = Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    figures = gather(demo_admin, period.start, period.end, PackOptions(public=public))
    pack_html.render(figures, tmp_path / "p.html", public=public)
    pack_pdf.render(figures, tmp_path / "p.pdf", public=public)
    pages = [p.extract_text() for p in PdfReader(str(tmp_path / "p.pdf")).pages]
    assert_same_figures((tmp_path / "p.html").read_text(encoding="utf-8"), pages, period)


def test_public_html_shows_c_exactly_where_numbers_says(seed_pages):
    """Cell by cell: the area and team tables print Numbers.fmt, "c" included."""
    text, _ = seed_pages[True]
    figures = seed_story.figures("2024-05")
    nums = Numbers.build(figures, public=True)
    from sefton_qa.reports.numbers import team_key

    rows = re.findall(r"<tr><th scope=\"row\">([^<]*)</th>((?:<td[^>]*>[^<]*</td>)+)</tr>",
                      text)
    by_name = {name: re.findall(r"<td[^>]*>([^<]*)</td>", cells) for name, cells in rows}
    from sefton_qa.reports.numbers import area_key

    # The seed's seven small teams: the public pack publishes the service areas only.
    assert nums.teams_withheld
    assert not (set(figures.by_team) - set(figures.by_area)) & set(by_name)
    assert pack_pdf.TEAMS_WITHHELD in Page(text).all_text
    hidden = 0
    for area in figures.by_area:
        expected = [nums.fmt(area_key(area, g)) for g in figures.grades]
        expected.append(nums.fmt(area_key(area)))
        assert by_name[area][:4] == expected, area
        hidden += expected.count("c")
    assert hidden  # the seed quarter hides small area counts


def test_hostile_names_print_as_text(tmp_path):
    figures = seed_story.figures("2024-05")
    by_team = dict(figures.by_team)
    by_team[HOSTILE_TEAM] = by_team.pop("Permanence")
    team_areas = dict(figures.team_areas)
    team_areas[HOSTILE_TEAM] = team_areas.pop("Permanence")
    by_area = dict(figures.by_area)
    by_area[HOSTILE_AREA] = by_area.pop("Care Leavers")
    figures = dataclasses.replace(figures, by_team=by_team, team_areas=team_areas,
                                  by_area=by_area, authority="Borough & <i>Council</i>")
    for public in (False, True):
        path = tmp_path / f"{public}.html"
        pack_html.render(figures, path, public=public)
        text = path.read_text(encoding="utf-8")
        page = Page(text)
        assert not [t for t, _, _ in page.elements if t in ("script", "b", "i")]
        assert [t for t, _, _ in page.elements if t == "img"] == []
        words = page.all_text
        # the seed's small teams: a public page publishes the service areas only
        assert HOSTILE_TEAM in words or (public and pack_pdf.TEAMS_WITHHELD in words)
        assert HOSTILE_AREA in words
        assert "Borough & <i>Council</i>" in words
        if HOSTILE_TEAM in words:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_pdf_cover_points_to_the_html(seed):
    _, pdf_pages = seed
    cover = " ".join(pdf_pages[0].split())
    assert "also available as a single web page (HTML file): that is its accessible " \
        "version" in cover


# -- written and recorded like the PDF -------------------------------------------------------
def test_committee_pack_writes_html_through_the_trail(demo_store, demo_admin, tmp_path):
    import datetime as dt

    conn = demo_store.conn
    seq, head = trail.head(conn)
    path = tmp_path / "pack.html"
    result = committee_pack(demo_admin, dt.date(2026, 7, 1), dt.date(2026, 9, 30), path,
                            options=PackOptions(public=True))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and f"{seq}:{head}" in Page(text).all_text
    row = file_transfers.list_recent(conn, 1)[0]
    assert row["id"] == result.transfer_id and row["file_name"] == "pack.html"
    assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    (entry,) = trail.entries_for(conn, "file_transfers", result.transfer_id)
    assert entry.reason.startswith("Committee pack (public) as HTML;")
    assert [p.name for p in tmp_path.iterdir() if "pack" in p.name] == ["pack.html"]
    assert verify_store(demo_store).ok
    with pytest.raises(Exception) as info:  # an existing file is kept unless --overwrite
        committee_pack(demo_admin, dt.date(2026, 7, 1), dt.date(2026, 9, 30), path,
                       options=PackOptions(public=True))
    assert "pack.html" in str(info.value)


def test_cli_writes_the_public_html(demo_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    out = tmp_path / "pack.html"
    assert main(["--db", str(demo_path), "report", "--from", Q3[0], "--to", Q3[1],
                 "--public", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "public pack, one web page" in said and "recorded in the trail" in said
    page = Page(out.read_text(encoding="utf-8"))
    assert "Public version" in page.all_text
    # The suffix chooses the format; anything else is refused plainly.
    assert main(["--db", str(demo_path), "report", "--from", Q3[0], "--to", Q3[1],
                 "--public", "-o", str(tmp_path / "pack.txt")]) != 0
    assert ".html" in capsys.readouterr().err


def test_hostile_store_text_in_the_internal_page_with_its_appendix(admin, org, make_input,
                                                                    tmp_path, today):
    """Names, themes and findings from the store, through the service, print as text."""
    import datetime as dt

    from sefton_qa.domain.grades import Grade
    from sefton_qa.services import audits as audit_service
    from sefton_qa.services import organisation as org_service

    org_service.set_authority_name(admin, "Borough & <b>Council</b>")
    team = org_service.add_team(admin, HOSTILE_TEAM, org.area1).record_id
    theme = org_service.add_theme(admin, 'Drift <br/> & "delay" <font size=40>').record_id
    findings = "Mum said <b>no</b> & left; <img src=x onerror=alert(1)> </p><script>x</script>"
    start = today - dt.timedelta(days=40)
    for i in range(7):
        audit_service.create_audit(admin, make_input(
            case_reference=f"LCS-20000{i}", audit_date=start + dt.timedelta(days=i),
            findings=findings, theme_ids=[theme], team_id=team if i % 2 else org.team_a1,
            overall_grade=[Grade.GOOD, Grade.INADEQUATE, Grade.REQUIRES_IMPROVEMENT][i % 3]),
            submit=True)
    for public in (False, True):
        path = tmp_path / f"{public}.html"
        committee_pack(admin, start, today, path,
                       options=PackOptions(public=public, appendix=not public))
        page = Page(path.read_text(encoding="utf-8"))
        assert not [t for t, _, _ in page.elements if t in ("script", "b", "img", "font")]
        for _, attrs, _ in page.elements:
            assert not any(name.startswith("on") for name in attrs)
        words = page.all_text
        assert "Borough & <b>Council</b>" in words
        assert HOSTILE_TEAM in words or (public and pack_pdf.TEAMS_WITHHELD in words)
        assert 'Drift <br/> & "delay" <font size=40>' in words
        assert findings not in words  # no free text about a child in either version
        if not public:
            assert "LCS-200003" in words
        else:
            assert "LCS-2000" not in words


def test_the_recommendations_are_an_ordered_list(seed):
    """Numbered items are the list's own numbers (a screen reader says "list, 2 items"), not
    a bullet followed by typed numbers."""
    import re

    text, _ = seed
    found = re.search(r"Recommendations</h[23]>\s*<ol>(.*?)</ol>", text, re.S)
    assert found, "the recommendations follow their heading as an <ol>"
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    assert items and not any(re.match(r"\s*\d+\.", item) for item in items)
