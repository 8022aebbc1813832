"""The pack's accessibility basics (issue 16, item 6): both PDFs carry title, author, subject,
language and an outline entry for every numbered section; no text is under 9 pt; the charts'
colours stand out from the page and their figures from the colours (WCAG 2.1 contrast)."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from sefton_qa.domain.grades import Grade
from sefton_qa.reports import charts
from sefton_qa.reports import pdf as pack_pdf
from sefton_qa.reports.pdf import COVER_REPORT, SECTIONS, render

sys.path.insert(0, str(Path(__file__).parent))
import seed_story  # noqa: E402


@pytest.fixture(scope="module", params=[False, True], ids=["internal", "public"])
def seed_pack(request, tmp_path_factory) -> tuple[Path, bool]:
    path = tmp_path_factory.mktemp("pack") / "pack.pdf"
    render(seed_story.figures("2024-05"), path, public=request.param)
    return path, request.param


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(level, title, page number from 1) of every bookmark, in order."""
    out = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                out.append((level, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return out


def test_metadata_and_language(seed_pack):
    path, _public = seed_pack
    reader = PdfReader(str(path))
    meta = reader.metadata
    assert meta.title == "Case-file audit committee pack, 1 May to 31 July 2024"
    assert meta.author == "Seaside Borough Council (synthetic)"
    assert meta.subject == "Quality assurance of children's social care"
    assert reader.root_object["/Lang"] == "en-GB"
    assert reader.root_object["/PageMode"] == "/UseOutlines"
    assert reader.root_object["/ViewerPreferences"]["/DisplayDocTitle"]


def test_every_numbered_section_has_a_bookmark_on_its_page(seed_pack):
    path, _public = seed_pack
    reader = PdfReader(str(path))
    marks = outline(reader)
    top = [(title, page) for level, title, page in marks if level == 0]
    titles = [t for t, _ in top]
    assert titles == (["Cover and contents", COVER_REPORT]
                      + [f"{i}. {s}" for i, s in enumerate(SECTIONS, start=1)]
                      + ["Where these figures come from"])
    assert top[0][1] == 1
    pages = [page.extract_text() for page in reader.pages]
    for title, page in top[1:]:
        assert title in " ".join(pages[page - 1].split()), (title, page)
    pages_in_order = [page for _, _, page in marks]
    assert pages_in_order == sorted(pages_in_order)
    # Each opens at its heading: down the page in order, within it.
    places = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                places.append((reader.get_destination_page_number(item), item.get("/Top")))

    walk(reader.outline)
    height = float(reader.pages[0].mediabox.height)
    for (page, top), (next_page, next_top) in zip(places[1:], places[2:]):
        assert 0 < top <= height and 0 < next_top <= height
        if page == next_page:
            assert next_top < top
    # Subheadings sit under their section.
    assert (1, "By service area") in [(lv, t) for lv, t, _ in marks]


def _font_sizes(reader: PdfReader) -> dict[float, set[str]]:
    """Every size text is shown at (points, the font size scaled by the text and current
    transformation matrices), with a sample of the text shown at it."""
    sizes: dict[float, set[str]] = {}
    for page in reader.pages:
        def visit(text, cm, tm, font_dict, font_size):
            if not text.strip():
                return
            # The vertical scale of tm × cm: the height a glyph of font_size is drawn at.
            c, d = tm[2], tm[3]
            ca, cb, cc, cd = cm[0], cm[1], cm[2], cm[3]
            m21, m22 = c * ca + d * cc, c * cb + d * cd
            size = round(font_size * math.hypot(m21, m22), 2)
            sizes.setdefault(size, set()).add(text.strip()[:30])

        page.extract_text(visitor_text=visit)
    return sizes


def test_no_text_under_9_points(seed_pack):
    path, _public = seed_pack
    sizes = _font_sizes(PdfReader(str(path)))
    assert sizes, "no text found"
    small = {size: sorted(texts)[:5] for size, texts in sizes.items() if size < 9}
    assert not small, small
    # The reading of sizes is sound: the body text is 10 pt and the title 26 pt.
    assert 10 in sizes and 26 in sizes


def test_no_font_size_under_9_in_the_content_streams(seed_pack):
    """The Tf operators themselves: a second reading that does not rely on text
    extraction."""
    path, _public = seed_pack
    reader = PdfReader(str(path))
    seen = set()
    for page in reader.pages:
        data = page.get_contents().get_data().decode("latin-1")
        for size in re.findall(r"/[\w+.-]+\s+([\d.]+)\s+Tf\b", data):
            seen.add(float(size))
    assert seen and min(seen) >= 9, sorted(seen)


def test_pack_sources_name_no_size_under_9():
    """The styles and charts themselves: a smaller size cannot creep back in unseen."""
    for module in (pack_pdf, charts):
        source = Path(module.__file__).read_text()
        pattern = r"(?:fontSize|font_size|font size)\s*[=:]?\s*['\"]?(\d+(?:\.\d+)?)"
        for match in re.finditer(pattern, source):
            assert float(match.group(1)) >= 9, (module.__name__, match.group(0))
        for match in re.finditer(r"\b(?:SANS|SANS_BOLD|MONO),\s*(\d+(?:\.\d+)?)\b", source):
            assert float(match.group(1)) >= 9, (module.__name__, match.group(0))


# -- contrast (WCAG 2.1) -------------------------------------------------------------------------
def luminance(colour) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in (colour.red, colour.green, colour.blue))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one, other) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_helper_matches_wcag_examples():
    from reportlab.lib import colors

    assert contrast(colors.black, colors.white) == pytest.approx(21)
    assert contrast(colors.HexColor("#767676"), colors.white) == pytest.approx(4.54, abs=0.01)


def test_chart_colours_stand_out_from_the_page():
    from reportlab.lib import colors

    for colour in charts.GRAPHIC_COLOURS:
        assert contrast(colour, colors.white) >= 3, colour.hexval()
    for grade in Grade:
        assert contrast(charts.GRADE_COLOURS[grade], colors.white) >= 3, grade


def test_text_contrast_at_least_4_5():
    from reportlab.lib import colors

    for colour in charts.TEXT_COLOURS:  # the charts sit on the white page
        assert contrast(colour, colors.white) >= 4.5, colour.hexval()
    for colour in (pack_pdf.INK, pack_pdf.GREY, pack_pdf.NAVY):  # text, and table cells
        for background in (colors.white, pack_pdf.HEAD_BG, pack_pdf.ZEBRA):
            assert contrast(colour, background) >= 4.5, (colour.hexval(), background.hexval())
    for grade in Grade:  # the counts written on the bars
        assert contrast(charts.ON_COLOUR[grade], charts.GRADE_COLOURS[grade]) >= 4.5, grade
    # The notes under changes, written in hex in Paragraph markup.
    for hexval in set(re.findall(r"color='(#[0-9A-Fa-f]{6})'",
                                 Path(pack_pdf.__file__).read_text())):
        assert contrast(colors.HexColor(hexval), colors.white) >= 4.5, hexval


def test_grade_colours_are_told_apart():
    """Each grade its own colour; inadequate hatched too, for grey print."""
    assert len({c.hexval() for c in charts.GRADE_COLOURS.values()}) == len(Grade)
    assert Grade.INADEQUATE in charts.HATCHED
