"""The import at scale (issue 18, item 2): the file is checked in a first pass that holds no
writer lock and keeps no rows (problems listed up to a limit and all counted, duplicates as
digests), then written in batches inside one transaction, all or nothing."""

from __future__ import annotations

import csv
import sqlite3
import tracemalloc

import pytest
from import_helpers import counts, row, write_rows
from test_import_export import assert_nothing_written, cli  # noqa: F401 (a fixture)

from sefton_qa.domain.errors import FieldProblem, ValidationError
from sefton_qa.services import audits as audit_service
from sefton_qa.services import import_export
from sefton_qa.services.import_export import import_audits
from sefton_qa.store import trail


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(import_export, "IMPORT_BATCH", 2)


def test_rows_are_written_in_batches_in_one_transaction(admin, org, store, tmp_path,
                                                        small_batches):
    rows = [row(n) for n in range(1, 6)] + [row(1)]  # the last repeats the first
    before = counts(store.conn)
    trail_before = trail.count(store.conn)
    report = import_audits(admin, write_rows(tmp_path / "five.csv", rows))
    assert report.ok, report.problems
    assert report.added == 5 and report.duplicates == [7] and report.duplicate_count == 1
    assert counts(store.conn)["audits"] == before["audits"] + 5
    assert trail.count(store.conn) > trail_before  # (one trail row per record, as ever)
    again = import_audits(admin, write_rows(tmp_path / "again.csv", rows))
    assert again.ok and again.added == 0 and again.duplicate_count == 6


@pytest.mark.parametrize("failure", ["crash", "refused"])
def test_a_failure_mid_write_leaves_no_rows(admin, org, store, tmp_path, small_batches,
                                            monkeypatch, failure):
    path = write_rows(tmp_path / "five.csv", [row(n) for n in range(1, 6)])
    before = counts(store.conn)
    real = audit_service.add_audits
    calls = []

    def add_audits(*args, **kwargs):
        calls.append(len(args[1]))
        if len(calls) == 2:  # the second batch, after the first was written
            if failure == "crash":
                raise RuntimeError("the disk went away")
            raise ValidationError([FieldProblem("row 4, findings", "is refused")])
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_service, "add_audits", add_audits)
    if failure == "crash":
        with pytest.raises(RuntimeError, match="the disk went away"):
            import_audits(admin, path)
    else:
        report = import_audits(admin, path)
        assert not report.ok and report.problems == ["row 4, findings: is refused"]
        assert report.added == 0
    assert calls == [2, 2]
    assert_nothing_written(store, before)


def test_problems_are_listed_up_to_the_limit_and_all_counted(admin, org, store, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr(import_export, "MAX_PROBLEMS_LISTED", 3)
    rows = [row(n, audit_date=f"3{n}/02/2024") for n in range(5)]
    report = import_audits(admin, write_rows(tmp_path / "bad.csv", rows), dry_run=True)
    assert report.problem_count == 5
    assert report.problems == [f'row {n + 2}, audit_date: "3{n}/02/2024" is not a date'
                               for n in range(3)]
    lines = report.lines()
    assert "5 problem(s); nothing was imported:" in lines
    assert "  … and 2 more (the first 3 are listed)" in lines


def test_the_command_line_writes_the_problems_for_whoever_fixes_the_file(
        admin, org, store, tmp_path, cli, capsys):  # noqa: F811 (the fixture)
    rows = [row(1), row(2, grade="Brilliant"), row(3, audit_date="31/02/2024", team="")]
    path = write_rows(tmp_path / "bad.csv", rows)
    problems = tmp_path / "problems.csv"
    before = counts(store.conn)
    code, out, _err = cli(capsys, "import", "--dry-run", "--problems", str(problems), str(path))
    assert code == 1
    assert "3 problem(s) written to" in out
    with open(problems, encoding="utf-8-sig", newline="") as fh:
        saved = list(csv.reader(fh))
    assert saved[0] == ["row", "column", "problem"]
    assert [r[:2] for r in saved[1:]] == [["3", "grade"], ["4", "team"], ["4", "audit_date"]]
    assert saved[1][2].startswith('"Brilliant" is not a grade')
    good = write_rows(tmp_path / "good.csv", [row(1)])
    code, out, _err = cli(capsys, "import", "--dry-run", "--problems", str(problems), str(good))
    assert code == 0 and "No problems" in out
    with open(problems, encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [["row", "column", "problem"]]
    assert_nothing_written(store, before)


@pytest.mark.file_only
def test_the_check_holds_no_writer_lock(admin, org, store, tmp_path):
    """A dry run (the first pass) reads while another program is writing: it never waits
    for the writer lock."""
    path = write_rows(tmp_path / "rows.csv", [row(n) for n in range(1, 4)])
    other = sqlite3.connect(store.path, timeout=0.1)
    other.execute("BEGIN IMMEDIATE")
    try:
        report = import_audits(admin, path, dry_run=True)
    finally:
        other.rollback()
        other.close()
    assert report.ok and report.added == 3


def test_a_file_changed_between_the_passes_is_not_imported(admin, org, store, tmp_path,
                                                           monkeypatch):
    path = write_rows(tmp_path / "rows.csv", [row(n) for n in range(1, 4)])
    before = counts(store.conn)
    real = import_export.open_sheet
    opened = []

    def open_sheet(file, **kwargs):
        opened.append(file)
        if len(opened) == 2:  # the writing pass: someone saved the file meanwhile
            with open(file, "a", encoding="utf-8") as fh:
                fh.write("LCS-100009,31/05/2024,Child Protection,CP Team 1,Alex Auditor,Good\n")
        return real(file, **kwargs)

    monkeypatch.setattr(import_export, "open_sheet", open_sheet)
    report = import_audits(admin, path)
    assert not report.ok
    assert report.problems == ["rows.csv changed while it was being imported; import it again"]
    assert_nothing_written(store, before)


def _peak_of_a_dry_run(admin, path) -> int:
    tracemalloc.start()
    try:
        report = import_audits(admin, path, dry_run=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert report.ok, report.problems[:3]


@pytest.mark.slow
def test_a_csv_dry_run_holds_no_rows(admin, org, store, tmp_path, monkeypatch):
    """Four times the rows, almost the same memory: only a 16-byte digest a row is kept (and
    a batch of rows, looked up in the store together, and a block of the file, decoded
    together: small ones here)."""
    from sefton_qa.services import spreadsheets

    monkeypatch.setattr(import_export, "IMPORT_BATCH", 200)
    monkeypatch.setattr(spreadsheets, "_BLOCK", 64 * 1024)
    small = write_rows(tmp_path / "small.csv", [row(n) for n in range(1, 2_001)])
    large = write_rows(tmp_path / "large.csv", [row(n) for n in range(1, 8_001)])
    low, high = _peak_of_a_dry_run(admin, small), _peak_of_a_dry_run(admin, large)
    assert high - low < 6_000 * 150, (low, high)  # under 150 bytes a row more
