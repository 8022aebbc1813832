"""A PostgreSQL server for the tests: the project's own throwaway cluster, and a database per
test cloned from a template database (about 30 ms), dropped after the test.

``SEFTON_QA_TEST_PG`` may name a server to use instead (a libpq URL of a database whose login
may create databases). Otherwise ``scripts/pg-test-server.sh`` starts one in a temporary
folder and stops it when the tests end. Under CI (``CI=true``) a server that cannot be started
fails the run; elsewhere the PostgreSQL half is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "pg-test-server.sh"


class PgServer:
    def __init__(self, url: str, folder: Path | None = None):
        import psycopg

        self.url = url
        self.folder = folder
        self.admin = psycopg.connect(url, autocommit=True)
        self._names = itertools.count(1)
        self._prefix = f"t{os.getpid()}_"

    def url_of(self, database: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.url, dbname=database)

    def create(self, name: str | None = None, *, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); its URL."""
        name = name or f"{self._prefix}{next(self._names)}"
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        clause = f' TEMPLATE "{template}"' if template else ""
        self.admin.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url_of(name)

    def drop(self, url: str) -> None:
        from psycopg.conninfo import conninfo_to_dict

        name = conninfo_to_dict(url)["dbname"]
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextlib.contextmanager
    def delayed(self, url: str, rtt_ms: float):
        """``url`` reached over TCP through tests/benchmarks/proxy.py, which adds ``rtt_ms`` of
        round trip (half each way): a council's network, on this machine."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        from benchmarks.proxy import DelayProxy

        settings = dict(self.admin.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('unix_socket_directories', 'port', 'listen_addresses')").fetchall())
        host = conninfo_to_dict(url).get("host") or "/var/run/postgresql"
        if host.startswith("/"):
            target: tuple[str, int] | str = f"{host}/.s.PGSQL.{settings['port']}"
        else:
            target = ("127.0.0.1", int(settings["port"]))
        with DelayProxy(target, rtt_ms / 2000, max_seconds=600) as proxy:
            yield make_conninfo(url, host="127.0.0.1", port=str(proxy.port))

    def close(self) -> None:
        self.admin.close()
        if self.folder is not None:
            subprocess.run(["bash", str(SCRIPT), "stop", str(self.folder)], check=False,
                           capture_output=True)


@contextlib.contextmanager
def another_users_long_write(location, what: str = "importing audits for Jo Tester"):
    """Another connection holds the writers' lock (as a long import would) until the block
    ends: the block's saves have to wait for it."""
    from sefton_qa.store import open_store

    other = open_store(location)
    holding, release = threading.Event(), threading.Event()

    def long_write():
        with other.doing(what), other.transaction() as conn:
            conn.execute("SELECT 1")  # the transaction holds the writers' lock
            holding.set()
            release.wait(20)

    worker = threading.Thread(target=long_write)
    worker.start()
    try:
        assert holding.wait(10), "the other write never started"
        yield
    finally:
        release.set()
        worker.join()
        other.close()


def start() -> tuple[PgServer | None, str]:
    """(server, "") or (None, why not)."""
    given = os.environ.get("SEFTON_QA_TEST_PG")
    if given:
        try:
            return PgServer(given), ""
        except Exception as exc:  # noqa: BLE001 - reported as the reason
            return None, f"SEFTON_QA_TEST_PG={given!r} could not be used: {exc}"
    folder = Path(tempfile.mkdtemp(prefix="sefton-pg-"))
    done = subprocess.run(["bash", str(SCRIPT), "start", str(folder)], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        return None, ("no PostgreSQL server could be started for the tests "
                      f"(scripts/pg-test-server.sh: {done.stderr.strip()[-500:]})")
    try:
        return PgServer(done.stdout.strip().splitlines()[-1], folder), ""
    except Exception as exc:  # noqa: BLE001
        subprocess.run(["bash", str(SCRIPT), "stop", str(folder)], check=False)
        return None, f"the test server started but could not be reached: {exc}"
