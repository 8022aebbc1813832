"""Audit plans, the draw, and allocation: a fair, random, recorded sample of the caseload
(issue 19).

* A **plan** is for a period: quotas of deep dives and dip samples per stratum (each team, or
  each service area), proportional to the caseload by default (largest remainder, see
  :func:`sampling.largest_remainder`), the same for every stratum, or set by hand. Cases with
  a submitted audit dated within ``exclude_months`` before the period's start (or since) are
  left out, case references compared trimmed and upper-cased.
* The **draw** (method ``sha256-v1``, :mod:`sefton_qa.domain.sampling`) takes each stratum's
  sample and reserves from the plan's snapshot. Every draw made is recorded, with its seed
  (from :mod:`secrets`, or given for demo data and tests, and recorded as such); a plan has at
  most one kept draw, and another is drawn only after the first is discarded, with who and
  why. :func:`check_draws` recomputes every recorded draw.
* **Allocation** gives each drawn case to an auditor who is neither the case's team manager
  nor a member of its team, numbers kept even (:func:`sampling.allocate`), due by the plan's
  due date (the period's end plus the ``allocation_due_days`` setting). A reserve replaces a
  case only with a reason.

Administrators plan, draw, allocate and discard; QA officers see what is allocated to them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from sefton_qa.domain import sampling
from sefton_qa.domain.errors import NotFound, PermissionDenied, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Change, Role
from sefton_qa.domain.plans import (
    SELECTION_RANDOM_DRAW,
    Allocation,
    AuditPlan,
    CaseloadCase,
    Draw,
    DrawnCase,
    PlanQuota,
    StratumInfo,
)
from sefton_qa.domain.sampling import Quota
from sefton_qa.domain.wording import date_text
from sefton_qa.services.session import Session
from sefton_qa.store import caseload as caseload_store
from sefton_qa.store import plans as plan_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import trail

PLANNERS = (Role.ADMINISTRATOR,)
#: Who may see plans, draws, progress and the allocation list.
VIEWERS = (Role.ADMINISTRATOR, Role.SERVICE_MANAGER)
#: Who may recompute the recorded draws (a check that changes nothing).
CHECKERS = (Role.ADMINISTRATOR, Role.SERVICE_MANAGER, Role.QA_OFFICER, Role.MODERATOR)
DEFAULT_EXCLUDE_MONTHS = 6
MAX_EXCLUDE_MONTHS = 36
#: The setting: allocations are due this many days after the period's end (0: on its last day).
DUE_DAYS_SETTING = "allocation_due_days"
MAX_WHY = 1000


def team_stratum(team_id: int) -> str:
    return f"team:{team_id}"


def area_stratum(area_id: int) -> str:
    return f"area:{area_id}"


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the month's last day when it is
    shorter: 31 August less 6 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _why_problem(why: str) -> None:
    if not why or not why.strip():
        raise ValidationError.single("why", "say why (it is kept in the trail)")
    if len(why) > MAX_WHY:
        raise ValidationError.single("why", f"is longer than {MAX_WHY} characters")


# -- the due date setting ------------------------------------------------------------------------
def allocation_due_days(session: Session) -> int:
    return int(settings_store.get(session.store.conn, DUE_DAYS_SETTING, 0))


def set_allocation_due_days(session: Session, days: int) -> Change:
    """Allocations of plans made from now on are due ``days`` after the period's end."""
    session.require(*PLANNERS, doing="change when allocated audits are due")
    if not isinstance(days, int) or not 0 <= days <= 90:
        raise ValidationError.single("days", "must be a whole number of days from 0 to 90")
    with session.store.transaction() as conn:
        settings_store.put(conn, DUE_DAYS_SETTING, days, who=session.who)
    return Change("settings", (), "update")


# -- strata and quotas -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Stratum:
    key: str
    label: str
    team_id: int | None
    service_area_id: int | None
    team_ids: tuple[int, ...]


def _strata_of(cases: Sequence[CaseloadCase], stratify_by: str) -> dict[str, _Stratum]:
    out: dict[str, _Stratum] = {}
    for c in cases:
        if stratify_by == "team":
            key = team_stratum(c.team_id)
            if key not in out:
                out[key] = _Stratum(key, c.team, c.team_id, None, (c.team_id,))
        else:
            key = area_stratum(c.service_area_id)
            found = out.get(key)
            teams = tuple(sorted(set((found.team_ids if found else ()) + (c.team_id,))))
            out[key] = _Stratum(key, c.service_area, None, c.service_area_id, teams)
    return out


def _stratum_of_case(c: CaseloadCase, stratify_by: str) -> str:
    return team_stratum(c.team_id) if stratify_by == "team" else area_stratum(c.service_area_id)


def read_plan_file(path: str | Path) -> dict[str, Quota]:
    """A plan's quotas from a CSV or XLSX file: a ``team`` (or ``service_area``) column and
    ``deep_dives`` and/or ``dip_samples`` columns (whole numbers; blank is 0)."""
    from sefton_qa.services.import_export import _cell_text, normalise_header
    from sefton_qa.services.spreadsheets import open_sheet

    sheet = open_sheet(path)
    headers = [normalise_header(h) for h in sheet.headers]
    name_col = next((i for i, h in enumerate(headers) if h in ("team", "service_area",
                                                               "stratum", "area")), None)
    deep_col = next((i for i, h in enumerate(headers) if h in ("deep_dives", "deep_dive")),
                    None)
    dip_col = next((i for i, h in enumerate(headers) if h in ("dip_samples", "dip_sample")),
                   None)
    if name_col is None or (deep_col is None and dip_col is None):
        raise ValidationError.single("plan file", "needs a team (or service_area) column and "
                                                  "deep_dives and/or dip_samples columns")
    out: dict[str, Quota] = {}
    problems = []
    for number, cells in sheet:
        def cell(i):
            return _cell_text(cells[i] if i is not None and i < len(cells) else None,
                              sheet.formula_escaped)

        name = cell(name_col)
        if not name:
            continue
        counts = []
        for column, i in (("deep_dives", deep_col), ("dip_samples", dip_col)):
            text = cell(i) or "0"
            if not text.isdigit() or int(text) > 1000:
                problems.append(f"row {number}, {column}: \"{text}\" is not a whole number "
                                "from 0 to 1000")
                counts.append(0)
            else:
                counts.append(int(text))
        if name.lower() in {k.lower() for k in out}:
            problems.append(f'row {number}: "{name}" is given twice')
        out[name] = Quota(*counts)
    if problems:
        raise ValidationError.single("plan file", "; ".join(problems))
    return out


