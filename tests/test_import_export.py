"""Import and export of audits (issue 3): every rule of the issue, on small files the tests
write into tmp_path, plus hypothesis round-trip and fuzz properties.

Strict xfails mark real bugs found while writing these tests (see each reason).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import random
import tempfile
import zipfile
from pathlib import Path

import openpyxl

from sefton_qa import identity
from sefton_qa.services.spreadsheets import ooxml_unescape
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from import_helpers import (
    ADMIN_OS_USER,
    GOOD_ROW,
    OLE_MAGIC,
    REQUIRED_HEADERS,
    TODAY,
    audit_facts,
    copy_file,
    counts,
    csv_rows,
    export_rows,
    moderation_facts,
    patch_xlsx,
    row,
    write_rows,
    write_table,
    xlsx_rows,
    xlsx_with_entities,
    xlsx_without_sheets,
)

from sefton_qa.cli import main
from sefton_qa.domain.errors import PermissionDenied, SeftonError, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, Role
from sefton_qa.domain.reference import DEFAULT_THEMES
from sefton_qa.paths import DB_ENV
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org_service
from sefton_qa.services import sign_in, spreadsheets
from sefton_qa.services.import_export import (
    EXPORT_HEADERS,
    FIELDS,
    ImportCancelled,
    ImportReport,
    export_audits,
    import_audits,
    parse_date,
    parse_grade,
    plan_columns,
)
from sefton_qa.services.spreadsheets import FORMULA_STARTS, SpreadsheetError, read_sheet
from sefton_qa.store import open_store
from sefton_qa.store import staff as staff_store

MAY_31 = dt.date(2024, 5, 31)
THREE_GRADES = {Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE}


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path, empty_store_template):
    """A second, empty store (its first user becomes the administrator)."""
    stores = []

    def make(name: str = "fresh"):
        path = copy_file(empty_store_template, tmp_path / name / "sefton-qa.sqlite3")
        store = open_store(path)
        stores.append(store)
        return sign_in(store, os_user=ADMIN_OS_USER, today=lambda: TODAY)

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def cli(monkeypatch, tmp_path, store):
    """Run the command line on the test's store as the administrator's OS account."""
    monkeypatch.delenv(DB_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(identity, "os_account", lambda: ADMIN_OS_USER)
    from sefton_qa.services import session

    monkeypatch.setattr(session, "signed_in_account", lambda store: identity.os_account())

    def run(capsys, *argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(store.location), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def imported(store, ref: str) -> dict:
    """The stored audit with case reference ``ref``, as names."""
    found = [f for f in audit_facts(store.conn) if f[0] == ref]
    assert len(found) == 1, f"{ref}: {found}"
    # (how the case was chosen: tests/test_selection.py)
    ref, date, kind, grade, area, team, auditor, themes, findings, status, _how = found[0]
    return dict(case_reference=ref, audit_date=date, audit_type=kind, grade=grade, area=area,
                team=team, auditor=auditor, themes=themes, findings=findings, status=status)


def assert_nothing_written(store, before: dict) -> None:
    assert counts(store.conn) == before


# -- headers and mappings ----------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_headers_match_case_spaces_underscores_and_any_order(admin, org, store, tmp_path,
                                                             suffix):
    headers = ["  GRADE ", "Auditor", "Team", "Service Area", "audit_date", "CASE reference",
               "Findings", "Audit-Type", "THEMES"]
    values = ["RI", "Alex Auditor", "CP Team 2", "Child Protection", "31/05/2024", "LCS-100001",
              "Plan lacks timescales.", "Dip sample", "Neglect; Drift and delay"]
    path = write_table(tmp_path / f"mixed{suffix}", headers, [values])
    report = import_audits(admin, path)
    assert report.ok, report.problems
    assert report.added == 1 and report.unknown_columns == []
    assert report.mapping == {"GRADE": "grade", "Auditor": "auditor", "Team": "team",
                              "Service Area": "service_area", "audit_date": "audit_date",
                              "CASE reference": "case_reference", "Findings": "findings",
                              "Audit-Type": "audit_type", "THEMES": "themes"}
    assert imported(store, "LCS-100001") == dict(
        case_reference="LCS-100001", audit_date="2024-05-31", audit_type="dip_sample",
        grade="requires_improvement", area="Child Protection", team="CP Team 2",
        auditor="Alex Auditor", themes=("Drift and delay", "Neglect"),
        findings="Plan lacks timescales.", status="submitted")


def test_unknown_columns_are_listed_and_ignored(admin, org, store, tmp_path):
    path = write_rows(tmp_path / "extra.csv", [row(1, Notes="seen by SM", **{"RAG": "amber"})])
    report = import_audits(admin, path)
    assert report.ok and report.added == 1
    assert report.unknown_columns == ["Notes", "RAG"]
    assert "Ignored columns (not used by Sefton QA): Notes, RAG" in report.lines()
    assert "seen by SM" not in str(audit_facts(store.conn))


def test_a_missing_required_column_is_a_problem(admin, org, store, tmp_path):
    values = row(1)
    del values["grade"], values["team"]
    path = write_rows(tmp_path / "short.csv", [values])
    before = counts(store.conn)
    report = import_audits(admin, path)
    assert not report.ok
    assert report.problems == ['the required column "team" is missing',
                               'the required column "grade" is missing']
    assert_nothing_written(store, before)


def test_a_column_given_twice_is_a_problem(admin, org, tmp_path):
    path = write_table(tmp_path / "twice.csv", REQUIRED_HEADERS + ["Grade"],
                       [list(GOOD_ROW.values()) + ["RI"]])
    report = import_audits(admin, path)
    assert report.problems == ['column "Grade" is a second "grade" column']


def test_common_alternative_headers_are_understood(admin, org, tmp_path):
    path = write_table(tmp_path / "aliases.csv",
                       ["Case ref", "Date", "Area", "Team", "Auditor", "Overall grade", "Theme",
                        "Type"],
                       [["LCS-100001", "31/05/2024", "Child Protection", "CP Team 1",
                         "Alex Auditor", "Good", "Neglect", "Themed"]])
    report = import_audits(admin, path)
    assert report.ok and report.added == 1, report.problems


OWN_HEADERS = ["Ref no", "Date audited", "Directorate", "Practice team", "QA lead",
               "Judgement"]
OWN_MAPPING = {"Ref no": "case_reference", "Date audited": "audit_date",
               "Directorate": "service_area", "Practice team": "team", "QA lead": "auditor",
               "Judgement": "grade"}


def test_a_mapping_reads_a_team_own_headers(admin, org, store, tmp_path):
    path = write_table(tmp_path / "own.csv", OWN_HEADERS, [list(row(1).values())])
    without = import_audits(admin, path)
    assert not without.ok and without.unknown_columns == OWN_HEADERS
    report = import_audits(admin, path, mapping=OWN_MAPPING)
    assert report.ok and report.added == 1, report.problems
    assert report.mapping == OWN_MAPPING
    assert imported(store, "LCS-100001")["grade"] == "good"


def test_a_saved_mapping_is_used_next_time(admin, org, store, tmp_path):
    first = write_table(tmp_path / "april.csv", OWN_HEADERS, [list(row(1).values())])
    assert import_audits(admin, first, mapping=OWN_MAPPING, save_mapping=True).added == 1
    # Next month's file: same headers, written differently, and no mapping given.
    headers = ["REF NO", "date_audited", "Directorate", "practice  team", "QA_Lead",
               "judgement"]
    second = write_table(tmp_path / "may.csv", headers, [list(row(2).values())])
    report = import_audits(admin, second)
    assert report.ok and report.added == 1, report.problems
    assert set(report.mapping.values()) == set(REQUIRED_HEADERS)


def test_a_mapping_is_not_saved_unless_asked(admin, org, store, tmp_path):
    path = write_table(tmp_path / "own.csv", OWN_HEADERS, [list(row(1).values())])
    assert import_audits(admin, path, mapping=OWN_MAPPING).ok
    second = write_table(tmp_path / "own2.csv", OWN_HEADERS, [list(row(2).values())])
    assert not import_audits(admin, second).ok


def test_plan_columns_directly():
    columns, unknown, problems = plan_columns(
        ["Grade", "", "Team", "Whatever", "case reference", "Audit Date", "auditor",
         "Service_Area"], {})
    assert columns == {0: "grade", 2: "team", 4: "case_reference", 5: "audit_date",
                       6: "auditor", 7: "service_area"}
    assert unknown == ["Whatever"] and problems == []


# -- personal data -----------------------------------------------------------------------------
@pytest.mark.parametrize("header", ["Child name", "Name", "DOB", "Date of birth", "Address",
                                    "Postcode", "NHS number", "Child's name", "Date Of Birth",
                                    "first_name", "Surname", "Address line 1"])
def test_personal_data_columns_are_refused_by_name(admin, org, store, tmp_path, header):
    path = write_rows(tmp_path / "personal.csv", [row(1, **{header: "something personal"})])
    before = counts(store.conn)
    report = import_audits(admin, path)
    assert not report.ok
    assert report.problems == [f'column "{header}" looks like personal data. Sefton QA stores '
                               "case references only: remove this column and import again."]
    assert_nothing_written(store, before)


@pytest.mark.parametrize("header", ["Auditor", "Team", "Service area", "Team manager",
                                    "Auditor name", "Theme"])
def test_ordinary_columns_are_not_mistaken_for_personal_data(admin, org, tmp_path, header):
    values = row(1)
    if header not in ("Auditor", "Team", "Service area"):
        values[header] = "x" if header != "Theme" else "Neglect"
    path = write_rows(tmp_path / "fine.csv", [values])
    report = import_audits(admin, path)
    assert report.ok, report.problems
    assert not any("personal" in p for p in report.problems)


@pytest.mark.parametrize("header", ["D.O.B.", "Young person's name"])
def test_personal_data_in_other_common_spellings_is_refused(admin, org, tmp_path, header):
    report = import_audits(admin, write_rows(tmp_path / "personal.csv",
                                             [row(1, **{header: "something personal"})]))
    assert any("looks like personal data" in p for p in report.problems)


# -- grades ------------------------------------------------------------------------------------
SPELLINGS = [("Good", Grade.GOOD), ("good", Grade.GOOD), ("  GOOD ", Grade.GOOD),
             ("Requires improvement", Grade.REQUIRES_IMPROVEMENT),
             ("requires  improvement", Grade.REQUIRES_IMPROVEMENT),
             ("Requires improvement to be good", Grade.REQUIRES_IMPROVEMENT),
             ("RI", Grade.REQUIRES_IMPROVEMENT), ("ri", Grade.REQUIRES_IMPROVEMENT),
             ("Inadequate", Grade.INADEQUATE), ("INADEQUATE", Grade.INADEQUATE)]


@pytest.mark.parametrize("text,grade", SPELLINGS)
def test_parse_grade_spellings(text, grade):
    assert parse_grade(text, THREE_GRADES) is grade


@pytest.mark.parametrize("text", ["Excellent", "G", "R.I.", "Req. improvement", "", "3",
                                  "Good/RI", "Outstanding"])
def test_parse_grade_refuses_the_rest(text):
    with pytest.raises(ValueError, match="is not a grade on this store's scale"):
        parse_grade(text, THREE_GRADES)


def test_every_spelling_imports_to_its_grade(admin, org, store, tmp_path):
    rows = [row(n, grade=text) for n, (text, _g) in enumerate(SPELLINGS, start=1)]
    report = import_audits(admin, write_rows(tmp_path / "grades.csv", rows))
    assert report.ok and report.added == len(SPELLINGS), report.problems
    for n, (_text, grade) in enumerate(SPELLINGS, start=1):
        assert imported(store, f"LCS-{100000 + n}")["grade"] == grade.value


def test_an_unknown_grade_names_its_row_and_value(admin, org, store, tmp_path):
    rows = [row(1), row(2, grade="Excellent"), row(3)]
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "bad-grade.csv", rows))
    assert report.problems == ['row 3, grade: "Excellent" is not a grade on this store\'s scale '
                               "(Good, Requires improvement to be good, Inadequate, or RI)"]
    assert_nothing_written(store, before)


def test_outstanding_only_where_the_scale_has_it(admin, org, store, tmp_path):
    path = write_rows(tmp_path / "outstanding.csv", [row(1, grade="Outstanding")])
    report = import_audits(admin, path)
    assert not report.ok
    assert report.problems[0].startswith('row 2, grade: "Outstanding" is not a grade')
    org_service.set_outstanding_enabled(admin, True)
    report = import_audits(admin, path)
    assert report.ok and report.added == 1
    assert imported(store, "LCS-100001")["grade"] == "outstanding"


# -- dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["2024-05-31", "31/05/2024", "31/05/24", " 31/05/2024 ",
                                   "2024-05-31 00:00:00", MAY_31,
                                   dt.datetime(2024, 5, 31, 14, 30), 45443, 45443.0, "45443"])
def test_parse_date_accepts_iso_uk_and_excel(value):
    assert parse_date(value) == MAY_31


@pytest.mark.parametrize("value", ["05/13/2024", "12/13/2024"])
def test_parse_date_never_reads_month_first(value):
    with pytest.raises(ValueError, match="day first"):
        parse_date(value)


def test_parse_date_reads_day_first():
    assert parse_date("05/12/2024") == dt.date(2024, 12, 5)
    assert parse_date("13/05/2024") == dt.date(2024, 5, 13)


@pytest.mark.parametrize("value", ["31/02/2024", "2024-02-30", "00/01/2024", "yesterday",
                                   "May 2024", "2024/05/31", "31-13-2024x", "", True])
def test_parse_date_refuses_what_is_not_a_date(value):
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(value)


def test_month_first_date_is_an_error_not_13_may(admin, org, store, tmp_path):
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "us.csv",
                                             [row(1, audit_date="05/13/2024")]))
    assert report.problems == ['row 2, audit_date: "05/13/2024" is not a date: dates are read '
                               "day first (31/05/2024), and there is no month 13"]
    assert_nothing_written(store, before)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_impossible_date_names_the_file_row(admin, org, store, tmp_path, suffix):
    # The header is row 1, so the 16th audit is on row 17.
    rows = [row(n) for n in range(1, 20)]
    rows[15]["audit_date"] = "31/02/2024"
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / f"feb{suffix}", rows))
    assert report.problems == ['row 17, audit_date: "31/02/2024" is not a date']
    assert report.added == 0
    assert_nothing_written(store, before)


def test_blank_lines_count_in_csv_row_numbers(admin, org, tmp_path):
    lines = [",".join(REQUIRED_HEADERS), ",".join(row(1).values()), "", ",,,,,",
             ",".join(row(2, grade="Superb").values())]
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_audits(admin, path)
    assert report.rows_read == 2
    assert report.problems[0].startswith('row 5, grade: "Superb"')


def test_blank_rows_count_in_xlsx_row_numbers(admin, org, tmp_path):
    path = write_table(tmp_path / "gaps.xlsx", REQUIRED_HEADERS,
                       [list(row(1).values()), [None] * 6, [None, " "],
                        list(row(2, grade="Superb").values())])
    report = import_audits(admin, path)
    assert report.rows_read == 2
    assert report.problems[0].startswith('row 5, grade: "Superb"')


def test_multi_line_findings_do_not_shift_csv_row_numbers(admin, org, tmp_path):
    rows = [row(1, findings="Seen alone.\nPlan agreed.\nReview in 3 months."),
            row(2, audit_date="31/02/2024")]
    xlsx = import_audits(admin, write_rows(tmp_path / "lines.xlsx", rows))
    assert xlsx.problems == ['row 3, audit_date: "31/02/2024" is not a date']
    report = import_audits(admin, write_rows(tmp_path / "lines.csv", rows))
    assert report.problems == ['row 3, audit_date: "31/02/2024" is not a date']


def test_excel_date_cells_and_serial_numbers(admin, org, store, tmp_path):
    dates = [MAY_31, dt.datetime(2024, 5, 31), dt.datetime(2024, 5, 31, 9, 15), 45443,
             45443.0, "45443", "31/05/2024", "31/05/24", "2024-05-31"]
    rows = [row(n, audit_date=d) for n, d in enumerate(dates, start=1)]
    report = import_audits(admin, write_rows(tmp_path / "dates.xlsx", rows))
    assert report.ok and report.added == len(dates), report.problems
    assert {f[1] for f in audit_facts(store.conn)} == {"2024-05-31"}


def test_a_date_in_the_future_is_refused(admin, org, tmp_path):
    tomorrow = TODAY + dt.timedelta(days=1)
    report = import_audits(admin, write_rows(tmp_path / "future.csv", [
        row(1, audit_date=f"{TODAY:%d/%m/%Y}"), row(2, audit_date=f"{tomorrow:%d/%m/%Y}")]))
    assert report.problems == [f"row 3, audit_date: {tomorrow:%d/%m/%Y} is in the future"]


# -- encodings and delimiters ------------------------------------------------------------------
FINDING_1252 = "Cost £40 – the child’s “voice” is café-quiet…"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_give_the_same_rows(admin, org, store, tmp_path, encoding):
    rows = [row(1, findings=FINDING_1252), row(2, team="CP Team 2", findings="Plain")]
    path = write_rows(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    reference = write_rows(tmp_path / "reference.csv", rows, encoding="utf-8")
    assert read_sheet(path).headers == read_sheet(reference).headers == list(rows[0])
    assert read_sheet(path).rows == read_sheet(reference).rows
    report = import_audits(admin, path)
    assert report.ok and report.added == 2, report.problems
    assert imported(store, "LCS-100001")["findings"] == FINDING_1252


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(admin, org, store, tmp_path, delimiter):
    rows = [row(1, findings="Drift, delay; and\tmore", themes="Neglect; Drift and delay"),
            row(2)]
    path = write_rows(tmp_path / "sniff.csv", rows, delimiter=delimiter, line_end="\r\n")
    report = import_audits(admin, path)
    assert report.ok and report.added == 2, report.problems
    assert imported(store, "LCS-100001")["findings"] == "Drift, delay; and\tmore"
    assert imported(store, "LCS-100001")["themes"] == ("Drift and delay", "Neglect")


def test_excel_unicode_text_utf16_is_read_too(admin, org, store, tmp_path):
    """Excel's "Unicode Text" (UTF-16 with a BOM, tab-separated)."""
    path = write_rows(tmp_path / "unicode.txt", [row(1, findings=FINDING_1252)],
                      encoding="utf-16", delimiter="\t", line_end="\r\n")
    report = import_audits(admin, path)
    assert report.ok and report.added == 1, report.problems
    assert imported(store, "LCS-100001")["findings"] == FINDING_1252


