"""The XLSX reader (calamine, after Sefton QA's own checks of the archive and the sheet's XML)
gives the values openpyxl's read-only mode gives, with the differences calamine makes (see
``as_read``), and refuses what is hostile or broken with a plain message.

Workbooks are built by the tests: with openpyxl, or by hand (zip + XML) for what openpyxl does
not write (shared strings, rich text, hostile XML, odd but valid XML).
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from sefton_qa.services import spreadsheets
from sefton_qa.services.spreadsheets import MAX_FIELD_CHARS, Sheet, SpreadsheetError, read_sheet

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


# -- reference: the reader as it was, on openpyxl's read-only iteration ------------------------
EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"}


def as_read(value: Any) -> Any:
    """An openpyxl value as calamine gives it: a number is a float, so a whole one is read as
    an int (however the file spelled it: "3.0" or "3"), and one past 2**53 as its nearest
    float; an empty text is an empty cell; an error cell (#N/A) is an empty cell."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return int(float(value))
    if value == "" or (isinstance(value, str) and value in EXCEL_ERRORS):
        return None
    return value


def openpyxl_sheet(path: Path) -> Sheet:
    """What the old reader gave (openpyxl read-only, every row numbered as in the file), with
    the differences calamine makes (``as_read``)."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        headers: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        for number, cells in enumerate(workbook.worksheets[0].iter_rows(), start=1):
            values = [as_read(cell.value) for cell in cells]
            assert all(getattr(cell, "data_type", None) != "f" for cell in cells)
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if headers is None:
                headers = ["" if v is None else str(v).strip() for v in values]
                continue
            rows.append((number, values))
        assert headers is not None
        while headers and headers[-1] == "":
            headers.pop()
        return Sheet(name=path.name, headers=headers, rows=rows)
    finally:
        workbook.close()


def assert_same(got: Sheet, expected: Sheet) -> None:
    assert got.name == expected.name
    assert got.headers == expected.headers
    assert [n for n, _ in got.rows] == [n for n, _ in expected.rows]
    for (number, cells), (_, want) in zip(got.rows, expected.rows):
        assert cells == want, f"row {number}"
        assert [type(v) for v in cells] == [type(v) for v in want], f"row {number}"


# -- hand-made workbooks ------------------------------------------------------------------------
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN_NS}">
<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="5">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="46" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def make_xlsx(path: Path, sheet_data: str, *, shared: list[str] | None = None,
              dimension: str | None = None, date1904: bool = False, sheet_xml: str | None = None,
              sst_xml: str | None = None, workbook_xml: str | None = None,
              extra: dict[str, bytes] | None = None) -> Path:
    """A minimal workbook: one sheet whose <sheetData> holds ``sheet_data`` (or whose whole
    XML is ``sheet_xml``), and a shared string table of ``shared`` (each already XML)."""
    has_sst = shared is not None or sst_xml is not None
    if sheet_xml is None:
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        sheet_xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{dim}'
                     f"<sheetData>{sheet_data}</sheetData></worksheet>")
    if has_sst and sst_xml is None:
        sst_xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f'<sst xmlns="{MAIN_NS}" count="{len(shared)}" uniqueCount="{len(shared)}">'
                   + "".join(f"<si>{s}</si>" for s in shared) + "</sst>")
    if workbook_xml is None:
        pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
        workbook_xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{pr}'
                        '<sheets><sheet name="Audits" sheetId="1" r:id="rId1"/></sheets>'
                        "</workbook>")
    sst_override = (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/>'
                    if has_sst else "")
    sst_rel = (f'<Relationship Id="rId3" Type="{REL_NS}/sharedStrings" '
               'Target="sharedStrings.xml"/>' if has_sst else "")
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sst_override}</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": workbook_xml,
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>'
            f"{sst_rel}</Relationships>"),
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if has_sst:
        parts["xl/sharedStrings.xml"] = sst_xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in parts.items():
            out.writestr(name, text.encode("utf-8") if isinstance(text, str) else text)
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return path


def c(ref: str | None, inner: str = "", **attrs: str) -> str:
    attrs = {"r": ref, **attrs} if ref else attrs
    text = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<c{text}>{inner}</c>" if inner else f"<c{text}/>"


def row(r: int | None, *cells: str) -> str:
    return (f'<row r="{r}">' if r else "<row>") + "".join(cells) + "</row>"


def s(i: int) -> str:
    return f"<v>{i}</v>"


def v(text: str) -> str:
    return f"<v>{text}</v>"


def inline(inner: str) -> str:
    return f"<is>{inner}</is>"


SHARED = [
    "<t>case_reference</t>",                                            # 0
    "<t>grade</t>",                                                     # 1
    '<t xml:space="preserve">  Good  </t>',                              # 2
    '<r><rPr><b/></rPr><t xml:space="preserve">Rich </t></r><r><t>text</t></r>',  # 3 rich
    "<r><t>漢字</t></r><rPh sb=\"0\" eb=\"2\"><t>カンジ</t></rPh>"
    '<phoneticPr fontId="0"/>',                                         # 4 phonetic runs
    "<t>Fish &amp; chips &lt;3 &#233;t&#xE9; \"quoted\" 'single'</t>",  # 5 escapes
    "<t/>",                                                             # 6 empty
    "<t>Café ☕ 𝄞 Zürich</t>",                                           # 7 unicode
    "<t><![CDATA[<b>not markup</b> & co]]></t>",                        # 8 CDATA
    "<t>line one\nline two</t>",                                        # 9 newline
    "<t>   </t>",                                                       # 10 spaces only
    "<t>a_x005F_x000D_b</t>",                                           # 11 Excel escape
]

HEADER = row(1, c("A1", s(0), t="s"), c("B1", inline("<t> audit_date </t>"), t="inlineStr"),
             c("C1", s(1), t="s"), c("D1", v("number"), t="str"), c("E1", inline("<t>extra</t>"),
                                                                      t="inlineStr"))

EVERYTHING = "".join([
    HEADER,
    # shared strings, a date (built-in format 14), a padded shared string, ints and floats
    row(2, c("A2", s(5), t="s"), c("B2", v("45292"), s="1"), c("C2", s(2), t="s"),
        c("D2", v("42")), c("E2", v("-7"), t="n")),
    # rich text, a custom date format with a time, floats with exponents, a 0.00 style
    row(3, c("A3", s(3), t="s"), c("B3", v("45292.75"), s="2"), c("C3", s(4), t="s"),
        c("D3", v("1.5E-3")), c("E3", v("3.0"), s="4")),
    # inline strings: plain, rich runs, phonetic runs left out, empty
    row(4, c("A4", inline("<t>inline &amp; plain</t>"), t="inlineStr"),
        c("B4", inline("<r><t>in</t></r><r><rPr><i/></rPr><t>line rich</t></r>"), t="inlineStr"),
        c("C4", inline("<r><t>漢</t></r><rPh sb=\"0\" eb=\"1\"><t>カン</t></rPh>"), t="inlineStr"),
        c("D4", inline("<t></t>"), t="inlineStr"), c("E4", s(7), t="s")),
    # booleans, an error, a formula's cached text (t="str" without <f>), ISO date, duration
    row(5, c("A5", v("1"), t="b"), c("B5", v("0"), t="b"), c("C5", v("#N/A"), t="e"),
        c("D5", v("2024-02-29T13:45:00"), t="d"), c("E5", v("1.25"), s="3")),
    # empty cells in the middle: no <v>, an empty <v/>, a styled empty cell, a gap
    row(6, c("A6", s(8), t="s"), c("B6", s="1"), c("C6", "<v></v>"), c("E6", s(9), t="s")),
    # a blank row, and a row of spaces only: both skipped
    row(7), row(8, c("A8", s(10), t="s"), c("C8", s="2")),
    # a gap in the row numbers, then a sparse row (first and last column only)
    row(10, c("A10", s(11), t="s"), c("E10", v("12345678901234567890"))),
    # cells without r, continuing from the last r; a row without r (so row 11)
    row(None, c("A11", s(6), t="s"), c(None, v("2.5")), c(None, v("x"), t="str"),
        c("E11", v("#DIV/0!"), t="e")),
    # time of day only (a date style below 1) and a date before 1 March 1900
    row(12, c("A12", v("0.5"), s="1"), c("B12", v("59"), s="1"), c("C12", v("61"), s="1")),
])


def test_everything_reads_exactly_as_openpyxl_does(tmp_path):
    path = make_xlsx(tmp_path / "all.xlsx", EVERYTHING, shared=SHARED, dimension="A1:E12")
    got = read_sheet(path)
    assert_same(got, openpyxl_sheet(path))
    assert got.headers == ["case_reference", "audit_date", "grade", "number", "extra"]
    by_row = dict(got.rows)
    assert by_row[2] == ["Fish & chips <3 été \"quoted\" 'single'", dt.datetime(2024, 1, 1),
                         "  Good  ", 42, -7]
    assert by_row[3] == ["Rich text", dt.datetime(2024, 1, 1, 18), "漢字", 0.0015, 3]
    assert by_row[4] == ["inline & plain", "inline rich", "漢", None, "Café ☕ 𝄞 Zürich"]
    assert by_row[5] == [True, False, None, dt.datetime(2024, 2, 29, 13, 45),
                         dt.timedelta(days=1, hours=6)]
    assert by_row[6] == ["<b>not markup</b> & co", None, None, None, "line one\nline two"]
    assert 7 not in by_row and 8 not in by_row  # blank rows are skipped, numbers kept
    # (Excel keeps 15 significant digits; calamine reads every number as a float)
    assert by_row[10] == ["a_x000D_b", None, None, None, int(12345678901234567890.0)]
    assert by_row[11] == [None, 2.5, "x", None, None]
    assert by_row[12] == [dt.time(12), dt.datetime(1900, 2, 28), dt.datetime(1900, 3, 1), None,
                          None]
    assert [n for n, _ in got.rows] == [2, 3, 4, 5, 6, 10, 11, 12]


def test_pretty_printed_xml_with_comments_and_prefixes_reads_the_same(tmp_path):
    pretty = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<x:worksheet xmlns:x="{MAIN_NS}">\n  <!-- a comment -->\n  <x:dimension ref="A1:C3"/>\n'
        "  <x:sheetData>\n"
        '    <x:row r="1">\n'
        '      <x:c r="A1" t="inlineStr">\n        <x:is>\n          <x:t>name</x:t>\n'
        "        </x:is>\n      </x:c>\n"
        '      <x:c r="B1" t="s">\n        <x:v>0</x:v>\n      </x:c>\n'
        '      <x:c r="C1" t="str"><x:v>when</x:v></x:c>\n'
        "    </x:row>\n"
        '    <x:row r="3">\n'
        '      <x:c r="A3" t="str">\n        <x:v>  spaced  </x:v>\n      </x:c>\n'
        '      <?some-pi data?>\n'
        '      <x:c r="B3">\n        <x:v>17</x:v>\n      </x:c>\n'
        '      <x:c r="C3" s="1"><x:v>45000</x:v></x:c>\n'
        "    </x:row>\n  </x:sheetData>\n</x:worksheet>\n")
    path = make_xlsx(tmp_path / "pretty.xlsx", "", shared=["<t>grade</t>"], sheet_xml=pretty)
    got = read_sheet(path)
    assert_same(got, openpyxl_sheet(path))
    assert got.headers == ["name", "grade", "when"]
    assert got.rows == [(3, ["  spaced  ", 17, dt.datetime(2023, 3, 15)])]


def test_an_unsized_sheet_gets_square_rows(tmp_path):
    # No <dimension>: openpyxl gives each row only the cells up to its last one; the reader
    # gives every row the same width, with the same values.
    data = (row(1, c("A1", v("a"), t="str"), c("B1", v("b"), t="str"), c("C1", v("c"), t="str"))
            + row(2, c("A2", v("1"))) + row(3, c("C3", v("3"))))
    path = make_xlsx(tmp_path / "unsized.xlsx", data)
    got = read_sheet(path)
    assert got.headers == ["a", "b", "c"]
    assert got.rows == [(2, [1, None, None]), (3, [None, None, 3])]
    expected = openpyxl_sheet(path)
    assert [(n, cells + [None] * (3 - len(cells))) for n, cells in expected.rows] == got.rows


def test_a_table_that_starts_lower_and_further_right(tmp_path):
    data = (row(3, c("B3", v(" first "), t="str"), c("C3", v("second"), t="str"),
                c("D3", s="1"))
            + row(4, c("B4", v("x"), t="str"), c("C4", v("7"))))
    path = make_xlsx(tmp_path / "offset.xlsx", data, dimension="B3:C4")
    got = read_sheet(path)
    # Columns count from A and rows from 1, as Excel shows them (and openpyxl reads them).
    assert got.headers == ["", "first", "second"]
    assert got.rows == [(4, [None, "x", 7])]
    assert_same(got, openpyxl_sheet(path))


def test_trailing_empty_headers_are_dropped_but_their_data_is_kept(tmp_path):
    data = (row(1, c("A1", v("a"), t="str"), c("B1", v(" "), t="str"))
            + row(2, c("A2", v("1")), c("C2", v("3"))))
    path = make_xlsx(tmp_path / "headers.xlsx", data, dimension="A1:C2")
    got = read_sheet(path)
    assert got.headers == ["a"]
    assert got.rows == [(2, [1, None, 3])]
    assert_same(got, openpyxl_sheet(path))


# -- openpyxl-written workbooks -----------------------------------------------------------------
def write_workbook(path: Path, rows: list[list[Any]], *, epoch=None) -> Path:
    workbook = openpyxl.Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.active
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=r, column=col, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "="
    workbook.save(path)
    return path


MIXED = [
    ["case_reference", "audit_date", "grade", "score", "ok", "findings"],
    ["CR1", dt.date(2024, 3, 1), "Good", 3, True, "Fine & dandy <ok>"],
    ["CR2", dt.datetime(2024, 3, 2, 9, 30), "Requires improvement", 2.25, False, None],
    [None, None, None, None, None, None],
    ["CR3", "02/03/2024", None, -1, None, "Ünïcödé – “quotes” ‘single’ 😀"],
    ["CR4", dt.datetime(1999, 12, 31, 23, 59, 59), "=not a formula", 1e-9, True, "'quoted'"],
]


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904], ids=["1900", "1904"])
def test_openpyxl_workbooks_read_as_openpyxl_reads_them(tmp_path, epoch):
    path = write_workbook(tmp_path / "mixed.xlsx", MIXED, epoch=epoch)
    got = read_sheet(path)
    assert_same(got, openpyxl_sheet(path))
    assert got.headers == MIXED[0]
    assert [n for n, _ in got.rows] == [2, 3, 5, 6]
    assert got.rows[0][1] == ["CR1", dt.datetime(2024, 3, 1), "Good", 3, True,
                              "Fine & dandy <ok>"]
    assert got.rows[1][1][1] == dt.datetime(2024, 3, 2, 9, 30)
    assert got.rows[3][1][1] == dt.datetime(1999, 12, 31, 23, 59, 59)
    assert got.rows[3][1][2] == "=not a formula"


def test_the_1904_date_system_is_used(tmp_path):
    sheet_data = row(1, c("A1", v("when"), t="str")) + row(2, c("A2", v("1"), s="2"),
                                                           c("B2", v("1462"), s="2"))
    path = make_xlsx(tmp_path / "mac.xlsx", sheet_data, date1904=True, dimension="A1:B2")
    got = read_sheet(path)
    assert got.rows == [(2, [dt.datetime(1904, 1, 2), dt.datetime(1908, 1, 2)])]
    assert_same(got, openpyxl_sheet(path))


def test_the_first_worksheet_is_read(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "First"
    workbook.active.append(["a"])
    workbook.active.append(["first"])
    second = workbook.create_sheet("Second")
    second.append(["b"])
    second.append(["second"])
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    assert read_sheet(path).rows == [(2, ["first"])]


def test_a_large_sheet_reports_progress_through_its_rows(tmp_path):
    path = write_workbook(tmp_path / "big.xlsx",
                          [["n", "text"]] + [[i, f"row {i}"] for i in range(12_000)])
    calls: list[tuple[int, int]] = []
    sheet = read_sheet(path, progress=lambda done, total: calls.append((done, total)))
    assert len(sheet.rows) == 12_000 and sheet.rows[-1] == (12_001, [11_999, "row 11999"])
    assert len(calls) == 2
    assert all(t == 12_001 for _, t in calls)  # the sheet's rows
    assert 0 < calls[0][0] < calls[1][0] < 12_001


# -- refused ------------------------------------------------------------------------------------
def refused(path: Path, *phrases: str) -> str:
    with pytest.raises(SpreadsheetError) as info:
        read_sheet(path)
    message = str(info.value)
    assert path.name in message
    assert "Traceback" not in message
    for phrase in phrases:
        assert phrase.lower() in message.lower(), message
    return message


def test_a_formula_is_refused_naming_its_row(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["a", "b"])
    sheet.append([1, 2])
    sheet.append([3, "=SUM(A2:A3)"])
    path = tmp_path / "formula.xlsx"
    workbook.save(path)
    refused(path, "row 3", "formula (=SUM(A2:A3)) instead of a value",
            "paste it as values")


def test_a_formula_with_a_cached_value_is_refused_too(tmp_path):
    data = (row(1, c("A1", v("a"), t="str"))
            + row(2, c("A2", '<f t="shared" ref="A2:A3" si="0">1+1</f><v>2</v>'))
            + row(3, c("A3", '<f t="shared" si="0"/><v>2</v>')))
    refused(make_xlsx(tmp_path / "cached.xlsx", data), "row 2", "formula (=1+1)")


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1 if i > 1 else "") + ";") * 10}">\n'
              for i in range(1, 10))
    + "]>\n")


def test_billion_laughs_in_the_sheet_is_refused(tmp_path):
    sheet = (BILLION_LAUGHS + f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
             + row(1, c("A1", inline("<t>&lol9;</t>"), t="inlineStr")) + "</sheetData></worksheet>")
    path = make_xlsx(tmp_path / "laughs.xlsx", "", sheet_xml=sheet)
    refused(path, "refused", "attack")


def test_billion_laughs_in_the_shared_strings_is_refused(tmp_path):
    sst = (BILLION_LAUGHS + f'<sst xmlns="{MAIN_NS}"><si><t>&lol9;</t></si></sst>')
    path = make_xlsx(tmp_path / "sst.xlsx", row(1, c("A1", s(0), t="s")), sst_xml=sst)
    refused(path, "refused", "attack")


def test_an_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    sheet = (f'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
             f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
             + row(1, c("A1", inline("<t>&xxe;</t>"), t="inlineStr")) + "</sheetData></worksheet>")
    message = refused(make_xlsx(tmp_path / "xxe.xlsx", "", sheet_xml=sheet), "refused")
    assert "top secret" not in message


def test_any_doctype_in_the_sheet_is_refused(tmp_path):
    sheet = (f'<?xml version="1.0"?>\n<!DOCTYPE worksheet SYSTEM "http://example.invalid/x.dtd">'
             f'<worksheet xmlns="{MAIN_NS}"><sheetData>'
             + row(1, c("A1", v("a"), t="str")) + "</sheetData></worksheet>")
    refused(make_xlsx(tmp_path / "dtd.xlsx", "", sheet_xml=sheet), "refused")


def test_entities_in_the_workbook_part_are_refused(tmp_path):
    workbook_xml = (BILLION_LAUGHS + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
                    '<sheets><sheet name="&lol1;" sheetId="1" r:id="rId1"/></sheets></workbook>')
    path = make_xlsx(tmp_path / "wb.xlsx", row(1, c("A1", v("a"), t="str")),
                     workbook_xml=workbook_xml)
    refused(path, "refused")


def test_an_undefined_entity_is_refused_as_damaged(tmp_path):
    path = make_xlsx(tmp_path / "undefined.xlsx",
                     row(1, c("A1", inline("<t>&nbsp;</t>"), t="inlineStr")))
    refused(path, "damaged")


@pytest.mark.parametrize("broken", ['<row r="2"><c r="A2" t="str"><v>b',  # cut short
                                    '<row r="2><c r="A2"><v>1</v></c></row>',  # a lost quote
                                    '<row r="2"><c r="A2" t="str"><v>1 < 2</v></c></row>'])
def test_broken_xml_is_refused_as_damaged(tmp_path, broken):
    path = make_xlsx(tmp_path / "broken.xlsx", row(1, c("A1", v("a"), t="str")) + broken)
    refused(path, "damaged")


def test_a_workbook_without_a_sheet_is_refused(tmp_path):
    workbook_xml = (f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets/></workbook>')
    path = make_xlsx(tmp_path / "nosheet.xlsx", "", workbook_xml=workbook_xml)
    refused(path, "no worksheet")


def test_a_sheet_without_a_header_row_is_refused(tmp_path):
    path = make_xlsx(tmp_path / "blank.xlsx", row(1) + row(2, c("A2", v(" "), t="str")))
    refused(path, "no header row")


@pytest.mark.parametrize("where", ["inline", "shared", "str"])
def test_a_cell_over_the_limit_is_refused(tmp_path, where):
    long = "x" * (MAX_FIELD_CHARS + 1)
    header = row(1, c("A1", v("findings"), t="str"))
    cells = {"inline": c("A2", inline(f"<t>{long}</t>"), t="inlineStr"),
             "shared": c("A2", s(0), t="s"),
             "str": c("A2", v(long), t="str")}
    path = make_xlsx(tmp_path / f"long-{where}.xlsx", header + row(2, cells[where]),
                     shared=[f"<t>{long}</t>"])
    refused(path, "row 2", "longer than 100,000 characters")


def test_a_cell_at_the_limit_is_read(tmp_path):
    text = "y" * MAX_FIELD_CHARS
    path = make_xlsx(tmp_path / "limit.xlsx", row(1, c("A1", v("f"), t="str"))
                     + row(2, c("A2", inline(f"<t>{text}</t>"), t="inlineStr")))
    assert read_sheet(path).rows == [(2, [text])]


def test_a_huge_text_is_refused_before_it_is_all_gathered(tmp_path):
    huge = "z" * (20 * 1024 * 1024)
    path = make_xlsx(tmp_path / "huge.xlsx", row(1, c("A1", v("f"), t="str"))
                     + row(2, c("A2", v(huge), t="str")))
    size = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    unpacked: list[int] = []
    real_read = zipfile.ZipExtFile.read

    def read(self, n=-1):
        data = real_read(self, n)
        unpacked.append(len(data))
        return data

    with mock.patch.object(zipfile.ZipExtFile, "read", read):
        refused(path, "row 2", "longer than 100,000 characters")
    assert sum(unpacked) < size / 4


def test_text_outside_cells_is_not_held(tmp_path):
    # Long text in elements the reader does not read (here an extension list after the
    # data) is dropped as it goes, so it is not mistaken for a cell that is too long.
    ext = "".join(f'<ext uri="{i}"><note>{"n" * 500_000}</note></ext>' for i in range(8))
    sheet = (f'<worksheet xmlns="{MAIN_NS}"><sheetData>' + row(1, c("A1", v("a"), t="str"))
             + row(2, c("A2", v("1"))) + f"</sheetData><extLst>{ext}</extLst></worksheet>")
    assert read_sheet(make_xlsx(tmp_path / "ext.xlsx", "", sheet_xml=sheet)).rows == [(2, [1])]


def test_rows_too_wide_to_hold_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheets, "_MAX_CELLS", 40_000)
    data = row(1, c("A1", v("a"), t="str")) + "".join(
        row(r, c(f"A{r}", v("1")), c(f"XFD{r}", v("2"))) for r in range(2, 5))
    refused(make_xlsx(tmp_path / "wide.xlsx", data), "too big", "40,000 cells")


def test_a_stray_value_far_right_is_read_or_refused_by_the_grid_it_makes(tmp_path, monkeypatch):
    # calamine holds the sheet as a grid from its first used cell to its last: a stray value
    # far to the right widens every row, so it is read when the grid is small enough...
    data = (row(1, c("A1", v("a"), t="str")) + row(2, c("A2", v("1")), c("XFD2", v("far"), t="str"))
            + "".join(row(r, c(f"A{r}", v(str(r)))) for r in range(3, 10)))
    path = make_xlsx(tmp_path / "stray.xlsx", data)
    got = read_sheet(path)
    assert len(got.rows[0][1]) == 16_384 and got.rows[0][1][-1] == "far"
    assert got.rows[1:] == [(r, [r] + [None] * 16_383) for r in range(3, 10)]
    # ...and refused, before calamine makes it, when it is not.
    monkeypatch.setattr(spreadsheets, "_MAX_CELLS", 40_000)
    refused(path, "too big", "147,456 cells", "at most 40,000 cells", "far to the right")


def test_too_many_rows_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 3)
    path = write_workbook(tmp_path / "many.xlsx", [["n"]] + [[i] for i in range(5)])
    refused(path, "more than 3 rows")


def test_a_cell_beyond_the_last_column_is_refused(tmp_path):
    path = make_xlsx(tmp_path / "wide.xlsx", row(1, c("XFE1", v("a"), t="str")))
    refused(path, "damaged")


def test_rows_out_of_order_are_refused(tmp_path):
    path = make_xlsx(tmp_path / "order.xlsx", row(2, c("A2", v("a"), t="str"))
                     + row(1, c("A1", v("b"), t="str")))
    refused(path, "damaged", "row 1")


def test_a_missing_shared_string_is_refused(tmp_path):
    path = make_xlsx(tmp_path / "sst-index.xlsx", row(1, c("A1", s(5), t="s")),
                     shared=["<t>only one</t>"])
    refused(path, "damaged")


def test_a_non_zip_named_xlsx_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("case_reference,grade\nCR1,Good\n")
    refused(path, "is named .xlsx but is not an Excel workbook")


def test_a_broken_zip_is_refused(tmp_path):
    path = tmp_path / "broken-zip.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    refused(path, "not a readable Excel workbook")


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("holiday.txt", "not a workbook")
    refused(path, "not a readable Excel workbook")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    sheet_data = row(1, c("A1", v("a"), t="str")) + row(2, c("A2", v("1")))
    padding = "<row/>" * 50_000  # 300 KB that deflates to very little
    path = make_xlsx(tmp_path / "bomb.xlsx", sheet_data + padding)
    assert read_sheet(path).rows == [(2, [1])]
    monkeypatch.setattr(spreadsheets, "_RATIO_CHECK_BYTES", 100_000)
    with mock.patch.object(zipfile.ZipFile, "open", side_effect=AssertionError("unpacked")):
        refused(path, "refused", "xl/worksheets/sheet1.xml")
    monkeypatch.setattr(spreadsheets, "_RATIO_CHECK_BYTES", 100 * 1024 * 1024)
    monkeypatch.setattr(spreadsheets, "MAX_XLSX_PART_BYTES", 200_000)
    refused(path, "refused", "unpacks to")


def test_reading_can_be_cancelled(tmp_path):
    path = write_workbook(tmp_path / "cancel.xlsx", [["n"]] + [[i] for i in range(6_000)])
    with pytest.raises(SpreadsheetError, match="Reading the file was cancelled."):
        read_sheet(path, progress=lambda done, total: False)


@pytest.mark.parametrize("make", ["good", "formula", "laughs", "cancel"])
def test_the_archive_is_always_closed(tmp_path, make):
    if make == "good" or make == "cancel":
        path = write_workbook(tmp_path / "w.xlsx", [["n"]] + [[i] for i in range(5_001)])
    elif make == "formula":
        path = make_xlsx(tmp_path / "w.xlsx", row(1, c("A1", "<f>1+1</f>")))
    else:
        path = make_xlsx(tmp_path / "w.xlsx", "", sheet_xml=BILLION_LAUGHS + "<worksheet/>")
    opened: list[zipfile.ZipFile] = []
    real_init = zipfile.ZipFile.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        opened.append(self)

    with mock.patch.object(zipfile.ZipFile, "__init__", init):
        try:
            read_sheet(path, progress=(lambda d, t: False) if make == "cancel" else None)
        except SpreadsheetError:
            assert make != "good"
    assert opened and all(z.fp is None for z in opened)


# -- round trip ---------------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="\r")
               | st.sampled_from(list("&<>\"'\t\n ;=")), max_size=40)
VALUES = st.one_of(
    st.none(),
    TEXT,
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(min_value=-1e300, max_value=1e300, allow_subnormal=False),
    st.booleans(),
    st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2099, 12, 31))
    .map(lambda d: d.replace(microsecond=0)),
)


def expected_value(value: Any) -> Any:
    if value == "":
        return None  # openpyxl writes no value for an empty text
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return value


def is_blank(value: Any) -> bool:
    return value is None or not str(value).strip()


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=6).flatmap(
    lambda width: st.lists(st.lists(VALUES, min_size=width, max_size=width), max_size=8)
    .map(lambda rows: (width, rows))))
def test_random_values_round_trip(width_rows):
    import tempfile

    width, rows = width_rows
    headers = [f" col {i} " for i in range(width)]
    with tempfile.TemporaryDirectory() as folder:
        path = write_workbook(Path(folder) / "random.xlsx", [headers] + rows)
        got = read_sheet(path)
        assert_same(got, openpyxl_sheet(path))
    assert got.headers == [h.strip() for h in headers]
    expected = [(number, [expected_value(v) for v in values])
                for number, values in enumerate(rows, start=2)
                if not all(is_blank(v) for v in values)]
    assert [n for n, _ in got.rows] == [n for n, _ in expected]
    for (_, cells), (_, want) in zip(got.rows, expected):
        assert len(cells) == len(want)
        for a, b in zip(cells, want):
            if isinstance(b, float):  # openpyxl writes 16 significant digits, not 17
                assert isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=1e-15), (a, b)
            else:
                assert a == b and type(a) is type(b), (a, b)
