"""Manage service areas, teams, staff, themes and settings (administrators only)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sefton_qa.domain.errors import FieldProblem, NotFound, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import (
    AuditTemplate,
    AuditType,
    Change,
    Role,
    Selection,
    ServiceArea,
    Staff,
    Team,
    TemplateSection,
    Theme,
)
from sefton_qa.domain.reference import case_reference_problem, pattern_problem
from sefton_qa.services.session import Session
from sefton_qa.store import audits as audit_store
from sefton_qa.store import grades as grade_store
from sefton_qa.store import service_areas as area_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store
from sefton_qa.store import templates as template_store
from sefton_qa.store import themes as theme_store
from sefton_qa.domain.wording import date_text

MAX_NAME = 120
MAX_PROMPT = 1000


class _Keep:
    """Marks an argument left out (so None can mean "clear this field")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()
_USERNAME = re.compile(r"^[A-Za-z0-9._@\\-]{1,64}$")


def _name_problem(field: str, name: str) -> FieldProblem | None:
    if not name or not name.strip():
        return FieldProblem(field, "is required")
    if len(name) > MAX_NAME:
        return FieldProblem(field, f"is longer than {MAX_NAME} characters")
    if name != name.strip():
        return FieldProblem(field, "must not start or end with spaces")
    if any(ord(c) < 32 or ord(c) == 127 or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
           for c in name):
        return FieldProblem(field, "must not contain control or text-direction characters")
    return None


def _raise_if(*problems: FieldProblem | None) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise ValidationError(found)


# -- reads (anyone signed in) ------------------------------------------------------------------
def service_areas(session: Session, *, active_only: bool = False) -> list[ServiceArea]:
    return area_store.list_all(session.store.conn, active_only=active_only)


def teams(session: Session, *, service_area_id: int | None = None,
          active_only: bool = False) -> list[Team]:
    return team_store.list_all(session.store.conn, service_area_id=service_area_id,
                               active_only=active_only)


def staff(session: Session, *, active_only: bool = False) -> list[Staff]:
    return staff_store.list_all(session.store.conn, active_only=active_only)


def themes(session: Session, *, active_only: bool = False) -> list[Theme]:
    return theme_store.list_all(session.store.conn, active_only=active_only)


def settings(session: Session) -> dict:
    return settings_store.get_all(session.store.conn)


# -- writes (administrators) -------------------------------------------------------------------
def add_service_area(session: Session, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="add service areas")
    _raise_if(_name_problem("name", name))
    with session.store.transaction() as conn:
        if area_store.find_by_name(conn, name):
            raise ValidationError.single("name", f'a service area called "{name}" already '
                                                 "exists")
        new_id = area_store.insert(conn, name, who=session.who)
    return Change("service_areas", (new_id,), "create")


def add_team(session: Session, name: str, service_area_id: int, *,
             service_manager_id: int | None = None) -> Change:
    session.require(Role.ADMINISTRATOR, doing="add teams")
    _raise_if(_name_problem("name", name))
    with session.store.transaction() as conn:
        if area_store.get(conn, service_area_id) is None:
            raise ValidationError.single("service_area", f"there is no service area with id "
                                                         f"{service_area_id}")
        if any(t.service_area_id == service_area_id for t in team_store.find_by_name(conn, name)):
            raise ValidationError.single("name", f'that service area already has a team called '
                                                 f'"{name}"')
        _check_service_manager(conn, service_manager_id)
        new_id = team_store.insert(conn, {"name": name, "service_area_id": service_area_id,
                                          "service_manager_id": service_manager_id, "active": 1},
                                   who=session.who)
    return Change("teams", (new_id,), "create")


def _check_service_manager(conn, staff_id: int | None) -> None:
    if staff_id is None:
        return
    person = staff_store.get(conn, staff_id)
    if person is None:
        raise ValidationError.single("service_manager", f"there is no member of staff with id "
                                                        f"{staff_id}")
    if not person.has_role(Role.SERVICE_MANAGER):
        raise ValidationError.single("service_manager", f"{person.display_name} does not hold "
                                                        "the service manager role")


def set_team_service_manager(session: Session, team_id: int, staff_id: int | None) -> Change:
    session.require(Role.ADMINISTRATOR, doing="change a team's service manager")
    with session.store.transaction() as conn:
        if team_store.get(conn, team_id) is None:
            raise NotFound(f"There is no team with id {team_id}.")
        _check_service_manager(conn, staff_id)
        team_store.update(conn, team_id, {"service_manager_id": staff_id}, who=session.who)
    return Change("teams", (team_id,), "update")


