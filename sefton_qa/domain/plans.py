"""The caseload, audit plans, draws and allocations as the services hand them out (issue 19)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sefton_qa.domain.working_days import is_overdue

#: The case types the caseload import knows, by the spellings case-management exports use.
#: Any other text is kept as it is written (councils name their own).
CASE_TYPES = {
    "child in need": "Child in need", "cin": "Child in need",
    "child protection": "Child protection", "cp": "Child protection",
    "child looked after": "Child looked after", "cla": "Child looked after",
    "looked after child": "Child looked after", "lac": "Child looked after",
    "child in care": "Child looked after", "cic": "Child looked after",
    "care leaver": "Care leaver", "care leavers": "Care leaver", "leaving care": "Care leaver",
    "early help": "Early help", "eh": "Early help",
    "child with disabilities": "Children with disabilities",
    "children with disabilities": "Children with disabilities", "cwd": "Children with disabilities",
    "assessment": "Assessment",
}

#: The audit types a plan draws cases for (themed audits are chosen by theme, not drawn).
DRAWN_AUDIT_TYPES = ("deep_dive", "dip_sample")
#: The value an audit started from an allocation carries in its ``selection`` field.
SELECTION_RANDOM_DRAW = "random_draw"  # domain.models.Selection.RANDOM_DRAW


@dataclass(frozen=True)
class CaseloadSnapshot:
    id: int
    taken_on: dt.date
    file_name: str
    sha256: str
    case_count: int
    created_at: str


@dataclass(frozen=True)
class CaseloadCase:
    id: int
    snapshot_id: int
    case_reference: str
    team_id: int
    team: str
    service_area_id: int
    service_area: str
    case_type: str
    opened_on: dt.date | None
    team_manager_id: int | None
    team_manager: str | None


@dataclass(frozen=True)
class PlanQuota:
    id: int
    plan_id: int
    stratum: str  # "team:12" or "area:3": the key the draw hashes
    label: str  # the team's or service area's name
    team_id: int | None
    service_area_id: int | None
    deep_dives: int
    dip_samples: int

    @property
    def total(self) -> int:
        return self.deep_dives + self.dip_samples


@dataclass(frozen=True)
class AuditPlan:
    id: int
    period_start: dt.date
    period_end: dt.date
    snapshot_id: int
    stratify_by: str  # "team" or "service_area"
    quota_rule: str  # "proportional", "per_stratum" or "by_hand"
    exclude_months: int
    due_date: dt.date
    status: str
    quotas: tuple[PlanQuota, ...] = ()


@dataclass(frozen=True)
class StratumInfo:
    """One stratum of a draw as recorded: its open cases, those left out for a recent audit,
    those eligible, the sample asked for and drawn, and the reserves."""

    stratum: str
    label: str
    open_cases: int
    excluded: int
    eligible: int
    deep_dives: int
    dip_samples: int
    sample: int
    reserves: int
    #: The teams whose cases made up the stratum when it was drawn (one for a team stratum).
    team_ids: tuple[int, ...] = ()

    @property
    def short(self) -> int:
        return self.deep_dives + self.dip_samples - self.sample

    def as_json(self) -> dict:
        return {"stratum": self.stratum, "label": self.label, "open_cases": self.open_cases,
                "excluded": self.excluded, "eligible": self.eligible,
                "deep_dives": self.deep_dives, "dip_samples": self.dip_samples,
                "sample": self.sample, "reserves": self.reserves,
                "team_ids": list(self.team_ids)}


@dataclass(frozen=True)
class Draw:
    id: int
    plan_id: int
    snapshot_id: int
    method: str
    seed: str
    seed_source: str  # "secrets" or "given"
    drawn_by: int | None
    drawn_at: str
    strata: tuple[StratumInfo, ...]
    excluded: tuple[str, ...]
    status: str  # "kept" or "discarded"
    discarded_by: int | None
    discarded_at: str | None
    discard_reason: str | None

    @property
    def sample_size(self) -> int:
        """The cases drawn for audit (reserves not counted)."""
        return sum(s.sample for s in self.strata)

    @property
    def open_cases(self) -> int:
        """The open cases of the strata drawn from (the caseload the sample stands for)."""
        return sum(s.open_cases for s in self.strata)


@dataclass(frozen=True)
class DrawnCase:
    id: int
    draw_id: int
    case_id: int
    case_reference: str
    stratum: str
    rank: int
    audit_type: str | None
    is_reserve: bool


@dataclass(frozen=True)
class Allocation:
    """A drawn case given to an auditor, with everything a list of work shows."""

    id: int
    draw_id: int
    plan_id: int
    drawn_case_id: int
    case_reference: str
    audit_type: str
    stratum: str
    rank: int
    is_reserve: bool
    team_id: int
    team: str
    service_area_id: int
    service_area: str
    team_manager_id: int | None
    auditor_id: int | None
    auditor: str | None
    due_date: dt.date
    audit_id: int | None
    audit_status: str | None
    status: str  # "allocated", "replaced" or "cancelled"
    replaces_id: int | None
    reserve_reason: str | None

    def is_done(self) -> bool:
        return self.audit_status == "submitted"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status == "allocated" and not self.is_done() and \
            is_overdue(self.due_date, today)
