"""History rewrites are caught against anchors kept outside the store (issue 15, item 2).

The attacks, written from store/trail.py's description of the hashing (not by calling the
app's helpers): (1) change an audit and its trail rows, then recompute the SHA-256 chain from
that row on; (2) delete the newest trail rows together with the records they created. Both
pass the chain walk and the replay, as a file alone cannot tell; both fail against an anchor
made before them (a backup's manifest, the anchors file, a pack's printed SEQ:HASH)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3

import pytest

from sefton_qa.cli import main
from sefton_qa.services import audits as audit_service
from sefton_qa.services.backups import make_backup, restore
from sefton_qa.services.reports import committee_pack
from sefton_qa.services.verify import anchors_report, verify_store
from sefton_qa.store import anchors, open_store

pytestmark = [pytest.mark.file_only,  # anchors are kept beside a store file
              pytest.mark.usefixtures("as_admin_user")]

GENESIS = "0" * 64


def content_hash(prev: str, row) -> str:
    """store/trail.py: SHA-256 of the previous hash, a newline and the JSON list [seq, at_utc,
    staff_id, os_user, table_name, record_id, kind, changes_json, reason], with sorted keys,
    no spaces, and non-ASCII kept."""
    seq, at, staff, os_user, table, record, kind, changes, reason = row
    content = json.dumps([seq, at, staff, os_user, table, record, kind, changes, reason],
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev}\n{content}".encode("utf-8")).hexdigest()


def rewrite_findings(path, audit_id: int, text: str) -> None:
    """The attack: edit the record and its trail rows, then recompute every hash after."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("BEGIN")
    for name in ("trail_is_append_only_update", "trail_is_append_only_delete"):
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        conn.execute(f"DROP TRIGGER {name}")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS saved (sql TEXT)")
        conn.execute("INSERT INTO saved VALUES (?)", (sql,))
    conn.execute("UPDATE audits SET findings = ? WHERE id = ?", (text, audit_id))
    for seq, changes in conn.execute("SELECT seq, changes FROM trail WHERE table_name = 'audits' "
                                     "AND record_id = ?", (audit_id,)).fetchall():
        value = json.loads(changes)
        if "findings" in value:
            value["findings"][1] = text
            conn.execute("UPDATE trail SET changes = ? WHERE seq = ?",
                         (json.dumps(value, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False), seq))
    recompute_chain(conn)
    for (sql,) in conn.execute("SELECT sql FROM saved").fetchall():
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


def recompute_chain(conn) -> None:
    prev = GENESIS
    for row in conn.execute("SELECT seq, at_utc, staff_id, os_user, table_name, record_id, "
                            "kind, changes, reason FROM trail ORDER BY seq").fetchall():
        digest = content_hash(prev, row)
        conn.execute("UPDATE trail SET prev_hash = ?, hash = ? WHERE seq = ?",
                     (prev, digest, row[0]))
        prev = digest


