"""Plain data classes for the things the app keeps. No Qt, no SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from sefton_qa.domain.grades import Grade


class Role(str, Enum):
    QA_OFFICER = "qa_officer"
    MODERATOR = "moderator"
    SERVICE_MANAGER = "service_manager"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize().replace("Qa ", "QA ")

    @property
    def label_in_sentence(self) -> str:
        """"QA officer", "moderator", "service manager": lower case but for the acronym."""
        return "QA officer" if self is Role.QA_OFFICER else self.label.lower()


class AuditType(str, Enum):
    DEEP_DIVE = "deep_dive"
    THEMED = "themed"
    DIP_SAMPLE = "dip_sample"

    @property
    def label(self) -> str:
        return {"deep_dive": "Deep dive", "themed": "Themed", "dip_sample": "Dip sample"}[self.value]


class Selection(str, Enum):
    """How the audited case was chosen. The pack's 95% intervals describe the caseload only
    when the cases were drawn from it at random; otherwise they describe these audits."""

    RANDOM_DRAW = "random_draw"
    CHOSEN = "chosen"
    REFERRED = "referred"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return SELECTION_LABELS[self]


SELECTION_LABELS = {
    Selection.RANDOM_DRAW: "Random draw",
    Selection.CHOSEN: "Chosen by the QA team",
    Selection.REFERRED: "Referred for audit",
    Selection.UNKNOWN: "Not recorded",
}
#: What an audit of each type records when the person logging it does not say (a setting,
#: ``selection_defaults``, changes it per store): today auditors choose their own cases.
DEFAULT_SELECTION = {"deep_dive": Selection.CHOSEN, "themed": Selection.CHOSEN,
                     "dip_sample": Selection.CHOSEN}


class AuditStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class Staff:
    id: int
    display_name: str
    os_username: str | None
    roles: frozenset[Role]
    team_id: int | None
    active: bool

    def has_role(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class ServiceArea:
    id: int
    name: str
    active: bool = True


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    service_area_id: int
    service_manager_id: int | None
    active: bool = True


@dataclass(frozen=True)
class Theme:
    id: int
    name: str
    active: bool = True


@dataclass(frozen=True)
class TemplateSection:
    key: str
    title: str
    prompt: str = ""


@dataclass(frozen=True)
class AuditTemplate:
    id: int
    name: str
    version: int
    sections: tuple[TemplateSection, ...]
    active: bool = True


@dataclass(frozen=True)
class SectionGrade:
    grade: Grade | None
    notes: str = ""


@dataclass
class AuditInput:
    """What a person fills in to create or edit an audit. Services validate it."""

    case_reference: str = ""
    audit_type: AuditType = AuditType.DEEP_DIVE
    audit_date: dt.date | None = None
    service_area_id: int | None = None
    team_id: int | None = None
    auditor_id: int | None = None
    team_manager_id: int | None = None
    template_id: int | None = None
    sections: dict[str, SectionGrade] = field(default_factory=dict)
    overall_grade: Grade | None = None
    theme_ids: list[int] = field(default_factory=list)
    findings: str = ""
    #: None: the store's default for the audit type (see ``DEFAULT_SELECTION``).
    selection: Selection | None = None


@dataclass(frozen=True)
class Audit:
    id: int
    case_reference: str | None
    audit_type: AuditType
    audit_date: dt.date | None
    service_area_id: int | None
    team_id: int | None
    auditor_id: int
    team_manager_id: int | None
    template_id: int | None
    sections: dict[str, SectionGrade]
    overall_grade: Grade | None
    theme_ids: tuple[int, ...]
    findings: str
    status: AuditStatus
    version: int
    created_at: str
    updated_at: str
    selection: Selection = Selection.UNKNOWN

    def to_input(self) -> AuditInput:
        return AuditInput(
            case_reference=self.case_reference or "",
            audit_type=self.audit_type,
            audit_date=self.audit_date,
            service_area_id=self.service_area_id,
            team_id=self.team_id,
            auditor_id=self.auditor_id,
            team_manager_id=self.team_manager_id,
            template_id=self.template_id,
            sections=dict(self.sections),
            overall_grade=self.overall_grade,
            theme_ids=list(self.theme_ids),
            findings=self.findings,
            selection=self.selection,
        )


@dataclass(frozen=True)
class TrailEntry:
    seq: int
    at_utc: str
    staff_id: int | None
    os_user: str
    table_name: str
    record_id: int
    kind: str
    changes: dict
    reason: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Change:
    """What a service call changed, so a view can refresh only what it shows.

    ``table``, ``record_ids`` and ``kind`` are what the service says it did; ``touched`` is
    every (table, record id) its transaction wrote a trail row for (submitting an audit also
    flags a moderation, holding a conversation adds actions), filled in by the operation that
    ran it (see ``store.trail.collect_touched``)."""

    table: str
    record_ids: tuple[int, ...]
    kind: str
    touched: frozenset = frozenset()

    @property
    def record_id(self) -> int:
        return self.record_ids[0]

    @property
    def tables(self) -> frozenset[str]:
        """Every table the change wrote to."""
        return frozenset({t for t, _ in self.touched} | ({self.table} if self.table else set()))


class ModerationStatus(str, Enum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class ConversationStatus(str, Enum):
    DUE = "due"
    HELD = "held"
    CANCELLED = "cancelled"


class ActionStatus(str, Enum):
    OPEN = "open"
    DONE = "done"
    NOT_NEEDED = "not_needed"

    @property
    def label(self) -> str:
        return {"open": "Open", "done": "Done", "not_needed": "No longer needed"}[self.value]


#: Who took part in a reflective conversation, by role (never names of children).
PARTICIPANT_ROLES = ("worker", "team manager", "auditor", "service manager", "other")


@dataclass(frozen=True)
class Moderation:
    id: int
    audit_id: int
    flagged_because: str  # inadequate / calibration / imported / requested
    flagged_on: dt.date | None
    due_date: dt.date | None
    moderator_id: int | None
    original_grade: Grade | None
    moderated_grade: Grade | None
    moderation_date: dt.date | None
    reason: str | None
    section_comments: dict
    status: ModerationStatus
    selection: dict | None
    version: int

    @property
    def outcome(self) -> str | None:
        """confirmed / upgraded / downgraded, once done."""
        if self.status is not ModerationStatus.DONE or not self.original_grade \
                or not self.moderated_grade:
            return None
        diff = self.moderated_grade.rank - self.original_grade.rank
        return "confirmed" if diff == 0 else ("upgraded" if diff > 0 else "downgraded")


@dataclass(frozen=True)
class ReflectiveConversation:
    id: int
    audit_id: int
    moderation_id: int | None
    service_manager_id: int | None
    due_date: dt.date | None
    held_on: dt.date | None
    facilitator_id: int | None
    participants: tuple[str, ...]
    learning: str
    status: ConversationStatus
    version: int


@dataclass(frozen=True)
class RemedialAction:
    id: int
    audit_id: int
    conversation_id: int | None
    description: str
    owner_id: int | None
    due_date: dt.date
    status: ActionStatus
    status_reason: str | None
    evidence: str
    completed_on: dt.date | None
    reaudit_by: dt.date | None
    reaudit_audit_id: int | None
    version: int

    def overdue(self, today: dt.date) -> bool:
        from sefton_qa.domain.working_days import is_overdue

        return self.status is ActionStatus.OPEN and is_overdue(self.due_date, today)


@dataclass
class ActionInput:
    description: str = ""
    owner_id: int | None = None
    due_date: dt.date | None = None
    reaudit_by: dt.date | None = None
