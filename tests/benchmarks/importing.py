"""The import rate (issue 3): a spreadsheet of audits as a QA team keeps one, as CSV and as
XLSX, imported with ``services.import_export.import_audits(create_missing=True)`` into a fresh
empty store each time.

The files are made once (deterministic, seeded) under the data directory and reused while
their name (rows and FORMAT) is unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from sefton_qa.domain.grades import Grade
from sefton_qa.services.demo import DEMO_STRUCTURE
from sefton_qa.services.import_export import import_audits
from sefton_qa.services.session import Session, sign_in
from sefton_qa.store import open_store

from . import report
from .bare import BareStore
from .report import Row, Target
from .timing import time_in_turn
from .workload import FINDINGS

ROWS = 100_000
FORMAT = 1  # bump when the files' content changes, so they are made again
HEADERS = ("case_reference", "audit_date", "service_area", "team", "auditor", "grade", "themes",
           "findings")
#: The spellings teams use, side by side in one file.
SPELLINGS = {Grade.GOOD: ("Good",), Grade.INADEQUATE: ("Inadequate",),
             Grade.REQUIRES_IMPROVEMENT: ("RI", "Requires improvement to be good")}
GRADE_WEIGHTS = {Grade.GOOD: 25, Grade.REQUIRES_IMPROVEMENT: 50, Grade.INADEQUATE: 25}
FIRST_DAY, LAST_DAY = dt.date(2019, 1, 1), dt.date(2024, 12, 31)  # never in the future
_FIRST = ("Amira", "Ben", "Carys", "Dev", "Elin", "Farah", "Gareth", "Hana", "Imran", "Jess")
_LAST = ("Ashcroft", "Brennan", "Caddick", "Dunmore")
#: Bare: what the file's words mean in the audits table, by plain dict look-ups.
_BARE_GRADES = {s.lower(): g.value for g, spellings in SPELLINGS.items() for s in spellings}


@dataclass(frozen=True)
class Files:
    csv: Path
    xlsx: Path


def _records(n: int, seed: int = 3) -> Iterator[list]:
    """The rows, oldest first: the audit date as a date (each writer formats it)."""
    rng = random.Random(seed)
    teams = [(area, team, weights) for area, names, weights in DEMO_STRUCTURE for team in names]
    auditors = [f"{f} {last}" for f in _FIRST for last in _LAST]
    span = (LAST_DAY - FIRST_DAY).days
    days = sorted(FIRST_DAY + dt.timedelta(days=rng.randrange(span)) for _ in range(n))
    grades, weights = list(GRADE_WEIGHTS), list(GRADE_WEIGHTS.values())
    for i, day in enumerate(days):
        day -= dt.timedelta(days=max(0, day.weekday() - 4))  # a weekday
        area, team, theme_weights = rng.choice(teams)
        grade = rng.choices(grades, weights)[0]
        wanted = {Grade.GOOD: 0, Grade.REQUIRES_IMPROVEMENT: 1, Grade.INADEQUATE: 2}[grade]
        themes = list(dict.fromkeys(rng.choices(list(theme_weights), list(theme_weights.values()),
                                                k=wanted + rng.randint(0, 1))))
        yield [f"LCS-{100_000 + i * 7919 % 900_000}", day, area, team, rng.choice(auditors),
               rng.choice(SPELLINGS[grade]), "; ".join(themes),
               " ".join(rng.sample(FINDINGS[grade], 2))]


def _text_date(day: dt.date, i: int) -> str:
    return day.isoformat() if i % 2 else f"{day:%d/%m/%Y}"


def _write_csv(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:  # Excel's "CSV UTF-8"
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i, record in enumerate(_records(n)):
            record[1] = _text_date(record[1], i)
            writer.writerow(record)


def _write_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Audits")
    sheet.append(HEADERS)
    for i, record in enumerate(_records(n)):
        if i % 3 == 2:  # a real date cell
            cell = WriteOnlyCell(sheet, value=record[1])
            cell.number_format = "DD/MM/YYYY"
            record[1] = cell
        else:
            record[1] = _text_date(record[1], i)
        sheet.append(record)
    book.save(path)


def files(data_dir: Path, n: int) -> Files:
    """The CSV and the XLSX of ``n`` rows, made now if they are missing."""
    out = Files(data_dir / f"import-{n}-v{FORMAT}.csv", data_dir / f"import-{n}-v{FORMAT}.xlsx")
    for path, write in ((out.csv, _write_csv), (out.xlsx, _write_xlsx)):
        if not path.exists():
            print(f"Writing {path} ...", file=sys.stderr, flush=True)
            partial = path.with_name(path.name + ".partial")
            write(partial, n)
            partial.replace(path)  # never a half-written file taken for a whole one
    return out


class Scratch:
    """A fresh empty store (or bare file) for each timed call, made before the clock starts;
    each is removed when the next one of its kind is made, and all of them by close()."""

    def __init__(self, directory: Path, schema: Sequence[str]):
        self.directory = directory
        self.schema = schema
        self.count = 0
        self.session: Session | None = None
        self.bare: BareStore | None = None
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)

    def _path(self, kind: str) -> Path:
        self.count += 1
        return self.directory / f"{kind}-{self.count}.sqlite3"

    def _remove(self, path: Path) -> None:
        for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            f.unlink(missing_ok=True)

    def fresh_session(self, _i: int) -> Session:
        if self.session is not None:
            self.session.store.close()
            self._remove(self.session.store.path)
        store = open_store(self._path("store"))
        self.session = sign_in(store, os_user="bench")
        return self.session

    def fresh_bare(self, _i: int) -> BareStore:
        if self.bare is not None:
            self.bare.close()
            self._remove(self.bare.path)
        self.bare = BareStore.create(self._path("bare"), self.schema)
        return self.bare

    def close(self) -> None:
        if self.session is not None:
            self.session.store.close()
        if self.bare is not None:
            self.bare.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class Phases:
    """When import_audits's progress messages changed: where the time of one run goes."""

    #: What runs between one message and the next (see import_audits).
    STEPS = {"Reading": "the first pass (reading and checking every row, no lock held)",
             "Checking": "the names the file adds",
             "Saving": "the second pass (reading again, writing in batches, committing)"}

    def __init__(self) -> None:
        self.marks: list[tuple[float, str]] = []

    def __call__(self, _done: int, _total: int, message: str) -> None:
        if not self.marks or self.marks[-1][1] != message:
            self.marks.append((time.perf_counter(), message))

    def describe(self) -> str:
        steps = [(b[0] - a[0], self.STEPS.get(a[1].split(" ")[0], a[1]))
                 for a, b in zip(self.marks, self.marks[1:])]
        return ", ".join(f"{what} {seconds:.2f} s" for seconds, what in steps)


