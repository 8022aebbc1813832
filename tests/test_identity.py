"""Who is acting comes from the operating system, never from an environment variable.

The attack: ``LOGNAME=<a service manager's account> sefton-qa …`` used to act as that person
(getpass reads LOGNAME, USER, LNAME and USERNAME first). Setting all of them to someone else
now changes nothing: the account is the process's own, and the trail records it."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sefton_qa import identity
from sefton_qa.cli import build_parser
from sefton_qa.domain.errors import PermissionDenied
from sefton_qa.domain.models import Role
from sefton_qa.services import organisation as org
from sefton_qa.services import sign_in
from sefton_qa.store import open_store, trail

ROOT = Path(__file__).resolve().parent.parent
REAL = pwd.getpwuid(os.geteuid()).pw_name
SPOOF = {"LOGNAME": "sam.manager", "USER": "sam.manager", "LNAME": "sam.manager",
         "USERNAME": "sam.manager"}


def cli(*argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **SPOOF, PYTHONPATH=str(ROOT))
    env.pop("SEFTON_QA_DB", None)
    return subprocess.run([sys.executable, "-m", "sefton_qa", *argv], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_the_account_is_the_processs_own_whatever_the_environment_says(monkeypatch):
    for name, value in SPOOF.items():
        monkeypatch.setenv(name, value)
    assert identity.os_account() == REAL != "sam.manager"
    assert trail.current_os_user() == REAL


def test_spoofing_the_environment_does_not_act_as_someone_else(tmp_path):
    """A store whose administrator is sam.manager: the spoofed variables get nobody in, and a
    new store made with them set belongs to the real account, as its trail says."""
    theirs = tmp_path / "theirs.sqlite3"
    store = open_store(theirs)
    admin = sign_in(store, os_user="sam.manager")
    org.add_staff(admin, "Sam's Colleague", os_username="sam.colleague", roles=[Role.QA_OFFICER])
    store.close()
    done = cli("--db", str(theirs), "whoami")
    assert done.returncode == 1
    assert f"The account '{REAL}' is not set up in this store" in done.stderr
    done = cli("--db", str(theirs), "demo", "--months", "1")
    assert done.returncode == 1 and "not set up" in done.stderr

    mine = tmp_path / "mine.sqlite3"
    done = cli("--db", str(mine), "demo", "--months", "1", "--seed", "3")
    assert done.returncode == 0, done.stderr
    done = cli("--db", str(mine), "whoami")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{REAL} (account {REAL}): ") and "Administrator" in done.stdout
    store = open_store(mine, read_only=True)
    accounts = {r[0] for r in store.conn.execute("SELECT DISTINCT os_user FROM trail")}
    staff = {r[0] for r in store.conn.execute("SELECT os_username FROM staff")}
    store.close()
    assert "sam.manager" not in accounts | staff
    assert REAL in accounts and REAL in staff


def test_no_option_or_window_can_choose_the_account():
    """sign_in's os_user is a seam for tests of the services: no command-line option, GUI
    module or environment variable reaches it."""
    options = set()
    parser = build_parser()
    subparsers = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for p in [parser, *[sp for a in subparsers for sp in a.choices.values()]]:
        for action in p._actions:
            options.update(action.option_strings)
    # --map-logins maps staff records' accounts to logins when a store moves to a server; it
    # never chooses who is acting.
    options.discard("--map-logins")
    assert not [o for o in options if re.search(r"user|account|login|as$|who", o)], options
    package = ROOT / "sefton_qa"
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name in ("session.py", "selftest.py"):  # the self-test's own temporary store
            continue
        assert not re.search(r"sign_in\([^)]*os_user\s*=", text), path
        assert "os.environ.get(\"LOGNAME\"" not in text and "getpass" not in text, path


def test_a_windows_account_matches_a_bare_name_once_with_a_trail_row(store):
    admin = sign_in(store, os_user="COUNCIL\\it.admin")
    org.add_staff(admin, "Jo Bloggs", os_username="jo.bloggs", roles=[Role.QA_OFFICER])
    before = trail.count(store.conn)
    jo = sign_in(store, os_user="COUNCIL\\jo.bloggs")
    assert jo.actor.display_name == "Jo Bloggs"
    assert jo.actor.os_username == "COUNCIL\\jo.bloggs"
    entries = trail.entries_for(store.conn, "staff", jo.actor.id)
    assert entries[-1].changes == {"os_username": ["jo.bloggs", "COUNCIL\\jo.bloggs"]}
    assert "matched this record's bare user name once" in entries[-1].reason
    assert trail.count(store.conn) == before + 1
    # from then on the whole account is matched, without regard to case, and only it
    again = sign_in(store, os_user="council\\JO.BLOGGS")
    assert again.actor.id == jo.actor.id and trail.count(store.conn) == before + 1
    with pytest.raises(PermissionDenied):
        sign_in(store, os_user="OTHERDOMAIN\\jo.bloggs")
