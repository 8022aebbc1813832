"""The full-disk scenario on a real, size-limited filesystem (issue 8, item 3); not a test.

Run by tests/test_reliability_enospc.py as
``python tests/reliability_enospc_worker.py DIR TEMPLATE IDS_JSON`` inside its own mount
namespace, where DIR is a freshly mounted tmpfs of a few MiB: the kernel itself answers ENOSPC
when it is full. The store (a copy of the org template) lives on that tmpfs. A filler file
leaves a little room; then submitted audits are logged through the services until a save is
refused. Prints one JSON object with what it saw; exits 0 only when every expectation held
(an AssertionError exits 1 with its message on stderr).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from sefton_qa.domain.errors import SeftonError, StoreError
from sefton_qa.domain.grades import Grade
from sefton_qa.services import audits as audit_service
from sefton_qa.services import backups as backup_service
from sefton_qa.services import sign_in
from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store

sys.path.insert(0, str(Path(__file__).parent))
from reliability_worker import AUDITOR_OS_USER, TODAY, make_input  # noqa: E402
from test_reliability_disk import FULL_MESSAGE, counts, refs_seen_by_another_window  # noqa: E402

ROOM = 1024 * 1024  # what the filler leaves free


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def main(folder: Path, template: Path, ids: dict) -> dict:
    fs = {"size": os.statvfs(folder).f_blocks * os.statvfs(folder).f_frsize}
    path = folder / "store.sqlite3"
    shutil.copy(template, path)
    store = open_store(path)
    session = sign_in(store, os_user=AUDITOR_OS_USER, today=lambda: TODAY)
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free_bytes(folder) - ROOM))
        fh.flush()
        os.fsync(fh.fileno())
    fs["free_after_filler"] = free_bytes(folder)

    def save(n: int) -> int:
        change = audit_service.create_audit(
            session, make_input(ids, f"ENOSPC-{n}", f"Findings {n}: " + "plan drift " * 300,
                                Grade.INADEQUATE), submit=True)
        return change.record_ids[0]

    saved: list[str] = []
    failure = None
    n = 0
    while n < 10_000:
        n += 1
        before = counts(store.conn)
        try:
            save(n)
        except StoreError as exc:
            failure = exc
            assert counts(store.conn) == before, "the refused save left rows behind"
            assert not store.conn.in_transaction, "the refused save left a transaction open"
            break
        saved.append(f"ENOSPC-{n}")
    assert failure is not None, "the filesystem never filled up"
    assert str(failure) == FULL_MESSAGE, str(failure)
    assert isinstance(failure.__cause__, sqlite3.OperationalError)
    cause = str(failure.__cause__)
    full_counts = counts(store.conn)

    # Trying again while still full: the same plain refusal, still nothing written.
    try:
        save(n)
    except StoreError as exc:
        assert str(exc) == FULL_MESSAGE
    else:
        raise AssertionError("a save succeeded on a full filesystem")
    assert counts(store.conn) == full_counts

    # A backup onto the full filesystem fails plainly and leaves no partial file.
    backup_folder = folder / "backups"
    backup_error = None
    try:
        backup_service.make_backup(store, backup_folder)
    except SeftonError as exc:
        backup_error = str(exc)
    leftovers = sorted(p.name for p in backup_folder.glob("*")) if backup_folder.exists() else []
    assert backup_error is not None, "a backup fitted on a full filesystem"
    assert "failed" in backup_error and "The store itself is unchanged" in backup_error
    assert leftovers == [], leftovers

    # The store is whole, and another window sees every reported save.
    report = verify_store(store)
    assert report.ok, report.lines()
    seen = refs_seen_by_another_window(path)
    assert set(saved) <= seen and f"ENOSPC-{n}" not in seen

    # Room again: the same save goes through, and the store reopens sound.
    filler.unlink()
    save(n)
    saved.append(f"ENOSPC-{n}")
    after = counts(store.conn)
    assert after["audits"] == full_counts["audits"] + 1
    store.close()
    store = open_store(path)
    try:
        report = verify_store(store)
        assert report.ok, report.lines()
        assert set(saved) <= refs_seen_by_another_window(path)
        trail_rows = counts(store.conn)["trail"]
    finally:
        store.close()
    return {
        "filesystem_bytes": fs["size"], "free_after_filler": fs["free_after_filler"],
        "saves_fitted": len(saved) - 1, "refused_at": n, "message": str(failure),
        "sqlite_error": cause, "backup_error": backup_error, "trail_rows": trail_rows,
        "saved_after_room": True, "verify": "ok",
    }


if __name__ == "__main__":
    folder, template, ids = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    print(json.dumps(main(folder, template, ids)))
