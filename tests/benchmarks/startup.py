"""Cold start (issue 4): a new process to the main window's first paint over the store, as a
ratio to a bare PySide6 window with a QTableView over a small model, run in turn in the same
way: ``python -m tests.benchmarks.startup sefton STORE SETTINGS`` or ``... bare``.

The clock is CLOCK_MONOTONIC, which every process shares: the parent reads it just before it
starts the child, the child prints it at each step (imports done, store open and signed in,
window built, table painted), so the figure includes the interpreter's own start.
"""

from __future__ import annotations

import json
import statistics
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .report import Row, Target
from .timing import Timing

RUNS = 5
TARGET = Target(2.5, "× bare", at_least=False)
TIMEOUT_S = 120


# -- the child ----------------------------------------------------------------------------------
def _until_painted(app, window, viewport) -> None:
    """Show the window and process events until the table's viewport has painted."""
    from PySide6.QtCore import QEvent, QObject

    class Painted(QObject):
        seen = False

        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if watched is viewport and event.type() == QEvent.Type.Paint:
                Painted.seen = True
            return False

    spy = Painted()
    viewport.installEventFilter(spy)
    window.show()
    deadline = time.monotonic() + TIMEOUT_S
    while not Painted.seen and time.monotonic() < deadline:
        app.processEvents()
    app.processEvents()  # what the paint queued
    if not Painted.seen:
        raise SystemExit("the table was never painted")


def _sefton(store_path: str, settings_path: str, marks: dict[str, float]) -> None:
    from PySide6.QtCore import QSettings

    from sefton_qa.gui.app import make_app
    from sefton_qa.gui.main_window import MainWindow
    from sefton_qa.services.session import sign_in
    from sefton_qa.store import open_store

    marks["imported"] = time.monotonic()
    app = make_app([sys.argv[0]])
    session = sign_in(open_store(store_path, check=True), os_user="bench")  # as the app
    marks["signed in"] = time.monotonic()
    window = MainWindow(session, QSettings(settings_path, QSettings.Format.IniFormat))
    marks["window built"] = time.monotonic()
    _until_painted(app, window, window.audits_page.table.viewport())


def _bare(marks: dict[str, float]) -> None:
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    marks["imported"] = time.monotonic()
    app = QApplication([sys.argv[0]])
    model = QStandardItemModel(100, 8)
    for row in range(100):
        for col in range(8):
            model.setItem(row, col, QStandardItem(f"cell {row},{col}"))
    window = QMainWindow()
    table = QTableView()
    table.setModel(model)
    window.setCentralWidget(table)
    window.resize(1360, 820)
    marks["window built"] = time.monotonic()
    _until_painted(app, window, table.viewport())


def child(argv: list[str]) -> None:
    marks: dict[str, float] = {}
    if argv[0] == "sefton":
        _sefton(argv[1], argv[2], marks)
    else:
        _bare(marks)
    marks["painted"] = time.monotonic()
    print(json.dumps(marks), flush=True)
    os._exit(0)  # the figure is taken; closing the store and Qt's teardown are not timed


# -- the parent ---------------------------------------------------------------------------------
def _run(args: list[str]) -> dict[str, float]:
    """Start a child and return its steps in seconds since it was started."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks.startup", *args], env=env,
                         capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"startup {args[0]} failed ({out.returncode}): {out.stderr[-2000:]}")
    return {k: v - started for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def queue_note(session) -> str:
    """The moderation loop's queue, which the window's loop pages list: how big, how slow."""
    from sefton_qa.services import moderation

    started = time.perf_counter()
    items = moderation.queue(session)
    seconds = time.perf_counter() - started
    stages = {}
    for item in items:
        stages[item.stage] = stages.get(item.stage, 0) + 1
    return (f"In this process, services.moderation.queue() (the loop's work waiting, which the "
            f"window's loop pages list) takes {seconds:.2f} s over this store's "
            + ", ".join(f"{n:,} {stage}s" for stage, n in stages.items()) + ".")


def bench_cold_start(session, notes: list[str], runs: int = RUNS) -> Row:
    store_path = session.store.path
    with tempfile.TemporaryDirectory(prefix="sefton-bench-") as tmp:
        def sefton(i: int) -> dict[str, float]:
            # A settings file that does not exist yet: the window's first-ever layout.
            return _run(["sefton", str(store_path.resolve()), str(Path(tmp) / f"{i}.ini")])

        sefton(-1), _run(["bare"])  # warm-up: the OS's file cache holds Qt and the store
        ours, theirs = [], []
        for i in range(runs):  # in turn, so both meet the same load
            ours.append(sefton(i))
            theirs.append(_run(["bare"]))

    def steps(samples: list[dict[str, float]]) -> str:
        keys = list(samples[0])
        median = {k: statistics.median(s[k] for s in samples) for k in keys}
        return ", ".join(f"{k} {median[k]:.2f} s" for k in keys)

    notes.append(
        "Cold start (issue 4): a new Python process (QT_QPA_PLATFORM=offscreen) to the first "
        "paint of the register's table in the main window (MainWindow over the store, signed "
        "in, settings from a new INI file), against a bare PySide6 QMainWindow with a QTableView "
        f"over a 100 x 8 QStandardItemModel, started the same way; {runs} runs each in turn after "
        "one warm-up each (the OS's file cache is warm: a new process, not a cold disk). "
        f"Median time since the process started, Sefton QA: {steps(ours)}; bare: "
        f"{steps(theirs)}. " + queue_note(session))
    return report.ratio_row(f"cold start to the main window painted ({runs} runs)",
                            Timing(tuple(s["painted"] for s in ours)),
                            Timing(tuple(s["painted"] for s in theirs)), TARGET)


if __name__ == "__main__":
    child(sys.argv[1:])
