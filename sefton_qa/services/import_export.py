"""Import audits from the spreadsheets teams keep (CSV, XLSX), and export them again.

Import is all or nothing: the whole file is checked first and every problem is reported at
once, with its row number and column; if there is any, nothing is written. Re-importing the
same rows adds nothing (a duplicate is the same case reference, audit date and auditor).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sefton_qa.domain.errors import FieldProblem, SeftonError, ValidationError
from sefton_qa.domain.grades import GRADE_LABELS, Grade
from sefton_qa.domain.models import (
    AuditInput,
    AuditType,
    Role,
    Selection,
    ServiceArea,
    Staff,
    Team,
    Theme,
)
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_HINT,
    DEFAULT_CASE_REFERENCE_PATTERN,
    PatternTooSlow,
    case_reference_problem,
)
from sefton_qa.domain.reference import matches as reference_matches
from sefton_qa.services import audits as audit_service
from sefton_qa.services import moderation as moderation_service
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session
from sefton_qa.services.spreadsheets import (
    SpreadsheetError,
    excel_serial_to_date,
    open_sheet,
    unescape_cell,
    write_csv,
    write_xlsx,
)
from sefton_qa.store import audits as audit_store
from sefton_qa.store import file_transfers
from sefton_qa.store import grades as grade_store
from sefton_qa.store import import_mappings
from sefton_qa.store import moderations as moderation_store
from sefton_qa.store import service_areas as area_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store
from sefton_qa.store import themes as theme_store
from sefton_qa.domain.wording import date_text

REQUIRED = ("case_reference", "audit_date", "service_area", "team", "auditor", "grade")
OPTIONAL = ("audit_type", "themes", "findings", "moderator", "moderated_grade",
            "moderation_date", "selection")
FIELDS = REQUIRED + OPTIONAL
#: Other headers teams commonly use for the same thing.
ALIASES = {"case_ref": "case_reference", "overall_grade": "grade", "date": "audit_date",
           "area": "service_area", "theme": "themes", "type": "audit_type",
           "how_chosen": "selection", "case_selection": "selection"}
#: Headers that name personal data: the store holds case references only.
PERSONAL_DATA = re.compile(
    r"(^name$|^names$|child.*name|name_of|forename|first_name|given_name|surname|last_name|"
    r"family_name|full_name|(young_persons?|yp|persons?|client|service_user|pupil|student|"
    r"mother|father|parent|carer|family)s?_(full_)?name|^dob$|date_of_birth|birth|address|"
    r"postcode|post_code|nhs|^upn$|ni_number|national_insurance)")
GRADE_SPELLINGS = {
    "good": Grade.GOOD,
    "requires improvement": Grade.REQUIRES_IMPROVEMENT,
    "requires improvement to be good": Grade.REQUIRES_IMPROVEMENT,
    "ri": Grade.REQUIRES_IMPROVEMENT,
    "inadequate": Grade.INADEQUATE,
    "outstanding": Grade.OUTSTANDING,
}
AUDIT_TYPE_SPELLINGS = {"deep dive": AuditType.DEEP_DIVE, "deepdive": AuditType.DEEP_DIVE,
                        "themed": AuditType.THEMED, "thematic": AuditType.THEMED,
                        "dip sample": AuditType.DIP_SAMPLE, "dip": AuditType.DIP_SAMPLE}
#: How a case was chosen, as teams write it. Imported history that does not say is "not
#: recorded": the store's default for new audits says how cases are chosen now, not then.
SELECTION_SPELLINGS = {"random draw": Selection.RANDOM_DRAW, "random": Selection.RANDOM_DRAW,
                       "drawn at random": Selection.RANDOM_DRAW, "random sample":
                       Selection.RANDOM_DRAW, "chosen": Selection.CHOSEN,
                       "chosen by the qa team": Selection.CHOSEN, "selected": Selection.CHOSEN,
                       "referred": Selection.REFERRED, "referred for audit": Selection.REFERRED,
                       "referral": Selection.REFERRED, "unknown": Selection.UNKNOWN,
                       "not recorded": Selection.UNKNOWN}
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")

Progress = Callable[[int, int, str], bool | None]
#: The problems listed (all are counted): enough to work through, never a million sentences.
MAX_PROBLEMS_LISTED = 1_000
#: Rows written (and looked up in the store) at a time.
IMPORT_BATCH = 5_000


class ImportStopped(SeftonError):
    """The import cannot go on (nothing was imported); the message says why."""


class ImportCancelled(SeftonError):
    pass


@dataclass
class ImportReport:
    file_name: str
    sha256: str = ""
    dry_run: bool = False
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # file header → field
    unknown_columns: list[str] = field(default_factory=list)
    rows_read: int = 0
    lines_in_file: int = 0  # a CSV file's lines (0 for a workbook)
    encoding_note: str = ""
    added: int = 0
    duplicates: list[int] = field(default_factory=list)  # row numbers skipped (the first)
    duplicate_count: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)
    created: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the first MAX_PROBLEMS_LISTED
    problem_count: int = 0  # all of them
    preview: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        lines = f" from a file of {self.lines_in_file:,} lines" if self.lines_in_file else ""
        note = f"; {self.encoding_note}" if self.encoding_note else ""
        out = [f"{self.file_name}: {self.rows_read:,} rows read{lines}{note}"]
        if self.unknown_columns:
            out.append("Ignored columns (not used by Sefton QA): " +
                       ", ".join(self.unknown_columns))
        for kind, names in self.missing.items():
            if names:
                verb = "will be created" if self.created.get(kind) is not None else "unknown"
                out.append(f"{kind.replace('_', ' ').capitalize()} {verb}: {', '.join(names)}")
        duplicates = max(self.duplicate_count, len(self.duplicates))
        if duplicates:
            rows = ", ".join(map(str, self.duplicates[:20]))
            more = f" and {duplicates - 20:,} more" if duplicates > 20 else ""
            out.append(f"{duplicates:,} duplicate row(s) skipped (already in the store "
                       f"or earlier in the file): rows {rows}{more}")
        if self.problems:
            total = max(self.problem_count, len(self.problems))
            out.append(f"{total:,} problem(s); nothing was imported:")
            out.extend(f"  {p}" for p in self.problems)
            if total > len(self.problems):
                out.append(f"  … and {total - len(self.problems):,} more (the first "
                           f"{len(self.problems):,} are listed)")
        elif self.dry_run:
            out.append(f"Dry run: {self.added:,} audit(s) would be added; nothing was written.")
        else:
            out.append(f"Imported {self.added:,} audit(s).")
        return out


_SEPARATORS = re.compile(r"[\s_\-]+")
_SPACES = re.compile(r"\s+")
_SERIAL = re.compile(r"\d+(\.0+)?")


_DROPPED = re.compile(r"[.'’]")


def normalise_header(header: str) -> str:
    """"Case Reference", "case_reference" and "CASE-REFERENCE" alike; "D.O.B." is "dob"."""
    return _SEPARATORS.sub("_", _DROPPED.sub("", str(header).strip().lower())).strip("_")


def plan_columns(headers: list[str], mapping: dict[str, str], *,
                 fields: tuple[str, ...] = FIELDS, aliases: dict[str, str] = ALIASES,
                 required: tuple[str, ...] = REQUIRED) -> tuple[dict[int, str], list[str],
                                                                list[str]]:
    """Column index → field, the unknown headers, and file-level problems (personal data
    columns, a column given twice, a required column missing). ``fields``, ``aliases`` and
    ``required`` are the audit import's unless another file (a caseload) names its own."""
    saved = {normalise_header(k): v for k, v in mapping.items()}
    columns: dict[int, str] = {}
    unknown: list[str] = []
    problems: list[str] = []
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        target = saved.get(key) or (key if key in fields else aliases.get(key))
        # A column that names personal data is refused even when mapped to a field by hand
        # (--map "Child Name=findings" once stored the child's name).
        if PERSONAL_DATA.search(key) and key not in fields and key not in aliases:
            problems.append(f'column "{header}" looks like personal data. Sefton QA stores case '
                            "references only: remove this column and import again.")
            continue
        if target is None:
            unknown.append(header)
        elif target in columns.values():
            problems.append(f'column "{header}" is a second "{target}" column')
        else:
            columns[index] = target
    for needed in required:
        if needed not in columns.values():
            problems.append(f'the required column "{needed}" is missing')
    return columns, unknown, problems


