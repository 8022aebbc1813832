"""Import the caseload (the open cases, exported from the case-management system) as a dated
snapshot; list snapshots and their cases; compare a snapshot with the one before (issue 19).

The import is all or nothing, as the audit import: the whole file is checked first and every
problem reported at once; if there is any, nothing is written. Columns that name personal data
are refused with the audit import's own rule (:data:`import_export.PERSONAL_DATA`): the store
holds case references, never children's names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sefton_qa.domain.errors import NotFound, SeftonError, ValidationError
from sefton_qa.domain.models import Change, Role
from sefton_qa.domain.plans import CASE_TYPES, CaseloadCase, CaseloadSnapshot
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_HINT,
    DEFAULT_CASE_REFERENCE_PATTERN,
    PatternTooSlow,
)
from sefton_qa.domain.reference import matches as reference_matches
from sefton_qa.domain.sampling import normalise_reference
from sefton_qa.domain.wording import date_text
from sefton_qa.services.import_export import (
    MAX_PROBLEMS_LISTED,
    _cell_text,
    _file_sha256,
    parse_date,
)
from sefton_qa.services.import_export import plan_columns as import_columns
from sefton_qa.services.session import Session
from sefton_qa.services.spreadsheets import open_sheet
from sefton_qa.store import caseload as caseload_store
from sefton_qa.store import service_areas as area_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import teams as team_store

REQUIRED = ("case_reference", "team", "case_type", "open_date")
OPTIONAL = ("team_manager", "service_area")
FIELDS = REQUIRED + OPTIONAL
#: Other headers case-management exports use for the same thing.
ALIASES = {"case_ref": "case_reference", "reference": "case_reference",
           "case_number": "case_reference", "case_id": "case_reference",
           "team_name": "team", "allocated_team": "team",
           "type": "case_type", "category": "case_type", "case_category": "case_type",
           "opened": "open_date", "opened_on": "open_date", "date_opened": "open_date",
           "start_date": "open_date", "case_open_date": "open_date",
           "manager": "team_manager", "team_manager_name": "team_manager",
           "tm": "team_manager", "area": "service_area"}

#: Who may import a caseload, and who may read it.
IMPORTERS = (Role.ADMINISTRATOR,)
READERS = (Role.ADMINISTRATOR, Role.SERVICE_MANAGER)


@dataclass
class CaseloadImportReport:
    file_name: str
    sha256: str = ""
    dry_run: bool = False
    taken_on: dt.date | None = None
    rows_read: int = 0
    cases: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    #: Said but not stopping the import (a team manager not matched to staff).
    warnings: list[str] = field(default_factory=list)
    #: Teams (and service areas) the file names that the store did not know.
    missing_teams: list[str] = field(default_factory=list)
    created_teams: list[str] = field(default_factory=list)
    created_areas: list[str] = field(default_factory=list)
    by_team: dict[str, int] = field(default_factory=dict)
    snapshot_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def _problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_LISTED:
            self.problems.append(text)

    def lines(self) -> list[str]:
        out = [f"{self.file_name}: {self.rows_read:,} rows read"]
        if self.unknown_columns:
            out.append("Ignored columns (not used by Sefton QA): " +
                       ", ".join(self.unknown_columns))
        out.extend(f"Warning: {w}" for w in self.warnings)
        if self.created_teams:
            out.append(("Would create" if self.dry_run else "Created") + " teams: " +
                       ", ".join(self.created_teams))
        if self.problems:
            total = max(self.problem_count, len(self.problems))
            out.append(f"{total:,} problem(s); nothing was imported:")
            out.extend(f"  {p}" for p in self.problems)
            if total > len(self.problems):
                out.append(f"  … and {total - len(self.problems):,} more")
            return out
        for team, n in sorted(self.by_team.items()):
            out.append(f"  {team}: {n:,} open case(s)")
        taken = date_text(self.taken_on)
        if self.dry_run:
            out.append(f"Dry run: a snapshot of {self.cases:,} open case(s) taken on {taken} "
                       "would be added; nothing was written.")
        else:
            out.append(f"Imported a snapshot of {self.cases:,} open case(s) taken on {taken} "
                       f"(snapshot {self.snapshot_id}).")
        return out


def plan_columns(headers: list[str]) -> tuple[dict[int, str], list[str], list[str]]:
    """Column index → field, the unknown headers, and file-level problems, by the audit
    import's own rules (personal data refused, a column given twice, one missing)."""
    return import_columns(headers, {}, fields=FIELDS, aliases=ALIASES, required=REQUIRED)


