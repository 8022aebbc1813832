"""The roles and grants of a store on a PostgreSQL server (``server init`` / ``server migrate``).

Three kinds of login meet a server store:

* **IT** (the login that runs ``server init``, with CREATEROLE and owning the database): a member
  of the store's *owner* role, which owns every table, trigger and function and has no login of
  its own. Only the owner's members change the schema (``server migrate``).
* **The app's users**: each their own login, a member of the store's *users* role, which may read
  everything, insert and update records, and insert trail rows: never update, delete or truncate
  the trail, nor disable, drop or replace its triggers (only the owner could).
* **The first administrator**, named by IT: a member of the users role WITH ADMIN OPTION, so the
  app can grant the users role to the people the administrator adds.

Role names are the database's name with ``_owner`` and ``_users``, so several stores can share a
server. All SQL here; :mod:`sefton_qa.services.server_setup` puts it together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sefton_qa.domain.errors import StoreError
from sefton_qa.store import pg_schema
from sefton_qa.store.records import TRAILED_TABLES

#: Tables app logins may insert into and update (each change with its trail row).
WRITABLE = TRAILED_TABLES
#: Link rows written and replaced with their parent record (an audit's themes).
LINK_TABLES = ("audit_themes",)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Roles:
    database: str
    owner: str
    users: str


def roles_of(conn) -> Roles:
    database = conn.execute("SELECT current_database()").fetchone()[0]
    return Roles(database, f"{database}_owner", f"{database}_users")


def login_exists(conn, login: str) -> bool:
    row = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = ?", (login,)).fetchone()
    return bool(row and row[0])


def role_exists(conn, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)).fetchone() is not None


def may_create_roles(conn) -> bool:
    row = conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles "
                       "WHERE rolname = session_user").fetchone()
    return bool(row and row[0])


def is_member(conn, login: str, role: str) -> bool:
    return bool(conn.execute("SELECT pg_has_role(?, ?, 'MEMBER')", (login, role)).fetchone()[0])


def has_admin_option(conn, role: str) -> bool:
    """Whether this login may grant ``role`` to others (ADMIN OPTION, or a superuser)."""
    return bool(conn.execute(
        "SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = ? AND m.member = r.oid "
        "AND m.admin_option) FROM pg_roles r WHERE r.rolname = session_user",
        (role,)).fetchone()[0])


def create_roles(conn, roles: Roles) -> None:
    """The owner and users roles (no login), IT's login made a member of the owner, and the
    owner allowed to create the store's objects. Inside the caller's transaction."""
    owner, users = quote(roles.owner), quote(roles.users)
    conn.execute(f"CREATE ROLE {owner} NOLOGIN")
    conn.execute(f"CREATE ROLE {users} NOLOGIN")
    conn.execute(f"GRANT {owner} TO CURRENT_USER")
    conn.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {owner}")
    conn.execute(f"GRANT CREATE ON DATABASE {quote(roles.database)} TO {owner}")


def act_as_owner(conn, roles: Roles) -> None:
    """Until the transaction ends, create and change objects as the owner role."""
    conn.execute(f"SET LOCAL ROLE {quote(roles.owner)}")


def grant_users(conn, roles: Roles) -> None:
    """Exactly the app's rights for the users role (run again by every migration)."""
    users = quote(roles.users)
    conn.execute(f"GRANT USAGE ON SCHEMA public TO {users}")
    conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {users}")
    conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {users}")
    for table in pg_schema.SERVER_ONLY_TABLES:
        conn.execute(f"REVOKE ALL ON {table} FROM {users}")
    for table in WRITABLE:
        conn.execute(f"GRANT INSERT, UPDATE ON {table} TO {users}")
    for table in LINK_TABLES:
        conn.execute(f"GRANT INSERT, DELETE ON {table} TO {users}")
    conn.execute(f"GRANT INSERT ON trail TO {users}")


def grant_membership_sql(roles: Roles, login: str, *, admin: bool = False) -> str:
    return (f"GRANT {quote(roles.users)} TO {quote(login)}"
            + (" WITH ADMIN OPTION" if admin else "") + ";")


def grant_membership(conn, roles: Roles, login: str, *, admin: bool = False) -> None:
    conn.execute(grant_membership_sql(roles, login, admin=admin).rstrip(";"))


def revoke_membership_sql(roles: Roles, login: str) -> str:
    return f"REVOKE {quote(roles.users)} FROM {quote(login)};"


def check_login_is_plain(conn, login: str) -> None:
    """An app login must be neither a superuser nor able to change the schema."""
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = ?", (login,)).fetchone()
    if row and row[0]:
        raise StoreError(f"The login '{login}' is a superuser: the server could not hold it to "
                         "the trail. Give each person an ordinary login of their own.")
