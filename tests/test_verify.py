"""verify: integrity, foreign keys, the trail's chain, and records matching their trail."""

from __future__ import annotations

import pytest

from sefton_qa.cli import main
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store, trail


def check(report, name):
    return next(c for c in report.checks if c.name == name)


def verify_path(path):
    with open_store(path, read_only=True) as s:
        return verify_store(s)


def test_demo_store_passes(demo_store):
    report = verify_store(demo_store)
    assert report.ok, report.lines()
    names = [c.name for c in report.checks]
    required = ["integrity_check", "foreign_key_check", "trail chain", "records match trail"]
    assert [n for n in names if n in required] == required
    rows = trail.count(demo_store.conn)
    assert f"{rows:,} rows" in check(report, "trail chain").detail
    # a file with no backup or pack yet: nothing outside it to hold the history to, said so
    assert all(line.startswith("ok") or line.startswith("WARN  anchors")
               for line in report.lines()), report.lines()


def test_empty_store_passes(store):
    assert verify_store(store).ok


@pytest.mark.parametrize("column, value", [("reason", "'tidied up'"),
                                           ("changes", "'{}'"),
                                           ("os_user", "'someone.else'"),
                                           ("at_utc", "'2020-01-01T00:00:00.000000Z'")])
def test_trail_row_edited_by_hand_fails_naming_the_row(demo_path, raw_sql, column, value):
    raw_sql(demo_path, f"UPDATE trail SET {column} = {value} WHERE seq = 123",
            drop_trail_triggers=True)
    report = verify_path(demo_path)
    assert not report.ok
    chain = check(report, "trail chain")
    assert not chain.ok
    assert "trail row 123" in chain.detail
    assert check(report, "integrity_check").ok


def test_dropped_trail_triggers_fail(demo_path, raw_sql):
    # Dropping the append-only triggers is itself reported, even before any row is edited.
    raw_sql(demo_path, "SELECT 1", drop_trail_triggers=True)
    report = verify_path(demo_path)
    assert not report.ok
    failed = [c for c in report.checks if not c.ok]
    assert len(failed) == 1
    assert "trail_is_append_only_update" in failed[0].detail
    assert "trail_is_append_only_delete" in failed[0].detail
    assert check(report, "trail chain").ok and check(report, "records match trail").ok


def test_trail_row_deleted_by_hand_fails(demo_path, raw_sql):
    raw_sql(demo_path, "DELETE FROM trail WHERE seq = 40", drop_trail_triggers=True)
    chain = check(verify_path(demo_path), "trail chain")
    assert not chain.ok and "trail row 41" in chain.detail and "missing" in chain.detail


def test_newest_trail_row_deleted_by_hand_fails(demo_path, raw_sql):
    # The chain that is left is valid; the record no longer matches its trail.
    raw_sql(demo_path, "DELETE FROM trail WHERE seq = (SELECT max(seq) FROM trail)",
            drop_trail_triggers=True)
    report = verify_path(demo_path)
    assert check(report, "trail chain").ok
    assert not check(report, "records match trail").ok
    assert not report.ok


def test_audit_edited_outside_the_app_fails(demo_path, raw_sql):
    raw_sql(demo_path, "UPDATE audits SET overall_grade = 'good', findings = 'all fine' "
                       "WHERE id = 17")
    report = verify_path(demo_path)
    assert check(report, "trail chain").ok  # the trail itself is untouched
    match = check(report, "records match trail")
    assert not match.ok
    assert "audits record 17" in match.detail
    assert "findings" in match.detail and "overall_grade" in match.detail
    assert not report.ok


def test_audit_edited_with_its_version_bumped_still_fails(demo_path, raw_sql):
    raw_sql(demo_path, "UPDATE audits SET findings = 'x', version = version + 1, "
                       "updated_at = '2026-11-24T00:00:00.000000Z' WHERE id = 3")
    match = check(verify_path(demo_path), "records match trail")
    assert not match.ok and "audits record 3" in match.detail