def _staff_problems(display_name: str, os_username: str | None, roles) -> list:
    problems = [_name_problem("display_name", display_name)]
    if os_username is not None and not _USERNAME.fullmatch(os_username):
        problems.append(FieldProblem("os_username", f'"{os_username}" is not a valid account '
                                                    "name (letters, digits, . _ @ \\ -)"))
    try:
        [Role(r) for r in roles]
    except ValueError as exc:
        problems.append(FieldProblem("roles", str(exc)))
    return problems


def add_staff(session: Session, display_name: str, *, os_username: str | None = None,
              roles=(Role.QA_OFFICER,), team_id: int | None = None) -> Change:
    session.require(Role.ADMINISTRATOR, doing="add staff")
    _raise_if(*_staff_problems(display_name, os_username, roles))
    with session.store.transaction() as conn:
        if os_username and staff_store.find_by_os_username(conn, os_username):
            raise ValidationError.single("os_username", f'the account "{os_username}" already '
                                                        "belongs to someone")
        if team_id is not None and team_store.get(conn, team_id) is None:
            raise ValidationError.single("team", f"there is no team with id {team_id}")
        new_id = staff_store.insert(conn, {"display_name": display_name,
                                           "os_username": os_username, "roles": list(roles),
                                           "team_id": team_id, "active": 1}, who=session.who)
    return Change("staff", (new_id,), "create")


def update_staff(session: Session, staff_id: int, *, display_name: str | None = None,
                 os_username=KEEP, roles=None, team_id=KEEP,
                 active: bool | None = None) -> Change:
    """Change a staff record. Leave an argument out to keep that field as it is;
    ``os_username=None`` removes the account (the person is still recorded, but cannot sign in)
    and ``team_id=None`` takes them out of their team."""
    session.require(Role.ADMINISTRATOR, doing="change staff records")
    with session.store.transaction() as conn:
        current = staff_store.get(conn, staff_id)
        if current is None:
            raise NotFound(f"There is no member of staff with id {staff_id}.")
        values: dict = {}
        problems: list[FieldProblem | None] = []
        if display_name is not None:
            problems.append(_name_problem("display_name", display_name))
            values["display_name"] = display_name
        if os_username is not KEEP:
            os_username = os_username or None
            if os_username is not None and not _USERNAME.fullmatch(os_username):
                problems.append(FieldProblem(
                    "os_username", f'"{os_username}" is not a valid account name (letters, '
                                   "digits, . _ @ \\ -)"))
            elif os_username is not None:
                other = staff_store.find_by_os_username(conn, os_username)
                if other is not None and other.id != staff_id:
                    problems.append(FieldProblem(
                        "os_username", f'the account "{os_username}" already belongs to '
                                       f"{other.display_name}"))
            if staff_id == session.actor.id and \
                    (os_username or "").lower() != (current.os_username or "").lower():
                problems.append(FieldProblem(
                    "os_username", "you cannot change the account you are signed in with; "
                                   "ask another administrator"))
            values["os_username"] = os_username
        if roles is not None:
            problems.extend(_staff_problems(current.display_name, None, roles))
            values["roles"] = list(roles)
        if team_id is not KEEP:
            if team_id is not None and team_id != current.team_id:
                team = team_store.get(conn, team_id)
                if team is None:
                    problems.append(FieldProblem("team", f"there is no team with id {team_id}"))
                elif not team.active:
                    problems.append(FieldProblem("team", f'"{team.name}" is no longer in use'))
            values["team_id"] = team_id
        if active is not None:
            values["active"] = int(active)
        _raise_if(*problems)
        if staff_id == session.actor.id and (
                (roles is not None and Role.ADMINISTRATOR not in set(map(Role, roles)))
                or active is False):
            raise ValidationError.single("roles", "you cannot remove your own administrator "
                                                  "role or deactivate yourself")
        staff_store.update(conn, staff_id, values, who=session.who)
    session.refresh_actor()
    return Change("staff", (staff_id,), "update")


def add_theme(session: Session, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="add themes")
    _raise_if(_name_problem("name", name))
    with session.store.transaction() as conn:
        if theme_store.find_by_name(conn, name):
            raise ValidationError.single("name", f'a theme called "{name}" already exists')
        new_id = theme_store.insert(conn, name, who=session.who)
    return Change("themes", (new_id,), "create")