def case_type_label(text: str) -> str:
    """A known case type in its usual words ("CIN" is "Child in need"); any other kept as
    written."""
    key = " ".join(text.strip().lower().replace("_", " ").split())
    return CASE_TYPES.get(key, text.strip())


@dataclass
class _CaseRow:
    number: int
    case_reference: str
    team: str
    service_area: str
    case_type: str
    opened_on: dt.date | None
    team_manager: str


def import_caseload(session: Session, path: str | Path, *, taken_on: dt.date | None = None,
                    create_missing: bool = False, dry_run: bool = False
                    ) -> CaseloadImportReport:
    """Check the whole file, then (unless ``dry_run`` or any problem) write it as one dated
    snapshot, one trailed row per case, in one transaction. ``taken_on`` defaults to today.

    Unknown teams are refused unless ``create_missing`` (then created, in the service area the
    file names, itself created if new). A team manager is matched to a staff record by name;
    when none (or more than one) matches it is left blank with a warning."""
    session.require(*IMPORTERS, doing="import a caseload")
    path = Path(path)
    taken_on = taken_on or session.today()
    report = CaseloadImportReport(file_name=path.name, dry_run=dry_run, taken_on=taken_on)
    if taken_on > session.today():
        raise ValidationError.single("taken_on", "is in the future")
    sheet = open_sheet(path)
    report.sha256 = _file_sha256(path)
    columns, report.unknown_columns, file_problems = plan_columns(list(sheet.headers))
    for problem in file_problems:
        report._problem(problem)
    if file_problems:
        return report
    conn = session.store.conn
    pattern = settings_store.get(conn, "case_reference_pattern", DEFAULT_CASE_REFERENCE_PATTERN)
    hint = settings_store.get(conn, "case_reference_hint", DEFAULT_CASE_REFERENCE_HINT)
    rows: list[_CaseRow] = []
    seen: dict[str, int] = {}
    open_index = next(i for i, name in columns.items() if name == "open_date")
    for number, cells in sheet:
        report.rows_read += 1
        values = {name: _cell_text(cells[i] if i < len(cells) else None,
                                   sheet.formula_escaped) for i, name in columns.items()}
        raw_open = cells[open_index] if open_index < len(cells) else None
        if not any(values.values()):
            report.rows_read -= 1
            continue
        reference = normalise_reference(values.get("case_reference", ""))

        def bad(column: str, message: str) -> None:
            report._problem(f"row {number}, {column}: {message}")

        if not reference:
            bad("case_reference", "is empty")
        else:
            try:
                ok = reference_matches(pattern, reference)
            except PatternTooSlow as exc:
                raise SeftonError(f"The import stopped at row {number}: {exc}") from None
            if not ok:
                bad("case_reference", f'"{reference}" is not a valid case reference ({hint})')
            if reference in seen:
                bad("case_reference", f"{reference} is also on row {seen[reference]}: a case "
                                      "is listed once")
            else:
                seen[reference] = number
        for name in ("team", "case_type"):
            if not values.get(name):
                bad(name, "is empty")
        opened = None
        if not values.get("open_date"):
            bad("open_date", "is empty")
        else:
            try:
                opened = parse_date(values["open_date"] if isinstance(raw_open, str)
                                    else raw_open)
                if opened > taken_on:
                    bad("open_date", f"{date_text(opened)} is after the snapshot's date")
            except ValueError as exc:
                bad("open_date", str(exc))
        rows.append(_CaseRow(number, reference, values.get("team", ""),
                             values.get("service_area", ""),
                             case_type_label(values.get("case_type", "")), opened,
                             values.get("team_manager", "")))
    if not report.rows_read:
        report._problem(f"{path.name} has a header row but no cases")
    team_ids = _resolve_teams(conn, rows, report, create_missing)
    managers = _resolve_managers(conn, rows, report)
    if report.problems or dry_run:
        if not report.problems:
            report.cases = len(rows)
            for row in rows:
                report.by_team[row.team] = report.by_team.get(row.team, 0) + 1
        return report
    with session.store.transaction() as conn:
        created_areas = {}
        for area in report.created_areas:
            created_areas[area.lower()] = area_store.insert(conn, area, who=session.who)
        spelled = {_team_key(row): (row.team, row.service_area) for row in reversed(rows)}
        for key in list(team_ids):
            if team_ids[key] is None:
                team_name, area_name = spelled[key]
                area = area_store.find_by_name(conn, area_name)
                area_id = area.id if area else created_areas[area_name.lower()]
                team_ids[key] = team_store.insert(
                    conn, {"name": team_name, "service_area_id": area_id,
                           "service_manager_id": None, "active": 1}, who=session.who)
        snapshot_id = caseload_store.insert_snapshot(
            conn, {"taken_on": taken_on.isoformat(), "file_name": path.name,
                   "sha256": report.sha256, "case_count": len(rows)}, who=session.who)
        caseload_store.insert_cases(conn, [{
            "snapshot_id": snapshot_id, "case_reference": row.case_reference,
            "team_id": team_ids[_team_key(row)], "case_type": row.case_type,
            "opened_on": row.opened_on.isoformat() if row.opened_on else None,
            "team_manager_id": managers.get(row.team_manager.lower())} for row in rows],
            who=session.who)
    report.snapshot_id = snapshot_id
    report.cases = len(rows)
    for row in rows:
        report.by_team[row.team] = report.by_team.get(row.team, 0) + 1
    return report