def test_theme_link_added_outside_the_app_fails(demo_path, raw_sql):
    raw_sql(demo_path, "INSERT OR IGNORE INTO audit_themes (audit_id, theme_id) "
                       "SELECT 5, max(id) FROM themes")
    match = check(verify_path(demo_path), "records match trail")
    assert not match.ok and "audits record 5" in match.detail and "themes" in match.detail


def test_record_added_outside_the_app_fails(demo_path, raw_sql):
    raw_sql(demo_path, "INSERT INTO themes (name, active, version, created_at, updated_at) "
                       "VALUES ('Smuggled in', 1, 1, 'x', 'x')")
    match = check(verify_path(demo_path), "records match trail")
    assert not match.ok and "no trail rows" in match.detail


def test_record_deleted_outside_the_app_fails(demo_path, raw_sql):
    raw_sql(demo_path, "DELETE FROM audit_themes WHERE audit_id = 9",
            "DELETE FROM audits WHERE id = 9")
    match = check(verify_path(demo_path), "records match trail")
    assert not match.ok and "audits record 9" in match.detail and "missing" in match.detail


def test_dangling_reference_fails_the_foreign_key_check(demo_path, raw_sql):
    raw_sql(demo_path, "DELETE FROM audits WHERE id = 11")  # its theme links now dangle
    report = verify_path(demo_path)
    fk = check(report, "foreign_key_check")
    if "audit_themes" not in fk.detail:  # the audit had no themes: give it one that dangles
        raw_sql(demo_path, "INSERT INTO audit_themes (audit_id, theme_id) VALUES (11, 1)")
        fk = check(verify_path(demo_path), "foreign_key_check")
    assert not fk.ok and "audit_themes" in fk.detail


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_verify_passes_on_the_demo_store(demo_path, capsys):
    assert main(["--db", str(demo_path), "verify"]) == 0
    out = capsys.readouterr().out
    assert "The store is sound." in out
    assert "FAIL" not in out


def test_cli_verify_fails_on_a_tampered_store(demo_path, raw_sql, capsys):
    raw_sql(demo_path, "UPDATE trail SET reason = 'nobody will notice' WHERE seq = 200",
            drop_trail_triggers=True)
    code = main(["--db", str(demo_path), "verify"])
    out = capsys.readouterr().out
    assert code != 0
    assert "FAILED verification" in out
    assert "trail row 200" in out


def test_cli_verify_fails_when_a_record_was_edited(demo_path, raw_sql, capsys):
    raw_sql(demo_path, "UPDATE audits SET case_reference = 'LCS-000000' WHERE id = 2")
    assert main(["--db", str(demo_path), "verify"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  records match trail: audits record 2" in out


def test_cli_verify_does_not_change_the_store(demo_path, capsys):
    before = demo_path.read_bytes()
    assert main(["--db", str(demo_path), "verify"]) == 0
    assert demo_path.read_bytes() == before


@pytest.mark.parametrize("sql", [
    # the newest trail row's record id as text: sorts after every integer
    "UPDATE trail SET record_id = 'abc' WHERE seq = (SELECT max(seq) FROM trail)",
    # a theme link whose audit id is text (no trail row either)
    "INSERT INTO audit_themes (audit_id, theme_id) VALUES ('zz', 1)",
    # a blob where the trail keeps a number
    "UPDATE trail SET record_id = x'01' WHERE seq = 50",
])
def test_values_the_app_never_writes_are_fail_lines_not_exceptions(demo_path, raw_sql, sql):
    raw_sql(demo_path, "PRAGMA foreign_keys = OFF", sql, drop_trail_triggers=True)
    report = verify_path(demo_path)  # must not raise
    assert not report.ok
    assert any(not c.ok and ("outside the app" in c.detail or "breaks" in c.detail
                             or "never writes" in c.detail or "missing" in c.detail)
               for c in report.checks), report.lines()


def test_a_blob_in_the_newest_trail_rows_is_refused_on_opening(demo_path, raw_sql):
    from sefton_qa.domain.errors import StoreDamaged

    raw_sql(demo_path, "UPDATE trail SET record_id = x'01' "
                       "WHERE seq = (SELECT max(seq) - 3 FROM trail)", drop_trail_triggers=True)
    with pytest.raises(StoreDamaged):
        open_store(demo_path, check=True)
