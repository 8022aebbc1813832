"""Issue 8, item 3, on a real full filesystem: the kernel's own ENOSPC, not SQLite's limit.

The test starts tests/reliability_enospc_worker.py in a mount namespace of its own
(``unshare --mount``, or ``unshare --map-root-user --mount`` when not root) on a tmpfs of
8 MiB mounted just for it, so the mount vanishes with the process and touches nothing else.
The worker logs submitted audits through the services until the filesystem is full, then
checks: the refused save raises the plain "disk is full" StoreError and leaves no row and no
open transaction behind; a second try is refused the same way; a backup onto the full
filesystem fails plainly and leaves no partial file; ``verify_store`` passes; another
connection sees every reported save; once space is freed the same save goes through and the
store reopens sound. tests/test_reliability_disk.py covers the same on SQLite's
``max_page_count`` and the GUI's kept draft.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_reliability_crash import worker_args

from figures import record_figure

WORKER = Path(__file__).with_name("reliability_enospc_worker.py")
SIZE = "8m"


def _namespace_prefix() -> list[str]:
    if os.geteuid() == 0:
        return ["unshare", "--mount", "--propagation", "private"]
    return ["unshare", "--map-root-user", "--mount", "--propagation", "private"]


def _with_tmpfs(mountpoint: Path, *command: str) -> list[str]:
    script = f'mount -t tmpfs -o size={SIZE},mode=0700 sefton-enospc "$1" && shift && exec "$@"'
    return [*_namespace_prefix(), "sh", "-c", script, "sh", str(mountpoint), *command]


def _tmpfs_available(mountpoint: Path) -> str | None:
    """None when a private tmpfs can be mounted here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    try:
        done = subprocess.run(_with_tmpfs(mountpoint, "true"), capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def test_a_really_full_filesystem_refuses_the_save_plainly_and_loses_nothing(
        tmp_path, org_store_template):
    template, org_ids = org_store_template
    mountpoint = tmp_path / "tiny-disk"
    mountpoint.mkdir()
    why_not = _tmpfs_available(mountpoint)
    if why_not is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real ENOSPC test, but a tmpfs cannot be mounted: "
                        f"{why_not}")
        pytest.skip(f"cannot mount a private tmpfs here: {why_not}")

    done = subprocess.run(
        _with_tmpfs(mountpoint, sys.executable, str(WORKER), str(mountpoint), str(template),
                    worker_args(org_ids)),
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"worker failed:\n{done.stdout}\n{done.stderr}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["verify"] == "ok" and seen["saved_after_room"]
    assert seen["saves_fitted"] >= 1
    assert "full" in seen["sqlite_error"]
    assert list(mountpoint.iterdir()) == [], "the tmpfs leaked out of its namespace"
    record_figure(
        "enospc",
        f"tmpfs of {seen['filesystem_bytes'] / 2**20:.0f} MiB, {seen['free_after_filler']:,} "
        f"bytes left free: {seen['saves_fitted']} submitted audits fitted, save "
        f"{seen['refused_at']} refused with \"{seen['message']}\" (SQLite: "
        f"{seen['sqlite_error']}); backup on the full disk refused plainly, no partial file; "
        f"verify ok; saved once space was freed; {seen['trail_rows']} trail rows, verify ok "
        "after reopening")
