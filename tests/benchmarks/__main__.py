"""python -m tests.benchmarks [--audits N] [--data-dir DIR] [--quick] [--rebuild] [--verify]
[--import-rows N] [--import-repeat N] [--starts N] [--engines sqlite,postgresql --pg-url URL
[--pg-rtt-ms MS]]"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

from sefton_qa.services import audits as audit_service
from sefton_qa.services.session import Session, sign_in
from sefton_qa.services.summary import period_summary
from sefton_qa.services.verify import verify_store
from sefton_qa.store import audits as audit_store
from sefton_qa.store import open_store
from sefton_qa.store.audits import RegisterFilter

from . import build as builder
from . import checks, importing, pack, report, startup
from . import engines as engine_bench
from .bare import BareSearch, BareStore, audits_schema, audits_triggers
from .register import FILTER_AREA, FILTER_GRADE, bench_screens, statistics_line
from .report import Row, Target
from .timing import Timing, time_in_turn
from .workload import AuditFactory, audit_row, last_full_quarter, load_org

DEFAULT_N = 1_000_000
QUICK_N = 20_000
VERIFY_UP_TO = 50_000  # fresh builds this small are verified (trail chain and replay) unasked
QUICK_IMPORT_ROWS = 10_000
ENGINES = ("sqlite", "postgresql")


def compare(sefton: Callable[[int], object], bare: Callable[[int], object], *, repeat: int,
            warmup: int) -> tuple[Timing, Timing]:
    """Time the Sefton QA operation and its bare sqlite3 equivalent the same way, in turn."""
    ours, theirs = time_in_turn((sefton, bare), repeat=repeat, warmup=warmup)
    return ours, theirs


def bench_log_one(session: Session, bare: BareStore, factory: AuditFactory,
                  repeat: int) -> Row:
    warmup = 20
    inputs = factory.today_audits(warmup + repeat)
    rows = [audit_row(a) for a in inputs]
    sefton, plain = compare(
        lambda i: audit_service.create_audit(session, inputs[i], submit=True),
        lambda i: bare.insert_one(rows[i]), repeat=repeat, warmup=warmup)
    return report.latency_row(f"log one audit (create_audit, x{repeat})", sefton, plain,
                              Target(3, "ms median", at_least=False))


def bench_register(session: Session, bare: BareStore, area_id: int, today: dt.date,
                   repeat: int, notes: list[str]) -> Row:
    start = today - dt.timedelta(days=365)
    f = RegisterFilter(date_from=start, date_to=today, service_area_id=area_id,
                       grade=FILTER_GRADE)
    conn = session.store.conn
    ours, theirs = (audit_store.register_page(conn, f, offset=0, limit=100),
                    bare.first_page(area_id, FILTER_GRADE.value, start, today))
    assert len(ours) == len(theirs) == 100, (len(ours), len(theirs))
    notes.append(f"Register filter: {FILTER_GRADE.label.lower()}, {FILTER_AREA}, "
                 f"{start:%d/%m/%Y} to {today:%d/%m/%Y}: "
                 f"{audit_store.register_count(conn, f):,} audits match; first page of 100, "
                 "newest first.")
    sefton, plain = compare(
        lambda _: audit_store.register_page(conn, f, offset=0, limit=100),
        lambda _: bare.first_page(area_id, FILTER_GRADE.value, start, today),
        repeat=repeat, warmup=10)
    return report.latency_row(f"register: grade + area + 12 months, first 100 (x{repeat})",
                              sefton, plain, Target(20, "ms median", at_least=False))


def bench_summary(session: Session, bare: BareStore, today: dt.date, repeat: int,
                  notes: list[str]) -> Row:
    start, end = last_full_quarter(today)
    summary = period_summary(session.store, start, end)
    assert summary["total"] > 0 and bare.grade_counts(start, end)
    notes.append(f"Period summary: {start:%d/%m/%Y} to {end:%d/%m/%Y}, "
                 f"{summary['total']:,} submitted audits (plus the quarter before, by service "
                 "area and by team); bare is one GROUP BY overall_grade for the quarter.")
    sefton, plain = compare(lambda _: period_summary(session.store, start, end),
                            lambda _: bare.grade_counts(start, end), repeat=repeat, warmup=3)
    return report.latency_row(f"period summary, one quarter (x{repeat})", sefton, plain,
                              Target(100, "ms median", at_least=False))


def verify(path: Path) -> None:
    """Check the store the way `sefton-qa verify` does: a speed-up that changed a trail hash
    or a record's content fails here."""
    print(f"Verifying {path} ...", file=sys.stderr, flush=True)
    with open_store(path) as store:
        result = verify_store(store)
    for line in result.lines():
        print("  " + line, file=sys.stderr, flush=True)
    if not result.ok:
        raise SystemExit(f"{path} failed verification; the figures would mean nothing.")