def _quotas_by_hand(strata: dict[str, _Stratum], given: Mapping[str, Quota]
                    ) -> dict[str, Quota]:
    by_label = {}
    for s in strata.values():
        by_label.setdefault(s.label.lower(), []).append(s.key)
    out, problems = {}, []
    for name, quota in given.items():
        keys = [name] if name in strata else by_label.get(name.strip().lower(), [])
        if len(keys) != 1:
            problems.append(f'"{name}" has no open cases in the caseload snapshot' if not keys
                            else f'"{name}" names {len(keys)} strata: use their keys '
                                 f'({", ".join(keys)})')
            continue
        if quota.deep_dives < 0 or quota.dip_samples < 0:
            problems.append(f'"{name}": a quota cannot be negative')
        out[keys[0]] = quota
    if problems:
        raise ValidationError.single("quotas", "; ".join(problems))
    return out


# -- plans ---------------------------------------------------------------------------------------
def _check_plan_args(period_start, period_end, per_stratum, total, quotas, stratify_by,
                     exclude_months) -> None:
    if period_end < period_start:
        raise ValidationError.single("period", "the period ends before it starts")
    if stratify_by not in ("team", "service_area"):
        raise ValidationError.single("stratify_by", "is 'team' or 'service_area'")
    if not isinstance(exclude_months, int) or not 0 <= exclude_months <= MAX_EXCLUDE_MONTHS:
        raise ValidationError.single("exclude_months", f"must be 0 to {MAX_EXCLUDE_MONTHS}")
    ways = [w for w in (per_stratum, total, quotas) if w is not None]
    if len(ways) != 1:
        raise ValidationError.single("quotas", "give one of: a quota per team (or service "
                                               "area), a total shared in proportion to "
                                               "caseload, or quotas by hand")
    for quota in (per_stratum, total):
        if quota is not None and (quota.deep_dives < 0 or quota.dip_samples < 0):
            raise ValidationError.single("quotas", "a quota cannot be negative")


def _build_plan(conn, period_start, period_end, per_stratum, total, quotas, stratify_by,
                exclude_months, snapshot_id) -> AuditPlan:
    """The plan as it would be saved (id 0, its quotas' ids 0)."""
    snapshot = caseload_store.get_snapshot(conn, snapshot_id) if snapshot_id is not None \
        else caseload_store.latest_snapshot(conn)
    if snapshot is None:
        raise NotFound("There is no caseload snapshot to plan from: import the caseload "
                       "first." if snapshot_id is None
                       else f"There is no caseload snapshot {snapshot_id}.")
    cases = caseload_store.cases(conn, snapshot.id)
    strata = _strata_of(cases, stratify_by)
    if quotas is not None:
        chosen, rule = _quotas_by_hand(strata, quotas), "by_hand"
    elif per_stratum is not None:
        chosen, rule = {k: per_stratum for k in strata}, "per_stratum"
    else:
        sizes = {k: 0 for k in strata}
        for c in cases:
            sizes[_stratum_of_case(c, stratify_by)] += 1
        deep = sampling.largest_remainder(total.deep_dives, sizes)
        dip = sampling.largest_remainder(total.dip_samples, sizes)
        chosen, rule = {k: Quota(deep[k], dip[k]) for k in strata}, "proportional"
    due = period_end + dt.timedelta(days=int(settings_store.get(conn, DUE_DAYS_SETTING, 0)))
    return AuditPlan(
        id=0, period_start=period_start, period_end=period_end, snapshot_id=snapshot.id,
        stratify_by=stratify_by, quota_rule=rule, exclude_months=exclude_months, due_date=due,
        status="open",
        quotas=tuple(PlanQuota(0, 0, key, strata[key].label, strata[key].team_id,
                               strata[key].service_area_id, q.deep_dives, q.dip_samples)
                     for key, q in sorted(chosen.items(), key=lambda kv: strata[kv[0]].label)))


def create_plan(session: Session, period_start: dt.date, period_end: dt.date, *,
                per_stratum: Quota | None = None, total: Quota | None = None,
                quotas: Mapping[str, Quota] | None = None, stratify_by: str = "team",
                exclude_months: int = DEFAULT_EXCLUDE_MONTHS,
                snapshot_id: int | None = None) -> Change:
    """A plan for the period over a caseload snapshot (the latest by default), with exactly
    one way of setting its quotas:

    * ``per_stratum``: the same quota for every team (or service area) with open cases;
    * ``total``: the deep dives and dip samples of the whole plan, shared among strata in
      proportion to their open cases by the largest-remainder method (the default way);
    * ``quotas``: by hand, {team or service area name (or stratum key): Quota}.

    One open plan per period: cancel it (with a reason) to plan the period again.
    """
    session.require(*PLANNERS, doing="plan audits")
    _check_plan_args(period_start, period_end, per_stratum, total, quotas, stratify_by,
                     exclude_months)
    with session.store.transaction() as conn:
        for plan in plan_store.plans_for_period(conn, period_start, period_end):
            raise ValidationError.single(
                "period", f"plan {plan.id} already covers this period; cancel it first (with "
                          "a reason) to plan it again")
        plan = _build_plan(conn, period_start, period_end, per_stratum, total, quotas,
                           stratify_by, exclude_months, snapshot_id)
        plan_id = plan_store.insert_plan(conn, {
            "period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
            "snapshot_id": plan.snapshot_id, "stratify_by": stratify_by,
            "quota_rule": plan.quota_rule, "exclude_months": exclude_months,
            "due_date": plan.due_date.isoformat(), "status": "open"}, who=session.who)
        plan_store.insert_quotas(conn, [{
            "plan_id": plan_id, "stratum": q.stratum, "team_id": q.team_id,
            "service_area_id": q.service_area_id, "deep_dives": q.deep_dives,
            "dip_samples": q.dip_samples} for q in sorted(plan.quotas, key=lambda q: q.stratum)],
            who=session.who)
    return Change("audit_plans", (plan_id,), "create")


