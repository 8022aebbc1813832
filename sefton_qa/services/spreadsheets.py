"""Reading and writing the spreadsheets QA teams keep: CSV (any common encoding and delimiter)
and workbooks: XLSX, OpenDocument (.ods) and old Excel (.xls), read by calamine after the
checks below; XLSX is written by openpyxl.

Everything that is not a sane spreadsheet is refused with :class:`SpreadsheetError`, whose
message can be shown as it is. Nothing here knows about audits.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import html
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


@dataclass
class StreamedSheet:
    """A table read a row at a time: its header row now, its data rows as they are iterated
    (once). A CSV file is never held whole; a workbook is as calamine holds it."""

    name: str
    headers: list[str]
    formula_escaped: bool = False
    lines: int = 0
    encoding_note: str = ""
    rows_iter: Any = None
    #: A workbook's rows, held whole already (so they can be read again); None for a CSV.
    held: list | None = None

    def __iter__(self):
        rows, self.rows_iter = self.rows_iter, None
        if rows is None:
            raise RuntimeError("a streamed sheet's rows are read once")
        return iter(rows)


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def read_sheet(path: str | os.PathLike, *, progress: Progress | None = None) -> Sheet:
    """The whole table at once (see :func:`open_sheet` to read it a row at a time)."""
    sheet = open_sheet(path, progress=progress)
    rows = list(sheet)
    return Sheet(name=sheet.name, headers=sheet.headers, rows=rows,
                 formula_escaped=sheet.formula_escaped, lines=sheet.lines,
                 encoding_note=sheet.encoding_note)


def open_sheet(path: str | os.PathLike, *, progress: Progress | None = None) -> StreamedSheet:
    """The file's header row, and its data rows to be read (once) by iterating."""
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
    if head.startswith((OLE_MAGIC, XLSX_MAGIC)):
        book = _read_workbook(path, head, progress)
        return StreamedSheet(name=book.name, headers=book.headers, rows_iter=book.rows,
                             held=book.rows)
    if suffix in (".xlsx", ".xlsm"):
        raise SpreadsheetError(f"{path.name} is named {suffix} but is not an Excel workbook.")
    if suffix == ".ods":
        raise SpreadsheetError(f"{path.name} is named .ods but is not an OpenDocument "
                               "spreadsheet.")
    return _csv_sheet(path, progress)


# -- CSV ----------------------------------------------------------------------------------------
_SAVE_AS = "Save it from Excel as CSV UTF-8 or .xlsx."


def _not_text(name: str, found: str) -> SpreadsheetError:
    return SpreadsheetError(f"{name} is not a readable text file: {found}. {_SAVE_AS}")


#: A valid UTF-8 sequence of two to four bytes (not ASCII).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
#: A quoted field spanning more line breaks than this is taken for a stray quote.
MAX_LINES_IN_A_FIELD = 50


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


_BLOCK = 1024 * 1024


@dataclass
class _Text:
    """How a CSV file's bytes are read as text, found by one pass over them (C speed), so
    that its rows can then be read one at a time, never the whole file at once."""

    encoding: str
    note: str
    lines: int  # as a spreadsheet counts them (a last line without a line break counts)


def _blocks(path: Path):
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(_BLOCK), b"")