def growth_note(build: builder.Build) -> list[str]:
    """How the insert rate fell as the store grew: the first and the last ten batches."""
    if len(build.sefton.samples) < 20:
        return []
    sizes = [min(builder.BATCH, build.n - i * builder.BATCH)
             for i in range(len(build.sefton.samples))]

    def rate(t: Timing, part: slice) -> str:
        return f"{sum(sizes[part]) / sum(t.samples[part]):,.0f}"

    first, last = slice(0, 10), slice(-10, None)
    return [f"Bulk insert as the store grows (first ten batches, then last ten): Sefton QA "
            f"{rate(build.sefton, first)} then {rate(build.sefton, last)} audits/s; bare "
            f"{rate(build.bare, first)} then {rate(build.bare, last)} audits/s."]


def file_size(path: Path) -> str:
    wal = path.with_name(path.name + "-wal")
    size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return f"{size / 2**20:,.0f} MiB"


def code_version() -> str:
    """The commit the code is at, and whether sefton_qa/ has changes not yet committed."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes in sefton_qa/"
                   if git("status", "--porcelain", "--", "sefton_qa") else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--audits", type=int, help=f"audits in the store (default {DEFAULT_N:,})")
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"),
                        help="where the stores and results.md go (default ./bench-data/)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a fast check with {QUICK_N:,} audits")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the stores again even if they exist for this N")
    parser.add_argument("--verify", action="store_true",
                        help="verify the store (integrity, trail chain, replay) before timing; "
                             f"fresh builds of up to {VERIFY_UP_TO:,} audits always are")
    parser.add_argument("--repeat", type=int, default=300,
                        help="calls timed for logging one audit (queries: a third of it)")
    parser.add_argument("--import-rows", type=int,
                        help=f"rows in the import files (default {importing.ROWS:,}; "
                             f"{QUICK_IMPORT_ROWS:,} with --quick)")
    parser.add_argument("--import-repeat", type=int, default=3,
                        help="imports timed for each file, each into a fresh store (default 3)")
    parser.add_argument("--starts", type=int, default=startup.RUNS,
                        help=f"cold starts timed of each window (default {startup.RUNS})")
    parser.add_argument("--engines", "--engine", default="sqlite",
                        help="comma-separated, of sqlite (the benchmarks of the SQLite store, "
                             "against bare sqlite3) and postgresql (the same operations on a "
                             "PostgreSQL copy of the store, timed beside the SQLite store's, as "
                             "ratios; needs --pg-url); default sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("SEFTON_BENCH_PG_URL"),
                        help="libpq URL of a PostgreSQL server's maintenance database, for a "
                             "login that may create databases (fresh ones are made and dropped "
                             "there), e.g. postgresql://postgres@/postgres?host=/tmp/pgdev "
                             "(default $SEFTON_BENCH_PG_URL)")
    parser.add_argument("--pg-rtt-ms", type=float, default=1.0,
                        help="also time the save on PostgreSQL over TCP with this much round "
                             "trip added by a local delay proxy (default 1; 0 skips it)")
    args = parser.parse_args(argv)
    engines = [e.strip().lower() for e in args.engines.split(",") if e.strip()]
    engines = ["postgresql" if e in ("pg", "postgres") else e for e in engines]
    if not engines or any(e not in ENGINES for e in engines):
        parser.error(f"--engines takes {' and/or '.join(ENGINES)}, comma-separated")
    if "postgresql" in engines and not args.pg_url:
        parser.error("--engines postgresql needs --pg-url (a server where databases can be "
                     "created)")
    n = args.audits or (QUICK_N if args.quick else DEFAULT_N)
    import_rows = args.import_rows or (QUICK_IMPORT_ROWS if args.quick else importing.ROWS)
    paths = builder.Paths.for_n(args.data_dir, n)

    load_before = os.getloadavg()[0]
    code_before = code_version()  # what this process imports now; child processes import later
    build = None if args.rebuild else builder.existing(paths, n)
    reused = build is not None
    if build is None:
        build = builder.build(paths, n)
    verified = args.verify or (not reused and n <= VERIFY_UP_TO)
    if verified:
        verify(paths.store)

    os.sync()  # so writeback left from building (or an earlier run) does not land in timings
    section, plans = None, ""
    if "postgresql" in engines:
        # First, while the SQLite store holds just what was copied: both engines start equal.
        section, plans = engine_bench.run(
            paths, args.data_dir, admin_url=args.pg_url, repeat=args.repeat,
            import_rows=import_rows, import_repeat=args.import_repeat, rtt_ms=args.pg_rtt_ms)
        os.sync()
    notes: list[str] = []
    rows: list[Row] = []
    with open_store(paths.store) as store:
        session = sign_in(store, os_user=builder.OS_USER)
        statistics = statistics_line(store.conn)  # the planner's, as the timings meet them
        today = session.today()
        org = load_org(session)
        factory = AuditFactory(org, today=today, batches=1)
        bare = BareStore(paths.bare)
        search = BareSearch(paths.store)
        try:
            queries = max(30, args.repeat // 3)
            if "sqlite" in engines:
                print("Timing ...", file=sys.stderr, flush=True)
            rows = [] if "sqlite" not in engines else [
                report.rate_row(f"bulk insert via add_audits ({builder.BATCH:,}/transaction)",
                                n, build.sefton, build.bare,
                                Target(50_000, "audits/s", at_least=True)),
                bench_log_one(session, bare, factory, args.repeat),
                bench_register(session, bare, org.area_ids[FILTER_AREA], today, queries, notes),
                bench_summary(session, bare, today, max(10, args.repeat // 10), notes),
                *bench_screens(session, bare, search, org.area_ids[FILTER_AREA], today, queries,
                               notes),
                *pack.bench_packs(session, args.data_dir / "pack-scratch",
                                  max(5, args.repeat // 60), notes),
                *importing.bench_import(args.data_dir, import_rows, audits_schema(store.conn),
                                        args.import_repeat, notes),
                startup.bench_cold_start(session, notes, args.starts),
                checks.bench_open_check(paths.store, max(10, args.repeat // 10), notes),
                checks.bench_full_check(paths.store, n, notes),
                checks.bench_gui_during_check(paths.store, args.data_dir / "gui-lag", notes),
            ]
            held = audit_store.count(store.conn)
            indexes = len(audits_schema(store.conn)) - 1
            triggers = audits_triggers(store.conn)
        finally:
            search.close()
            bare.close()

    code_after = code_version()
    header = [
        f"N = {n:,} audits (store holds {held:,}: N + {build.demo_audits} demo + "
        f"{held - n - build.demo_audits:,} logged by timing runs)",
        f"store {file_size(paths.store)} ({paths.store}); bare sqlite3 file "
        f"{file_size(paths.bare)}",
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; WAL, synchronous=FULL on both",
        statistics,
        f"code: commit {code_before}" + ("" if code_after == code_before else
                                         f"; {code_after} by the end of the run (the "
                                         "cold-start processes may have run that)"),
        f"load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end "
        "(this process alone adds about 1; more means something else was busy)",
        f"run {dt.datetime.now():%Y-%m-%d %H:%M}"
        + ("; store verified before timing (integrity, trail chain, replay)" if verified else ""),
    ]
    notes = [
        f"Bulk insert: measured while building the store ({build.built_at}"
        f"{', reused this run' if reused else ''}): validation, audit rows, themes and trail "
        "rows, one transaction per batch; bare is executemany of the same audit rows into "
        f"the same table and its {indexes} indexes: no themes, no trail"
        + (f", no triggers (the store has {', '.join(triggers)})." if triggers else "."),
        *growth_note(build),
        "Log one audit: create_audit(submit=True) = validation, insert, read-back, trail row, "
        "commit; bare is one INSERT and its commit.",
        *notes,
        "Bare is plain sqlite3 doing the same work without the app's code, unless a note says "
        "otherwise (python-calamine for the XLSX import, a bare PySide6 window for cold start); — "
        "where no bare comparison makes sense. Ratio is the Sefton QA figure over the bare "
        "one: for the insert rate below 1 means slower, for times above 1 means slower. "
        "Times are medians (p95 in brackets) of repeated calls after a warm-up, with "
        "time.perf_counter.",
    ]
    if "sqlite" not in engines:
        notes = []
    title = "Sefton QA benchmarks"
    if rows:
        text, md = report.plain([title] + header, rows, notes), \
            report.markdown(title, header, rows, notes)
    else:  # --engines postgresql alone: the run's facts, then the engines' table
        text = "\n".join([title] + header) + "\n"
        md = "\n".join([f"# {title}", ""] + [f"- {h}" for h in header]) + "\n"
    if section is not None:
        text += "\n" + report.plain([section.title] + section.header, section.rows,
                                    section.notes, columns=engine_bench.COLUMNS)
        md += "\n" + report.markdown(section.title, section.header, section.rows,
                                     section.notes, columns=engine_bench.COLUMNS, level=2)
    print()
    print(text)
    paths.store.parent.joinpath("results.md").write_text(md, encoding="utf-8")
    plans_file = paths.store.parent / "pg-plans.md"
    if plans:
        plans_file.write_text(plans, encoding="utf-8")
        print(f"PostgreSQL plans of the missed targets: {plans_file}")
    else:
        plans_file.unlink(missing_ok=True)  # an earlier run's, not this one's
    met = all(r.target.met(r.value) for r in rows) and (section is None or section.ok)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