def _with_control(tmp_path, name, finding, encoding="utf-8"):
    return write_rows(tmp_path / name, [row(1, findings=finding), row(2)], encoding=encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("finding, stored", [
    ("First line\x0bsecond line", "First line\nsecond line"),    # Word's line break
    ("Page one\x0cpage two", "Page one\npage two"),              # Word's page break
    ("\x1b[31mred\x1b[0m and \x07 bell", "[31mred[0m and  bell"),  # dropped, as typed text
    ("Unit\x1csep\x1dar\x1eators", "Unitseparators"),  # (str.splitlines breaks lines there)
])
def test_a_text_file_holding_control_characters_is_read_as_text(admin, org, store, tmp_path,
                                                                 encoding, finding, stored):
    """A control character pasted into a cell does not make the file unreadable (it did, and
    the message said the file was not UTF-8); findings are cleaned as typed text is."""
    path = _with_control(tmp_path, f"control-{encoding}.csv", finding, encoding)
    sheet = read_sheet(path)
    assert [number for number, _cells in sheet.rows] == [2, 3]  # no line break was added
    assert sheet.rows[0][1][-1] == finding
    report = import_audits(admin, path)
    assert report.ok and report.added == 2, report.problems
    assert imported(store, "LCS-100001")["findings"] == stored == audit_service.clean_text(
        finding)


def test_control_characters_in_other_cells_are_reported_by_row_and_column(admin, org, store,
                                                                          tmp_path):
    before = counts(store.conn)
    path = write_rows(tmp_path / "control.csv", [
        row(1, case_reference="LCS-\x1b100001"), row(2, grade="Go\x0bod"),
        row(3, audit_date="31/05\x07/2024"), row(4, findings="fine\x0b")])
    report = import_audits(admin, path)
    assert report.problems == [
        'row 2, case_reference: "LCS-\x1b100001" is not a valid case reference (3 to 20 '
        "letters, digits or hyphens)",
        'row 3, grade: "Go\x0bod" is not a grade on this store\'s scale (Good, Requires '
        "improvement to be good, Inadequate, or RI)",
        'row 4, audit_date: "31/05\x07/2024" is not a date (use 31/05/2024 or 2024-05-31)']
    assert_nothing_written(store, before)


NOT_TEXT = {
    "nul": (b"case_reference,audit_date\x00,service_area\n",
            "nul.csv is not a readable text file: it holds NUL bytes, so it looks like a binary "
            "file, not a CSV. Save it from Excel as CSV UTF-8 or .xlsx."),
    "undecodable": (b"case_reference,audit_date\nLCS-1,\x81\x8d\n",
                    "undecodable.csv is not a readable text file: line 2 holds the byte 0x81, "
                    "which is neither UTF-8 nor Windows-1252 text. Save it from Excel as CSV "
                    "UTF-8 or .xlsx."),
    "bom then not utf-8": (b"\xef\xbb\xbfcase_reference\n\nLCS-\xe9\n",
                           "bom then not utf-8.csv is not a readable text file: it begins as "
                           "UTF-8 text, but line 3 holds the byte 0xE9, which is not UTF-8. "
                           "Save it from Excel as CSV UTF-8 or .xlsx."),
    "odd utf-16": (b"\xff\xfea\x00b",
                   "odd utf-16.csv is not a readable text file: it begins as UTF-16 text, but "
                   "its byte 5 (of 5) cannot be read as UTF-16. Save it from Excel as CSV "
                   "UTF-8 or .xlsx."),
    "utf-16 nul": ("case_reference\x00\n".encode("utf-16"),
                   "utf-16 nul.csv is not a readable text file: it holds NUL characters, so it "
                   "looks like a binary file, not a CSV. Save it from Excel as CSV UTF-8 or "
                   ".xlsx."),
}


@pytest.mark.parametrize("case", list(NOT_TEXT))
def test_a_file_that_is_not_text_says_what_was_found(admin, org, store, tmp_path, case):
    data, message = NOT_TEXT[case]
    (path := tmp_path / f"{case}.csv").write_bytes(data)
    before = counts(store.conn)
    with pytest.raises(SpreadsheetError) as info:
        import_audits(admin, path, create_missing=True)
    assert str(info.value) == message
    assert_nothing_written(store, before)


# -- unknown names and --create-missing --------------------------------------------------------
def _rows_with_new_names():
    return [row(1, themes="Neglect; Online harm"),
            row(2, service_area="Early Help", team="EH Team 1", auditor="Jo Bloggs"),
            row(3, team="CP Team 9", moderator="Mo Derator", moderated_grade="Good",
                moderation_date="01/06/2024")]


def test_unknown_names_are_listed_and_refused(admin, org, store, tmp_path):
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "new.csv", _rows_with_new_names()))
    assert not report.ok and report.added == 0
    assert report.missing == {"service_areas": ["Early Help"],
                              "teams": ["EH Team 1 (Early Help)",
                                        "CP Team 9 (Child Protection)"],
                              "staff": ["Jo Bloggs", "Mo Derator"],
                              "themes": ["Online harm"]}
    assert report.problems == [
        'service area "Early Help" is not known (row 3)',
        'team "EH Team 1 (Early Help)" is not known (row 3)',
        'team "CP Team 9 (Child Protection)" is not known (row 4)',
        'member of staff "Jo Bloggs" is not known (row 3)',
        'member of staff "Mo Derator" is not known (row 4)',
        'theme "Online harm" is not known (row 2)',
        "add them in Settings first, or import with --create-missing "
        '("Create what is missing" in the app)']
    assert_nothing_written(store, before)


