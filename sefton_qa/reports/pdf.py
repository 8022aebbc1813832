"""The committee pack as a PDF: a BaseDocTemplate with a cover and body page templates (the
protective marking top and bottom of every page), "Page x of y" from a numbered canvas,
tables that split across pages with their headers repeated, charts from reportlab.graphics,
and embedded TrueType fonts.

Every string from the store (names, case references, findings) goes through :func:`esc`
before it reaches Paragraph markup, which would otherwise act on ``<b>``, ``<img>``, ``&``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.stats import percent, wilson_interval
from sefton_qa.reports import charts, fonts, text
from sefton_qa.reports.cover import FOR_PUBLICATION
from sefton_qa.reports.figures import (
    KAPPA_MIN_MODERATED,
    ROLES,
    GradeCounts,
    PackFigures,
)
from sefton_qa.reports.fonts import MONO, SANS, SANS_BOLD
from sefton_qa.domain.wording import date_text
from sefton_qa.reports.numbers import (
    CENTRE_GOB,
    CENTRE_INADEQUATE,
    CENTRE_TOTAL,
    NO_AREA,
    SUPPRESSED,
    Numbers,
    area_key,
    gob_key,
    grade_key,
    has_control_limits,
    sorted_themes,
    team_key,
    theme_areas,
    theme_key,
    theme_previous_key,
    total_key,
    whole_percent,
)

Progress = Callable[[int, int, str], None]

PAGE_W, PAGE_H = A4
MARGIN_X = 18 * mm
TOP = 24 * mm
BOTTOM = 22 * mm
WIDTH = PAGE_W - 2 * MARGIN_X

INK = colors.HexColor("#1A1A1A")
NAVY = colors.HexColor("#1B365D")
GREY = colors.HexColor("#5E5E5E")
RULE = colors.HexColor("#BDBDBD")
HEAD_BG = colors.HexColor("#E6E9EE")
ZEBRA = colors.HexColor("#F6F7F9")

FINDINGS_SHOWN = 300  # characters of findings the appendix prints
AREA_COLUMNS_PER_TABLE = 6
TEAMS_CHARTED = 25
#: The smallest text anywhere in the pack, points (issue 16: nothing under 9 pt).
MIN_PT = 9
#: The document language (the PDF catalogue's /Lang, the HTML's lang).
LANG = "en-GB"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


# -- text ---------------------------------------------------------------------------------------
#: The cover report's heading (before the numbered sections, and in the contents).
COVER_REPORT = "Report to committee"

#: Said where a public pack leaves out the table by team (Numbers.build says when).
TEAMS_WITHHELD = ("The table by team is not published in this version: the teams are small "
                  "enough that, published, it would let small numbers be worked out or would "
                  "hide the period's headline figures. The figures by service area are above.")


def clean(value) -> str:
    """Text without control characters (reportlab and PDF viewers choke on them)."""
    return _CONTROL.sub("", str(value)).replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")


def esc(value) -> str:
    """A user string made safe for Paragraph markup; line breaks kept."""
    return escape(clean(value)).replace("\n", "<br/>")


def shorten(value: str, limit: int = FINDINGS_SHOWN) -> str:
    flat = " ".join(clean(value).split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def _fit(value: str, font: str, size: float, width: float) -> str:
    """``value`` shortened with an ellipsis to fit ``width`` points."""
    if stringWidth(value, font, size) <= width:
        return value
    while value and stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


def _date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def clock_text(at: dt.datetime) -> str:
    """"09:05 BST": the time with its zone, so a pack read elsewhere or later is not misread."""
    zone = at.strftime("%Z") if at.tzinfo is not None else ""
    return f"{at:%H:%M} {zone}".strip()


# -- styles -------------------------------------------------------------------------------------
class Styles:
    def __init__(self):
        base = dict(fontName=SANS, textColor=INK, bulletFontName=SANS)
        self.body = ParagraphStyle("body", fontSize=10, leading=14, spaceAfter=6, **base)
        self.lead = ParagraphStyle("lead", parent=self.body, fontSize=11, leading=16,
                                   spaceAfter=8)
        self.bullet = ParagraphStyle("bullet", parent=self.lead, leftIndent=14, bulletIndent=2,
                                     spaceAfter=7)
        self.small = ParagraphStyle("small", fontSize=MIN_PT, leading=12, spaceAfter=4,
                                    fontName=SANS, textColor=GREY)
        self.note = ParagraphStyle("note", parent=self.small, spaceBefore=3)
        self.h1 = ParagraphStyle("h1", fontName=SANS_BOLD, fontSize=16, leading=20,
                                 textColor=NAVY, spaceBefore=16, spaceAfter=8, keepWithNext=1)
        self.h2 = ParagraphStyle("h2", fontName=SANS_BOLD, fontSize=11.5, leading=15,
                                 textColor=NAVY, spaceBefore=12, spaceAfter=5, keepWithNext=1)
        self.cell = ParagraphStyle("cell", fontName=SANS, fontSize=MIN_PT, leading=11,
                                   textColor=INK)
        self.cell_bold = ParagraphStyle("cell_bold", parent=self.cell, fontName=SANS_BOLD)
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.cell_small = ParagraphStyle("cell_small", parent=self.cell, textColor=GREY,
                                         alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", parent=self.cell, fontName=SANS_BOLD)
        self.head_right = ParagraphStyle("head_right", parent=self.head, alignment=TA_RIGHT)
        self.head_centre = ParagraphStyle("head_centre", parent=self.head, alignment=TA_CENTER)
        self.tiny = ParagraphStyle("tiny", parent=self.cell, fontSize=MIN_PT, leading=10.5)
        self.tiny_nowrap = ParagraphStyle("tiny_nowrap", parent=self.tiny)
        self.tiny_bold = ParagraphStyle("tiny_bold", parent=self.tiny, fontName=SANS_BOLD)
        self.mono = ParagraphStyle("mono", fontName=MONO, fontSize=MIN_PT, leading=12,
                                   textColor=INK, spaceAfter=6)
        self.cover_authority = ParagraphStyle("cover_authority", fontName=SANS_BOLD,
                                              fontSize=15, leading=19, textColor=NAVY)
        self.cover_title = ParagraphStyle("cover_title", fontName=SANS_BOLD, fontSize=26,
                                          leading=31, textColor=INK, spaceBefore=30,
                                          spaceAfter=10)
        self.cover_sub = ParagraphStyle("cover_sub", fontName=SANS, fontSize=13, leading=18,
                                        textColor=INK, spaceAfter=4)
        self.cover_meta = ParagraphStyle("cover_meta", fontName=SANS, fontSize=10.5,
                                         leading=15, textColor=INK)
        self.contents = ParagraphStyle("contents", fontName=SANS, fontSize=10, leading=15,
                                       textColor=INK, leftIndent=10)


def _table(rows: list[list], widths: Sequence[float], *, header_rows: int = 1,
           numbers_from: int = 1, total_row: bool = False, zebra: bool = True,
           extra: Iterable[tuple] = (), caption: str = "") -> Table:
    """A table in the pack's style: header rows repeated on every page it runs over.
    ``caption`` names it in the HTML version (the PDF shows its heading instead)."""
    t = _captioned(Table(rows, colWidths=list(widths), repeatRows=header_rows, hAlign="LEFT"),
                   caption)
    style = [
        ("FONT", (0, 0), (-1, -1), SANS, MIN_PT),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (numbers_from, header_rows), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, NAVY),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, RULE),
    ]
    if zebra:
        for r in range(header_rows + 1, len(rows) - (1 if total_row else 0), 2):
            style.append(("BACKGROUND", (0, r), (-1, r), ZEBRA))
    if total_row:
        style += [("FONT", (0, -1), (-1, -1), SANS_BOLD, MIN_PT),
                  ("LINEABOVE", (0, -1), (-1, -1), 0.8, NAVY)]
    style += list(extra)
    t.setStyle(TableStyle(style))
    return t


def _alt(drawing: Flowable, words: str) -> Flowable:
    """A chart with its text alternative (the HTML version's aria-label)."""
    drawing.__dict__["alt"] = words  # past reportlab's attribute check: ours, not its
    return drawing


def _captioned(table: Table, caption: str) -> Table:
    table.caption = caption
    return table


# -- the document -------------------------------------------------------------------------------
class _PackCanvas(Canvas):
    """Holds every page until the end, then stamps "Page x of y" on each."""

    footer_y = 11 * mm

    def __init__(self, *args, **kwargs):
        kwargs["initialFontName"] = SANS  # so no page even names Helvetica
        kwargs["initialFontSize"] = 10
        kwargs["initialLeading"] = 12
        super().__init__(*args, **kwargs)
        self._held: list[dict] = []
        #: This page's bookmarks (key, top), set once the page is really shown.
        self._bookmarks: list[tuple[str, float | None]] = []

    def bookmarkPage(self, key, top: float | None = None, **kwargs):
        self._bookmarks.append((key, top))

    def showPage(self):
        self._held.append(dict(self.__dict__))
        self._bookmarks = []
        self._startPage()

    def save(self):
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self.setFont(SANS, MIN_PT)
            self.setFillColor(GREY)
            self.drawRightString(PAGE_W - MARGIN_X, self.footer_y,
                                 f"Page {self._pageNumber} of {total}")
            for key, top in self._bookmarks:  # the view opens at the heading
                super().bookmarkPage(key, fit="XYZ", top=top)
            super().showPage()
        super().save()


class PackDocument(BaseDocTemplate):
    def __init__(self, filename: str, figures: PackFigures, *, public: bool,
                 progress: Progress | None = None):
        self.figures = figures
        self.public = public
        self.progress = progress
        period = figures.period
        super().__init__(
            filename, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=TOP,
            bottomMargin=BOTTOM,
            title=f"Case-file audit committee pack, {period.label()}",
            author=clean(figures.authority), subject="Quality assurance of children's social care",
            creator="Sefton QA", invariant=0, lang=LANG, displayDocTitle=1)
        frame = Frame(MARGIN_X, BOTTOM, WIDTH, PAGE_H - TOP - BOTTOM, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        cover = Frame(MARGIN_X, BOTTOM, WIDTH, PAGE_H - TOP - BOTTOM, id="cover",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("cover", [cover], onPage=self._cover_page),
                               PageTemplate("body", [frame], onPage=self._body_page)])
        self._outline: list[tuple[int, str]] = []  # (level, title) as bookmarked
        self.header_text = f"Committee pack: {period.short_label().replace('–', ' – ')}"
        self.footer_text = ("Public version" if public
                            else "Internal version: not for publication")

    def _marking_text(self) -> str:
        return _fit(clean(self.figures.marking).upper(), SANS_BOLD, 9, WIDTH / 2)

    def _marking(self, canvas: Canvas) -> None:
        marking = self._marking_text()
        canvas.setFont(SANS_BOLD, 9)
        canvas.setFillColor(INK)
        canvas.drawCentredString(PAGE_W / 2, PAGE_H - 12 * mm, marking)
        canvas.drawCentredString(PAGE_W / 2, _PackCanvas.footer_y, marking)

    def _cover_page(self, canvas: Canvas, doc) -> None:
        canvas.saveState()
        self._marking(canvas)
        canvas.restoreState()
        if not self._outline:
            self._bookmark(canvas, "Cover and contents", 0)
            canvas.showOutline()  # the viewer opens with the bookmarks showing

    def _body_page(self, canvas: Canvas, doc) -> None:
        canvas.saveState()
        self._marking(canvas)
        canvas.setFont(SANS, MIN_PT)
        canvas.setFillColor(GREY)
        room = PAGE_W / 2 - MARGIN_X - stringWidth(self._marking_text(), SANS_BOLD, 9) / 2 - 12
        canvas.drawString(MARGIN_X, PAGE_H - 12 * mm,
                          _fit(clean(self.figures.authority), SANS, MIN_PT, room))
        canvas.drawRightString(PAGE_W - MARGIN_X, PAGE_H - 12 * mm,
                               _fit(self.header_text, SANS, MIN_PT, room))
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN_X, PAGE_H - 15 * mm, PAGE_W - MARGIN_X, PAGE_H - 15 * mm)
        canvas.line(MARGIN_X, BOTTOM - 6 * mm, PAGE_W - MARGIN_X, BOTTOM - 6 * mm)
        canvas.drawString(MARGIN_X, _PackCanvas.footer_y,
                          _fit(self.footer_text, SANS, MIN_PT, room))
        canvas.restoreState()

    def _bookmark(self, canvas: Canvas, title: str, level: int,
                  top: float | None = None) -> None:
        key = f"section-{len(self._outline)}"
        canvas.bookmarkPage(key, top=top)
        canvas.addOutlineEntry(title, key, level=level, closed=False)
        self._outline.append((level, title))

    def afterFlowable(self, flowable: Flowable) -> None:
        """Every section (and the subheadings under it) gets an entry in the outline."""
        if isinstance(flowable, Paragraph) and flowable.style.name in ("h1", "h2") \
                and self.page > 1:
            level = 0 if flowable.style.name == "h1" else 1
            # The frame's cursor is now under the heading: its top is a heading's height up.
            top = self.frame._y + flowable.height + flowable.style.spaceBefore
            self._bookmark(self.canv, " ".join(flowable.getPlainText().split()), level,
                           min(top, PAGE_H))

    def afterPage(self) -> None:
        if self.progress is not None:
            self.progress(self.page, self.page + 1, f"Laid out page {self.page}")


