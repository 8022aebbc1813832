"""The committee pack as one self-contained HTML page: the accessible version (issue 16,
item 6).

The page is written from the very flowables the PDF is drawn from (:class:`PackWriter`'s
story), so its sentences, tables and charts carry exactly the PDF's figures, every count
through :class:`Numbers` ("c" wherever the PDF has it). Headings become ``h2``/``h3`` under
the pack's ``h1`` title with the PDF's numbering, tables get a ``caption`` and ``th`` cells
with ``scope``, charts become inline SVG with ``role="img"``, a ``title`` and an
``aria-label`` (their figures are in the table beside them), and the page declares
``lang="en-GB"``. It loads nothing: the CSS is inline, there is no script, and a logo is
embedded as a data URI.

Every piece of text is escaped here with :func:`html.escape` from the parsed paragraph
fragments (never from markup), so a team called ``<script>`` prints as text.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Iterable

from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Table

from sefton_qa.reports import fonts
from sefton_qa.reports.figures import PackFigures
from sefton_qa.reports.fonts import MONO
from sefton_qa.reports.numbers import Numbers
from sefton_qa.reports.pdf import LANG, PackWriter, Progress, clean, numbers_for

STYLE = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#1a1a1a;background:#fff;
  line-height:1.5;margin:0 auto;max-width:52rem;padding:1rem 1.5rem 3rem;font-size:1rem}
h1,h2,h3{color:#1b365d;line-height:1.25}
h1{font-size:2rem;margin:.5rem 0}
h2{font-size:1.5rem;margin-top:2.5rem;border-bottom:2px solid #1b365d}
h3{font-size:1.15rem;margin-top:1.75rem}
.marking{text-align:center;font-weight:bold;letter-spacing:.05em;margin:.5rem 0}
.authority{font-weight:bold;font-size:1.2rem;color:#1b365d}
.subtitle{font-size:1.2rem}
.note,.aside{color:#5e5e5e}
.note{font-size:.95rem}
table{border-collapse:collapse;margin:1rem 0;width:100%}
caption{text-align:left;font-weight:bold;padding:.25rem 0;color:#1b365d}
th,td{border-bottom:1px solid #bdbdbd;padding:.3rem .5rem;vertical-align:top}
thead th{background:#e6e9ee;border-bottom:2px solid #1b365d;text-align:left}
thead th+th{text-align:right}
td.n{text-align:right}
tbody th{text-align:left;font-weight:normal}
figure{margin:1rem 0}
svg{max-width:100%;height:auto}
code,.mono{font-family:"DejaVu Sans Mono",Consolas,monospace;overflow-wrap:anywhere}
a{color:#1b365d}
.contents{list-style:none;padding-left:1rem}
:focus{outline:3px solid #d55e00;outline-offset:2px}
""".strip()

#: The SVG's font names (the pack's embedded fonts) as fonts a browser has; single quotes, as
#: they sit inside the style="…" attribute.
_SANS = "font-family: 'DejaVu Sans', Verdana, Arial, sans-serif"
_SVG_FONTS = {
    "PackSans-Bold": f"{_SANS}; font-weight: bold",
    "PackSans-Italic": f"{_SANS}; font-style: italic",
    "PackSans": _SANS,
    "PackMono": "font-family: 'DejaVu Sans Mono', Consolas, monospace",
}


#: A cell holding a figure (set right-aligned): a count, share, interval, change or "c".
_FIGURE = re.compile(r"^(c|–|no change|[−+]?[\d,.]+(%| points)?( \(.*\))?(\s.*chance)?|"
                     r"[\d.]+–[\d.]+%)$")