def test_create_missing_creates_them(admin, org, store, tmp_path):
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "new.csv", _rows_with_new_names()),
                           create_missing=True)
    assert report.ok and report.added == 3, report.problems
    assert report.created == report.missing
    after = counts(store.conn)
    assert (after["service_areas"] - before["service_areas"], after["teams"] - before["teams"],
            after["staff"] - before["staff"], after["themes"] - before["themes"]) == (1, 2, 2, 1)
    assert imported(store, "LCS-100002") == dict(
        case_reference="LCS-100002", audit_date="2024-05-31", audit_type="deep_dive",
        grade="good", area="Early Help", team="EH Team 1", auditor="Jo Bloggs", themes=(),
        findings="", status="submitted")
    assert imported(store, "LCS-100001")["themes"] == ("Neglect", "Online harm")
    assert imported(store, "LCS-100003")["team"] == "CP Team 9"
    roles = {s.display_name: s.roles for s in staff_store.list_all(store.conn)}
    assert roles["Jo Bloggs"] == {Role.QA_OFFICER}
    assert roles["Mo Derator"] == {Role.QA_OFFICER, Role.MODERATOR}


def test_create_missing_needs_an_administrator(auditor, store, tmp_path):
    before = counts(store.conn)
    with pytest.raises(PermissionDenied, match="administrator"):
        import_audits(auditor, write_rows(tmp_path / "new.csv", _rows_with_new_names()),
                      create_missing=True)
    assert_nothing_written(store, before)


def test_a_qa_officer_imports_known_names(auditor, store, tmp_path):
    report = import_audits(auditor, write_rows(tmp_path / "known.csv", [row(1), row(2)]),
                           create_missing=True)
    assert report.ok and report.added == 2 and report.created == {}


def test_a_service_manager_cannot_import(manager, store, tmp_path):
    before = counts(store.conn)
    with pytest.raises(PermissionDenied):
        import_audits(manager, write_rows(tmp_path / "known.csv", [row(1)]))
    assert_nothing_written(store, before)


def test_known_names_match_whatever_their_case(admin, org, store, tmp_path):
    report = import_audits(admin, write_rows(tmp_path / "case.csv", [
        row(1, service_area="CHILD PROTECTION", team="cp team 1", auditor="alex auditor",
            themes="neglect;DRIFT AND DELAY")]))
    assert report.ok and report.missing == {}, report.problems
    facts = imported(store, "LCS-100001")
    assert (facts["area"], facts["team"], facts["auditor"], facts["themes"]) == (
        "Child Protection", "CP Team 1", "Alex Auditor", ("Drift and delay", "Neglect"))


def test_create_missing_creates_each_new_name_once_whatever_its_case(admin, org, store,
                                                                      tmp_path):
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "case.csv", [
        row(1, service_area="Early Help", team="EH 1", auditor="Jo Bloggs", themes="Online"),
        row(2, service_area="early help", team="eh 1", auditor="jo bloggs", themes="ONLINE")]),
        create_missing=True)
    assert report.ok and report.added == 2
    after = counts(store.conn)
    assert (after["service_areas"] - before["service_areas"], after["teams"] - before["teams"],
            after["staff"] - before["staff"], after["themes"] - before["themes"]) == (1, 1, 1, 1)


LONG = "x" * 121  # one more than the organisation service's 120 characters


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_create_missing_reports_names_too_long_to_create_with_their_rows(admin, org, store,
                                                                         tmp_path, suffix):
    """A name the organisation service would refuse is a problem of its row and column, listed
    with the others, not an error that stops the import (found by the hostile-input
    properties)."""
    rows = [row(1),
            row(2, service_area="A" * 121, team="EH 1"),                # row 3
            row(3, team="T" * 121, grade="Great"),                      # row 4
            row(4, auditor="P" * 121, moderator="M" * 200, moderated_grade="Good",
                moderation_date="01/06/2024"),                          # row 5
            row(5, themes=f"Neglect; New theme; {LONG}"),               # row 6
            row(6, themes=LONG),                                        # row 7
            row(7, team="T" * 121)]                                     # row 8: same team
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / f"long{suffix}", rows),
                           create_missing=True)
    assert report.problems == [
        'row 4, grade: "Great" is not a grade on this store\'s scale (Good, Requires '
        "improvement to be good, Inadequate, or RI)",
        "row 3, service_area: the name is longer than 120 characters; shorten it in the file",
        "row 4, team: the name is longer than 120 characters; shorten it in the file",
        "row 5, auditor: the name is longer than 120 characters; shorten it in the file",
        "row 5, moderator: the name is longer than 120 characters; shorten it in the file",
        "row 6, themes: the name of theme 3 is longer than 120 characters; shorten it in the "
        "file",
        "row 7, themes: the name is longer than 120 characters; shorten it in the file",
        "row 8, team: the name is longer than 120 characters; shorten it in the file"]
    assert report.added == 0 and not report.ok
    assert "8 problem(s); nothing was imported:" in report.lines()
    assert_nothing_written(store, before)
    # The dry run reports the same, and names of exactly 120 characters are created.
    assert import_audits(admin, write_rows(tmp_path / f"again{suffix}", rows), dry_run=True,
                         create_missing=True).problems == report.problems
    assert_nothing_written(store, before)
    fixed = [row(2, service_area="A" * 120, team="T" * 120, auditor="P" * 120,
                 themes="N" * 120)]
    report = import_audits(admin, write_rows(tmp_path / f"fixed{suffix}", fixed),
                           create_missing=True)
    assert report.ok and report.added == 1, report.problems
    facts = imported(store, "LCS-100002")
    assert (facts["area"], facts["team"], facts["auditor"], facts["themes"]) == (
        "A" * 120, "T" * 120, "P" * 120, ("N" * 120,))


def test_create_missing_reports_names_with_control_or_direction_characters(admin, org, store,
                                                                           tmp_path):
    """The organisation service's other rule for names, applied the same way."""
    rows = [row(1, service_area="Early\x1bHelp", team="EH 1"),
            row(2, team="CP \u202eTeam", auditor="Jo\x07 Bloggs")]
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "control.csv", rows),
                           create_missing=True)
    assert report.problems == [
        "row 2, service_area: the name must not contain control or text-direction "
        "characters; correct it in the file",
        "row 3, team: the name must not contain control or text-direction characters; "
        "correct it in the file",
        "row 3, auditor: the name must not contain control or text-direction characters; "
        "correct it in the file"]
    assert_nothing_written(store, before)


