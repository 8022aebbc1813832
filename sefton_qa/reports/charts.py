"""Charts for the pack, drawn with reportlab.graphics so they flow like paragraphs.

Colours are from the Okabe–Ito palette, which readers with colour-vision deficiency can tell
apart, each at least 3:1 against the white page (WCAG 2.1, 1.4.11) and every figure written on
them at least 4.5:1 (1.4.3); inadequate is hatched as well (so it stays distinct printed in
grey), and every line has its own dash and marker. All text is 9 pt or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.pdfbase.pdfmetrics import stringWidth

from sefton_qa.domain.grades import Grade
from sefton_qa.reports.fonts import SANS, SANS_BOLD

# Okabe–Ito, with each colour's contrast against white (WCAG relative luminance).
BLUE = colors.HexColor("#0072B2")  # 5.2:1
VERMILLION = colors.HexColor("#D55E00")  # 3.9:1
BLUISH_GREEN = colors.HexColor("#009E73")  # 3.4:1
REDDISH_PURPLE = colors.HexColor("#CC79A7")  # 3.1:1
INK = colors.HexColor("#1A1A1A")
BLACK = colors.HexColor("#000000")
GREY = colors.HexColor("#6B6B6B")
LIGHT_GREY = colors.HexColor("#D9D9D9")  # grid lines only: they carry no information
#: Every chart's text, points (issue 16: nothing under 9 pt).
TEXT_PT = 9

GRADE_COLOURS = {
    Grade.OUTSTANDING: BLUISH_GREEN,
    Grade.GOOD: BLUE,
    Grade.REQUIRES_IMPROVEMENT: REDDISH_PURPLE,
    Grade.INADEQUATE: VERMILLION,
}
#: Text drawn on a grade's colour (each at least 4.5:1 against it).
ON_COLOUR = {Grade.OUTSTANDING: INK, Grade.GOOD: colors.white,
             Grade.REQUIRES_IMPROVEMENT: INK, Grade.INADEQUATE: BLACK}
#: Colours that carry information on the white page: the grade fills and the trend's lines.
GRAPHIC_COLOURS = (*GRADE_COLOURS.values(), BLUE, VERMILLION, GREY)
#: Colours text is drawn in on the white page.
TEXT_COLOURS = (INK, GREY)
HATCHED = {Grade.INADEQUATE: 5.0}  # grade → spacing of its diagonal hatching, points


def _drawing(width: float, height: float) -> Drawing:
    """A Drawing whose default font is the pack's (never Helvetica)."""
    d = Drawing(width, height)
    d.initialFontName = SANS
    d.initialFontSize = 8
    return d


def _hatch(x: float, y: float, w: float, h: float, spacing: float,
           colour=colors.Color(1, 1, 1, alpha=0.45)) -> Group:
    """Diagonal lines (/) across the rectangle, clipped to it."""
    g = Group()
    if w <= 0 or h <= 0:
        return g
    # Lines y' - x' = c for c from -w to h, in the rectangle's own coordinates.
    c = -w + (spacing - (w % spacing)) / 2
    while c < h:
        x0, y0 = max(0.0, -c), max(0.0, c)
        x1, y1 = min(w, h - c), min(h, w + c)
        if x1 > x0:
            g.add(Line(x + x0, y + y0, x + x1, y + y1, strokeColor=colour, strokeWidth=0.8))
        c += spacing
    return g


