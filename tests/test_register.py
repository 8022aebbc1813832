"""The register: every sort and filter is done by SQL and agrees with a plain Python sort."""

from __future__ import annotations

import datetime as dt

import pytest

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditStatus
from sefton_qa.services import audits as audit_service
from sefton_qa.services import register
from sefton_qa.services.register import REGISTER_SORTS, RegisterFilter
from sefton_qa.store.audits import fts_query


def all_rows(session, f, sort, descending, page=37):
    rows, offset = [], 0
    while True:
        chunk = register.page(session, f, offset=offset, limit=page, sort=sort,
                              descending=descending)
        rows += chunk
        if len(chunk) < page:
            return rows
        offset += page


KEY = {"case_reference": 1, "audit_date": 2, "service_area": 3, "team": 4, "auditor": 5,
       "status": 7}


def expected_order(rows, sort, descending):
    if sort == "overall_grade":
        key = lambda r: (Grade(r[6]).rank if r[6] else 0, r[2] or "", r[0])  # noqa: E731
    elif sort in ("service_area", "team", "auditor"):
        return None  # checked separately: names first (case-insensitive), then unnamed
    else:
        key = lambda r: (r[KEY[sort]] or "", r[2] or "", r[0])  # noqa: E731
    return sorted(rows, key=key, reverse=descending)


@pytest.fixture
def with_draft(demo_admin):
    """The demo store plus a draft with no service area or team yet."""
    audit_service.create_audit(demo_admin, AuditInput(case_reference="DRAFT-1"))
    return demo_admin


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", REGISTER_SORTS)
def test_every_sort_pages_through_every_audit_in_order(with_draft, sort, descending):
    f = RegisterFilter()
    rows = all_rows(with_draft, f, sort, descending)
    assert len(rows) == register.count(with_draft, f)
    assert len({r[0] for r in rows}) == len(rows)
    expected = expected_order(rows, sort, descending)
    if expected is not None:
        assert rows == expected
    else:
        column = {"service_area": 3, "team": 4, "auditor": 5}[sort]
        named = [r for r in rows if r[column] is not None]
        names = [r[column].lower() for r in named]
        assert names == sorted(names, reverse=descending)
        unnamed = [i for i, r in enumerate(rows) if r[column] is None]
        if unnamed:  # the draft without a team sits at one end
            assert unnamed == ([0] if descending else [len(rows) - 1])


def test_filters_combine(demo_admin):
    f = RegisterFilter(grade=Grade.INADEQUATE, date_from=dt.date(2026, 1, 1),
                       date_to=dt.date(2026, 6, 30), status=AuditStatus.SUBMITTED)
    rows = all_rows(demo_admin, f, "audit_date", True)
    assert rows and len(rows) == register.count(demo_admin, f)
    assert all(r[6] == "inadequate" and "2026-01-01" <= r[2] <= "2026-06-30" for r in rows)


def test_search_finds_findings_and_case_references(demo_admin):
    audit = audit_service.get_audit(demo_admin, 5)
    inp = audit.to_input()
    inp.findings = "The zebrafish project helped the family engage."
    audit_service.update_audit(demo_admin, 5, inp, reason="test")
    assert [r[0] for r in register.page(demo_admin, RegisterFilter(search="zebrafi"),
                                        offset=0, limit=10)] == [5]
    by_ref = register.page(demo_admin, RegisterFilter(search=audit.case_reference), offset=0,
                           limit=10)
    assert 5 in [r[0] for r in by_ref]
    assert all(r[1] == audit.case_reference for r in by_ref)


@pytest.mark.parametrize("typed", ['"', "AND", "NEAR(", "*", "a OR b", "-x", "'"])
def test_search_never_fails_on_what_people_type(demo_admin, typed):
    register.count(demo_admin, RegisterFilter(search=typed))  # no FTS syntax error


def test_fts_query_quotes_every_word():
    assert fts_query("LCS-123 drift") == '"LCS 123"* "drift"*'
    assert fts_query("  ") is None


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", ["service_area", "team", "auditor"])
@pytest.mark.parametrize("in_memory_limit", [0, 50_000])  # walk names, or sort the filtered set
def test_name_sorts_with_a_filter_agree_either_way(with_draft, monkeypatch, sort, descending,
                                                   in_memory_limit):
    from sefton_qa.store import audits as audit_store

    monkeypatch.setattr(audit_store, "SORT_IN_MEMORY_UP_TO", in_memory_limit)
    f = RegisterFilter(grade=Grade.INADEQUATE)
    rows = all_rows(with_draft, f, sort, descending)
    assert len(rows) == register.count(with_draft, f) > 0
    assert all(r[6] == "inadequate" for r in rows)
    column = {"service_area": 3, "team": 4, "auditor": 5}[sort]
    names = [r[column].lower() for r in rows if r[column] is not None]
    assert names == sorted(names, reverse=descending)
