"""Two read-only views of the moderation loop: where inadequate work is stuck (the drift
dashboard) and how often moderators agree with auditors (calibration). Both read on a worker
thread, so a large store never freezes the window."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.domain.models import Role
from sefton_qa.domain.stats import kappa_words
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop_common import (
    OVERDUE,
    Loader,
    Row,
    RowsModel,
    date_edit,
    fmt_date,
    from_qdate,
    plural,
    set_widths,
    table_view,
    to_qdate,
)
from sefton_qa.services import moderation as loop
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session

#: The loop's stages as the dashboard names them: plain words, no jargon.
STAGE_NAMES = {
    "awaiting moderation": "Waiting for moderation",
    "awaiting reflective conversation": "Waiting for a reflective conversation",
    "actions open": "Actions still open",
    "closed": "Closed",
}
COLUMNS = ("awaiting moderation", "awaiting reflective conversation", "actions open",
           "overdue")
COLUMN_TITLES = {"awaiting moderation": "moderation",
                 "awaiting reflective conversation": "a reflective conversation",
                 "actions open": "actions to be done", "overdue": "overdue"}


def year_before(day: dt.date) -> dt.date:
    """The day after the same date a year earlier: the last 12 months end on ``day``."""
    try:
        earlier = day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        earlier = day.replace(year=day.year - 1, day=28)
    return earlier + dt.timedelta(days=1)


def median_text(values: list[int]) -> str:
    if not values:
        return "—"
    m = statistics.median(values)
    return f"{m:.0f}" if m == int(m) else f"{m:.1f}"


def bold(label: QLabel) -> QLabel:
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def fit_width(view: QTableView) -> None:
    """A narrow table is as wide as its columns, not the window."""
    columns = sum(view.columnWidth(c) for c in range(view.model().columnCount()))
    scroll = view.verticalScrollBar()
    extra = scroll.sizeHint().width() if scroll.maximum() > 0 else 0
    view.setMaximumWidth(columns + 2 * view.frameWidth() + extra + 2)


def fit_height(view: QTableView) -> None:
    """A short table shows every row without its own scroll bar."""
    header = view.horizontalHeader()
    rows = view.verticalHeader().length() or view.verticalHeader().defaultSectionSize()
    scroll = view.horizontalScrollBar()
    extra = scroll.sizeHint().height() if scroll.maximum() > 0 else 0
    view.setFixedHeight(max(header.height(), header.sizeHint().height()) + rows
                        + 2 * view.frameWidth() + extra + 2)


class _PeriodPage(QWidget):
    """A page over a period (from, to) that reads its figures on a worker thread."""

    changed = Signal(object)  # never emitted: these pages only read; kept for the window
    SHOWS = ("audits", "moderations", "reflective_conversations", "remedial_actions", "staff",
             "teams", "service_areas", "settings", "grades")

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.result = None
        today = session.today()
        self.from_edit = date_edit("Period from", year_before(today), maximum=today)
        self.from_edit.setObjectName("periodFrom")
        self.to_edit = date_edit("Period to", today)
        self.to_edit.setObjectName("periodTo")
        self.last_year_button = QPushButton("Last &12 months")
        self.last_year_button.setAccessibleName("Show the last 12 months")
        self.last_year_button.clicked.connect(self.show_last_year)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.refresh)
        self.from_edit.dateChanged.connect(lambda _d: self.timer.start())
        self.to_edit.dateChanged.connect(lambda _d: self.timer.start())
        self.loader = Loader(session, self)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.status_label = QLabel()
        self.status_label.setObjectName("dashboardStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Summary")

    def period_row(self, what: str) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel(what))
        row.addWidget(buddy_label("Fro&m:", self.from_edit, accessible="Period from"))
        row.addWidget(self.from_edit)
        row.addWidget(buddy_label("&To:", self.to_edit, accessible="Period to"))
        row.addWidget(self.to_edit)
        row.addWidget(self.last_year_button)
        row.addStretch(1)
        return row

    def period(self) -> tuple[dt.date, dt.date]:
        start, end = from_qdate(self.from_edit.date()), from_qdate(self.to_edit.date())
        return (start, end) if start <= end else (end, start)

    def show_last_year(self) -> None:
        today = self.session.today()
        self.to_edit.setDate(to_qdate(today))
        self.from_edit.setDate(to_qdate(year_before(today)))

    @property
    def ready(self) -> bool:
        """The figures on screen are for the period shown (nothing is still loading)."""
        return not self.timer.isActive() and not self.loader.busy and self.result is not None

    def refresh(self) -> None:
        self.timer.stop()
        self.status_label.setText("Reading the figures…")
        start, end = self.period()
        self.loader.run(self.reader(start, end))

    def reader(self, start: dt.date, end: dt.date) -> Callable[[Session], Any]:
        """What to read, as a function of a session: it runs on the worker thread, so it
        takes every choice from the page now and touches no widget later."""
        raise NotImplementedError

    def _loaded(self, result) -> None:
        self.result = result
        self.show_result(result)

    def _failed(self, exc) -> None:
        self.result = None
        self.status_label.setText(f"The figures could not be read: {exc}")

    def show_result(self, result) -> None:  # pragma: no cover - each page has its own
        raise NotImplementedError


def _scrolled(page: QWidget, content: QWidget, name: str) -> None:
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setAccessibleName(name)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(area)


# == drift and delay ============================================================================
@dataclass
class TeamDrift:
    team: str
    ages: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    closed: int = 0


@dataclass
class DriftSummary:
    start: dt.date
    end: dt.date
    teams: list[TeamDrift]
    total: TeamDrift
    oldest: list[loop.Loop]
    loops: int


def drift_summary(session: Session, start: dt.date, end: dt.date, *,
                  manager_id: int | None = None) -> DriftSummary:
    """By team: how many loops wait at each stage, and for how long (median days since the
    audit was flagged). ``manager_id``: only the teams that service manager looks after."""
    teams = org.teams(session)
    if manager_id is not None:
        teams = [t for t in teams if t.service_manager_id == manager_id]
        names = {t.name for t in teams}
    loops = loop.loops(session, start=start, end=end)
    if manager_id is not None:
        loops = [x for x in loops if x.team in names]
    by_team = {t.name: TeamDrift(t.name) for t in teams if t.active}
    total = TeamDrift("All teams" if manager_id is None else "All your teams")
    for x in loops:
        row = by_team.setdefault(x.team or "No team", TeamDrift(x.team or "No team"))
        for target in (row, total):
            if x.stage == "closed":
                target.closed += 1
                continue
            target.ages[x.stage].append(x.age_days)
            if x.overdue:
                target.ages["overdue"].append(x.age_days)
    open_loops = sorted((x for x in loops if x.stage != "closed"),
                        key=lambda x: (-x.age_days, x.case_reference))
    return DriftSummary(start, end, sorted(by_team.values(), key=lambda t: t.team.lower()),
                        total, open_loops[:10], len(loops))


class DriftPage(_PeriodPage):
    """Where inadequate work is stuck: by team, how many wait at each stage and for how long,
    and the oldest open items."""

    TEAM_HEADERS = ("Team", "Waiting for\nmoderation", "Median days\nwaiting",
                    "Waiting for a\nconversation", "Median days\nwaiting",
                    "Actions still\nopen", "Median days\nopen", f"{OVERDUE}\n(any stage)",
                    "Median days\n(overdue)", "Closed")
    OLDEST_HEADERS = ("Case reference", "Team", "Where it is", "Started", "Age (days)",
                      "Status")

    def __init__(self, session: Session, parent=None):
        super().__init__(session, parent)
        self.setObjectName("driftPage")
        me = session.actor
        self.mine = QCheckBox("Only &my teams")
        self.mine.setObjectName("onlyMyTeams")
        self.mine.setAccessibleName("Only the teams I manage")
        self.mine.setVisible(me.has_role(Role.SERVICE_MANAGER))
        self.mine.setChecked(me.has_role(Role.SERVICE_MANAGER))
        self.mine.toggled.connect(lambda _on: self.refresh())

        self.team_model = RowsModel(self.TEAM_HEADERS, self,
                                    numeric_columns=range(1, len(self.TEAM_HEADERS)))
        self.team_table = table_view(self.team_model, "Where inadequate work is waiting, by team",
                                     "driftByTeam")
        self.team_table.horizontalHeader().setStretchLastSection(False)
        set_widths(self.team_table, (210, 95, 95, 105, 95, 95, 95, 95, 105, 70))
        self.oldest_model = RowsModel(self.OLDEST_HEADERS, self, status_column=5,
                                      numeric_columns=(4,))
        self.oldest_table = table_view(self.oldest_model, "The oldest open items",
                                       "driftOldest")
        set_widths(self.oldest_table, (120, 210, 260, 95, 90, 100))

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(heading("Drift dashboard: where inadequate work is waiting", 1.25))
        layout.addWidget(paragraph(
            "Every audit graded inadequate should move on quickly: it is moderated, then the "
            "service manager holds a reflective conversation, then the actions agreed are done. "
            "Here are the audits dated in the period that are still waiting, by team, and how "
            "long they have waited (days since the audit was flagged). Overdue means past the "
            "date the current step was due.", "About the drift dashboard"))
        layout.addLayout(self.period_row("Audits dated"))
        mine_row = QHBoxLayout()
        mine_row.addWidget(self.mine)
        mine_row.addStretch(1)
        layout.addLayout(mine_row)
        layout.addWidget(self.status_label)
        layout.addWidget(bold(buddy_label("&By team", self.team_table,
                                          accessible="Where inadequate work is waiting, by "
                                                     "team")))
        layout.addWidget(self.team_table)
        layout.addWidget(bold(buddy_label("The &oldest open items (up to 10)", self.oldest_table,
                                          accessible="The oldest open items")))
        layout.addWidget(self.oldest_table)
        layout.addStretch(1)
        _scrolled(self, content, "Drift dashboard")
        self.setFocusProxy(self.from_edit)
        self.refresh()

    def reader(self, start: dt.date, end: dt.date):
        manager = self.session.actor.id if self.mine.isChecked() else None
        return lambda session: drift_summary(session, start, end, manager_id=manager)

    def show_result(self, s: DriftSummary) -> None:
        def cells(t: TeamDrift) -> tuple:
            out: list = [t.team]
            for column in COLUMNS:
                out += [len(t.ages[column]), median_text(t.ages[column])]
            return (*out, t.closed)

        rows = [Row(cells(t), key=t.team) for t in s.teams]
        rows.append(Row(cells(s.total), key="", bold=True))
        self.team_model.set_rows(rows)
        fit_height(self.team_table)
        fit_width(self.team_table)
        today = self.session.today()
        oldest = []
        for x in s.oldest:
            status = OVERDUE if x.overdue else "On time"
            oldest.append(Row((x.case_reference, x.team, STAGE_NAMES.get(x.stage, x.stage),
                               fmt_date(x.started), x.age_days, status), key=x.audit_id,
                              overdue=x.overdue))
        self.oldest_model.set_rows(oldest)
        fit_height(self.oldest_table)
        t = s.total
        waiting = sum(len(t.ages[c]) for c in COLUMNS[:3])
        overdue = len(t.ages["overdue"])
        where = "your teams" if self.mine.isChecked() else "all teams"

        def verb(n: int) -> str:
            return "is" if n == 1 else "are"

        if not s.loops:
            text = (f"No audits graded inadequate were dated {fmt_date(s.start)} to "
                    f"{fmt_date(s.end)} in {where}.")
        else:
            text = (f"Of {plural(s.loops, 'inadequate audit')} dated {fmt_date(s.start)} to "
                    f"{fmt_date(s.end)} in {where}, {waiting:,} {verb(waiting)} still waiting "
                    f"({len(t.ages[COLUMNS[0]]):,} for moderation, "
                    f"{len(t.ages[COLUMNS[1]]):,} for a reflective conversation, "
                    f"{len(t.ages[COLUMNS[2]]):,} with actions open), {overdue:,} "
                    f"{verb(overdue)} overdue and {t.closed:,} {verb(t.closed)} closed.")
        self.status_label.setText(text + f" Figures as of {fmt_date(today)}.")


# == calibration ================================================================================
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
        _scrolled(self, content, "Calibration")
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