def parse_grade(value: Any, allowed: set[Grade]) -> Grade:
    text = _SPACES.sub(" ", str(value).strip().lower())
    grade = GRADE_SPELLINGS.get(text)
    if grade is None or grade not in allowed:
        names = ", ".join(GRADE_LABELS[g] for g in sorted(allowed, key=lambda g: -g.rank))
        raise ValueError(f'"{value}" is not a grade on this store\'s scale ({names}, or RI)')
    return grade


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's serial day numbers up to 9999-12-31
            return excel_serial_to_date(value)
        raise ValueError(f'"{value}" is not a date')
    text = str(value).strip()
    match = _ISO_DATE.match(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        match = _UK_DATE.match(text)
        if match:
            day, month, year = int(match[1]), int(match[2]), match[3]
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            if month > 12:
                raise ValueError(f'"{text}" is not a date: dates are read day first '
                                 "(31/05/2024), and there is no month " + str(month))
            return dt.date(full_year, month, day)
        if _SERIAL.fullmatch(text) and 20000 <= float(text) < 80000:
            return excel_serial_to_date(float(text))
    except ValueError as exc:
        if "day first" in str(exc):
            raise
        raise ValueError(f'"{text}" is not a date') from None
    raise ValueError(f'"{text}" is not a date (use 31/05/2024 or 2024-05-31)')


def parse_audit_type(value: Any) -> AuditType:
    text = _SEPARATORS.sub(" ", str(value).strip().lower())
    if not text:
        return AuditType.DEEP_DIVE
    if text in AUDIT_TYPE_SPELLINGS:
        return AUDIT_TYPE_SPELLINGS[text]
    raise ValueError(f'"{value}" is not an audit type (deep dive, themed or dip sample)')


def parse_selection(value: Any) -> Selection:
    text = _SEPARATORS.sub(" ", str(value).strip().lower())
    if not text:
        return Selection.UNKNOWN
    if text in SELECTION_SPELLINGS:
        return SELECTION_SPELLINGS[text]
    raise ValueError(f'"{value}" is not a way of choosing cases (random draw, chosen, '
                     'referred or not recorded)')


def _findings_text(value: Any, escaped: bool) -> str:
    """Findings keep their own spacing (a finding may begin with a tab or a new line)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unescape_cell(value) if escaped else value
    return _cell_text(value, escaped)


def _cell_text(value: Any, escaped: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return (unescape_cell(value) if escaped else value).strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass
class _Row:
    number: int
    case_reference: str = ""
    audit_date: dt.date | None = None
    service_area: str = ""
    team: str = ""
    auditor: str = ""
    grade: Grade | None = None
    audit_type: AuditType = AuditType.DEEP_DIVE
    themes: list[str] = field(default_factory=list)
    findings: str = ""
    moderator: str = ""
    moderated_grade: Grade | None = None
    moderation_date: dt.date | None = None
    selection: Selection = Selection.UNKNOWN


def _cached(parser):
    """Wrap a parser so each distinct raw value is parsed once (files repeat dates, grades)."""
    cache: dict = {}

    def parse(raw):
        key = (type(raw), raw)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = cache[key] = (parser(raw), None)
            except ValueError as exc:
                hit = cache[key] = (None, str(exc))
        return hit

    return parse


def _parse_rows(rows, columns: dict[int, str], allowed: set[Grade], problems, *,
                escaped: bool, today: dt.date, pattern: str, hint: str):
    """Parse each row as it is read, collecting every problem that needs no lookup in the
    store; yields the rows (problems or not) one at a time."""
    index = {f: i for i, f in columns.items()}
    absent = 1 << 30  # (the index of a column the file lacks: past every row's end)
    at = {name: index.get(name, absent) for name in FIELDS}
    date_of = _cached(parse_date)
    grade_of = _cached(lambda raw: parse_grade(raw, allowed))
    type_of = _cached(parse_audit_type)
    selection_of = _cached(parse_selection)
    number = 0
    cells: list = []
    width = 0

    def cell(name: str):
        i = at[name]
        return cells[i] if i < width else None

    def bad(column: str, message: str) -> None:
        problems.append(f"row {number}, {column}: {message}")

    def text(name: str) -> str:
        i = at[name]
        value = cells[i] if i < width else None
        if value.__class__ is str and not (escaped and value[:1] == "'"):
            return value.strip()  # (most cells: text with no apostrophe to undo)
        return _cell_text(value, escaped)

    for number, cells in rows:
        width = len(cells)
        row = _Row(number, case_reference=text("case_reference"),
                   service_area=text("service_area"), team=text("team"),
                   auditor=text("auditor"), findings=_findings_text(cell("findings"), escaped),
                   moderator=text("moderator"))
        try:
            ok = reference_matches(pattern, row.case_reference)
        except PatternTooSlow as exc:
            raise ImportStopped(f"The import stopped at row {number}: {exc}") from None
        if not ok:
            bad("case_reference", case_reference_problem(row.case_reference, pattern, hint))
        for name in ("service_area", "team", "auditor"):
            if not getattr(row, name):
                bad(name, "is empty")
        for name, required in (("audit_date", True), ("moderation_date", False)):
            raw = cell(name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if required:
                    bad(name, "is empty")
                continue
            value, error = date_of(raw.strip() if isinstance(raw, str) else raw)
            if error:
                bad(name, error)
                continue
            if value > today:
                bad(name, f"{date_text(value)} is in the future")
            setattr(row, name, value)
        for name, required in (("grade", True), ("moderated_grade", False)):
            raw = text(name)
            if not raw:
                if required:
                    bad(name, "is empty")
                continue
            value, error = grade_of(raw)
            if error:
                bad(name, error)
            else:
                setattr(row, name, value)
        value, error = type_of(text("audit_type"))
        if error:
            bad("audit_type", error)
        else:
            row.audit_type = value
        value, error = selection_of(text("selection"))
        if error:
            bad("selection", error)
        else:
            row.selection = value
        themes = text("themes")
        row.themes = [t.strip() for t in themes.split(";") if t.strip()] if themes else []
        moderation = (bool(row.moderator), row.moderated_grade is not None,
                      row.moderation_date is not None)
        if any(moderation) and not all(moderation):
            bad("moderator", "moderator, moderated_grade and moderation_date go together: give "
                             "all three or none")
        if row.moderation_date and row.audit_date and row.moderation_date < row.audit_date:
            bad("moderation_date", "is before the audit date")
        yield row


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _RollBack(Exception):
    """Raised inside the import transaction to undo it."""


class Problems:
    """Problems as they are found: the first MAX_PROBLEMS_LISTED kept, all of them counted
    (a file with a problem in each of a million rows is not held as a million sentences)."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.total = 0

    def append(self, problem: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS_LISTED:
            self.kept.append(problem)

    def extend(self, problems) -> None:
        for problem in problems:
            self.append(problem)

    def __bool__(self) -> bool:
        return self.total > 0


def _key_digest(case_reference: str, audit_date: dt.date, auditor: object) -> bytes:
    """A fixed-size stand-in (16 bytes) for a row's duplicate key, so a file of a million
    rows is checked for repeats without holding a million keys' text."""
    return hashlib.blake2b(f"{case_reference}\x1f{audit_date.isoformat()}\x1f{auditor}"
                           .encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class _Missing:
    """A name the file uses that the store does not hold: how it is spelled first, and the
    rows that use it (the first few, and how many)."""

    name: str
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def seen_in(self, number: int) -> None:
        if not self.rows or self.rows[-1] != number:
            self.count += 1
            if len(self.rows) < 9:
                self.rows.append(number)

    def rows_text(self) -> str:
        shown = ", ".join(map(str, self.rows[:8])) + (" …" if self.count > 8 else "")
        return f"row{'s' if self.count > 1 else ''} {shown}"


class _Names:
    """The store's service areas, teams, staff and themes by name (read once, before the
    file), the names the file adds, and stand-in ids for those until they are created."""

    KINDS = ("service_areas", "teams", "staff", "themes")

    def __init__(self, conn) -> None:
        self.areas = {a.name.lower(): a.id for a in area_store.list_all(conn)}
        self.teams = {(t.service_area_id, t.name.lower()): t.id for t in team_store.list_all(conn)}
        self.people: dict[str, int] = {}
        for person in staff_store.list_all(conn):
            self.people.setdefault(person.display_name.lower(), person.id)
            if person.os_username:
                self.people.setdefault(person.os_username.lower(), person.id)
        self.themes = {t.name.lower(): t.id for t in theme_store.list_all(conn)}
        self.missing: dict[str, dict[str, _Missing]] = {k: {} for k in self.KINDS}
        self.moderators: set[str] = set()  # (lower-cased) new staff who moderate
        self.new_teams: dict[str, tuple[str, str]] = {}  # label -> (team, service area)

    def note(self, kind: str, name: str, known, number: int) -> bool:
        """Note a name the store does not hold; True when it is new."""
        if not name or name.lower() in known:
            return False
        entry = self.missing[kind].get(name.lower())
        if entry is None:
            entry = self.missing[kind][name.lower()] = _Missing(name)
        entry.seen_in(number)
        return True

    def team_label(self, row: _Row) -> str | None:
        """The team's label when it is new (not in the store for its service area)."""
        area_id = self.areas.get(row.service_area.lower())
        if row.team and (area_id is None or (area_id, row.team.lower()) not in self.teams):
            return f"{row.team} ({row.service_area})"
        return None

    def key_of(self, kind: str, name: str, known: dict) -> object:
        """The store's id of a name, or a stand-in for a name still to be created."""
        found = known.get(name.lower())
        return found if found is not None else f"new {kind}:{name.lower()}"

    def names(self) -> dict[str, list[str]]:
        return {k: [m.name for m in self.missing[k].values()] for k in self.KINDS
                if self.missing[k]}


class _Checker:
    """The checks of every row, in one pass over the file and without the writer lock: each
    row's own problems, the names the store lacks (or the new names' own problems), the
    moderations in the file, the duplicates (in the store or earlier in the file, as 16-byte
    digests), and what adding the audits would refuse."""

    def __init__(self, session: Session, report: ImportReport, names: _Names, *,
                 create_missing: bool, validate: bool) -> None:
        self.session = session
        self.report = report
        self.names = names
        self.create_missing = create_missing
        self.validate = validate  # (an import's writing pass checks the same, once)
        self.admin = Role.ADMINISTRATOR in session.actor.roles
        self.parse = Problems()
        self.new_names = Problems()  # the names "create what is missing" would refuse
        self.moderation = Problems()
        self.validation = Problems()
        self.verdicts: dict[str, FieldProblem | None] = {}
        self.moderated: list[int] = []  # (the first rows that hold a moderation)
        self.moderated_count = 0
        self.roles: dict[int, bool] = {}  # staff id -> is a moderator
        self.seen: set[bytes] = set()
        self.batch: list[tuple[_Row, bytes, bool]] = []
        self.lookups = audit_service._lookups(session.store.conn)  # (added to, below)
        self.stand_ins: dict[object, int] = {}
        self.added = 0

    # -- names --------------------------------------------------------------------------------
    def _name_check(self, number: int, column: str, name: str, which: str = "") -> None:
        if name not in self.verdicts:
            self.verdicts[name] = org._name_problem("name", name)  # the service's own rules
        problem = self.verdicts[name]
        if problem is not None:
            advice = "shorten it" if len(name) > org.MAX_NAME else "correct it"
            self.new_names.append(f"row {number}, {column}: the name{which} {problem.message}; "
                                  f"{advice} in the file")

    def _names_of(self, row: _Row) -> None:
        names, number = self.names, row.number
        new_area = names.note("service_areas", row.service_area, names.areas, number)
        new_people = [names.note("staff", person, names.people, number)
                      for person in (row.auditor, row.moderator)]
        new_themes = [names.note("themes", theme, names.themes, number) for theme in row.themes]
        label = names.team_label(row)
        if label is not None:
            names.note("teams", label, (), number)
            names.new_teams.setdefault(label.lower(), (row.team, row.service_area))
        if row.moderator and new_people[1]:
            names.moderators.add(row.moderator.lower())
        if not self.create_missing:
            return
        if new_area:
            self._name_check(number, "service_area", row.service_area)
        if label is not None:
            self._name_check(number, "team", row.team)
        for column, new in zip(("auditor", "moderator"), new_people):
            if new:
                self._name_check(number, column, getattr(row, column))
        for position, (theme, new) in enumerate(zip(row.themes, new_themes), 1):
            if new:
                which = f" of theme {position}" if len(row.themes) > 1 else ""
                self._name_check(number, "themes", theme, which)

    # -- moderations ----------------------------------------------------------------------------
    def _moderation_of(self, row: _Row) -> None:
        """A moderation in the file stands for a second person's check, so it must be one:
        only an administrator imports them; the moderator holds the moderator role (inactive
        is fine for history) and is never the audit's auditor. Otherwise a QA officer could
        import her own inadequate audit "moderated to good" by a colleague, and it would
        never reach the moderation queue."""
        if not row.moderator:
            return
        self.moderated_count += 1
        if len(self.moderated) < 11:
            self.moderated.append(row.number)
        if not self.admin:
            return
        names = self.names
        moderator = names.key_of("staff", row.moderator, names.people)
        if moderator == names.key_of("staff", row.auditor, names.people):
            self.moderation.append(f"row {row.number}, moderator: is the auditor; a moderator "
                                   "is never the audit's own auditor")
        elif isinstance(moderator, int):
            if moderator not in self.roles:
                person = staff_store.get(self.session.store.conn, moderator)
                self.roles[moderator] = person is None or Role.MODERATOR in person.roles
            if not self.roles[moderator]:
                self.moderation.append(
                    f'row {row.number}, moderator: "{row.moderator}" is not a moderator; give '
                    "them the moderator role under Settings → Staff first")

    # -- duplicates and what adding the audits checks -----------------------------------------
    def row(self, row: _Row) -> None:
        self._names_of(row)
        self._moderation_of(row)
        if row.audit_date is None:
            return  # (a problem of its own already)
        auditor = self.names.key_of("staff", row.auditor, self.names.people)
        digest = _key_digest(row.case_reference, row.audit_date, auditor)
        repeated = digest in self.seen
        self.seen.add(digest)
        self.batch.append((row, digest, repeated))
        if len(self.batch) >= IMPORT_BATCH:
            self.flush()

    def flush(self) -> None:
        """The batch's duplicates of audits in the store (read, not locked), then what adding
        the others would refuse."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        conn = self.session.store.conn
        held = {(ref, date, auditor) for ref, date, auditor
                in audit_store.existing_keys(conn, (r.case_reference for r, _d, _n in batch))}
        report = self.report
        for row, _digest, repeated in batch:
            auditor = self.names.people.get(row.auditor.lower())
            if repeated or (row.case_reference, row.audit_date.isoformat(), auditor) in held:
                report.duplicate_count += 1
                if len(report.duplicates) < MAX_PROBLEMS_LISTED:
                    report.duplicates.append(row.number)
                continue
            self.added += 1
            if self.validate and not (self.parse or self.new_names):
                self._validate(row)

    def _stand_in(self, kind: str, key: object) -> int:
        """An id for a name still to be created, with an active record in the look-ups."""
        found = self.stand_ins.get((kind, key))
        if found is None:
            found = self.stand_ins[(kind, key)] = -1 - len(self.stand_ins)
        return found

    def _validate(self, row: _Row) -> None:
        names, lookups = self.names, self.lookups
        area_id = names.areas.get(row.service_area.lower())
        if area_id is None:
            area_id = self._stand_in("area", row.service_area.lower())
            lookups.areas.setdefault(area_id, ServiceArea(area_id, row.service_area))
        team_id = names.teams.get((area_id, row.team.lower()))
        if team_id is None:
            team_id = self._stand_in("team", (area_id, row.team.lower()))
            lookups.teams.setdefault(team_id, Team(team_id, row.team, area_id, None))
        auditor_id = names.people.get(row.auditor.lower())
        if auditor_id is None:
            auditor_id = self._stand_in("staff", row.auditor.lower())
            lookups.staff.setdefault(auditor_id, Staff(auditor_id, row.auditor, None,
                                                       frozenset({Role.QA_OFFICER}), None, True))
        theme_ids = set()
        for theme in row.themes:
            theme_id = names.themes.get(theme.lower())
            if theme_id is None:
                theme_id = self._stand_in("theme", theme.lower())
                lookups.themes.setdefault(theme_id, Theme(theme_id, theme))
            theme_ids.add(theme_id)
        inp = _input(row, area_id, team_id, auditor_id, sorted(theme_ids))
        for p in audit_service.validate(inp, lookups, today=self.session.today(),
                                        complete=True):
            self.validation.append(str(FieldProblem(f"row {row.number}, {p.field}",
                                                    p.message)))

    # -- the verdict ----------------------------------------------------------------------------
    def problems(self) -> Problems:
        """Every problem, in the order they were always reported: each row's own, then the
        names; the moderations only when those are right; then what adding would refuse."""
        self.flush()
        out = Problems()
        for found in (self.parse, self._missing_problems(), self.new_names):
            out.extend(found.kept)
            out.total += found.total - len(found.kept)
        if out:
            return out
        for found in (self._moderation_problems(), self.validation):
            if found:
                return found
        return out

    def _missing_problems(self) -> Problems:
        out = Problems()
        missing = self.names.missing
        if self.create_missing or not any(missing.values()):
            return out
        for name in missing["service_areas"].values():
            out.append(f'service area "{name.name}" is not known ({name.rows_text()})')
        for label in missing["teams"].values():
            out.append(f'team "{label.name}" is not known ({label.rows_text()})')
        for name in missing["staff"].values():
            out.append(f'member of staff "{name.name}" is not known ({name.rows_text()})')
        for name in missing["themes"].values():
            out.append(f'theme "{name.name}" is not known ({name.rows_text()})')
        out.append("add them in Settings first, or import with --create-missing "
                   '("Create what is missing" in the app)')
        return out

    def _moderation_problems(self) -> Problems:
        if self.moderated_count and not self.admin:
            out = Problems()
            out.append(f"rows {', '.join(str(n) for n in self.moderated[:10])}"
                       f"{' and more' if self.moderated_count > 10 else ''}: only an "
                       "administrator may import moderations (the moderator, moderated_grade "
                       "and moderation_date columns); leave them out and the audits are "
                       "flagged for moderation as usual")
            return out
        return self.moderation


def _input(row: _Row, area_id: int, team_id: int | None, auditor_id: int,
           theme_ids: list[int]) -> AuditInput:
    return AuditInput(
        case_reference=row.case_reference, audit_type=row.audit_type,
        audit_date=row.audit_date, service_area_id=area_id, team_id=team_id,
        auditor_id=auditor_id, overall_grade=row.grade, theme_ids=theme_ids,
        findings=row.findings, selection=row.selection)


def import_audits(session: Session, path: str | Path, *, dry_run: bool = False,
                  create_missing: bool = False, mapping: dict[str, str] | None = None,
                  save_mapping: bool = False, progress: Progress | None = None) -> ImportReport:
    """Check the whole file, then add its audits in one transaction, or nothing at all.

    The file is read twice, a row at a time: first to check every row (without holding the
    writer lock: a dry run ends there), then, when there is no problem, to write the audits
    in batches inside one transaction. (What adding an audit checks against the store, such
    as a service area no longer in use, is checked in the first pass of a dry run; an import
    leaves it to the writing pass, which checks it once and rolls everything back.)
    ``mapping`` maps the file's own headers to fields (merged over the saved mappings).
    Returns a report; ``report.ok`` is False (and nothing was written) when there are
    problems: the first 1,000 are listed, all are counted. A file that is not a sane
    spreadsheet raises :class:`SpreadsheetError`.
    """
    session.require(Role.QA_OFFICER, Role.ADMINISTRATOR, doing="import audits")
    path = Path(path)

    def report_progress(done: int, total: int, message: str) -> None:
        if progress is not None and progress(done, total, message) is False:
            raise ImportCancelled("The import was cancelled; nothing was written.")

    with _gc_paused():
        return _import(session, path, dry_run=dry_run, create_missing=create_missing,
                       mapping=mapping, save_mapping=save_mapping, progress=progress,
                       report_progress=report_progress)


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection while importing: both passes make a few short-lived
    containers per row, and the collector's passes over everything alive cost more than they
    free (about 0.4 s of CPU in a 100,000-row import). Reference counting still frees each
    row's values as the next is read, so memory stays flat; the collector resumes after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(session: Session, path: Path, *, dry_run: bool, create_missing: bool,
            mapping: dict[str, str] | None, save_mapping: bool, progress: Progress | None,
            report_progress) -> ImportReport:
    report = ImportReport(file_name=path.name, dry_run=dry_run)
    report_progress(0, 100, f"Reading {path.name}")
    checked = _check(session, report, path, mapping, create_missing, report_progress)
    if checked is None or not report.ok or dry_run:
        if not report.ok:
            report.duplicates, report.duplicate_count, report.added = [], 0, 0
        if progress is not None:
            progress(100, 100, "Done")
        return report
    columns, names, held = checked
    problems = Problems()
    try:
        with session.store.doing(f"importing audits for {session.actor.display_name}"), \
                session.store.transaction():
            _write(session, report, path, columns, names, problems, held,
                   create_missing=create_missing, report_progress=report_progress)
            if save_mapping and mapping:
                for header, target in mapping.items():
                    import_mappings.put(session.store.conn, header, target, who=session.who)
            if not problems and _file_sha256(path) != report.sha256:
                problems.append(f"{path.name} changed while it was being imported; import it "
                                "again")
            if problems:
                raise _RollBack()
    except _RollBack:
        pass
    if problems:
        report.problems, report.problem_count = problems.kept, problems.total
        report.added = 0
    if progress is not None:
        progress(100, 100, "Done")  # the work is committed (or not): too late to cancel
    return report


def _check(session: Session, report: ImportReport, path: Path, mapping, create_missing: bool,
           report_progress):
    """The first pass: the report's problems (if any), or the columns and names to write."""
    conn = session.store.conn
    sheet = open_sheet(path, progress=lambda d, t: report_progress(
        int(40 * d / max(t, 1)), 100, f"Reading {path.name}"))
    report.sha256 = _file_sha256(path)
    report.headers = sheet.headers
    report.lines_in_file, report.encoding_note = sheet.lines, sheet.encoding_note
    full_mapping = {**import_mappings.get_all(conn), **(mapping or {})}
    columns, report.unknown_columns, problems = plan_columns(sheet.headers, full_mapping)
    report.mapping = {sheet.headers[i]: f for i, f in columns.items()}
    if problems:
        report.problems, report.problem_count = problems, len(problems)
        return None
    names = _Names(conn)
    checker = _Checker(session, report, names, create_missing=create_missing,
                       validate=report.dry_run)
    for row in _parse_rows(_previewed(sheet, report), columns, set(grade_store.active(conn)),
                           checker.parse, escaped=sheet.formula_escaped, today=session.today(),
                           pattern=settings_store.get(conn, "case_reference_pattern",
                                                      DEFAULT_CASE_REFERENCE_PATTERN),
                           hint=settings_store.get(conn, "case_reference_hint",
                                                   DEFAULT_CASE_REFERENCE_HINT)):
        checker.row(row)
    report.lines_in_file = sheet.lines
    if not report.rows_read:
        report.problems = [f"{path.name} has a header row but no audits"]
        report.problem_count = 1
        return None
    report_progress(50, 100, "Checking rows")
    report.missing = names.names()
    if report.missing and create_missing:
        session.require(Role.ADMINISTRATOR, doing="create service areas, teams, staff or "
                                                  "themes during an import")
        report.created = {k: list(v) for k, v in report.missing.items()}
    found = checker.problems()
    report.problems, report.problem_count = found.kept, found.total
    report.added = checker.added
    return columns, names, sheet.held


def _previewed(sheet, report: ImportReport):
    """The sheet's rows, counted, the first ten kept for the report's preview."""
    for number, cells in sheet:
        report.rows_read += 1
        if len(report.preview) < 10:
            report.preview.append((number, cells))
        yield number, cells


def _create_missing(session: Session, names: _Names) -> None:
    missing = names.missing
    try:
        for entry in missing["service_areas"].values():
            names.areas[entry.name.lower()] = org.add_service_area(session, entry.name).record_id
        for team, area in names.new_teams.values():
            area_id = names.areas[area.lower()]
            if (area_id, team.lower()) not in names.teams:
                names.teams[(area_id, team.lower())] = org.add_team(session, team,
                                                                    area_id).record_id
        for key, entry in missing["staff"].items():
            roles = [Role.QA_OFFICER] + ([Role.MODERATOR] if key in names.moderators else [])
            names.people[key] = org.add_staff(session, entry.name, roles=roles).record_id
        for key, entry in missing["themes"].items():
            names.themes[key] = org.add_theme(session, entry.name).record_id
    except ValidationError as exc:  # a rule the check does not know (yet): reported
        raise _Stop(f"what is missing cannot be created: {exc}") from None


class _Stop(Exception):
    """A problem found while writing: everything is rolled back."""


def _write(session: Session, report: ImportReport, path: Path, columns: dict[int, str],
           names: _Names, problems: Problems, held: list | None, *, create_missing: bool,
           report_progress) -> None:
    """The second pass, inside the transaction: the names created, then the audits added in
    batches (with their moderations and flags), the file's record last."""
    conn = session.store.conn
    try:
        if create_missing and any(names.missing.values()):
            _create_missing(session, names)
        if held is None:
            sheet = open_sheet(path)
            source, escaped = sheet, sheet.formula_escaped
        else:  # a workbook, already held whole (as calamine holds it): not read again
            source, escaped = held, False
        seen: set[bytes] = set()
        reason = f"Imported from {report.file_name} (SHA-256 {report.sha256})"
        batch: list[_Row] = []
        written = skipped = 0
        to_write = max(report.added, 1)
        rows = _parse_rows(source, columns, set(grade_store.active(conn)), problems,
                           escaped=escaped, today=session.today(),
                           pattern=settings_store.get(conn, "case_reference_pattern",
                                                      DEFAULT_CASE_REFERENCE_PATTERN),
                           hint=settings_store.get(conn, "case_reference_hint",
                                                   DEFAULT_CASE_REFERENCE_HINT))
        report_progress(55, 100, f"Saving {report.added:,} audits")
        for row in rows:
            if problems:
                raise _Stop()  # (the file changed since it was checked)
            batch.append(row)
            if len(batch) >= IMPORT_BATCH:
                added, dropped = _write_batch(session, batch, names, seen, reason)
                written, skipped, batch = written + added, skipped + dropped, []
                report_progress(55 + int(44 * written / to_write), 100,
                                f"Saving {report.added:,} audits")
        added, dropped = _write_batch(session, batch, names, seen, reason)
        written, skipped = written + added, skipped + dropped
        if problems:
            raise _Stop()
    except _Stop as stop:
        if stop.args:
            problems.append(stop.args[0])
        return
    except ValidationError as exc:
        problems.extend(str(p) for p in exc.problems)
        return
    report.added = written
    file_transfers.insert(conn, {"direction": "import", "file_name": report.file_name,
                                 "sha256": report.sha256, "date_from": None, "date_to": None,
                                 "rows_written": written, "rows_skipped": skipped},
                          who=session.who)


def _write_batch(session: Session, rows: list[_Row], names: _Names, seen: set[bytes],
                 reason: str) -> tuple[int, int]:
    """Add a batch's audits (those not already in the store or earlier in the file), their
    moderations and their flags: (added, skipped)."""
    if not rows:
        return 0, 0
    conn = session.store.conn
    held = audit_store.existing_keys(conn, (r.case_reference for r in rows))
    inputs: list[AuditInput] = []
    labels: list[str] = []
    kept: list[_Row] = []
    for row in rows:
        area_id = names.areas[row.service_area.lower()]
        auditor_id = names.people[row.auditor.lower()]
        digest = _key_digest(row.case_reference, row.audit_date, auditor_id)
        if digest in seen or (row.case_reference, row.audit_date.isoformat(),
                              auditor_id) in held:
            seen.add(digest)
            continue
        seen.add(digest)
        inputs.append(_input(row, area_id, names.teams.get((area_id, row.team.lower())),
                             auditor_id, sorted({names.themes[t.lower()] for t in row.themes})))
        labels.append(f"row {row.number}")
        kept.append(row)
    if not inputs:
        return 0, len(rows)
    change = audit_service.add_audits(session, inputs, submit=True, reason=reason,
                                      kind="import", labels=labels, flag=False)
    moderations = []
    for audit_id, row in zip(change.record_ids, kept):
        if row.moderated_grade is None:
            continue
        moderations.append({
            "audit_id": audit_id, "flagged_because": "imported",
            "moderator_id": names.people[row.moderator.lower()],
            "original_grade": row.grade.value, "moderated_grade": row.moderated_grade.value,
            "moderation_date": row.moderation_date.isoformat(),
            "reason": None if row.moderated_grade == row.grade else reason,
            "status": "done"})
    moderation_store.insert_many(conn, moderations, who=session.who, reason=reason,
                                 kind="import")
    # The rest are flagged as if just submitted: every inadequate one, and the calibration
    # sample of the others.
    moderation_service.flag_submitted(session, change.record_ids)
    return len(inputs), len(rows) - len(inputs)


_PROBLEM_AT = re.compile(r"row (\d+), ([a-z_]+): (.*)", re.DOTALL)
PROBLEM_HEADERS = ("row", "column", "problem")


def problem_rows(report: ImportReport) -> list[list[Any]]:
    """The report's problems as (row, column, problem), for the person fixing the file: the
    first MAX_PROBLEMS_LISTED, then a last line counting the rest."""
    out: list[list[Any]] = []
    for problem in report.problems:
        found = _PROBLEM_AT.fullmatch(problem)
        out.append([int(found[1]), found[2], found[3]] if found else ["", "", problem])
    total = max(report.problem_count, len(report.problems))
    if total > len(report.problems):
        out.append(["", "", f"… and {total - len(report.problems):,} more problems (the first "
                            f"{len(report.problems):,} are listed)"])
    return out


def write_problems(report: ImportReport, path: str | Path) -> int:
    """Write the report's problems to a CSV file (UTF-8 with a BOM, so Excel opens it);
    returns how many problems there are in all."""
    write_csv(Path(path), PROBLEM_HEADERS, problem_rows(report))
    return max(report.problem_count, len(report.problems))


# -- export -------------------------------------------------------------------------------------
EXPORT_HEADERS = ("case_reference", "audit_date", "audit_type", "service_area", "team", "auditor",
                  "grade", "themes", "findings", "moderator", "moderated_grade",
                  "moderation_date", "selection")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    sha256: str


def export_audits(session: Session, path: str | Path, *, date_from: dt.date | None = None,
                  date_to: dt.date | None = None, overwrite: bool = False) -> ExportResult:
    """Write the submitted audits in the range as CSV or XLSX (by the file's extension), with
    the import's columns, safe to open in Excel. The export is recorded in the trail before the
    file is put in place (see :mod:`sefton_qa.services.files`); an existing file is replaced
    only with ``overwrite``."""
    session.require(Role.QA_OFFICER, Role.ADMINISTRATOR, Role.SERVICE_MANAGER, Role.MODERATOR,
                    doing="export audits")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError.single("file", f'"{path.name}" must end in .csv or .xlsx')
    if date_from and date_to and date_to < date_from:
        raise ValidationError.single("to", "is before the start of the range")
    conn = session.store.conn
    with session.store.snapshot():
        rows = audit_store.export_rows(conn, date_from, date_to)
        moderated = moderation_store.latest_done_for_audits(conn, [r[0] for r in rows])
    out = []
    for (audit_id, case_ref, date, audit_type, area, team, auditor, grade, themes, findings,
         selection) in rows:
        moderator, moderated_grade, moderation_date = moderated.get(audit_id, ("", None, ""))
        out.append([case_ref, date, AuditType(audit_type).label, area, team, auditor,
                    Grade(grade).label if grade else "", themes or "", findings or "",
                    moderator or "", Grade(moderated_grade).label if moderated_grade else "",
                    moderation_date or "", Selection(selection).label])
    def write(tmp: Path) -> None:
        (write_csv if suffix == ".csv" else write_xlsx)(tmp, EXPORT_HEADERS, out)

    sha256 = deliver_recorded(session, path, write, overwrite=overwrite, values={
        "direction": "export", "file_name": path.name,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None, "rows_written": len(out),
        "rows_skipped": 0})[0]
    return ExportResult(path=path, rows=len(out), sha256=sha256)


def deliver_recorded(session: Session, path: Path, write, *, values: dict,
                     overwrite: bool = False, reason: str | None = None,
                     also=None) -> tuple[str, int]:
    """Write a file for a person by ``write(temporary path)``, record it in the trail (a
    file_transfers row with its SHA-256, and whatever ``also(conn)`` writes, in the same
    transaction), then put it in place. Returns (SHA-256, transfer id).

    Nothing is left behind on any failure; a file whose record could not be written is never
    delivered, and one that could not be put in place after its record was committed gets a
    second trail row saying so."""
    from sefton_qa.services.files import PendingFile

    pending = PendingFile(path, overwrite=overwrite)
    try:
        try:
            write(pending.path)
            sha256 = _file_sha256(pending.path)
        except OSError as exc:
            raise SeftonError(f"Could not write {path}: {exc.strerror or exc}. Nothing was "
                              "written.") from exc
        try:
            with session.store.transaction() as conn:
                transfer_id = file_transfers.insert(conn, dict(values, sha256=sha256),
                                                    who=session.who, reason=reason)
                if also is not None:
                    also(conn)
        except SeftonError as exc:
            raise SeftonError(f"{exc} The file was not written, since the store could not "
                              "record it.") from exc
        try:
            pending.deliver()
        except OSError as exc:
            with session.store.transaction() as conn:
                file_transfers.mark_not_delivered(conn, transfer_id, exc.strerror or str(exc),
                                                  who=session.who)
            raise SeftonError(f"Could not put {path} in place: {exc.strerror or exc}. The "
                              "trail records that it was not delivered.") from exc
        return sha256, transfer_id
    finally:
        pending.discard()


__all__ = ["import_audits", "export_audits", "write_problems", "ImportReport", "ExportResult",
           "SpreadsheetError",
           "ImportCancelled", "FIELDS", "REQUIRED", "OPTIONAL", "FieldProblem"]
