"""Reading and writing the spreadsheets QA teams keep: CSV (any common encoding and delimiter)
and XLSX (openpyxl, with defusedxml so hostile workbooks are refused).

Everything that is not a sane spreadsheet is refused with :class:`SpreadsheetError`, whose
message can be shown as it is. Nothing here knows about audits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sefton_qa.domain.errors import SeftonError

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD_CHARS = 100_000
MAX_ROWS = 1_000_000
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted (password) workbooks and old .xls
_CONTROL = {chr(c) for c in range(0x20)} - {"\t", "\n", "\r"}
#: Cells that a spreadsheet program could run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int], bool | None]


class SpreadsheetError(SeftonError):
    """The file is not a spreadsheet Sefton QA can read safely."""


@dataclass
class Sheet:
    """A table read from a file: the header row and the data rows with their row numbers as
    the user sees them in the file (the header is row 1)."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def read_sheet(path: str | os.PathLike, *, progress: Progress | None = None) -> Sheet:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SpreadsheetError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    if size == 0:
        raise SpreadsheetError(f"{path.name} is empty.")
    if size > MAX_FILE_BYTES:
        raise SpreadsheetError(f"{path.name} is {_size_text(size)}; the largest file Sefton QA "
                               f"imports is {_size_text(MAX_FILE_BYTES)}. Split it by year and "
                               "import each part.")
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(OLE_MAGIC):
        raise SpreadsheetError(f"{path.name} is password-protected or an old-style .xls "
                               "workbook. Open it in Excel, remove the password, and save it "
                               "as .xlsx (Excel Workbook) or .csv.")
    if head.startswith(XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
        if not head.startswith(XLSX_MAGIC):
            raise SpreadsheetError(f"{path.name} is named .xlsx but is not an Excel workbook.")
        return _read_xlsx(path, progress)
    return _read_csv(path, progress)


# -- CSV ----------------------------------------------------------------------------------------
def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpreadsheetError(f"{name} contains NUL bytes, so it is not a text (CSV) file. "
                               "Save it from Excel as CSV UTF-8 or .xlsx.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    elif data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ch in _CONTROL for ch in text[:1_000_000]) or "\x00" in text:
            break
        return text
    raise SpreadsheetError(f"{name} is not a readable text file (not UTF-8 or Windows-1252 "
                           "text). Save it from Excel as CSV UTF-8 or .xlsx.")


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, progress: Progress | None) -> Sheet:
    text = _decode(path.read_bytes(), path.name)
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    rows: list[tuple[int, list[Any]]] = []
    headers: list[str] | None = None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    total_lines = text.count("\n") + 1
    try:
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise SpreadsheetError(f"{path.name}, line {start}: a field is longer than "
                                           f"{MAX_FIELD_CHARS:,} characters.") from exc
                raise SpreadsheetError(f"{path.name}, line {start}: {exc}") from exc
            if headers is None:
                if not any(c.strip() for c in record):
                    continue
                headers = record
                continue
            if not any(c.strip() for c in record):
                continue  # blank rows (often at the end of an Excel export)
            rows.append((start, record))
            if len(rows) > MAX_ROWS:
                raise SpreadsheetError(f"{path.name} has more than {MAX_ROWS:,} rows.")
            if progress is not None and len(rows) % 5000 == 0:
                if progress(reader.line_num, total_lines) is False:
                    raise SpreadsheetError("Reading the file was cancelled.")
    finally:
        csv.field_size_limit(old_limit)
    if headers is None:
        raise SpreadsheetError(f"{path.name} has no header row.")
    return Sheet(name=path.name, headers=[h.strip() for h in headers], rows=rows)


# -- XLSX ---------------------------------------------------------------------------------------
def _read_xlsx(path: Path, progress: Progress | None) -> Sheet:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        DefusedXmlException = ValueError  # noqa: N806

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except DefusedXmlException as exc:
        raise SpreadsheetError(f"{path.name} was refused: it contains XML features that can be "
                               "used to attack a computer (entities or external references)."
                               ) from exc
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SpreadsheetError(f"{path.name} is not a readable Excel workbook ({exc}).") from exc
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise SpreadsheetError(f"{path.name} is damaged or not an Excel workbook "
                               f"({type(exc).__name__}: {exc}).") from exc
    try:
        if not workbook.worksheets:
            raise SpreadsheetError(f"{path.name} has no worksheet.")
        sheet = workbook.worksheets[0]
        headers: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        max_row = sheet.max_row or 0
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values = []
            for cell in cells:
                value = cell.value
                if getattr(cell, "data_type", None) == "f":
                    raise SpreadsheetError(
                        f"{path.name}, row {number}: a cell holds a formula ({str(value)[:40]}) "
                        "instead of a value. Copy the sheet and paste it as values, then import "
                        "again.")
                if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                    raise SpreadsheetError(f"{path.name}, row {number}: a cell is longer than "
                                           f"{MAX_FIELD_CHARS:,} characters.")
                values.append(value)
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if headers is None:
                headers = ["" if v is None else str(v).strip() for v in values]
                continue
            rows.append((number, values))
            if len(rows) > MAX_ROWS:
                raise SpreadsheetError(f"{path.name} has more than {MAX_ROWS:,} rows.")
            if progress is not None and len(rows) % 5000 == 0:
                if progress(number, max_row) is False:
                    raise SpreadsheetError("Reading the file was cancelled.")
        if headers is None:
            raise SpreadsheetError(f"{path.name} has no header row in its first sheet.")
        while headers and headers[-1] == "":
            headers.pop()
        return Sheet(name=path.name, headers=headers, rows=rows)
    except SpreadsheetError:
        raise
    except DefusedXmlException as exc:
        raise SpreadsheetError(f"{path.name} was refused: it contains unsafe XML.") from exc
    except Exception as exc:
        raise SpreadsheetError(f"{path.name} is damaged ({type(exc).__name__}: {exc}).") from exc
    finally:
        workbook.close()


# -- writing ------------------------------------------------------------------------------------
def excel_safe(value: Any) -> Any:
    """Make a text cell safe to open in Excel: one that could run as a formula gets a leading
    apostrophe, so it shows as text. :func:`unescape_cell` undoes it on import."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and \
            value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM (so Excel reads the encoding), every text cell formula-safe."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else excel_safe(v) for v in row])


def write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
               sheet_title: str = "Audits") -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=h)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, str):
                # Typed as text, so "=..." is shown, never run; quotePrefix keeps it text
                # when someone edits the cell in Excel.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                if value.startswith(FORMULA_STARTS):
                    cell.alignment = Alignment()  # gives the cell its own style record...
                    cell._style.quotePrefix = 1  # ...on which Excel's "text" flag is set
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)
    workbook.save(path)


def excel_serial_to_date(value: float) -> dt.date:
    """Excel's day numbers (1900 date system, with its 1900 leap-year bug)."""
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
