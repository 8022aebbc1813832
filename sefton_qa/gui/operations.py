"""The one path for every data change the window makes (Anki's ``CollectionOp`` is the model).

``Operations.call(fn)`` runs ``fn(session)`` (a service call) on one worker thread with its own
connection to the store, never on the GUI thread, so a save that has to wait for another
person's long write (up to 15 s on a server) leaves the window painting and answering. The
caller waits in a local event loop and gets ``fn``'s result, or its exception raised again, so
a form keeps its own flow (validation problems shown at the fields). Errors that are not the
user's to fix (a bug) are shown in one place, the error dialog, by :meth:`Operations.call`
itself when ``show_errors`` is set.

Every change that commits is announced once, app-wide, by ``changed``: a :class:`Change`
whose ``touched`` lists every (table, record) the call wrote a trail row for, whatever
services it went through, so each page refreshes only when a table it shows was touched.

Operations run one at a time, in the order asked. The worker's store is opened on first use
(read-only when the window's is) and reopened after :meth:`reset`.
"""

from __future__ import annotations

import atexit
import dataclasses
import threading
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, QThread, Signal, Slot

from sefton_qa.domain.models import Change
from sefton_qa.services.session import Session
from sefton_qa.store import open_store
from sefton_qa.store import trail

OperationFn = Callable[[Session], Any]


class _Job:
    def __init__(self, fn: OperationFn, caller: Session):
        self.fn = fn
        self.caller = caller
        self.result: Any = None
        self.error: BaseException | None = None
        self.touched: frozenset = frozenset()
        self.done = threading.Event()


class _Runner(QObject):
    """Lives on the worker thread: runs each job on the worker's own store."""

    finished = Signal(object)
    waiting = Signal(object)

    def __init__(self, owner: "Operations"):
        super().__init__()
        self._owner = owner
        self.store = None

    def _store(self):
        if self.store is None:
            main = self._owner.session.store
            self.store = open_store(main.location if not main.dialect.is_file else main.path,
                                    migrate=False, read_only=main.read_only)
            # A save that must wait for another writer says what it waits for (GUI thread).
            self.store.on_wait = self.waiting.emit
            for prepare in list(self._owner.on_worker_store):
                prepare(self.store)
        return self.store

    @Slot(object)
    def execute(self, job: _Job) -> None:
        try:
            caller = job.caller
            # The caller, on the worker's connection (several people may share one store in
            # tests; the window's own user in use).
            session = Session(store=self._store(), actor=caller.actor, os_user=caller.os_user,
                              today=caller.today)
            with trail.collect_touched() as touched:
                job.result = job.fn(session)
            job.touched = frozenset(touched)
            job.actor = session.actor  # a service may have renamed them (set-up)
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
            job.error = exc
        finally:
            job.done.set()
            self.finished.emit(job)

    @Slot(object)
    def close_store(self, done: threading.Event) -> None:
        try:
            if self.store is not None:
                self.store.close()
            self.store = None
        finally:
            done.set()


def call(session: Session, fn: OperationFn) -> Any:
    """``fn(session)``, a service write, through the store's one operations path."""
    return for_session(session).call(fn, session)


def for_session(session: Session) -> "Operations":
    """The operations path of ``session``'s store: one per open store, shared by its window,
    pages and forms, ended when the store closes."""
    ops = _BY_STORE.get(id(session.store))
    if ops is None or ops.session.store is not session.store:
        ops = Operations(session)
        _BY_STORE[id(session.store)] = ops
        store = session.store

        def ended(key=id(store)) -> None:
            ops.close()
            if _BY_STORE.get(key) is ops:
                del _BY_STORE[key]

        store.on_close.append(ended)
    return ops


@atexit.register
def _close_all() -> None:
    """The process is ending without its stores closed (a script, a crash path): end every
    worker thread first, or Qt aborts on a thread destroyed while running."""
    for ops in list(_BY_STORE.values()):
        ops.close()
    _BY_STORE.clear()


_BY_STORE: dict[int, "Operations"] = {}


class Operations(QObject):
    """One per open store (:func:`for_session`). See the module's docstring."""

    changed = Signal(object)  # a Change, with every table and record touched
    waiting = Signal(object)  # what another user's write, holding up a save, is (or None)
    _submit = Signal(object)
    _close = Signal(object)

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        #: Called with the worker's store when it is opened (tests set connection limits).
        self.on_worker_store: list[Callable] = []
        self._thread = QThread()
        self._thread.setObjectName("sefton-qa-operations")
        self._runner = _Runner(self)
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.execute)
        self._close.connect(self._runner.close_store)
        self._runner.waiting.connect(self.waiting)
        self._running = 0  # the thread starts with the first operation

    @property
    def worker_store(self):
        """The worker's store (None until the first operation)."""
        return self._runner.store

    @property
    def busy(self) -> bool:
        return self._running > 0

    def call(self, fn: OperationFn, session: Session | None = None) -> Any:
        """Run ``fn(session)`` on the worker, as ``session``'s user (the window's by default),
        and return its result; its exception is raised here. The GUI thread keeps handling
        events meanwhile (painting, timers), so nothing freezes; the change is announced
        app-wide when it commits."""
        caller = session or self.session
        if not self._thread.isRunning():
            self._thread.start()
        job = _Job(fn, caller)
        loop = QEventLoop()
        self._runner.finished.connect(loop.quit)
        self._running += 1
        try:
            self._submit.emit(job)
            while not job.done.is_set():
                loop.exec()
        finally:
            self._running -= 1
            self._runner.finished.disconnect(loop.quit)
        if job.error is not None:
            raise job.error
        if getattr(job, "actor", None) is not None:
            caller.actor = job.actor
        self._announce(job)
        return job.result

    def _announce(self, job: _Job) -> None:
        if not job.touched:
            return
        if isinstance(job.result, Change):
            job.result = change = dataclasses.replace(job.result, touched=job.touched)
        else:  # a call that returns something else (set-up's summary): what it touched
            change = Change("", (), "change", job.touched)
        self.changed.emit(change)

    def reset(self) -> None:
        """Close the worker's store: the next operation opens it afresh (after the window's
        store switched to read-only, say)."""
        if self._thread.isRunning():
            done = threading.Event()
            self._close.emit(done)
            done.wait(60)

    def close(self) -> None:
        """Close the worker's store and end its thread (the window is closing)."""
        if not self._thread.isRunning():
            return
        self.reset()
        self._thread.quit()
        self._thread.wait(60_000)