def preview_plan(session: Session, period_start: dt.date, period_end: dt.date, *,
                 per_stratum: Quota | None = None, total: Quota | None = None,
                 quotas: Mapping[str, Quota] | None = None, stratify_by: str = "team",
                 exclude_months: int = DEFAULT_EXCLUDE_MONTHS,
                 snapshot_id: int | None = None) -> "DrawPreview":
    """What :func:`create_plan` with the same arguments would plan, and the strata and sizes
    its draw would take: nothing is written (the dry run before a plan exists)."""
    session.require(*PLANNERS, doing="plan audits")
    _check_plan_args(period_start, period_end, per_stratum, total, quotas, stratify_by,
                     exclude_months)
    conn = session.store.conn
    with session.store.snapshot():
        plan = _build_plan(conn, period_start, period_end, per_stratum, total, quotas,
                           stratify_by, exclude_months, snapshot_id)
        strata, by_stratum, excluded = _population(conn, plan)
        infos = _strata_infos(plan, strata, by_stratum, excluded)
    return DrawPreview(plan, tuple(infos), tuple(excluded))


def set_quota(session: Session, plan_id: int, stratum: str, *, deep_dives: int,
              dip_samples: int) -> Change:
    """Change one stratum's quota by hand (before the plan's draw); the plan's rule becomes
    "by hand"."""
    session.require(*PLANNERS, doing="change a plan's quotas")
    if deep_dives < 0 or dip_samples < 0:
        raise ValidationError.single("quota", "cannot be negative")
    with session.store.transaction() as conn:
        plan = _plan(conn, plan_id)
        if _kept_draw(conn, plan_id) is not None:
            raise ValidationError.single("quota", "the plan has been drawn: discard the draw "
                                                  "(with a reason) to change its quotas")
        quota = next((q for q in plan.quotas if q.stratum == stratum or
                      q.label.lower() == stratum.strip().lower()), None)
        if quota is None:
            raise NotFound(f"Plan {plan_id} has no quota for {stratum}.")
        plan_store.update_quota(conn, quota.id, {"deep_dives": deep_dives,
                                                 "dip_samples": dip_samples}, who=session.who)
        plan_store.update_plan(conn, plan_id, {"quota_rule": "by_hand"}, who=session.who)
    return Change("plan_quotas", (quota.id,), "update")


def cancel_plan(session: Session, plan_id: int, why: str) -> Change:
    """A plan no longer wanted (its kept draw, if any, must be discarded first)."""
    session.require(*PLANNERS, doing="cancel a plan")
    _why_problem(why)
    with session.store.transaction() as conn:
        plan = _plan(conn, plan_id)
        if plan.status != "open":
            raise ValidationError.single("plan", f"plan {plan_id} is already cancelled")
        if _kept_draw(conn, plan_id) is not None:
            raise ValidationError.single("plan", "discard the plan's draw first (with a "
                                                 "reason)")
        plan_store.update_plan(conn, plan_id, {"status": "cancelled"}, who=session.who,
                               reason=why.strip())
    return Change("audit_plans", (plan_id,), "update")


def list_plans(session: Session) -> list[AuditPlan]:
    session.require(*VIEWERS, doing="see audit plans")
    return plan_store.list_plans(session.store.conn)


def get_plan(session: Session, plan_id: int) -> AuditPlan:
    session.require(*VIEWERS, doing="see audit plans")
    return _plan(session.store.conn, plan_id)


def plan_for_period(session: Session, period_start: dt.date, period_end: dt.date
                    ) -> AuditPlan | None:
    session.require(*VIEWERS, doing="see audit plans")
    found = plan_store.plans_for_period(session.store.conn, period_start, period_end)
    return found[0] if found else None


def _plan(conn, plan_id: int) -> AuditPlan:
    plan = plan_store.get_plan(conn, plan_id)
    if plan is None:
        raise NotFound(f"There is no audit plan {plan_id}.")
    return plan


def _kept_draw(conn, plan_id: int) -> Draw | None:
    return next((d for d in plan_store.list_draws(conn, plan_id=plan_id)
                 if d.status == "kept"), None)


# -- the draw ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrawPreview:
    """What a draw would take (the dry run): each stratum's open, excluded and eligible cases
    and the sample and reserves it would give. No seed: nothing is drawn."""

    plan: AuditPlan
    strata: tuple[StratumInfo, ...]
    excluded: tuple[str, ...]

    @property
    def sample(self) -> int:
        return sum(s.sample for s in self.strata)

    @property
    def open_cases(self) -> int:
        return sum(s.open_cases for s in self.strata)

    def lines(self) -> list[str]:
        return _strata_lines(self.plan, self.strata)