def test_a_known_name_is_never_checked_as_a_new_one(admin, org, store, tmp_path):
    """Only the names that would be created are checked against the naming rules."""
    report = import_audits(admin, write_rows(tmp_path / "known.csv", [
        row(1, team="New team", themes="Neglect")]), create_missing=True)
    assert report.ok and report.added == 1, report.problems
    assert report.created == {"teams": ["New team (Child Protection)"]}


# -- all or nothing ----------------------------------------------------------------------------
def test_one_bad_row_imports_nothing(admin, org, store, tmp_path):
    rows = [row(n, themes="Neglect") for n in range(1, 11)]
    rows[6]["grade"] = "Amazing"
    rows[3].update(service_area="Early Help", team="EH 1", auditor="New Person")
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "one-bad.csv", rows),
                           create_missing=True)
    assert report.problems == ['row 8, grade: "Amazing" is not a grade on this store\'s scale '
                               "(Good, Requires improvement to be good, Inadequate, or RI)"]
    assert report.added == 0 and not report.ok
    assert "nothing was imported" in "\n".join(report.lines())
    assert_nothing_written(store, before)


def test_every_problem_is_reported_at_once(admin, org, store, tmp_path):
    rows = [row(n) for n in range(1, 12)]
    rows[1]["audit_date"] = "31/02/2024"                # row 3
    rows[3]["grade"] = "Great"                          # row 5
    rows[4]["team"] = ""                                # row 6
    rows[6]["case_reference"] = "LCS 1"                 # row 8
    rows[7]["audit_date"] = "01/01/2030"                # row 9
    rows[8]["audit_date"] = ""                          # row 10
    rows[9].update(moderator="Sam Manager")             # row 11
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "many.csv", rows))
    assert report.problems == [
        'row 3, audit_date: "31/02/2024" is not a date',
        'row 5, grade: "Great" is not a grade on this store\'s scale (Good, Requires '
        "improvement to be good, Inadequate, or RI)",
        "row 6, team: is empty",
        'row 8, case_reference: "LCS 1" is not a valid case reference (3 to 20 letters, '
        "digits or hyphens)",
        "row 9, audit_date: 01/01/2030 is in the future",
        "row 10, audit_date: is empty",
        "row 11, moderator: moderator, moderated_grade and moderation_date go together: give "
        "all three or none"]
    assert_nothing_written(store, before)


def test_problems_found_when_saving_also_import_nothing(admin, org, store, tmp_path):
    org_service.update_staff(admin, org.auditor, active=False)
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "inactive.csv", [
        row(1, auditor="Sam Manager"), row(2)]))
    assert report.problems == ["row 3, auditor: Alex Auditor is not an active member of staff"]
    assert_nothing_written(store, before)


def test_the_import_is_one_transaction(admin, org, store, tmp_path, monkeypatch):
    """A failure after the audits and the new names were written undoes all of it."""
    from sefton_qa.services import import_export

    def fail(*args, **kwargs):
        raise RuntimeError("disk unplugged")

    monkeypatch.setattr(import_export.file_transfers, "insert", fail)
    before = counts(store.conn)
    with pytest.raises(RuntimeError):
        import_audits(admin, write_rows(tmp_path / "new.csv", _rows_with_new_names()),
                      create_missing=True)
    assert_nothing_written(store, before)


def test_the_import_is_recorded_in_the_trail(admin, org, store, tmp_path):
    from sefton_qa.services.verify import verify_store

    path = write_rows(tmp_path / "April audits.csv", _rows_with_new_names())
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    last_seq = store.conn.execute("SELECT max(seq) FROM trail").fetchone()[0]
    report = import_audits(admin, path, create_missing=True)
    assert report.ok and report.sha256 == sha
    reason = f"Imported from April audits.csv (SHA-256 {sha})"
    trail = store.conn.execute("SELECT table_name, kind, reason, staff_id FROM trail "
                               "WHERE seq > ? ORDER BY seq", (last_seq,)).fetchall()
    audit_rows = [t for t in trail if t[0] == "audits"]
    assert audit_rows == [("audits", "import", reason, admin.actor.id)] * 3
    # (flag rows are the calibration sample of the rows imported without a moderation)
    assert [t for t in trail if t[0] == "moderations" and t[1] != "flag"] == [
        ("moderations", "import", reason, admin.actor.id)]
    assert [t[:2] for t in trail if t[0] == "file_transfers"] == [("file_transfers", "import")]
    transfers = store.conn.execute(
        "SELECT direction, file_name, sha256, date_from, date_to, rows_written, rows_skipped "
        "FROM file_transfers").fetchall()
    assert transfers == [("import", "April audits.csv", sha, None, None, 3, 0)]
    assert verify_store(store).ok


@pytest.mark.parametrize("stage", ["Reading", "Checking rows", "Saving"])
def test_cancelling_leaves_the_store_untouched(admin, org, store, tmp_path, stage):
    path = write_rows(tmp_path / "new.csv", _rows_with_new_names())
    seen = []

    def progress(done: int, total: int, message: str) -> bool:
        seen.append(message)
        return not message.startswith(stage)

    before = counts(store.conn)
    with pytest.raises(ImportCancelled, match="nothing was written"):
        import_audits(admin, path, create_missing=True, progress=progress)
    assert seen[-1].startswith(stage)
    assert_nothing_written(store, before)


def test_a_cancel_after_the_commit_does_not_claim_nothing_was_written(admin, org, store,
                                                                      tmp_path):
    before = counts(store.conn)
    try:
        report = import_audits(admin, write_rows(tmp_path / "two.csv", [row(1), row(2)]),
                               progress=lambda done, total, message: message != "Done")
    except ImportCancelled:
        assert_nothing_written(store, before)  # the message must then be true
    else:
        assert report.added == 2


# -- dry run -----------------------------------------------------------------------------------
def test_a_dry_run_writes_nothing_but_reports_what_it_would_add(admin, org, store, tmp_path):
    fields = REQUIRED_HEADERS + ["themes", "moderator", "moderated_grade", "moderation_date"]
    path = write_table(tmp_path / "dry.csv", OWN_HEADERS[:2] + fields[2:],
                       [[r.get(f) for f in fields] for r in _rows_with_new_names()])
    before = counts(store.conn)
    report = import_audits(admin, path, dry_run=True, create_missing=True,
                           mapping={"Ref no": "case_reference", "Date audited": "audit_date"},
                           save_mapping=True)
    assert report.ok and report.dry_run and report.added == 3, report.problems
    assert report.created == report.missing and report.missing["staff"] == ["Jo Bloggs",
                                                                            "Mo Derator"]
    lines = report.lines()
    assert lines[-1] == "Dry run: 3 audit(s) would be added; nothing was written."
    assert "Staff will be created: Jo Bloggs, Mo Derator" in lines
    assert_nothing_written(store, before)
    # ...and the real import afterwards adds exactly what the dry run said.
    real = import_audits(admin, path, create_missing=True,
                         mapping={"Ref no": "case_reference", "Date audited": "audit_date"})
    assert real.added == 3 and real.created == report.created


def test_a_dry_run_reports_problems_and_duplicates(admin, org, store, tmp_path):
    assert import_audits(admin, write_rows(tmp_path / "first.csv", [row(1)])).added == 1
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "dry.csv", [row(1), row(2)]),
                           dry_run=True)
    assert report.ok and report.added == 1 and report.duplicates == [2]
    bad = import_audits(admin, write_rows(tmp_path / "dry-bad.csv", [row(3, grade="?")]),
                        dry_run=True)
    assert not bad.ok and bad.added == 0
    assert_nothing_written(store, before)


# -- duplicates --------------------------------------------------------------------------------
def test_reimporting_the_same_rows_adds_nothing(admin, org, store, tmp_path):
    path = write_rows(tmp_path / "again.csv", [row(1), row(2, themes="Neglect")])
    assert import_audits(admin, path).added == 2
    audits_before = counts(store.conn)["audits"]
    report = import_audits(admin, path)
    assert report.ok and report.added == 0 and report.duplicates == [2, 3]
    assert counts(store.conn)["audits"] == audits_before
    assert ("2 duplicate row(s) skipped (already in the store or earlier in the file): rows 2, 3"
            in report.lines())
    assert report.lines()[-1] == "Imported 0 audit(s)."
    assert store.conn.execute("SELECT rows_written, rows_skipped FROM file_transfers "
                              "ORDER BY id DESC LIMIT 1").fetchone() == (0, 2)


def test_a_duplicate_is_case_reference_date_and_auditor(admin, org, store, tmp_path,
                                                        make_input):
    audit_service.add_audits(admin, [make_input(case_reference="LCS-100001",
                                                audit_date=MAY_31)])
    rows = [row(1, grade="Inadequate", team="CP Team 2"),        # same key: duplicate
            row(1, auditor="Sam Manager"),                       # another auditor: new
            row(1, audit_date="01/06/2024"),                     # another date: new
            row(2),                                              # another case: new
            row(2, findings="typed twice"),                      # repeated in the file
            row(1, auditor="ALEX AUDITOR", audit_date="2024-05-31")]  # same key again
    report = import_audits(admin, write_rows(tmp_path / "dups.csv", rows))
    assert report.ok, report.problems
    assert report.duplicates == [2, 6, 7] and report.added == 3


def test_a_withdrawn_audit_is_not_a_duplicate(admin, org, store, tmp_path, make_input):
    change = audit_service.add_audits(admin, [make_input(case_reference="LCS-100001",
                                                         audit_date=MAY_31)])
    audit_service.withdraw_audit(admin, change.record_ids[0], "wrong case")
    report = import_audits(admin, write_rows(tmp_path / "w.csv", [row(1)]))
    assert report.added == 1 and report.duplicates == []


# -- files that are not sane spreadsheets ------------------------------------------------------
def _empty(tmp_path, suffix=".csv"):
    (path := tmp_path / f"empty{suffix}").write_bytes(b"")
    return path


def _junk(tmp_path, suffix, prefix=b""):
    path = tmp_path / f"junk{suffix}"
    # No NUL byte, so that the decoding (not the NUL check) is what refuses it.
    path.write_bytes(prefix + random.Random(3).randbytes(4096).replace(b"\x00", b"\x01"))
    return path


