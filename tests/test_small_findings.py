"""Issue 15, finding 15 (the smaller ones), each reproduced as found and now refused plainly:
importing a folder, `queue | head`, `--db` on a named pipe, the year 0026, an unchecked first
account name. (Exporting under a file: tests/test_delivered_files.py.)"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sefton_qa import identity
from sefton_qa.cli import main
from sefton_qa.domain.errors import ValidationError
from sefton_qa.services import audits as audit_service
from sefton_qa.services import sign_in
from sefton_qa.services.import_export import import_audits

ROOT = Path(__file__).resolve().parent.parent


def test_importing_a_folder_is_refused_plainly(admin, org, tmp_path):
    folder = tmp_path / "audits.csv"
    folder.mkdir()
    from sefton_qa.services.spreadsheets import SpreadsheetError

    with pytest.raises(SpreadsheetError, match="is a folder or a device, not a file"):
        import_audits(admin, folder)


def test_a_named_pipe_as_the_store_is_refused_at_once(tmp_path, capsys):
    pipe = tmp_path / "store.sqlite3"
    os.mkfifo(pipe)
    assert main(["--db", str(pipe), "info"]) == 1  # it once waited for ever
    assert "is not a regular file" in capsys.readouterr().err


def test_queue_into_a_closed_pipe_ends_quietly(demo_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("SEFTON_QA_DB", None)
    cmd = (f"{sys.executable} -c 'from sefton_qa import identity; "
           f"identity.os_account = lambda: \"admin.user\"; from sefton_qa.cli import main; "
           f"raise SystemExit(main([\"--db\", \"{demo_path}\", \"queue\"]))' | head -1")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.startswith("Waiting for moderation")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


@pytest.mark.parametrize("year", [26, 1999])
def test_an_audit_date_before_2000_is_refused(auditor, make_input, year):
    with pytest.raises(ValidationError, match="check the year"):
        audit_service.create_audit(auditor, make_input(audit_date=dt.date(year, 5, 31)),
                                   submit=True)


def test_the_first_account_on_a_new_store_is_checked_like_any_staff_record(store, monkeypatch):
    with pytest.raises(ValidationError, match="os_username"):
        sign_in(store, os_user="bad name; DROP")
    monkeypatch.setattr(identity, "os_account", lambda: "fine.name")
    if store.dialect.is_file:
        assert sign_in(store).actor.display_name == "fine.name"
    else:  # on a server the login decides (the tests' superuser may become the first admin)
        assert sign_in(store).actor.display_name == "postgres"
