"""Issue 8, item 2: two app windows (two processes) on one store, editing at once.

* Two worker processes (tests/reliability_worker.py, mode "edit") update one shared audit and
  one audit each, through services.audits.update_audit with the version they read, for a few
  seconds. No "database is locked" (or any other error) escapes; every update a worker was
  told succeeded is in the trail, and nothing else is (no lost update, no silent overwrite);
  a stale version is refused with ConflictError.
* The same refusal, deterministically: read the version, another process updates, then
  update with the old version: ConflictError with a clear message, the record unchanged.
* A writer that finds the store locked waits (busy timeout + BEGIN IMMEDIATE) and then
  succeeds, instead of failing with "database is locked".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from figures import record_figure

from sefton_qa.domain.errors import ConflictError
from sefton_qa.services import audits as audit_service
from sefton_qa.services import sign_in
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store
from sefton_qa.store import trail as trail_store

sys.path.insert(0, str(Path(__file__).parent))
import reliability_worker as worker  # noqa: E402

WORKER = Path(__file__).with_name("reliability_worker.py")
EDIT_SECONDS = float(os.environ.get("SEFTON_QA_EDIT_SECONDS", "3"))
TODAY = worker.TODAY


def worker_args(org_ids, **extra) -> str:
    return json.dumps({"area1": org_ids.area1, "team_a1": org_ids.team_a1,
                       "auditor": org_ids.auditor, "template": org_ids.template,
                       "theme": org_ids.themes["Neglect"], **extra})


def ids_dict(org_ids) -> dict:
    return json.loads(worker_args(org_ids))


def start(mode: str, path: Path, args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), mode, str(path), args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def shared(tmp_path, org_store_template):
    """A copy of the org store with three drafts, and the QA officer's session on it."""
    template, org_ids = org_store_template
    path = tmp_path / "shared.sqlite3"
    shutil.copy(template, path)
    store = open_store(path)
    session = sign_in(store, os_user=worker.AUDITOR_OS_USER, today=lambda: TODAY)
    ids = ids_dict(org_ids)
    audit_ids = [audit_service.create_audit(
        session, worker.make_input(ids, f"LCS-{900 + n}", "first draft",
                                   worker.Grade.GOOD)).record_ids[0] for n in range(3)]
    yield path, org_ids, store, session, audit_ids
    store.close()


def test_two_processes_editing_at_once_lose_no_update(shared):
    path, org_ids, store, session, (both, only_a, only_b) = shared
    procs = {
        "a": start("edit", path, worker_args(org_ids, tag="a", seed=1, seconds=EDIT_SECONDS,
                                             audit_ids=[both, only_a])),
        "b": start("edit", path, worker_args(org_ids, tag="b", seed=2, seconds=EDIT_SECONDS,
                                             audit_ids=[both, only_b])),
    }
    ok: dict[int, list[str]] = {both: [], only_a: [], only_b: []}
    conflicts: list[str] = []
    for tag, proc in procs.items():
        out, err = proc.communicate(timeout=EDIT_SECONDS + 60)
        lines = out.splitlines()
        assert proc.returncode == 0, f"worker {tag} failed: {out[-2000:]}\n{err[-2000:]}"
        assert lines[0] == "READY" and lines[-1] == "DONE", (lines[:2], lines[-2:])
        assert "locked" not in out + err
        for line in lines[1:-1]:
            word, audit_id, rest = line.split(" ", 2)
            if word == "OK":
                ok[int(audit_id)].append(rest)
            else:
                assert word == "CONFLICT", line
                assert int(audit_id) == both, line  # only the shared audit can conflict
                assert "changed by someone else" in rest and "Reopen it" in rest, rest
                conflicts.append(line)

    conn = store.conn
    for audit_id, saved in ok.items():
        updates = [e for e in trail_store.entries_for(conn, "audits", audit_id)
                   if e.kind == "update"]
        in_trail = [e.changes["findings"][1] for e in updates]
        # Every confirmed update is in the trail, once; nothing unconfirmed is.
        assert sorted(in_trail) == sorted(saved), audit_id
        # Each update started from the value before it: none was written over unseen.
        previous = "first draft"
        for e in updates:
            assert e.changes["findings"][0] == previous, (audit_id, e.seq)
            previous = e.changes["findings"][1]
        audit = audit_service.get_audit(session, audit_id)
        assert audit.version == 1 + len(saved)
        assert audit.findings == (in_trail[-1] if in_trail else "first draft")
    assert sum(map(len, ok.values())) > 0
    report = verify_store(store)
    assert report.ok, "\n".join(report.lines())
    record_figure("two windows",
                  f"2 processes, {EDIT_SECONDS:g} s, {sum(map(len, ok.values())):,} confirmed "
                  f"updates, {len(conflicts):,} refused as stale (ConflictError), 0 lost, "
                  "0 'database is locked', verify ok")


def test_an_edit_from_a_stale_version_is_refused_and_changes_nothing(shared):
    path, org_ids, store, session, (audit_id, _a, _b) = shared
    opened = audit_service.get_audit(session, audit_id)  # this window opens the audit
    other = start("update-once", path, worker_args(org_ids, audit_id=audit_id,
                                                   findings="the other window's edit"))
    out, err = other.communicate(timeout=60)
    assert other.returncode == 0 and out.strip() == f"OK {opened.version + 1}", (out, err)
    trail_before = trail_store.count(store.conn)
    row_before = store.conn.execute("SELECT * FROM audits WHERE id = ?", (audit_id,)).fetchone()

    with pytest.raises(ConflictError) as refused:
        audit_service.update_audit(
            session, audit_id,
            worker.make_input(ids_dict(org_ids), opened.case_reference, "my edit",
                              opened.overall_grade),
            expected_version=opened.version)
    message = str(refused.value)
    assert "changed by someone else since you opened it" in message
    assert f"version {opened.version + 1}, you had {opened.version}" in message

    assert store.conn.execute("SELECT * FROM audits WHERE id = ?",
                              (audit_id,)).fetchone() == row_before
    assert trail_store.count(store.conn) == trail_before
    assert audit_service.get_audit(session, audit_id).findings == "the other window's edit"
    assert not store.conn.in_transaction


def test_a_writer_waits_for_the_other_window_instead_of_failing(shared):
    path, org_ids, store, session, (audit_id, _a, _b) = shared
    with store.transaction():  # this window is in the middle of a save
        other = start("update-once", path, worker_args(org_ids, audit_id=audit_id,
                                                       findings="saved after waiting"))
        time.sleep(1.5)
        assert other.poll() is None, other.communicate()  # blocked, not failed
    out, err = other.communicate(timeout=60)
    assert other.returncode == 0, (out, err)
    assert out.strip() == "OK 2"
    assert audit_service.get_audit(session, audit_id).findings == "saved after waiting"
