"""Make tests/fixtures/store-schema-0003.sqlite3: a store as the first release's schema
(migrations 0001-0003) left it, with a little synthetic data, for the upgrade test.

    .venv/bin/python scripts/make_upgrade_fixture.py

It is generated, not hand-made: the data goes in through the store's trailed writes of that
schema, so the store verifies, and the upgrade to the current schema must keep it verifying.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import sqlite_utils

from sefton_qa.store import records
from sefton_qa.store.connection import connect
from sefton_qa.store.migrations import migrations

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "store-schema-0003.sqlite3"
LAST_OLD_STEP = "0003_search_and_register_indexes"
WHO = records.Who(staff_id=1, os_user="fixture.admin")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    for suffix in ("", "-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(out)
    db = sqlite_utils.Database(conn)
    names = [m.name for m in migrations._migrations]
    migrations.apply(db, stop_before=names[names.index(LAST_OLD_STEP) + 1:])
    conn.execute("BEGIN IMMEDIATE")
    ins = records.insert_record
    admin = ins(conn, "staff", {"display_name": "fixture.admin", "os_username": "fixture.admin",
                                "roles": json.dumps(["administrator", "qa_officer"]),
                                "team_id": None, "active": 1}, who=WHO)
    auditor = ins(conn, "staff", {"display_name": "Alex Auditor", "os_username": "alex.auditor",
                                  "roles": json.dumps(["qa_officer"]), "team_id": None,
                                  "active": 1}, who=WHO)
    area = ins(conn, "service_areas", {"name": "Child Protection", "active": 1}, who=WHO)
    team = ins(conn, "teams", {"name": "CP Team 1", "service_area_id": area,
                               "service_manager_id": None, "active": 1}, who=WHO)
    for n, (date, grade) in enumerate([("2025-05-12", "inadequate"), ("2025-06-03", "good"),
                                       ("2025-06-20", "requires_improvement")], start=1):
        ins(conn, "audits", {
            "case_reference": f"LCS-90000{n}", "audit_type": "deep_dive", "audit_date": date,
            "service_area_id": area, "team_id": team, "auditor_id": auditor,
            "team_manager_id": None, "template_id": 1, "sections": "{}",
            "overall_grade": grade, "findings": f"Synthetic finding {n}.",
            "status": "submitted", "themes": [1]}, who=WHO)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    print(f"wrote {out} (admin {admin})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