def set_outstanding_enabled(session: Session, enabled: bool) -> Change:
    """Switch the optional 'outstanding' grade on or off for new audits."""
    session.require(Role.ADMINISTRATOR, doing="change the grade scale")
    with session.store.transaction() as conn:
        grade_store.set_active(conn, Grade.OUTSTANDING, enabled, who=session.who)
        settings_store.put(conn, "outstanding_enabled", bool(enabled), who=session.who)
    return Change("grades", (), "update")


def set_case_reference_format(session: Session, pattern: str, hint: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="change the case-reference format")
    problem = pattern_problem(pattern)
    _raise_if(FieldProblem("case_reference_pattern", problem) if problem else None)
    _raise_if(_name_problem("case_reference_hint", hint))
    with session.store.transaction() as conn:
        settings_store.put(conn, "case_reference_pattern", pattern, who=session.who)
        settings_store.put(conn, "case_reference_hint", hint, who=session.who)
    return Change("settings", (), "update")


def earliest_audit_date(session: Session) -> dt.date:
    from sefton_qa.services.audits import earliest_audit_date as read

    return read(session.store.conn)


def set_earliest_audit_date(session: Session, earliest: dt.date) -> Change:
    """The earliest audit date the store takes (audits dated before it are refused as a
    mistyped year): from 1 January 1990 to today."""
    from sefton_qa.services.audits import LOWEST_EARLIEST_AUDIT_DATE

    session.require(Role.ADMINISTRATOR, doing="change the earliest audit date")
    if not isinstance(earliest, dt.date) or isinstance(earliest, dt.datetime):
        raise ValidationError.single("earliest_audit_date", "is not a date")
    if earliest < LOWEST_EARLIEST_AUDIT_DATE:
        raise ValidationError.single(
            "earliest_audit_date",
            f"cannot be before {date_text(LOWEST_EARLIEST_AUDIT_DATE)}")
    if earliest > session.today():
        raise ValidationError.single("earliest_audit_date", "cannot be after today")
    with session.store.transaction() as conn:
        settings_store.put(conn, "earliest_audit_date", earliest.isoformat(), who=session.who)
    return Change("settings", (), "update")


def set_authority_name(session: Session, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="change the authority's name")
    _raise_if(_name_problem("authority_name", name))
    with session.store.transaction() as conn:
        settings_store.put(conn, "authority_name", name, who=session.who)
    return Change("settings", (), "update")


def set_exempt_information(session: Session, text: str) -> Change:
    """The paragraph the internal committee pack carries to say why it is not for publication
    (by default paragraphs 1 and 2 of Part 1 of Schedule 12A to the Local Government Act
    1972); a council may word it its own way."""
    from sefton_qa.reports.cover import EXEMPT_SETTING, MAX_TEXT

    session.require(Role.ADMINISTRATOR, doing="change the packs' exempt-information paragraph")
    text = " ".join(text.split())
    if not text:
        raise ValidationError.single("exempt_information", "is required (or put back the "
                                                           "standard wording)")
    if len(text) > MAX_TEXT:
        raise ValidationError.single("exempt_information",
                                     f"is longer than {MAX_TEXT:,} characters")
    with session.store.transaction() as conn:
        settings_store.put(conn, EXEMPT_SETTING, text, who=session.who)
    return Change("settings", (), "update")


def selection_defaults(session: Session) -> dict[AuditType, Selection]:
    """How cases of each audit type are recorded as chosen when the person logging says
    nothing (what a new audit's form shows first)."""
    from sefton_qa.services.audits import selection_defaults as read

    return read(session.store.conn)


def set_selection_default(session: Session, audit_type: AuditType,
                          selection: Selection) -> Change:
    """How cases of one audit type are chosen when the person logging an audit does not say;
    the committee pack reports it. Administrators only; trailed like every setting."""
    from sefton_qa.services.audits import SELECTION_SETTING, selection_defaults

    session.require(Role.ADMINISTRATOR, doing="change how cases are recorded as chosen")
    try:
        audit_type, selection = AuditType(audit_type), Selection(selection)
    except ValueError as exc:
        raise ValidationError.single("selection", str(exc)) from None
    with session.store.transaction() as conn:
        values = {k.value: v.value for k, v in selection_defaults(conn).items()}
        if values[audit_type.value] == selection.value:
            return Change("settings", (), "update")
        values[audit_type.value] = selection.value
        settings_store.put(conn, SELECTION_SETTING, values, who=session.who)
    return Change("settings", (), "update")


