"""Hearing about other people's changes: the trail's head, watched from a background thread.

On a server each committed trail row notifies the channel ``sefton_trail`` (the trail's guard
trigger sends ``"<head seq> <table>,<table>"`` at COMMIT); a :class:`TrailWatcher` listens on a
connection of its own and calls back within moments. Where notifications cannot be had (LISTEN
fails, the connection drops, a store file), it polls the trail's head every ``poll_s`` seconds
instead, and after every reconnect compares the last head it saw with the trail's, so nothing
committed meanwhile is missed. The same poll tells two windows on one store file about each
other's changes. Qt-free: the GUI wraps the callback in a signal.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

CHANNEL = "sefton_trail"

#: ``on_change(head_seq, tables)``: tables is a frozenset of table names, or None for "any"
#: (a poll or a catch-up cannot say which).
OnChange = Callable[[int, "frozenset[str] | None"], None]


def head_of(conn) -> int:
    return conn.execute("SELECT coalesce(max(seq), 0) FROM trail").fetchone()[0]


class TrailWatcher:
    def __init__(self, location, on_change: OnChange, *, poll_s: float = 30.0,
                 seen: int | None = None, own_pid: int | None = None,
                 on_connection: Callable[[bool], None] | None = None):
        from sefton_qa.store import postgres

        self.location = location
        self.on_change = on_change
        self.poll_s = poll_s
        self.on_server = postgres.is_server_location(str(location))
        self.seen = seen
        #: The server process of the window's own connection: its changes are already shown.
        self.own_pid = own_pid
        self.listening = False
        #: Whether the server can be reached (None until the first try); ``on_connection``
        #: hears each change, so the window can say a connection was lost, and found again.
        self.connected: bool | None = None
        self.on_connection = on_connection
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sefton-trail-watcher",
                                        daemon=True)

    def start(self) -> "TrailWatcher":
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop watching; wait up to ``timeout`` seconds for the thread (None: do not wait,
        it ends by itself within half a second and closes its connection)."""
        self._stop.set()
        if timeout is not None and self._thread.is_alive():
            self._thread.join(timeout)

    # -- the thread ---------------------------------------------------------------------------
    def _changed(self, head: int, tables) -> None:
        if self.seen is not None and head <= self.seen:
            return
        self.seen = head
        try:
            self.on_change(head, tables)
        except Exception:  # noqa: BLE001 - a receiver's problem never stops the watching
            pass

    def _connection(self, up: bool) -> None:
        if self.connected != up:
            self.connected = up
            if self.on_connection is not None and not self._stop.is_set():
                try:
                    self.on_connection(up)
                except Exception:  # noqa: BLE001
                    pass

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.on_server:
                    self._listen()
                else:
                    self._poll_file()
            except Exception:  # noqa: BLE001 - the connection dropped: try again shortly
                self.listening = False
                if self.on_server:
                    self._connection(False)
                self._stop.wait(min(self.poll_s, 1.0))

    def _catch_up(self, conn) -> None:
        head = head_of(conn)
        if self.seen is None:
            self.seen = head
        elif head > self.seen:
            self._changed(head, None)

    def _listen(self) -> None:
        import psycopg

        from sefton_qa.store import postgres

        conn = postgres.connect(str(self.location)).raw
        try:
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                self.listening = True
            except psycopg.Error:
                self.listening = False
            self._catch_up(conn)
            self._connection(True)
            last_poll = time.monotonic()
            while not self._stop.is_set():
                if conn.broken or conn.closed:
                    raise ConnectionError("the connection to the server was lost")
                if self.listening:
                    for note in conn.notifies(timeout=0.5, stop_after=50):
                        head, _, tables = note.payload.partition(" ")
                        if note.pid == self.own_pid:
                            self.seen = max(self.seen or 0, int(head))
                            continue
                        self._changed(int(head), frozenset(filter(None, tables.split(","))))
                else:
                    self._stop.wait(0.5)
                if time.monotonic() - last_poll >= self.poll_s:
                    # the head moving with no notification (LISTEN refused, a lost message)
                    self._catch_up(conn)
                    last_poll = time.monotonic()
        finally:
            self.listening = False
            conn.close()

    def _poll_file(self) -> None:
        # A connection only for the moment of each look: one held open would keep the file
        # busy, and a restore waits for every connection to let go.
        from sefton_qa.store.backups import open_read_only

        while True:
            conn = open_read_only(Path(self.location))
            try:
                self._catch_up(conn)
            finally:
                conn.close()
            if self._stop.wait(self.poll_s):
                return
