"""The command line for issue 19: caseload, plan, sample and allocations."""

from __future__ import annotations

import csv

import pytest

from sefton_qa import identity
from sefton_qa.cli import main
from sefton_qa.paths import DB_ENV


@pytest.fixture(autouse=True)
def as_admin(monkeypatch, tmp_path):
    monkeypatch.delenv(DB_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_demo_store_has_a_caseload_a_plan_and_a_checked_draw(demo_path, capsys):
    code, out, err = run(capsys, "--db", demo_path, "caseload", "list")
    assert code == 0, err
    assert "cases" in out and "demo-caseload.csv" in out
    code, out, err = run(capsys, "--db", demo_path, "plan", "list")
    assert code == 0 and "quotas proportional" in out
    code, out, err = run(capsys, "--db", demo_path, "sample", "--check")
    assert code == 0, out + err
    assert out.startswith("ok    draw 1")
    code, out, err = run(capsys, "--db", demo_path, "allocations")
    assert code == 0 and "due 31/12/2026" in out


def test_import_draw_check_discard_and_export(demo_path, tmp_path, capsys):
    path = tmp_path / "cases.csv"
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Case ref", "Team", "Case type", "Date opened"])
        for i in range(30):
            out.writerow([f"LCS-8{i:05d}", "MASH Team" if i % 3 else "Permanence Team", "CIN",
                          "2026-01-05"])
    db = ["--db", demo_path]
    code, out, err = run(capsys, *db, "caseload", "import", path, "--dry-run")
    assert code == 0 and "Dry run" in out, err
    code, out, err = run(capsys, *db, "caseload", "import", path)
    assert code == 0 and "Imported a snapshot of 30" in out, err
    code, out, err = run(capsys, *db, "caseload", "compare")
    assert code == 0 and "30 opened" in out
    code, out, err = run(capsys, *db, "sample", "--from", "2027-01-01", "--to", "2027-03-31",
                         "--per-team", 3, "--dry-run")
    assert code == 0 and "Dry run" in out and "MASH Team" in out, err
    code, out, err = run(capsys, *db, "sample", "--from", "2027-01-01", "--to", "2027-03-31",
                         "--per-team", 3, "--seed", 99)
    assert code == 0 and "seed 99 (given)" in out and "Allocated 6 case(s)" in out, err
    code, out, err = run(capsys, *db, "sample", "--from", "2027-01-01", "--to", "2027-03-31")
    assert code == 1 and "discard that draw first" in err
    code, out, err = run(capsys, *db, "sample", "--discard", 2)
    assert code == 1 and "--why" in err
    code, out, err = run(capsys, *db, "sample", "--discard", 2, "--why", "Wrong caseload.")
    assert code == 0, err
    code, out, err = run(capsys, *db, "sample", "--check")
    assert code == 0 and "draw 2 (plan 2, discarded)" in out
    code, out, err = run(capsys, *db, "allocations", "--draw", 1, "--export",
                         tmp_path / "a.xlsx")
    assert code == 0 and "Exported" in out, err
    code, out, err = run(capsys, *db, "verify")
    assert code == 0, out


def test_personal_data_is_refused_by_the_cli(demo_path, tmp_path, capsys):
    path = tmp_path / "cases.csv"
    path.write_text("Case ref,Team,Case type,Date opened,Forename\n"
                    "LCS-800001,MASH Team,CIN,2026-01-05,Sam\n")
    code, out, err = run(capsys, "--db", demo_path, "caseload", "import", path)
    assert code == 1 and "personal data" in out
