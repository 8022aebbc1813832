"""Helpers for tests/test_import_export.py: write small spreadsheets, count rows, read back.

Every file a test imports is generated here, in the test's tmp_path; none is committed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import openpyxl

#: The same fixed "today" and administrator account as tests/conftest.py (hypothesis tests
#: build their own stores, so they cannot use the function-scoped fixtures).
TODAY = dt.date(2026, 11, 24)
ADMIN_OS_USER = "admin.user"

REQUIRED_HEADERS = ["case_reference", "audit_date", "service_area", "team", "auditor", "grade"]

#: A valid row for the `org` fixture's organisation.
GOOD_ROW = {
    "case_reference": "LCS-100001",
    "audit_date": "31/05/2024",
    "service_area": "Child Protection",
    "team": "CP Team 1",
    "auditor": "Alex Auditor",
    "grade": "Good",
}

TABLES = ("audits", "audit_themes", "trail", "staff", "teams", "service_areas", "themes",
          "moderations", "file_transfers", "import_mappings", "settings")

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def row(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid row with case reference LCS-1000nn, with ``overrides``."""
    values = dict(GOOD_ROW, case_reference=f"LCS-{100000 + n}")
    values.update(overrides)
    return values


def columns_of(rows: Sequence[dict]) -> list[str]:
    headers: list[str] = []
    for r in rows:
        for key in r:
            if key not in headers:
                headers.append(key)
    return headers


def write_table(path: Path, headers: Sequence[Any], rows: Iterable[Sequence[Any]], *,
                encoding: str = "utf-8", delimiter: str = ",", line_end: str = "\n") -> Path:
    """Write a .csv (text cells, in ``encoding``) or an .xlsx (typed cells, openpyxl)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "Audits"
        sheet.append(list(headers))
        for r in rows:
            sheet.append(list(r))
        workbook.save(path)
        return path
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(headers)
    for r in rows:
        writer.writerow(["" if v is None else v for v in r])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_rows(path: Path, rows: Sequence[dict], **kwargs: Any) -> Path:
    """Write dict rows; the headers are their keys in first-seen order."""
    headers = columns_of(rows)
    return write_table(path, headers, [[r.get(h) for h in headers] for r in rows], **kwargs)


def counts(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def audit_facts(conn) -> list[tuple]:
    """Every audit as plain values (names, not ids), sorted: what an import must reproduce."""
    themes: dict[int, list[str]] = {}
    for audit_id, name in conn.execute(
            "SELECT x.audit_id, th.name FROM audit_themes x JOIN themes th ON th.id = x.theme_id"):
        themes.setdefault(audit_id, []).append(name)
    facts = []
    for (audit_id, ref, date, kind, grade, area, team, auditor, findings,
         status, selection) in conn.execute(
            "SELECT a.id, a.case_reference, a.audit_date, a.audit_type, a.overall_grade, "
            "sa.name, t.name, s.display_name, a.findings, a.status, a.selection FROM audits a "
            "JOIN service_areas sa ON sa.id = a.service_area_id "
            "JOIN teams t ON t.id = a.team_id JOIN staff s ON s.id = a.auditor_id"):
        facts.append((ref, date, kind, grade, area, team, auditor,
                      tuple(sorted(themes.get(audit_id, []))), findings, status, selection))
    return sorted(facts)


def moderation_facts(conn) -> list[tuple]:
    return sorted(conn.execute(
        "SELECT a.case_reference, a.audit_date, s.display_name, m.original_grade, "
        "m.moderated_grade, m.moderation_date, m.status, m.flagged_because FROM moderations m "
        "JOIN audits a ON a.id = m.audit_id JOIN staff s ON s.id = m.moderator_id").fetchall())


def csv_rows(path: Path) -> list[list[str]]:
    """The rows of an exported CSV exactly as written (no un-escaping)."""
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "exports are UTF-8 with a BOM for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def xlsx_rows(path: Path) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def export_rows(path: Path) -> list[list[Any]]:
    """An export's rows, CSV or XLSX, with an XLSX empty cell (None) read as ""."""
    if Path(path).suffix == ".xlsx":
        return [["" if v is None else v for v in r] for r in xlsx_rows(path)]
    return csv_rows(path)


def xlsx_without_sheets(path: Path) -> Path:
    """A well-formed workbook package whose workbook lists no sheet at all."""
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["case_reference", "grade"])
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    with zipfile.ZipFile(path, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                continue
            if name == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data)
            elif name == "xl/_rels/workbook.xml.rels":
                data = re.sub(rb'<Relationship [^>]*worksheet"[^>]*/>', b"", data)
            elif name == "[Content_Types].xml":
                data = re.sub(rb'<Override PartName="/xl/worksheets/sheet1.xml"[^>]*/>', b"",
                              data)
            out.writestr(name, data)
    return path


def xlsx_with_entities(path: Path) -> Path:
    """A workbook whose sheet XML declares entities (the start of a "billion laughs")."""
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(list(GOOD_ROW))
    workbook.active.append(list(GOOD_ROW.values()))
    workbook.save(buffer)
    source = zipfile.ZipFile(buffer)
    doctype = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
    with zipfile.ZipFile(path, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = doctype + data.replace(b">Good<", b">&lol2;<")
            out.writestr(name, data)
    return path


def copy_file(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, destination)
    return destination


def patch_xlsx(path: Path, old: bytes, new: bytes) -> Path:
    """Replace bytes inside every part of a workbook package (to build what openpyxl would
    not write, such as a cell longer than Excel's 32,767 characters)."""
    data = Path(path).read_bytes()
    source = zipfile.ZipFile(io.BytesIO(data))
    found = False
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            part = source.read(info.filename)
            found = found or old in part
            out.writestr(info.filename, part.replace(old, new))
    assert found, f"{old!r} is not in {path}"
    return path
