"""Synthetic demo data that looks like a real QA team's 18 months. No real people or children.

Deterministic for a given seed and end date. Goes through the same services as real work, so
every record has its trail rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass
from typing import Callable

from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, Role, SectionGrade
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import templates as template_store

Progress = Callable[[int, int, str], bool | None]
"""progress(done, total, message) -> False to cancel."""


class Cancelled(SeftonError):
    pass


# (service area, [teams], themes that cluster there with weights)
DEMO_STRUCTURE = [
    ("Front Door / MASH", ["MASH Team"],
     {"Weak assessments": 3, "Management oversight": 3, "Domestic abuse": 3, "Neglect": 2,
      "Child's voice": 1}),
    ("Assessment", ["Assessment Team North", "Assessment Team South"],
     {"Weak assessments": 4, "Drift and delay": 3, "Child's voice": 3, "Domestic abuse": 2,
      "Case recording": 2}),
    ("Child Protection", ["Child Protection Team 1", "Child Protection Team 2"],
     {"Neglect": 4, "Domestic abuse": 4, "Management oversight": 3, "Child's voice": 2,
      "Drift and delay": 2, "Care planning": 2}),
    ("Children in Care", ["Children in Care Team A", "Children in Care Team B"],
     {"Care planning": 4, "Contact with family": 3, "Mental and emotional health": 3,
      "Permanence planning": 2, "Child's voice": 2}),
    ("Permanence and Fostering", ["Permanence Team", "Fostering and Kinship Team"],
     {"Drift and delay": 5, "Permanence planning": 5, "Kinship carer assessments": 4,
      "Contact with family": 2}),
    ("Exploitation and Adolescent Services", ["Adolescent Safeguarding Team"],
     {"Exploitation": 6, "Mental and emotional health": 3, "Unsuitable accommodation": 3,
      "Support ended prematurely": 3, "Drift and delay": 1}),
]

_FIRST = ["Amira", "Ben", "Carys", "Dev", "Elin", "Farah", "Gareth", "Hana", "Imran", "Jess",
          "Kofi", "Leah", "Marek", "Nia", "Owen", "Priya", "Rhys", "Sana", "Tom", "Uma",
          "Wes", "Yasmin", "Zac", "Bryony", "Callum", "Dina", "Ewan", "Fern"]
_LAST = ["Ashcroft", "Brennan", "Caddick", "Dunmore", "Eccleston", "Fairclough", "Greaves",
         "Halewood", "Ince", "Jolliffe", "Kershaw", "Lathom", "Maghull", "Norbury", "Orrell",
         "Pennington", "Quayle", "Rimmer", "Sutcliffe", "Thornton", "Uttley", "Varley",
         "Winstanley", "Yates"]

_FINDINGS = {
    Grade.GOOD: [
        "The child's wishes and feelings are clearly recorded in their own words and are "
        "reflected in the plan.",
        "Visits are purposeful and in line with the plan; direct work is evident and "
        "well recorded.",
        "The assessment is analytical and up to date, and the plan follows from it.",
        "Regular reflective supervision is recorded and drives progress for the child.",
        "Partners attend core groups and the multi-agency plan is being delivered on time.",
    ],
    Grade.REQUIRES_IMPROVEMENT: [
        "The plan is in place but actions lack clear timescales and owners.",
        "Management oversight is recorded but is largely descriptive and does not set "
        "direction.",
        "The child has been seen regularly, but their lived experience is not well "
        "described.",
        "The assessment is in date but does not fully analyse the impact of parental "
        "circumstances on the child.",
        "Some delay in convening the review; progress has since been made.",
        "Recording is not always up to date; case summary needs refreshing.",
    ],
    Grade.INADEQUATE: [
        "There is evidence of drift and delay: actions agreed at the last review have not "
        "been progressed.",
        "The child has not been seen alone for over three months and their voice is absent "
        "from the record.",
        "There is no evidence of management oversight since the case was allocated.",
        "Risks identified by partners have not been assessed or responded to.",
        "The plan is not child-centred and has not been updated following significant "
        "events.",
        "Permanence has not been considered at the second looked-after review.",
        "The kinship carer assessment is out of timescale and no contingency plan is "
        "recorded.",
        "Support was ended before the agreed outcomes were achieved.",
    ],
}


@dataclass(frozen=True)
class DemoResult:
    service_areas: int
    teams: int
    staff: int
    audits: int


def _months_back(end: dt.date, months: int) -> list[tuple[int, int]]:
    year, month = end.year, end.month
    out = []
    for _ in range(months):
        out.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def _pick_grade(rng: random.Random, progress: float, team_pace: float) -> Grade:
    """Grades start mostly RI/inadequate and improve unevenly: each team at its own pace."""
    improve = max(0.0, min(1.0, progress * team_pace))
    p_good = 0.07 + 0.33 * improve
    p_inadequate = 0.45 - 0.30 * improve
    r = rng.random()
    if r < p_good:
        return Grade.GOOD
    if r < p_good + p_inadequate:
        return Grade.INADEQUATE
    return Grade.REQUIRES_IMPROVEMENT


def _section_grade(rng: random.Random, overall: Grade) -> Grade:
    ranks = {1: Grade.INADEQUATE, 2: Grade.REQUIRES_IMPROVEMENT, 3: Grade.GOOD}
    shift = rng.choices([-1, 0, 1], weights=[2, 6, 2])[0]
    return ranks[max(1, min(3, overall.rank + shift))]


def _weekday_in_month(rng: random.Random, year: int, month: int, last: dt.date) -> dt.date:
    days = calendar.monthrange(year, month)[1]
    for _ in range(50):
        day = dt.date(year, month, rng.randint(1, days))
        if day.weekday() < 5 and day <= last:
            return day
    return min(dt.date(year, month, 1), last)


def generate_demo(session: Session, *, months: int = 18, seed: int = 2024,
                  progress: Progress | None = None) -> DemoResult:
    """Fill an empty store with synthetic data. Refuses a store that already holds audits."""
    if months < 1 or months > 120:
        raise ValidationError.single("months", "must be between 1 and 120")
    store = session.store
    if audit_store.count(store.conn) > 0:
        raise SeftonError("This store already holds audits; demo data is only ever added to an "
                          "empty store.")
    rng = random.Random(seed)
    today = session.today()

    def report(done: int, total: int, message: str) -> None:
        if progress is not None and progress(done, total, message) is False:
            raise Cancelled("Demo data was cancelled; nothing was added.")

    with store.transaction():  # all or nothing: the services below nest inside it
        if audit_store.count(store.conn) > 0:
            raise SeftonError("This store already holds audits; demo data is only ever added "
                              "to an empty store.")
        report(0, 100, "Setting up service areas, teams and staff")
        names = [f"{f} {l}" for f in _FIRST for l in _LAST]
        rng.shuffle(names)
        name_iter = iter(names)
        existing_areas = {a.name: a.id for a in org.service_areas(session)}
        existing_themes = {t.name: t.id for t in org.themes(session)}
        managers = []
        for i in range(4):
            change = org.add_staff(session, next(name_iter),
                                   os_username=f"demo.sm{i + 1}",
                                   roles=[Role.SERVICE_MANAGER, Role.MODERATOR])
            managers.append(change.record_id)
        auditors = []
        for i in range(12):
            roles = [Role.QA_OFFICER] + ([Role.MODERATOR] if i % 3 == 0 else [])
            change = org.add_staff(session, next(name_iter), os_username=f"demo.qa{i + 1:02d}",
                                   roles=roles)
            auditors.append(change.record_id)
        teams: list[tuple[int, int, dict, float, int]] = []  # (area, team, themes, pace, tm)
        for index, (area_name, team_names, theme_weights) in enumerate(DEMO_STRUCTURE):
            area_id = existing_areas.get(area_name) or org.add_service_area(
                session, area_name).record_id
            for team_name in team_names:
                team_id = org.add_team(session, team_name, area_id,
                                       service_manager_id=managers[index % 4]).record_id
                manager = org.add_staff(session, next(name_iter), roles=[],
                                        team_id=team_id).record_id
                pace = rng.choice([0.2, 0.6, 0.9, 1.1, 1.4])
                weights = {existing_themes[t]: w for t, w in theme_weights.items()
                           if t in existing_themes}
                teams.append((area_id, team_id, weights, pace, manager))
        template = template_store.current(store.conn)
        section_keys = [s.key for s in template.sections] if template else []
        drift = existing_themes.get("Drift and delay")

        inputs: list[AuditInput] = []
        # The N full months before this one, and this month so far.
        month_list = _months_back(today, months + 1)
        case_numbers = rng.sample(range(100000, 999999), 60 * len(month_list) + 10)
        earlier_cases: list[tuple[str, int]] = []
        for m_index, (year, month) in enumerate(month_list):
            report(5 + int(60 * m_index / len(month_list)), 100,
                   f"Writing audits for {calendar.month_name[month]} {year}")
            per_month = rng.randint(40, 60)
            if (year, month) == (today.year, today.month):
                per_month = max(1, per_month * today.day // 31)
            progress_share = m_index / max(1, len(month_list) - 1)
            for _ in range(per_month):
                area_id, team_id, theme_weights, pace, manager = rng.choice(teams)
                overall = _pick_grade(rng, progress_share, pace)
                if earlier_cases and rng.random() < 0.08:  # a re-audit of an earlier case
                    case_ref, team_id0 = rng.choice(earlier_cases)
                    area_id, team_id, theme_weights, pace, manager = next(
                        t for t in teams if t[1] == team_id0)
                else:
                    case_ref = f"LCS-{case_numbers.pop()}"
                    earlier_cases.append((case_ref, team_id))
                theme_ids = list(theme_weights)
                weights = [theme_weights[t] for t in theme_ids]
                n_themes = {Grade.GOOD: rng.randint(0, 1),
                            Grade.REQUIRES_IMPROVEMENT: rng.randint(1, 2),
                            Grade.INADEQUATE: rng.randint(2, 3)}[overall]
                chosen: set[int] = set()
                while len(chosen) < min(n_themes, len(theme_ids)):
                    chosen.add(rng.choices(theme_ids, weights)[0])
                if overall is Grade.INADEQUATE and drift and rng.random() < 0.5:
                    chosen.add(drift)
                findings = " ".join(rng.sample(_FINDINGS[overall], 2))
                sections = {key: SectionGrade(_section_grade(rng, overall)) for key in
                            section_keys}
                inputs.append(AuditInput(
                    case_reference=case_ref,
                    audit_type=rng.choices(list(AuditType), weights=[80, 12, 8])[0],
                    audit_date=_weekday_in_month(rng, year, month, today),
                    service_area_id=area_id, team_id=team_id,
                    auditor_id=rng.choice(auditors), team_manager_id=manager,
                    template_id=template.id if template else None, sections=sections,
                    overall_grade=overall, theme_ids=sorted(chosen), findings=findings))
        inputs.sort(key=lambda a: a.audit_date)
        report(70, 100, f"Saving {len(inputs):,} audits")
        audit_service.add_audits(session, inputs, submit=True, reason="Synthetic demo data",
                                 kind="demo", flag=False)
        report(100, 100, "Done")
    return DemoResult(service_areas=len(DEMO_STRUCTURE), teams=len(teams),
                      staff=4 + 12 + len(teams), audits=len(inputs))
