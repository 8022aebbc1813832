"""Manage service areas, teams, staff, themes and settings (administrators only)."""

from __future__ import annotations

import re

from sefton_qa.domain.errors import FieldProblem, NotFound, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Change, Role, ServiceArea, Staff, Team, Theme
from sefton_qa.services.session import Session
from sefton_qa.store import grades as grade_store
from sefton_qa.store import service_areas as area_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store
from sefton_qa.store import themes as theme_store

MAX_NAME = 120
_USERNAME = re.compile(r"^[A-Za-z0-9._@\\-]{1,64}$")


def _name_problem(field: str, name: str) -> FieldProblem | None:
    if not name or not name.strip():
        return FieldProblem(field, "is required")
    if len(name) > MAX_NAME:
        return FieldProblem(field, f"is longer than {MAX_NAME} characters")
    if name != name.strip():
        return FieldProblem(field, "must not start or end with spaces")
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
                 roles=None, team_id: int | None = None, active: bool | None = None) -> Change:
    session.require(Role.ADMINISTRATOR, doing="change staff records")
    with session.store.transaction() as conn:
        current = staff_store.get(conn, staff_id)
        if current is None:
            raise NotFound(f"There is no member of staff with id {staff_id}.")
        values: dict = {}
        if display_name is not None:
            _raise_if(_name_problem("display_name", display_name))
            values["display_name"] = display_name
        if roles is not None:
            _raise_if(*_staff_problems(current.display_name, None, roles))
            values["roles"] = list(roles)
        if team_id is not None:
            values["team_id"] = team_id
        if active is not None:
            values["active"] = int(active)
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
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationError.single("case_reference_pattern", f"is not a valid pattern: {exc}")
    _raise_if(_name_problem("case_reference_hint", hint))
    with session.store.transaction() as conn:
        settings_store.put(conn, "case_reference_pattern", pattern, who=session.who)
        settings_store.put(conn, "case_reference_hint", hint, who=session.who)
    return Change("settings", (), "update")


def set_authority_name(session: Session, name: str) -> Change:
    session.require(Role.ADMINISTRATOR, doing="change the authority's name")
    _raise_if(_name_problem("authority_name", name))
    with session.store.transaction() as conn:
        settings_store.put(conn, "authority_name", name, who=session.who)
    return Change("settings", (), "update")