def _nul(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"case_reference,audit_date\x00,service_area,team,auditor,grade\n"
                     b"LCS-1,31/05/2024,Child Protection,CP Team 1,Alex Auditor,Good\n")
    return path


def _long_field(tmp_path, suffix, length=100_001):
    if suffix == ".csv":
        return write_rows(tmp_path / "long.csv", [row(1, findings="x" * length)])
    # openpyxl cuts text at Excel's 32,767 characters, so the long cell is patched in.
    path = write_rows(tmp_path / "long.xlsx", [row(1, findings="LONG-CELL-HERE")])
    return patch_xlsx(path, b"LONG-CELL-HERE", b"x" * length)


def _formula(tmp_path):
    return write_rows(tmp_path / "formula.xlsx", [row(1, findings="=1+1")])


def _csv_named_xlsx(tmp_path):
    path = tmp_path / "really-a.xlsx"
    path.write_text(",".join(REQUIRED_HEADERS) + "\n", encoding="utf-8")
    return path


def _blank_lines(tmp_path):
    (path := tmp_path / "blank.csv").write_text("\n  \n,,,\n", encoding="utf-8")
    return path


REFUSED = {
    "empty csv": (lambda p: _empty(p), "is empty"),
    "empty xlsx": (lambda p: _empty(p, ".xlsx"), "is empty"),
    "junk csv": (lambda p: _junk(p, ".csv"), "not a readable text file"),
    "junk txt": (lambda p: _junk(p, ".txt"), "not a readable text file"),
    "junk xlsx": (lambda p: _junk(p, ".xlsx"), "is not an Excel workbook"),
    "junk zip": (lambda p: _junk(p, ".xlsx", b"PK\x03\x04"), "workbook"),
    "password": (lambda p: _junk(p, ".xlsx", OLE_MAGIC), "password-protected"),
    "old xls as csv": (lambda p: _junk(p, ".csv", OLE_MAGIC), "password-protected"),
    "no sheet": (lambda p: xlsx_without_sheets(p / "nosheet.xlsx"), "no worksheet"),
    "entities": (lambda p: xlsx_with_entities(p / "entities.xlsx"), "entities.xlsx"),
    "nul": (_nul, "NUL bytes"),
    "long csv": (lambda p: _long_field(p, ".csv"), "longer than 100,000 characters"),
    "long xlsx": (lambda p: _long_field(p, ".xlsx"), "longer than 100,000 characters"),
    "formula": (_formula, "formula (=1+1) instead of a value"),
    "csv named xlsx": (_csv_named_xlsx, "is named .xlsx but is not an Excel workbook"),
    "blank lines": (_blank_lines, "has no header row"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_is_not_a_sane_spreadsheet_is_refused_plainly(admin, org, store, tmp_path, case,
                                                           cli, capsys):
    make, phrase = REFUSED[case]
    path = make(tmp_path)
    before = counts(store.conn)
    with pytest.raises(SpreadsheetError) as info:
        import_audits(admin, path, create_missing=True)
    message = str(info.value)
    assert phrase.lower() in message.lower()
    assert message.startswith(path.name) or path.name in message
    assert "Traceback" not in message
    assert_nothing_written(store, before)
    code, out, err = cli(capsys, "import", str(path), "--create-missing")
    assert code == 1 and out == ""
    assert err.startswith("sefton-qa: ") and phrase.lower() in err.lower()
    assert "Traceback" not in err
    assert_nothing_written(store, before)


def test_defusedxml_is_installed_beside_openpyxl():
    import importlib.util

    assert importlib.util.find_spec("defusedxml") is not None


def test_a_file_over_the_size_limit_is_refused(admin, org, store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "big.csv", [row(n) for n in range(1, 40)])
    size = path.stat().st_size
    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", size - 1)
    before = counts(store.conn)
    with pytest.raises(SpreadsheetError, match="the largest file Sefton QA imports is"):
        import_audits(admin, path)
    assert_nothing_written(store, before)
    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", size)  # exactly the limit is fine
    assert import_audits(admin, path).added == 39


def test_a_missing_file_is_refused_plainly(admin, tmp_path):
    with pytest.raises(SpreadsheetError, match="cannot be read"):
        import_audits(admin, tmp_path / "nowhere.csv")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_field_of_exactly_100000_characters_is_accepted(admin, org, store, tmp_path,
                                                          suffix):
    report = import_audits(admin, _long_field(tmp_path, suffix, length=100_000))
    assert report.ok and report.added == 1, report.problems
    assert len(imported(store, "LCS-100001")["findings"]) == 100_000


def test_a_header_row_without_audits(admin, org, tmp_path):
    path = write_table(tmp_path / "headers-only.csv", REQUIRED_HEADERS, [])
    report = import_audits(admin, path)
    assert report.problems == ["headers-only.csv has a header row but no audits"]


# -- moderation columns ------------------------------------------------------------------------
MODERATED = dict(moderator="Sam Manager", moderated_grade="RI", moderation_date="01/06/2024")


def make_sam_a_moderator(admin, org) -> None:
    from sefton_qa.domain.models import Role
    from sefton_qa.services import organisation

    organisation.update_staff(admin, org.manager, roles=[Role.SERVICE_MANAGER, Role.MODERATOR])


def test_moderation_columns_go_to_the_moderations_table(admin, org, store, tmp_path):
    make_sam_a_moderator(admin, org)
    rows = [row(1, **MODERATED), row(2, **dict(MODERATED, moderated_grade="Good")), row(3)]
    report = import_audits(admin, write_rows(tmp_path / "moderated.xlsx", rows))
    assert report.ok and report.added == 3, report.problems
    assert moderation_facts(store.conn) == [
        ("LCS-100001", "2024-05-31", "Sam Manager", "good", "requires_improvement",
         "2024-06-01", "done", "imported"),
        ("LCS-100002", "2024-05-31", "Sam Manager", "good", "good", "2024-06-01", "done",
         "imported")]
    # The audit keeps the auditor's own grade; the moderation holds the moderated one.
    assert imported(store, "LCS-100001")["grade"] == "good"


@pytest.mark.parametrize("given_columns", [("moderator",), ("moderated_grade",),
                                           ("moderation_date",),
                                           ("moderator", "moderated_grade"),
                                           ("moderated_grade", "moderation_date"),
                                           ("moderator", "moderation_date")])
def test_moderation_needs_all_three_or_none(admin, org, store, tmp_path, given_columns):
    partial = {k: (v if k in given_columns else "") for k, v in MODERATED.items()}
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "partial.csv",
                                             [row(1, **MODERATED), row(2, **partial)]))
    assert report.problems == ["row 3, moderator: moderator, moderated_grade and "
                               "moderation_date go together: give all three or none"]
    assert_nothing_written(store, before)


def test_the_moderator_is_never_the_auditor(admin, org, store, tmp_path):
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "self.csv", [
        row(1, **dict(MODERATED, moderator="alex auditor"))]))
    assert report.problems == ["row 2, moderator: is the auditor; a moderator is never the "
                               "audit's own auditor"]
    assert_nothing_written(store, before)


def test_the_moderator_is_never_the_auditor_under_another_name(admin, org, store, tmp_path):
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "self.csv", [
        row(1, **dict(MODERATED, moderator="qa.officer"))]))
    assert not report.ok
    assert any(p.startswith("row 2, moderator: is the auditor") for p in report.problems)
    assert_nothing_written(store, before)


def test_a_moderation_in_the_future_is_refused(admin, org, tmp_path):
    report = import_audits(admin, write_rows(tmp_path / "later.csv", [
        row(1, **dict(MODERATED, moderation_date="01/01/2027"))]))
    assert report.problems == ["row 2, moderation_date: 01/01/2027 is in the future"]


def test_a_moderation_before_the_audit_is_refused(admin, org, tmp_path):
    report = import_audits(admin, write_rows(tmp_path / "early.csv", [
        row(1, **dict(MODERATED, moderation_date="30/05/2024"))]))
    assert report.problems == ["row 2, moderation_date: is before the audit date"]


def test_a_bad_moderated_grade_is_refused(admin, org, tmp_path):
    report = import_audits(admin, write_rows(tmp_path / "badmod.csv", [
        row(1, **dict(MODERATED, moderated_grade="Fine"))]))
    assert report.problems[0].startswith('row 2, moderated_grade: "Fine" is not a grade')


# -- export ------------------------------------------------------------------------------------
@pytest.fixture
def exportable(admin, org, make_input):
    """Submitted audits around February 2024, plus a draft and a withdrawn one inside it."""
    dates = {"LCS-1": "2024-01-31", "LCS-2": "2024-02-01", "LCS-3": "2024-02-15",
             "LCS-4": "2024-02-29", "LCS-5": "2024-03-01"}
    audit_service.add_audits(admin, [
        make_input(case_reference=ref, audit_date=dt.date.fromisoformat(d),
                   theme_ids=[org.themes["Neglect"], org.themes["Drift and delay"]])
        for ref, d in dates.items()])
    audit_service.create_audit(admin, make_input(case_reference="DRAFT-1",
                                                 audit_date=dt.date(2024, 2, 10)))
    withdrawn = audit_service.create_audit(admin, make_input(case_reference="GONE-1",
                                                             audit_date=dt.date(2024, 2, 11)),
                                           submit=True)
    audit_service.withdraw_audit(admin, withdrawn.record_ids[0], "logged in error")
    return dates


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_writes_submitted_audits_in_the_inclusive_range(admin, store, exportable,
                                                               tmp_path, suffix):
    path = tmp_path / f"feb{suffix}"
    result = export_audits(admin, path, date_from=dt.date(2024, 2, 1),
                           date_to=dt.date(2024, 2, 29))
    assert result.rows == 3 and result.path == path
    rows = export_rows(path)
    assert rows[0] == list(EXPORT_HEADERS)
    assert set(EXPORT_HEADERS) == set(FIELDS)  # the same columns as the import
    assert [r[0] for r in rows[1:]] == ["LCS-2", "LCS-3", "LCS-4"]
    assert rows[1] == ["LCS-2", "2024-02-01", "Deep dive", "Child Protection", "CP Team 1",
                       "Alex Auditor", "Requires improvement to be good",
                       "Drift and delay; Neglect", "The plan lacks timescales.", "", "", "",
                       "Chosen by the QA team"]
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("date_from,date_to,expected", [
    (None, None, 5), (dt.date(2024, 2, 15), None, 3), (None, dt.date(2024, 2, 15), 3),
    (dt.date(2024, 2, 15), dt.date(2024, 2, 15), 1), (dt.date(2025, 1, 1), None, 0)])