def _team_key(row: _CaseRow) -> tuple[str, str]:
    return (row.team.lower(), row.service_area.lower())


def _resolve_teams(conn, rows: list[_CaseRow], report: CaseloadImportReport,
                   create_missing: bool) -> dict[tuple[str, str], int | None]:
    """(team, service area) as written → team id (None: to be created)."""
    areas = {a.id: a.name for a in area_store.list_all(conn)}
    out: dict[tuple[str, str], int | None] = {}
    first_row: dict[tuple[str, str], int] = {}
    for row in rows:
        if not row.team:
            continue
        key = _team_key(row)
        first_row.setdefault(key, row.number)
        if key in out:
            continue
        found = [t for t in team_store.find_by_name(conn, row.team)
                 if not row.service_area or areas[t.service_area_id].lower() == key[1]]
        if len(found) == 1:
            out[key] = found[0].id
        elif len(found) > 1:
            report._problem(f'row {row.number}, team: there are teams called "{row.team}" in '
                            f"{', '.join(sorted(areas[t.service_area_id] for t in found))}: "
                            "add a service_area column to say which")
            out[key] = -1
        else:
            label = row.team + (f" ({row.service_area})" if row.service_area else "")
            report.missing_teams.append(label)
            if not create_missing:
                report._problem(f'row {row.number}, team: "{row.team}" is not a team in this '
                                "store (add it under Settings → Teams, or import with "
                                "--create-missing)")
                out[key] = -1
            elif not row.service_area:
                report._problem(f'row {row.number}, team: "{row.team}" is new; give a '
                                "service_area column so it can be created in its area")
                out[key] = -1
            else:
                out[key] = None
                report.created_teams.append(label)
                if area_store.find_by_name(conn, row.service_area) is None and \
                        row.service_area.lower() not in {a.lower() for a in report.created_areas}:
                    report.created_areas.append(row.service_area)
    return out


def _resolve_managers(conn, rows: list[_CaseRow], report: CaseloadImportReport
                      ) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for row in rows:
        name = row.team_manager
        if not name or name.lower() in out:
            continue
        found = staff_store.find_by_name(conn, name)
        if len(found) == 1:
            out[name.lower()] = found[0].id
        else:
            out[name.lower()] = None
            why = "no member of staff is called that" if not found else \
                f"{len(found)} members of staff are called that"
            report.warnings.append(f'team manager "{name}" (row {row.number}) left blank: '
                                   f"{why}")
    return out