def _slug(words: str) -> str:
    return "section-" + (re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-") or "x")


def _plain(paragraph: Paragraph) -> str:
    return " ".join(paragraph.getPlainText().split())


def inline(paragraph: Paragraph) -> str:
    """A paragraph's text as HTML, from its parsed fragments: bold, italic, line breaks,
    and the smaller grey notes kept; every character of text escaped."""
    style = paragraph.style
    out: list[str] = []
    for frag in getattr(paragraph, "frags", []):
        if getattr(frag, "lineBreak", False):
            out.append("<br>")
            continue
        words = getattr(frag, "text", "")
        if not isinstance(words, str) or not words:
            continue
        piece = html.escape(words, quote=False)
        if getattr(frag, "bold", 0) and frag.fontName != style.fontName:
            piece = f"<strong>{piece}</strong>"
        if getattr(frag, "italic", 0):
            piece = f"<em>{piece}</em>"
        if frag.fontName == MONO and style.fontName != MONO:
            piece = f"<code>{piece}</code>"
        if frag.fontSize < style.fontSize or frag.textColor != style.textColor:
            piece = f'<span class="aside">{piece}</span>'
        out.append(piece)
    return "".join(out)


def _cell(value) -> str:
    if isinstance(value, Paragraph):
        return inline(value)
    if isinstance(value, (list, tuple)):  # a cell of several flowables
        return "<br>".join(_cell(v) for v in value)
    return html.escape(clean(value), quote=False) if value is not None else ""


def spans(table: Table) -> tuple[dict[tuple[int, int], tuple[int, int]], set]:
    """(row, col) → (rowspan, colspan) of each span's first cell; the cells it covers."""
    rows, cols = len(table._cellvalues), len(table._cellvalues[0]) if table._cellvalues else 0
    starts, covered = {}, set()
    for cmd in getattr(table, "_spanCmds", []):
        _, (c0, r0), (c1, r1) = cmd
        c0, c1 = (c % cols for c in (c0, c1))
        r0, r1 = (r % rows for r in (r0, r1))
        starts[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        covered |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - {(r0, c0)}
    return starts, covered


class HtmlPack:
    """Turns the PDF's story into the HTML page's body."""

    def __init__(self, figures: PackFigures):
        self.f = figures
        self.out: list[str] = []
        self.in_section = False  # after the first numbered section heading
        self.last_heading = ""
        self._list: str | None = None  # the open list's kind: "ul", "ol" or "nav"

    def _close_list(self) -> None:
        if self._list in ("ul", "ol"):
            self.out.append(f"</{self._list}>")
        elif self._list == "nav":
            self.out.append("</ul></nav>")
        self._list = None

    def _open_list(self, kind: str) -> None:
        if self._list == kind:
            return
        self._close_list()
        self.out.append(f"<{kind}>" if kind in ("ul", "ol") else
                        '<nav aria-labelledby="section-contents"><ul class="contents">')
        self._list = kind

    def flowables(self, items: Iterable[Flowable]) -> None:
        for item in items:
            if isinstance(item, KeepTogether):
                self.flowables(item._content)
            elif isinstance(item, Paragraph):
                self.paragraph(item)
            elif isinstance(item, Table):
                self._close_list()
                self.table(item)
            elif isinstance(item, Drawing):
                self._close_list()
                self.chart(item)
            elif isinstance(item, Image):
                self._close_list()
                self.image(item)
            # Spacers, page breaks and page templates lay out paper only.

    def paragraph(self, p: Paragraph) -> None:
        kind = p.style.name
        words = _plain(p)
        if kind == "contents":
            self._open_list("nav")
            self.out.append(f'<li><a href="#{_slug(words)}">{html.escape(words)}</a></li>')
            return
        if kind == "bullet":
            mark = getattr(p, "bulletText", None) or ""
            # a numbered list (the recommendations) is an ordered list: its numbers are the
            # list's own, not text (a screen reader says "list of 2 items, 1 …")
            self._open_list("ol" if mark.rstrip(".").isdigit() else "ul")
            self.out.append(f"<li>{inline(p)}</li>")
            return
        self._close_list()
        if kind == "cover_title":
            self.out.append(f"<h1>{inline(p)}</h1>")
        elif kind == "h1":
            self.in_section = True
            self.last_heading = words
            self.out.append(f'<h2 id="{_slug(words)}">{inline(p)}</h2>')
        elif kind == "h2":
            level = 3 if self.in_section else 2
            self.last_heading = words
            self.out.append(f'<h{level} id="{_slug(words)}">{inline(p)}</h{level}>')
        elif kind == "mono":
            self.out.append(f'<p class="mono"><code>{inline(p)}</code></p>')
        elif kind in ("small", "note"):
            self.out.append(f'<p class="note">{inline(p)}</p>')
        elif kind == "cover_authority":
            self.out.append(f'<p class="authority">{inline(p)}</p>')
        elif kind == "cover_sub":
            self.out.append(f'<p class="subtitle">{inline(p)}</p>')
        else:
            self.out.append(f"<p>{inline(p)}</p>")

    def table(self, t: Table) -> None:
        cells = t._cellvalues
        header_rows = t.repeatRows if isinstance(t.repeatRows, int) else len(t.repeatRows)
        caption = getattr(t, "caption", "") or self.last_heading
        starts, covered = spans(t)
        out = ["<table>", f"<caption>{html.escape(clean(caption))}</caption>"]
        if header_rows:
            out.append("<thead>")
        for r, row in enumerate(cells):
            if r == header_rows:
                out.append("<tbody>")
            out.append("<tr>")
            for c, value in enumerate(row):
                if (r, c) in covered:
                    continue
                rowspan, colspan = starts.get((r, c), (1, 1))
                attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") \
                    + (f' colspan="{colspan}"' if colspan > 1 else "")
                if r < header_rows:
                    scope = "colgroup" if colspan > 1 else "col"
                    out.append(f'<th scope="{scope}"{attrs}>{_cell(value)}</th>')
                elif c == 0:
                    out.append(f'<th scope="row"{attrs}>{_cell(value)}</th>')
                else:
                    shown = _cell(value)
                    figure = header_rows and _FIGURE.match(re.sub(r"<[^>]+>", " ",
                                                                  shown).strip())
                    kind = ' class="n"' if figure else ""
                    out.append(f"<td{attrs}{kind}>{shown}</td>")
            out.append("</tr>")
            if r == header_rows - 1:
                out.append("</thead>")
        if len(cells) > header_rows:
            out.append("</tbody>")
        out.append("</table>")
        self.out.append("".join(out))

    def chart(self, d: Drawing) -> None:
        words = html.escape(clean(getattr(d, "alt", "") or f"Chart: {self.last_heading}"))
        svg = renderSVG.drawToString(d)
        svg = svg[svg.index("<svg"):]
        svg = re.sub(r"<title>.*?</title>\s*<desc>.*?</desc>", "", svg, count=1, flags=re.S)
        # The clip to the drawing's own bounds does nothing but repeat ids on the page.
        svg = re.sub(r"<clipPath.*?</clipPath>\s*", "", svg, count=1, flags=re.S)
        svg = svg.replace(' style="clip-path: url(#clip)"', "")
        svg = svg.replace(' id="group"', "")
        svg = re.sub(r"(fill|stroke): None\b", r"\1: none", svg)  # the keyword, as SVG spells it
        for name, css in _SVG_FONTS.items():
            svg = svg.replace(f"font-family: {name}", css)
        svg = re.sub(r"\s*xmlns:xlink=\"[^\"]*\"", "", svg, count=1)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{words}" ', 1)
        svg = svg.replace(">", f'><title>{words}</title>', 1)
        self.out.append(f"<figure>{svg.strip()}</figure>")

    def image(self, img: Image) -> None:
        path = Path(getattr(img, "filename", "") or "")
        kind = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}.get(path.suffix.lower())
        if kind is None or not path.is_file():
            return
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        self.out.append(f'<p><img src="data:image/{kind};base64,{data}" '
                        f'alt="{html.escape(clean(self.f.authority))} logo" '
                        f'width="{img.drawWidth:.0f}" height="{img.drawHeight:.0f}"></p>')


def page(figures: PackFigures, nums: Numbers, *, public: bool, appendix: bool = False) -> str:
    """The whole HTML page, as text."""
    fonts.register()
    story = PackWriter(figures, nums, public=public, appendix=appendix, medium="html").story()
    body = HtmlPack(figures)
    body.flowables(story)
    body._close_list()
    marking = html.escape(clean(figures.marking).upper())
    version = "Public version" if public else "Internal version: not for publication"
    title = html.escape(f"Case-file audit committee pack, {figures.period.label()}")
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{LANG}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f'<meta name="author" content="{html.escape(clean(figures.authority))}">',
        '<meta name="description" content="Quality assurance of children&#x27;s social care">',
        '<meta name="generator" content="Sefton QA">',
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f'<header><p class="marking">{marking}</p>'
        f'<p class="note">{html.escape(version)}</p></header>',
        "<main>",
        *body.out,
        "</main>",
        f'<footer><p class="marking">{marking}</p></footer>',
        "</body>",
        "</html>",
        "",
    ])


def render(figures: PackFigures, path: str | Path, *, public: bool = False,
           appendix: bool = False, progress: Progress | None = None,
           numbers: Numbers | None = None) -> int:
    """Write the HTML page into ``path``; returns 1 (one page), as pdf.render returns its
    page count. ``progress`` may raise to stop the build."""
    nums = numbers_for(figures, public=public, progress=progress, steps=2,
                       numbers=numbers)
    if progress:
        progress(1, 2, "Writing the web page")
    text = page(figures, nums, public=public, appendix=appendix)
    Path(path).write_text(text, encoding="utf-8")
    return 1


__all__ = ["page", "render", "inline"]
