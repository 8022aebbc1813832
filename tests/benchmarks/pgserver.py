"""PostgreSQL servers for the benchmarks: fresh databases on the server that ``--pg-url``
names, and a TCP address on this machine for the round-trip measurement (that server's own
listener, or a throwaway server of our own, started as ``scripts/pg-test-server.sh`` starts one
but listening on 127.0.0.1, and stopped again at the end).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

#: As scripts/pg-test-server.sh runs its server (tests only: nothing waits for the disk).
SERVER_SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")


def connect_admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def database_url(url: str, name: str, **changes) -> str:
    """``url`` with another database (and any other libpq parameters changed)."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, dbname=name, **changes)


class Databases:
    """Fresh databases on one server, named ``<prefix>_<tag>_<k>``; :meth:`close` drops every
    one it made (and nothing else)."""

    def __init__(self, admin_url: str, prefix: str):
        self.admin_url = admin_url
        self.prefix = prefix
        self.made: list[str] = []
        self._k = itertools.count(1)

    def create(self, tag: str) -> tuple[str, str]:
        """(name, libpq URL) of a new empty database."""
        name = f"{self.prefix}_{tag}_{next(self._k)}"
        with connect_admin(self.admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return name, database_url(self.admin_url, name)

    def drop(self, name: str) -> None:
        with connect_admin(self.admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            try:
                self.drop(name)
            except Exception as exc:  # noqa: BLE001 - report, and drop the others
                print(f"Could not drop database {name}: {exc}", file=sys.stderr, flush=True)


def vacuum_analyze(url: str, schema: str = "public", tries: int = 5) -> str:
    """VACUUM ANALYZE the schema's tables, again (a second apart, ``tries`` times in all)
    while more than 1% of their pages are not marked all-visible: another session's snapshot, on a
    shared server, can keep VACUUM from marking them, and then index-only scans (counts, the
    summary) read the table too. Returns how much is marked, e.g. "3,077 of 3,077 pages
    all-visible"."""
    import time

    with connect_admin(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = %s", (schema,))]
        for attempt in range(tries):
            for table in tables:
                conn.execute(f"VACUUM ANALYZE {table}")
            visible, pages = conn.execute(
                "SELECT coalesce(sum(c.relallvisible), 0), coalesce(sum(c.relpages), 0) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = %s", (schema,)).fetchone()
            if visible >= 0.99 * pages or attempt == tries - 1:
                break
            time.sleep(1)
    return f"{visible:,} of {pages:,} pages all-visible" + (
        f" after {attempt + 1} VACUUMs" if attempt else "")


def server_facts(url: str) -> dict[str, str]:
    """What the figures depend on: version and the settings that make commits wait or not."""
    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes",
             "shared_buffers", "work_mem", "listen_addresses", "port", "jit")
    with connect_admin(url) as conn:
        return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


def tcp_address(url: str) -> tuple[str, int] | None:
    """127.0.0.1 and the port, when the server at ``url`` answers on TCP there; else None."""
    facts = server_facts(url)
    listen = {a.strip() for a in facts["listen_addresses"].split(",") if a.strip()}
    if not listen & {"*", "0.0.0.0", "127.0.0.1", "localhost"}:
        return None
    address = ("127.0.0.1", int(facts["port"]))
    try:
        with socket.create_connection(address, timeout=2):
            pass
    except OSError:
        return None
    return address


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin_dir() -> Path:
    def version(pg_ctl: Path) -> list[int]:
        return [int(x) if x.isdigit() else 0 for x in pg_ctl.parent.parent.name.split(".")]

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=version)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl); "
                           "scripts/pg-test-server.sh start installs it as root.")
    return found[-1].parent


class OwnServer:
    """A throwaway server listening on 127.0.0.1:<free port> (and a unix socket in its
    folder), with the test server's settings; started in a fresh folder directly under /tmp,
    as the ``postgres`` user when we are root. Stopped (immediate) and removed by
    :meth:`stop`, which also runs at exit if the benchmark dies first."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.port = 0
        self.admin_url = ""
        self._bin = _bin_dir()

    def _as_owner(self, *cmd: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)

    def start(self) -> "OwnServer":
        self.dir = Path(tempfile.mkdtemp(prefix="sefton-pg.", dir="/tmp"))
        atexit.register(self.stop)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        log = self.dir / "initdb.log"
        with open(log, "w") as fh:
            done = subprocess.run(self._as_owner(
                str(self._bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"),
                stdout=fh, stderr=subprocess.STDOUT, timeout=120)
        if done.returncode:
            text = log.read_text(errors="replace")
            self.stop()
            raise RuntimeError(f"initdb failed: {text[-2000:]}")
        self.port = _free_port()
        done = subprocess.run(self._as_owner(
            str(self._bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
            str(self.dir / "log"), "-w", "-s", "-t", "60", "-o",
            f"-k {self.dir} -c listen_addresses=127.0.0.1 -c port={self.port} "
            f"{SERVER_SETTINGS}", "start"), capture_output=True, text=True, timeout=120)
        if done.returncode:
            log_text = (self.dir / "log").read_text(errors="replace") \
                if (self.dir / "log").exists() else ""
            self.stop()
            raise RuntimeError(f"pg_ctl start failed: {done.stderr}{log_text[-2000:]}")
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return self

    def stop(self) -> None:
        if self.dir is None:
            return
        directory, self.dir = self.dir, None
        if (directory / "data" / "postmaster.pid").exists():
            subprocess.run(self._as_owner(str(self._bin / "pg_ctl"), "-D",
                                          str(directory / "data"), "-m", "immediate", "-w",
                                          "-s", "stop"), capture_output=True, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> "OwnServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
