"""Regression guard: PySide6 6.12.0 aborts on Python 3.11 (none_dealloc) after a few thousand
emits of a Signal(object) carrying None. The emits run in a child pytest, under pytest-qt's
``qapp``, with a timeout, so an abort is reported as a failure instead of killing this run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

EMITS = 25_000

CHILD_TEST = textwrap.dedent(f'''
    import gc
    import sys

    from PySide6.QtCore import QObject, Signal, Slot

    EMITS = {EMITS}


    class Sender(QObject):
        changed = Signal(object)


    class Receiver(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0
            self.kinds = {{"none": 0, "bool": 0, "int": 0}}

        @Slot(object)
        def on_changed(self, value):
            self.count += 1
            if value is None:
                self.kinds["none"] += 1
            elif value is True:
                self.kinds["bool"] += 1
            elif type(value) is int:
                self.kinds["int"] += 1


    def test_many_emits(qapp):
        sender, receiver = Sender(), Receiver()
        sender.changed.connect(receiver.on_changed)
        gc.collect()
        none_refs_before = sys.getrefcount(None)
        for i in range(EMITS):
            which = i % 3
            sender.changed.emit(None if which == 0 else True if which == 1 else i)
        qapp.processEvents()
        gc.collect()
        assert receiver.count == EMITS
        assert receiver.kinds == {{"none": (EMITS + 2) // 3, "bool": (EMITS + 1) // 3,
                                  "int": EMITS // 3}}
        # The 6.12.0 bug drops a reference to None on each emit; catch the leak early too.
        assert sys.getrefcount(None) >= none_refs_before - 100
''')


def test_signal_object_emits_do_not_crash(tmp_path):
    test_file = tmp_path / "test_emits_child.py"
    test_file.write_text(CHILD_TEST)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
             "qt_api=pyside6", "--rootdir", str(tmp_path), str(test_file)],
            capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{EMITS:,} emits did not finish within 180 s (hung): {exc.stdout!r}")
    report = f"exit code {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert proc.returncode >= 0, f"the child process was killed by a signal (crash)\n{report}"
    assert proc.returncode == 0, report
    assert "1 passed" in proc.stdout, report
