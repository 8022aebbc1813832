"""Setting up and running a store on a PostgreSQL server: ``server init``, ``server migrate``,
and the logins behind the staff list (see docs/SERVER.md and :mod:`sefton_qa.store.server_roles`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sefton_qa.domain.errors import PermissionDenied, StoreError
from sefton_qa.domain.models import Role
from sefton_qa.store import postgres, server_roles
from sefton_qa.store.dialect import database_errors
from sefton_qa.store.schema_steps import KNOWN_MIGRATIONS, applied_names


@dataclass(frozen=True)
class ServerInit:
    where: str
    owner_role: str
    users_role: str
    administrator: str
    it_login: str


def _connect(location: str):
    if not postgres.is_server_location(location):
        raise StoreError("server init and server migrate are for a store on a PostgreSQL "
                         "server (--db postgresql://… or service=…); a store file is created "
                         "with sefton-qa init.")
    return postgres.connect(location)


def init_server(location: str, admin_login: str, *, admin_name: str | None = None,
                source=None, login_map: dict[str, str] | None = None) -> ServerInit:
    """Set up a new store in an empty database, run by IT's login (CREATEROLE, owning the
    database): the owner and users roles, the schema owned by the owner, exactly the users'
    grants, and ``admin_login`` as the first administrator (granted the users role WITH ADMIN
    OPTION). All in one transaction: on any failure nothing is left behind."""
    from sefton_qa.services.organisation import _staff_problems
    from sefton_qa.store import pg_schema, records
    from sefton_qa.store import staff as staff_store

    where = postgres.describe_location(location)
    source_store = _open_source(source, login_map) if source is not None else None
    conn = _connect(location)
    try:
        if applied_names(conn):
            raise StoreError(f"{where} already holds a Sefton QA store; to upgrade it, run "
                             "sefton-qa --db URL server migrate.")
        if not server_roles.may_create_roles(conn):
            raise PermissionDenied("server init creates the store's roles: run it with a login "
                                   "that has CREATEROLE (IT's), as the database's owner.")
        if not server_roles.login_exists(conn, admin_login):
            raise StoreError(f"There is no login '{admin_login}' on this server. Creating "
                             "people's logins is IT's job: CREATE ROLE "
                             f"{server_roles.quote(admin_login)} LOGIN; (with a password or "
                             "Kerberos, see docs/SERVER.md), then run server init again.")
        server_roles.check_login_is_plain(conn, admin_login)
        problems = [p for p in _staff_problems(admin_name or admin_login, admin_login,
                                               [Role.ADMINISTRATOR]) if p]
        if problems:
            raise StoreError("; ".join(str(p) for p in problems))
        roles = server_roles.roles_of(conn)
        for role in (roles.owner, roles.users):
            if server_roles.role_exists(conn, role):
                raise StoreError(f"The role '{role}' already exists on this server; drop it "
                                 "or use another database for the store.")
        it_login = postgres.session_login(conn)
        if it_login == admin_login:
            raise StoreError("The first administrator must be a person's own login, not the "
                             "IT login that owns the store (the server does not hold the "
                             "owner to the trail).")
        conn.execute("BEGIN")
        try:
            server_roles.create_roles(conn, roles)
            server_roles.act_as_owner(conn, roles)
            pg_schema.apply(conn, list(KNOWN_MIGRATIONS))
            if source_store is None:
                staff_store.insert(
                    conn, {"display_name": admin_name or admin_login,
                           "os_username": admin_login,
                           "roles": [Role.ADMINISTRATOR, Role.QA_OFFICER], "team_id": None,
                           "active": 1},
                    who=records.Who(staff_id=None, os_user=it_login))
            else:
                _move_in(source_store, conn, login_map or {}, it_login, admin_login)
            server_roles.grant_users(conn, roles)
            conn.execute("RESET ROLE")
            server_roles.grant_membership(conn, roles, admin_login, admin=True)
            if source_store is not None:  # the moved store's other people, whose logins exist
                for person in staff_store.list_all(conn):
                    login = person.os_username
                    if person.active and login and login != admin_login and \
                            server_roles.login_exists(conn, login):
                        server_roles.check_login_is_plain(conn, login)
                        server_roles.grant_membership(conn, roles, login)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except database_errors() as exc:
        raise StoreError(f"server init failed, nothing was set up: "
                         f"{postgres.first_line(exc)}.") from exc
    finally:
        conn.close()
        if source_store is not None:
            source_store.close()
    if source is not None:
        _verify_moved(location)
    return ServerInit(where, roles.owner, roles.users, admin_login, it_login)


def _open_source(source, login_map):
    from sefton_qa.services.copy_store import unmapped_accounts
    from sefton_qa.store import open_store, pending_migrations

    store = open_store(source, read_only=True, create=False, migrate=False)
    try:
        if store.newer_version or pending_migrations(store):
            raise StoreError(f"{store.describe()} is not at this version's schema: open it with "
                             "this version of Sefton QA first. Nothing was set up.")
        with store.snapshot() as src:
            missing = unmapped_accounts(src, login_map or {})
        if missing:
            raise StoreError("The login map (--map-logins) does not say which login these "
                             "accounts sign in as: " + ", ".join(missing)
                             + ". Nothing was set up.")
    except BaseException:
        store.close()
        raise
    return store


def _move_in(source_store, conn, login_map, it_login: str, admin_login: str) -> None:
    """A team's store file copied in (records and the whole trail), its accounts mapped to
    logins; the named administrator must be one of its active administrators."""
    from sefton_qa.services.copy_store import apply_login_map
    from sefton_qa.store import copying
    from sefton_qa.store import staff as staff_store

    with source_store.snapshot() as src:
        copying.copy_all(src, conn)
    apply_login_map(conn, login_map, by=it_login)
    admin = staff_store.find_by_os_username(conn, admin_login)
    if admin is None or not admin.active or Role.ADMINISTRATOR not in admin.roles:
        raise StoreError(f"The login '{admin_login}' is not an active administrator in the store "
                         "being moved (after --map-logins); name one of its administrators "
                         "with --admin. Nothing was set up.")


def _verify_moved(location: str) -> None:
    from sefton_qa.services.verify import verify_store
    from sefton_qa.store import open_store

    store = open_store(location, read_only=True, create=False)
    try:
        report = verify_store(store)
    finally:
        store.close()
    if not report.ok:
        raise StoreError("The store was moved in but does not verify: "
                         + "; ".join(line for line in report.lines() if line.startswith("FAIL"))
                         + ". Drop the database and try again.")


def migrate_server(location: str) -> list[str]:
    """Bring a server store up to this version's schema, as its owner (IT's login, a member of
    the owner role); the users' grants are renewed for any new table. Returns the steps
    applied (empty when it was up to date)."""
    from sefton_qa.store import pg_schema

    where = postgres.describe_location(location)
    conn = _connect(location)
    try:
        applied = applied_names(conn)
        if not applied:
            raise StoreError(f"There is no Sefton QA store in {where} yet; set one up with "
                             "server init.")
        unknown = [n for n in applied if n not in KNOWN_MIGRATIONS]
        if unknown:
            raise StoreError(f"The store in {where} is from a newer version of Sefton QA "
                             f"(step {unknown[-1]!r}); install that version to migrate it.")
        roles = server_roles.roles_of(conn)
        superuser = postgres.is_superuser(conn)
        owned = server_roles.role_exists(conn, roles.owner)
        if not superuser and not (owned and server_roles.is_member(
                conn, postgres.session_login(conn), roles.owner)):
            raise PermissionDenied(f"Only the store's owner migrates it: run server migrate "
                                   f"with IT's login (a member of '{roles.owner}').")
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (postgres.WRITER_LOCK_KEY,))
            pending = [n for n in KNOWN_MIGRATIONS if n not in set(applied_names(conn))]
            if owned:
                server_roles.act_as_owner(conn, roles)
            if pending:
                pg_schema.apply(conn, pending)
            if owned and server_roles.role_exists(conn, roles.users):
                server_roles.grant_users(conn, roles)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return pending
    except database_errors() as exc:
        raise StoreError(f"server migrate failed, nothing was changed: "
                         f"{postgres.first_line(exc)}.") from exc
    finally:
        conn.close()


def give_login_access(store, login: str, *, grant: bool = True) -> str:
    """After an administrator adds (or reactivates) someone on a server store: grant their
    login the users role when this administrator may; otherwise the exact SQL for IT to run.
    Returns what was done, as a sentence. Nothing on a file store."""
    if store.dialect.is_file:
        return ""
    conn = store.conn
    roles = server_roles.roles_of(conn)
    sql = (server_roles.grant_membership_sql(roles, login) if grant
           else server_roles.revoke_membership_sql(roles, login))
    if grant and not server_roles.login_exists(conn, login):
        return (f"There is no login '{login}' on the server yet. Ask IT to create it and let "
                f"it in: CREATE ROLE {server_roles.quote(login)} LOGIN; {sql}")
    if not server_roles.has_admin_option(conn, roles.users):
        return f"Ask IT to run, as the store's owner: {sql}"
    try:
        conn.execute(sql.rstrip(";"))
    except database_errors() as exc:
        return f"The server refused ({postgres.first_line(exc)}); ask IT to run: {sql}"
    return (f"The login '{login}' was {'given' if grant else 'refused'} access to the store "
            f"(role {roles.users}).")