def _strata_lines(plan: AuditPlan, strata) -> list[str]:
    name = f"Plan {plan.id}" if plan.id else "The plan (not saved)"
    out = [f"{name}: {date_text(plan.period_start)} to {date_text(plan.period_end)}, "
           f"by {plan.stratify_by.replace('_', ' ')}, quotas {plan.quota_rule.replace('_', ' ')}"
           f", cases audited in the {plan.exclude_months} months before left out"]
    out.append(f"  {'stratum':<32} {'open':>6} {'left out':>8} {'eligible':>8} {'deep':>5} "
               f"{'dip':>4} {'sample':>6} {'reserves':>8}")
    for s in strata:
        short = f"  ({s.short} short)" if s.short else ""
        out.append(f"  {s.label[:32]:<32} {s.open_cases:>6} {s.excluded:>8} {s.eligible:>8} "
                   f"{s.deep_dives:>5} {s.dip_samples:>4} {s.sample:>6} {s.reserves:>8}{short}")
    out.append(f"  {'total':<32} {sum(s.open_cases for s in strata):>6} "
               f"{sum(s.excluded for s in strata):>8} {sum(s.eligible for s in strata):>8} "
               f"{sum(s.deep_dives for s in strata):>5} {sum(s.dip_samples for s in strata):>4} "
               f"{sum(s.sample for s in strata):>6} {sum(s.reserves for s in strata):>8}")
    return out


def _population(conn, plan: AuditPlan):
    """The plan's strata (with the quotas' teams), the cases of each, and the recently audited
    references among them."""
    cases = caseload_store.cases(conn, plan.snapshot_id)
    strata = _strata_of(cases, plan.stratify_by)
    by_stratum: dict[str, list[CaseloadCase]] = {}
    for c in cases:
        by_stratum.setdefault(_stratum_of_case(c, plan.stratify_by), []).append(c)
    since = months_before(plan.period_start, plan.exclude_months)
    recent = caseload_store.recently_audited(conn, since) if plan.exclude_months else set()
    excluded = sorted({c.case_reference for c in cases} & recent)
    return strata, by_stratum, excluded


def _strata_infos(plan: AuditPlan, strata, by_stratum, excluded) -> list[StratumInfo]:
    left_out = set(excluded)
    out = []
    for q in plan.quotas:
        cases = by_stratum.get(q.stratum, [])
        eligible = [c for c in cases if c.case_reference not in left_out]
        n = min(q.total, len(eligible))
        found = strata.get(q.stratum)
        out.append(StratumInfo(
            stratum=q.stratum, label=q.label, open_cases=len(cases),
            excluded=len(cases) - len(eligible), eligible=len(eligible),
            deep_dives=q.deep_dives, dip_samples=q.dip_samples, sample=n,
            reserves=min(sampling.reserves_for(q.total), len(eligible) - n),
            team_ids=found.team_ids if found else
            ((q.team_id,) if q.team_id is not None else ())))
    return out


def preview_draw(session: Session, plan_id: int) -> DrawPreview:
    """The dry run: strata and sizes, nothing drawn or written."""
    session.require(*PLANNERS, doing="draw a sample")
    conn = session.store.conn
    with session.store.snapshot():
        plan = _plan(conn, plan_id)
        strata, by_stratum, excluded = _population(conn, plan)
        infos = _strata_infos(plan, strata, by_stratum, excluded)
    return DrawPreview(plan, tuple(infos), tuple(excluded))


@dataclass(frozen=True)
class DrawResult:
    draw: Draw
    cases: tuple[DrawnCase, ...]
    change: Change

    def lines(self, plan: AuditPlan) -> list[str]:
        seed = f"seed {self.draw.seed} ({'given' if self.draw.seed_source == 'given' else 'random'})"
        return [f"Draw {self.draw.id} ({self.draw.method}, {seed})"] + \
            _strata_lines(plan, self.draw.strata)


def make_draw(session: Session, plan_id: int, *, seed: int | str | None = None) -> DrawResult:
    """Draw the plan's sample and reserves and record the draw. The seed comes from
    :mod:`secrets` unless ``seed`` is given (demo data, tests), recorded as given. Refused when
    the plan has a kept draw: discard it first, saying why (nobody redraws silently)."""
    session.require(*PLANNERS, doing="draw a sample")
    if seed is not None:
        seed_text, source = str(seed).strip(), "given"
        if not seed_text or len(seed_text) > 100 or "\x00" in seed_text:
            raise ValidationError.single("seed", "must be 1 to 100 characters")
    else:
        seed_text, source = str(secrets.randbits(64)), "secrets"
    with session.store.transaction() as conn:
        plan = _plan(conn, plan_id)
        if plan.status != "open":
            raise ValidationError.single("plan", f"plan {plan_id} is cancelled")
        kept = _kept_draw(conn, plan_id)
        if kept is not None:
            raise ValidationError.single(
                "plan", f"plan {plan_id} was drawn already (draw {kept.id}); to draw again, "
                        "discard that draw first and say why: every draw is kept on record")
        strata, by_stratum, excluded = _population(conn, plan)
        infos = _strata_infos(plan, strata, by_stratum, excluded)
        left_out = set(excluded)
        population = {key: [c.case_reference for c in cases if c.case_reference not in left_out]
                      for key, cases in by_stratum.items()}
        result = sampling.draw(seed_text, population,
                               {q.stratum: Quota(q.deep_dives, q.dip_samples)
                                for q in plan.quotas})
        at = trail.now(conn)
        draw_id = plan_store.insert_draw(conn, {
            "plan_id": plan.id, "snapshot_id": plan.snapshot_id, "method": sampling.METHOD,
            "seed": seed_text, "seed_source": source, "drawn_by": session.actor.id,
            "drawn_at": at, "strata": infos, "excluded": excluded, "status": "kept",
            "discarded_by": None, "discarded_at": None, "discard_reason": None},
            who=session.who)
        case_ids = {(key, c.case_reference): c.id for key, cases in by_stratum.items()
                    for c in cases}
        rows = [{"draw_id": draw_id, "case_id": case_ids[(d.stratum, d.reference)],
                 "case_reference": d.reference, "stratum": d.stratum, "rank": d.rank,
                 "audit_type": d.audit_type, "is_reserve": int(d.is_reserve)}
                for stratum in result.values() for d in stratum.sample + stratum.reserves]
        plan_store.insert_drawn_cases(conn, rows, who=session.who)
        draw = plan_store.get_draw(conn, draw_id)
        drawn = plan_store.drawn_cases(conn, draw_id)
    return DrawResult(draw, tuple(drawn), Change("draws", (draw_id,), "create"))


