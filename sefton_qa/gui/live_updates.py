"""Other people's changes, shown without asking: a :class:`~sefton_qa.store.live.TrailWatcher`
on a thread of its own, its callback turned into a Qt signal (delivered on the GUI thread)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from sefton_qa.store.live import TrailWatcher

#: Seconds between polls of the trail's head where notifications cannot be had (a store file,
#: or a server that refused LISTEN).
POLL_S = 30.0


class LiveUpdates(QObject):
    #: (the trail's new head, the tables changed or None for "any")
    changed = Signal(int, object)
    #: True when the server can be reached again, False when the connection was lost
    connection = Signal(bool)

    def __init__(self, store, parent=None, *, poll_s: float = POLL_S):
        super().__init__(parent)
        location = store.location if store.location is not None else store.path
        raw = getattr(store.conn, "raw", None)
        own_pid = raw.info.backend_pid if raw is not None else None
        self.watcher = TrailWatcher(location, self._heard, poll_s=poll_s, own_pid=own_pid,
                                    on_connection=self.connection.emit)

    def start(self) -> "LiveUpdates":
        self.watcher.start()
        return self

    def _heard(self, head: int, tables) -> None:  # on the watcher's thread
        self.changed.emit(head, tables)

    def stop(self) -> None:
        """Without waiting: closing a window never waits for its watcher."""
        self.watcher.stop(timeout=None)