def sefton_import(path: Path, n: int, phases: Phases):
    def run(session: Session) -> None:
        phases.marks.clear()
        result = import_audits(session, path, create_missing=True, progress=phases)
        assert result.ok and result.added == n, result.lines()[:5]
    return run


def bare_csv(path: Path, n: int):
    """csv.reader, then executemany of the rows into the bare audits table: the dates made ISO
    and the names made ids by dict look-ups, nothing checked."""
    def run(bare: BareStore) -> None:
        ids: dict[tuple[str, str], int] = {}
        rows = []
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for case_ref, date, area, team, auditor, grade, _themes, findings in reader:
                if "/" in date:
                    d, m, y = date.split("/")
                    date = f"{y}-{m}-{d}"
                rows.append((case_ref, "deep_dive", date,
                             ids.setdefault(("area", area), len(ids) + 1),
                             ids.setdefault(("team", team), len(ids) + 1),
                             ids.setdefault(("staff", auditor), len(ids) + 1), None, None, "{}",
                             _BARE_GRADES[grade.lower()], findings, "submitted", "unknown"))
        bare.insert_batch(rows)
        assert len(rows) == n
    return run


def calamine_read(path: Path, n: int):
    """calamine's rows of the first sheet, as Python values: reading alone (the reader's own
    library, with none of Sefton QA's checks)."""
    def run(_i: int) -> None:
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_path(str(path)) as book:
            rows = sum(1 for _ in book.get_sheet_by_index(0).iter_rows()) - 1
        assert rows == n
    return run


def bench_import(data_dir: Path, n: int, schema: Sequence[str], repeat: int,
                 notes: list[str]) -> list[Row]:
    made = files(data_dir, n)
    target = Target(round(5 * n / ROWS, 2), f"s for {n:,} rows", at_least=False)
    scratch = Scratch(data_dir / "import-scratch", schema)
    rows = []
    phase_notes = []
    try:
        for label, path, bare, bare_setup in (
                ("CSV", made.csv, bare_csv(made.csv, n), scratch.fresh_bare),
                ("XLSX", made.xlsx, calamine_read(made.xlsx, n), None)):
            os.sync()  # what the last store wrote is on disk before the clock starts
            phases = Phases()
            sefton, plain = time_in_turn((sefton_import(path, n, phases), bare), repeat=repeat,
                                         setups=(scratch.fresh_session, bare_setup))
            rows.append(report.duration_row(
                f"import {n:,}-row {label} into an empty store (x{repeat})", n, "rows", sefton,
                plain, target))
            phase_notes.append(f"{label} {sefton.median:.2f} s: {phases.describe()}")
    finally:
        scratch.close()
    size = ", ".join(f"{p.name} {p.stat().st_size / 2**20:,.1f} MiB" for p in (made.csv,
                                                                                 made.xlsx))
    notes += [
        f"Import (issue 3): {size}; columns {', '.join(HEADERS)}; dates as 31/05/2024 and "
        "2024-05-31 text (and real date cells in a third of the XLSX rows); grades spelled "
        "Good, RI, Requires improvement to be good and Inadequate; 0-3 themes; findings about "
        "130 characters; service areas, teams, auditors and themes all new, so created. Each "
        "import_audits(create_missing=True) is timed into a fresh empty store (made before the "
        "clock starts): reading, checking every row, one transaction with the audits, their "
        "themes, trail rows, moderation flags and the file's record. Bare CSV: csv.reader and "
        "one executemany into the store's audits table and indexes in a fresh file (dates made "
        "ISO and names made ids by dict look-ups; nothing checked, no themes, no trail, no "
        "full-text index). Bare XLSX: python-calamine's iteration over every row of the first "
        "sheet, reading alone, nothing written.",
        "Import phases (the last timed run, from its progress messages): "
        + "; ".join(phase_notes) + ".",
    ]
    return rows

