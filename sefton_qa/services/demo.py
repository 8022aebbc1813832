"""Synthetic demo data that looks like a real QA team's 18 months. No real people or children.

Deterministic for a given seed and end date. Goes through the same services as real work, so
every record has its trail rows.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import heapq
import random
from dataclasses import dataclass
from typing import Callable

from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import (
    ActionInput,
    AuditInput,
    AuditType,
    ModerationStatus,
    Role,
    SectionGrade,
)
from sefton_qa.services import audits as audit_service
from sefton_qa.services import moderation
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import loop as loop_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import templates as template_store
from sefton_qa.domain.wording import date_text

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


# -- the moderation loop's words: plain, about practice, never about a real child ---------------
#: Why a moderator changed a grade, by (auditor's grade, moderator's grade).
_CHANGE_REASONS = {
    (Grade.GOOD, Grade.REQUIRES_IMPROVEMENT): [
        "The child's voice is recorded, but the plan has no timescales and supervision is "
        "descriptive. That is requires improvement, not good.",
        "Good work by the worker, but the assessment is out of date and the plan has not been "
        "reviewed since the last incident. The evidence supports requires improvement.",
        "The record reads well, but there is little evidence that the child's situation has "
        "changed because of our work.",
    ],
    (Grade.GOOD, Grade.INADEQUATE): [
        "Risks raised by school and health were not assessed. Whatever the quality of the "
        "recording, the child was left at risk: this is inadequate.",
    ],
    (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE): [
        "The child has not been seen alone for months and there has been no management "
        "oversight since allocation. The audit's own findings describe inadequate practice.",
        "Actions from the last review have not been progressed and nobody noticed. This is "
        "drift, and it is inadequate.",
        "The plan does not address the domestic abuse the assessment found. The child remains "
        "exposed to it; the grade should be inadequate.",
        "Permanence has not been considered and there is no contingency plan. The auditor's "
        "findings support inadequate rather than requires improvement.",
    ],
    (Grade.INADEQUATE, Grade.REQUIRES_IMPROVEMENT): [
        "The gaps are real, but a new manager has set clear direction and the child has been "
        "seen twice since. Requires improvement is the fairer grade.",
        "The delay was in another agency; our own practice was timely and the plan is "
        "purposeful. Requires improvement, not inadequate.",
    ],
    (Grade.REQUIRES_IMPROVEMENT, Grade.GOOD): [
        "The recording gaps are minor; the child's plan is purposeful and is making a "
        "difference. This is good practice.",
    ],
}
#: Comments a moderator leaves on a section, by section key.
_SECTION_COMMENTS = {
    "voice": "Say how the child's views changed the plan, not only what they said.",
    "assessment": "The assessment needs updating after the change of household.",
    "planning": "Actions need owners and dates; several have neither.",
    "oversight": "Supervision notes describe the case but do not give direction.",
    "multi_agency": "Health were not invited to the last core group.",
    "impact": "Evidence of change for the child is thin.",
    "permanence": "Permanence should have been considered at the second review.",
    "recording": "Case notes are weeks behind; the chronology needs refreshing.",
}
_LEARNING = [
    "The worker had too many cases after a colleague left and visits slipped without anyone "
    "noticing.",
    "Supervision happened but was about tasks, not about the child's experience.",
    "Nobody owned the plan between reviews, so agreed actions drifted.",
    "Concerns from school were recorded but not pulled together; each on its own looked "
    "small.",
    "The worker did not feel able to challenge the family's account; the team will use "
    "group supervision to practise this.",
    "The assessment was done quickly to meet the timescale and did not analyse what life is "
    "like for the child.",
    "Handover between teams lost the history; the chronology was not passed on.",
    "The team manager had not read the case since allocation. Oversight will now be "
    "recorded monthly.",
    "The child's voice was gathered through their parents rather than seen alone.",
    "Partners were waiting for us and we were waiting for them: nobody chaired the next "
    "step.",
]
#: (what must be done, what shows it was done)
_ACTIONS = [
    ("See the child alone and record their wishes and feelings in their own words.",
     "Child seen alone at home and at school; their views are on file and reflected in the "
     "plan."),
    ("Update the assessment, analysing the impact of the parents' circumstances on the child.",
     "Updated assessment on file and signed off by the team manager."),
    ("Convene a review of the plan with clear actions, owners and timescales.",
     "Review held; the revised plan has owners and dates for every action."),
    ("Record monthly management oversight that gives direction, not only a summary.",
     "Three months of oversight entries on file, each setting out next steps."),
    ("Refresh the chronology and the case summary.",
     "Chronology and case summary brought up to date."),
    ("Invite health and education to the next core group and share the plan with them.",
     "Core group attended by health and school; minutes circulated."),
    ("Present the case at the permanence tracking panel.",
     "Case presented at panel; permanence plan agreed with a timescale."),
    ("Complete the outstanding kinship carer assessment.",
     "Kinship assessment completed and presented to panel."),
    ("Discuss the case in group supervision so the team shares the learning.",
     "Discussed at group supervision; notes shared with the team."),
]
_REAUDIT_ACTION = "Re-audit the case to see whether the child's situation has improved."
_NOT_NEEDED = [
    "The family moved to another authority and the case was transferred with a full handover.",
    "Overtaken by the child protection conference, which agreed a new plan.",
    "The case closed after the review found the child's needs were met.",
]
_OTHER_ROLES = ("auditor", "service manager", "other")

@dataclass(frozen=True)
class DemoResult:
    service_areas: int
    teams: int
    staff: int
    audits: int
    moderations: int = 0
    conversations: int = 0
    actions: int = 0
    caseload_cases: int = 0
    drawn: int = 0


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


def _close_the_loop(session: Session, inputs: list[AuditInput], audit_ids: list[int], *,
                    seed: int, service_manager_of: dict[int, int], moderators: list[int],
                    report: Callable[[int, int, str], None]) -> None:
    """Live through the audits' months day by day, calling the real services as each person
    would on that day (a session whose ``today`` is the simulated date): flag on submission,
    moderate, hold the reflective conversation, agree actions, complete them (or not).
    Anything that would happen after the real today is left waiting, as it would be.

    Deterministic for the seed and today: each audit draws from its own random stream, so the
    calibration sample (the store's own seed, drawn by flag_submitted) changes only the
    audits it picks."""
    conn = session.store.conn
    today = session.today()
    calendar_ = moderation.loop_settings(conn).calendar
    people = {s.id: s for s in staff_store.list_all(conn)}
    team_rng = random.Random(f"sefton-qa-demo-loop:{seed}")
    drifting = set(team_rng.sample(sorted(service_manager_of), min(2, len(service_manager_of))))
    index_of = {audit_id: i for i, audit_id in enumerate(audit_ids)}
    by_case: dict[str, list[tuple[dt.date, int]]] = {}
    for inp, audit_id in zip(inputs, audit_ids):
        by_case.setdefault(inp.case_reference, []).append((inp.audit_date, audit_id))
    streams: dict[int, random.Random] = {}

    def stream(audit_id: int) -> random.Random:
        if audit_id not in streams:
            streams[audit_id] = random.Random(
                f"sefton-qa-demo-loop:{seed}:{index_of[audit_id]}")
        return streams[audit_id]

    def as_of(staff_id: int, day: dt.date) -> Session:
        return dataclasses.replace(session, actor=people[staff_id], today=lambda d=day: d)

    events: list[tuple] = []
    order = iter(range(10 ** 9))

    def at(day: dt.date, fn, *args) -> None:
        """Schedule ``fn(day, *args)``; what falls after today has not happened yet. Flagging
        (submission) comes first in a day."""
        if day <= today:
            heapq.heappush(events, (day, 0 if fn is flag else 1, next(order), fn, args))

    def flag(day: dt.date, day_ids: list[int]) -> None:
        moderation.flag_submitted(as_of(session.actor.id, day), day_ids)
        for audit_id in day_ids:
            for m in loop_store.moderations_for_audit(conn, audit_id):
                if m.status is ModerationStatus.PENDING:
                    r = stream(audit_id)
                    team = inputs[index_of[audit_id]].team_id
                    weights = ([4, 8, 12, 14, 14, 13, 12, 10, 8, 5] if team in drifting
                               else [14, 24, 22, 16, 10, 5, 4, 2, 2, 1])
                    delay = r.choices([1, 2, 3, 4, 5, 6, 7, 9, 12, 16], weights)[0]
                    at(calendar_.add(day, delay), moderate, m)

    def moderate(day: dt.date, m) -> None:
        inp = inputs[index_of[m.audit_id]]
        r = stream(m.audit_id)
        moderator = r.choice([p for p in moderators if p != inp.auditor_id])
        original, x = m.original_grade, r.random()
        if original is Grade.INADEQUATE:
            grade = Grade.REQUIRES_IMPROVEMENT if x < 0.03 else original
        elif original is Grade.GOOD:  # auditors are a little optimistic
            grade = (Grade.INADEQUATE if x < 0.03 else Grade.REQUIRES_IMPROVEMENT if x < 0.33
                     else original)
        else:
            grade = Grade.INADEQUATE if x < 0.27 else Grade.GOOD if x < 0.31 else original
        reason = r.choice(_CHANGE_REASONS[(original, grade)]) if grade is not original else ""
        comments = {}
        if r.random() < (0.6 if reason else 0.15):
            key = r.choice(sorted(inp.sections))
            if key in _SECTION_COMMENTS:
                comments[key] = _SECTION_COMMENTS[key]
        moderation.moderate(as_of(moderator, day), m.id, grade, reason=reason,
                            section_comments=comments)
        if grade is not Grade.INADEQUATE:
            return
        due = [c for c in loop_store.conversations_for_audit(conn, m.audit_id)
               if c.status.value == "due"]
        manager = service_manager_of.get(inp.team_id)
        if not due or manager is None:
            return
        if inp.team_id in drifting:
            x = r.random()
            delay = (r.randint(3, 10) if x < 0.4 else r.randint(11, 30) if x < 0.75
                     else r.randint(40, 120))
        else:
            delay = r.choices([2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 18],
                              [3, 6, 8, 10, 12, 12, 12, 11, 10, 7, 5, 4])[0]
        at(calendar_.add(day, delay), hold, due[0], manager)

    def hold(day: dt.date, conversation, manager: int) -> None:
        inp = inputs[index_of[conversation.audit_id]]
        r = stream(conversation.audit_id)
        drift = inp.team_id in drifting
        participants = ["worker", "team manager"]
        participants += [role for role, p in zip(_OTHER_ROLES, (0.75, 0.3, 0.2))
                         if r.random() < p]
        learning = " ".join(r.sample(_LEARNING, 2))
        owner = inp.team_manager_id
        agreed = [(d, e, r.choice([10, 15, 20, 25, 30, 40]))
                  for d, e in r.sample(_ACTIONS, r.choices([1, 2, 3], [3, 5, 3])[0])]
        actions = [ActionInput(d, owner, calendar_.add(day, offset)) for d, _e, offset in agreed]
        later = next(((d, a) for d, a in by_case[inp.case_reference] if d > day), None)
        reaudit_by = calendar_.add(day, 40)
        if later is not None or (reaudit_by > today and r.random() < 0.4):
            actions = actions[:2] + [ActionInput(_REAUDIT_ACTION, owner, reaudit_by,
                                                 reaudit_by=reaudit_by)]
        moderation.hold_conversation(as_of(manager, day), conversation.id, held_on=day,
                                     participants=participants, learning=learning,
                                     actions=actions)
        evidence = {d: e for d, e, _o in agreed}
        for action in loop_store.actions_for_audit(conn, conversation.audit_id):
            if action.conversation_id != conversation.id:
                continue
            if action.reaudit_by is not None:
                if later is not None:  # flag_submitted links the re-audit when it comes
                    at(calendar_.add(later[0], r.randint(1, 3)), complete_reaudit, action.id,
                       owner)
                continue
            offset = calendar_.between(day, action.due_date)
            x = r.random()
            on_time, late, dropped = (0.45, 0.72, 0.76) if drift else (0.80, 0.91, 0.95)
            if x < on_time:
                done = calendar_.add(day, r.randint(max(1, offset - 10), offset))
            elif x < late:
                done = calendar_.add(action.due_date,
                                     r.randint(5, 40) if drift else r.randint(1, 15))
            elif x < dropped:
                at(calendar_.add(day, r.randint(2, offset)), not_needed, action.id, manager,
                   r.choice(_NOT_NEEDED))
                continue
            else:
                continue  # never done: drift
            at(done, complete, action.id, owner, evidence[action.description])

    def complete(day: dt.date, action_id: int, owner: int, evidence: str) -> None:
        moderation.complete_action(as_of(owner, day), action_id, evidence)

    def complete_reaudit(day: dt.date, action_id: int, owner: int) -> None:
        action = loop_store.get_action(conn, action_id)
        later = (audit_store.get(conn, action.reaudit_audit_id)
                 if action.reaudit_audit_id else None)
        if later is None:
            return
        evidence = (f"Case re-audited on {date_text(later.audit_date)}: graded "
                    f"{later.overall_grade.short_label.lower()}.")
        moderation.complete_action(as_of(owner, day), action_id, evidence)

    def not_needed(day: dt.date, action_id: int, manager: int, reason: str) -> None:
        moderation.action_not_needed(as_of(manager, day), action_id, reason)

    day_ids: dict[dt.date, list[int]] = {}
    for inp, audit_id in zip(inputs, audit_ids):
        day_ids.setdefault(inp.audit_date, []).append(audit_id)
    for day, ids in day_ids.items():
        at(day, flag, ids)
    start = min(day_ids, default=today)
    span = max(1, (today - start).days)
    shown = None
    while events:
        day, _priority, _n, fn, args = heapq.heappop(events)
        if (day.year, day.month) != shown:
            shown = (day.year, day.month)
            report(75 + int(24 * (day - start).days / span), 100,
                   f"Moderating and following up {calendar.month_name[day.month]} {day.year}")
        fn(day, *args)


def generate_demo(session: Session, *, months: int = 18, seed: int = 2024,
                  progress: Progress | None = None) -> DemoResult:
    """Fill an empty store with synthetic data. Refuses a store that already holds audits."""
    if months < 1 or months > 120:
        raise ValidationError.single("months", "must be between 1 and 120")
    session.require(Role.ADMINISTRATOR, doing="add demo data")
    store = session.store
    if audit_store.count(store.conn) > 0:
        raise SeftonError("This store already holds audits; demo data is only ever added to an "
                          "empty store.")
    rng = random.Random(seed)
    today = session.today()

    def report(done: int, total: int, message: str) -> None:
        if progress is not None and progress(done, total, message) is False:
            raise Cancelled("Demo data was cancelled; nothing was added.")

    # All or nothing: the services below nest inside this one transaction.
    with store.doing("adding demo data"), store.transaction():
        if audit_store.count(store.conn) > 0:
            raise SeftonError("This store already holds audits; demo data is only ever added "
                              "to an empty store.")
        # A demo store's calibration sample follows --seed, so the same seed gives the same
        # records, grades and draws on either engine (a real store keeps its secret seed).
        settings_store.put(store.conn, "calibration_seed", seed, who=session.who,
                           reason="demo data: the calibration sample follows the demo's seed")
        report(0, 100, "Setting up service areas, teams and staff")
        names = [f"{f} {l}" for f in _FIRST for l in _LAST]
        rng.shuffle(names)
        name_iter = iter(names)
        existing_areas = {a.name: a.id for a in org.service_areas(session)}
        existing_themes = {t.name: t.id for t in org.themes(session)}
        managers = []
        service_manager_of: dict[int, int] = {}
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
                service_manager_of[team_id] = managers[index % 4]
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
        added = audit_service.add_audits(session, inputs, submit=True,
                                         reason="Synthetic demo data", kind="demo", flag=False)
        report(75, 100, "Moderating, holding reflective conversations, following actions up")
        moderators = managers + [a for i, a in enumerate(auditors) if i % 3 == 0]
        _close_the_loop(session, inputs, list(added.record_ids), seed=seed,
                        service_manager_of=service_manager_of, moderators=moderators,
                        report=report)
        counts = [store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table
                  in ("moderations", "reflective_conversations", "remedial_actions")]
        report(99, 100, "Importing a caseload, planning and drawing this quarter's sample")
        cases, drawn = _caseload_and_plan(session, teams, earlier_cases, seed=seed)
        report(100, 100, "Done")
    return DemoResult(service_areas=len(DEMO_STRUCTURE), teams=len(teams),
                      staff=4 + 12 + len(teams), audits=len(inputs), moderations=counts[0],
                      conversations=counts[1], actions=counts[2], caseload_cases=cases,
                      drawn=drawn)


def _caseload_and_plan(session: Session, teams, earlier_cases: list[tuple[str, int]], *,
                       seed: int) -> tuple[int, int]:
    """Today's caseload (some of it cases audited before, so the plan leaves those out),
    imported from a file as a real one is; this quarter's plan (two deep dives and one dip
    sample per team on average, shared in proportion to caseload), drawn with the demo's seed
    (recorded as given) and allocated. Its own random stream, after everything else, so the
    rest of the demo is the same with or without it."""
    import tempfile
    from pathlib import Path

    from sefton_qa.domain.periods import quarter_of
    from sefton_qa.domain.sampling import Quota
    from sefton_qa.services import caseload, plans
    from sefton_qa.services.spreadsheets import write_csv

    rng = random.Random(seed * 7919 + 19)
    today = session.today()
    conn = session.store.conn
    team_names = {t.id: t.name for t in org.teams(session)}
    manager_names = {s.id: s.display_name for s in staff_store.list_all(conn)}
    audited: dict[int, list[str]] = {}
    for case_ref, team_id in earlier_cases:
        audited.setdefault(team_id, []).append(case_ref)
    rows, used = [], set()
    types = ["Child in need", "Child protection", "Child looked after", "Care leaver",
             "Early help"]
    for _area, team_id, _themes, _pace, manager in teams:
        size = rng.randint(12, 36)
        again = rng.sample(audited.get(team_id, []), min(len(audited.get(team_id, [])),
                                                         size // 4))
        refs = [r for r in again if r not in used]
        while len(refs) < size:
            ref = f"LCS-{rng.randint(100000, 999999)}"
            if ref not in used and ref not in refs:
                refs.append(ref)
        used.update(refs)
        for ref in refs:
            opened = today - dt.timedelta(days=rng.randint(20, 900))
            rows.append([ref, team_names[team_id], rng.choice(types), opened.isoformat(),
                         manager_names.get(manager, "")])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-caseload.csv"
        write_csv(path, ["Case reference", "Team", "Case type", "Open date", "Team manager"],
                  rows)
        imported = caseload.import_caseload(session, path, taken_on=today)
    if not imported.ok:  # pragma: no cover - the demo writes a file it can read
        raise SeftonError("; ".join(imported.problems))
    start, end = quarter_of(today)
    change = plans.create_plan(session, start, end,
                               total=Quota(2 * len(teams), len(teams)))
    result = plans.make_draw(session, change.record_ids[0], seed=seed)
    plans.allocate_draw(session, result.draw.id)
    return len(rows), sum(1 for c in result.cases if not c.is_reserve)