def cut_newest(path, audit_id: int) -> None:
    """The attack: delete an audit and every trail row from its creation on."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("BEGIN")
    first = conn.execute("SELECT min(seq) FROM trail WHERE table_name = 'audits' "
                         "AND record_id = ?", (audit_id,)).fetchone()[0]
    conn.execute("DROP TRIGGER trail_is_append_only_delete")
    conn.execute("DELETE FROM trail WHERE seq >= ?", (first,))
    for table, column in (("moderations", "audit_id"), ("audit_themes", "audit_id"),
                          ("audits", "id")):
        conn.execute(f"DELETE FROM {table} WHERE {column} >= ?", (audit_id,))
    conn.execute("DELETE FROM audits_fts WHERE rowid >= ?", (audit_id,))
    conn.execute("CREATE TRIGGER trail_is_append_only_delete BEFORE DELETE ON trail BEGIN "
                 "SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be deleted'); "
                 "END")
    conn.execute("COMMIT")
    conn.close()


def check(report, name):
    return next(c for c in report.checks if c.name == name)


@pytest.fixture
def logged(admin, org, make_input, store):
    ids = [audit_service.create_audit(admin, make_input(case_reference=f"LCS-{n}"),
                                      submit=True).record_id for n in range(100001, 100004)]
    return ids


def test_with_no_anchor_verify_warns_instead_of_passing_silently(store, logged):
    report = verify_store(store)
    assert report.ok
    anchors_line = check(report, "anchors")
    assert anchors_line.warning and "no anchor found outside the store" in anchors_line.detail
    assert any(line.startswith("WARN  anchors:") for line in report.lines())


def test_a_rewritten_history_passes_the_chain_but_not_the_backups_anchor(store, logged,
                                                                         store_path):
    backup = make_backup(store)
    assert check(verify_store(store), "anchors").ok
    store.close()
    rewrite_findings(store_path, logged[0], "Nothing of concern.")
    again = open_store(store_path, read_only=True)
    report = verify_store(again)
    assert check(report, "trail chain").ok and check(report, "records match trail").ok
    broken = check(report, "anchors")
    assert not broken.ok and not report.ok
    assert backup.name in broken.detail and "rewritten after the anchor was made" in broken.detail
    again.close()


def test_cutting_the_newest_rows_fails_against_an_anchor(store, logged, store_path):
    make_backup(store)
    store.close()
    cut_newest(store_path, logged[-1])
    again = open_store(store_path, read_only=True)
    report = verify_store(again)
    assert check(report, "trail chain").ok and check(report, "records match trail").ok
    assert "rows were removed" in check(report, "anchors").detail
    again.close()


def test_the_anchors_file_keeps_a_head_after_its_backup_is_gone(store, logged, store_path):
    backup = make_backup(store)
    backup.unlink()
    store.close()
    rewrite_findings(store_path, logged[1], "Rewritten.")
    again = open_store(store_path, read_only=True)
    detail = check(verify_store(again), "anchors").detail
    assert "backup anchor" in detail and "rewritten" in detail
    again.close()


def test_a_packs_printed_anchor_checks_the_store(store, admin, logged, store_path, tmp_path,
                                                 capsys, monkeypatch):
    from pypdf import PdfReader

    from sefton_qa import identity

    today = admin.today()
    pack = committee_pack(admin, today - dt.timedelta(days=90), today, tmp_path / "pack.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(pack.path).pages)
    printed = re.search(r"(\d+):([0-9a-f]{64})", text.replace("\n", ""))
    assert printed and printed.group(0) == f"{pack.trail_seq}:{pack.trail_hash}"
    # The pack's head went to both anchors files too; remove them to show --anchor alone.
    files = [store_path.with_name(store_path.name + ".anchors"),
             *(store_path.parent / "backups").glob("*.anchors")]
    assert len(files) == 2
    for path in files:
        assert f'"hash": "{pack.trail_hash}"' in path.read_text() and '"kind": "pack"' in \
            path.read_text()
        path.unlink()
    store.close()
    rewrite_findings(store_path, logged[0], "Rewritten after the committee met.")
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    assert main(["--db", str(store_path), "verify"]) == 0  # nothing outside says otherwise
    assert main(["--db", str(store_path), "verify", "--anchor", printed.group(0)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  anchors: trail row" in out and "given anchor" in out
    assert main(["--db", str(store_path), "verify", "--json", "--anchor",
                 printed.group(0)]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False
    assert {c["name"]: c["status"] for c in result["checks"]}["anchors"] == "FAIL"


def test_a_restore_supersedes_later_anchors_and_the_store_verifies(store, logged, admin,
                                                                   make_input, store_path):
    first = make_backup(store)
    audit_service.create_audit(admin, make_input(case_reference="LCS-200001"), submit=True)
    make_backup(store)  # an anchor past the head the restore goes back to
    store.close()
    restore(store_path, first)
    again = open_store(store_path, read_only=True)
    result = check(verify_store(again), "anchors")
    assert result.ok and "superseded" in result.detail, result.detail
    lines = anchors_report(again)
    assert any("restore" in line and "holds" in line for line in lines)
    assert any("superseded by a restore" in line for line in lines)
    again.close()


def test_a_badly_written_anchor_is_refused_plainly(store_path, capsys):
    assert main(["--db", str(store_path), "verify", "--anchor", "12:not-a-hash"]) == 1
    assert "is not an anchor" in capsys.readouterr().err
