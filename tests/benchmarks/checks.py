"""The store's checks (issue 8, item 5): the quick check every read-write open of the app runs,
and the full check the window runs in the background (``verify_store``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store

from .report import NONE, Row, Target, duration_row, latency_row
from .timing import time_calls, time_in_turn

TICK_MS = 10


def bench_open_check(path: Path, repeat: int, notes: list[str]) -> Row:
    """open_store with the quick check against open_store without it, called in turn."""
    checked, plain = time_in_turn(
        (lambda _i: open_store(path, check=True).close(), lambda _i: open_store(path).close()),
        repeat=repeat, warmup=3)
    notes.append("Quick check on opening: open_store(check=True) (the trail's triggers, no "
                 "row missing, the newest 1,000 trail rows' hashes, on a read-only connection "
                 "before anything is written) against open_store without it; both close the "
                 "store again.")
    return latency_row(f"open the store with its quick check (x{repeat})", checked, plain,
                       Target(100, "ms median", at_least=False))


def bench_full_check(path: Path, n: int, notes: list[str]) -> Row:
    """verify_store once (it reads the whole file and replays the whole trail)."""
    store = open_store(path, read_only=True, migrate=False)
    try:
        result = {}
        timing = time_calls(lambda _i: result.setdefault("report", verify_store(store)),
                            repeat=1)
    finally:
        store.close()
    report = result["report"]
    notes.append("Full check: verify_store on a read-only connection (integrity_check, "
                 "foreign_key_check, search index, trail protection, the whole hash chain, "
                 "every record rebuilt from the trail), run once; the app runs it in the "
                 "background after its window opens. "
                 + ("It passed." if report.ok else "It FAILED: " + "; ".join(report.lines())))
    return duration_row("full check of the store (verify_store, once, in the background)", n,
                        "audits", timing, None, Target(120, "s", at_least=False))


def _gui_lag_child(store_path: str, settings_path: str) -> None:
    """In a child process: the main window over the store, a 10 ms timer on the GUI thread,
    and the background check; prints the timer's gaps while the check ran, as JSON."""
    from PySide6.QtCore import QSettings, QTimer

    from sefton_qa.gui.app import make_app
    from sefton_qa.gui.main_window import MainWindow
    from sefton_qa.services.session import sign_in

    app = make_app([sys.argv[0]])
    store = open_store(store_path, check=True)
    window = MainWindow(sign_in(store, os_user="bench"),
                        QSettings(settings_path, QSettings.Format.IniFormat))
    window.show()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(TICK_MS)
    reports = []
    window.store_checker.checked.connect(lambda r: (reports.append(r), app.quit()))
    started = time.perf_counter()
    window.check_store()
    app.exec()
    elapsed = time.perf_counter() - started
    window.close()
    store.close()
    gaps.sort()
    print(json.dumps({"seconds": elapsed, "ok": bool(reports and reports[0].ok),
                      "median_ms": gaps[len(gaps) // 2] * 1000,
                      "p99_ms": gaps[int(len(gaps) * 0.99)] * 1000, "max_ms": gaps[-1] * 1000,
                      "ticks": len(gaps)}))


def bench_gui_during_check(path: Path, scratch: Path, notes: list[str]) -> Row:
    """How the window answers while the full check runs in its background thread."""
    scratch.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.checks", "gui-lag", str(path),
                           str(scratch / "gui-lag.ini")], capture_output=True, text=True,
                          env=env, timeout=1800, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    notes.append(f"Window during the full check: a new process opens the main window over the "
                 f"store and runs a {TICK_MS} ms QTimer on the GUI thread while the background "
                 f"check runs ({seen['seconds']:.1f} s, {'passed' if seen['ok'] else 'FAILED'}); "
                 f"the figure is the gap between ticks ({seen['ticks']:,} ticks): median "
                 f"{seen['median_ms']:.1f} ms, p99 {seen['p99_ms']:.1f} ms, max "
                 f"{seen['max_ms']:.1f} ms. A gap well over {TICK_MS} ms is a moment the window "
                 "could not answer the user.")
    return Row(f"window's event loop during the full check (p99 gap of a {TICK_MS} ms timer)",
               f"{seen['p99_ms']:.1f} ms (max {seen['max_ms']:.1f})", NONE, None,
               Target(50, "ms p99", at_least=False), seen["p99_ms"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["gui-lag"]:
        _gui_lag_child(sys.argv[2], sys.argv[3])
