"""The command line: options, where the store is, and plain error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sefton_qa
from sefton_qa import identity
from sefton_qa import __version__
from sefton_qa.cli import build_parser, main
from sefton_qa.paths import DB_ENV, default_store_path, demo_store_path, resolve_store_path
from sefton_qa.store import open_store

ROOT = Path(sefton_qa.__file__).resolve().parent.parent


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_plain_error(code: int, err: str, phrase: str) -> None:
    assert code == 1
    assert err.startswith("sefton-qa: ")
    assert phrase.lower() in err.lower()
    assert "Traceback" not in err


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch, tmp_path):
    """No test here may touch the real user data folder."""
    monkeypatch.delenv(DB_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sefton-qa {__version__}"


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("gui", "demo", "summary", "verify"):
        assert command in out


def test_db_option_is_used(demo_path, capsys):
    code, out, _ = run(capsys, "--db", str(demo_path), "verify")
    assert code == 0 and "The store is sound." in out


def test_env_variable_is_used(demo_path, capsys, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(demo_path))
    code, out, _ = run(capsys, "summary", "--from", "2026-01-01", "--to", "2026-03-31",
                       "--json")
    assert code == 0
    assert json.loads(out)["total"] > 0


def test_db_option_wins_over_env_variable(demo_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "elsewhere" / "missing.sqlite3"))
    code, out, _ = run(capsys, "--db", str(demo_path), "verify")
    assert code == 0
    assert not (tmp_path / "elsewhere").exists()


def test_resolve_store_path_order(tmp_path, monkeypatch):
    assert resolve_store_path(None) == default_store_path()
    assert resolve_store_path(None, demo=True) == demo_store_path()
    assert str(default_store_path()).startswith(str(tmp_path / "xdg-data"))
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.sqlite3"))
    assert resolve_store_path(None) == tmp_path / "env.sqlite3"
    assert resolve_store_path(None, demo=True) == tmp_path / "env.sqlite3"
    assert resolve_store_path(tmp_path / "x.sqlite3") == tmp_path / "x.sqlite3"
    monkeypatch.setenv(DB_ENV, "~/tilde.sqlite3")
    assert resolve_store_path(None) == Path.home() / "tilde.sqlite3"


def test_summary_with_to_before_from(store_path, capsys):
    code, out, err = run(capsys, "--db", str(store_path), "summary", "--from", "2026-10-31",
                         "--to", "2026-10-01")
    assert_plain_error(code, err, "is before the start of the period")
    assert out == ""


def test_verify_on_a_missing_store(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "missing.sqlite3"
    code, out, err = run(capsys, "--db", str(missing), "verify")
    assert_plain_error(code, err, "there is no store at")
    assert str(missing) in err
    assert not missing.exists() and not missing.parent.exists()


def test_demo_on_a_store_with_audits(demo_path, capsys, monkeypatch):
    # the OS account the demo store knows
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    code, out, err = run(capsys, "--db", str(demo_path), "demo")
    assert_plain_error(code, err, "already holds audits")


def test_demo_by_an_unknown_account_is_refused(demo_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "stranger")
    code, out, err = run(capsys, "--db", str(demo_path), "demo")
    assert_plain_error(code, err, "'stranger' is not set up in this store")


def test_demo_on_an_empty_store(store_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "first.admin")
    code, out, err = run(capsys, "--db", str(store_path), "demo", "--months", "6",
                         "--seed", "11")
    assert code == 0, err
    assert out.startswith("Added ") and "synthetic audits" in out and str(store_path) in out
    code, out, err = run(capsys, "--db", str(store_path), "verify")
    assert code == 0


def test_demo_one_month(store_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "first.admin")
    code, out, err = run(capsys, "--db", str(store_path), "demo", "--months", "1")
    assert code == 0, err


def test_store_problems_are_plain_messages(tmp_path, capsys):
    not_a_store = tmp_path / "notes.sqlite3"
    not_a_store.write_text("hello\n" * 100)
    code, out, err = run(capsys, "--db", str(not_a_store), "summary", "--from", "2026-01-01",
                         "--to", "2026-01-31")
    assert_plain_error(code, err, "is not a Sefton QA store")
    code, out, err = run(capsys, "--db", str(not_a_store), "verify")
    assert_plain_error(code, err, "is not a Sefton QA store")


@pytest.mark.parametrize("argv", [
    ["summary", "--from", "2026-13-01", "--to", "2026-12-31"],
    ["summary", "--from", "01/10/2026", "--to", "2026-12-31"],
    ["summary", "--from", "2026-10-01", "--to", "yesterday"],
])
def test_bad_date_argument(argv, store_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["--db", str(store_path), *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "is not a date in the form YYYY-MM-DD" in err
    assert "Traceback" not in err


def test_summary_needs_both_dates(store_path, capsys):
    # --from/--to are no longer required by the parser (--quarter or --month may name the
    # period instead, issue 16 item 2), so a missing --to is a plain error, exit 1.
    assert main(["--db", str(store_path), "summary", "--from", "2026-10-01"]) == 1
    err = capsys.readouterr().err
    assert "--to" in err and "Traceback" not in err


def test_unknown_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_parser_defaults():
    args = build_parser().parse_args(["demo"])
    assert (args.months, args.seed) == (18, 2024)
    assert build_parser().parse_args([]).command is None


def test_python_dash_m_entry_point(demo_path, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop(DB_ENV, None)
    proc = subprocess.run([sys.executable, "-m", "sefton_qa", "--db", str(demo_path), "verify"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "The store is sound." in proc.stdout
    missing = tmp_path / "missing.sqlite3"
    proc = subprocess.run([sys.executable, "-m", "sefton_qa", "--db", str(missing), "verify"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "there is no store" in proc.stderr.lower()


def test_summary_reads_without_changing_the_data(demo_path, capsys):
    with open_store(demo_path) as s:
        before = s.conn.execute("SELECT count(*), max(seq) FROM trail").fetchone()
    run(capsys, "--db", str(demo_path), "summary", "--from", "2026-01-01", "--to",
        "2026-01-31")
    with open_store(demo_path) as s:
        assert s.conn.execute("SELECT count(*), max(seq) FROM trail").fetchone() == before


def test_summary_on_a_missing_store(tmp_path, capsys):
    missing = tmp_path / "typo" / "missing.sqlite3"
    code, out, err = run(capsys, "--db", str(missing), "summary", "--from", "2026-01-01",
                         "--to", "2026-01-31")
    assert not missing.exists()
    assert_plain_error(code, err, "no store")


@pytest.mark.parametrize("command", [["verify"],
                                     ["summary", "--from", "2026-01-01", "--to", "2026-01-31"]])
def test_db_naming_a_folder(tmp_path, capsys, command):
    code, out, err = run(capsys, "--db", str(tmp_path), *command)
    assert_plain_error(code, err, str(tmp_path))


def test_summary_at_the_start_of_the_calendar(store_path, capsys):
    code, out, err = run(capsys, "--db", str(store_path), "summary", "--from", "0001-01-01",
                         "--to", "0001-01-31")
    assert code in (0, 1) and "Traceback" not in err


def test_a_team_starts_from_the_command_line_with_init(tmp_path, capsys, monkeypatch):
    """Issue 15, finding 16: import into a path with no store names init; init makes an empty
    store whose administrator is the operating system's account; a second init changes
    nothing."""
    monkeypatch.setattr(identity, "os_account", lambda: "first.admin")
    path = tmp_path / "team" / "new.sqlite3"
    code, out, err = run(capsys, "--db", str(path), "import", str(tmp_path / "audits.csv"))
    assert_plain_error(code, err, f"sefton-qa --db {path} init")
    assert not path.exists()
    code, out, err = run(capsys, "--db", str(path), "init")
    assert code == 0, err
    assert "You (first.admin) are its administrator" in out
    code, out, err = run(capsys, "--db", str(path), "whoami")
    assert out.startswith("first.admin (account first.admin): ")
    assert "Administrator" in out and "QA officer" in out
    code, out, err = run(capsys, "--db", str(path), "init")
    assert_plain_error(code, err, "already a store with staff")