# -- renaming and retiring ---------------------------------------------------------------------
# Nothing is ever deleted: audits keep pointing at the names they were logged under. A record
# no longer in use is deactivated, so it is not offered for new audits, and can be reactivated.
def rename_service_area(session: Session, area_id: int, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="rename service areas")
    _raise_if(_name_problem("name", name))
    with session.store.transaction() as conn:
        if area_store.get(conn, area_id) is None:
            raise NotFound(f"There is no service area with id {area_id}.")
        other = area_store.find_by_name(conn, name)
        if other is not None and other.id != area_id:
            raise ValidationError.single("name", f'a service area called "{other.name}" '
                                                 "already exists")
        area_store.update(conn, area_id, {"name": name}, who=session.who)
    return Change("service_areas", (area_id,), "update")


def set_service_area_active(session: Session, area_id: int, active: bool) -> Change:
    """Retire a service area (its teams can no longer be chosen for new audits) or bring it
    back. Its teams keep their own active flag."""
    session.require(Role.ADMINISTRATOR, doing="retire or reactivate service areas")
    with session.store.transaction() as conn:
        if area_store.get(conn, area_id) is None:
            raise NotFound(f"There is no service area with id {area_id}.")
        area_store.update(conn, area_id, {"active": int(bool(active))}, who=session.who)
    return Change("service_areas", (area_id,), "update")


def rename_team(session: Session, team_id: int, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="rename teams")
    _raise_if(_name_problem("name", name))
    with session.store.transaction() as conn:
        team = team_store.get(conn, team_id)
        if team is None:
            raise NotFound(f"There is no team with id {team_id}.")
        if any(t.service_area_id == team.service_area_id and t.id != team_id
               for t in team_store.find_by_name(conn, name)):
            raise ValidationError.single("name", f'that service area already has a team called '
                                                 f'"{name}"')
        team_store.update(conn, team_id, {"name": name}, who=session.who)
    return Change("teams", (team_id,), "update")


def set_team_active(session: Session, team_id: int, active: bool) -> Change:
    session.require(Role.ADMINISTRATOR, doing="retire or reactivate teams")
    with session.store.transaction() as conn:
        team = team_store.get(conn, team_id)
        if team is None:
            raise NotFound(f"There is no team with id {team_id}.")
        if active:
            area = area_store.get(conn, team.service_area_id)
            if area is not None and not area.active:
                raise ValidationError.single(
                    "active", f'its service area "{area.name}" is no longer in use; '
                              "reactivate the service area first")
        team_store.update(conn, team_id, {"active": int(bool(active))}, who=session.who)
    return Change("teams", (team_id,), "update")


def rename_theme(session: Session, theme_id: int, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="rename themes")
    _raise_if(_name_problem("name", name))
    with session.store.transaction() as conn:
        if theme_store.get(conn, theme_id) is None:
            raise NotFound(f"There is no theme with id {theme_id}.")
        other = theme_store.find_by_name(conn, name)
        if other is not None and other.id != theme_id:
            raise ValidationError.single("name", f'a theme called "{other.name}" already exists')
        theme_store.update(conn, theme_id, {"name": name}, who=session.who)
    return Change("themes", (theme_id,), "update")


def set_theme_active(session: Session, theme_id: int, active: bool) -> Change:
    session.require(Role.ADMINISTRATOR, doing="retire or reactivate themes")
    with session.store.transaction() as conn:
        if theme_store.get(conn, theme_id) is None:
            raise NotFound(f"There is no theme with id {theme_id}.")
        theme_store.update(conn, theme_id, {"active": int(bool(active))}, who=session.who)
    return Change("themes", (theme_id,), "update")


# -- case references ---------------------------------------------------------------------------
def try_case_reference(pattern: str, hint: str, sample: str) -> str | None:
    """What is wrong with ``sample`` under a proposed format (None: it is accepted). Raises
    ValidationError when the pattern itself is not valid. Reads nothing, writes nothing."""
    problem = pattern_problem(pattern)
    if problem:
        raise ValidationError.single("case_reference_pattern", problem)
    return case_reference_problem(sample, pattern, hint or "the format set in Settings")


# -- audit templates ---------------------------------------------------------------------------
_SECTION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def templates(session: Session, *, active_only: bool = False) -> list[AuditTemplate]:
    return template_store.list_all(session.store.conn, active_only=active_only)


def current_template(session: Session) -> AuditTemplate | None:
    return template_store.current(session.store.conn)


