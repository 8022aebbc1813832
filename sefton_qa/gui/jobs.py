"""Long work off the GUI thread, with progress and cancel.

A job runs ``fn(session, progress)`` in a worker thread on its own connection to the store
(SQLite connections are not shared between threads here), where ``progress(done, total,
message)`` returns False once the user has cancelled. The core stays Qt-free: it only sees the
callback.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal

from sefton_qa.services.session import Session
from sefton_qa.store import open_store

JobFn = Callable[[Session, Callable[[int, int, str], bool]], Any]


class _Worker(QObject):
    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, session: Session, fn: JobFn, cancelled: threading.Event):
        super().__init__()
        self._session = session
        self._fn = fn
        self._cancelled = cancelled

    def run(self) -> None:
        store = None
        try:
            # Read-only when the window's store is (a newer version's store, or after the
            # store check's "Switch to read-only"): a job never writes where the window may not.
            store = open_store(self._session.store.location, migrate=False,
                               read_only=self._session.store.read_only)
            session = Session(store=store, actor=self._session.actor,
                              os_user=self._session.os_user, today=self._session.today)

            def progress(done: int, total: int, message: str) -> bool:
                self.progressed.emit(done, total, message)
                return not self._cancelled.is_set()

            result = self._fn(session, progress)
        except BaseException as exc:  # reported to the GUI thread, never lost
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)
        finally:
            if store is not None:
                store.close()
            # Stop this thread's event loop from here, so Job.wait() never depends on the GUI
            # thread handling the signals above first.
            QThread.currentThread().quit()


class Job(QObject):
    """Run ``fn`` in the background. Connect to ``progressed``, ``succeeded``, ``failed``;
    ``finished`` fires after either."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    #: Jobs whose thread may be running (the GUI thread's bookkeeping; see :meth:`running`).
    _live: "weakref.WeakSet[Job]" = weakref.WeakSet()

    def __init__(self, session: Session, fn: JobFn, parent=None, *, writes: bool = True):
        super().__init__(parent)
        #: False for jobs that only read (the store check); True for imports, demo data…
        self.writes = writes
        self._cancelled = threading.Event()
        self._thread = QThread()
        self._worker = _Worker(session, fn, self._cancelled)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self.progressed)
        self._worker.succeeded.connect(self._on_success)
        self._worker.failed.connect(self._on_failure)

    def start(self) -> None:
        Job._live.add(self)
        self._thread.start()

    @classmethod
    def running(cls, *, writing: bool = True) -> list["Job"]:
        """The jobs still running (only those that write, unless ``writing`` is False)."""
        return [job for job in list(cls._live)
                if job._thread.isRunning() and (job.writes or not writing)]

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _stop_thread(self) -> None:
        self._thread.quit()
        self._thread.wait()

    def _on_success(self, result) -> None:
        self._stop_thread()
        self.succeeded.emit(result)
        self.finished.emit()

    def _on_failure(self, exc) -> None:
        self._stop_thread()
        self.failed.emit(exc)
        self.finished.emit()

    def wait(self, msecs: int | None = 60_000) -> bool:
        """Wait for the worker thread to end; ``None`` waits however long it takes."""
        return self._thread.wait() if msecs is None else self._thread.wait(msecs)