def discard_draw(session: Session, draw_id: int, why: str) -> Change:
    """Set a draw aside, saying why; it stays on record (and in ``check``), its open
    allocations are cancelled, and the plan may be drawn again."""
    session.require(*PLANNERS, doing="discard a draw")
    _why_problem(why)
    with session.store.transaction() as conn:
        draw = plan_store.get_draw(conn, draw_id)
        if draw is None:
            raise NotFound(f"There is no draw {draw_id}.")
        if draw.status == "discarded":
            raise ValidationError.single("draw", f"draw {draw_id} was discarded already")
        plan_store.update_draw(conn, draw_id, {
            "status": "discarded", "discarded_by": session.actor.id,
            "discarded_at": trail.now(conn), "discard_reason": why.strip()},
            who=session.who, reason=why.strip())
        for a in plan_store.allocations(conn, draw_id=draw_id, current_only=True):
            plan_store.update_allocation(conn, a.id, {"status": "cancelled"}, who=session.who,
                                         reason=f"draw {draw_id} discarded: {why.strip()}")
    return Change("draws", (draw_id,), "update")


def list_draws(session: Session, *, plan_id: int | None = None) -> list[Draw]:
    """Every draw made (kept and discarded), in the order made."""
    session.require(*VIEWERS, doing="see draws")
    return plan_store.list_draws(session.store.conn, plan_id=plan_id)


def kept_draw(session: Session, plan_id: int) -> Draw | None:
    """The plan's draw in force (None before it is drawn, or after a discard)."""
    session.require(*VIEWERS, doing="see draws")
    return _kept_draw(session.store.conn, plan_id)


def drawn_cases(session: Session, draw_id: int) -> list[DrawnCase]:
    session.require(*VIEWERS, doing="see draws")
    return plan_store.drawn_cases(session.store.conn, draw_id)


@dataclass(frozen=True)
class DrawCheck:
    draw_id: int
    plan_id: int
    status: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        what = "ok: every case is the one the method gives" if self.ok else \
            "; ".join(self.problems)
        return f"{'ok' if self.ok else 'FAIL':<4}  draw {self.draw_id} (plan {self.plan_id}, " \
               f"{self.status}): {what}"


def check_draws(session: Session) -> list[DrawCheck]:
    """Recompute every recorded draw from its snapshot, seed, strata and exclusions, and name
    any case swapped, missing or added, and any reserve used without a reason."""
    session.require(*CHECKERS, doing="check the draws")
    conn = session.store.conn
    out = []
    with session.store.snapshot():
        for draw in plan_store.list_draws(conn):
            out.append(_check_one(conn, draw))
    return out


def _check_one(conn, draw: Draw) -> DrawCheck:
    problems: list[str] = []
    if draw.method not in sampling.METHODS:
        return DrawCheck(draw.id, draw.plan_id, draw.status,
                         (f"its method {draw.method} is not one this version knows",))
    cases = caseload_store.cases(conn, draw.snapshot_id)
    left_out = set(draw.excluded)
    population: dict[str, list[str]] = {}
    ids = {}
    for info in draw.strata:
        teams = set(info.team_ids)
        members = [c for c in cases if c.team_id in teams]
        population[info.stratum] = [c.case_reference for c in members
                                    if c.case_reference not in left_out]
        ids.update({(info.stratum, c.case_reference): c.id for c in members})
        if len(members) != info.open_cases or len(population[info.stratum]) != info.eligible:
            problems.append(f"{info.label}: {len(members)} open and "
                            f"{len(population[info.stratum])} eligible cases, recorded as "
                            f"{info.open_cases} and {info.eligible}")
    expected = sampling.draw(draw.seed, population,
                             {i.stratum: Quota(i.deep_dives, i.dip_samples) for i in draw.strata})
    want = {(d.stratum, d.rank): d for s in expected.values() for d in s.sample + s.reserves}
    have = {(d.stratum, d.rank): d for d in plan_store.drawn_cases(conn, draw.id)}
    labels = {i.stratum: i.label for i in draw.strata}
    for key in sorted(set(want) | set(have)):
        w, h = want.get(key), have.get(key)
        where = f"{labels.get(key[0], key[0])} rank {key[1]}"
        if h is None:
            problems.append(f"{where}: {w.reference} is missing")
        elif w is None:
            problems.append(f"{where}: {h.case_reference} was added (the method gives no case "
                            "there)")
        elif (h.case_reference, h.is_reserve, h.audit_type) != \
                (w.reference, w.is_reserve, w.audit_type) or \
                ids.get((key[0], w.reference)) != h.case_id:
            problems.append(f"{where}: {h.case_reference} where the method gives "
                            f"{w.reference}" if h.case_reference != w.reference else
                            f"{where}: {h.case_reference} recorded differently "
                            "(reserve, audit type or case record)")
    for a in plan_store.allocations(conn, draw_id=draw.id):
        if a.is_reserve and (not a.reserve_reason or a.replaces_id is None):
            problems.append(f"reserve {a.case_reference} was allocated without a reason")
    return DrawCheck(draw.id, draw.plan_id, draw.status, tuple(problems))


# -- allocation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AllocationOutcome:
    change: Change
    allocated: int
    #: Drawn cases no eligible auditor may take (each is the team's own, or its manager).
    unallocated: tuple[str, ...]
    #: How many each auditor holds in the draw now, by name.
    counts: dict

    def lines(self) -> list[str]:
        out = [f"Allocated {self.allocated:,} case(s)."]
        out.extend(f"  {name}: {n}" for name, n in sorted(self.counts.items()))
        if self.unallocated:
            out.append("No auditor may take (own team or team manager): " +
                       ", ".join(self.unallocated))
        return out


def _eligible_auditors(conn, auditor_ids: Sequence[int] | None):
    everyone = {s.id: s for s in staff_store.list_all(conn, active_only=True)}
    if auditor_ids is None:
        return [s for s in everyone.values() if s.has_role(Role.QA_OFFICER)]
    chosen = []
    for staff_id in auditor_ids:
        person = everyone.get(staff_id)
        if person is None or not person.has_role(Role.QA_OFFICER):
            raise ValidationError.single("auditors", f"staff {staff_id} is not an active QA "
                                                     "officer")
        chosen.append(person)
    return chosen


