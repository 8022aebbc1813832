"""The benchmark harness's bare baselines write the audits table from ``audit_row``: it must
give a value for every column the store writes, in order (a new column broke the harness once
without any test noticing)."""

from __future__ import annotations

import datetime as dt

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, SectionGrade
from sefton_qa.store.audits import COLUMNS
from tests.benchmarks.workload import audit_row


def test_audit_row_fills_every_column_the_store_writes():
    inp = AuditInput(case_reference="LCS-123456", audit_type=AuditType.DEEP_DIVE,
                     audit_date=dt.date(2026, 5, 1), service_area_id=1, team_id=2,
                     auditor_id=3, template_id=1, sections={"voice": SectionGrade(Grade.GOOD)},
                     overall_grade=Grade.GOOD, findings="Seen alone.")
    row = dict(zip(COLUMNS, audit_row(inp), strict=True))
    assert row["case_reference"] == "LCS-123456" and row["status"] == "submitted"
    assert row["selection"] == "chosen"
