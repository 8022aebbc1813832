"""Build (once) the benchmark store and its bare twin; reuse them while N is unchanged.

The bulk-insert figures are measured while building: every batch of the store goes through
``services.audits.add_audits`` (the import path), every batch of the bare file through one
``executemany``. They are kept in a small JSON file next to the stores.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sefton_qa.services import audits as audit_service
from sefton_qa.services.demo import generate_demo
from sefton_qa.services.session import sign_in
from sefton_qa.store import audits as audit_store
from sefton_qa.store import open_store
from sefton_qa.store.migrations import KNOWN_MIGRATIONS

from .bare import BareStore, audits_schema
from .timing import Timing, time_calls
from .workload import AuditFactory, audit_row, load_org

BATCH = 10_000
OS_USER = "bench"
FORMAT = 1  # bump when the workload changes, so old stores are rebuilt
SCHEMA = list(KNOWN_MIGRATIONS)  # a new migration means a rebuild (not a migration of 1M rows)


@dataclass(frozen=True)
class Paths:
    store: Path
    bare: Path
    meta: Path

    @classmethod
    def for_n(cls, data_dir: Path, n: int) -> "Paths":
        return cls(data_dir / f"store-{n}.sqlite3", data_dir / f"bare-{n}.sqlite3",
                   data_dir / f"build-{n}.json")

    def all_files(self) -> list[Path]:
        files = [self.meta]
        for db in (self.store, self.bare):
            files += [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        return files


@dataclass(frozen=True)
class Build:
    """What building measured."""

    n: int
    built_at: str
    demo_audits: int
    sefton: Timing  # one sample per batch
    bare: Timing

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "schema": SCHEMA, "n": self.n,
                           "built_at": self.built_at, "demo_audits": self.demo_audits,
                           "sefton_batch_seconds": self.sefton.samples,
                           "bare_batch_seconds": self.bare.samples}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Build | None":
        data = json.loads(text)
        if data.get("format") != FORMAT or data.get("schema") != SCHEMA:
            return None
        return cls(data["n"], data["built_at"], data["demo_audits"],
                   Timing(tuple(data["sefton_batch_seconds"])),
                   Timing(tuple(data["bare_batch_seconds"])))


def existing(paths: Paths, n: int) -> Build | None:
    if not (paths.meta.exists() and paths.store.exists() and paths.bare.exists()):
        return None
    build = Build.from_json(paths.meta.read_text(encoding="utf-8"))
    return build if build is not None and build.n == n else None


def build(paths: Paths, n: int) -> Build:
    for f in paths.all_files():
        f.unlink(missing_ok=True)
    paths.store.parent.mkdir(parents=True, exist_ok=True)
    batches = math.ceil(n / BATCH)

    def size(i: int) -> int:
        return min(BATCH, n - i * BATCH)

    def batch(i: int):
        if i % 10 == 0 or i == batches - 1:
            print(f"  batch {i + 1}/{batches}", file=sys.stderr, flush=True)
        return factory.batch(i, size(i))

    with open_store(paths.store) as store:
        session = sign_in(store, os_user=OS_USER)
        generate_demo(session, months=1)  # service areas, teams and staff to point at
        demo_audits = audit_store.count(store.conn)
        factory = AuditFactory(load_org(session), today=session.today(), batches=batches)
        print(f"Building {paths.store} with {n:,} audits ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        sefton = time_calls(lambda inputs: audit_service.add_audits(session, inputs, submit=True),
                            repeat=batches, setup=batch)
        print(f"  {n:,} audits in {time.perf_counter() - started:.0f} s "
              f"({sefton.rate(n):,.0f}/s inserting)", file=sys.stderr, flush=True)
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert audit_store.count(store.conn) == n + demo_audits
        schema = audits_schema(store.conn)
    os.sync()  # the bare build starts with no writeback pending from this one

    print(f"Building {paths.bare} with the same rows ...", file=sys.stderr, flush=True)
    bare_store = BareStore.create(paths.bare, schema)
    try:
        bare = time_calls(bare_store.insert_batch, repeat=batches,
                          setup=lambda i: [audit_row(a) for a in batch(i)])
        bare_store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert bare_store.count() == n
    finally:
        bare_store.close()

    result = Build(n, dt.datetime.now().isoformat(timespec="seconds"), demo_audits, sefton,
                   bare)
    paths.meta.write_text(result.to_json(), encoding="utf-8")
    return result