def _forbidden(case: CaseloadCase, auditors) -> frozenset:
    """The auditors a case may not go to: its team manager, and members of its team."""
    return frozenset(a.id for a in auditors
                     if a.id == case.team_manager_id or a.team_id == case.team_id)


def allocate_draw(session: Session, draw_id: int, *,
                  auditor_ids: Sequence[int] | None = None) -> AllocationOutcome:
    """Give each sampled case of a kept draw not yet allocated to an auditor (the active QA
    officers, or those named) who is neither its team manager nor in its team, the numbers
    within the draw even (:func:`sampling.allocate`), due by the plan's due date."""
    session.require(*PLANNERS, doing="allocate audits")
    with session.store.transaction() as conn:
        draw = plan_store.get_draw(conn, draw_id)
        if draw is None:
            raise NotFound(f"There is no draw {draw_id}.")
        if draw.status != "kept":
            raise ValidationError.single("draw", f"draw {draw_id} was discarded")
        plan = _plan(conn, draw.plan_id)
        auditors = sorted(_eligible_auditors(conn, auditor_ids), key=lambda s: s.id)
        if not auditors:
            raise ValidationError.single("auditors", "there is no active QA officer to "
                                                     "allocate to")
        existing = plan_store.allocations(conn, draw_id=draw_id)
        taken = {a.drawn_case_id for a in existing}
        current: dict[int, int] = {}
        for a in existing:
            if a.status == "allocated" and a.auditor_id is not None:
                current[a.auditor_id] = current.get(a.auditor_id, 0) + 1
        todo = [d for d in plan_store.drawn_cases(conn, draw_id)
                if not d.is_reserve and d.id not in taken]
        case_rows = caseload_store.cases_by_id(conn, [d.case_id for d in todo])
        chosen = sampling.allocate([(d.id, _forbidden(case_rows[d.case_id], auditors))
                                    for d in todo], [a.id for a in auditors], current)
        rows = [{"drawn_case_id": d.id, "audit_type": d.audit_type, "auditor_id": chosen[d.id],
                 "due_date": plan.due_date.isoformat(), "audit_id": None,
                 "status": "allocated", "replaces_id": None, "reserve_reason": None}
                for d in todo if chosen[d.id] is not None]
        new_ids = plan_store.insert_allocations(conn, rows, who=session.who)
        counts = dict(current)
        for row in rows:
            counts[row["auditor_id"]] = counts.get(row["auditor_id"], 0) + 1
    names = {a.id: a.display_name for a in auditors}
    return AllocationOutcome(
        Change("allocations", tuple(new_ids), "create"), len(new_ids),
        tuple(d.case_reference for d in todo if chosen[d.id] is None),
        {names.get(k, str(k)): v for k, v in counts.items()})


def reallocate(session: Session, allocation_id: int, auditor_id: int, why: str) -> Change:
    """Give an allocated case to another auditor (the same rules), saying why."""
    session.require(*PLANNERS, doing="allocate audits")
    _why_problem(why)
    with session.store.transaction() as conn:
        allocation = _allocation(conn, allocation_id)
        if allocation.status != "allocated":
            raise ValidationError.single("allocation", "it was replaced or cancelled")
        (auditor,) = _eligible_auditors(conn, [auditor_id])
        case = _case_of(conn, allocation.drawn_case_id)
        if auditor.id in _forbidden(case, [auditor]):
            raise ValidationError.single("auditor", f"{auditor.display_name} is the case's "
                                                    "team manager or in its team")
        plan_store.update_allocation(conn, allocation_id, {"auditor_id": auditor.id},
                                     who=session.who, reason=why.strip())
    return Change("allocations", (allocation_id,), "update")


def _allocation(conn, allocation_id: int) -> Allocation:
    found = plan_store.get_allocation(conn, allocation_id)
    if found is None:
        raise NotFound(f"There is no allocation {allocation_id}.")
    return found


def _case_of(conn, drawn_case_id: int) -> CaseloadCase:
    case_id = plan_store.case_id_of_drawn(conn, drawn_case_id)
    return caseload_store.cases_by_id(conn, [case_id])[case_id]


def use_reserve(session: Session, allocation_id: int, why: str) -> Change:
    """The allocated case cannot be audited (say, it closed first): it is replaced by its
    stratum's next unused reserve, in the draw's order, which takes its audit type and due
    date and goes to the same auditor if the rules allow (else the least loaded who may take
    it). ``why`` is recorded on the reserve's allocation and in the trail."""
    session.require(*PLANNERS, doing="use a reserve")
    _why_problem(why)
    why = why.strip()
    with session.store.transaction() as conn:
        old = _allocation(conn, allocation_id)
        if old.status != "allocated":
            raise ValidationError.single("allocation", "it was already replaced or cancelled")
        if old.is_done():
            raise ValidationError.single("allocation", "its audit is done")
        draw = plan_store.get_draw(conn, old.draw_id)
        if draw.status != "kept":
            raise ValidationError.single("draw", f"draw {draw.id} was discarded")
        used = {a.drawn_case_id for a in plan_store.allocations(conn, draw_id=draw.id)}
        reserve = next((d for d in plan_store.drawn_cases(conn, draw.id)
                        if d.is_reserve and d.stratum == old.stratum and d.id not in used), None)
        if reserve is None:
            raise ValidationError.single("reserve", f"{old.stratum} has no unused reserve left "
                                                    "(the plan's quota may need changing)")
        case = caseload_store.cases_by_id(conn, [reserve.case_id])[reserve.case_id]
        auditors = sorted(_eligible_auditors(conn, None), key=lambda s: s.id)
        forbidden = _forbidden(case, auditors)
        auditor_id = old.auditor_id if old.auditor_id not in forbidden else None
        if auditor_id is None:
            counts = {}
            for a in plan_store.allocations(conn, draw_id=draw.id, current_only=True):
                counts[a.auditor_id] = counts.get(a.auditor_id, 0) + 1
            allowed = [a.id for a in auditors if a.id not in forbidden]
            auditor_id = min(allowed, key=lambda i: (counts.get(i, 0), i)) if allowed else None
        plan_store.update_allocation(conn, allocation_id, {"status": "replaced"},
                                     who=session.who, reason=why)
        new_id = plan_store.insert_allocation(conn, {
            "drawn_case_id": reserve.id, "audit_type": old.audit_type, "auditor_id": auditor_id,
            "due_date": old.due_date.isoformat(), "audit_id": None, "status": "allocated",
            "replaces_id": allocation_id, "reserve_reason": why}, who=session.who, reason=why)
    return Change("allocations", (allocation_id, new_id), "update")


