"""Peak memory (the RSS of a separate process) and time of reading a spreadsheet, as issue 18
measures them:

    python -m tests.benchmarks.peak read FILE       # spreadsheets.read_sheet (checks and all)
    python -m tests.benchmarks.peak calamine FILE   # bare python-calamine, every row as values
    python -m tests.benchmarks.peak dry-run FILE    # import_audits(dry_run=True) into a new store
    python -m tests.benchmarks.peak import FILE     # import_audits(create_missing=True), the same
    python -m tests.benchmarks.peak make-xlsx N FILE / make-csv N FILE   # importing.py's files

Each measurement runs in a child process of its own, so the figure is that process's peak.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, sys, time


def peak_mb():
    # VmHWM: this program's own peak RSS (ru_maxrss would count the parent it forked from)
    with open("/proc/self/status") as fh:
        return round(int(fh.read().split("VmHWM:")[1].split()[0]) / 1024)


mode, path = sys.argv[1], sys.argv[2]
began = time.perf_counter()
if mode == "read":
    from sefton_qa.services.spreadsheets import read_sheet
    rows = len(read_sheet(path).rows)
elif mode in ("dry-run", "import"):
    import tempfile
    from pathlib import Path
    from sefton_qa.services.import_export import import_audits
    from sefton_qa.services.session import sign_in
    from sefton_qa.store import open_store
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "dry.sqlite3")
        began = time.perf_counter()  # (the store made before the clock starts)
        report = import_audits(sign_in(store, os_user="bench"), path,
                               dry_run=mode == "dry-run", create_missing=True)
        assert report.ok, report.lines()[:5]
        rows = report.rows_read
        store.close()
else:
    from python_calamine import CalamineWorkbook
    with CalamineWorkbook.from_path(path) as book:
        rows = sum(1 for _ in book.get_sheet_by_index(0).iter_rows()) - 1
print(json.dumps({"mode": mode, "rows": rows, "seconds": round(time.perf_counter() - began, 2),
                  "peak_mb": peak_mb()}))
"""


def measure(mode: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode.startswith("make-"):
        from . import importing

        write = importing._write_xlsx if mode == "make-xlsx" else importing._write_csv
        write(Path(argv[2]), int(argv[1]))
        return
    print(json.dumps(measure(mode, Path(argv[1]))))


if __name__ == "__main__":
    main(sys.argv[1:])
