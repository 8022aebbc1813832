"""Workbooks other than a plain XLSX: OpenDocument (.ods) and old Excel (.xls) files read by
calamine, and the hostile ones of every kind refused with a plain message before calamine
would hold them (zip bombs, entities, encrypted files, junk, cut-short files, a far-away cell
that would make a grid of billions of cells).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from unittest import mock

import pytest

from sefton_qa.services import spreadsheets
from sefton_qa.services.spreadsheets import MAX_FIELD_CHARS, read_sheet

from test_spreadsheets_xlsx import BILLION_LAUGHS, c, make_xlsx, refused, row, v, write_workbook

ROOT = Path(__file__).resolve().parent.parent


# -- OpenDocument -------------------------------------------------------------------------------
NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def make_ods(path: Path, body: str, *, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>',
             extra: dict[str, bytes] | None = None) -> Path:
    """A minimal spreadsheet whose first table holds ``body`` (its rows)."""
    content = (f'{prolog}<office:document-content {NS} office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="Audits">{body}</table:table>'
               '<table:table table:name="Second"><table:table-row>'
               '<table:table-cell office:value-type="string"><text:p>second</text:p>'
               "</table:table-cell></table:table-row></table:table>"
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="application/'
                'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                     compress_type=zipfile.ZIP_STORED)
        out.writestr("META-INF/manifest.xml", manifest)
        out.writestr("content.xml", content)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return path


def text(t: str, repeat: int = 0) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat else ""
    return (f'<table:table-cell office:value-type="string"{rep}><text:p>{t}</text:p>'
            "</table:table-cell>")


def number(n: str, repeat: int = 0) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat else ""
    return f'<table:table-cell office:value-type="float" office:value="{n}"{rep}/>'


def date(d: str) -> str:
    return f'<table:table-cell office:value-type="date" office:date-value="{d}"/>'


def empty(repeat: int = 0) -> str:
    return (f'<table:table-cell table:number-columns-repeated="{repeat}"/>' if repeat
            else "<table:table-cell/>")


def orow(*cells: str, repeat: int = 0) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat else ""
    return f"<table:table-row{rep}>" + "".join(cells) + "</table:table-row>"


def test_an_ods_sheet_reads_as_a_workbook_does(tmp_path):
    body = (orow(empty(), text("case_reference"), text("audit_date"), text("score"), empty(5))
            + orow(empty(), text("CR1"), date("2024-03-01"), number("3"), empty(1020))
            + orow(empty(1024), repeat=2)  # blank rows keep their numbers
            + orow(empty(), text("CR2 &amp; co"), date("2024-03-02T09:30:00"), number("2.25"))
            + orow(empty(), text("  spaced  "), empty(), number("7"), text("beyond"))
            # LibreOffice's filler to the last row and column, empty
            + orow(empty(1024), repeat=1_048_570))
    got = read_sheet(make_ods(tmp_path / "audits.ods", body))
    assert got.headers == ["", "case_reference", "audit_date", "score"]
    assert got.rows == [
        (2, [None, "CR1", dt.datetime(2024, 3, 1), 3, None]),
        (5, [None, "CR2 & co", dt.datetime(2024, 3, 2, 9, 30), 2.25, None]),
        (6, [None, "  spaced  ", None, 7, "beyond"]),
    ]


def test_an_ods_formula_is_refused_naming_its_row(tmp_path):
    body = (orow(text("n")) + orow(number("1"))
            + orow('<table:table-cell table:formula="of:=[.A2]+1" office:value-type="float" '
                   'office:value="2"/>'))
    refused(make_ods(tmp_path / "formula.ods", body), "row 3", "formula", "paste it as values")


def test_ods_repeats_that_would_make_a_huge_grid_are_refused(tmp_path):
    # 300 bytes that calamine would expand to 17 billion cells
    body = orow(text("n")) + orow(number("1", repeat=16_384), repeat=1_048_575)
    refused(make_ods(tmp_path / "repeats.ods", body), "too big", "at most 10,000,000 cells")


def test_ods_entities_are_refused(tmp_path):
    body = orow(text("&lol9;"))
    refused(make_ods(tmp_path / "laughs.ods", body, prolog=BILLION_LAUGHS), "refused", "attack")


def test_an_ods_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    body = orow(text("n")) + orow(number("1")) + "<table:table-row/>" * 50_000
    path = make_ods(tmp_path / "bomb.ods", body)
    assert read_sheet(path).rows == [(2, [1])]
    monkeypatch.setattr(spreadsheets, "_RATIO_CHECK_BYTES", 100_000)
    with mock.patch.object(zipfile.ZipFile, "open", side_effect=AssertionError("unpacked")):
        refused(path, "refused", "content.xml", "unpacks to")


def test_a_huge_ods_cell_is_refused_before_it_is_all_unpacked(tmp_path):
    body = orow(text("findings")) + orow(text("z" * (8 * 1024 * 1024)))
    refused(make_ods(tmp_path / "huge.ods", body), "row 2", "longer than 100,000 characters")
    long = orow(text("findings")) + orow(text("y" * (MAX_FIELD_CHARS + 1)))
    refused(make_ods(tmp_path / "long.ods", long), "row 2", "longer than 100,000 characters")


@pytest.mark.parametrize("content", [b"", b"case_reference,grade\nCR1,Good\n", b"\x00\x01junk"])
def test_junk_named_ods_is_refused(tmp_path, content):
    path = tmp_path / "junk.ods"
    path.write_bytes(content)
    refused(path, "is empty" if not content else "is named .ods but is not an OpenDocument")


def test_a_cut_short_ods_is_refused(tmp_path):
    path = make_ods(tmp_path / "whole.ods", orow(text("n")) + orow(number("1")))
    cut = tmp_path / "cut.ods"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    refused(cut, "not a readable OpenDocument spreadsheet")


# -- old .xls -----------------------------------------------------------------------------------
def make_xls(path: Path, rows: list[list]) -> Path:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Audits")
    as_date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, values in enumerate(rows):
        for col, value in enumerate(values):
            if isinstance(value, dt.date):
                sheet.write(r, col, value, as_date)
            elif value is not None:
                sheet.write(r, col, value)
    book.save(str(path))
    return path


def test_an_old_xls_workbook_reads_as_a_workbook_does(tmp_path):
    path = make_xls(tmp_path / "old.xls", [
        ["case_reference", "audit_date", "score", " grade "],
        ["CR1", dt.datetime(2024, 3, 1), 3, "Good"],
        [None, None, None, None],
        ["CR2", dt.datetime(2024, 3, 2, 9, 30), 2.25, "  RI  "],
    ])
    got = read_sheet(path)
    assert got.headers == ["case_reference", "audit_date", "score", "grade"]
    assert got.rows == [(2, ["CR1", dt.datetime(2024, 3, 1), 3, "Good"]),
                        (4, ["CR2", dt.datetime(2024, 3, 2, 9, 30), 2.25, "  RI  "])]
    assert type(got.rows[0][1][2]) is int


def test_an_xls_formula_is_refused_naming_its_row(tmp_path):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Audits")
    sheet.write(0, 0, "n")
    sheet.write(1, 0, 1)
    sheet.write(2, 0, xlwt.Formula("A2+1"))
    book.save(str(tmp_path / "formula.xls"))
    refused(tmp_path / "formula.xls", "row 3", "formula", "paste it as values")


def test_a_far_away_xls_cell_is_refused_before_calamine_makes_its_grid(tmp_path):
    path = make_xls(tmp_path / "far.xls", [["a"], [1]])
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Audits")
    sheet.write(0, 0, "a")
    sheet.write(65_535, 255, 1)  # IV65536, the last cell an .xls has
    book.save(str(path))
    refused(path, "too big", "16,777,216 cells", "at most 10,000,000 cells")


def encrypted_ooxml(path: Path, tmp_path: Path) -> Path:
    """A compound file as Excel saves a workbook with a password to open it: an OLE2 file
    whose stream is named EncryptedPackage (the encrypted XLSX)."""
    plain = make_xls(tmp_path / "plain.xls", [["a"], [1]]).read_bytes()
    name = "Workbook".encode("utf-16-le")
    at = plain.index(name)
    entry = "EncryptedPackage".encode("utf-16-le")
    data = bytearray(plain)
    data[at:at + 64] = entry.ljust(64, b"\x00")
    data[at + 64:at + 66] = (len(entry) + 2).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods"])
def test_an_encrypted_workbook_is_refused_as_password_protected(tmp_path, suffix):
    path = encrypted_ooxml(tmp_path / f"secret{suffix}", tmp_path)
    message = refused(path, "is password-protected", "remove the password")
    assert "damaged" not in message


def test_a_password_protected_xls_is_refused(tmp_path):
    import python_calamine

    path = make_xls(tmp_path / "locked.xls", [["a"], [1]])
    with mock.patch.object(python_calamine.CalamineWorkbook, "from_filelike",
                           side_effect=python_calamine.PasswordError("password required")):
        message = refused(path, "is password-protected", "remove the password")
    assert "damaged" not in message


def test_junk_and_cut_short_xls_files_are_refused(tmp_path):
    whole = make_xls(tmp_path / "whole.xls", [["a"], [1]])
    cut = tmp_path / "cut.xls"
    cut.write_bytes(whole.read_bytes()[:1024])
    refused(cut, "cannot be read as an old-style .xls workbook", "password-protected or damaged")
    ole_junk = tmp_path / "ole-junk.xls"
    ole_junk.write_bytes(spreadsheets.OLE_MAGIC + bytes(range(256)) * 8)
    refused(ole_junk, "cannot be read as an old-style .xls workbook")
    binary = tmp_path / "binary.xls"
    binary.write_bytes(b"\x00\x01\x02junk" * 100)
    refused(binary, "not a readable text file", "NUL")


# -- XLSX that would make a huge grid -----------------------------------------------------------
def test_a_far_away_cell_is_refused_before_calamine_makes_its_grid(tmp_path):
    """A 2 KB workbook with values at A1 and XFD1048576: calamine would ask for 17 billion
    cells (and abort the process). Refused in a child process with 1 GB of address space."""
    path = make_xlsx(tmp_path / "far.xlsx", row(1, c("A1", v("a"), t="str"))
                     + row(1_048_576, c("XFD1048576", v("1"))))
    declared = make_xlsx(tmp_path / "declared.xlsx", row(1, c("A1", v("a"), t="str"))
                         + row(2, c("A2", v("1"))), dimension="A1:XFD1048576")
    script = textwrap.dedent("""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from sefton_qa.services.spreadsheets import SpreadsheetError, read_sheet
        out = {}
        for path in sys.argv[1:]:
            try:
                read_sheet(path)
                out[path] = "read"
            except SpreadsheetError as exc:
                out[path] = str(exc)
        # (VmHWM: this program's own peak; ru_maxrss would count the parent it forked from)
        status = open("/proc/self/status").read()
        out["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(path), str(declared)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert "too big to import" in out[str(path)]
    assert "17,179,869,184 cells" in out[str(path)] and "far below" in out[str(path)]
    assert "declares" in out[str(declared)] and "A1:XFD1048576" in out[str(declared)]
    assert out["peak_mb"] < 200, out


def test_cells_without_references_are_counted_for_the_grid(tmp_path, monkeypatch):
    # Cells with no r="" follow the one before them in their row, as calamine places them.
    cells = "".join(c(None, v(str(i))) for i in range(60))
    data = row(1, c("A1", v("a"), t="str")) + "".join(row(r, cells) for r in range(2, 12))
    path = make_xlsx(tmp_path / "norefs.xlsx", data)
    got = read_sheet(path)
    assert got.rows[0] == (2, list(range(60))) and len(got.rows) == 10
    monkeypatch.setattr(spreadsheets, "_MAX_CELLS", 500)
    refused(path, "too big", "660 cells")


def test_a_cut_short_xlsx_is_refused(tmp_path):
    whole = write_workbook(tmp_path / "whole.xlsx", [["a"], [1]])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size - 100])
    refused(cut, "not a readable Excel workbook")


def test_a_binary_workbook_is_refused(tmp_path):
    path = tmp_path / "binary.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("[Content_Types].xml", "<Types/>")
        out.writestr("xl/workbook.bin", b"\x83\x01\x00")
    refused(path, "Excel binary workbook (.xlsb)", "save it as .xlsx")
