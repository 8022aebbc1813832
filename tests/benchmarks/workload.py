"""Realistic audits for the benchmarks, in the style of the demo data.

Batches are deterministic (seeded by batch number), so the bare sqlite3 file can be filled
with exactly the rows the store was given without keeping a million inputs in memory.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, Role, SectionGrade, Selection
from sefton_qa.services.demo import DEMO_STRUCTURE
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import service_areas as area_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store
from sefton_qa.store import templates as template_store
from sefton_qa.store import themes as theme_store

YEARS = 6
STATUS = "submitted"

FINDINGS = {
    Grade.GOOD: (
        "The child's wishes and feelings are recorded in their own words.",
        "Visits are purposeful and direct work with the child is well evidenced.",
        "The assessment is analytical and up to date; the plan follows from it.",
        "Reflective supervision is recorded and is driving progress for the child.",
        "Partners attend core groups and the multi-agency plan is on track.",
    ),
    Grade.REQUIRES_IMPROVEMENT: (
        "The plan is in place but its actions lack clear timescales and owners.",
        "Management oversight is recorded but is descriptive and sets no direction.",
        "The child is seen regularly, but their lived experience is not described.",
        "The assessment is in date but does not analyse the impact on the child.",
        "Some delay in convening the review; progress has since been made.",
    ),
    Grade.INADEQUATE: (
        "Actions agreed at the last review have not been progressed: drift and delay.",
        "The child has not been seen alone for three months; their voice is absent.",
        "There is no evidence of management oversight since the case was allocated.",
        "Risks identified by partners have not been assessed or responded to.",
        "The plan is not child-centred and was not updated after significant events.",
    ),
}
_GRADE_BY_RANK = {g.rank: g for g in (Grade.INADEQUATE, Grade.REQUIRES_IMPROVEMENT, Grade.GOOD)}


@dataclass(frozen=True)
class TeamPlan:
    area_id: int
    team_id: int
    manager_id: int | None
    theme_ids: tuple[int, ...]
    theme_weights: tuple[int, ...]


@dataclass(frozen=True)
class Org:
    """The reference data audits point at (made by the demo data)."""

    area_ids: dict[str, int]
    teams: tuple[TeamPlan, ...]
    auditor_ids: tuple[int, ...]
    template_id: int
    section_keys: tuple[str, ...]


def load_org(session: Session) -> Org:
    conn = session.store.conn
    areas = {a.name: a.id for a in area_store.list_all(conn)}
    themes = {t.name: t.id for t in theme_store.list_all(conn)}
    staff = staff_store.list_all(conn, active_only=True)
    managers = {s.team_id: s.id for s in staff if s.team_id is not None}
    weights_by_area = {areas[name]: weights for name, _teams, weights in DEMO_STRUCTURE}
    teams = []
    for team in team_store.list_all(conn, active_only=True):
        weights = weights_by_area.get(team.service_area_id, {})
        teams.append(TeamPlan(team.service_area_id, team.id, managers.get(team.id),
                              tuple(themes[n] for n in weights),
                              tuple(weights.values())))
    template = template_store.current(conn)
    return Org(area_ids=areas, teams=tuple(teams),
               auditor_ids=tuple(s.id for s in staff if s.has_role(Role.QA_OFFICER)),
               template_id=template.id, section_keys=tuple(s.key for s in template.sections))


class AuditFactory:
    """Audits spread over the last ``YEARS`` years (never in the future), oldest batch first."""

    def __init__(self, org: Org, *, today: dt.date, batches: int, seed: int = 2024):
        self.org = org
        self.today = today
        self.batches = batches
        self.seed = seed
        self.first_day = today - dt.timedelta(days=365 * YEARS)

    def batch(self, index: int, size: int) -> list[AuditInput]:
        """Batch ``index`` of ``self.batches``: its slice of the years, in date order."""
        rng = random.Random(self.seed * 1_000_003 + index)
        span = (self.today - self.first_day).days
        lo = span * index // self.batches
        hi = max(lo, span * (index + 1) // self.batches - 1)
        progress = index / max(1, self.batches - 1)
        inputs = [self._audit(rng, self._weekday(self.first_day + dt.timedelta(
            days=rng.randint(lo, hi))), progress) for _ in range(size)]
        inputs.sort(key=lambda a: a.audit_date)
        return inputs

    def today_audits(self, count: int) -> list[AuditInput]:
        """Audits dated today, as someone logs them one at a time."""
        rng = random.Random(self.seed * 7 + count)
        return [self._audit(rng, self.today, 1.0) for _ in range(count)]

    @staticmethod
    def _weekday(day: dt.date) -> dt.date:
        return day - dt.timedelta(days=max(0, day.weekday() - 4))

    def _audit(self, rng: random.Random, day: dt.date, progress: float) -> AuditInput:
        team = rng.choice(self.org.teams)
        overall = _pick_grade(rng, progress)
        n_themes = {Grade.GOOD: rng.randint(0, 1), Grade.REQUIRES_IMPROVEMENT: rng.randint(1, 2),
                    Grade.INADEQUATE: rng.randint(2, 3)}[overall]
        themes: set[int] = set()
        while team.theme_ids and len(themes) < min(n_themes, len(team.theme_ids)):
            themes.add(rng.choices(team.theme_ids, team.theme_weights)[0])
        sections = {key: SectionGrade(_section_grade(rng, overall))
                    for key in self.org.section_keys}
        return AuditInput(
            case_reference=f"LCS-{rng.randint(100000, 999999)}",
            audit_type=rng.choices(list(AuditType), weights=[80, 12, 8])[0],
            audit_date=day, service_area_id=team.area_id, team_id=team.team_id,
            auditor_id=rng.choice(self.org.auditor_ids), team_manager_id=team.manager_id,
            template_id=self.org.template_id, sections=sections, overall_grade=overall,
            theme_ids=sorted(themes), findings=" ".join(rng.sample(FINDINGS[overall], 2)))


def last_full_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the last quarter that has ended."""
    this_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = this_start - dt.timedelta(days=1)
    return dt.date(end.year, end.month - 2, 1), end


def _pick_grade(rng: random.Random, progress: float) -> Grade:
    """Mostly requires improvement, improving slowly over the years."""
    p_good = 0.15 + 0.20 * progress
    p_inadequate = 0.35 - 0.15 * progress
    r = rng.random()
    if r < p_good:
        return Grade.GOOD
    if r < p_good + p_inadequate:
        return Grade.INADEQUATE
    return Grade.REQUIRES_IMPROVEMENT


def _section_grade(rng: random.Random, overall: Grade) -> Grade:
    shift = rng.choices((-1, 0, 1), weights=(2, 6, 2))[0]
    return _GRADE_BY_RANK[max(1, min(3, overall.rank + shift))]


def audit_row(inp: AuditInput) -> tuple:
    """The audits-table values for ``inp`` (submitted), in ``store.audits.COLUMNS`` order."""
    return (inp.case_reference, inp.audit_type.value, inp.audit_date.isoformat(),
            inp.service_area_id, inp.team_id, inp.auditor_id, inp.team_manager_id,
            inp.template_id, audit_store.encode_sections(inp.sections),
            inp.overall_grade.value, inp.findings, STATUS,
            (inp.selection or Selection.CHOSEN).value)
