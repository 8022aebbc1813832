"""Issue 17, finding 5 (accessibility measured): every grade colour the register draws text in
has at least WCAG AA's 4.5:1 contrast against every background it is drawn on: the palette's
base and alternate rows (light), and dark bases for the dark set. "Requires improvement" was
4.24:1 on white and 3.96:1 on grey rows."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

from sefton_qa.gui.register_model import GRADE_COLOURS, GRADE_COLOURS_ON_DARK


def luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_grade_text_is_readable_on_every_row_background(qapp):
    palette = QGuiApplication.palette()
    light = {"white": QColor("#ffffff"),
             "base": palette.color(QPalette.ColorRole.Base),
             "alternate rows": palette.color(QPalette.ColorRole.AlternateBase)}
    dark = {"black": QColor("#000000"), "dark base": QColor("#1e1e1e"),
            "dark alternate rows": QColor("#2d2d2d"), "dark grey rows": QColor("#3a3a3a")}
    low = [(grade.value, name, round(contrast(colour, background), 2))
           for grade, colour in GRADE_COLOURS.items() for name, background in light.items()
           if contrast(colour, background) < 4.5]
    low += [(grade.value, name, round(contrast(colour, background), 2))
            for grade, colour in GRADE_COLOURS_ON_DARK.items()
            for name, background in dark.items() if contrast(colour, background) < 4.5]
    assert low == []


def test_overdue_problem_and_banner_text_and_the_grade_marks_are_readable(qapp):
    """Text ≥ 4.5:1, other marks (the grade's square in the register) ≥ 3:1, on every
    background each is drawn on, light and dark."""
    from sefton_qa.gui.loop.common import OVERDUE_BACKGROUND, OVERDUE_FOREGROUND

    palette = QGuiApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    alternate = palette.color(QPalette.ColorRole.AlternateBase)
    window = palette.color(QPalette.ColorRole.Window)
    text = {
        "overdue text on an overdue row": (OVERDUE_FOREGROUND, OVERDUE_BACKGROUND),
        "overdue text on a plain row": (OVERDUE_FOREGROUND, base),
        "a problem under a field": (QColor("#8e0000"), window),
        "the store check banner": (QColor("#410e0b"), QColor("#fdecea")),
        "the kept drafts banner": (palette.color(QPalette.ColorRole.WindowText),
                                   QColor("#fff4d6")),
    }
    low = [(name, round(contrast(fg, bg), 2)) for name, (fg, bg) in text.items()
           if contrast(fg, bg) < 4.5]
    marks = [(grade.value, name, round(contrast(colour, bg), 2))
             for grade, colour in GRADE_COLOURS.items()
             for name, bg in (("base", base), ("alternate rows", alternate))
             if contrast(colour, bg) < 3.0]
    marks += [(grade.value, "dark base", round(contrast(colour, QColor("#1e1e1e")), 2))
              for grade, colour in GRADE_COLOURS_ON_DARK.items()
              if contrast(colour, QColor("#1e1e1e")) < 3.0]
    assert low == [] and marks == []
