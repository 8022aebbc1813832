"""The drift dashboard: where inadequate work is stuck. By team, how many loops wait at each
stage and for how long, and the oldest open items."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from sefton_qa.domain.models import Role
from sefton_qa.gui.labels import buddy_label, heading, paragraph
from sefton_qa.gui.loop.common import (
    OVERDUE,
    Row,
    RowsModel,
    fmt_date,
    plural,
    set_widths,
    table_view,
)
from sefton_qa.gui.loop.period import _PeriodPage, bold, fit_height, fit_width, scrolled
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


def median_text(values: list[int]) -> str:
    if not values:
        return "—"
    m = statistics.median(values)
    return f"{m:.0f}" if m == int(m) else f"{m:.1f}"


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
        scrolled(self, content, "Drift dashboard")
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
