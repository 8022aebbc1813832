"""Issue 15, finding 15: an administrator's case-reference pattern plus one crafted reference
made an import spin for ever (catastrophic backtracking). Formats are now checked when saved and
every match has a time limit; and the audit-date floor is a setting."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sefton_qa.domain.errors import PermissionDenied, ValidationError
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_PATTERN,
    MATCH_TIMEOUT_S,
    PatternTooSlow,
    pattern_problem,
)
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org_service
from sefton_qa.store import settings as settings_store

ROOT = Path(__file__).resolve().parent.parent
#: Exponential on a run of a's that does not match: about 2^n steps for n a's.
SLOW = r"^(a|aa)+$"
CRAFTED = "a" * 60 + "!"


def write_pattern_as_an_older_version_would(session, pattern: str) -> None:
    """A store whose format was saved before formats were checked (no check on this path)."""
    with session.store.transaction() as conn:
        settings_store.put(conn, "case_reference_pattern", pattern, who=session.who)


@pytest.mark.parametrize("pattern", [SLOW, r"^(\d|\d\d)+$", r"^([A-Z]|[A-Z0-9])+-?\d$",
                                     r"^(\w|\w\w)*$"])
def test_a_pattern_that_can_backtrack_for_ever_is_refused_when_saved(admin, pattern):
    before = org_service.settings(admin)["case_reference_pattern"]
    began = time.perf_counter()
    with pytest.raises(ValidationError, match="takes too long"):
        org_service.set_case_reference_format(admin, pattern, "letters")
    assert time.perf_counter() - began < 5
    assert org_service.settings(admin)["case_reference_pattern"] == before
    with pytest.raises(ValidationError, match="takes too long"):
        org_service.try_case_reference(pattern, "letters", "LCS-1")


@pytest.mark.parametrize("pattern", [DEFAULT_CASE_REFERENCE_PATTERN, r"^LCS-\d{6}$",
                                     r"^(CP|CIN|LAC)/\d{4}/\d{1,5}$", r"^[A-Z]{2,4}\d+$"])
def test_ordinary_patterns_are_saved_and_still_match(admin, pattern):
    org_service.set_case_reference_format(admin, pattern, "the council's format")
    assert org_service.settings(admin)["case_reference_pattern"] == pattern


def test_only_an_administrator_changes_the_format(auditor, org):
    with pytest.raises(PermissionDenied):
        org_service.set_case_reference_format(auditor, r"^\d+$", "digits")


def test_a_crafted_reference_is_refused_in_time_when_an_audit_is_saved(admin, org, make_input):
    write_pattern_as_an_older_version_would(admin, SLOW)
    began = time.perf_counter()
    with pytest.raises(PatternTooSlow, match="could not be checked"):
        audit_service.create_audit(admin, make_input(case_reference=CRAFTED), submit=True)
    assert time.perf_counter() - began < 1 + 20 * MATCH_TIMEOUT_S
    assert admin.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0


def test_an_import_with_a_crafted_reference_stops_plainly_and_imports_nothing(
        admin, org, store, tmp_path):
    """Run as a user would, in its own process with a time limit: it used to spin for ever."""
    write_pattern_as_an_older_version_would(admin, SLOW)
    csv = tmp_path / "audits.csv"
    good = "aaaa"
    lines = ["case_reference,audit_type,audit_date,service_area,team,auditor,overall_grade"]
    for n in range(200):
        ref = CRAFTED if n == 150 else good * (1 + n % 3)
        lines.append(f"{ref},deep dive,01/05/2024,Child Protection,CP Team 1,Alex Auditor,good")
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = ("from sefton_qa import identity; identity.os_account = lambda: 'admin.user'; "
            "from sefton_qa.services import session; "
            "session.signed_in_account = lambda store: 'admin.user'; "
            "from sefton_qa.cli import main; import sys; raise SystemExit(main(sys.argv[1:]))")
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "--db", str(store.location), "import",
                           str(csv)], env=env, capture_output=True, text=True, timeout=120)
    assert time.perf_counter() - began < 60
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stopped at row 152" in done.stderr and "could not be checked" in done.stderr
    assert "Traceback" not in done.stderr
    assert store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0


# -- the audit-date floor, a setting ------------------------------------------------------------
def test_the_earliest_audit_date_is_a_setting_administrators_change(admin, org, make_input,
                                                                    auditor):
    old = make_input(audit_date=dt.date(1998, 3, 2))
    with pytest.raises(ValidationError, match="before 01/01/2000"):
        audit_service.create_audit(admin, old, submit=True)
    with pytest.raises(PermissionDenied):
        org_service.set_earliest_audit_date(auditor, dt.date(1995, 1, 1))
    for bad, message in ((dt.date(1989, 12, 31), "cannot be before 01/01/1990"),
                         (admin.today() + dt.timedelta(days=1), "cannot be after today")):
        with pytest.raises(ValidationError, match=message):
            org_service.set_earliest_audit_date(admin, bad)
    org_service.set_earliest_audit_date(admin, dt.date(1995, 1, 1))
    audit_service.create_audit(admin, old, submit=True)
    with pytest.raises(ValidationError, match="before 01/01/1995"):
        audit_service.create_audit(admin, make_input(audit_date=dt.date(26, 5, 31)),
                                   submit=True)
    org_service.set_earliest_audit_date(admin, dt.date(2010, 1, 1))
    with pytest.raises(ValidationError, match="before 01/01/2010"):
        audit_service.create_audit(admin, old, submit=True)