# -- reads -------------------------------------------------------------------------------------------
def list_snapshots(session: Session) -> list[CaseloadSnapshot]:
    """Every snapshot, newest first."""
    session.require(*READERS, doing="see the caseload")
    return caseload_store.list_snapshots(session.store.conn)


def snapshot_cases(session: Session, snapshot_id: int | None = None) -> list[CaseloadCase]:
    """A snapshot's cases (the latest snapshot's when none is named)."""
    session.require(*READERS, doing="see the caseload")
    conn = session.store.conn
    snapshot = _snapshot_or_latest(conn, snapshot_id)
    return caseload_store.cases(conn, snapshot.id)


def _snapshot_or_latest(conn, snapshot_id: int | None) -> CaseloadSnapshot:
    snapshot = caseload_store.get_snapshot(conn, snapshot_id) if snapshot_id is not None \
        else caseload_store.latest_snapshot(conn)
    if snapshot is None:
        raise NotFound("There is no caseload snapshot yet: import the caseload first."
                       if snapshot_id is None else f"There is no caseload snapshot {snapshot_id}.")
    return snapshot


@dataclass(frozen=True)
class SnapshotComparison:
    current: CaseloadSnapshot
    previous: CaseloadSnapshot | None
    opened: tuple[CaseloadCase, ...]  # in the current snapshot, not in the previous one
    closed: tuple[CaseloadCase, ...]  # in the previous snapshot, not in the current one
    moved: tuple[tuple[CaseloadCase, CaseloadCase], ...]  # (before, now): another team

    def lines(self) -> list[str]:
        if self.previous is None:
            return [f"Snapshot {self.current.id} ({date_text(self.current.taken_on)}, "
                    f"{self.current.case_count:,} cases) is the first: nothing to compare."]
        out = [f"Snapshot {self.current.id} ({date_text(self.current.taken_on)}, "
               f"{self.current.case_count:,} cases) against snapshot {self.previous.id} "
               f"({date_text(self.previous.taken_on)}, {self.previous.case_count:,} cases): "
               f"{len(self.opened):,} opened, {len(self.closed):,} closed, "
               f"{len(self.moved):,} moved team."]
        out.extend(f"  opened  {c.case_reference}  {c.team}" for c in self.opened)
        out.extend(f"  closed  {c.case_reference}  {c.team}" for c in self.closed)
        out.extend(f"  moved   {a.case_reference}  {a.team} → {b.team}" for a, b in self.moved)
        return out


def compare_snapshots(session: Session, snapshot_id: int | None = None,
                      previous_id: int | None = None) -> SnapshotComparison:
    """Cases opened and closed since the previous snapshot (or ``previous_id``), and those
    that moved team; the latest snapshot's when none is named."""
    session.require(*READERS, doing="see the caseload")
    conn = session.store.conn
    with session.store.snapshot():
        current = _snapshot_or_latest(conn, snapshot_id)
        previous = caseload_store.get_snapshot(conn, previous_id) if previous_id is not None \
            else caseload_store.previous_snapshot(conn, current)
        if previous_id is not None and previous is None:
            raise NotFound(f"There is no caseload snapshot {previous_id}.")
        now = {c.case_reference: c for c in caseload_store.cases(conn, current.id)}
        before = {c.case_reference: c for c in caseload_store.cases(conn, previous.id)} \
            if previous else {}
    if previous is None:
        return SnapshotComparison(current, None, (), (), ())
    return SnapshotComparison(
        current, previous,
        tuple(now[r] for r in sorted(set(now) - set(before))),
        tuple(before[r] for r in sorted(set(before) - set(now))),
        tuple((before[r], now[r]) for r in sorted(set(now) & set(before))
              if before[r].team_id != now[r].team_id))


def import_change(report: CaseloadImportReport) -> Change:
    """What an import changed, for a view to refresh."""
    return Change("caseload_snapshots", (report.snapshot_id,) if report.snapshot_id else (),
                  "create")
