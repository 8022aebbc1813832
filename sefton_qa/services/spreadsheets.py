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
import stat
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sefton_qa.domain.errors import SeftonError

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD_CHARS = 100_000
XLSX_MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
MAX_ROWS = 1_000_000
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted (password) workbooks and old .xls
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
    #: CSV cells may carry the leading apostrophe :func:`excel_safe` adds; XLSX cells never do
    #: (their text type keeps them safe), so only CSV text is unescaped on import.
    formula_escaped: bool = False
    #: Lines in a CSV file (0 for a workbook), so a report can say "N rows read from M lines".
    lines: int = 0
    #: How a CSV file's text was read, when that is worth saying (Windows-1252).
    encoding_note: str = ""


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def read_sheet(path: str | os.PathLike, *, progress: Progress | None = None) -> Sheet:
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise SpreadsheetError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):  # a folder, or a pipe that would block the read
        raise SpreadsheetError(f"{path.name} is a folder or a device, not a file: choose the "
                               ".xlsx or .csv file itself.")
    size = info.st_size
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
_SAVE_AS = "Save it from Excel as CSV UTF-8 or .xlsx."


def _not_text(name: str, found: str) -> SpreadsheetError:
    return SpreadsheetError(f"{name} is not a readable text file: {found}. {_SAVE_AS}")


def _byte_at(data: bytes, position: int) -> str:
    line = data.count(b"\n", 0, position) + 1
    return f"line {line:,} holds the byte 0x{data[position]:02X}"


