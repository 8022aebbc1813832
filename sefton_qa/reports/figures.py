"""What a committee pack says, as plain data: gathered by :mod:`sefton_qa.services.reports`,
drawn by :mod:`sefton_qa.reports.pdf`. No SQL, no Qt, no reportlab here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sefton_qa.domain.grades import Grade
from sefton_qa.reports.cover import EXEMPT_INFORMATION, CoverReport
from sefton_qa.domain.periods import month_names
from sefton_qa.domain.significance import OUTSIDE_MIN_POINTS
from sefton_qa.domain.stats import percent, wilson_interval

#: Fewer periods with audits than this, and the trend has no control limits.
CONTROL_LIMIT_MIN_PERIODS = OUTSIDE_MIN_POINTS  # the run rules need as many (6)
#: Fewer moderations than this, and agreement (kappa) is not reported as a figure.
KAPPA_MIN_MODERATED = 10


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        """"1 July to 30 September 2026"; "1 December 2025 to 28 February 2026"."""
        s, e = self.start, self.end
        if s.year == e.year:
            left = f"{s.day} {s:%B}" if s.month != e.month or s.day != e.day else ""
            if not left:
                return f"{e.day} {e:%B %Y}"
            return f"{left} to {e.day} {e:%B %Y}"
        return f"{s.day} {s:%B %Y} to {e.day} {e:%B %Y}"

    def short_label(self) -> str:
        """For chart axes and headers: "Feb–Apr 2024" for whole months, else the days:
        "28 Mar–27 Jun 2025"."""
        return month_names(self.start, self.end)


@dataclass
class GradeCounts:
    """One period's audits by grade (the grades the pack shows)."""

    period: Period
    counts: dict[Grade, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, grade: Grade) -> int:
        return self.counts.get(grade, 0)

    def good_or_better(self) -> int:
        return self.count(Grade.GOOD) + self.count(Grade.OUTSTANDING)

    def percent(self, n: int) -> float:
        return percent(n, self.total)

    def interval(self, n: int) -> tuple[float, float]:
        """The 95% Wilson interval, in percent."""
        low, high = wilson_interval(n, self.total)
        return 100 * low, 100 * high


@dataclass
class Moderation:
    moderated: int  # moderations completed in the period
    confirmed: int
    upgraded: int
    downgraded: int
    kappa: float | None
    median_working_days: float | None
    plain_words: str  # from the calibration view, for the internal pack
    target_days: int  # the moderation timescale, in working days
    flagged_inadequate: int  # the period's audits flagged because graded inadequate
    flagged_calibration: int  # ... chosen for the calibration sample
    pending: int  # moderations of the period's audits still waiting
    pending_overdue: int


@dataclass
class Loop:
    conversations_held: int
    conversations_due: int
    conversations_overdue: int
    actions_on_time: int
    actions_late: int
    actions_open: int
    actions_overdue: int
    actions_not_needed: int
    reaudits_improved: int
    reaudits_same: int
    reaudits_worse: int
    reaudits_asked: int  # re-audits a remedial action asked for
    reaudits_from_inadequate: int  # re-audits of cases whose earlier grade was inadequate
    reaudits_from_inadequate_improved: int

    @property
    def conversations(self) -> int:
        return self.conversations_held + self.conversations_due + self.conversations_overdue

    @property
    def actions(self) -> int:
        return (self.actions_on_time + self.actions_late + self.actions_open
                + self.actions_overdue + self.actions_not_needed)

    @property
    def reaudits(self) -> int:
        return self.reaudits_improved + self.reaudits_same + self.reaudits_worse


ROLES = (("auditors", "Auditors (QA officers)"),
         ("moderators", "Moderators"),
         ("service_managers", "Service managers (reflective conversations)"),
         ("practitioners", "Practitioners (team managers named on audits)"))


@dataclass(frozen=True)
class SampleFigures:
    """The period's random sample: how it was drawn and what its audits estimate."""

    stratify_by: str  # "team" or "service_area"
    proportional: bool  # quotas proportional to each stratum's open cases
    drawn: int  # cases drawn (the sample asked for)
    open_cases: int  # the open cases of the strata drawn from
    strata: int
    estimate: object  # domain.sampling.Estimate over the audits done so far

    @property
    def audited(self) -> int:
        return self.estimate.audited


@dataclass
class PackFigures:
    authority: str
    marking: str
    produced: dt.datetime
    period: Period
    previous: Period
    grades: tuple[Grade, ...]  # best first, as the summary shows them
    summary: dict  # period_summary(...) for the period: the headline figures
    current: GradeCounts
    prior: GradeCounts  # the previous period (may hold no audits)
    trend: list[GradeCounts]  # oldest first, the period itself last
    by_area: dict[str, dict[Grade, int]]
    by_team: dict[str, dict[Grade, int]]
    team_areas: dict[str, str]  # team (as named in by_team) → its service area, when known
    themes: dict[str, dict[str | None, int]]  # theme → service area (None: none) → audits
    themes_previous: dict[str, int]
    moderation: Moderation
    loop: Loop
    people: dict[str, tuple[int, int]]  # role key → (this period, previous period)
    trail_seq: int
    trail_hash: str
    logo: str | None = None
    appendix: list = field(default_factory=list)  # store.reporting.AppendixRow, internal only
    #: The period's graded audits by type ("deep_dive", "themed", "dip_sample").
    by_type: dict[str, int] = field(default_factory=dict)
    #: How many of the period's graded audits were imported (history kept elsewhere before).
    imported: int = 0
    #: The period's graded audits by how their cases were chosen ("random_draw", "chosen",
    #: "referred", "unknown"; see domain.models.Selection).
    selection: dict[str, int] = field(default_factory=dict)
    #: The period's recorded random draw, when its audit plan has one kept (issue 19).
    sample: "SampleFigures | None" = None
    #: For a public pack: what the public pack of the previous period published for it
    #: (``{"audits": n, "good": n, ...}``, None for "c"); None when no such pack is on record.
    previous_published: dict | None = None
    #: The cover report (purpose, recommendations, contact officer, background papers).
    cover: CoverReport = field(default_factory=CoverReport)
    #: The internal version's exempt-information paragraph.
    exempt_information: str = EXEMPT_INFORMATION

    @property
    def audits_called(self) -> str:
        """What the period's audits are called: "deep-dive audits" when every one is a deep
        dive, else "audits"."""
        if self.by_type and set(self.by_type) == {"deep_dive"}:
            return "deep-dive audits"
        return "audits"

    def theme_total(self, theme: str) -> int:
        return sum(self.themes.get(theme, {}).values())
