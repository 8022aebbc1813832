"""Calibration: how often moderators agree with auditors. The auditor's grade against the
moderated grade, the share confirmed, upgraded and downgraded, and weighted kappa overall
and by auditor."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.domain.stats import kappa_words
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import Row, RowsModel, fmt_date, plural, set_widths, table_view
from sefton_qa.gui.loop.period import _PeriodPage, bold, fit_height, fit_width, scrolled
from sefton_qa.services import moderation as loop
from sefton_qa.services.session import Session


KAPPA_EXPLAINED = (
    "Cohen's kappa measures how often moderators agree with auditors, beyond "
    "the agreement that would happen by chance. 1 means they always agree; 0 means they agree "
    "no more than chance would; below 0 means less than chance. It is weighted: a change of "
    "one grade (good to requires improvement) counts as a smaller disagreement than a change "
    "of two (good to inadequate). As a rough guide, above 0.6 is substantial agreement and "
    "above 0.8 almost perfect. With only a few moderations the figure can swing a lot, so "
    "read it beside the counts. More grades lowered than raised suggests auditors grade too "
    "optimistically.")


def strength(kappa: float) -> str:
    return kappa_words(kappa)


def kappa_text(kappa: float | None) -> str:
    return "Too few to say" if kappa is None else f"{kappa:.2f} ({strength(kappa)})"


def share(n: int, total: int) -> str:
    return f"{n:,} ({100 * n / total:.0f}%)" if total else f"{n:,}"


class CalibrationPage(_PeriodPage):
    """The auditor's grade against the moderated grade, the share confirmed, upgraded and
    downgraded, and weighted kappa overall and by auditor."""

    BY_AUDITOR_HEADERS = ("Auditor", "Moderated", "Confirmed", "Upgraded (raised)",
                          "Downgraded (lowered)", "Weighted kappa")

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        self.setObjectName("calibrationPage")
        self.plain_label = QLabel()
        self.plain_label.setObjectName("calibrationPlainWords")
        self.plain_label.setWordWrap(True)
        self.plain_label.setTextFormat(Qt.TextFormat.PlainText)
        self.plain_label.setAccessibleName("In plain words")
        self.plain_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.plain_label.setMargin(8)
        font = self.plain_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.plain_label.setFont(font)
        self.kappa_label = QLabel()
        self.kappa_label.setObjectName("calibrationKappa")
        self.kappa_label.setTextFormat(Qt.TextFormat.PlainText)
        self.kappa_label.setWordWrap(True)
        self.kappa_label.setAccessibleName("Weighted kappa, all moderations")
        self.shares_label = QLabel()
        self.shares_label.setObjectName("calibrationShares")
        self.shares_label.setTextFormat(Qt.TextFormat.PlainText)
        self.shares_label.setWordWrap(True)
        self.shares_label.setAccessibleName("Confirmed, upgraded and downgraded")

        self.grade_model = RowsModel(["Auditor's grade"], self)
        self.grade_table = table_view(self.grade_model,
                                      "Auditor's grade (rows) against moderated grade (columns)",
                                      "calibrationTable")
        self.grade_table.horizontalHeader().setStretchLastSection(False)
        self.auditor_model = RowsModel(self.BY_AUDITOR_HEADERS, self, numeric_columns=(1, 2, 3, 4))
        self.auditor_table = table_view(self.auditor_model, "Agreement by auditor",
                                        "calibrationByAuditor")
        set_widths(self.auditor_table, (220, 95, 95, 140, 160, 170))

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(heading("Calibration: how often moderators change auditors' grades",
                                 1.25))
        layout.addLayout(self.period_row("Moderated"))
        layout.addWidget(self.status_label)
        layout.addWidget(self.plain_label)
        layout.addWidget(self.shares_label)
        layout.addWidget(self.kappa_label)
        layout.addWidget(bold(QLabel("What kappa means")))
        layout.addWidget(paragraph(KAPPA_EXPLAINED, "What kappa means"))
        layout.addSpacing(6)
        layout.addWidget(bold(buddy_label(
            "&Grades before and after moderation", self.grade_table,
            accessible="Auditor's grade (rows) against moderated grade (columns)")))
        layout.addWidget(paragraph("Each row is the auditor's grade, each column the grade "
                                   "after moderation. The diagonal is where the moderator "
                                   "agreed; to its right grades were lowered, to its left raised."))
        layout.addWidget(self.grade_table)
        layout.addSpacing(6)
        layout.addWidget(bold(buddy_label("Agreement by &auditor", self.auditor_table,
                                          accessible="Agreement by auditor")))
        layout.addWidget(self.auditor_table)
        layout.addStretch(1)
        scrolled(self, content, "Calibration")
        self.setFocusProxy(self.from_edit)
        self.refresh()

    def reader(self, start: dt.date, end: dt.date):
        return lambda session: loop.calibration(session, start=start, end=end)

    def show_result(self, c: loop.Calibration) -> None:
        start, end = self.period()
        self.status_label.setText(f"Moderations completed {fmt_date(start)} to "
                                  f"{fmt_date(end)}.")
        self.plain_label.setText(c.plain_words())
        total = c.moderated
        self.shares_label.setText(
            f"Of {plural(total, 'moderation')}: confirmed {share(c.confirmed, total)}, "
            f"upgraded (grade raised) {share(c.upgraded, total)}, downgraded (grade lowered) "
            f"{share(c.downgraded, total)}."
            + (f" Median time to moderate: {c.median_working_days:g} working days."
               if c.median_working_days is not None else ""))
        self.kappa_label.setText(f"Weighted kappa, all moderations: {kappa_text(c.kappa)}.")
        # The grade table: every grade that is used, best first.
        used = {g for g in c.table} | {g for row in c.table.values() for g in row}
        grades = [g for g in ALL_GRADES if g.value in used or g is not Grade.OUTSTANDING]
        headers = ["Auditor's grade"] + [f"Moderated\n{g.short_label.lower()}" for g in grades] \
            + ["Total"]
        self.grade_model.headers = headers
        rows = []
        for g in grades:
            counts = c.table.get(g.value, {})
            cells = [counts.get(m.value, 0) for m in grades]
            rows.append(Row((g.short_label, *cells, sum(cells)), key=g.value))
        column_totals = [sum(r.values[i + 1] for r in rows) for i in range(len(grades))]
        rows.append(Row(("Total", *column_totals, sum(column_totals)), key="total", bold=True))
        self.grade_model.numeric_columns = set(range(1, len(headers)))
        self.grade_model.set_rows(rows)
        self.grade_table.resizeColumnsToContents()
        fit_height(self.grade_table)
        fit_width(self.grade_table)
        self.auditor_model.set_rows([
            Row((name, d["moderated"], d["confirmed"], d["upgraded"], d["downgraded"],
                 kappa_text(d["kappa"])), key=name,
                tooltip="Kappa needs at least two moderations" if d["kappa"] is None else "")
            for name, d in c.by_auditor.items()])
        fit_height(self.auditor_table)