def _decode(data: bytes, name: str) -> str:
    """The file's text: UTF-16 (with its BOM), UTF-8 (with or without a BOM) or Windows-1252.

    Control characters (a vertical tab or a page break pasted from Word, an ESC) do not make
    a file unreadable: they are text, and each cell is checked or cleaned like typed text.
    Only a file that is not text is refused: one holding NUL bytes (a binary file), or one
    that no encoding here can read.
    """
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and b"\x00" in data:
        raise _not_text(name, "it holds NUL bytes, so it looks like a binary file, not a CSV")
    if utf16:
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _not_text(name, f"it begins as UTF-16 text, but its byte {exc.start + 1:,} "
                                  f"(of {len(data):,}) cannot be read as UTF-16") from None
    elif data.startswith(b"\xef\xbb\xbf"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:  # (its position is counted after the BOM)
            raise _not_text(name, f"it begins as UTF-8 text, but "
                                  f"{_byte_at(data, 3 + exc.start)}, "
                                  "which is not UTF-8") from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as bad:
            # Some UTF-8 text and a byte that is not: a file pasted together from two
            # programs. Reading it all as Windows-1252 would garble every UTF-8 letter (it
            # once turned a whole file into mojibake, silently): refuse, naming the line.
            if _UTF8_MULTIBYTE.search(data):
                raise _not_text(name, f"it holds UTF-8 text, but {_byte_at(data, bad.start)}, "
                                      "which is not UTF-8: save it again as \"CSV UTF-8\""
                                ) from None
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise _not_text(name, f"{_byte_at(data, exc.start)}, which is neither UTF-8 "
                                      "nor Windows-1252 text") from None
    if "\x00" in text:
        raise _not_text(name, "it holds NUL characters, so it looks like a binary file, not a "
                              "CSV")
    return text


#: A valid UTF-8 sequence of two to four bytes (not ASCII).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
#: A quoted field spanning more line breaks than this is taken for a stray quote.
MAX_LINES_IN_A_FIELD = 50


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(path: Path, progress: Progress | None) -> Sheet:
    data = path.read_bytes()
    text = _decode(data, path.name)
    note = "" if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _is_utf8(data) else \
        "read as Windows-1252 text (it is not UTF-8)"
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    rows: list[tuple[int, list[Any]]] = []
    headers: list[str] | None = None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    total_lines = text.count("\n") + 1
    number = 0  # the record's row as a spreadsheet shows it (a line break in a cell is no row)
    try:
        while True:
            start = reader.line_num + 1
            number += 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise SpreadsheetError(f"{path.name}, line {start}: a field is longer than "
                                           f"{MAX_FIELD_CHARS:,} characters.") from exc
                raise SpreadsheetError(f"{path.name}, line {start}: {exc}") from exc
            if reader.line_num - start > MAX_LINES_IN_A_FIELD:
                raise SpreadsheetError(
                    f"{path.name}, line {start}: a quoted field runs over "
                    f"{reader.line_num - start + 1:,} lines (to line {reader.line_num:,}); a "
                    "quote mark is probably missing or stray there. Correct it and import "
                    "again; nothing was imported.")
            if headers is None:
                if not any(c.strip() for c in record):
                    continue
                headers = record
                continue
            if not any(c.strip() for c in record):
                continue  # blank rows (often at the end of an Excel export)
            rows.append((number, record))
            if len(rows) > MAX_ROWS:
                raise SpreadsheetError(f"{path.name} has more than {MAX_ROWS:,} rows.")
            if progress is not None and len(rows) % 5000 == 0:
                if progress(reader.line_num, total_lines) is False:
                    raise SpreadsheetError("Reading the file was cancelled.")
    finally:
        csv.field_size_limit(old_limit)
    if headers is None:
        raise SpreadsheetError(f"{path.name} has no header row.")
    return Sheet(name=path.name, headers=[h.strip() for h in headers], rows=rows,
                 formula_escaped=True, lines=text.count("\n") + (not text.endswith("\n")),
                 encoding_note=note)


# -- XLSX ---------------------------------------------------------------------------------------
# openpyxl (with defusedxml) reads the workbook's structure: which part is the first worksheet,
# where the shared strings are, which cell styles are dates, and the date system (1900/1904).
# The shared strings and the worksheet, the parts that grow with the data, are parsed here with
# a streaming expat parser: openpyxl's read-only mode builds an element tree for every cell and
# takes ~12 s for 100,000 rows. The parser refuses what defusedxml refuses (and more): any
# DOCTYPE, so no entity can be declared and no external resource reached.

#: Refuse any part of the archive that unzips to more than this...
MAX_XLSX_PART_BYTES = 1024 * 1024 * 1024
#: ...or that is bigger than this and compressed more than MAX_XLSX_RATIO : 1 (a zip bomb).
_RATIO_CHECK_BYTES = 100 * 1024 * 1024
MAX_XLSX_RATIO = 200
_XLSX_CHUNK = 1024 * 1024
_MAX_COLUMN = 16_384  # XFD, the last column Excel has
#: At most this many cells are kept (~400 MB of references), however the rows are shaped.
_MAX_CELLS = 50_000_000
#: At most this much text is gathered for one cell before it is refused as too long.
_MAX_TEXT_HELD = MAX_FIELD_CHARS + 2 * _XLSX_CHUNK
#: The namespace of a worksheet's elements (openpyxl reads no other).
_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DIGITS = "0123456789"


class _HostileXml(Exception):
    """The XML declares a DOCTYPE, entities or external references."""


def _refuse_xml(*_args: Any) -> None:
    raise _HostileXml()


def _hostile_message(name: str) -> str:
    return (f"{name} was refused: it contains XML features that can be used to attack a "
            "computer (entities or external references).")


def _safe_expat(*local_names: str):
    """An expat parser that refuses DOCTYPEs (and with them every entity declaration and
    external reference), and the names it reports for the given elements of the sheet
    namespace. Those names are interned in the parser, so handlers can compare them with
    ``is``."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_xml
    parser.EntityDeclHandler = _refuse_xml
    parser.UnparsedEntityDeclHandler = _refuse_xml
    parser.ExternalEntityRefHandler = _refuse_xml
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.buffer_size = 256 * 1024
    names = []
    for local in local_names:
        tag = f"{_SHEET_NS} {local}"
        names.append(parser.intern.setdefault(tag, tag))
    return parser, names


def _check_archive(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse zip bombs before anything is unpacked (ZipExtFile never gives more bytes than
    the sizes checked here: it stops at ZipInfo.file_size)."""
    for info in archive.infolist():
        size, packed = info.file_size, info.compress_size
        if size > MAX_XLSX_PART_BYTES or (
                size > _RATIO_CHECK_BYTES and size > MAX_XLSX_RATIO * max(packed, 1)):
            raise SpreadsheetError(
                f"{name} was refused: a part of it ({info.filename}) unpacks to "
                f"{_size_text(size)}, which is far more than a real workbook holds.")


def _feed(parser, archive: zipfile.ZipFile, member: str, name: str,
          check: Callable[[], None]) -> None:
    """Parse a part in chunks, calling ``check`` after each one."""
    fed = 0
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(_XLSX_CHUNK)
            if not chunk:
                break
            fed += len(chunk)
            if fed > MAX_XLSX_PART_BYTES:  # belt and braces: _check_archive caught it already
                raise SpreadsheetError(f"{name} was refused: {member} unpacks to more than "
                                       f"{_size_text(MAX_XLSX_PART_BYTES)}.")
            parser.Parse(chunk, False)
            check()
    parser.Parse(b"", True)


def _read_shared_strings(archive: zipfile.ZipFile, member: str, name: str) -> list[str]:
    """The shared string table, as openpyxl reads it: the plain text of each <si> (its <t>
    and the <t> of its rich-text runs, not those of phonetic <rPh> runs)."""
    strings: list[str] = []
    parts: list[str] = []  # character data since the last <t> started
    parser, (SI, T, R, RPH) = _safe_expat("si", "t", "r", "rPh")  # noqa: N806
    in_si = in_r = False
    rph = 0
    plain: str | None = None
    runs: list[str] = []

    def start(tag: str, _attrs: dict) -> None:
        nonlocal in_si, in_r, rph, plain
        if tag is T:
            parts.clear()
        elif tag is SI:
            in_si, plain = True, None
            runs.clear()
        elif tag is R:
            in_r = True
        elif tag is RPH:
            rph += 1
        else:  # (text is only kept from a <t>)
            parts.clear()

    def end(tag: str) -> None:
        nonlocal in_si, in_r, rph, plain
        if tag is T:
            if in_si and not rph:
                if in_r:
                    runs.append("".join(parts))
                else:
                    plain = "".join(parts)
        elif tag is SI:
            text = (plain or "") + "".join(runs) if runs else (plain or "")
            strings.append(ooxml_unescape(text))  # Excel's _xHHHH_ escapes, as Excel reads them
            in_si = False
        elif tag is R:
            in_r = False
        elif tag is RPH:
            rph -= 1

    def check() -> None:
        if sum(map(len, parts)) + sum(map(len, runs)) > _MAX_TEXT_HELD:
            raise SpreadsheetError(f"{name}: a cell is longer than {MAX_FIELD_CHARS:,} "
                                   "characters.")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = parts.append
    _feed(parser, archive, member, name, check)
    return strings


def _column_index(letters: str, name: str) -> int:
    """0-based column of a cell reference's letters ("A" -> 0)."""
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        raise SpreadsheetError(f"{name} is damaged (a cell has the reference {letters!r}).")
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    if index > _MAX_COLUMN:
        raise SpreadsheetError(f"{name} is damaged (a cell is beyond the last column, XFD).")
    return index - 1


def _row_number(text: str, name: str) -> int:
    try:
        number = int(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            as_float = 0.5
        if not as_float.is_integer():
            raise SpreadsheetError(f"{name} is damaged (a row is numbered {text!r}).") from None
        number = int(as_float)
    if number < 1:
        raise SpreadsheetError(f"{name} is damaged (a row is numbered {text!r}).")
    return number


def _read_worksheet(archive: zipfile.ZipFile, member: str, name: str, shared: list[str],
                    date_styles: set[int], timedelta_styles: set[int], epoch: dt.datetime,
                    progress: Progress | None) -> Sheet:
    """Read a worksheet's cells with the values openpyxl's read-only mode gives them."""
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    total_bytes = archive.getinfo(member).file_size
    rows: list[tuple[int, list[Any]]] = []
    header_cells: list[Any] | None = None
    parts: list[str] = []  # character data since the last <v>, <t> or <f> started
    parser, (ROW, C, V, F, IS, T, R, RPH) = _safe_expat(  # noqa: N806
        "row", "c", "v", "f", "is", "t", "r", "rPh")
    columns: dict[str, int] = {}  # "AB" -> 27
    style_kinds: dict[str, int] = {}  # cell style ("s") -> 0 plain, 1 date, 2 duration
    dates: dict[tuple[str, int], Any] = {}
    max_chars = MAX_FIELD_CHARS
    long_shared = any(len(s) > max_chars for s in shared)
    digits = _DIGITS

    cells: list[Any] = []
    stored = 0  # cells in the rows kept
    row_number = last_row = 0
    column = -1
    kind: str | None = None  # the cell's "t" attribute
    style: str | None = None
    text: str | None = None  # its <v>
    inline: str | None = None  # its <is>
    formula: str | None = None  # its <f>
    in_is = in_r = False
    rph = 0
    plain: str | None = None
    runs: list[str] = []

    def style_kind(s: str) -> int:
        try:
            index = int(s)
        except ValueError:
            raise SpreadsheetError(f"{name} is damaged (row {row_number} has a cell with the "
                                   f"style {s!r}).") from None
        found = style_kinds[s] = 2 if index in timedelta_styles else int(index in date_styles)
        return found

    def as_date(t: str, value: float, k: int) -> Any:
        found = dates.get((t, k))
        if found is None:
            try:
                found = from_excel(value, epoch, timedelta=k == 2)
            except (OverflowError, ValueError):
                found = "#VALUE!"  # what openpyxl gives for a date out of range
            dates[(t, k)] = found
        return found

    def too_long() -> None:
        raise SpreadsheetError(f"{name}, row {row_number}: a cell is longer than "
                               f"{max_chars:,} characters.")

    def start(tag: str, attrs: dict) -> None:
        nonlocal column, kind, style, text, inline, formula, in_is, in_r, rph, plain
        nonlocal cells, row_number
        if tag is C:
            ref = attrs.get("r")
            if ref is None:
                column += 1
            else:
                letters = ref.rstrip(digits)
                column = columns.get(letters, -1)
                if column < 0:
                    column = columns[letters] = _column_index(letters, name)
            kind = attrs.get("t")
            style = attrs.get("s")
            text = inline = formula = None
        elif tag is V or tag is T:
            parts.clear()
        elif tag is IS:
            in_is, plain = True, None
            runs.clear()
        elif tag is ROW:
            ref = attrs.get("r")
            row_number = row_number + 1 if ref is None else _row_number(ref, name)
            cells = []
            column = -1
        elif tag is R:
            in_r = True
        elif tag is RPH:
            rph += 1
        elif tag is F:
            parts.clear()
            formula = ""
        else:  # (text is only kept from a <v>, <t> or <f>)
            parts.clear()

    def end(tag: str) -> None:
        nonlocal text, inline, formula, in_is, in_r, rph, plain, header_cells, last_row
        nonlocal stored
        if tag is C:
            if formula is not None:
                shown = ("=" + formula)[:40]
                raise SpreadsheetError(
                    f"{name}, row {row_number}: a cell holds a formula ({shown}) instead of a "
                    "value. Copy the sheet and paste it as values, then import again.")
            if kind == "s":  # a shared string (what Excel writes for text)
                if text:
                    value = shared[int(text)]
                    if long_shared and len(value) > max_chars:
                        too_long()
                else:  # no <v>, or an empty one: openpyxl gives None
                    value = None
            elif kind is None or kind == "n":
                if text:
                    # As openpyxl: a "." or an exponent makes a float, anything else an int.
                    value = float(text) if ("." in text or "E" in text or "e" in text) \
                        else int(text)
                    if style:  # as openpyxl, s="" is no style
                        k = style_kinds.get(style)
                        if k is None:
                            k = style_kind(style)
                        if k:
                            value = as_date(text, value, k)
                else:
                    value = None
            elif kind == "inlineStr":
                value = inline
                if value is not None and len(value) > max_chars:
                    too_long()
            elif not text:
                value = None
            elif kind == "b":
                value = bool(int(text))
            elif kind == "d":
                value = from_ISO8601(text)
            else:  # "str", "e" (errors such as #N/A) and anything unknown: the text
                value = text
                if len(value) > max_chars:
                    too_long()
            if kind != "s" and value.__class__ is str and "_x" in value:
                value = ooxml_unescape(value)  # (shared strings were unescaped once, above)
            width = len(cells)
            if column == width:
                cells.append(value)
            elif column > width:
                cells.extend([None] * (column - width))
                cells.append(value)
            else:  # a cell given twice, or out of order: the last one wins, as in openpyxl
                cells[column] = value
        elif tag is V:
            text = "".join(parts)
        elif tag is T:
            if in_is and not rph:
                if in_r:
                    runs.append("".join(parts))
                else:
                    plain = "".join(parts)
        elif tag is IS:
            inline = (plain or "") + "".join(runs) if runs else (plain or "")
            in_is = False
        elif tag is ROW:
            if row_number <= last_row:
                raise SpreadsheetError(f"{name} is damaged (its row {row_number} comes after "
                                       f"row {last_row}).")
            last_row = row_number
            for v in cells:
                if v is not None and (v.__class__ is not str or v.strip()):
                    break
            else:
                return  # a blank row (often at the end of an Excel export)
            if header_cells is None:
                header_cells = cells
                return
            rows.append((row_number, cells))
            if len(rows) > MAX_ROWS:
                raise SpreadsheetError(f"{name} has more than {MAX_ROWS:,} rows.")
            stored += len(cells)
            if stored > _MAX_CELLS:
                raise SpreadsheetError(
                    f"{name} is too big to import: its rows hold more than {_MAX_CELLS:,} "
                    "cells. Delete the columns that are not needed (or stray values far to "
                    "the right) and import again.")
            if progress is not None and len(rows) % 5000 == 0:
                if progress(min(parser.CurrentByteIndex, total_bytes), total_bytes) is False:
                    raise SpreadsheetError("Reading the file was cancelled.")
        elif tag is F:
            formula = "".join(parts)
        elif tag is R:
            in_r = False
        elif tag is RPH:
            rph -= 1

    def check() -> None:
        # Text is gathered (by parts.append, for speed) before its cell is checked: make sure
        # a hostile sheet cannot make it grow without limit.
        if sum(map(len, parts)) + sum(map(len, runs)) > _MAX_TEXT_HELD:
            too_long()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = parts.append
    _feed(parser, archive, member, name, check)
    if header_cells is None:
        raise SpreadsheetError(f"{name} has no header row in its first sheet.")
    _square([header_cells, *(cells for _n, cells in rows)])
    headers = ["" if v is None else str(v).strip() for v in header_cells]
    while headers and headers[-1] == "":
        headers.pop()
    return Sheet(name=name, headers=headers, rows=rows)


def _square(table: list[list[Any]]) -> None:
    """Give every row the same columns, up to the last that holds a value in some row (as
    openpyxl's read-only mode does, up to the last column of the sheet's dimensions), unless
    that would take too much memory (a stray value far to the right)."""
    width = 0
    for cells in table:
        last = len(cells)
        while last and cells[last - 1] is None:
            last -= 1
        if last > width:
            width = last
    if width * len(table) > _MAX_CELLS:
        return
    for cells in table:
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        elif len(cells) > width:
            del cells[width:]


def _read_xlsx(path: Path, progress: Progress | None) -> Sheet:
    from xml.parsers.expat import ExpatError

    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.xml.constants import SHARED_STRINGS

    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # pragma: no cover - defusedxml is a dependency
        DefusedXmlException = ValueError  # noqa: N806

    name = path.name
    archive: zipfile.ZipFile | None = None
    try:
        try:
            # The workbook's structure, read by openpyxl as load_workbook(read_only=True)
            # does, but without setting up the worksheets (which parses the whole of a sheet
            # that has no <dimension>) or reading the parts that do not matter here.
            reader = ExcelReader(str(path), read_only=True, keep_vba=False, data_only=False,
                                 keep_links=False)
            archive = reader.archive
            _check_archive(archive, name)
            reader.read_manifest()
            reader.read_workbook()
            apply_stylesheet(archive, reader.wb)
            sheet_part = None
            for _sheet, rel in reader.parser.find_sheets():  # workbook order, as wb.worksheets
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
                    sheet_part = rel.target
                    break
            strings_type = reader.package.find(SHARED_STRINGS)
            strings_part = strings_type.PartName[1:] if strings_type is not None else None
            workbook = reader.wb
        except SpreadsheetError:
            raise
        except DefusedXmlException as exc:
            raise SpreadsheetError(_hostile_message(name)) from exc
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise SpreadsheetError(f"{name} is not a readable Excel workbook ({exc}).") from exc
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            raise SpreadsheetError(f"{name} is damaged or not an Excel workbook "
                                   f"({type(exc).__name__}: {exc}).") from exc
        if sheet_part is None:
            raise SpreadsheetError(f"{name} has no worksheet.")
        try:
            shared = _read_shared_strings(archive, strings_part, name) if strings_part else []
            return _read_worksheet(archive, sheet_part, name, shared,
                                   set(workbook._date_formats),
                                   set(workbook._timedelta_formats), workbook.epoch, progress)
        except SpreadsheetError:
            raise
        except _HostileXml as exc:
            raise SpreadsheetError(_hostile_message(name)) from exc
        except ExpatError as exc:
            raise SpreadsheetError(f"{name} is damaged (its XML is broken: {exc}).") from exc
        except Exception as exc:
            raise SpreadsheetError(f"{name} is damaged ({type(exc).__name__}: {exc}).") from exc
    finally:
        if archive is not None:
            archive.close()


# -- writing ------------------------------------------------------------------------------------
def _needs_apostrophe(text: str) -> bool:
    """Text Excel could run as a formula, or text that already looks escaped ("'=x")."""
    while text.startswith("'"):
        text = text[1:]
    return text.startswith(FORMULA_STARTS)


def excel_safe(value: Any) -> Any:
    """Make a CSV text cell safe to open in Excel: one that could run as a formula gets a
    leading apostrophe, so it shows as text. :func:`unescape_cell` undoes it exactly on import
    (a text that already begins "'=" gets a second apostrophe, so it survives the round trip)."""
    if isinstance(value, str) and _needs_apostrophe(value):
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("'") and _needs_apostrophe(value[1:]):
        return value[1:]
    return value


# Excel's own escape for characters XML cannot hold (_x000D_ for a carriage return); a text
# that itself contains "_x0041_" is written with its underscore escaped (_x005F_).
_OOXML_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_OOXML_NEEDS = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")


def ooxml_escape(text: str) -> str:
    return _OOXML_NEEDS.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def ooxml_unescape(text: str) -> str:
    return _OOXML_ESCAPED.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


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

    rows = list(rows)
    longest = max((len(v) for row in rows for v in row if isinstance(v, str)), default=0)
    if longest > XLSX_MAX_CELL_CHARS:  # checked before anything is written
        raise SpreadsheetError(
            f"A text of {longest:,} characters does not fit in an Excel cell (at most "
            f"{XLSX_MAX_CELL_CHARS:,}). Export to CSV instead, which keeps it whole.")
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
                cell = WriteOnlyCell(sheet, value=ooxml_escape(value))
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