class _HatchedBars(HorizontalBarChart):
    """A horizontal bar chart that can hatch whole series, from its own bar positions."""

    _attrMap = AttrMap(BASE=HorizontalBarChart,
                       hatch=AttrMapValue(None, desc="series index → hatch spacing"))

    def __init__(self):
        super().__init__()
        self.hatch = {}

    def makeBars(self):
        g, labels = Group(), Group()
        self._makeBars(g, labels)
        for series, spacing in self.hatch.items():
            for x, y, w, h in self._barPositions[series]:
                if w and h:
                    # Horizontal bars: (x, y) is the bar's start, w its length, h its thickness.
                    x0, w0 = (x, w) if w > 0 else (x + w, -w)
                    g.add(_hatch(x0, y, w0, h, spacing))
        g.add(labels)  # the counts go over the hatching
        return g


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above ``value``, and a whole-number step to it (3 to 6
    steps)."""
    if value <= 5:
        return 5, 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude
    for m in (1, 2, 2.5, 5, 10):
        step = m * magnitude
        if step >= raw and step == int(step):
            break
    return math.ceil(value / step) * step, step


def legend(items: Sequence[tuple[str, object, float | None]], width: float,
           font_size: float = TEXT_PT) -> Drawing:
    """A one-line legend: (label, colour, hatch spacing or None)."""
    d = _drawing(width, font_size + 8)
    x = 0.0
    for label, colour, spacing in items:
        d.add(Rect(x, 2, 11, 9, fillColor=colour, strokeColor=INK, strokeWidth=0.4))
        if spacing:
            d.add(_hatch(x, 2, 11, 9, spacing / 2))
        d.add(String(x + 15, 3.5, label, fontName=SANS, fontSize=font_size, fillColor=INK))
        x += 15 + stringWidth(label, SANS, font_size) + 14
    return d


def stacked_grade_bars(rows: Sequence[tuple[str, dict[Grade, int]]],
                       grades: Sequence[Grade], width: float, *,
                       label_width: float = 150, bar_height: float = 13) -> Drawing:
    """Horizontal bars, one per row, each split by grade (worst first, from the left), with
    the count written in any segment wide enough for it."""
    order = sorted(grades, key=lambda g: g.rank)  # inadequate first
    n = len(rows)
    top_pad, bottom_pad = 6, 26
    height = n * (bar_height + 6) + top_pad + bottom_pad
    d = _drawing(width, height)
    chart = _HatchedBars()
    chart.x = label_width
    chart.y = bottom_pad
    chart.width = width - label_width - 12
    chart.height = height - top_pad - bottom_pad
    chart.data = [[row[1].get(g, 0) for row in reversed(rows)] for g in order]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = [_fit(row[0], label_width - 8, TEXT_PT)
                                        for row in reversed(rows)]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = TEXT_PT
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.strokeColor = GREY
    chart.categoryAxis.tickLeft = 0
    top, step = _nice_max(max((sum(r[1].get(g, 0) for g in order) for r in rows), default=0))
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = TEXT_PT
    chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    chart.valueAxis.strokeColor = GREY
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = LIGHT_GREY
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.barWidth = bar_height
    chart.groupSpacing = 6
    chart.bars.strokeColor = colors.white
    chart.bars.strokeWidth = 0.6
    scale = chart.width / top
    for i, g in enumerate(order):
        chart.bars[i].fillColor = GRADE_COLOURS[g]
        chart.barLabels[i].fillColor = ON_COLOUR[g]
        if g in HATCHED:
            chart.hatch[i] = HATCHED[g]
    chart.barLabels.fontName = SANS_BOLD
    chart.barLabels.fontSize = TEXT_PT
    chart.barLabels.boxTarget = "mid"
    chart.barLabels.boxAnchor = "c"
    chart.barLabels.boxFillColor = None
    chart.barLabels.boxStrokeColor = None

    def label(value) -> str:
        text = f"{value:,.0f}"
        fits = value * scale >= stringWidth(text, SANS_BOLD, TEXT_PT) + 5
        return text if value and fits else ""

    chart.barLabelFormat = label
    d.add(chart)
    d.add(String(chart.x + chart.width / 2, 2, "Number of audits", fontName=SANS,
                 fontSize=TEXT_PT,
                 fillColor=GREY, textAnchor="middle"))
    return d


def _fit(text: str, width: float, size: float) -> str:
    """``text``, shortened with an ellipsis to fit ``width`` points."""
    if stringWidth(text, SANS, size) <= width:
        return text
    while text and stringWidth(text + "…", SANS, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass
class PChart:
    """A share over periods (percent, None where not shown), with its control limits."""

    labels: list[str]
    values: list[float | None]
    centre: float | None  # percent; None: no control limits
    upper: list[float | None]
    lower: list[float | None]
    colour: object
    marker: str
    name: str  # "good or better"


def p_chart(spec: PChart, width: float, height: float = 175) -> Drawing:
    n = len(spec.labels)
    d = _drawing(width, height)
    lp = LinePlot()
    lp.x, lp.y = 38, 38
    lp.width, lp.height = width - lp.x - 10, height - lp.y - 10
    series, styles = [], []

    def add(points, colour, *, dash=None, marker=None, width=1.6):
        if len(points) > 0:
            series.append(points)
            styles.append((colour, dash, marker, width))

    if spec.centre is not None:
        for bound in (spec.upper, spec.lower):
            steps = []
            for i, v in enumerate(bound):
                if v is None:
                    add(steps, GREY, dash=[4, 2], width=0.8)
                    steps = []
                    continue
                steps += [(i - 0.5, v), (i + 0.5, v)]
            add(steps, GREY, dash=[4, 2], width=0.8)
        add([(-0.5, spec.centre), (n - 0.5, spec.centre)], GREY, dash=[1, 2], width=1.0)
    run: list[tuple[float, float]] = []
    for i, v in enumerate(spec.values):
        if v is None:
            add(run, spec.colour, marker=spec.marker)
            run = []
        else:
            run.append((i, v))
    add(run, spec.colour, marker=spec.marker)
    outside = [(i, v) for i, v in enumerate(spec.values) if v is not None and spec.centre is not None
               and ((spec.upper[i] is not None and v > spec.upper[i])
                    or (spec.lower[i] is not None and v < spec.lower[i]))]
    if not series:
        series.append([(0, 0)])
        styles.append((colors.white, None, None, 0))
    lp.data = series
    for i, (colour, dash, marker, w) in enumerate(styles):
        lp.lines[i].strokeColor = colour
        lp.lines[i].strokeWidth = w
        if dash:
            lp.lines[i].strokeDashArray = dash
        if marker:
            m = makeMarker(marker)
            m.size = 5
            m.fillColor = colour
            m.strokeColor = colour
            lp.lines[i].symbol = m
    lp.xValueAxis.valueMin = -0.5
    lp.xValueAxis.valueMax = n - 0.5
    lp.xValueAxis.valueSteps = list(range(n))
    lp.xValueAxis.labelTextFormat = lambda v: spec.labels[int(round(v))] if 0 <= round(v) < n \
        else ""
    lp.xValueAxis.labels.fontName = SANS
    lp.xValueAxis.labels.fontSize = TEXT_PT
    lp.xValueAxis.labels.leading = TEXT_PT + 1.5
    lp.xValueAxis.strokeColor = GREY
    lp.yValueAxis.valueMin = 0
    lp.yValueAxis.valueMax = 100
    lp.yValueAxis.valueStep = 20
    lp.yValueAxis.labelTextFormat = "%d%%"
    lp.yValueAxis.labels.fontName = SANS
    lp.yValueAxis.labels.fontSize = TEXT_PT
    lp.yValueAxis.strokeColor = GREY
    lp.yValueAxis.visibleGrid = 1
    lp.yValueAxis.gridStrokeColor = LIGHT_GREY
    lp.yValueAxis.gridStrokeWidth = 0.5
    d.add(lp)

    def at(i: float, v: float) -> tuple[float, float]:
        return (lp.x + (i + 0.5) / n * lp.width, lp.y + v / 100 * lp.height)

    for i, v in outside:  # ring the points beyond the limits
        x, y = at(i, v)
        ring = makeMarker("Circle")
        ring.x, ring.y, ring.size = x, y, 11
        ring.strokeColor, ring.strokeWidth, ring.fillColor = INK, 1.1, None
        d.add(ring)
    for i, v in enumerate(spec.values):
        if v is None:
            continue
        x, y = at(i, v)
        near = [spec.values[j] for j in (i - 1, i + 1)
                if 0 <= j < n and spec.values[j] is not None]
        # Above the point, unless the line rises on both sides of it (or it is near the top).
        below = v >= 88 or (v > 12 and near and all(w > v for w in near))
        label = f"{v:.0f}%"
        w = stringWidth(label, SANS_BOLD, TEXT_PT)
        ty = y - 15 if below else y + 6
        d.add(Rect(x - w / 2 - 1.5, ty - 2, w + 3, TEXT_PT + 1.5, fillColor=colors.white,
                   strokeColor=None))  # keeps the figure legible over the limit lines
        d.add(String(x, ty, label, fontName=SANS_BOLD, fontSize=TEXT_PT, fillColor=INK,
                     textAnchor="middle"))
    return d


def p_chart_legend(spec: PChart, width: float) -> Drawing:
    d = _drawing(width, 14)
    x = 0.0

    def item(draw, label):
        nonlocal x
        draw(x)
        d.add(String(x + 24, 3.5, label, fontName=SANS, fontSize=TEXT_PT, fillColor=INK))
        x += 24 + stringWidth(label, SANS, TEXT_PT) + 14

    def share(x0):
        d.add(Line(x0, 6, x0 + 20, 6, strokeColor=spec.colour, strokeWidth=1.6))
        m = makeMarker(spec.marker)
        m.x, m.y, m.size, m.fillColor, m.strokeColor = x0 + 10, 6, 5, spec.colour, spec.colour
        d.add(m)

    item(share, f"share {spec.name}")
    if spec.centre is not None:
        item(lambda x0: d.add(Line(x0, 6, x0 + 20, 6, strokeColor=GREY, strokeWidth=1,
                                   strokeDashArray=[1, 2])), "average over the periods")
        item(lambda x0: d.add(Line(x0, 6, x0 + 20, 6, strokeColor=GREY, strokeWidth=0.8,
                                   strokeDashArray=[4, 2])), "control limits")

        def ring(x0):
            m = makeMarker("Circle")
            m.x, m.y, m.size, m.strokeColor, m.strokeWidth, m.fillColor = (
                x0 + 10, 6, 10, INK, 1.1, None)
            d.add(m)

        item(ring, "outside the limits")
    return d


__all__ = ["GRADE_COLOURS", "HATCHED", "PChart", "p_chart", "p_chart_legend",
           "stacked_grade_bars", "legend"]
