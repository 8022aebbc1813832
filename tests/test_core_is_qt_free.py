"""The core (domain, store, services, and reports once it exists) and the CLI must work on a
machine without Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sefton_qa

ROOT = Path(sefton_qa.__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(r'''
    import importlib, importlib.util, json, pkgutil, sys

    BLOCKED = ("PySide6", "shiboken6")

    class BlockQt:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: the core must not import Qt")
            return None

    sys.meta_path.insert(0, BlockQt())

    # The blocker itself must work, or this test proves nothing.
    try:
        import PySide6  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the PySide6 blocker did not block")

    imported = []
    packages = ["sefton_qa.domain", "sefton_qa.store", "sefton_qa.services"]
    if importlib.util.find_spec("sefton_qa.reports") is not None:  # core too, once it exists
        packages.append("sefton_qa.reports")
    for package in packages:
        pkg = importlib.import_module(package)
        imported.append(package)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            importlib.import_module(info.name)
            imported.append(info.name)
    for module in ("sefton_qa", "sefton_qa.paths", "sefton_qa.cli"):
        importlib.import_module(module)
        imported.append(module)

    # Run the CLI's commands too: they import the services lazily, inside functions.
    from sefton_qa.cli import main
    store = sys.argv[1]
    codes = [main(["--db", store, "demo"]),
             main(["--db", store, "summary", "--from", "2020-01-01", "--to", "2030-12-31",
                   "--json"]),
             main(["--db", store, "verify"])]

    qt = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print("RESULT " + json.dumps({"imported": imported, "qt": qt, "codes": codes}))
''')


def test_core_and_cli_import_and_run_without_qt(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), LOGNAME="qt.free.tester")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.sqlite3")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    assert result["qt"] == []
    assert result["codes"] == [0, 0, 0]
    imported = set(result["imported"])
    # The walk really reached every module of the core.
    expected = set()
    for package in ("domain", "store", "services", "reports"):
        if not (ROOT / "sefton_qa" / package / "__init__.py").exists():
            continue
        for py in (ROOT / "sefton_qa" / package).glob("*.py"):
            name = f"sefton_qa.{package}" + ("" if py.stem == "__init__" else f".{py.stem}")
            expected.add(name)
    assert expected <= imported, sorted(expected - imported)
    assert {"sefton_qa.store.trail", "sefton_qa.services.demo", "sefton_qa.cli"} <= imported
