"""Who is acting: the current OS user mapped to a staff record, and the role checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sefton_qa.domain.errors import PermissionDenied
from sefton_qa.domain.models import Role, Staff
from sefton_qa.store import Store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import trail
from sefton_qa.store.records import Who


@dataclass
class Session:
    """A signed-in user working on one store. Every service takes one."""

    store: Store
    actor: Staff
    os_user: str
    today: Callable[[], dt.date] = field(default=dt.date.today)

    @property
    def who(self) -> Who:
        return Who(staff_id=self.actor.id, os_user=self.os_user)

    def require(self, *roles: Role, doing: str) -> None:
        """Deny by default: the actor must hold one of ``roles`` and be active."""
        if not self.actor.active:
            raise PermissionDenied(f"{self.actor.display_name}'s account is inactive, so they "
                                   f"cannot {doing}.")
        if not any(self.actor.has_role(r) for r in roles):
            needed = " or ".join(r.label_in_sentence for r in roles)
            article = "an" if needed[0] in "aeiou" else "a"
            raise PermissionDenied(f"Only {article} {needed} can {doing}; "
                                   f"{self.actor.display_name} is not one.")

    def refresh_actor(self) -> None:
        fresh = staff_store.get(self.store.conn, self.actor.id)
        if fresh is not None:
            self.actor = fresh


def _check_first_account(account: str) -> None:
    """The first user's account becomes a staff record's name and account: the same rules as
    Settings → Staff apply (it was once taken unchecked)."""
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.services.organisation import _staff_problems

    problems = [p for p in _staff_problems(account, account, [Role.ADMINISTRATOR]) if p]
    if problems:
        raise ValidationError(problems)


def _match_windows_account_once(conn, account: str):
    """A staff record from before accounts were read as DOMAIN\\user holds the bare user name:
    it is matched once, and from then on holds the whole account (with a trail row)."""
    from sefton_qa.identity import bare_name
    from sefton_qa.store import records

    legacy = staff_store.find_by_os_username(conn, bare_name(account))
    if legacy is None or "\\" in (legacy.os_username or ""):
        return None
    records.update_record(conn, "staff", legacy.id, {"os_username": account},
                          who=Who(staff_id=legacy.id, os_user=account),
                          reason="the Windows account, read from the system as DOMAIN\\user, "
                                 "matched this record's bare user name once")
    return staff_store.get(conn, legacy.id)


def _superuser(store: Store) -> bool:
    """A superuser's connection (a one-person server, the tests' server) may still become the
    first administrator of a store it made; everyone else's store is set up by server init."""
    from sefton_qa.store import postgres

    return postgres.is_superuser(store.conn)


def signed_in_account(store: Store) -> str:
    """Who the store takes this user for: on a file store the operating system's account; on a
    server store the authenticated database login."""
    if not store.dialect.is_file:
        from sefton_qa.store import postgres

        return postgres.session_login(store.conn)
    return trail.current_os_user()


def sign_in(store: Store, os_user: str | None = None, *,
            today: Callable[[], dt.date] = dt.date.today) -> Session:
    """Map the OS account to a staff record. On a brand-new store (no staff yet) the first user
    becomes its administrator (and a QA officer, so they can log audits at once).

    The account is the operating system's (:func:`sefton_qa.identity.os_account`), never an
    environment variable; on a server store it is the login the server authenticated
    (``session_user``), mapped to the staff record holding it. ``os_user`` is a seam for tests
    of the services only: no command-line option, window or variable reaches it."""
    seam = os_user is not None
    on_server = not store.dialect.is_file
    if os_user is None:
        os_user = signed_in_account(store)
    found = staff_store.find_by_os_username(store.conn, os_user)
    if found is None and store.read_only:
        raise PermissionDenied(
            f"The account '{os_user}' is not set up in this store. Ask a Sefton QA "
            "administrator to add you under Settings → Staff.")
    if found is None:
        with store.transaction() as conn:
            found = staff_store.find_by_os_username(conn, os_user)
            if found is None and "\\" in os_user:
                found = _match_windows_account_once(conn, os_user)
            if found is None:
                if staff_store.count(conn) == 0 and on_server and not seam and \
                        not _superuser(store):
                    raise PermissionDenied(
                        f"The login '{os_user}' is not set up in this store, which has no "
                        "administrator yet: on a server the first administrator is named by IT "
                        "with sefton-qa --db URL server init --admin LOGIN (docs/SERVER.md).")
                if staff_store.count(conn) == 0:
                    _check_first_account(os_user)
                if staff_store.count(conn) > 0:
                    raise PermissionDenied(
                        f"The account '{os_user}' is not set up in this store. Ask a Sefton QA "
                        "administrator to add you under Settings → Staff.")
                new_id = staff_store.insert(
                    conn, {"display_name": os_user, "os_username": os_user,
                           "roles": [Role.ADMINISTRATOR, Role.QA_OFFICER], "team_id": None,
                           "active": 1},
                    who=Who(staff_id=None, os_user=os_user))
                found = staff_store.get(conn, new_id)
    if not found.active:
        raise PermissionDenied(f"The account '{os_user}' is inactive in this store. Ask an "
                               "administrator to reactivate it.")
    return Session(store=store, actor=found, os_user=os_user, today=today)