def _may_see_allocation(session: Session, allocation: Allocation) -> None:
    if allocation.auditor_id == session.actor.id and session.actor.active and \
            session.actor.has_role(Role.QA_OFFICER):
        return
    session.require(*VIEWERS, doing="see another auditor's allocations")


@dataclass(frozen=True)
class AuditPrefill:
    """What an audit started from an allocation is filled in with. The audit service writes
    it (``selection`` included); :func:`link_audit` then ties the allocation to the audit."""

    allocation_id: int
    case_reference: str
    audit_type: str
    service_area_id: int
    team_id: int
    team_manager_id: int | None
    auditor_id: int | None
    due_date: dt.date
    selection: str = SELECTION_RANDOM_DRAW

    def as_dict(self) -> dict:
        return {"allocation_id": self.allocation_id, "case_reference": self.case_reference,
                "audit_type": self.audit_type, "service_area_id": self.service_area_id,
                "team_id": self.team_id, "team_manager_id": self.team_manager_id,
                "auditor_id": self.auditor_id, "due_date": self.due_date,
                "selection": self.selection}


def audit_prefill(session: Session, allocation_id: int) -> AuditPrefill:
    """The pre-fill for an audit of an allocated case (its auditor, or an administrator or
    service manager)."""
    session.require(Role.QA_OFFICER, *VIEWERS, doing="start an allocated audit")
    allocation = _allocation(session.store.conn, allocation_id)
    _may_see_allocation(session, allocation)
    if allocation.status != "allocated":
        raise ValidationError.single("allocation", "it was replaced or cancelled")
    return AuditPrefill(allocation.id, allocation.case_reference, allocation.audit_type,
                        allocation.service_area_id, allocation.team_id,
                        allocation.team_manager_id, allocation.auditor_id,
                        allocation.due_date)


def link_audit(session: Session, allocation_id: int, audit_id: int) -> Change:
    """Tie an allocation to the audit done for it (the allocated auditor, or an
    administrator): the audit must be of the same case and not already tied to another."""
    session.require(Role.QA_OFFICER, Role.ADMINISTRATOR, doing="link an audit to its "
                                                              "allocation")
    with session.store.transaction() as conn:
        allocation = _allocation(conn, allocation_id)
        if allocation.auditor_id != session.actor.id and \
                not session.actor.has_role(Role.ADMINISTRATOR):
            raise PermissionDenied("Only the allocated auditor or an administrator can link "
                                   "an audit to this allocation.")
        if allocation.status != "allocated":
            raise ValidationError.single("allocation", "it was replaced or cancelled")
        row = plan_store.audit_case_reference(conn, audit_id)
        if row is None:
            raise NotFound(f"There is no audit {audit_id}.")
        if sampling.normalise_reference(row[0] or "") != allocation.case_reference:
            raise ValidationError.single("audit", f"audit {audit_id} is of {row[0]}, not "
                                                  f"{allocation.case_reference}")
        other = plan_store.allocation_for_audit(conn, audit_id)
        if other is not None and other.id != allocation_id:
            raise ValidationError.single("audit", f"audit {audit_id} is already linked to "
                                                  f"allocation {other.id}")
        plan_store.update_allocation(conn, allocation_id, {"audit_id": audit_id},
                                     who=session.who)
    return Change("allocations", (allocation_id,), "update")


def start_audit(session: Session, allocation_id: int) -> Change:
    """Start the audit of an allocated case, in one transaction: a draft filled in from the
    allocation (case, audit type, service area, team, team manager, the allocated auditor,
    today's date, the current template), recorded as drawn at random, and linked to the
    allocation. Only the allocated auditor (or an administrator) starts it, once."""
    from sefton_qa.domain.models import AuditInput, AuditType, Selection
    from sefton_qa.services import audits as audit_service
    from sefton_qa.store import templates as template_store

    prefill = audit_prefill(session, allocation_id)
    with session.store.transaction() as conn:
        allocation = _allocation(conn, allocation_id)
        if allocation.audit_id is not None:
            raise ValidationError.single("allocation", f"its audit was started already "
                                                       f"(audit {allocation.audit_id})")
        template = template_store.current(conn)
        change = audit_service.create_audit(session, AuditInput(
            case_reference=prefill.case_reference, audit_type=AuditType(prefill.audit_type),
            audit_date=session.today(), service_area_id=prefill.service_area_id,
            team_id=prefill.team_id, team_manager_id=prefill.team_manager_id,
            auditor_id=prefill.auditor_id, template_id=template.id if template else None,
            selection=Selection(prefill.selection)), submit=False)
        link_audit(session, allocation_id, change.record_id)
    return change


def allocation_of_audit(session: Session, audit_id: int) -> Allocation | None:
    """The allocation an audit was done for (so the audit form can say the case was drawn
    at random), or None."""
    session.require(Role.QA_OFFICER, Role.MODERATOR, Role.SERVICE_MANAGER, Role.ADMINISTRATOR,
                    doing="see audits")
    return plan_store.allocation_for_audit(session.store.conn, audit_id)


