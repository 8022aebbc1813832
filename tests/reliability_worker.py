"""A writer process for the reliability tests (tests/test_reliability_*.py); not a test itself.

Run as ``python tests/reliability_worker.py MODE STORE ARGS_JSON``. It opens the store the way
the app does (open_store), signs in as the org's QA officer, and talks to the services only.
Every line it prints is flushed at once and printed only AFTER the service call returned, so
a line on stdout is a save the app would have reported to the user as done.

Modes:
  log          create_audit(submit=True) in a loop until killed; prints "SAVED <ref> <id>".
  edit         for ``seconds``: read an audit (its version), pause, update_audit with that
               expected_version; prints "OK <id> <findings>" or "CONFLICT <id> <message>".
  update-once  one update_audit of ``audit_id`` (no expected version); prints "OK <version>".
Any other exception is printed as "ERROR <type>: <message>" and the process exits with 3.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
import traceback

from sefton_qa.domain.errors import ConflictError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, SectionGrade
from sefton_qa.services import audits as audit_service
from sefton_qa.services import sign_in
from sefton_qa.store import open_store

TODAY = dt.date(2026, 11, 24)
AUDITOR_OS_USER = "qa.officer"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def make_input(ids: dict, case_reference: str, findings: str, grade: Grade) -> AuditInput:
    return AuditInput(
        case_reference=case_reference,
        audit_type=AuditType.DEEP_DIVE,
        audit_date=TODAY - dt.timedelta(days=10),
        service_area_id=ids["area1"],
        team_id=ids["team_a1"],
        auditor_id=ids["auditor"],
        team_manager_id=None,
        template_id=ids["template"],
        sections={"voice": SectionGrade(Grade.GOOD, "seen alone")},
        overall_grade=grade,
        theme_ids=[ids["theme"]],
        findings=findings,
    )


def log(session, ids: dict) -> None:
    tag = ids["tag"]
    rng = random.Random(ids["seed"])
    grades = [Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE]
    n = 0
    say("READY")
    while True:
        n += 1
        ref = f"R{tag}-{n}"
        change = audit_service.create_audit(
            session, make_input(ids, ref, f"findings {tag} {n}", rng.choice(grades)),
            submit=True)
        say(f"SAVED {ref} {change.record_ids[0]}")


def edit(session, ids: dict) -> None:
    rng = random.Random(ids["seed"])
    deadline = time.monotonic() + ids["seconds"]
    n = 0
    say("READY")
    while time.monotonic() < deadline:
        n += 1
        audit_id = rng.choice(ids["audit_ids"])
        current = audit_service.get_audit(session, audit_id)  # what the window shows
        time.sleep(rng.uniform(0, 0.004))  # the user typing
        findings = f"edit {ids['tag']} {n}"
        try:
            audit_service.update_audit(
                session, audit_id,
                make_input(ids, current.case_reference, findings, current.overall_grade),
                expected_version=current.version)
        except ConflictError as exc:
            say(f"CONFLICT {audit_id} {exc}")
        else:
            say(f"OK {audit_id} {findings}")
    say("DONE")


def update_once(session, ids: dict) -> None:
    audit_id = ids["audit_id"]
    current = audit_service.get_audit(session, audit_id)
    audit_service.update_audit(
        session, audit_id,
        make_input(ids, current.case_reference, ids["findings"], current.overall_grade))
    say(f"OK {audit_service.get_audit(session, audit_id).version}")


MODES = {"log": log, "edit": edit, "update-once": update_once}


def main(argv: list[str]) -> int:
    mode, path, args = argv[1], argv[2], json.loads(argv[3])
    try:
        store = open_store(path)
        session = sign_in(store, os_user=AUDITOR_OS_USER, today=lambda: TODAY)
        MODES[mode](session, args)
        store.close()
    except Exception as exc:  # reported to the test, which fails on it
        say(f"ERROR {type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