def suggest_section_key(title: str, taken=()) -> str:
    """A section key made from its title ("Multi-agency working" → "multi_agency_working"),
    not among ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:36] or "section"
    if not base[0].isalpha():
        base = "s_" + base
    key, n = base, 2
    while key in set(taken):
        key, n = f"{base}_{n}", n + 1
    return key


def _as_section(value) -> TemplateSection:
    if isinstance(value, TemplateSection):
        return value
    if isinstance(value, dict):
        return TemplateSection(str(value.get("key", "")), str(value.get("title", "")),
                               str(value.get("prompt", "")))
    key, title, *rest = value
    return TemplateSection(str(key), str(title), str(rest[0]) if rest else "")


def _section_problems(sections: list[TemplateSection]) -> list[FieldProblem]:
    problems = []
    if not sections:
        problems.append(FieldProblem("sections", "a template needs at least one section"))
    seen: set[str] = set()
    for number, section in enumerate(sections, start=1):
        field = f"section:{number}"
        if not _SECTION_KEY.fullmatch(section.key):
            problems.append(FieldProblem(field, f'section {number}: the key "{section.key}" must '
                                                "start with a lower-case letter and hold only "
                                                "lower-case letters, digits and _ (at most 40)"))
        elif section.key in seen:
            problems.append(FieldProblem(field, f'section {number}: the key "{section.key}" is '
                                                "used twice"))
        seen.add(section.key)
        title = _name_problem(field, section.title)
        if title is not None:
            problems.append(FieldProblem(field, f"section {number}: the title {title.message}"))
        if len(section.prompt) > MAX_PROMPT:
            problems.append(FieldProblem(field, f"section {number}: the prompt is longer than "
                                                f"{MAX_PROMPT} characters"))
    return problems


def add_template_version(session: Session, template_id: int, sections, *,
                         reason: str | None = None) -> Change:
    """Save edited sections as the next version of a template. The old version stays (audits
    logged with it keep their sections) but is no longer offered for new audits."""
    session.require(Role.ADMINISTRATOR, doing="change audit templates")
    sections = [_as_section(s) for s in sections]
    _raise_if(*_section_problems(sections))
    if reason is not None and len(reason) > MAX_PROMPT:
        raise ValidationError.single("reason", f"is longer than {MAX_PROMPT} characters")
    with session.store.transaction() as conn:
        base = template_store.get(conn, template_id)
        if base is None:
            raise NotFound(f"There is no audit template with id {template_id}.")
        latest = template_store.latest_version(conn, base.name)
        if base.version != latest:
            raise ValidationError.single(
                "template", f"{base.name} has a newer version ({latest}) than the one edited "
                            f"({base.version}); start again from version {latest}")
        if tuple(sections) == base.sections:
            raise ValidationError.single("sections", "are the same as version "
                                                     f"{base.version}: there is nothing to save")
        new_id = template_store.insert(conn, base.name, latest + 1, sections, who=session.who,
                                       reason=reason)
        for older in template_store.list_all(conn, active_only=True):
            if older.name == base.name and older.id != new_id:
                template_store.set_active(conn, older.id, False, who=session.who,
                                          reason=f"replaced by version {latest + 1}")
    return Change("audit_templates", (new_id,), "create")


# -- first run ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewStaff:
    """One person to add when setting up a store. ``team`` is (service area name, team name)."""

    display_name: str
    os_username: str | None = None
    roles: tuple = (Role.QA_OFFICER,)
    team: tuple[str, str] | None = None


@dataclass(frozen=True)
class SetupResult:
    service_areas: int
    teams: int
    staff: int


def needs_first_run(session: Session) -> bool:
    """True while the store holds no audits and has never been set up: the welcome page."""
    conn = session.store.conn
    return audit_store.count(conn) == 0 and not settings_store.get(conn, "set_up_on")


def set_up(session: Session, *, authority_name: str, areas, staff=(),
           your_name: str | None = None) -> SetupResult:
    """Set up a store for real in ONE transaction: the authority's name, service areas, each
    with one or more teams, and staff. ``areas`` maps (or lists pairs of) an area's name to its
    team names. Areas and teams that already exist (same name) are reused. Either everything
    is written or nothing is."""
    session.require(Role.ADMINISTRATOR, doing="set up the store")
    pairs = list(areas.items()) if hasattr(areas, "items") else [tuple(a) for a in areas]
    staff = list(staff)
    problems: list[FieldProblem | None] = [_name_problem("authority_name", authority_name)]
    if your_name is not None:
        problems.append(_name_problem("your_name", your_name))
    if not pairs:
        problems.append(FieldProblem("service_areas", "choose at least one service area"))
    chosen_areas: dict[str, set[str]] = {}
    for area_name, team_names in pairs:
        area_problem = _name_problem("service_areas", area_name)
        if area_problem is not None:
            problems.append(FieldProblem("service_areas",
                                         f"a service area's name {area_problem.message}"))
            continue
        if area_name.lower() in chosen_areas:
            problems.append(FieldProblem("service_areas", f'"{area_name}" is listed twice'))
            continue
        teams_here = chosen_areas.setdefault(area_name.lower(), set())
        team_names = list(team_names)
        if not team_names:
            problems.append(FieldProblem(f"teams:{area_name}", f"{area_name} needs at least "
                                                               "one team"))
        for team_name in team_names:
            team_problem = _name_problem(f"teams:{area_name}", team_name)
            if team_problem is not None:
                problems.append(FieldProblem(team_problem.field, f"a team in {area_name}: its "
                                                                 f"name {team_problem.message}"))
            elif team_name.lower() in teams_here:
                problems.append(FieldProblem(f"teams:{area_name}",
                                             f'{area_name} lists "{team_name}" twice'))
            else:
                teams_here.add(team_name.lower())
    accounts: set[str] = set()
    for number, person in enumerate(staff, start=1):
        field = f"staff:{number}"
        label = person.display_name.strip() or f"person {number}"
        for p in _staff_problems(person.display_name, person.os_username, person.roles):
            if p is not None:
                what = "the name " if p.field == "display_name" else ""
                problems.append(FieldProblem(field, f"{label}: {what}{p.message}"))
        if person.os_username:
            if person.os_username.lower() in accounts:
                problems.append(FieldProblem(field, f'{label}: the account '
                                                    f'"{person.os_username}" is listed twice'))
            accounts.add(person.os_username.lower())
        if person.team is not None:
            area_name, team_name = person.team
            if team_name.lower() not in chosen_areas.get(area_name.lower(), set()):
                problems.append(FieldProblem(field, f'{label}: the team "{team_name}" is not '
                                                    "one of those being set up"))
    _raise_if(*problems)

    def nested(field: str, label: str, call):
        try:
            return call()
        except ValidationError as exc:
            raise ValidationError([FieldProblem(field, f"{label}: {p.message}")
                                   for p in exc.problems]) from None

    with session.store.transaction() as conn:
        set_authority_name(session, authority_name)
        if your_name is not None and your_name != session.actor.display_name:
            update_staff(session, session.actor.id, display_name=your_name)
        team_ids: dict[tuple[str, str], int] = {}
        n_areas = n_teams = 0
        for area_name, team_names in pairs:
            area = area_store.find_by_name(conn, area_name)
            if area is None:
                area_id = nested("service_areas", area_name,
                                 lambda: add_service_area(session, area_name)).record_id
                n_areas += 1
            else:
                area_id = area.id
                if not area.active:
                    set_service_area_active(session, area_id, True)
            existing = {t.name.lower(): t for t in team_store.list_all(
                conn, service_area_id=area_id)}
            for team_name in team_names:
                team = existing.get(team_name.lower())
                if team is None:
                    team_id = nested(f"teams:{area_name}", team_name,
                                     lambda: add_team(session, team_name, area_id)).record_id
                    n_teams += 1
                else:
                    team_id = team.id
                    if not team.active:
                        set_team_active(session, team_id, True)
                team_ids[(area_name.lower(), team_name.lower())] = team_id
        for number, person in enumerate(staff, start=1):
            team_id = None
            if person.team is not None:
                team_id = team_ids[(person.team[0].lower(), person.team[1].lower())]
            new_id = nested(f"staff:{number}", person.display_name,
                            lambda: add_staff(session, person.display_name,
                                              os_username=person.os_username or None,
                                              roles=list(person.roles),
                                              team_id=team_id)).record_id
            # A service manager set up with a team becomes that team's service manager (when
            # it has none yet), so their own views show its conversations and actions.
            if team_id is not None and Role.SERVICE_MANAGER in set(map(Role, person.roles)):
                team = team_store.get(conn, team_id)
                if team is not None and team.service_manager_id is None:
                    set_team_service_manager(session, team_id, new_id)
        settings_store.put(conn, "set_up_on", session.today().isoformat(), who=session.who)
    return SetupResult(service_areas=n_areas, teams=n_teams, staff=len(staff))
