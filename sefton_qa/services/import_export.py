"""Import audits from the spreadsheets teams keep (CSV, XLSX), and export them again.

Import is all or nothing: the whole file is checked first and every problem is reported at
once, with its row number and column; if there is any, nothing is written. Re-importing the
same rows adds nothing (a duplicate is the same case reference, audit date and auditor).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sefton_qa.domain.errors import FieldProblem, SeftonError, ValidationError
from sefton_qa.domain.grades import GRADE_LABELS, Grade
from sefton_qa.domain.models import AuditInput, AuditType, Role
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
    Sheet,
    SpreadsheetError,
    excel_serial_to_date,
    read_sheet,
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
            "moderation_date")
FIELDS = REQUIRED + OPTIONAL
#: Other headers teams commonly use for the same thing.
ALIASES = {"case_ref": "case_reference", "overall_grade": "grade", "date": "audit_date",
           "area": "service_area", "theme": "themes", "type": "audit_type"}
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
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")

Progress = Callable[[int, int, str], bool | None]


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
    duplicates: list[int] = field(default_factory=list)  # row numbers skipped
    missing: dict[str, list[str]] = field(default_factory=dict)
    created: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
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
        if self.duplicates:
            rows = ", ".join(map(str, self.duplicates[:20]))
            more = f" and {len(self.duplicates) - 20:,} more" if len(self.duplicates) > 20 else ""
            out.append(f"{len(self.duplicates):,} duplicate row(s) skipped (already in the store "
                       f"or earlier in the file): rows {rows}{more}")
        if self.problems:
            out.append(f"{len(self.problems):,} problem(s); nothing was imported:")
            out.extend(f"  {p}" for p in self.problems)
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


def plan_columns(headers: list[str], mapping: dict[str, str]) -> tuple[dict[int, str], list[str],
                                                                     list[str]]:
    """Column index → field, the unknown headers, and file-level problems."""
    saved = {normalise_header(k): v for k, v in mapping.items()}
    columns: dict[int, str] = {}
    unknown: list[str] = []
    problems: list[str] = []
    for index, header in enumerate(headers):
        key = normalise_header(header)
        if not key:
            continue
        target = saved.get(key) or (key if key in FIELDS else ALIASES.get(key))
        # A column that names personal data is refused even when mapped to a field by hand
        # (--map "Child Name=findings" once stored the child's name).
        if PERSONAL_DATA.search(key) and key not in FIELDS and key not in ALIASES:
            problems.append(f'column "{header}" looks like personal data. Sefton QA stores case '
                            "references only: remove this column and import again.")
            continue
        if target is None:
            unknown.append(header)
        elif target in columns.values():
            problems.append(f'column "{header}" is a second "{target}" column')
        else:
            columns[index] = target
    for required in REQUIRED:
        if required not in columns.values():
            problems.append(f'the required column "{required}" is missing')
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


def _parse_rows(sheet: Sheet, columns: dict[int, str], allowed: set[Grade],
                problems: list[str], *, today: dt.date, pattern: str, hint: str) -> list[_Row]:
    """Parse every row, collecting every problem that needs no lookup in the store."""
    index = {f: i for i, f in columns.items()}
    date_of = _cached(parse_date)
    grade_of = _cached(lambda raw: parse_grade(raw, allowed))
    type_of = _cached(parse_audit_type)
    escaped = sheet.formula_escaped
    parsed = []
    for number, cells in sheet.rows:
        width = len(cells)

        def cell(name: str):
            i = index.get(name)
            return cells[i] if i is not None and i < width else None

        def bad(column: str, message: str) -> None:
            problems.append(f"row {number}, {column}: {message}")

        def text(name: str) -> str:
            return _cell_text(cell(name), escaped)

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
        themes = text("themes")
        row.themes = [t.strip() for t in themes.split(";") if t.strip()] if themes else []
        moderation = (bool(row.moderator), row.moderated_grade is not None,
                      row.moderation_date is not None)
        if any(moderation) and not all(moderation):
            bad("moderator", "moderator, moderated_grade and moderation_date go together: give "
                             "all three or none")
        if row.moderation_date and row.audit_date and row.moderation_date < row.audit_date:
            bad("moderation_date", "is before the audit date")
        parsed.append(row)
    return parsed


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _RollBack(Exception):
    """Raised inside the import transaction to undo a dry run."""


def import_audits(session: Session, path: str | Path, *, dry_run: bool = False,
                  create_missing: bool = False, mapping: dict[str, str] | None = None,
                  save_mapping: bool = False, progress: Progress | None = None) -> ImportReport:
    """Check the whole file, then add its audits in one transaction, or nothing at all.

    ``mapping`` maps the file's own headers to fields (merged over the saved mappings).
    Returns a report; ``report.ok`` is False (and nothing was written) when there are problems.
    A file that is not a sane spreadsheet raises :class:`SpreadsheetError`.
    """
    session.require(Role.QA_OFFICER, Role.ADMINISTRATOR, doing="import audits")
    path = Path(path)

    def report_progress(done: int, total: int, message: str) -> None:
        if progress is not None and progress(done, total, message) is False:
            raise ImportCancelled("The import was cancelled; nothing was written.")

    report = ImportReport(file_name=path.name, dry_run=dry_run)
    report_progress(0, 100, f"Reading {path.name}")
    sheet = read_sheet(path, progress=lambda d, t: report_progress(int(40 * d / max(t, 1)), 100,
                                                                   f"Reading {path.name}"))
    report.sha256 = _file_sha256(path)
    report.headers = sheet.headers
    report.rows_read = len(sheet.rows)
    report.lines_in_file, report.encoding_note = sheet.lines, sheet.encoding_note
    report.preview = sheet.rows[:10]
    conn = session.store.conn
    full_mapping = {**import_mappings.get_all(conn), **(mapping or {})}
    columns, report.unknown_columns, problems = plan_columns(sheet.headers, full_mapping)
    report.mapping = {sheet.headers[i]: f for i, f in columns.items()}
    if problems:
        report.problems = problems
        return report
    if not sheet.rows:
        report.problems = [f"{path.name} has a header row but no audits"]
        return report
    allowed = set(grade_store.active(conn))
    rows = _parse_rows(sheet, columns, allowed, problems, today=session.today(),
                       pattern=settings_store.get(conn, "case_reference_pattern",
                                                  DEFAULT_CASE_REFERENCE_PATTERN),
                       hint=settings_store.get(conn, "case_reference_hint",
                                               DEFAULT_CASE_REFERENCE_HINT))
    report_progress(50, 100, "Checking rows")
    try:
        with session.store.doing(f"importing audits for {session.actor.display_name}"), \
                session.store.transaction():
            _import_rows(session, report, rows, problems, create_missing=create_missing,
                         report_progress=report_progress)
            if save_mapping and mapping:
                for header, target in mapping.items():
                    import_mappings.put(session.store.conn, header, target, who=session.who)
            if problems or dry_run:
                raise _RollBack()
    except _RollBack:
        pass
    report.problems = problems
    if problems:
        report.added = 0
    if progress is not None:
        progress(100, 100, "Done")  # the work is committed (or not): too late to cancel
    return report


def _resolve_names(session: Session, report: ImportReport, rows: list[_Row],
                   problems: list[str], create_missing: bool):
    """Find (or create) the service areas, teams, staff and themes the file names."""
    conn = session.store.conn
    areas = {a.name.lower(): a.id for a in area_store.list_all(conn)}
    teams = {(t.service_area_id, t.name.lower()): t.id for t in team_store.list_all(conn)}
    people: dict[str, int] = {}
    for person in staff_store.list_all(conn):
        people.setdefault(person.display_name.lower(), person.id)
        if person.os_username:
            people.setdefault(person.os_username.lower(), person.id)
    themes = {t.name.lower(): t.id for t in theme_store.list_all(conn)}

    def rows_of(pred) -> str:
        numbers = [r.number for r in rows if pred(r)]
        shown = ", ".join(map(str, numbers[:8])) + (" …" if len(numbers) > 8 else "")
        return f"row{'s' if len(numbers) > 1 else ''} {shown}"

    missing: dict[str, list[str]] = {"service_areas": [], "teams": [], "staff": [], "themes": []}
    seen: set[tuple[str, str]] = set()  # (kind, lower-cased name): "Early Help" = "early help"

    def note(kind: str, name: str, known) -> None:
        if name and name.lower() not in known and (kind, name.lower()) not in seen:
            seen.add((kind, name.lower()))
            missing[kind].append(name)

    for row in rows:
        note("service_areas", row.service_area, areas)
        for person in (row.auditor, row.moderator):
            note("staff", person, people)
        for theme in row.themes:
            note("themes", theme, themes)
    for row in rows:
        area_id = areas.get(row.service_area.lower())
        if row.team and (area_id is None or (area_id, row.team.lower()) not in teams):
            label = f"{row.team} ({row.service_area})"
            if ("teams", label.lower()) not in seen:
                seen.add(("teams", label.lower()))
                missing["teams"].append(label)
    report.missing = {k: v for k, v in missing.items() if v}
    if not report.missing:
        return areas, teams, people, themes
    if not create_missing:
        for name in missing["service_areas"]:
            problems.append(f'service area "{name}" is not known ('
                            f"{rows_of(lambda r: r.service_area.lower() == name.lower())})")
        for label in missing["teams"]:
            problems.append(f'team "{label}" is not known ('
                            f"{rows_of(lambda r: f'{r.team} ({r.service_area})'.lower() == label.lower())})")
        for name in missing["staff"]:
            problems.append(f'member of staff "{name}" is not known ({rows_of(lambda r: name.lower() in (r.auditor.lower(), r.moderator.lower()))})')
        for name in missing["themes"]:
            problems.append(f'theme "{name}" is not known ('
                            f"{rows_of(lambda r: name.lower() in (t.lower() for t in r.themes))})")
        problems.append("add them in Settings first, or import with --create-missing "
                        '("Create what is missing" in the app)')
        return areas, teams, people, themes
    session.require(Role.ADMINISTRATOR, doing="create service areas, teams, staff or themes "
                                              "during an import")
    report.created = {k: list(v) for k, v in report.missing.items()}
    problems.extend(_new_name_problems(rows, missing, areas, teams))
    if problems:  # nothing is written, so nothing need be created
        return areas, teams, people, themes
    try:
        for name in missing["service_areas"]:
            areas[name.lower()] = org.add_service_area(session, name).record_id
        for row in rows:
            area_id = areas.get(row.service_area.lower())
            if row.team and area_id and (area_id, row.team.lower()) not in teams:
                teams[(area_id, row.team.lower())] = org.add_team(session, row.team,
                                                                  area_id).record_id
        moderators = {r.moderator.lower() for r in rows if r.moderator}
        for name in missing["staff"]:
            roles = [Role.QA_OFFICER] + ([Role.MODERATOR] if name.lower() in moderators else [])
            people[name.lower()] = org.add_staff(session, name, roles=roles).record_id
        for name in missing["themes"]:
            themes[name.lower()] = org.add_theme(session, name).record_id
    except ValidationError as exc:  # a rule _new_name_problems does not know (yet): reported
        problems.append(f"what is missing cannot be created: {exc}")  # (and rolled back)
    return areas, teams, people, themes


def _new_name_problems(rows: list[_Row], missing: dict[str, list[str]], areas: dict,
                       teams: dict) -> list[str]:
    """The names "create what is missing" would create that the organisation service refuses
    (too long, control or text-direction characters...), as problems of the rows and columns
    that hold them, found before anything is created so that they are reported with the rest.

    ``areas`` and ``teams`` are the ones already in the store.
    """
    new = {kind: {name.lower() for name in names} for kind, names in missing.items()}
    verdicts: dict[str, FieldProblem | None] = {}
    out: list[str] = []

    def check(number: int, column: str, name: str, which: str = "") -> None:
        if name not in verdicts:
            verdicts[name] = org._name_problem("name", name)  # the service's own rules
        problem = verdicts[name]
        if problem is not None:
            advice = "shorten it" if len(name) > org.MAX_NAME else "correct it"
            out.append(f"row {number}, {column}: the name{which} {problem.message}; {advice} "
                       "in the file")

    for row in rows:
        if row.service_area.lower() in new["service_areas"]:
            check(row.number, "service_area", row.service_area)
        area_id = areas.get(row.service_area.lower())
        if row.team and (area_id is None or (area_id, row.team.lower()) not in teams):
            check(row.number, "team", row.team)
        for column in ("auditor", "moderator"):
            name = getattr(row, column)
            if name and name.lower() in new["staff"]:
                check(row.number, column, name)
        for position, theme in enumerate(row.themes, 1):
            if theme.lower() in new["themes"]:
                which = f" of theme {position}" if len(row.themes) > 1 else ""
                check(row.number, "themes", theme, which)
    return out


def _check_imported_moderations(session: Session, rows: list[_Row], people: dict[str, int],
                                problems: list[str]) -> None:
    """A moderation in the file stands for a second person's check, so it must be one: only an
    administrator imports them; the moderator holds the moderator role (inactive is fine for
    history) and is never the audit's auditor; the moderation is not dated before the audit.
    Otherwise a QA officer could import her own inadequate audit "moderated to good" by a
    colleague, and it would never reach the moderation queue."""
    moderated = [r for r in rows if r.moderator]
    if not moderated:
        return
    if Role.ADMINISTRATOR not in session.actor.roles:
        problems.append(f"rows {', '.join(str(r.number) for r in moderated[:10])}"
                        f"{' and more' if len(moderated) > 10 else ''}: only an administrator "
                        "may import moderations (the moderator, moderated_grade and "
                        "moderation_date columns); leave them out and the audits are flagged "
                        "for moderation as usual")
        return
    conn = session.store.conn
    for row in moderated:
        moderator_id = people[row.moderator.lower()]
        person = staff_store.get(conn, moderator_id)
        if moderator_id == people[row.auditor.lower()]:
            problems.append(f"row {row.number}, moderator: is the auditor; a moderator is never "
                            "the audit's own auditor")
        elif person is not None and Role.MODERATOR not in person.roles:
            problems.append(f'row {row.number}, moderator: "{row.moderator}" is not a '
                            "moderator; give them the moderator role under Settings → Staff "
                            "first")
        if row.moderation_date and row.audit_date and row.moderation_date < row.audit_date:
            problems.append(f"row {row.number}, moderation_date: is before the audit date")


def _import_rows(session: Session, report: ImportReport, rows: list[_Row], problems: list[str],
                 *, create_missing: bool, report_progress) -> None:
    conn = session.store.conn
    areas, teams, people, themes = _resolve_names(session, report, rows, problems,
                                                  create_missing)
    if problems:
        return
    inputs: list[AuditInput] = []
    labels: list[str] = []
    kept: list[_Row] = []
    _check_imported_moderations(session, rows, people, problems)
    if problems:
        return
    seen = audit_store.existing_keys(conn, (r.case_reference for r in rows))
    for row in rows:
        area_id = areas[row.service_area.lower()]
        auditor_id = people[row.auditor.lower()]
        key = (row.case_reference, row.audit_date.isoformat(), auditor_id)
        if key in seen:  # already in the store, or earlier in this file
            report.duplicates.append(row.number)
            continue
        seen.add(key)
        inputs.append(AuditInput(
            case_reference=row.case_reference, audit_type=row.audit_type,
            audit_date=row.audit_date, service_area_id=area_id,
            team_id=teams.get((area_id, row.team.lower())), auditor_id=auditor_id,
            overall_grade=row.grade, theme_ids=sorted({themes[t.lower()] for t in row.themes}),
            findings=row.findings))
        labels.append(f"row {row.number}")
        kept.append(row)
    report_progress(70, 100, f"Saving {len(inputs):,} audits")
    reason = f"Imported from {report.file_name} (SHA-256 {report.sha256})"
    try:
        change = audit_service.add_audits(session, inputs, submit=True, reason=reason,
                                          kind="import", labels=labels, flag=False)
    except ValidationError as exc:
        problems.extend(str(p) for p in exc.problems)
        return
    moderations = []
    for audit_id, row in zip(change.record_ids, kept):
        if row.moderated_grade is None:
            continue
        moderations.append({
            "audit_id": audit_id, "flagged_because": "imported",
            "moderator_id": people[row.moderator.lower()], "original_grade": row.grade.value,
            "moderated_grade": row.moderated_grade.value,
            "moderation_date": row.moderation_date.isoformat(),
            "reason": None if row.moderated_grade == row.grade else reason,
            "status": "done"})
    moderation_store.insert_many(conn, moderations, who=session.who, reason=reason,
                                 kind="import")
    # The rest are flagged as if just submitted: every inadequate one, and the calibration
    # sample of the others.
    moderation_service.flag_submitted(session, change.record_ids)
    report.added = len(inputs)
    file_transfers.insert(conn, {"direction": "import", "file_name": report.file_name,
                                 "sha256": report.sha256, "date_from": None, "date_to": None,
                                 "rows_written": len(inputs),
                                 "rows_skipped": len(report.duplicates)}, who=session.who)


# -- export -------------------------------------------------------------------------------------
EXPORT_HEADERS = ("case_reference", "audit_date", "audit_type", "service_area", "team", "auditor",
                  "grade", "themes", "findings", "moderator", "moderated_grade",
                  "moderation_date")


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
    for audit_id, case_ref, date, audit_type, area, team, auditor, grade, themes, findings in rows:
        moderator, moderated_grade, moderation_date = moderated.get(audit_id, ("", None, ""))
        out.append([case_ref, date, AuditType(audit_type).label, area, team, auditor,
                    Grade(grade).label if grade else "", themes or "", findings or "",
                    moderator or "", Grade(moderated_grade).label if moderated_grade else "",
                    moderation_date or ""])
    def write(tmp: Path) -> None:
        (write_csv if suffix == ".csv" else write_xlsx)(tmp, EXPORT_HEADERS, out)

    sha256 = deliver_recorded(session, path, write, overwrite=overwrite, values={
        "direction": "export", "file_name": path.name,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None, "rows_written": len(out),
        "rows_skipped": 0})[0]
    return ExportResult(path=path, rows=len(out), sha256=sha256)


def deliver_recorded(session: Session, path: Path, write, *, values: dict,
                     overwrite: bool = False, reason: str | None = None) -> tuple[str, int]:
    """Write a file for a person by ``write(temporary path)``, record it in the trail (a
    file_transfers row with its SHA-256), then put it in place. Returns (SHA-256, transfer id).

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


__all__ = ["import_audits", "export_audits", "ImportReport", "ExportResult", "SpreadsheetError",
           "ImportCancelled", "FIELDS", "REQUIRED", "OPTIONAL", "FieldProblem"]