def my_allocations(session: Session, *, include_done: bool = False) -> list[Allocation]:
    """What is allocated to the signed-in auditor (their "My work"), due first; done ones
    only with ``include_done``."""
    if not session.actor.active:
        raise PermissionDenied(f"{session.actor.display_name}'s account is inactive.")
    found = plan_store.allocations(session.store.conn, auditor_id=session.actor.id,
                                   current_only=True)
    kept = {d.id for d in plan_store.list_draws(session.store.conn) if d.status == "kept"}
    return [a for a in found if a.draw_id in kept and (include_done or not a.is_done())]


def allocations(session: Session, *, plan_id: int | None = None, draw_id: int | None = None,
                auditor_id: int | None = None, current_only: bool = True) -> list[Allocation]:
    """The allocation list (administrators and service managers)."""
    session.require(*VIEWERS, doing="see the allocation list")
    return plan_store.allocations(session.store.conn, plan_id=plan_id, draw_id=draw_id,
                                  auditor_id=auditor_id, current_only=current_only)


@dataclass(frozen=True)
class TeamProgress:
    team_id: int
    team: str
    planned: int  # cases allocated (current) in the plan's kept draw
    done: int  # their audits submitted
    overdue: int  # neither done nor replaced, past their due date

    @property
    def outstanding(self) -> int:
        return self.planned - self.done


def plan_progress(session: Session, plan_id: int) -> list[TeamProgress]:
    """Planned, done and overdue by team for the plan's kept draw (as of today)."""
    session.require(*VIEWERS, doing="see audit plans")
    conn = session.store.conn
    today = session.today()
    with session.store.snapshot():
        _plan(conn, plan_id)
        draw = _kept_draw(conn, plan_id)
        rows = plan_store.allocations(conn, draw_id=draw.id, current_only=True) if draw else []
    by_team: dict[int, list[Allocation]] = {}
    for a in rows:
        by_team.setdefault(a.team_id, []).append(a)
    return [TeamProgress(team_id, items[0].team, len(items), sum(a.is_done() for a in items),
                         sum(a.is_overdue(today) for a in items))
            for team_id, items in sorted(by_team.items(), key=lambda kv: kv[1][0].team)]


EXPORT_HEADERS = ["Case reference", "Team", "Service area", "Audit type", "Auditor",
                  "Due date", "Status", "Audit", "Reserve for", "Why a reserve"]


def export_allocations(session: Session, path: str | Path, *, plan_id: int | None = None,
                       draw_id: int | None = None, overwrite: bool = False):
    """Write the allocation list as CSV or XLSX (by the extension) for team leads, recorded
    in the trail as any export. Returns an :class:`import_export.ExportResult`."""
    from sefton_qa.domain.models import AuditType
    from sefton_qa.services.import_export import ExportResult, deliver_recorded
    from sefton_qa.services.spreadsheets import write_csv, write_xlsx

    session.require(*VIEWERS, doing="export the allocation list")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError.single("file", f'"{path.name}" must end in .csv or .xlsx')
    today = session.today()
    items = plan_store.allocations(session.store.conn, plan_id=plan_id, draw_id=draw_id,
                                   current_only=True)
    replaced = {a.id: a.case_reference for a in plan_store.allocations(
        session.store.conn, plan_id=plan_id, draw_id=draw_id)}
    rows = [[a.case_reference, a.team, a.service_area, AuditType(a.audit_type).label,
             a.auditor or "", a.due_date.isoformat(),
             "done" if a.is_done() else "overdue" if a.is_overdue(today) else "to do",
             a.audit_id or "", replaced.get(a.replaces_id, "") if a.replaces_id else "",
             a.reserve_reason or ""] for a in items]

    def write(tmp: Path) -> None:
        if suffix == ".csv":
            write_csv(tmp, EXPORT_HEADERS, rows)
        else:
            write_xlsx(tmp, EXPORT_HEADERS, rows, sheet_title="Allocations")

    sha256 = deliver_recorded(session, path, write, overwrite=overwrite, values={
        "direction": "export", "file_name": path.name, "date_from": None, "date_to": None,
        "rows_written": len(rows), "rows_skipped": 0})[0]
    return ExportResult(path=path, rows=len(rows), sha256=sha256)


# -- the estimate --------------------------------------------------------------------------------
def sample_estimate(session: Session, draw_id: int) -> sampling.Estimate:
    """The share graded good or better among the draw's audited cases, each stratum weighted
    by its open cases (:func:`sampling.weighted_estimate`): only audits linked to the draw's
    current allocations and submitted count."""
    session.require(Role.QA_OFFICER, *VIEWERS, doing="see the sample's estimate")
    with session.store.snapshot():
        draw = plan_store.get_draw(session.store.conn, draw_id)
        if draw is None:
            raise NotFound(f"There is no draw {draw_id}.")
        return _estimate(session.store.conn, draw)


def period_sample(conn, start: dt.date, end: dt.date
                  ) -> tuple[AuditPlan, Draw, sampling.Estimate] | None:
    """The period's open audit plan with a kept draw, the draw and its estimate (for the
    committee pack, whose builder's role its own service checks); None without one."""
    for plan in plan_store.plans_for_period(conn, start, end):
        draw = _kept_draw(conn, plan.id)
        if draw is not None:
            return plan, draw, _estimate(conn, draw)
    return None


def _estimate(conn, draw: Draw) -> sampling.Estimate:
    draw_id = draw.id
    done = plan_store.allocations(conn, draw_id=draw_id, current_only=True)
    grades = plan_store.submitted_grades_of_draw(conn, draw_id)
    good = {Grade.GOOD.value, Grade.OUTSTANDING.value}
    strata = []
    for info in draw.strata:
        mine = [a for a in done if a.stratum == info.stratum and a.audit_id in grades]
        strata.append(sampling.StratumResult(
            info.open_cases, len(mine), sum(grades[a.audit_id] in good for a in mine)))
    return sampling.weighted_estimate(strata)