def _decode_all(path: Path, encoding: str, name: str, found, skip: int = 0) -> tuple[int, bool]:
    """Decode the whole file a block at a time (keeping nothing): its line count and whether
    it ends with a line break. ``found(offset, newlines_before, byte)`` words the error of a
    byte that cannot be decoded."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    newlines, offset = 0, skip
    last = ""
    for block in _blocks(path):
        if skip:
            block, skip = block[skip:], 0
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:  # (its start counts the bytes held back before)
            at = exc.start - (len(exc.object) - len(block))
            raise _not_text(name, found(offset + at, newlines + block.count(b"\n", 0, max(at, 0)),
                                        exc.object[exc.start])) from None
        if "\x00" in text:
            raise _not_text(name, "it holds NUL characters, so it looks like a binary file, "
                                  "not a CSV")
        newlines += text.count("\n")
        last = text[-1:] or last
        offset += len(block)
    try:
        tail = decoder.decode(b"", True)
    except UnicodeDecodeError as exc:  # a character cut short at the end
        raise _not_text(name, found(offset - len(exc.object) + exc.start, newlines,
                                    exc.object[exc.start])) from None
    return newlines, (tail[-1:] or last) == "\n"


def _text_of(path: Path, name: str) -> _Text:
    """The file's encoding: UTF-16 (with its BOM), UTF-8 (with or without a BOM) or
    Windows-1252.

    Control characters (a vertical tab or a page break pasted from Word, an ESC) do not make
    a file unreadable: they are text, and each cell is checked or cleaned like typed text.
    Only a file that is not text is refused: one holding NUL bytes (a binary file), or one
    that no encoding here can read.
    """
    with open(path, "rb") as fh:
        head = fh.read(3)
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))

    def at_line(_offset: int, newlines: int, byte: int) -> str:
        return f"line {newlines + 1:,} holds the byte 0x{byte:02X}"

    if utf16:
        size = path.stat().st_size

        def found16(offset: int, _newlines: int, _byte: int) -> str:
            return (f"it begins as UTF-16 text, but its byte {offset + 1:,} (of {size:,}) "
                    "cannot be read as UTF-16")
        newlines, ends = _decode_all(path, "utf-16", name, found16)
        return _Text("utf-16", "", newlines + (not ends))
    for block in _blocks(path):
        if b"\x00" in block:
            raise _not_text(name, "it holds NUL bytes, so it looks like a binary file, not a "
                                  "CSV")
    if head.startswith(b"\xef\xbb\xbf"):
        newlines, ends = _decode_all(path, "utf-8", name, lambda *at: "it begins as UTF-8 "
                                     f"text, but {at_line(*at)}, which is not UTF-8", skip=3)
        return _Text("utf-8-sig", "", newlines + (not ends))
    bad = ""

    def remember(*at) -> str:
        nonlocal bad
        bad = at_line(*at)
        return bad

    try:
        newlines, ends = _decode_all(path, "utf-8", name, remember)
        return _Text("utf-8", "", newlines + (not ends))
    except SpreadsheetError:
        # Some UTF-8 text and a byte that is not: a file pasted together from two programs.
        # Reading it all as Windows-1252 would garble every UTF-8 letter (it once turned a
        # whole file into mojibake, silently): refuse, naming the line.
        tail = b""
        for block in _blocks(path):
            if _UTF8_MULTIBYTE.search(tail + block):
                raise _not_text(name, f"it holds UTF-8 text, but {bad}, which is not UTF-8: "
                                      'save it again as "CSV UTF-8"') from None
            tail = block[-3:]
    newlines, ends = _decode_all(path, "cp1252", name, lambda *at: f"{at_line(*at)}, which is "
                                 "neither UTF-8 nor Windows-1252 text")
    return _Text("cp1252", "read as Windows-1252 text (it is not UTF-8)", newlines + (not ends))


def _csv_sheet(path: Path, progress: Progress | None) -> "StreamedSheet":
    text = _text_of(path, path.name)
    with open(path, encoding=text.encoding, newline="") as fh:
        first_line = fh.readline(MAX_FIELD_CHARS * 2)
    sheet = StreamedSheet(name=path.name, headers=[], formula_escaped=True, lines=text.lines,
                          encoding_note=text.note)
    rows = _csv_rows(path, text, _sniff_delimiter(first_line), sheet, progress)
    sheet.headers = next(rows)  # (the header row is read now: its problems are the file's)
    sheet.rows_iter = rows
    return sheet


def _csv_rows(path: Path, text: _Text, delimiter: str, sheet: "StreamedSheet",
              progress: Progress | None):
    """The header row (first), then each data row as (row number, cells), read a line at a
    time."""
    name = path.name
    old_limit = csv.field_size_limit()
    headers: list[str] | None = None
    number = 0  # the record's row as a spreadsheet shows it (a line break in a cell is no row)
    count = 0
    total_lines = text.lines + 1
    with open(path, encoding=text.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        while True:
            start = reader.line_num + 1
            number += 1
            csv.field_size_limit(MAX_FIELD_CHARS)
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise SpreadsheetError(f"{name}, line {start}: a field is longer than "
                                           f"{MAX_FIELD_CHARS:,} characters.") from exc
                raise SpreadsheetError(f"{name}, line {start}: {exc}") from exc
            finally:
                csv.field_size_limit(old_limit)
            if reader.line_num - start > MAX_LINES_IN_A_FIELD:
                raise SpreadsheetError(
                    f"{name}, line {start}: a quoted field runs over "
                    f"{reader.line_num - start + 1:,} lines (to line {reader.line_num:,}); a "
                    "quote mark is probably missing or stray there. Correct it and import "
                    "again; nothing was imported.")
            if headers is None:
                if not any(c.strip() for c in record):
                    continue
                headers = record
                yield [h.strip() for h in headers]
                continue
            if not any(c.strip() for c in record):
                continue  # blank rows (often at the end of an Excel export)
            count += 1
            if count > MAX_ROWS:
                raise SpreadsheetError(f"{name} has more than {MAX_ROWS:,} rows.")
            yield number, record
            if progress is not None and count % 5000 == 0:
                if progress(reader.line_num, total_lines) is False:
                    raise SpreadsheetError("Reading the file was cancelled.")
    if headers is None:
        raise SpreadsheetError(f"{name} has no header row.")


# -- workbooks (XLSX, ODS, old XLS) ------------------------------------------------------------
# calamine (Rust, through python-calamine) reads the cells; it expands no XML entities. It holds
# the first sheet in memory as a dense grid of about _CELL_BYTES a cell, from its first used
# cell to its last, so before calamine sees an XML workbook the parts are checked here, cheaply
# and as they unzip: no zip bomb, no DOCTYPE (so no entities and no external references), no
# formula, no text run long enough to be a hostile cell, and a grid small enough to hold (a
# 2 KB workbook with one value at XFD1048576 would ask for 17 billion cells, and calamine
# would abort the process). An old .xls is looked over the same way (_scan_xls).

#: Refuse any part of the archive that unzips to more than this...
MAX_XLSX_PART_BYTES = 1024 * 1024 * 1024
#: ...or that is bigger than this and compressed more than MAX_XLSX_RATIO : 1 (a zip bomb).
_RATIO_CHECK_BYTES = 100 * 1024 * 1024
MAX_XLSX_RATIO = 200
_XLSX_CHUNK = 1024 * 1024
_MAX_COLUMN = 16_384  # XFD, the last column Excel has
#: What calamine holds for one cell of its grid (measured: 7.0 million cells, 266 MB peak).
_CELL_BYTES = 32
#: The largest grid read: 10 million cells, so calamine holds at most about 320 MB.
_MAX_CELLS = 10_000_000
_PROLOG_BYTES = 64 * 1024
_PASSWORD = ("Open it in Excel (or LibreOffice), remove the password, and save it as .xlsx "
             "(Excel Workbook) or .csv.")


def _hostile_message(name: str) -> str:
    return (f"{name} was refused: it contains XML features that can be used to attack a "
            "computer (entities or external references).")


def _too_big(name: str, cells: int, why: str) -> SpreadsheetError:
    return SpreadsheetError(
        f"{name} is too big to import: {why} a grid of {cells:,} cells, and Sefton QA reads "
        f"at most {_MAX_CELLS:,} cells (about {_MAX_CELLS * _CELL_BYTES // 10**6:,} MB). "
        "Delete the columns that are not needed (or stray values far to the right or far "
        "below) and import again.")


def _too_long(name: str, row: int | None) -> SpreadsheetError:
    where = f"{name}, row {row:,}" if row else name
    return SpreadsheetError(f"{where}: a cell is longer than {MAX_FIELD_CHARS:,} characters.")


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


def _refuse_doctypes(archive: zipfile.ZipFile, name: str) -> None:
    """A DOCTYPE can only come before an XML part's first element: look at the start of each
    part (calamine declares no entity, so a hostile one would only be 'damaged' there)."""
    for info in archive.infolist():
        if info.filename.lower().endswith((".xml", ".rels")):
            with archive.open(info) as stream:
                head = stream.read(_PROLOG_BYTES)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise SpreadsheetError(_hostile_message(name))


def _tagged(archive: zipfile.ZipFile, member: str, name: str,
            long_run: Callable[[], SpreadsheetError]) -> Iterable[bytes]:
    """Chunks of a part cut after a '>', refusing a stretch of text with no tag in a whole
    chunk (a cell far longer than any that is read) before it is all unpacked."""
    tail = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(_XLSX_CHUNK)
            if not chunk:
                break
            if len(chunk) == _XLSX_CHUNK and b"<" not in chunk:
                raise long_run()
            data = tail + chunk
            cut = data.rfind(b">") + 1
            tail = data[cut:]
            yield data[:cut]
    if tail.strip():
        yield tail


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _open_part(archive: zipfile.ZipFile, member: str) -> bytes:
    with archive.open(member) as stream:
        return stream.read()


def _first_sheet_part(archive: zipfile.ZipFile, name: str) -> str | None:
    """The part of the workbook's first worksheet (chartsheets are passed over), found as
    Excel finds it: the package's relationships, the workbook's list of sheets, its own."""
    import posixpath

    from defusedxml import ElementTree

    def rels(part: str) -> dict[str, tuple[str, str]]:
        folder, base = posixpath.split(part)
        path = posixpath.join(folder, "_rels", base + ".rels")
        root = ElementTree.fromstring(_open_part(archive, path))
        return {r.get("Id"): (r.get("Type", ""), posixpath.normpath(
            posixpath.join(folder, r.get("Target", "")).lstrip("/")))
            for r in root if r.tag.endswith("Relationship")}

    book = next((target for kind, target in rels("").values()
                 if kind.endswith("/officeDocument")), None)
    if book is None:
        return None
    sheets = rels(book)
    root = ElementTree.fromstring(_open_part(archive, book))
    for element in root.iter():
        if element.tag.endswith("}sheet"):
            rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            kind, target = sheets.get(rid, ("", ""))
            if kind.endswith("/worksheet") and target in archive.NameToInfo:
                return target
    return None


_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?worksheet[\s>/]")
_REF_COLUMN = re.compile(rb' r="([A-Za-z]+)')
_REF_ROW = re.compile(rb' r="[A-Za-z]*([0-9]+)"')
_R_ATTRIBUTE = re.compile(rb'\sr="([^"]*)"')
_DIMENSION = re.compile(rb'<(?:[\w.\-]+:)?dimension\s[^>]*?ref="([A-Za-z]+)([0-9]+)(?::([A-Za-z]+)'
                        rb'([0-9]+))?"')


def _scan_xlsx_sheet(archive: zipfile.ZipFile, member: str, name: str) -> None:
    """Look over a worksheet's XML as it unzips, at C speed (regular expressions and counts,
    not a parse): refuse a formula (calamine reads its cached value, which the person who
    made the sheet may not have meant to import), a huge cell, rows out of order, a column
    beyond XFD, and a grid (as declared or as used) too big to hold."""
    prefix: bytes | None = None
    first_row = last_row = 0  # the row numbers of <row> elements, which must rise
    min_row, max_row = 1 << 62, 0
    columns: set[bytes] = set()
    cells = refs = 0
    unreferenced = False  # a <c> with no attributes, so no reference
    tags: dict[str, bytes] = {}
    in_data = True

    def long_run() -> SpreadsheetError:
        return _too_long(name, last_row) if in_data else _too_long(name, None)

    for data in _tagged(archive, member, name, long_run):
        if prefix is None:
            root = _ROOT.search(data)
            if root is None:
                continue
            prefix = (root[1] + b":") if root[1] else b""
            tags = {t: b"<" + prefix + t.encode() for t in ("row", "c", "f")}
            row_attributes = re.compile(re.escape(tags["row"]) + rb"(?=[\s/>])([^>]*)>")
            end_data = b"</" + prefix + b"sheetData>"
            dimension = _DIMENSION.search(data)
            if dimension is not None and dimension[3]:
                declared = ((int(dimension[4]) - int(dimension[2]) + 1)
                            * (_column_number(dimension[3]) - _column_number(dimension[1]) + 1))
                if declared > _MAX_CELLS:
                    raise _too_big(name, declared, f"its sheet declares (as {dimension[1].decode()}"
                                   f"{dimension[2].decode()}:{dimension[3].decode()}"
                                   f"{dimension[4].decode()})")
        row_tag, cell_tag, formula_tag = tags["row"], tags["c"], tags["f"]
        at = data.find(formula_tag)
        while at >= 0:
            if data[at + len(formula_tag):at + len(formula_tag) + 1] in (b" ", b">", b"/"):
                _refuse_formula(data, at, row_tag, formula_tag, name, last_row)
            at = data.find(formula_tag, at + 1)
        for attributes in row_attributes.findall(data):
            found = _R_ATTRIBUTE.search(attributes)
            if found is None:
                number = last_row + 1
            else:
                try:
                    number = int(found[1])
                except ValueError:
                    raise SpreadsheetError(f"{name} is damaged (a row is numbered "
                                           f"{found[1].decode(errors='replace')!r}).") from None
                if number <= last_row:
                    raise SpreadsheetError(f"{name} is damaged (its row {number} comes after "
                                           f"row {last_row}).")
            last_row = number
            first_row = first_row or number
        found_columns = _REF_COLUMN.findall(data)
        columns.update(found_columns)
        refs += len(found_columns)
        cells += data.count(cell_tag + b" ")
        unreferenced = unreferenced or cell_tag + b">" in data or cell_tag + b"/>" in data
        numbers = _REF_ROW.findall(data)
        if numbers:
            numbers = list(map(int, set(numbers)))
            min_row, max_row = min(min_row, *numbers), max(max_row, *numbers)
        if in_data and end_data in data:
            in_data = False
    if not cells and not unreferenced:
        return
    widest = max((_column_number(c) for c in columns), default=0)
    if widest > _MAX_COLUMN:
        raise SpreadsheetError(f"{name} is damaged (a cell is beyond the last column, XFD).")
    if cells > refs or unreferenced:  # cells without a reference follow the one before
        widest = max(widest, _widest_row(archive, member, tags))
    max_row = max(max_row, last_row)
    min_row = min(min_row, first_row or max_row)
    grid = (max_row - min_row + 1) * widest
    if grid > _MAX_CELLS:
        raise _too_big(name, grid, "its cells span")


def _widest_row(archive: zipfile.ZipFile, member: str, tags: dict[str, bytes]) -> int:
    """The last column used, counting cells that have no reference as calamine does (each
    follows the one before it in its row). Only for sheets with such cells."""
    pattern = re.compile(rb"(?P<row>" + re.escape(tags["row"]) + rb"[\s/>])|"
                         + re.escape(tags["c"]) + rb"(?P<attrs>\s[^>]*)?/?>")
    widest = column = 0
    for data in _tagged(archive, member, "", lambda: SpreadsheetError("")):
        for match in pattern.finditer(data):
            if match["row"]:
                column = 0
                continue
            ref = _R_ATTRIBUTE.search(match["attrs"] or b"")
            letters = ref[1].rstrip(b"0123456789") if ref else b""
            column = _column_number(letters) if letters else column + 1
            widest = max(widest, column)
    return widest


def _refuse_formula(data: bytes, at: int, row_tag: bytes, formula_tag: bytes, name: str,
                    last_row: int) -> None:
    row_at = data.rfind(row_tag, 0, at)
    number = last_row
    if row_at >= 0:
        found = _R_ATTRIBUTE.search(data, row_at, data.find(b">", row_at))
        number = int(found[1]) if found and found[1].isdigit() else last_row + 1
    text_at = data.find(b">", at) + 1
    text = b"" if data[text_at - 2:text_at] == b"/>" else \
        data[text_at:data.find(b"<", text_at)]
    shown = ("=" + html.unescape(text.decode("utf-8", "replace")))[:40]
    raise SpreadsheetError(f"{name}, row {number:,}: a cell holds a formula ({shown}) instead "
                           "of a value. Copy the sheet and paste it as values, then import "
                           "again.")


_ODS_TAG = re.compile(rb"<table:(table-row|table-cell|covered-table-cell|table)\b([^>]*?)(/?)>"
                      rb"|</table:(table-row|table)>")
_REPEATED = re.compile(rb'number-(?:rows|columns)-repeated="([0-9]+)"')


def _scan_ods(archive: zipfile.ZipFile, name: str) -> None:
    """The first table of an OpenDocument spreadsheet, looked over as it unzips: the grid
    its repeated rows and cells would make (counted up to the last that holds something, as
    calamine keeps it), its formulas, and huge cells."""
    tables = rows = pending = widest = 0
    column = last = 0
    row_repeat = 1
    row_used = False

    def long_run() -> SpreadsheetError:
        return _too_long(name, rows + pending + 1)

    for data in _tagged(archive, "content.xml", name, long_run):
        for match in _ODS_TAG.finditer(data):
            tag, attrs, closing = match[1], match[2], match[4]
            if closing == b"table":
                tables += 1
                if tables == 1:
                    break
            elif closing == b"table-row":
                if row_used:
                    rows += pending + row_repeat
                    pending = 0
                    widest = max(widest, last)
                    if rows * widest > _MAX_CELLS:
                        raise _too_big(name, rows * widest, "its repeated rows and cells make")
                else:
                    pending += row_repeat
            elif tag == b"table-row":
                repeat = _REPEATED.search(attrs)
                row_repeat = int(repeat[1]) if repeat else 1
                column = last = 0
                row_used = False
            elif tag in (b"table-cell", b"covered-table-cell"):
                repeat = _REPEATED.search(attrs)
                column += int(repeat[1]) if repeat else 1
                if b"table:formula=" in attrs:
                    raise SpreadsheetError(
                        f"{name}, row {rows + pending + 1:,}: a cell holds a formula instead "
                        "of a value. Copy the sheet and paste it as values, then import "
                        "again.")
                if b"value-type=" in attrs or not match[3]:
                    last, row_used = column, True
        if tables:
            break


# Old .xls: BIFF8 records of the first worksheet, read from the compound file (olefile).
_FILEPASS, _BOUNDSHEET, _BOF, _EOF, _FORMULA = 0x002F, 0x0085, 0x0809, 0x000A, 0x0006
_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0201, 0x0205, 0x00D6}  # a value at (row, column)
_MULTIPLE = {0x00BD, 0x00BE}  # MULRK, MULBLANK: a row of values, the last column at the end


def _scan_xls(path: Path, name: str) -> None:
    """Refuse an encrypted file (an encrypted XLSX is a compound file too), a formula, and a
    grid too big to hold (one value at IV65536 would make 16.8 million cells), before calamine
    reads the workbook. A file that is not a readable .xls is left to calamine to name."""
    import struct

    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptedPackage") or ole.exists("EncryptionInfo"):
                raise SpreadsheetError(f"{name} is password-protected. {_PASSWORD}")
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None or ole.get_size(stream) > MAX_XLSX_PART_BYTES:
                return
            data = ole.openstream(stream).read()
    except SpreadsheetError:
        raise
    except Exception:  # noqa: BLE001 - not a compound file olefile reads: calamine says why
        return
    unpack = struct.unpack_from
    end, pos, sheet_at = len(data), 0, None
    while pos + 4 <= end:  # the workbook's globals, up to their EOF
        kind, size = unpack("<HH", data, pos)
        if kind == _FILEPASS:
            raise SpreadsheetError(f"{name} is password-protected. {_PASSWORD}")
        if kind == _BOUNDSHEET and sheet_at is None and size >= 6 and data[pos + 9] == 0:
            sheet_at = unpack("<I", data, pos + 4)[0]  # the first worksheet's BOF
        pos += 4 + size
        if kind == _EOF:
            break
    if sheet_at is None:
        return
    pos, low, high, widest = sheet_at, 1 << 30, -1, -1
    while pos + 4 <= end:
        kind, size = unpack("<HH", data, pos)
        body = pos + 4
        if kind in _CELLS and size >= 4:
            row, column = unpack("<HH", data, body)
        elif kind in _MULTIPLE and size >= 6:
            row = unpack("<H", data, body)[0]
            column = unpack("<H", data, body + size - 2)[0]
        elif kind == _FORMULA and size >= 4:
            raise SpreadsheetError(
                f"{name}, row {unpack('<H', data, body)[0] + 1:,}: a cell holds a formula "
                "instead of a value. Copy the sheet and paste it as values, then import again.")
        elif kind == _EOF:
            break
        else:
            pos = body + size
            continue
        low, high, widest = min(low, row), max(high, row), max(widest, column)
        pos = body + size
    grid = (high - low + 1) * (widest + 1) if high >= 0 else 0
    if grid > _MAX_CELLS:
        raise _too_big(name, grid, "its cells span")


def _workbook_kind(path: Path, head: bytes) -> str:
    """"xlsx", "ods" or "xls" (an old workbook, or an encrypted one of any kind)."""
    if head.startswith(OLE_MAGIC):
        return "xls"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    if "content.xml" in names and "[Content_Types].xml" not in names:
        return "ods"
    if any(n.endswith(".bin") and n.startswith("xl/workbook") for n in names):
        raise SpreadsheetError(f"{path.name} is an Excel binary workbook (.xlsb). Open it in "
                               "Excel and save it as .xlsx (Excel Workbook) or .csv.")
    return "xlsx"


def _check_workbook(path: Path, kind: str) -> None:
    """Refuse what calamine should not be given: see the notes above."""
    name = path.name
    if kind == "xls":
        _scan_xls(path, name)
        return
    with zipfile.ZipFile(path) as archive:
        _check_archive(archive, name)
        _refuse_doctypes(archive, name)
        if kind == "ods":
            if "content.xml" in archive.NameToInfo:
                _scan_ods(archive, name)
            return
        for info in archive.infolist():  # the shared strings: no cell there too long to hold
            if info.filename.lower().endswith("sharedstrings.xml"):
                for _ in _tagged(archive, info.filename, name, lambda: _too_long(name, None)):
                    pass
        try:
            member = _first_sheet_part(archive, name)
        except (KeyError, SyntaxError, ValueError):
            member = None  # (calamine says what is wrong)
        if member is not None:
            _scan_xlsx_sheet(archive, member, name)


class _TooLong(Exception):
    pass


def _cell(value: Any) -> Any:
    """A calamine value as the reader has always given it: a date cell as a datetime, a
    whole number as an int, an empty cell as None (and a text too long to import refused)."""
    kind = value.__class__
    if kind is str:
        if len(value) > MAX_FIELD_CHARS:
            raise _TooLong()
        return value or None
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    return value


def _read_workbook(path: Path, head: bytes, progress: Progress | None) -> Sheet:
    import python_calamine as calamine

    name = path.name
    try:
        kind = _workbook_kind(path, head)
        _check_workbook(path, kind)
    except zipfile.BadZipFile as exc:
        what = _KIND_NAMES["ods" if path.suffix.lower() == ".ods" else "xlsx"]
        raise SpreadsheetError(f"{name} is not a readable {what} ({exc}).") from exc
    except SpreadsheetError:
        raise
    except Exception as exc:  # a damaged archive
        raise SpreadsheetError(f"{name} is damaged ({type(exc).__name__}: {exc}).") from exc
    try:
        with open(path, "rb") as fh, calamine.CalamineWorkbook.from_filelike(fh) as book:
            index = next((i for i, m in enumerate(book.sheets_metadata)
                          if m.typ == calamine.SheetTypeEnum.WorkSheet), None)
            if index is None:
                raise SpreadsheetError(f"{name} has no worksheet.")
            sheet = book.get_sheet_by_index(index)
            start, end = sheet.start, sheet.end
            if start is None or end is None:
                raise SpreadsheetError(f"{name} has no header row in its first sheet.")
            grid = (end[0] - start[0] + 1) * (end[1] + 1)
            if grid > _MAX_CELLS:  # (belt and braces: the checks above refused it already)
                raise _too_big(name, grid, "its cells span")
            collecting = gc.isenabled()
            gc.disable()  # (a million new lists would set it off again and again, for nothing)
            try:
                return _table(name, sheet.iter_rows(), start[1], end[0] + 1, progress)
            finally:
                if collecting:
                    gc.enable()
    except SpreadsheetError:
        raise
    except calamine.PasswordError as exc:
        raise SpreadsheetError(f"{name} is password-protected. {_PASSWORD}") from exc
    except calamine.CalamineError as exc:
        if kind == "xls":
            raise SpreadsheetError(
                f"{name} cannot be read as an old-style .xls workbook: it is password-protected "
                f"or damaged ({exc}). {_PASSWORD}") from exc
        raise SpreadsheetError(f"{name} is damaged or is not a readable {_KIND_NAMES[kind]} "
                               f"({exc}).") from exc
    except Exception as exc:
        raise SpreadsheetError(f"{name} is damaged ({type(exc).__name__}: {exc}).") from exc


_KIND_NAMES = {"xlsx": "Excel workbook", "ods": "OpenDocument spreadsheet",
               "xls": "Excel workbook"}


def _table(name: str, rows: Iterable[list[Any]], first_column: int, height: int,
           progress: Progress | None) -> Sheet:
    """The header row and the data rows of calamine's rows (which begin at the sheet's first
    row and its first used column), numbered as the sheet numbers them."""
    pad = [None] * first_column
    header_cells: list[Any] | None = None
    kept: list[tuple[int, list[Any]]] = []
    index = 0
    limit = MAX_FIELD_CHARS
    for index, raw in enumerate(rows):  # noqa: B007 (the count is used below)
        try:  # (most cells are short texts: those are taken as they are)
            cells = pad + [v if v.__class__ is str and 0 < len(v) <= limit else _cell(v)
                           for v in raw]
        except _TooLong:
            raise _too_long(name, index + 1) from None
        for v in cells:
            if v is not None and (v.__class__ is not str or v.strip()):
                break
        else:
            continue  # a blank row (often at the end of an Excel export)
        if header_cells is None:
            header_cells = cells
            continue
        kept.append((index, cells))
        if len(kept) > MAX_ROWS:
            raise SpreadsheetError(f"{name} has more than {MAX_ROWS:,} rows.")
        if progress is not None and len(kept) % 5000 == 0:
            if progress(index + 1, height) is False:
                raise SpreadsheetError("Reading the file was cancelled.")
    if header_cells is None:
        raise SpreadsheetError(f"{name} has no header row in its first sheet.")
    offset = height - (index + 1)  # rows calamine began below the first (none so far)
    width = 0
    for cells in (header_cells, *(c for _n, c in kept)):
        last = len(cells)
        while last and cells[last - 1] is None:
            last -= 1
        width = max(width, last)
    for _n, cells in kept:
        del cells[width:]
    headers = ["" if v is None else str(v).strip() for v in header_cells[:width]]
    while headers and headers[-1] == "":
        headers.pop()
    return Sheet(name=name, headers=headers,
                 rows=[(n + offset + 1, cells) for n, cells in kept])


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
