"""Issue 14: the team store on a server, set up by IT with ``server init``, with people signing in
as their own logins. The server itself refuses what the app would refuse: every row of the
security table below is an attack by an app login (or the owner) with psql-level access, and
each must fail while the store stays whole.

The tests' server trusts local logins without a password: these tests are about what each
login may do once the server has authenticated it (authentication is the server's, see
docs/SERVER.md)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sefton_qa.cli import main

ROOT = Path(__file__).resolve().parent.parent
_RUNS = itertools.count(1)


class TeamServer:
    """A database owned by IT's login, set up with server init; Alice is its administrator,
    Bob a QA officer she added; Mallory has a login but is not on the staff list."""

    def __init__(self, pg_server):
        from psycopg.conninfo import make_conninfo

        self.pg = pg_server
        n = f"{os.getpid()}_{next(_RUNS)}"
        self.db = f"team_{n}"
        self.it, self.alice, self.bob, self.mallory = (f"{who}_{n}" for who in
                                                       ("it", "alice", "bob", "mallory"))
        admin = pg_server.admin
        admin.execute(f'CREATE ROLE "{self.it}" LOGIN CREATEROLE')
        for login in (self.alice, self.bob, self.mallory):
            admin.execute(f'CREATE ROLE "{login}" LOGIN')
        admin.execute(f'CREATE DATABASE "{self.db}" OWNER "{self.it}"')
        self._conninfo = make_conninfo

    def url(self, login: str) -> str:
        return self._conninfo(self.pg.url, dbname=self.db, user=login)

    def superuser_url(self) -> str:
        return self.pg.url_of(self.db)

    def connect(self, login: str):
        import psycopg

        return psycopg.connect(self.url(login), autocommit=True)

    def close(self) -> None:
        admin = self.pg.admin
        admin.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        for role in (f"{self.db}_owner", f"{self.db}_users", self.alice, self.bob,
                     self.mallory, self.it):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def team(pg_server, capsys):
    server = TeamServer(pg_server)
    try:
        assert main(["--db", server.url(server.it), "server", "init", "--admin", server.alice,
                     "--name", "Alice Admin"]) == 0, capsys.readouterr().err
        assert main(["--db", server.url(server.alice), "staff", "add", server.bob,
                     "--name", "Bob Auditor", "--role", "qa_officer"]) == 0, \
            capsys.readouterr().err
        out = capsys.readouterr().out
        assert f"The login '{server.bob}' was given access" in out
        yield server
    finally:
        server.close()


def trail_state(team) -> tuple[int, str]:
    conn = team.connect(team.it)
    try:
        return conn.execute("SELECT count(*), max(hash) FILTER (WHERE seq = "
                            "(SELECT max(seq) FROM trail)) FROM trail").fetchone()
    finally:
        conn.close()


def verify_ok(team) -> None:
    from sefton_qa.services.verify import verify_store
    from sefton_qa.store import open_store

    store = open_store(team.superuser_url(), read_only=True, create=False)
    try:
        report = verify_store(store)
        assert report.ok, report.lines()
    finally:
        store.close()


def test_server_init_sets_up_the_owner_the_users_and_the_first_administrator(team, capsys):
    assert main(["--db", team.url(team.alice), "whoami"]) == 0
    assert "Alice Admin (account " + team.alice in capsys.readouterr().out
    assert main(["--db", team.url(team.bob), "whoami"]) == 0
    assert "Bob Auditor" in capsys.readouterr().out
    # Mallory can connect (IT made her login) but is neither on the staff list nor let in
    assert main(["--db", team.url(team.mallory), "whoami"]) == 1
    assert "permission denied" in capsys.readouterr().err.lower()
    conn = team.connect(team.it)
    try:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'trail'"
                             ).fetchone()[0]
        assert owner == f"{team.db}_owner"
        can_login = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s",
                                 (owner,)).fetchone()[0]
        assert can_login is False
        # exactly these rights on the trail for the users' role
        rights = {r[0] for r in conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'trail' AND grantee = %s", (f"{team.db}_users",))}
        assert rights == {"SELECT", "INSERT"}
    finally:
        conn.close()
    verify_ok(team)


def test_only_administrators_manage_staff_and_only_the_owner_migrates(team, capsys):
    assert main(["--db", team.url(team.bob), "staff", "add", team.mallory, "--name",
                 "Mallory", "--role", "administrator"]) == 1
    assert "Only an administrator can add staff" in capsys.readouterr().err
    assert main(["--db", team.url(team.alice), "staff", "add", "nobody.yet", "--name",
                 "New Starter", "--role", "qa_officer"]) == 0
    out = capsys.readouterr().out
    assert 'CREATE ROLE "nobody.yet" LOGIN; GRANT' in out
    assert main(["--db", team.url(team.alice), "staff", "list"]) == 0
    listed = capsys.readouterr().out
    assert "Bob Auditor" in listed and "New Starter" in listed
    assert main(["--db", team.url(team.alice), "staff", "set-roles", team.bob,
                 "--role", "qa_officer", "--role", "moderator"]) == 0
    assert main(["--db", team.url(team.bob), "server", "migrate"]) == 1
    assert "Only the store's owner migrates it" in capsys.readouterr().err
    assert main(["--db", team.url(team.it), "server", "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["--db", team.url(team.alice), "staff", "deactivate", team.bob]) == 0
    assert "refused access" in capsys.readouterr().out
    assert main(["--db", team.url(team.bob), "whoami"]) == 1  # no longer let in
    capsys.readouterr()
    verify_ok(team)


def _forged_row(conn, login, *, seq_offset=1, prev=None, staff_id=None, at="now",
                login_column=None):
    seq, head = conn.execute("SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1").fetchone()
    me = conn.execute("SELECT id FROM staff WHERE os_username = %s", (login,)).fetchone()
    staff = staff_id if staff_id is not None else (me[0] if me else None)
    at_sql = ("to_char(clock_timestamp() AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')" if at == "now" else "%(at)s")
    columns = "seq, at_utc, staff_id, os_user, table_name, record_id, kind, changes, reason, " \
              "prev_hash, hash" + (", login" if login_column else "")
    values = (f"%(seq)s, {at_sql}, %(staff)s, %(user)s, 'settings', 1, 'update', '{{}}', NULL, "
              "%(prev)s, %(hash)s" + (", %(login)s" if login_column else ""))
    conn.execute(f"INSERT INTO trail ({columns}) VALUES ({values})",
                 {"seq": seq + seq_offset, "at": at, "staff": staff, "user": login,
                  "prev": prev or head, "hash": "f" * 64, "login": login_column})


#: The security table: (what is tried, who tries it, the statements, what the refusal says).
ATTACKS = {
    "update a trail row": ("bob", ["UPDATE trail SET reason = 'x' WHERE seq = 1"],
                           "permission denied"),
    "delete trail rows": ("bob", ["DELETE FROM trail WHERE seq > 5"], "permission denied"),
    "truncate the trail": ("bob", ["TRUNCATE trail"], "permission denied"),
    "disable the trail's triggers": ("bob", ["ALTER TABLE trail DISABLE TRIGGER ALL"],
                                     "must be owner"),
    "drop a trail trigger": ("bob", ["DROP TRIGGER trail_is_append_only_update ON trail"],
                             "must be owner"),
    "replace the guard function": (
        "bob", ["CREATE OR REPLACE FUNCTION sefton_trail_is_append_only() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"],
        "permission denied for schema public"),
    "replication mode": ("bob", ["SET session_replication_role = replica"],
                         "permission denied"),
    "become another login": ("bob", ["SET ROLE {alice}"], "permission denied"),
    "session authorization": ("bob", ["SET SESSION AUTHORIZATION {alice}"],
                              "permission denied"),
    "change a record behind the trail": (
        "bob", ["BEGIN", "UPDATE settings SET value = '\"Hacked Council\"' "
                "WHERE key = 'authority_name'", "COMMIT"],
        "was changed without its trail row"),
    "insert a record behind the trail": (
        "bob", ["BEGIN", "INSERT INTO themes (id, name, active, version, created_at, "
                "updated_at) VALUES (999, 'Nothing to see', 1, 1, 'x', 'x')", "COMMIT"],
        "was changed without its trail row"),
    "add a caseload snapshot behind the trail (step 0010's own guards)": (
        "bob", ["BEGIN", "INSERT INTO caseload_snapshots (id, taken_on, file_name, sha256, "
                "case_count, version, created_at, updated_at) VALUES (999, '2026-11-01', "
                "'x.csv', 'x', 0, 1, 'x', 'x')", "COMMIT"],
        "was changed without its trail row"),
    "the owner updates the trail": (
        "it", ["SET ROLE {owner}", "UPDATE trail SET reason = 'x' WHERE seq = 1"],
        "append-only"),
    "a superuser in replication mode updates the trail": (
        "postgres", ["SET session_replication_role = replica",
                     "UPDATE trail SET reason = 'x' WHERE seq = 1"], "append-only"),
}
FORGED = {
    "a row out of sequence": (dict(seq_offset=3), "in sequence"),
    "a row not chained to the head": (dict(prev="a" * 64), "hash of the row before it"),
    "a row naming another person's staff record": (dict(staff_id=1),
                                                  "must name its staff record"),
    "a row naming another login": (dict(login_column="ALICE"), "must name that login"),
    "a row dated in the past": (dict(at="2026-01-01T00:00:00.000000Z"), "server's clock"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_server_refuses(team, attack):
    import psycopg

    who, statements, refusal = ATTACKS[attack]
    before = trail_state(team)
    names = {"alice": team.alice, "owner": f'"{team.db}_owner"'}
    conn = (psycopg.connect(team.superuser_url(), autocommit=True) if who == "postgres"
            else team.connect({"bob": team.bob, "it": team.it}[who]))
    try:
        with pytest.raises(psycopg.Error) as caught:
            for statement in statements:
                conn.execute(statement.format(alice=f'"{team.alice}"', **{
                    k: v for k, v in names.items() if k != "alice"}))
        assert refusal in str(caught.value), str(caught.value)
    finally:
        conn.close()
    assert trail_state(team) == before
    verify_ok(team)


@pytest.mark.parametrize("forgery", list(FORGED))
def test_the_server_refuses_a_forged_trail_row(team, forgery):
    import psycopg

    options, refusal = FORGED[forgery]
    before = trail_state(team)
    conn = team.connect(team.bob)
    try:
        if "login_column" in options:
            options = dict(options, login_column=team.alice)
        with pytest.raises(psycopg.Error) as caught:
            _forged_row(conn, team.bob, **options)
        assert refusal in str(caught.value), str(caught.value)
    finally:
        conn.close()
    assert trail_state(team) == before


def test_a_well_formed_row_with_wrong_content_is_caught_by_verify_and_names_its_login(team):
    """What the server cannot judge (the content and its hash) verify's replay does, and the
    row says which login wrote it."""
    from sefton_qa.services.verify import verify_store
    from sefton_qa.store import open_store

    conn = team.connect(team.bob)
    try:
        _forged_row(conn, team.bob)
        login = conn.execute("SELECT login FROM trail ORDER BY seq DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()
    assert login == team.bob
    store = open_store(team.superuser_url(), read_only=True, create=False)
    try:
        assert not verify_store(store).ok
    finally:
        store.close()


def test_the_environment_cannot_sign_in_as_someone_else_and_rows_carry_the_login(team, tmp_path):
    """Bob's session with USER, LOGNAME and USERNAME set to Alice's login acts as Bob: whoami
    says so, and the audits he imports are his, every trail row stamped with his login."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), USER=team.alice, LOGNAME=team.alice,
               USERNAME=team.alice)
    run = [sys.executable, "-m", "sefton_qa", "--db", team.url(team.bob)]
    done = subprocess.run([*run, "whoami"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "Bob Auditor" in done.stdout, done.stderr
    # Alice's import creates the area and the team; then Bob imports as himself.
    header = "case_reference,audit_type,audit_date,service_area,team,auditor,overall_grade\n"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(header + "LCS-100001,deep dive,01/05/2024,Child Protection,CP Team 1,"
                     "Bob Auditor,good\n", encoding="utf-8")
    second.write_text(header + "LCS-100002,deep dive,02/05/2024,Child Protection,CP Team 1,"
                      "Bob Auditor,inadequate\nLCS-100003,dip sample,03/05/2024,"
                      "Child Protection,CP Team 1,Bob Auditor,good\n", encoding="utf-8")
    assert main(["--db", team.url(team.alice), "import", str(first), "--create-missing"]) == 0
    before = trail_state(team)[0]
    done = subprocess.run([*run, "import", str(second)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    conn = team.connect(team.it)
    try:
        rows = conn.execute("SELECT login, os_user, staff_id FROM trail WHERE seq > %s",
                            (before,)).fetchall()
        bob_id = conn.execute("SELECT id FROM staff WHERE os_username = %s",
                              (team.bob,)).fetchone()[0]
    finally:
        conn.close()
    assert len(rows) >= 2 and all(r == (team.bob, team.bob, bob_id) for r in rows), rows
    verify_ok(team)


def test_a_newer_app_opens_an_older_server_store_read_only_until_the_owner_migrates(
        team, monkeypatch):
    """An app login never migrates: it is told to have IT run server migrate, and may open the
    store read-only meanwhile."""
    import sefton_qa.store as store_package
    from sefton_qa.domain.errors import ServerStoreNeedsMigration
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    monkeypatch.setattr(store_package, "KNOWN_MIGRATIONS",
                        store_package.KNOWN_MIGRATIONS + ("0099_a_later_step",))
    before = trail_state(team)
    with pytest.raises(ServerStoreNeedsMigration, match="server migrate"):
        open_store(team.url(team.bob))
    store = open_store(team.url(team.bob), read_only=True, create=False)
    try:
        assert sign_in(store).actor.display_name == "Bob Auditor"
    finally:
        store.close()
    assert trail_state(team) == before


def test_a_teams_store_file_moves_to_the_server_with_accounts_mapped_to_logins(
        pg_server, tmp_path, capsys):
    """server init --from FILE --map-logins MAP: every record and the whole trail moved in,
    each OS account now the person's login (a trail row each), an account left unmapped
    refuses the move with nothing set up; the mapped administrator signs in as herself."""
    from sefton_qa.services import organisation as org_service
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    server = TeamServer(pg_server)
    try:
        path = tmp_path / "team.sqlite3"
        store = open_store(path)
        admin = sign_in(store, os_user="COUNCIL\\ada.admin")
        org_service.add_staff(admin, "Bob Auditor", os_username="COUNCIL\\bob.a",
                              roles=["qa_officer"])
        org_service.add_service_area(admin, "Child Protection")
        store.close()
        mapping = tmp_path / "logins.csv"
        mapping.write_text(f"account,login\nCOUNCIL\\ada.admin,{server.alice}\n",
                           encoding="utf-8")
        it = server.url(server.it)
        assert main(["--db", it, "server", "init", "--admin", server.alice, "--from",
                     str(path), "--map-logins", str(mapping)]) == 1
        assert "COUNCIL\\bob.a" in capsys.readouterr().err
        conn = server.connect(server.it)
        assert conn.execute("SELECT to_regclass('trail')").fetchone()[0] is None  # nothing
        conn.close()
        mapping.write_text(f"account,login\nCOUNCIL\\ada.admin,{server.alice}\n"
                           f"council\\BOB.A,{server.bob}\n", encoding="utf-8")
        assert main(["--db", it, "server", "init", "--admin", server.alice, "--from",
                     str(path), "--map-logins", str(mapping)]) == 0, capsys.readouterr().err
        capsys.readouterr()
        assert main(["--db", server.url(server.alice), "whoami"]) == 0
        assert f"(account {server.alice}): " in capsys.readouterr().out
        conn = server.connect(server.it)
        try:
            accounts = {r[0] for r in conn.execute("SELECT os_username FROM staff")}
            reasons = [r[0] for r in conn.execute(
                "SELECT reason FROM trail WHERE table_name = 'staff' AND kind = 'update'")]
        finally:
            conn.close()
        assert accounts == {server.alice, server.bob}
        assert len(reasons) == 2 and all("signs in as the database login" in r
                                         for r in reasons)
        verify_ok(server)
        # Bob's login (which exists) was let in too
        assert main(["--db", server.url(server.bob), "whoami"]) == 0
        assert "Bob Auditor" in capsys.readouterr().out
    finally:
        server.close()


def test_copy_store_maps_accounts_to_logins_or_copies_nothing(store, admin, org, pg_server,
                                                              tmp_path, capsys):
    """copy-store --map-logins (a superuser's copy into an empty database)."""
    if not store.dialect.is_file:
        pytest.skip("the source is a team's store file")
    url = pg_server.create()
    try:
        mapping = tmp_path / "logins.csv"
        mapping.write_text("account,login\nadmin.user,ada\n", encoding="utf-8")
        path = store.path
        store.close()
        assert main(["copy-store", str(path), url, "--map-logins", str(mapping)]) == 1
        err = capsys.readouterr().err
        assert "does not say which login" in err and "qa.officer" in err
        mapping.write_text("account,login\nadmin.user,ada\nqa.officer,quinn\n"
                           "service.manager,sam\n", encoding="utf-8")
        assert main(["copy-store", str(path), url, "--map-logins", str(mapping)]) == 0, \
            capsys.readouterr().err
        assert "signs in as its mapped login" in capsys.readouterr().out
    finally:
        pg_server.drop(url)