def test_export_range_bounds(admin, exportable, tmp_path, date_from, date_to, expected):
    result = export_audits(admin, tmp_path / "out.csv", date_from=date_from, date_to=date_to)
    assert result.rows == expected == len(csv_rows(tmp_path / "out.csv")) - 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_each_export_is_recorded_in_the_trail(admin, store, exportable, tmp_path, suffix):
    path = tmp_path / f"for inspectors{suffix}"
    last_seq = store.conn.execute("SELECT max(seq) FROM trail").fetchone()[0]
    result = export_audits(admin, path, date_from=dt.date(2024, 2, 1),
                           date_to=dt.date(2024, 3, 31))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.sha256 == sha
    assert store.conn.execute(
        "SELECT direction, file_name, sha256, date_from, date_to, rows_written, rows_skipped "
        "FROM file_transfers").fetchall() == [
        ("export", path.name, sha, "2024-02-01", "2024-03-31", 4, 0)]
    trail = store.conn.execute("SELECT table_name, kind, staff_id, os_user, changes FROM trail "
                               "WHERE seq > ?", (last_seq,)).fetchall()
    assert len(trail) == 1
    table_name, kind, staff_id, os_user, changes = trail[0]
    assert (table_name, kind, staff_id, os_user) == ("file_transfers", "export",
                                                     admin.actor.id, ADMIN_OS_USER)
    assert sha in changes and "2024-02-01" in changes and "2024-03-31" in changes


def test_export_refuses_other_file_types_and_reversed_ranges(admin, exportable, tmp_path):
    with pytest.raises(ValidationError, match="must end in .csv or .xlsx"):
        export_audits(admin, tmp_path / "out.xls")
    with pytest.raises(ValidationError, match="before the start"):
        export_audits(admin, tmp_path / "out.csv", date_from=dt.date(2024, 3, 1),
                      date_to=dt.date(2024, 2, 1))


def test_an_export_that_cannot_be_written_is_refused_plainly(admin, store, exportable,
                                                             tmp_path):
    before = counts(store.conn)
    with pytest.raises(SeftonError, match="does not exist"):
        export_audits(admin, tmp_path / "no such folder" / "out.csv")
    assert counts(store.conn) == before  # not recorded: nothing was exported


def test_a_long_finding_is_never_cut_short_in_xlsx(admin, org, make_input, fresh, tmp_path):
    text = "Chronology. " * 3500  # 42,000 characters
    audit_service.add_audits(admin, [make_input(case_reference="LCS-1", findings=text.strip())])
    path = tmp_path / "out.xlsx"
    try:
        export_audits(admin, path)
    except SeftonError:
        return  # a plain refusal is fine
    empty = fresh()
    assert import_audits(empty, path, create_missing=True).ok
    assert imported(empty.store, "LCS-1")["findings"] == text.strip()


def test_a_service_manager_can_export(manager, exportable, tmp_path):
    assert export_audits(manager, tmp_path / "out.csv").rows == 5


RISKY = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+44 151 000 0000", "-2 weeks late",
         "@SUM(A1:A9)", "\tindented with a tab", "\rstarts with a carriage return"]


@pytest.fixture
def risky(admin, org, make_input):
    audit_service.add_audits(admin, [
        make_input(case_reference=f"LCS-{n}", findings=text)
        for n, text in enumerate(RISKY + ["'quoted", "O'Brien; plain"], start=1)]
        + [make_input(case_reference="-123", findings="a case reference starting with -")])
    return {f"LCS-{n}": text for n, text in enumerate(RISKY, start=1)}


def test_csv_export_makes_risky_cells_text(admin, risky, tmp_path):
    export_audits(admin, tmp_path / "out.csv")
    findings = {r[0]: r[8] for r in csv_rows(tmp_path / "out.csv")[1:]}
    for ref, text in risky.items():
        assert findings[ref] == "'" + text
    assert findings["LCS-7"] == "'quoted" and findings["LCS-8"] == "O'Brien; plain"
    assert "'-123" in findings


def test_xlsx_export_makes_risky_cells_quote_prefixed_text(admin, risky, tmp_path):
    path = tmp_path / "out.xlsx"
    export_audits(admin, path)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    cells = {r[0].value: r[8] for r in sheet.iter_rows(min_row=2)}
    for ref, text in risky.items():
        cell = cells[ref]
        assert cell.data_type == "s" and cell.quotePrefix, ref
        assert ooxml_unescape(cell.value) == text  # a CR is written as Excel's _x000D_
    assert cells["LCS-7"].value == "'quoted" and not cells["LCS-7"].quotePrefix
    with zipfile.ZipFile(path) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in package.read(n) or b"<f " in package.read(n)
                                  for n in sheets)




@pytest.mark.parametrize("suffix,text", [
    pytest.param(suffix, t, id=f"{t[:2]!r}-{suffix}",
                 marks=[])
    for t in RISKY for suffix in (".csv", ".xlsx")])
def test_risky_cells_reimport_to_the_original_text(admin, org, make_input, fresh, tmp_path,
                                                   suffix, text):
    audit_service.add_audits(admin, [make_input(case_reference="LCS-1", findings=text)])
    path = tmp_path / f"out{suffix}"
    export_audits(admin, path)
    empty = fresh()
    report = import_audits(empty, path, create_missing=True)
    assert report.ok and report.added == 1, report.problems
    assert imported(empty.store, "LCS-1")["findings"] == text


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_text_beginning_with_an_apostrophe_and_equals_survives(admin, org, make_input, fresh,
                                                                 tmp_path, suffix):
    audit_service.add_audits(admin, [make_input(case_reference="LCS-1", findings="'=x")])
    path = tmp_path / f"out{suffix}"
    export_audits(admin, path)
    empty = fresh()
    assert import_audits(empty, path, create_missing=True).ok
    assert imported(empty.store, "LCS-1")["findings"] == "'=x"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_finding_pasted_from_word_exports_and_reimports(admin, org, make_input, fresh,
                                                          tmp_path, suffix):
    audit_service.add_audits(admin, [make_input(case_reference="LCS-1",
                                                findings="First line\x0bsecond line")])
    path = tmp_path / f"out{suffix}"
    try:
        export_audits(admin, path)
    except SeftonError:
        pass  # a plain refusal would be acceptable...
    else:  # ...but a written file must import again
        report = import_audits(fresh(), path, create_missing=True)
        assert report.ok and report.added == 1
    assert not list(tmp_path.glob("*.partial"))


def test_moderations_export_and_reimport(admin, org, store, fresh, tmp_path):
    make_sam_a_moderator(admin, org)
    rows = [row(1, **MODERATED), row(2)]
    assert import_audits(admin, write_rows(tmp_path / "in.csv", rows)).added == 2
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"out{suffix}"
        export_audits(admin, path)
        exported = export_rows(path)
        assert exported[1][9:] == ["Sam Manager", "Requires improvement to be good",
                                   "2024-06-01", "Not recorded"]  # imported history
        assert exported[2][9:] == ["", "", "", "Not recorded"]
        empty = fresh(f"fresh{suffix}")
        report = import_audits(empty, path, create_missing=True)
        assert report.ok, report.problems
        assert moderation_facts(empty.store.conn) == moderation_facts(store.conn)
        assert audit_facts(empty.store.conn) == audit_facts(store.conn)


# -- the workbook a QA team really keeps -------------------------------------------------------
REAL_HEADERS = ["Case Ref", "Date", "Area", "Team", "Auditor", "Overall Grade", "Themes",
                "Findings", "Notes", "Audit type"]


def _real_rows(prefix: str, dates: list) -> list[list]:
    return [
        [f"{prefix}-0001", dates[0], "Child Protection", "CP Team 1", "Alex Auditor", "Good",
         "Neglect; Drift and delay", "Clear plan, child seen alone.", "checked by SM",
         "Deep dive"],
        [f"{prefix}-0002", dates[1], "Child Protection", "cp team 2", "alex auditor", "RI",
         "Child's voice", "Plan lacks timescales – “SMART” actions needed; £ spent on taxis.",
         None, "Themed"],
        [f"{prefix}-0003", dates[2], "Children in Care", "CiC Team A", "Alex Auditor",
         "Requires improvement to be good", "", "Multi-line:\nvisits late\nno supervision",
         "", "dip sample"],
        [f"{prefix}-0004", dates[3], "Children in Care", "CiC Team A ", "Sam Manager",
         "Inadequate", "Neglect;Domestic abuse", "", "escalated", ""],
        [f"{prefix}-0005", dates[4], "Child Protection", "CP Team 1", "Alex Auditor",
         "good ", "Management oversight", "Good oversight.", "", "Deep Dive"],
    ]


EXPECTED_DATES = ["2024-04-03", "2024-04-04", "2024-04-05", "2024-04-08", "2024-04-09"]


def _expected_real(prefix):
    # (imported history without a selection column: "not recorded")
    return [
        (f"{prefix}-0001", "2024-04-03", "deep_dive", "good", "Child Protection", "CP Team 1",
         "Alex Auditor", ("Drift and delay", "Neglect"), "Clear plan, child seen alone.",
         "submitted", "unknown"),
        (f"{prefix}-0002", "2024-04-04", "themed", "requires_improvement", "Child Protection",
         "CP Team 2", "Alex Auditor", ("Child's voice",),
         "Plan lacks timescales – “SMART” actions needed; £ spent on taxis.", "submitted", "unknown"),
        (f"{prefix}-0003", "2024-04-05", "dip_sample", "requires_improvement",
         "Children in Care", "CiC Team A", "Alex Auditor", (),
         "Multi-line:\nvisits late\nno supervision", "submitted", "unknown"),
        (f"{prefix}-0004", "2024-04-08", "deep_dive", "inadequate", "Children in Care",
         "CiC Team A", "Sam Manager", ("Domestic abuse", "Neglect"), "", "submitted", "unknown"),
        (f"{prefix}-0005", "2024-04-09", "deep_dive", "good", "Child Protection", "CP Team 1",
         "Alex Auditor", ("Management oversight",), "Good oversight.", "submitted", "unknown"),
    ]


