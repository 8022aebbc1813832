"""A loopback TCP proxy that adds latency: every chunk it forwards waits ``delay`` seconds
first, in each direction (0.5 ms each way is about 1 ms of added round trip).

Run as its own process, so the benchmark's Python (and its GIL) never holds a chunk back::

    python -m tests.benchmarks.proxy --target 127.0.0.1:5432 [--delay-ms 0.5]
        [--max-seconds 900] [--max-connections 8]

It listens on 127.0.0.1 only, on a free port that it prints on its first line of stdout
("listening PORT"), and stops by itself: after ``--max-seconds``, when its parent process goes
away, or when its stdin is closed (how :class:`DelayProxy` stops it). At most
``--max-connections`` clients at once; more are refused. On stopping it prints one line of
counts ("chunks C2S S2C connections N") to stdout.

Each direction has a reader thread (which stamps every chunk as it arrives) and a writer thread
(which sends it ``delay`` after its stamp), so chunks keep their order and the delay does not
pile up when several are in flight. The writer sleeps most of the delay and spins the last
0.2 ms, since ``time.sleep`` alone overshoots by about 0.1 ms a chunk.
"""

from __future__ import annotations

import argparse
import os
import queue
import socket
import subprocess
import sys
import threading
import time

CHUNK = 65536
SPIN = 0.0002  # the last of each delay is spun, not slept: time.sleep overshoots


class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.c2s = 0
        self.s2c = 0
        self.connections = 0

    def add(self, upstream: bool) -> None:
        with self.lock:
            if upstream:
                self.c2s += 1
            else:
                self.s2c += 1


def _pipe(src: socket.socket, dst: socket.socket, delay: float, counts: _Counts,
          upstream: bool, done: threading.Event) -> list[threading.Thread]:
    chunks: queue.Queue = queue.Queue()

    def read() -> None:
        try:
            while not done.is_set():
                data = src.recv(CHUNK)
                if not data:
                    break
                chunks.put((time.perf_counter() + delay, data))
        except OSError:
            pass
        chunks.put(None)

    def write() -> None:
        try:
            while True:
                item = chunks.get()
                if item is None:
                    break
                due, data = item
                wait = due - time.perf_counter()
                if wait > SPIN:
                    time.sleep(wait - SPIN)  # sleeping overshoots by ~0.1 ms: spin the rest
                while time.perf_counter() < due:
                    time.sleep(0)  # lets the other threads have the GIL meanwhile
                dst.sendall(data)
                counts.add(upstream)
        except OSError:
            pass
        finally:
            done.set()
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    return [threading.Thread(target=read, daemon=True), threading.Thread(target=write,
                                                                         daemon=True)]


def serve(target: tuple[str, int] | str, delay: float, max_seconds: float, max_connections: int,
          out=sys.stdout) -> _Counts:
    counts = _Counts()
    live: list[threading.Event] = []
    deadline = time.monotonic() + max_seconds
    parent = os.getppid()
    stop = threading.Event()

    def watch_stdin() -> None:
        try:
            while sys.stdin.buffer.read(1):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(max_connections)
    listener.settimeout(0.2)
    print(f"listening {listener.getsockname()[1]}", file=out, flush=True)
    try:
        while not stop.is_set() and time.monotonic() < deadline and os.getppid() == parent:
            try:
                client, _ = listener.accept()
            except socket.timeout:
                live[:] = [e for e in live if not e.is_set()]
                continue
            live[:] = [e for e in live if not e.is_set()]
            if len(live) >= max_connections:
                client.close()
                continue
            try:
                if isinstance(target, str):  # a Unix socket (a test server's)
                    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    server.settimeout(10)
                    server.connect(target)
                else:
                    server = socket.create_connection(target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for s in (client, server):
                if s.family != socket.AF_UNIX:
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            done = threading.Event()
            live.append(done)
            counts.connections += 1
            for t in (_pipe(client, server, delay, counts, True, done)
                      + _pipe(server, client, delay, counts, False, done)):
                t.start()
    finally:
        listener.close()
        for done in live:
            done.set()
    return counts


class DelayProxy:
    """The proxy in a child process: ``with DelayProxy(("127.0.0.1", 5432), 0.0005) as p:``
    then connect to ``127.0.0.1:p.port``. The chunk counts are read when it stops
    (``self.c2s``, ``self.s2c``, ``self.connections``)."""

    def __init__(self, target: tuple[str, int] | str, delay: float, *,
                 max_seconds: float = 900,
                 max_connections: int = 8):
        self.target = target
        self.delay = delay
        self.max_seconds = max_seconds
        self.max_connections = max_connections
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.c2s = self.s2c = self.connections = 0

    def __enter__(self) -> "DelayProxy":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.proxy",
             "--target", (f"unix:{self.target}" if isinstance(self.target, str)
                          else f"{self.target[0]}:{self.target[1]}"),
             "--delay-ms", str(1000 * self.delay), "--max-seconds", str(self.max_seconds),
             "--max-connections", str(self.max_connections)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "listening":
            self.stop()
            raise RuntimeError(f"the delay proxy did not start ({line})")
        self.port = int(line[1])
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            # communicate closes the child's stdin: it stops within 0.2 s
            out, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        for line in out.splitlines():
            parts = line.split()
            if parts[:1] == ["chunks"] and len(parts) == 5:
                self.c2s, self.s2c, self.connections = int(parts[1]), int(parts[2]), int(parts[4])
        self.process = None

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.proxy",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True,
                        help="HOST:PORT to forward to, or unix:PATH (a Unix socket)")
    parser.add_argument("--delay-ms", type=float, default=0.5,
                        help="added to each chunk, each way (default 0.5)")
    parser.add_argument("--max-seconds", type=float, default=900,
                        help="stop after this long (default 900)")
    parser.add_argument("--max-connections", type=int, default=8)
    args = parser.parse_args(argv)
    if args.target.startswith("unix:"):
        target: tuple[str, int] | str = args.target[len("unix:"):]
    else:
        host, _, port = args.target.rpartition(":")
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("the proxy forwards to this machine only")
        target = (host, int(port))
    counts = serve(target, args.delay_ms / 1000, args.max_seconds, args.max_connections)
    print(f"chunks {counts.c2s} {counts.s2c} connections {counts.connections}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
