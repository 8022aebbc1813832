"""The public pack's tables as CSV files, for publishing as open data (issue 16, item 6).

Each table is read from the very story the PDF and the web page are drawn from, so each cell
is the text the pack prints: every count through :class:`Numbers`, "c" wherever the public
pack has it. A table whose header runs over two rows gets one header row, the upper label
before the lower ("This period Audits"). A first file says what the tables are, the
suppression rule and the trail anchor, as the pack's last page does.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Iterable, Iterator

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table

from sefton_qa.reports import fonts
from sefton_qa.reports.figures import PackFigures
from sefton_qa.reports.html import spans
from sefton_qa.reports.numbers import Numbers
from sefton_qa.reports.pdf import PackWriter, clean

#: Tables of words, not figures: the cover's facts (in the "about" file instead) and the
#: glossary.
NOT_DATA = {"About this pack", "Terms used in this pack"}
ABOUT = "00-about-these-tables.csv"


def _text(value) -> str:
    if isinstance(value, Paragraph):  # a line break is a space ("+4.3 points could be …")
        words = "".join(" " if getattr(f, "lineBreak", False) else getattr(f, "text", "")
                        for f in value.frags)
        return " ".join(words.split())
    if isinstance(value, (list, tuple)):
        return " ".join(_text(v) for v in value)
    return " ".join(clean(value).split()) if value is not None else ""


def _tables(items: Iterable[Flowable]) -> Iterator[Table]:
    for item in items:
        if isinstance(item, KeepTogether):
            yield from _tables(item._content)
        elif isinstance(item, Table):
            yield item


def grid(table: Table) -> list[list[str]]:
    """The table as rows of text: one header row (a spanning label repeated over the
    columns it spans, the labels of one column joined), then the body."""
    cells = table._cellvalues
    header_rows = table.repeatRows if isinstance(table.repeatRows, int) else 0
    starts, _covered = spans(table)
    width = len(cells[0]) if cells else 0
    text = [[_text(v) for v in row] for row in cells]
    for (r, c), (rowspan, colspan) in starts.items():  # spread each span's label
        for rr in range(r, r + rowspan):
            for cc in range(c, c + colspan):
                if (rr, cc) != (r, c) and rr < header_rows:
                    text[rr][cc] = text[r][c]
    if not header_rows:  # a table of measures, one to a row
        return [["Measure"] + ["Value"] * (width - 1)] + text
    head = []
    for c in range(width):
        labels: list[str] = []
        for r in range(header_rows):
            if text[r][c] and text[r][c] not in labels:
                labels.append(text[r][c])
        head.append(" ".join(labels))
    return [head] + text[header_rows:]


def _slug(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:60] or "table"


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def tables(figures: PackFigures, nums: Numbers | None = None) -> list[tuple[str, str, int]]:
    """The public pack's tables as CSV: (file name, CSV text, rows of data), the "about"
    file first."""
    fonts.register()
    nums = nums or Numbers.build(figures, public=True)
    story = PackWriter(figures, nums, public=True, appendix=False, medium="html").story()
    files: list[tuple[str, str, int]] = []
    names: list[str] = []
    for table in _tables(story):
        caption = getattr(table, "caption", "")
        if not caption or caption in NOT_DATA:
            continue
        rows = grid(table)
        name = f"{len(files) + 1:02d}-{_slug(caption)}.csv"
        names.append(f"{name}: {caption}")
        files.append((name, _csv(rows), len(rows) - 1))
    about = [
        ["Item", "Value"],
        ["Authority", clean(figures.authority)],
        ["Title", f"Case-file audit committee pack, {figures.period.label()}: tables"],
        ["Period", f"{figures.period.start.isoformat()} to {figures.period.end.isoformat()}"],
        ["Compared with",
         f"{figures.previous.start.isoformat()} to {figures.previous.end.isoformat()}"],
        ["Produced", figures.produced.isoformat(timespec="minutes")],
        ["c", "Not published: a count from 1 to 4, or a figure that would let such a count "
              "be worked out from the totals."],
        ["Trail anchor (sefton-qa verify --anchor)", f"{figures.trail_seq}:{figures.trail_hash}"],
        *[["Table", n] for n in names],
    ]
    return [(ABOUT, _csv(about), len(about) - 1)] + files