#: The cover's word on the two versions: the HTML is the accessible one (issue 16, item 6).
ACCESSIBLE_NOTE = {
    "pdf": "This pack is also available as a single web page (HTML file): that is its "
           "accessible version, for screen readers and other assistive technology, with the same "
           "figures, every chart's figures in a table, and text that can be enlarged.",
    "html": "This web page is the accessible version of the pack; the PDF holds the same "
            "figures laid out for printing.",
}


# -- sections -----------------------------------------------------------------------------------
SECTIONS = ("Summary in plain English", "Headline figures", "Trend", "Where inadequate work sits",
            "Themes", "Moderation and calibration", "Reflective conversations and actions",
            "Who is involved", "Glossary")


class PackWriter:
    def __init__(self, figures: PackFigures, nums: Numbers, *, public: bool, appendix: bool,
                 medium: str = "pdf"):
        self.medium = medium  # "pdf", or "html" for the accessible version (html.py)
        self.f = figures
        self.n = nums
        self.public = public
        self.appendix = appendix and not public
        self.s = Styles()
        self.period = figures.current.period
        self.previous = figures.prior.period

    # helpers
    def p(self, markup: str, style=None) -> Paragraph:
        return Paragraph(markup, style or self.s.body)

    def h1(self, number: int | None, title: str) -> Paragraph:
        return Paragraph(f"{number}. {title}" if number else title, self.s.h1)

    def cell(self, value, style=None) -> Paragraph:
        return Paragraph(esc(value), style or self.s.cell)

    def heads(self, labels: Sequence[str], numbers_from: int = 1, *, size: float = MIN_PT
              ) -> list:
        left, right = self.s.head, self.s.head_right
        if size != left.fontSize:
            left = ParagraphStyle(f"head{size}", parent=left, fontSize=size, leading=size + 2)
            right = ParagraphStyle(f"head_right{size}", parent=right, fontSize=size,
                                   leading=size + 2)
        return [Paragraph(esc(label), left if i < numbers_from else right)
                for i, label in enumerate(labels)]

    def grade_label(self, grade: Grade) -> str:
        return grade.label

    def story(self) -> list[Flowable]:
        out: list[Flowable] = []
        out += self.cover()
        out += [NextPageTemplate("body"), PageBreak()]
        out += self.cover_report()
        out += [PageBreak()]
        out += self.summary()
        out += [PageBreak()]
        out += self.headline()
        out += [CondPageBreak(120 * mm)]
        out += self.trend()
        out += [PageBreak()]
        out += self.where()
        out += [CondPageBreak(90 * mm)]
        out += self.themes()
        out += [CondPageBreak(100 * mm)]
        out += self.moderation()
        out += [CondPageBreak(100 * mm)]
        out += self.loop()
        out += [CondPageBreak(70 * mm)]
        out += self.people()
        out += [PageBreak()]
        out += self.glossary()
        if self.appendix:
            out += [PageBreak()]
            out += self.appendix_section()
        out += [CondPageBreak(95 * mm)]
        out += self.provenance()
        return out

    # 1. cover
    def cover(self) -> list[Flowable]:
        f, s = self.f, self.s
        out: list[Flowable] = [Spacer(1, 14 * mm)]
        logo = _logo(f.logo)
        if logo is not None:
            out += [logo, Spacer(1, 8 * mm)]
        out.append(Paragraph(esc(f.authority), s.cover_authority))
        out.append(Paragraph("Quality of practice in children's social care", s.cover_title))
        out.append(Paragraph("Case-file audit: report to committee", s.cover_sub))
        out.append(Spacer(1, 10 * mm))
        version = ("Public version: aggregate figures only; counts from 1 to 4, and any that "
                   "would reveal them, are shown as “c”" if self.public else
                   "Internal version: not for publication")
        rows = [
            ["Period", _date(self.period.start) + " to " + _date(self.period.end)],
            ["Compared with", _date(self.previous.start) + " to " + _date(self.previous.end)
             + f" ({text.comparison_words(f).split(':')[0]})"],
            ["Audits in the period", self.n.fmt(total_key(self.period))],
            ["Produced", f"{f.produced.day} {f.produced:%B %Y}, {clock_text(f.produced)}"],
            ["Version", version],
            ["Protective marking", clean(f.marking).upper()],
        ]
        table = _captioned(Table(
            [[Paragraph(esc(a), s.cover_meta), Paragraph(esc(b), s.cover_meta)]
             for a, b in rows], colWidths=[45 * mm, WIDTH - 45 * mm], hAlign="LEFT"),
            "About this pack")
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), SANS), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("FONT", (0, 0), (0, -1), SANS_BOLD), ("LINEBELOW", (0, 0), (-1, -2), 0.3, RULE),
            ("TEXTCOLOR", (0, 0), (0, -1), GREY)]))
        out.append(table)
        out.append(Spacer(1, 6 * mm))
        out.append(Paragraph(ACCESSIBLE_NOTE[self.medium], s.cover_meta))
        out.append(Spacer(1, 6 * mm))
        out.append(Paragraph("Contents", s.h2))
        out.append(Paragraph(esc(COVER_REPORT), s.contents))
        contents = list(SECTIONS)
        if self.appendix:
            contents.append("Appendix: the period's audits by case reference")
        contents.append("Where these figures come from")
        for i, title in enumerate(contents, start=1):
            number = f"{i}. " if i <= len(SECTIONS) else ""
            out.append(Paragraph(esc(number + title), s.contents))
        return out

    # the cover report: what a committee expects before the figures
    def cover_report(self) -> list[Flowable]:
        f, s = self.f, self.s
        cover = f.cover
        out: list[Flowable] = [self.h1(None, COVER_REPORT)]
        out.append(Paragraph(esc(FOR_PUBLICATION if self.public else f.exempt_information),
                             s.lead))
        out.append(Paragraph("Purpose", s.h2))
        out.append(self.p(esc(cover.purpose)))
        out.append(Paragraph("Recommendations", s.h2))
        for i, item in enumerate(cover.recommendations or ("None.",), start=1):
            out.append(Paragraph(esc(item), s.bullet, bulletText=f"{i}."))
        out.append(Paragraph("What is being done", s.h2))
        doing = [line for line in (text.loop_sentence(f, self.n),
                                   text.reaudit_sentence(f, self.n)) if line]
        out.append(self.p(esc(" ".join(doing) if doing else
                              "No reflective conversations, actions or re-audits were due "
                              "in the period.")))
        out.append(Paragraph("Contact officer", s.h2))
        out.append(self.p(esc(cover.contact_officer or
                              "Not given (give one in the report dialog's cover report, or "
                              "with report --cover).")))
        out.append(Paragraph("Background papers", s.h2))
        papers = cover.background_papers or ("None.",)
        for item in papers:
            out.append(Paragraph(esc(item), s.bullet, bulletText="•"))
        return out

    # 2. summary
    def summary(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [self.h1(1, "Summary in plain English")]
        out.append(Paragraph("What the audits of this period found, in a minute's reading. "
                             "The figures behind each line are in the sections that follow.",
                             s.small))
        out.append(Spacer(1, 3 * mm))
        for line in text.summary(self.f, self.n):
            out.append(Paragraph(esc(line), s.bullet, bulletText="•"))
        return out

    # 3. headline
    def _block(self, gc: GradeCounts, grade: Grade | None) -> tuple[str, str, str]:
        """(count, share, interval) for a grade (None: good or better), as the summary
        rounds them: shares and intervals to one decimal place."""
        p = gc.period
        key = gob_key(self.f, p) if grade is None else grade_key(p, grade)
        if not self.n.shown(key):
            return SUPPRESSED, SUPPRESSED, SUPPRESSED
        n, total = self.n.value(key), gc.total
        if not total:
            return "0", "–", "–"
        low, high = wilson_interval(n, total)
        share = round(percent(n, total), 1)
        return (f"{n:,}", f"{share:.1f}%",
                f"{round(100 * low, 1):.1f}–{round(100 * high, 1):.1f}%")

    def _change(self, grade: Grade | None) -> Paragraph:
        cur, prev = self.f.current, self.f.prior
        k1key = gob_key(self.f, cur.period) if grade is None else grade_key(cur.period, grade)
        k2key = gob_key(self.f, prev.period) if grade is None else grade_key(prev.period, grade)
        if not (self.n.shown(k1key) and self.n.shown(k2key)):
            return Paragraph(SUPPRESSED, self.s.cell_right)
        if not cur.total or not prev.total:
            return Paragraph("–", self.s.cell_right)
        k1, k2 = self.n.value(k1key), self.n.value(k2key)
        points = round(percent(k1, cur.total), 1) - round(percent(k2, prev.total), 1)
        if abs(points) < 0.05:
            return Paragraph("no change", self.s.cell_right)
        sign = "+" if points > 0 else "−"
        note = text.change_note(text.change_verdict(k1, cur.total, k2, prev.total))
        return Paragraph(f"{sign}{abs(points):.1f} points<br/>"
                         f"<font size='9' color='#5E5E5E'>{note}</font>", self.s.cell_right)

    def headline(self) -> list[Flowable]:
        f, s = self.f, self.s
        cur, prev = f.current, f.prior
        out: list[Flowable] = [self.h1(2, "Headline figures")]
        out.append(self.p(
            f"Audits completed and graded from {esc(self.period.label())}, against the previous "
            f"period, {esc(self.previous.label())} ({esc(text.comparison_words(self.f))}). "
            "The 95% interval is the range the true "
            "share probably lies in, given how few audits there are. " + text.METHOD))
        widths = [128, 42, 44, 76, 50, 44, WIDTH - 384]
        head1 = [Paragraph("Grade", s.head), Paragraph("This period", s.head_centre), "", "",
                 Paragraph("Previous period", s.head_centre), "", Paragraph("Change in share",
                                                                            s.head_right)]
        head2 = ["", *self.heads(["Audits", "Share", "95% interval", "Audits", "Share"], 0), ""]
        rows = [head1, head2]
        lines: list[tuple[str, Grade | None]] = [(g.label, g) for g in f.grades]
        if Grade.OUTSTANDING in f.grades:
            lines.insert(2, ("Good or better", None))
        for label, grade in lines:
            n1, p1, ci1 = self._block(cur, grade)
            n2, p2, _ = self._block(prev, grade)
            rows.append([self.cell(label, s.cell_bold if grade is None else s.cell), n1, p1, ci1,
                         n2, p2, self._change(grade)])
        rows.append(["All audits", self.n.fmt(total_key(cur.period)),
                     "100%" if cur.total else "–", "",
                     self.n.fmt(total_key(prev.period)), "100%" if prev.total else "–", ""])
        table = _table(rows, widths, header_rows=2, total_row=True,
                       caption="Audits by grade, this period and the previous period", extra=[
            ("SPAN", (1, 0), (3, 0)), ("SPAN", (4, 0), (5, 0)), ("SPAN", (0, 0), (0, 1)),
            ("SPAN", (6, 0), (6, 1)), ("LINEBELOW", (1, 0), (5, 0), 0.3, RULE),
            ("LINEBEFORE", (4, 0), (4, -1), 0.3, RULE), ("LINEBEFORE", (6, 0), (6, -1), 0.3, RULE),
            ("VALIGN", (0, 0), (-1, 1), "BOTTOM")])
        out.append(table)
        out.append(Paragraph(
            f"This period: {esc(self.period.label())}. Previous period: "
            f"{esc(self.previous.label())}. Shares are of all graded audits in the period; "
            "the change is the difference between the two shares in percentage points."
            + (" Shares are rounded to one decimal place, so they may not add up to exactly "
               "100%." if self._shares_miss_100() else ""),
            s.note))
        if self.public:
            out.append(Paragraph("c: a count from 1 to 4, or a figure that would let one be "
                                 "worked out, is not published.", s.note))
        return out

    def _shares_miss_100(self) -> bool:
        """Whether the headline's printed shares (one decimal) of either period fail to add up
        to 100.0% because of rounding (only where every share is printed)."""
        for gc in (self.f.current, self.f.prior):
            if not gc.total or not all(self.n.shown(grade_key(gc.period, g))
                                       for g in self.f.grades):
                continue
            printed = [round(100 * gc.count(g) / gc.total, 1) for g in self.f.grades]
            if round(sum(printed), 1) != 100.0:
                return True
        return False

    # 4. trend
    def _trend_spec(self, name: str, key_of, centre_key, colour, marker) -> charts.PChart:
        trend = self.f.trend
        labels = [t.period.short_label().replace("–", "–\n", 1) for t in trend]
        values: list[float | None] = []
        for t in trend:
            k = key_of(t.period)
            values.append(100 * self.n.value(k) / t.total
                          if t.total and self.n.share_shown(k, total_key(t.period)) else None)
        centre = None
        upper: list[float | None] = []
        lower: list[float | None] = []
        if has_control_limits(self.f) and self.n.shown(centre_key) \
                and self.n.shown(CENTRE_TOTAL) and self.n.value(CENTRE_TOTAL):
            pbar = self.n.value(centre_key) / self.n.value(CENTRE_TOTAL)
            centre = 100 * pbar
            for t in trend:
                if not t.total or not self.n.shown(total_key(t.period)):
                    upper.append(None)
                    lower.append(None)
                    continue
                sigma = (pbar * (1 - pbar) / t.total) ** 0.5
                upper.append(100 * min(1.0, pbar + 3 * sigma))
                lower.append(100 * max(0.0, pbar - 3 * sigma))
        return charts.PChart(labels=labels, values=values, centre=centre, upper=upper,
                             lower=lower, colour=colour, marker=marker, name=name)

    def trend(self) -> list[Flowable]:
        f, s = self.f, self.s
        out: list[Flowable] = [self.h1(3, "Trend")]
        gob = text.gob_label(f)
        out.append(self.p(
            f"The share of audits graded {gob}, and the share inadequate, in each of the last "
            f"{len(f.trend)} {esc(text.trend_units(f))} (this period last), as far back as "
            "there are audits."
            + (" The dashed lines are control limits: with this many audits, a share would "
               "stay between them about 99.7% of the time by chance alone, so a share outside "
               "them points to a real change." if has_control_limits(f) else
               " There are too few periods with audits to draw control limits.")))
        sentence = text.trend_sentence(f, self.n)
        if sentence:
            out.append(self.p(esc(sentence)))
        if not any(t.total for t in f.trend):
            return out
        specs = [
            (f"Share graded {gob}", self._trend_spec(gob, lambda p: gob_key(f, p), CENTRE_GOB,
                                                     charts.BLUE, "FilledCircle")),
            ("Share graded inadequate",
             self._trend_spec("inadequate", lambda p: grade_key(p, Grade.INADEQUATE),
                              CENTRE_INADEQUATE, charts.VERMILLION, "FilledSquare")),
        ]
        table_name = f"The trend: audits graded {gob} and inadequate, by period"
        for title, spec in specs:
            limits = ", with the average and control limits" if spec.centre is not None else ""
            out.append(KeepTogether([
                Paragraph(title, s.h2),
                _alt(charts.p_chart(spec, WIDTH, 165),
                     f"Line chart: the share of audits graded {spec.name} in each of "
                     f"{len(f.trend)} periods, from {f.trend[0].period.short_label()} to "
                     f"{f.trend[-1].period.short_label()}{limits}. The figures are in the table "
                     f"“{table_name}” after the charts."),
                _alt(charts.p_chart_legend(spec, WIDTH),
                     f"Key to the chart of the share graded {spec.name}.")]))
        rows = [self.heads(["Period", "Audits", f"Graded {gob}", "Share", "Inadequate",
                            "Share"], 1)]
        for t in f.trend:
            p = t.period
            gk, ik, nk = gob_key(f, p), grade_key(p, Grade.INADEQUATE), total_key(p)
            rows.append([self.cell(p.label()), self.n.fmt(nk),
                         self.n.fmt(gk) if t.total else "–",
                         self.n.pct(gk, nk) if t.total else "–",
                         self.n.fmt(ik) if t.total else "–",
                         self.n.pct(ik, nk) if t.total else "–"])
        out.append(Spacer(1, 4 * mm))
        out.append(_table(rows, [WIDTH - 290, 50, 70, 45, 80, 45], caption=table_name))
        return out

    # 5. where inadequate work sits
    def _grade_table(self, rows: dict[str, dict[Grade, int]], key, first: str,
                     caption: str) -> Table:
        f, s = self.f, self.s
        grades = list(f.grades)
        size = MIN_PT
        col = max(stringWidth(word, SANS_BOLD, size) for g in grades
                  for word in g.short_label.split()) + 10
        share_w = 100 if len(grades) <= 3 else 88
        widths = [WIDTH - col * len(grades) - 44 - share_w] + [col] * len(grades) + [44, share_w]
        head = self.heads([first] + [g.short_label for g in grades]
                          + ["Audits", "Share inadequate (95% interval)"], 1, size=size)
        data = [head]
        for name in sorted(rows, key=str.lower):  # easy to find a name; the bars rank them
            data.append([self.cell(name)] + [self.n.fmt(key(name, g)) for g in grades]
                        + [self.n.fmt(key(name)), self._share_with_interval(
                            key(name, Grade.INADEQUATE), key(name))])
        period = self.period
        data.append([Paragraph("All audits", s.cell_bold)]
                     + [self.n.fmt(grade_key(period, g)) for g in grades]
                     + [self.n.fmt(total_key(period)), self._share_with_interval(
                         grade_key(period, Grade.INADEQUATE), total_key(period))])
        return _table(data, widths, total_row=True, caption=caption)

    def _share_with_interval(self, part_key, whole_key) -> str:
        if not self.n.share_shown(part_key, whole_key):
            return SUPPRESSED
        k, n = self.n.value(part_key), self.n.value(whole_key)
        if not n:
            return "–"
        low, high = wilson_interval(k, n)
        return f"{whole_percent(k, n)}% ({100 * low:.0f}–{100 * high:.0f}%)"

    def _bars(self, rows: dict[str, dict[Grade, int]], key, what: str, table_name: str, *,
              limit: int | None = None) -> list[Flowable]:
        f = self.f
        chartable = [(name, counts) for name, counts in rows.items()
                     if all(self.n.shown(key(name, g)) for g in f.grades)]
        left_out = len(rows) - len(chartable)
        chartable.sort(key=lambda r: (-r[1].get(Grade.INADEQUATE, 0), -sum(r[1].values()),
                                      r[0].lower()))
        notes = []
        if limit is not None and len(chartable) > limit:
            notes.append(f"The {limit} with the most inadequate audits are charted; all are in "
                         "the table.")
            chartable = chartable[:limit]
        if left_out:
            notes.append(f"{text.plural(left_out, 'row')} with figures that are not published "
                         f"{'is' if left_out == 1 else 'are'} left out of the chart.")
        out: list[Flowable] = []
        if chartable:
            order = sorted(f.grades, key=lambda g: g.rank)
            key_words = ", ".join(g.short_label.lower() + (" (hatched)" if g in charts.HATCHED
                                                           else "") for g in order)
            out.append(KeepTogether([
                _alt(charts.legend([(g.short_label, charts.GRADE_COLOURS[g],
                                     charts.HATCHED.get(g)) for g in order], WIDTH),
                     f"Key to the bar chart: {key_words}."),
                _alt(charts.stacked_grade_bars(chartable, f.grades, WIDTH),
                     f"Bar chart: the period's audits by grade in "
                     f"{text.plural(len(chartable), what)}, ordered by the number of "
                     f"inadequate audits. The figures are in the table “{table_name}” "
                     "before the chart.")]))
        for note in notes:
            out.append(Paragraph(esc(note), self.s.note))
        return out

    def where(self) -> list[Flowable]:
        f, s = self.f, self.s
        out: list[Flowable] = [self.h1(4, "Where inadequate work sits")]
        if not f.current.total:
            return out + [self.p("There were no audits in the period.")]
        sentence = text.where_sentence(f, self.n)
        out.append(self.p(
            "The period's audits by grade in each service area and each team. Bars are "
            "ordered by the number of inadequate audits; the share inadequate comes with its "
            "95% interval, which is wide where a team had few audits."
            + (" " + esc(sentence) if sentence else "")))
        out.append(Paragraph("By service area", s.h2))
        out.append(self._grade_table(f.by_area, area_key, "Service area",
                                     "Audits by grade in each service area"))
        out.append(Spacer(1, 3 * mm))
        out += self._bars(f.by_area, area_key, "service area",
                          "Audits by grade in each service area")
        out.append(CondPageBreak(60 * mm))
        out.append(Paragraph("By team", s.h2))
        if self.n.teams_withheld:
            out.append(self.p(TEAMS_WITHHELD))
            return out
        out.append(self._grade_table(f.by_team, team_key, "Team",
                                     "Audits by grade in each team"))
        out.append(Spacer(1, 3 * mm))
        out += self._bars(f.by_team, team_key, "team", "Audits by grade in each team",
                          limit=TEAMS_CHARTED)
        return out

    # 6. themes
    def themes(self) -> list[Flowable]:
        f, s = self.f, self.s
        out: list[Flowable] = [self.h1(5, "Themes")]
        names = sorted_themes(f)
        if not names:
            return out + [self.p("No themes were recorded on this period's or the previous "
                                 "period's audits.")]
        out.append(self.p(
            "A theme is a practice issue the auditor found in the case (an audit can have "
            "several). The share is of all audits in the period."))
        for sentence in (text.theme_sentence(f, self.n), text.theme_change_sentence(f, self.n)):
            if sentence:
                out.append(self.p(esc(sentence)))
        tests = text.theme_changes(f, self.n)
        nk, pk = total_key(self.period), total_key(self.previous)
        rows = [self.heads(["Theme", "Audits this period", "Share", "Audits previous period",
                            "Share", "Change in share"], 1)]
        for theme in names:
            now, before = theme_key(theme), theme_previous_key(theme)
            change = "–"
            if not (self.n.shown(now) and self.n.shown(before)):
                change = SUPPRESSED
            elif f.current.total and f.prior.total:
                points = (round(percent(self.n.value(now), f.current.total), 1)
                          - round(percent(self.n.value(before), f.prior.total), 1))
                change = ("no change" if abs(points) < 0.05 else
                          f"{'+' if points > 0 else '−'}{abs(points):.1f} points")
                if theme in tests and change != "no change":
                    change = Paragraph(
                        f"{change}<br/><font size='9' color='#5E5E5E'>"
                        f"{text.change_note(tests[theme][1])}</font>", s.cell_right)
            rows.append([self.cell(theme), self.n.fmt(now), self.n.pct(now, nk),
                         self.n.fmt(before), self.n.pct(before, pk), change])
        out.append(_table(rows, [WIDTH - 316, 58, 48, 64, 48, 98],
                          caption="Audits with each theme, this period and the previous period"))
        areas = theme_areas(f)
        if areas:
            out.append(CondPageBreak(50 * mm))
            lead: list[Flowable] = [
                Paragraph("Where each theme appeared this period, by service area", s.h2),
                self.p("Number of the period's audits with the theme in each service area.",
                       s.small)]
            labels = [NO_AREA if a is None else a for a in areas]
            size, theme_w = MIN_PT, 118
            widest = max(stringWidth(word, SANS_BOLD, size) for label in labels
                         for word in label.split()) + 8.5
            fits = max(1, min(AREA_COLUMNS_PER_TABLE, int((WIDTH - theme_w) // widest)))
            tables = -(-len(areas) // fits)
            per_table = -(-len(areas) // tables)  # spread evenly: 11 areas are 6 + 5
            for start in range(0, len(areas), per_table):
                chunk = areas[start:start + per_table]
                col = (WIDTH - theme_w) / per_table
                rows = [self.heads(["Theme"] + labels[start:start + per_table], 1, size=size)]
                for theme in names:
                    rows.append([self.cell(theme)]
                                + [self.n.fmt(theme_key(theme, a)) for a in chunk])
                table = _table(rows, [theme_w] + [col] * len(chunk), caption=(
                    "Audits with each theme this period, by service area"
                    + (" (continued)" if start else "")))
                # A short table moves whole to the next page (with its heading) rather than
                # leave a row, or the heading, behind.
                if len(rows) <= 25:
                    out.append(KeepTogether(lead + [table]))
                else:
                    out += lead + [table]
                lead = []
                out.append(Spacer(1, 3 * mm))
        return out

    # 7. moderation
    def moderation(self) -> list[Flowable]:
        f = self.f
        m = f.moderation
        out: list[Flowable] = [self.h1(6, "Moderation and calibration")]
        out.append(self.p(
            "Every audit graded inadequate is moderated: someone other than the auditor checks "
            "the grade. A random sample of the other audits is moderated too (the calibration "
            "sample), because over-generous grading can only be found by checking grades that "
            "are not inadequate. The figures count moderations completed in the period."))
        out.append(self.p(esc(text.moderation_sentence(f, self.n))))
        mk = ("moderation", "moderated")

        def share(name: str) -> str:
            return self.n.pct(("moderation", name), mk) if m.moderated else "–"

        if m.median_working_days is None:
            median = "–"
        else:
            median = (f"{m.median_working_days:g} (timescale: "
                      f"{text.plural(m.target_days, 'working day')})")
        if not text.kappa_shown(m, self.n):
            kappa = SUPPRESSED
        elif m.kappa is None or m.moderated < KAPPA_MIN_MODERATED:
            kappa = f"not given (fewer than {KAPPA_MIN_MODERATED} moderated)"
        else:
            kappa = f"{m.kappa:.2f} ({text.kappa_strength(m.kappa)})"
        rows = [self.heads(["Moderation", "Number", "Share"], 1),
                ["Audits moderated in the period", self.n.fmt(mk), ""],
                ["Grade confirmed", self.n.fmt(("moderation", "confirmed")), share("confirmed")],
                ["Grade raised", self.n.fmt(("moderation", "upgraded")), share("upgraded")],
                ["Grade lowered", self.n.fmt(("moderation", "downgraded")), share("downgraded")],
                ["Median working days from flag to moderation", median, ""],
                ["Agreement beyond chance (weighted kappa)", kappa, ""],
                [self.cell("This period's audits flagged because graded inadequate"),
                 self.n.fmt(("moderation", "flagged_inadequate")), ""],
                [self.cell("This period's audits chosen for the calibration sample"),
                 self.n.fmt(("moderation", "flagged_calibration")), ""],
                [self.cell("This period's audits still awaiting moderation"),
                 self.n.fmt(("moderation", "pending")), ""],
                [self.cell("… of which past the timescale"),
                 self.n.fmt(("moderation", "pending_overdue")), ""]]
        out.append(KeepTogether([_table(rows, [WIDTH - 220, 170, 50],
                                        caption="Moderation and calibration")]))
        return out

    # 8. conversations, actions and re-audits
    def loop(self) -> list[Flowable]:
        f, s = self.f, self.s
        lp = f.loop
        out: list[Flowable] = [self.h1(7, "Reflective conversations and actions")]
        out.append(self.p(
            "When a moderator confirms an inadequate grade, a service manager holds a "
            "reflective conversation with the worker and their team manager: what went "
            "wrong, what is learnt, and what must now happen for the child. The remedial "
            "actions agreed are followed up until done. The figures are for this period's "
            f"audits, as they stand on {_date(f.produced.date())}."))
        out.append(self.p(esc(text.loop_sentence(f, self.n))))

        def table(title: str, items: list[tuple[str, str]], total: str, total_label: str):
            tk = ("loop", total)
            rows = [self.heads([title, "Number", "Share"], 1)]
            for label, name in items:
                key = ("loop", name)
                rows.append([self.cell(label), self.n.fmt(key),
                             self.n.pct(key, tk) if getattr(lp, total) else "–"])
            rows.append([total_label, self.n.fmt(tk), "100%" if getattr(lp, total) else "–"])
            return KeepTogether([_table(rows, [WIDTH - 140, 70, 70], total_row=True,
                                        caption=title)])

        out.append(table("Reflective conversations", [
            ("Held", "conversations_held"),
            ("Still to be held, within the timescale", "conversations_due"),
            ("Still to be held, overdue", "conversations_overdue")],
            "conversations", "All reflective conversations"))
        out.append(Spacer(1, 4 * mm))
        out.append(table("Remedial actions", [
            ("Completed on time", "actions_on_time"), ("Completed late", "actions_late"),
            ("Open, not yet due", "actions_open"), ("Open and overdue", "actions_overdue"),
            ("Closed as no longer needed", "actions_not_needed")],
            "actions", "All remedial actions"))
        out.append(CondPageBreak(55 * mm))
        out.append(Paragraph("Re-audits: how much difference did it make?", s.h2))
        out.append(self.p(
            "A re-audit is a later audit of the same child's case. Here, each case audited in "
            "the period that had an earlier audit is compared with the grade at its last "
            "audit."))
        out.append(self.p(esc(text.reaudit_sentence(f, self.n))))
        out.append(table("Cases re-audited in the period", [
            ("Improved", "reaudits_improved"), ("Same grade", "reaudits_same"),
            ("Worse", "reaudits_worse")], "reaudits", "All re-audited cases"))
        rows = [[self.cell("Re-audits asked for by a remedial action"),
                 self.n.fmt(("loop", "reaudits_asked"))],
                [self.cell("Re-audited cases graded inadequate at their earlier audit"),
                 self.n.fmt(("loop", "reaudits_from_inadequate"))],
                [self.cell("… of which improved"),
                 self.n.fmt(("loop", "reaudits_from_inadequate_improved"))]]
        t = _captioned(Table(rows, colWidths=[WIDTH - 140, 70], hAlign="LEFT"),
                       "Re-audits asked for, and re-audits of inadequate work")
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), SANS, MIN_PT),
                               ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                               ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]))
        out.append(Spacer(1, 2 * mm))
        out.append(t)
        return out

    # 9. people
    def people(self) -> list[Flowable]:
        f = self.f
        out: list[Flowable] = [self.h1(8, "Who is involved")]
        out.append(self.p(
            f"How many different people took part in each role this period and in the previous "
            f"period. {text.people_sentence(f)}"))
        rows = [self.heads(["Role", "This period", "Previous period", "Change"], 1)]
        for key, label in ROLES:
            now_key, before_key = ("people", key, "now"), ("people", key, "previous")
            if self.n.shown(now_key) and self.n.shown(before_key):
                diff = self.n.value(now_key) - self.n.value(before_key)
                change = "no change" if diff == 0 else f"{'+' if diff > 0 else '−'}{abs(diff)}"
            else:
                change = SUPPRESSED
            rows.append([self.cell(label), self.n.fmt(now_key), self.n.fmt(before_key), change])
        out.append(KeepTogether([_table(rows, [WIDTH - 240, 80, 90, 70],
                                        caption="People taking part in each role")]))
        out.append(Paragraph(
            "Auditors and practitioners are counted from the period's audits; moderators from "
            "moderations completed in the period; service managers from reflective "
            "conversations held in it.", self.s.note))
        return out

    # 10. glossary
    def glossary(self) -> list[Flowable]:
        s = self.s
        out: list[Flowable] = [self.h1(9, "Glossary")]
        rows = [self.heads(["Term", "What it means"], 2)]
        for term, meaning in glossary_terms(self.f, public=self.public):
            rows.append([Paragraph(esc(term), s.cell_bold), Paragraph(esc(meaning), s.cell)])
        out.append(_table(rows, [120, WIDTH - 120], numbers_from=2, zebra=True,
                          caption="Terms used in this pack",
                          extra=[("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return out

    # 11. appendix
    def appendix_section(self) -> list[Flowable]:
        f, s = self.f, self.s
        out: list[Flowable] = [self.h1(None, "Appendix: the period's audits by case reference")]
        out.append(self.p(
            f"Internal only: never published. {text.plural(len(f.appendix), 'audit')} from "
            f"{esc(self.period.label())}, by case reference. The auditors' findings are not "
            "printed: free text about a child does not belong in a committee's papers; it is "
            "in Sefton QA, under each case reference.", s.small))
        head = [Paragraph(h, s.tiny_bold) for h in
                ("Case reference", "Date", "Service area and team", "Grade", "Themes")]
        rows = [head]
        for r in f.appendix:
            grade = Grade(r.grade).short_label
            if r.auditor_grade:
                grade += f", moderated from {Grade(r.auditor_grade).short_label.lower()}"
            where = " / ".join(x for x in (r.service_area, r.team) if x) or "–"
            date = date_text(dt.date.fromisoformat(r.audit_date))
            rows.append([Paragraph(esc(r.case_reference), s.tiny), Paragraph(date, s.tiny_nowrap),
                         Paragraph(esc(where), s.tiny), Paragraph(esc(grade), s.tiny),
                         Paragraph(esc(r.themes or "–"), s.tiny)])
        if len(rows) == 1:
            return out + [self.p("There were no audits in the period.")]
        out.append(_table(rows, [80, 70, 130, 110, WIDTH - 390], numbers_from=5,
                          caption="The period's audits by case reference",
                          extra=[("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return out

    # last page
    def provenance(self) -> list[Flowable]:
        f, s = self.f, self.s
        out: list[Flowable] = [self.h1(None, "Where these figures come from")]
        out.append(self.p(
            f"The figures were read from {esc(f.authority)}'s Sefton QA store on "
            f"{_date(f.produced.date())} at {clock_text(f.produced)}. They count submitted audits "
            "with an overall grade, dated within the period, exactly as the app's period "
            "summary does. The previous period is the same number of whole calendar months just "
            "before this one (or, for a period that is not whole months, the same number of "
            "days) unless the pack says otherwise; the trend steps back from it the same way. "
            "Intervals are 95% Wilson score intervals; changes are tested by Newcombe's score "
            "interval or Fisher's exact test at the 5% level, themes with Holm's correction; "
            "control limits are three standard errors either side of the average share over "
            "the periods shown, read by the usual run rules (see the glossary)."))
        if self.public:
            out.append(self.p(
                "This is the public version: it holds aggregate figures only, with no case "
                "references and no names. Any count from 1 to 4 is shown as “c”, and so is "
                "any other figure that would let such a count be worked out from the totals."))
        out.append(self.p(
            "Every change to the data is kept in the app's audit trail, each entry sealed with "
            "a hash of the one before it. A change made to the data by hand shows when the "
            "store is checked. Someone able to rewrite the store file and recompute every hash "
            "could hide a change from the store alone, but not from a copy of the trail's head "
            "kept elsewhere, such as this page: checking the store against it shows whether "
            "the history up to this pack was rewritten later. These figures were read when "
            "the trail stood at:"))
        out.append(Paragraph(f"Trail entry (sequence number): <b>{f.trail_seq}</b>", s.body))
        out.append(Paragraph("Chain hash (SHA-256):", s.body))
        out.append(Paragraph(esc(f.trail_hash), s.mono))
        out.append(Paragraph("Anchor, to check the store against this pack "
                             "(<i>sefton-qa verify --anchor</i>):", s.body))
        out.append(Paragraph(esc(f"{f.trail_seq}:{f.trail_hash}"), s.mono))
        out.append(self.p(
            "The pack itself was then recorded in the trail with its SHA-256 fingerprint, the "
            "period and the options used, so any copy can be checked against the record and "
            "tied to the data it came from. Sefton QA’s “verify” command checks the whole "
            "trail."))
        return out


def glossary_terms(figures: PackFigures, *, public: bool) -> list[tuple[str, str]]:
    names = " ".join([*figures.by_area, *figures.by_team]).upper()
    terms = [
        ("Audit", "A structured check of one child's case file against the council's standards "
                  "of practice, ending in an overall grade."),
        ("Grades", "Ofsted's words for the quality of practice: "
                   + ("outstanding, " if Grade.OUTSTANDING in figures.grades else "")
                   + "good, requires improvement to be good, and inadequate."),
    ]
    if Grade.OUTSTANDING in figures.grades:
        terms.append(("Good or better", "Graded good or outstanding."))
    terms += [
        ("Share", "The percentage of the period's audits."),
        ("95% interval", "The range the true share probably lies in (95 times in 100), given "
                         "how many audits there were. With few audits it is wide. Worked out "
                         "by the Wilson score method, which public health statisticians in "
                         "England recommend."),
        ("Could be chance", "The test of the change (below) cannot rule out that the "
                            "difference arose by chance, from which cases happened to be "
                            "audited. “Too large to be chance” means it would arise by chance "
                            "less than 5 times in 100 (p below 0.05)."),
        ("Test of a change", "Newcombe's score interval for the difference between two shares "
                             "(the change could be chance when it includes no change), or, "
                             "when any count expected under no change is below 5, Fisher's "
                             "exact test. Themes are tested together, with Holm's correction "
                             "for testing several at once."),
        ("Run rules", "How a trend chart is read: a share outside the control limits, 6 "
                      "periods in a row rising or falling, or 8 in a row on one side of the "
                      "average, would rarely happen by chance alone; only the rules the "
                      "number of periods allows are used."),
        ("Percentage points", "The difference between two percentages: from 16% to 8% is a "
                              "fall of 8 points, and from 8% to 16% a rise of 8 points."),
        ("Random draw", "Cases picked by chance from all open cases (within each team, say), "
                        "not chosen by anyone, so that the audits fairly represent the "
                        "caseload. Each audit records how its case was chosen: by random "
                        "draw, chosen by the QA team, referred for audit, or not recorded."),
        ("Previous period", "The same number of whole calendar months just before this "
                            "period (for a quarter, the quarter before); for a period that is "
                            "not whole months, the same number of days just before it; unless "
                            "another was chosen."),
        ("Control limits", "On the trend charts (p-charts), the range a share would stay "
                           "within by chance alone about 99.7% of the time: the average share "
                           "over the periods shown, plus or minus three times the spread that "
                           "chance gives for that many audits (three standard errors). A share "
                           "outside them points to a real change."),
        ("Service area", "A part of children's services, such as Child Protection or Children "
                         "in Care; each team belongs to one."),
        ("Theme", "A practice issue the auditor found in the case, such as drift and delay. An "
                  "audit can have several themes."),
        ("Moderation", "A second check of an audit's grade by a senior colleague who is never "
                       "the auditor. The grade is confirmed, raised or lowered, with a reason."),
        ("Calibration sample", "A random share of the audits not graded inadequate, moderated "
                               "to check that auditors are not grading too generously."),
        ("Working days", "Monday to Friday, leaving out bank holidays and closure days."),
        ("Weighted kappa", "How far auditors and moderators agree beyond what chance would "
                           "give: 1 is perfect agreement, 0 no better than chance. Grades one "
                           "step apart count as a smaller disagreement than two steps."),
        ("Reflective conversation", "A meeting led by a service manager with the worker and "
                                    "team manager after an inadequate grade is confirmed: what "
                                    "went wrong, what is learnt, what must now happen for the "
                                    "child."),
        ("Remedial action", "A task agreed at a reflective conversation, with an owner and a "
                            "due date, followed up until done."),
        ("Overdue", "Past its due date and not done: drift and delay in the quality assurance "
                    "work itself."),
        ("Re-audit", "A later audit of the same child's case. Improved means a better grade "
                     "than at the case's last audit."),
        ("Practitioners", "Here, the team managers named on the period's audits."),
    ]
    if "MASH" in names:
        terms.append(("MASH", "Multi-Agency Safeguarding Hub: the front door where concerns "
                              "about a child are screened by children's services, police and "
                              "health together."))
    if "SEND" in names or "EHCP" in names:
        terms.append(("SEND / EHCP", "Special educational needs and disabilities; an "
                                     "education, health and care plan sets out a child's "
                                     "support."))
    if public:
        terms.append(("c", "Not published: a count from 1 to 4, or a figure that would let "
                           "such a count be worked out from the totals."))
    terms += [
        ("Protective marking", "How the paper must be handled. OFFICIAL-SENSITIVE papers are "
                               "for the people they are sent to and must not be published."),
        ("Audit trail", "The app's record of every change to the data, each entry sealed with "
                        "a fingerprint (hash) of the one before, so changes cannot be hidden."),
    ]
    return terms


def _logo(path: str | None) -> Flowable | None:
    if not path:
        return None
    p = Path(path)
    if not p.is_file():
        return None
    try:
        from reportlab.lib.utils import ImageReader

        w, h = ImageReader(str(p)).getSize()
    except Exception:  # not an image reportlab can read: the pack goes out without it
        return None
    scale = min(60 * mm / w, 25 * mm / h)
    return Image(str(p), width=w * scale, height=h * scale, hAlign="LEFT")


def numbers_for(figures: PackFigures, *, public: bool, progress: Progress | None,
                steps: int, numbers: Numbers | None = None) -> Numbers:
    """The figures as the pack may print them (the first of a render's ``steps``):
    ``numbers`` when the caller worked them out already (a public pack's suppression is the
    costly part of a pack, and its build needs it again to record what it published)."""
    if progress:
        progress(0, steps, "Working out which figures can be published" if public
                 else "Preparing the figures")
    if numbers is not None:
        if numbers.public != public:
            raise ValueError("the numbers given are for the other version of the pack")
        return numbers
    return Numbers.build(figures, public=public)


def render(figures: PackFigures, path: str | Path, *, public: bool = False,
           appendix: bool = False, progress: Progress | None = None,
           numbers: Numbers | None = None) -> int:
    """Draw the pack into ``path``; returns the number of pages. ``progress`` may raise to
    stop the build."""
    fonts.register()
    nums = numbers_for(figures, public=public, progress=progress, steps=3,
                       numbers=numbers)
    if progress:
        progress(1, 3, "Drawing the charts and tables")
    story = PackWriter(figures, nums, public=public, appendix=appendix).story()
    doc = PackDocument(str(path), figures, public=public,
                       progress=(lambda d, t, m: progress(2, 3, m)) if progress else None)
    doc.build(story, canvasmaker=_PackCanvas)
    return doc.page
