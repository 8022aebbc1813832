"""Time one CSV import into a fresh store, outside the benchmark harness (issue 18).

    python scripts/time_import.py ROWS [--pg URL] [--profile]

The file is the import benchmark's own (tests/benchmarks/importing.py, made once under
/tmp/sefton-qa-time-import). Prints the wall and CPU time, the peak RSS of this process and
the time of each phase (the import's progress messages); --profile adds cProfile's top
functions. With --pg, a database named sefton_qa_time_import is dropped and made again on
that server (a superuser's URL, e.g. postgresql://postgres@/postgres?host=/tmp/pgdev).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sefton_qa.services.import_export import import_audits  # noqa: E402
from sefton_qa.services.session import sign_in  # noqa: E402
from sefton_qa.store import open_store  # noqa: E402
from tests.benchmarks import importing  # noqa: E402

WORK = Path("/tmp/sefton-qa-time-import")
DATABASE = "sefton_qa_time_import"


def fresh_store(pg: str | None):
    if pg is None:
        scratch = WORK / "store"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        return open_store(scratch / "store.sqlite3")
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    return open_store(make_conninfo(**dict(conninfo_to_dict(pg), dbname=DATABASE)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("--pg", metavar="URL")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"import-{args.rows}-v{importing.FORMAT}.csv"
    if not path.exists():
        importing._write_csv(path, args.rows)
    store = fresh_store(args.pg)
    session = sign_in(store, os_user="bench")
    marks: list[tuple[float, str]] = []

    def progress(_done, _total, message):
        word = message.split(" ")[0]
        if not marks or marks[-1][1] != word:
            marks.append((time.perf_counter(), word))

    profile = cProfile.Profile() if args.profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    report = import_audits(session, path, create_missing=True, progress=progress)
    if profile:
        profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    assert report.ok and report.added == args.rows, report.lines()[:5]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    phases = ", ".join(f"{a[1].lower()} {b[0] - a[0]:.2f} s" for a, b in zip(marks, marks[1:]))
    print(f"{'PostgreSQL' if args.pg else 'SQLite'}, {args.rows:,} rows: {wall:.2f} s "
          f"(CPU {cpu:.2f} s, peak RSS {peak:.0f} MB); {phases}")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