def test_a_realistic_workbook_and_csv_import_cleanly(admin, org, store, tmp_path, cli, capsys):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Audits 2024-25"
    sheet.append(REAL_HEADERS)
    for cell in sheet[1]:
        cell.font = openpyxl.styles.Font(bold=True)
    sheet.freeze_panes = "A2"
    xlsx_dates = [dt.datetime(2024, 4, 3), "04/04/2024", "2024-04-05", 45390, "9/4/24"]
    for values in _real_rows("XL", xlsx_dates):
        sheet.append(values)
    sheet.append([None, None, "", None, " "])  # a stray blank row at the end
    sheet.column_dimensions["H"].width = 60
    workbook.create_sheet("Lookups").append(["Good", "RI", "Inadequate"])
    xlsx = tmp_path / "QA audits 2024-25.xlsx"
    workbook.save(xlsx)

    csv_dates = ["03/04/2024", "04/04/24", "2024-04-05", "45390", "9/4/2024"]
    csv_path = write_table(tmp_path / "QA audits export.csv", REAL_HEADERS,
                           _real_rows("CSV", csv_dates) + [[""] * len(REAL_HEADERS)],
                           encoding="utf-8-sig", line_end="\r\n")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")

    for path, prefix in ((xlsx, "XL"), (csv_path, "CSV")):
        code, out, err = cli(capsys, "import", str(path))
        assert (code, err) == (0, ""), out
        assert "5 rows read" in out and "Imported 5 audit(s)." in out
        assert "Ignored columns (not used by Sefton QA): Notes" in out
        assert [f for f in audit_facts(store.conn) if f[0].startswith(prefix + "-")] == \
            _expected_real(prefix)


# -- the command line --------------------------------------------------------------------------
def test_cli_import_success_dry_run_and_create_missing(org, store, tmp_path, cli, capsys):
    path = write_rows(tmp_path / "new.csv", _rows_with_new_names())
    before = counts(store.conn)
    code, out, err = cli(capsys, "import", str(path))
    assert code == 1 and err == ""
    assert 'member of staff "Jo Bloggs" is not known (row 3)' in out
    assert "nothing was imported" in out
    code, out, _ = cli(capsys, "import", str(path), "--dry-run", "--create-missing")
    assert code == 0 and "Dry run: 3 audit(s) would be added; nothing was written." in out
    assert counts(store.conn) == before
    code, out, _ = cli(capsys, "import", str(path), "--create-missing")
    assert code == 0 and out.splitlines()[-1] == "Imported 3 audit(s)."
    assert counts(store.conn)["audits"] == before["audits"] + 3
    code, out, _ = cli(capsys, "import", str(path), "--create-missing")
    assert code == 0 and "3 duplicate row(s) skipped" in out


def test_cli_import_a_bad_file_prints_every_problem(org, store, tmp_path, cli, capsys):
    rows = [row(n) for n in range(1, 20)]
    rows[15]["audit_date"] = "31/02/2024"
    rows[2]["grade"] = "Meh"
    before = counts(store.conn)
    code, out, err = cli(capsys, "import", str(write_rows(tmp_path / "bad.xlsx", rows)))
    assert code == 1 and err == ""
    assert "2 problem(s); nothing was imported:" in out
    assert '  row 17, audit_date: "31/02/2024" is not a date' in out.splitlines()
    assert any(line.startswith('  row 4, grade: "Meh"') for line in out.splitlines())
    assert counts(store.conn) == before


def test_cli_import_map(org, store, tmp_path, cli, capsys):
    path = write_table(tmp_path / "own.csv", OWN_HEADERS, [list(row(1).values())])
    argv = ["import", str(path)] + [f"--map={h}={f}" for h, f in OWN_MAPPING.items()]
    code, out, _ = cli(capsys, *argv)
    assert code == 0 and "Imported 1 audit(s)." in out
    code, _out, err = cli(capsys, "import", str(path), "--map", "Ref no")
    assert code == 1 and err.startswith("sefton-qa: --map: ") and "Traceback" not in err
    code, _out, err = cli(capsys, "import", str(path), "--map", "Ref no=child")
    assert code == 1 and "should be HEADER=FIELD" in err


def test_cli_export_prints_the_path_and_count(store, exportable, tmp_path, cli, capsys):
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"feb{suffix}"
        code, out, err = cli(capsys, "export", str(path), "--from", "2024-02-01", "--to",
                             "2024-02-29")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (code, err) == (0, "")
        assert out.strip() == f"Exported 3 audits to {path} (SHA-256 {sha})"
    code, out, _ = cli(capsys, "export", str(tmp_path / "all.csv"))
    assert code == 0 and out.startswith("Exported 5 audits to ")
    code, _out, err = cli(capsys, "export", str(tmp_path / "x.pdf"))
    assert code == 1 and err.startswith("sefton-qa: ") and "Traceback" not in err


# -- hypothesis: export → import into an empty store → export ----------------------------------
# Names and findings are generated without surrounding whitespace and never as "'" followed by
# a formula character: the importer strips cells, and "'=x" loses its apostrophe (both are
# strict xfails above, so this property stays about everything else).
_NAME_CHARS = st.characters(categories=["L", "N"]) | st.sampled_from(list(" '&()/.-"))
NAMES = st.builds(lambda prefix, first, rest: (prefix + first + rest).strip(),
                  st.sampled_from(["", "", "", "=", "+", "-", "@"]),
                  st.characters(categories=["Lu", "Ll"]),
                  st.text(_NAME_CHARS, max_size=18))
_TEXT_CHARS = (st.characters(exclude_categories=["Cs", "Cc", "Cn"])
               | st.sampled_from(list(",;\"'\n ")))
FINDINGS = st.builds(
    lambda prefix, body: (prefix + body).strip(),
    st.sampled_from(["", "", "=", "+", "-", "@", '=HYPERLINK("x")', '"', "'"]),
    st.text(_TEXT_CHARS, max_size=60)).filter(
    lambda f: not (f[:1] == "'" and f[1:2] in FORMULA_STARTS))


@st.composite
def organisations(draw):
    areas = draw(st.lists(NAMES, min_size=1, max_size=3, unique_by=str.lower))
    teams = [(a, t) for a in areas
             for t in draw(st.lists(NAMES, min_size=1, max_size=2, unique_by=str.lower))]
    auditors = draw(st.lists(NAMES.filter(lambda n: n.lower() != ADMIN_OS_USER), min_size=1,
                             max_size=3, unique_by=str.lower))
    defaults = {t.lower() for t in DEFAULT_THEMES}
    new_themes = draw(st.lists(NAMES.filter(lambda n: ";" not in n and n.lower() not in
                                            defaults), max_size=2, unique_by=str.lower))
    themes = list(DEFAULT_THEMES[:6]) + new_themes
    audits = draw(st.lists(st.fixed_dictionaries({
        "case_reference": st.from_regex(r"\A[A-Za-z0-9-]{3,20}\Z"),
        "audit_date": st.dates(min_value=dt.date(2000, 1, 1), max_value=TODAY),  # the earliest taken
        "audit_type": st.sampled_from(list(AuditType)),
        "team": st.sampled_from(teams),
        "auditor": st.sampled_from(auditors),
        "grade": st.sampled_from(sorted(THREE_GRADES)),
        "themes": st.lists(st.sampled_from(themes), max_size=3, unique=True),
        "findings": FINDINGS,
    }), min_size=1, max_size=8,
        unique_by=lambda a: (a["case_reference"], a["audit_date"], a["auditor"].lower())))
    return teams, auditors, new_themes, audits


def _build(session, teams, auditors, new_themes, audits) -> None:
    area_ids, team_ids = {}, {}
    for area, team in teams:
        if area not in area_ids:
            area_ids[area] = org_service.add_service_area(session, area).record_id
        team_ids[(area, team)] = org_service.add_team(session, team,
                                                      area_ids[area]).record_id
    staff_ids = {name: org_service.add_staff(session, name).record_id for name in auditors}
    for name in new_themes:
        org_service.add_theme(session, name)
    theme_ids = {t.name: t.id for t in org_service.themes(session)}
    audit_service.add_audits(session, [AuditInput(
        case_reference=a["case_reference"], audit_type=a["audit_type"],
        audit_date=a["audit_date"], service_area_id=area_ids[a["team"][0]],
        team_id=team_ids[a["team"]], auditor_id=staff_ids[a["auditor"]],
        overall_grade=a["grade"], theme_ids=[theme_ids[t] for t in a["themes"]],
        findings=a["findings"]) for a in audits])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generated=organisations())
def test_round_trip_export_import_export(empty_store_template, generated):
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)

        def session(name):
            store = stack.enter_context(open_store(copy_file(empty_store_template,
                                                             tmp / name / "s.sqlite3")))
            return sign_in(store, os_user=ADMIN_OS_USER, today=lambda: TODAY)

        original = session("original")
        _build(original, *generated)
        expected = audit_facts(original.store.conn)
        for suffix in (".csv", ".xlsx"):
            first = tmp / f"first{suffix}"
            assert export_audits(original, first).rows == len(expected)
            copy = session(f"copy{suffix}")
            report = import_audits(copy, first, create_missing=True)
            assert report.ok, report.problems
            assert report.added == len(expected) and report.duplicates == []
            assert audit_facts(copy.store.conn) == expected
            second = tmp / f"second{suffix}"
            export_audits(copy, second)
            assert export_rows(second) == export_rows(first)
            if suffix == ".xlsx":  # the very cell values, not only their text
                assert xlsx_rows(second) == xlsx_rows(first)


# -- hypothesis: nothing but a report or a plain refusal ---------------------------------------
def _import_never_crashes(session, path, **kwargs) -> None:
    try:
        report = import_audits(session, path, **kwargs)
    except (SpreadsheetError, ValidationError) as exc:
        event(f"refused: {type(exc).__name__}")
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert isinstance(report, ImportReport)
    assert report.lines()
    event("imported" if report.ok and report.added else
          "nothing new" if report.ok else "problems reported")


