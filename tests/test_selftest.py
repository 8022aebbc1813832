"""``sefton-qa --self-test`` passes on this installation and says what it checked."""

from __future__ import annotations

import os
import subprocess
import sys

CHECKS = ("store", "sign in", "organisation", "audit", "verify", "workbook", "main window",
          "pdf", "pdf preview")


def test_self_test_passes_and_prints_its_checks(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("SEFTON_QA_DB", None)
    done = subprocess.run([sys.executable, "-m", "sefton_qa", "--self-test"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in CHECKS:
        assert f"ok    {name}: " in done.stdout, done.stdout
    assert "FAIL" not in done.stdout
    assert "self-test passed" in done.stdout
    # It works in a temporary folder: nothing is left in the user's data or config folders.
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.sqlite3"))


def test_version_prints_the_package_metadata_version():
    from importlib import metadata

    done = subprocess.run([sys.executable, "-m", "sefton_qa", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"sefton-qa {metadata.version('sefton-qa')}"