_counter = iter(range(10**9))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", b"PK\x03\x04", OLE_MAGIC, b"\xef\xbb\xbf", b"\xff\xfe",
                               ",".join(REQUIRED_HEADERS).encode() + b"\n"]),
       body=st.binary(max_size=3000),
       suffix=st.sampled_from([".csv", ".xlsx", ".txt", ""]),
       create_missing=st.booleans())
def test_random_bytes_give_a_report_or_a_plain_refusal(admin, tmp_path, prefix, body, suffix,
                                                       create_missing):
    path = tmp_path / f"fuzz{next(_counter)}{suffix}"
    path.write_bytes(prefix + body)
    _import_never_crashes(admin, path, create_missing=create_missing)


#: Values each column might plausibly hold, good and bad, so that rows reach the later
#: checks (names, duplicates, moderation, creating what is missing).
_PLAUSIBLE = {
    "case_reference": ["LCS-1", "LCS-2", "LCS-3", "-12", "bad ref", 12345, "'=x", ""],
    "audit_date": ["31/05/2024", "2024-05-31", 45443, dt.date(2024, 5, 31), "31/05/24",
                   "05/13/2024", "31/02/2024", "01/01/2030", ""],
    "service_area": ["Child Protection", "Children in Care", "child protection", "New Area",
                     "new area", ""],
    "team": ["CP Team 1", "CiC Team A", "New Team", "x" * 130],
    "auditor": ["Alex Auditor", "Sam Manager", "New Person", "alex auditor", "="],
    "grade": ["Good", "RI", "Outstanding", "Inadequate", "Requires improvement", "meh", ""],
    "audit_type": ["Deep dive", "themed", "", "odd"],
    "themes": ["Neglect", "Neglect; New theme", "", ";;", "new theme"],
    "findings": ["", "=1+1", "'=x", "Plan, with \"quotes\"\nand lines"],
    "moderator": ["", "Sam Manager", "Alex Auditor", "New Moderator"],
    "moderated_grade": ["", "Good", "RI", "nope"],
    "moderation_date": ["", "01/06/2024", "30/05/2024", "soon"],
}
_CELLS = st.one_of(st.none(), st.text(max_size=20), st.integers(-10**16, 10**16),
                   st.floats(allow_nan=False), st.booleans(),
                   st.dates(min_value=dt.date(1900, 3, 1)),
                   st.datetimes(min_value=dt.datetime(1900, 3, 1)))
_HEADERS = st.one_of(st.sampled_from(list(FIELDS) + ["Child name", "Notes", "Date", "Case ref",
                                                     "Overall grade", "DOB"]),
                     st.text(max_size=12), st.none())


@st.composite
def _tables(draw):
    """A header row (mostly the real columns) and rows of plausible or random cells."""
    kind = draw(st.sampled_from(["real", "real", "real", "anything"]))
    if kind == "real":
        optional = draw(st.lists(st.sampled_from(FIELDS[len(REQUIRED_HEADERS):]), unique=True))
        headers = draw(st.permutations(REQUIRED_HEADERS + optional))
    else:
        headers = draw(st.lists(_HEADERS, max_size=14))

    def a_row():
        """A valid row (the first plausible value of each column), then a few cells changed
        to another plausible value or to anything at all."""
        cells = [_PLAUSIBLE[h][0] if h in _PLAUSIBLE else draw(_CELLS) for h in headers]
        if "case_reference" in headers:
            cells[headers.index("case_reference")] = draw(st.sampled_from(["LCS-1", "LCS-2",
                                                                           "LCS-3", "12345"]))
        for _ in range(draw(st.integers(0, 2)) if cells else 0):
            i = draw(st.integers(0, len(cells) - 1))
            h = headers[i]
            cells[i] = draw(st.sampled_from(_PLAUSIBLE[h]) | _CELLS if h in _PLAUSIBLE
                            else _CELLS)
        if draw(st.integers(0, 9)) == 0:  # now and then a short row
            cells = cells[:draw(st.integers(0, len(cells)))]
        return cells

    rows = [a_row() for _ in range(draw(st.integers(0, 6)))]
    return headers, rows


def _xlsx_safe(value):
    if isinstance(value, str):
        return openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub(
            "", "".join(c for c in value if not 0xD800 <= ord(c) <= 0xDFFF))
    return value


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=_tables(),
       fmt=st.sampled_from(["csv", "xlsx"]),
       delimiter=st.sampled_from([",", ";", "\t"]),
       create_missing=st.booleans(), dry_run=st.booleans())
def test_random_cells_give_a_report_or_a_plain_refusal(admin, org, tmp_path, table, fmt,
                                                       delimiter, create_missing, dry_run):
    headers, rows = table
    path = tmp_path / f"cells{next(_counter)}.{fmt}"
    if fmt == "xlsx":
        write_table(path, [_xlsx_safe(h) for h in headers],
                    [[_xlsx_safe(c) for c in r] for r in rows])
    else:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=delimiter)
        writer.writerow(["" if h is None else h for h in headers])
        writer.writerows([["" if c is None else str(c) for c in r] for r in rows])
        path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    assume(path.stat().st_size > 0)
    _import_never_crashes(admin, path, create_missing=create_missing, dry_run=dry_run)


# -- issue 15, finding 6: an import cannot skip moderation -------------------------------------
def test_a_qa_officer_cannot_import_her_own_audit_already_moderated(admin, org, auditor, store,
                                                                     tmp_path):
    """Alex (a QA officer, not an administrator) imports her own inadequate audit "moderated to
    good" by a colleague: refused, nothing written; without the moderation columns it is
    imported and enters the moderation queue."""
    make_sam_a_moderator(admin, org)
    before = counts(store.conn)
    rows = [row(1, grade="Inadequate", moderator="Sam Manager", moderated_grade="Good",
                moderation_date="01/06/2024")]
    report = import_audits(auditor, write_rows(tmp_path / "mine.csv", rows))
    assert not report.ok and report.added == 0
    assert any("only an administrator may import moderations" in p for p in report.problems)
    assert counts(store.conn) == before
    report = import_audits(auditor, write_rows(tmp_path / "plain.csv", [row(1, grade="Inadequate")]))
    assert report.ok and report.added == 1, report.problems
    pending = store.conn.execute("SELECT count(*) FROM moderations m JOIN audits a ON "
                                 "a.id = m.audit_id WHERE a.case_reference = 'LCS-100001' "
                                 "AND m.status = 'pending'").fetchone()[0]
    assert pending == 1


@pytest.mark.parametrize("override, words", [
    ({"moderator": "Sam Manager"}, '"Sam Manager" is not a moderator'),
    ({"moderator": "Alex Auditor"}, "is the auditor"),
    ({"moderation_date": "30/05/2024"}, "moderation_date: is before the audit date"),
])
def test_an_imported_moderation_must_be_a_real_second_check(admin, org, store, tmp_path,
                                                             override, words):
    if override.get("moderator") != "Sam Manager":
        make_sam_a_moderator(admin, org)
    before = counts(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "m.csv", [row(1, **dict(MODERATED,
                                                                                  **override))]))
    assert not report.ok and any(words in p for p in report.problems), report.problems
    assert counts(store.conn) == before


def test_a_personal_data_column_cannot_be_mapped_to_a_field(admin, org, store, tmp_path):
    """--map "Child Name=findings" once stored the child's name in the findings."""
    from sefton_qa.services.import_export import plan_columns

    _columns, _unknown, problems = plan_columns(["case_reference", "Child Name"],
                                                {"Child Name": "findings"})
    assert any('"Child Name" looks like personal data' in p for p in problems)


# -- issue 15, findings 10 and 11: a stray quote, and mixed encodings ---------------------------
def test_a_stray_quote_is_reported_where_it_began_and_nothing_is_imported(admin, org, store,
                                                                          tmp_path):
    """One stray quote in a 1,000-row CSV once swallowed 990 rows into one finding, and the
    import said "Imported 10 audit(s)"."""
    rows = [row(n, findings=f"Finding {n}") for n in range(1, 1001)]
    path = write_rows(tmp_path / "big.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = lines[10].replace("Finding 10", '"Finding 10 with a stray quote')
    path.write_text("".join(lines), encoding="utf-8")
    before = counts(store.conn)
    with pytest.raises(SpreadsheetError, match=r"line 11: a quoted field runs over .* lines"):
        import_audits(admin, path)
    assert counts(store.conn) == before


def test_every_report_says_how_many_lines_the_file_had(admin, org, tmp_path):
    report = import_audits(admin, write_rows(tmp_path / "ok.csv", [row(1), row(2)]),
                           dry_run=True)
    assert report.lines()[0] == "ok.csv: 2 rows read from a file of 3 lines"


def test_one_windows_1252_byte_in_a_utf8_file_is_refused_with_its_line(admin, org, store,
                                                                       tmp_path):
    """One Windows-1252 byte anywhere once turned a file's UTF-8 text into mojibake."""
    path = write_rows(tmp_path / "mixed.csv",
                      [row(1, findings="Zoë’s plan"), row(2, findings="fine")])
    data = path.read_bytes().replace(b"fine", b"caf\xe9")  # Windows-1252 é, on line 3
    path.write_bytes(data)
    before = counts(store.conn)
    with pytest.raises(SpreadsheetError, match=r"it holds UTF-8 text, but line 3 holds the "
                                               r"byte 0xE9, which is not UTF-8"):
        import_audits(admin, path)
    assert counts(store.conn) == before


def test_a_windows_1252_file_is_read_as_such_and_the_report_says_so(admin, org, store,
                                                                    tmp_path):
    path = write_rows(tmp_path / "old.csv", [row(1, findings="Café visit; naïve plan")],
                      encoding="cp1252")
    report = import_audits(admin, path)
    assert report.ok and "read as Windows-1252 text" in report.lines()[0]
    findings = store.conn.execute("SELECT findings FROM audits WHERE case_reference = "
                                  "'LCS-100001'").fetchone()[0]
    assert findings == "Café visit; naïve plan"
