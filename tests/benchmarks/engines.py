"""PostgreSQL beside SQLite (``--engines sqlite,postgresql --pg-url URL``): the same Sefton QA
operations on a PostgreSQL copy of the benchmark store and on the SQLite store itself, timed in
turn in the same run, each PostgreSQL figure as a ratio to SQLite's.

The copy is made with ``services.copy_store.copy_store`` (every table and the trail, ids kept)
into a fresh database on the server ``--pg-url`` names, then ``VACUUM ANALYZE`` (what
autovacuum does within a minute or so of the copy: statistics and the visibility map). Every
database made here is dropped at the end.

Measured on both engines: the trailed save (``create_audit``), the register's first page for
every sort and filter ``register.py`` measures (its count beside it), the search counts, the
quarter's ``period_summary`` and the import of the harness's CSV and XLSX; each beside its bare
sqlite3 equivalent and a bare psycopg one (``bare_pg.py``). Then the trailed save again over
TCP through ``proxy.py``, which adds about ``--pg-rtt-ms`` of round trip: on the server's own
TCP listener if it has one on 127.0.0.1, else on a throwaway server started for it and stopped
at the end.

For every missed target the statements the operation ran are recorded (with their times) and
the slowest SELECTs are run again under ``EXPLAIN (ANALYZE, BUFFERS)``; the plans go to
``pg-plans.md`` beside ``results.md``, and a line about each into the notes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sefton_qa.services import audits as audit_service
from sefton_qa.services.copy_store import copy_store
from sefton_qa.services.import_export import import_audits
from sefton_qa.services.register import RegisterFilter
from sefton_qa.services.session import Session, sign_in
from sefton_qa.services.summary import period_summary
from sefton_qa.store import dialect, open_store
from sefton_qa.store.postgres import describe_location

from . import build as builder
from . import importing, pgserver, register
from .bare import BareSearch, BareStore, audits_schema
from .bare_pg import BarePg
from .proxy import DelayProxy
from .roundtrips import count_round_trips
from .report import Target
from .timing import Timing, time_calls, time_in_turn
from .workload import AuditFactory, audit_row, last_full_quarter, load_org

COLUMNS = ("operation", "SQLite", "PostgreSQL", "ratio (PG/SQLite)", "bare sqlite3",
           "bare psycopg", "target", "met")
NONE = "—"
SAVE_TARGET = Target(3, "× SQLite", at_least=False)
PAGE_TARGET = Target(4, "× SQLite", at_least=False)
SEARCH_COUNT_TARGET = Target(300, "ms median", at_least=False)
SUMMARY_TARGET = Target(3, "× SQLite", at_least=False)
IMPORT_TARGET = Target(3, "× SQLite", at_least=False)
RTT_SAVE_TARGET = Target(25, "ms median", at_least=False)
EXPLAINED = 3  # the slowest SELECTs of a missed operation run again under EXPLAIN ANALYZE


# -- the table ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineRow:
    operation: str
    sqlite: str
    pg: str
    ratio: float | None
    bare_sqlite: str
    bare_pg: str
    target: Target | None
    value: float | None  # what the target judges: the ratio, or PostgreSQL's median in ms
    #: Recorded statements and plans of the PostgreSQL side, asked for when the target is missed.
    explain: Callable[[], "Profile"] | None = field(default=None, compare=False, repr=False)

    @property
    def met(self) -> bool:
        return self.target is None or self.value is None or self.target.met(self.value)

    def cells(self) -> tuple[str, ...]:
        return (self.operation, self.sqlite, self.pg,
                NONE if self.ratio is None else f"{self.ratio:.2f}", self.bare_sqlite,
                self.bare_pg, NONE if self.target is None else str(self.target),
                NONE if self.target is None else ("yes" if self.met else "NO"))


@dataclass
class Section:
    title: str
    header: list[str]
    rows: list[EngineRow]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return all(r.met for r in self.rows)


def _ms(t: Timing | None, extra: str = "") -> str:
    if t is None:
        return NONE
    return f"{t.median_ms:.2f} ms (p95 {t.p95_ms:.2f}{extra})"


def _s(t: Timing | None, items: int) -> str:
    if t is None:
        return NONE
    return f"{t.median:.2f} s ({items / t.median:,.0f} rows/s)"


def _ratio(pg: Timing, sqlite: Timing) -> float:
    return pg.median / sqlite.median


# -- recording what PostgreSQL ran -----------------------------------------------------------------
class _Recorder:
    """Stands in for a store's PostgreSQL connection and notes each statement with its time
    (psycopg fetches a plain cursor's rows within execute, so its time is the statement's)."""

    def __init__(self, conn):
        self._conn = conn
        self.statements: list[tuple[str, list, float, str]] = []

    def __getattr__(self, name):
        return getattr(self._conn, name)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, sql: str, params=()):
        start = time.perf_counter()
        cur = self._conn.execute(sql, params)
        self.statements.append((sql, list(params or ()), time.perf_counter() - start, "one"))
        return cur

    def executemany(self, sql: str, rows):
        rows = list(rows)
        start = time.perf_counter()
        cur = self._conn.executemany(sql, rows)
        self.statements.append((sql, list(rows[0]) if rows else [], time.perf_counter() - start,
                                f"{len(rows):,} rows"))
        return cur


@dataclass(frozen=True)
class Profile:
    summary: str  # one line for the notes
    detail: str  # the statements and plans, for pg-plans.md
    statements: int


def _short(sql: str, width: int = 160) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= width else one[:width - 1] + "…"


_KEYED_INSERT = re.compile(r"\s*INSERT INTO \w+ \((id|seq),", re.IGNORECASE)
SHIFT = 10**9  # a written row explained again gets this added to its key: no clash, rolled back


def _explainable(sql: str, params: list) -> tuple[list, bool] | None:
    """(parameters, is a write) for a statement that can be run again under EXPLAIN ANALYZE:
    a read as it was, or an INSERT of one row keyed by id or seq with the key moved out of the
    way (then rolled back). None for the rest (the links' inserts, updates, BEGIN ...)."""
    if sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return params, False
    if _KEYED_INSERT.match(sql) and params and isinstance(params[0], int):
        return [params[0] + SHIFT, *params[1:]], True
    return None


def _plan_lines(conn, sql: str, params: list, write: bool) -> list[str]:
    explain = f"EXPLAIN (ANALYZE, BUFFERS) {sql}"
    if not write:
        return [r[0] for r in conn.execute(explain, params)]
    conn.execute("BEGIN")
    try:
        return [r[0] for r in conn.execute(explain, params)]
    finally:
        conn.execute("ROLLBACK")


def _gist(plan: list[str], k: int = 4) -> str:
    """The plan's first few nodes (and a write's triggers), one line, for the notes."""
    nodes = [line.strip().removeprefix("->").strip() for line in plan
             if line.strip().startswith("->") or line is plan[0]][:k]
    nodes += [line.strip() for line in plan if line.startswith(("Trigger", "Execution Time"))]
    return " / ".join(_short(n, 110) for n in nodes)


def profile(store, action: Callable[[], object], label: str) -> Profile:
    """Run ``action`` once with the store's connection recorded; then run the slowest
    statements again under EXPLAIN (ANALYZE, BUFFERS): reads as they were, a keyed INSERT
    (the first row of an executemany) with its key moved, inside a transaction rolled back."""
    recorder = _Recorder(store.conn)
    store.conn = recorder
    started = time.perf_counter()
    try:
        action()
    finally:
        store.conn = recorder._conn
    total = time.perf_counter() - started
    statements = recorder.statements
    in_sql = sum(s[2] for s in statements)
    slowest = sorted(statements, key=lambda s: -s[2])
    detail = [f"### {label}", "",
              f"{len(statements)} statements (rows written with executemany and reads sent "
              f"ahead share round trips) in {1000 * total:.1f} ms, {1000 * in_sql:.1f} ms of it "
              f"waiting on the "
              f"server; the Python side {1000 * (total - in_sql):.1f} ms.", ""]
    if len(statements) <= 40:
        detail += ["Statements in the order run:", ""] + [
            f"{i}. {1000 * s[2]:.2f} ms ({s[3]}): `{_short(s[0], 200)}`"
            for i, s in enumerate(statements, start=1)]
    else:
        by_text: dict[str, list[float]] = {}
        for sql, _params, seconds, _kind in statements:
            by_text.setdefault(sql, []).append(seconds)
        detail += ["Statements by total time (the same text run again counts together):", ""]
        detail += [f"- {1000 * sum(t):.1f} ms in {len(t)} run(s): `{_short(sql, 200)}`"
                   for sql, t in sorted(by_text.items(), key=lambda kv: -sum(kv[1]))[:12]]
    gists = []
    explained = [(s, e) for s in slowest if (e := _explainable(s[0], s[1])) is not None]
    for (sql, _params, seconds, kind), (params, write) in explained[:EXPLAINED]:
        try:
            plan = _plan_lines(store.conn, sql, params, write)
        except Exception as exc:  # noqa: BLE001 - a plan we cannot get is reported, not fatal
            plan = [f"(EXPLAIN failed: {exc})"]
        how = "" if not write else (
            f" (key +{SHIFT:,}, rolled back)" if kind == "one"
            else f" (one row of the {kind}; key +{SHIFT:,}, rolled back)")
        detail += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the {1000 * seconds:.2f} ms statement"
                       f"{how} `{_short(sql, 300)}` with {_short(repr(params), 300)}:", "",
                   "```", *plan, "```"]
        gists.append(f"{1000 * seconds:.1f} ms{' (' + kind + ')' if write else ''}: "
                     f"{_gist(plan)}")
    top = "; ".join(f"{1000 * s[2]:.1f} ms ({s[3]}) {_short(s[0], 70)}" for s in slowest[:3])
    summary = (f"{len(statements)} statements, {1000 * in_sql:.1f} of {1000 * total:.1f} ms "
               f"on the server; slowest: {top}"
               + (f". Plans: {' | '.join(gists)}" if gists else ""))
    return Profile(summary, "\n".join(detail) + "\n", len(statements))


# -- the operations ------------------------------------------------------------------------------
@dataclass
class Sides:
    """Both stores, signed in, and the bare equivalents."""

    sq: Session
    pg: Session
    bare: BareStore
    search: BareSearch
    bare_pg: BarePg
    factory: AuditFactory
    area_id: int
    today: dt.date


def bench_save(s: Sides, repeat: int) -> EngineRow:
    warmup = 20
    ours, theirs = s.factory.today_audits(warmup + repeat), s.factory.today_audits(warmup + repeat)
    rows = [audit_row(a) for a in ours]
    sq, pg, bare, bare_pg = time_in_turn((
        lambda i: audit_service.create_audit(s.sq, ours[i], submit=True),
        lambda i: audit_service.create_audit(s.pg, theirs[i], submit=True),
        lambda i: s.bare.insert_one(rows[i]),
        lambda i: s.bare_pg.insert_one(rows[i])), repeat=repeat, warmup=warmup)

    def explain() -> Profile:
        one = s.factory.today_audits(1)[0]
        return profile(s.pg.store, lambda: audit_service.create_audit(s.pg, one, submit=True),
                       "trailed save (create_audit)")

    return EngineRow(f"trailed save: create_audit, submitted (x{repeat})", _ms(sq), _ms(pg),
                     _ratio(pg, sq), _ms(bare), _ms(bare_pg), SAVE_TARGET, _ratio(pg, sq),
                     explain)


def _pg_bare(screen: register.Screen, bare_pg: BarePg) -> tuple[Callable, Callable]:
    f = screen.filter
    if f == RegisterFilter():
        return bare_pg.count, lambda: bare_pg.sorted_page(screen.sort, screen.descending,
                                                          register.PAGE)
    if f.search:
        query = dialect.POSTGRESQL.search_query(f.search)
        return lambda: bare_pg.search_count(query), lambda: bare_pg.search_page(query)
    return (lambda: bare_pg.filter_count(f.service_area_id, f.grade.value, f.date_from,
                                         f.date_to),
            lambda: bare_pg.first_page(f.service_area_id, f.grade.value, f.date_from,
                                       f.date_to, register.PAGE))


def bench_register(s: Sides, repeat: int, notes: list[str]) -> list[EngineRow]:
    pages, counts, differ = [], [], []
    for screen in register.screens(s.sq, s.bare, s.search, s.area_id, s.today):
        pg_count, pg_page = _pg_bare(screen, s.bare_pg)
        sq_rows, pg_rows = screen.page(s.sq), screen.page(s.pg)
        sq_n, pg_n = screen.count(s.sq), screen.count(s.pg)
        if sq_n != pg_n or [r[0] for r in sq_rows] != [r[0] for r in pg_rows]:
            first = next((i for i, (a, b) in enumerate(zip(sq_rows, pg_rows)) if a != b),
                         min(len(sq_rows), len(pg_rows)))
            differ.append(f"{screen.label}: count {sq_n:,} on SQLite, {pg_n:,} on PostgreSQL; "
                          f"first 100 ids differ from row {first + 1}"
                          + (f" (SQLite {sq_rows[first][:3]}, PostgreSQL {pg_rows[first][:3]})"
                             if first < min(len(sq_rows), len(pg_rows)) else ""))
        elif sq_rows != pg_rows:
            differ.append(f"{screen.label}: same ids, other values (first: SQLite "
                          f"{next(a for a, b in zip(sq_rows, pg_rows) if a != b)}, PostgreSQL "
                          f"{next(b for a, b in zip(sq_rows, pg_rows) if a != b)})")
        first = max(time_calls(lambda _: screen.page(side), repeat=1).median
                    for side in (s.sq, s.pg))
        slow = first > register.SLOW_S
        times = max(5, repeat // 20) if slow else repeat
        sc, sp, pc, pp, bsc, bsp, bpc, bpp = time_in_turn((
            lambda _: screen.count(s.sq), lambda _: screen.page(s.sq),
            lambda _: screen.count(s.pg), lambda _: screen.page(s.pg),
            lambda _: screen.bare_count(), lambda _: screen.bare_page(),
            lambda _: pg_count(), lambda _: pg_page()), repeat=times, warmup=1 if slow else 10)

        def explain(screen=screen) -> Profile:
            return profile(s.pg.store, lambda: (screen.count(s.pg), screen.page(s.pg)),
                           f"register first screen: {screen.label}")

        def cell(page: Timing, count: Timing) -> str:
            return _ms(page, f"; count {count.median_ms:.2f}")

        pages.append(EngineRow(
            f"register first page: {screen.label} (x{times})", cell(sp, sc), cell(pp, pc),
            _ratio(pp, sp), cell(bsp, bsc), cell(bpp, bpc), PAGE_TARGET, _ratio(pp, sp),
            explain))
        if screen.filter.search:
            def explain_count(screen=screen) -> Profile:
                return profile(s.pg.store, lambda: screen.count(s.pg),
                               f"search count: {screen.label}")

            counts.append(EngineRow(
                f"search count: {screen.label.removeprefix('search ')} "
                f"({pg_n:,} match{'es' if pg_n != 1 else ''}, x{times})", _ms(sc), _ms(pc),
                _ratio(pc, sc), _ms(bsc), _ms(bpc), SEARCH_COUNT_TARGET, pc.median_ms,
                explain_count))
    notes.append(
        "Register first page: services.register.page(offset=0, limit=100) with the sort or "
        "filter, as register.py times it (each figure's count is services.register.count, "
        "timed in the same turn; the target is on the page). Bare sqlite3: the same queries as "
        "register.py's; bare psycopg: the same SQL on bare.audits (searches on the store's own "
        "search_vector, the 100 highest ids).")
    if differ:
        notes.append("Register results that differ between the engines (same store, same "
                     "call): " + "; ".join(differ) + ".")
    else:
        notes.append("Register results: every count and first page above is the same on both "
                     "engines, row for row.")
    return pages + counts


def bench_summary(s: Sides, repeat: int, notes: list[str]) -> EngineRow:
    start, end = last_full_quarter(s.today)
    sq_summary, pg_summary = period_summary(s.sq.store, start, end), \
        period_summary(s.pg.store, start, end)
    if sq_summary != pg_summary:
        notes.append(f"Period summary {start} to {end} differs between the engines: "
                     f"SQLite total {sq_summary['total']}, PostgreSQL {pg_summary['total']}.")
    sq, pg, bare, bare_pg = time_in_turn((
        lambda _: period_summary(s.sq.store, start, end),
        lambda _: period_summary(s.pg.store, start, end),
        lambda _: s.bare.grade_counts(start, end),
        lambda _: s.bare_pg.grade_counts(start, end)), repeat=repeat, warmup=3)

    def explain() -> Profile:
        return profile(s.pg.store, lambda: period_summary(s.pg.store, start, end),
                       f"quarter summary {start} to {end}")

    return EngineRow(f"quarter summary: period_summary {start:%d/%m/%Y} to {end:%d/%m/%Y} "
                     f"(x{repeat})", _ms(sq), _ms(pg), _ratio(pg, sq), _ms(bare), _ms(bare_pg),
                     SUMMARY_TARGET, _ratio(pg, sq), explain)


class PgScratch:
    """A fresh empty PostgreSQL store for each timed import (made before the clock starts);
    the one before it is dropped then, the last by :meth:`close`."""

    def __init__(self, databases: pgserver.Databases):
        self.databases = databases
        self.session: Session | None = None
        self.name: str | None = None

    def fresh_session(self, _i: int = 0) -> Session:
        self.close()
        self.name, url = self.databases.create("import")
        self.session = sign_in(open_store(url), os_user="bench")
        return self.session

    def close(self) -> None:
        if self.session is not None:
            self.session.store.close()
            self.session = None
        if self.name is not None:
            self.databases.drop(self.name)
            self.name = None


def bench_import(s: Sides, databases: pgserver.Databases, url: str, data_dir: Path, n: int,
                 repeat: int, notes: list[str]) -> list[EngineRow]:
    made = importing.files(data_dir, n)
    scratch = importing.Scratch(data_dir / "import-scratch-engines",
                                audits_schema(s.sq.store.conn))
    pg_scratch = PgScratch(databases)
    bare_pg = BarePg.create(url, None, schema="bare_import")
    rows, phases_notes = [], []
    try:
        for label, path, bare, bare_setup, pg_bare, pg_bare_setup in (
                ("CSV", made.csv, importing.bare_csv(made.csv, n), scratch.fresh_bare,
                 importing.bare_csv(made.csv, n), bare_pg.reset),
                ("XLSX", made.xlsx, importing.calamine_read(made.xlsx, n), None, None, None)):
            os.sync()
            sq_phases, pg_phases = importing.Phases(), importing.Phases()
            fns = [importing.sefton_import(path, n, sq_phases),
                   importing.sefton_import(path, n, pg_phases), bare]
            setups = [scratch.fresh_session, pg_scratch.fresh_session, bare_setup]
            if pg_bare is not None:
                fns.append(pg_bare)
                setups.append(pg_bare_setup)
            timings = time_in_turn(fns, repeat=repeat, setups=setups)
            sq, pg, plain = timings[:3]
            plain_pg = timings[3] if pg_bare is not None else None

            def explain(path=path, label=label) -> Profile:
                session = pg_scratch.fresh_session()
                try:
                    return profile(session.store, lambda: import_audits(
                        session, path, create_missing=True), f"import {n:,}-row {label}")
                finally:
                    pg_scratch.close()

            rows.append(EngineRow(
                f"import {n:,}-row {label} into an empty store (x{repeat})", _s(sq, n),
                _s(pg, n), _ratio(pg, sq), _s(plain, n),
                _s(plain_pg, n) if plain_pg else "(same as bare sqlite3: reading alone)",
                IMPORT_TARGET, _ratio(pg, sq), explain))
            phases_notes.append(f"{label}: SQLite {sq_phases.describe()}; PostgreSQL "
                                f"{pg_phases.describe()}")
    finally:
        scratch.close()
        pg_scratch.close()
        bare_pg.close()
    notes += [
        "Import: importing.py's files and calls (import_audits(create_missing=True) into a "
        "fresh empty store each time: a new SQLite file, or a new PostgreSQL database with the "
        "schema made, both before the clock starts). Bare psycopg CSV: the same csv.reader "
        "parse, then one executemany (psycopg's pipeline) into a fresh bare table; bare XLSX is "
        "python-calamine reading alone, the same for both engines.",
        "Import phases (the last timed run of each): " + "; ".join(phases_notes) + ".",
    ]
    return rows


def _round_trip(conn) -> None:
    conn.execute("SELECT 1").fetchone()


def bench_rtt(s: Sides, paths: builder.Paths, main: tuple[str, str], admin_url: str,
              rtt_ms: float, repeat: int, prefix: str, notes: list[str]) -> list[EngineRow]:
    """The trailed save over TCP, directly and through the delay proxy."""
    import psycopg

    with contextlib.ExitStack() as stack:
        tcp = pgserver.tcp_address(admin_url)
        if tcp is not None:
            where = f"the server's own TCP listener, 127.0.0.1:{tcp[1]}"
            name = main[0]
            url = pgserver.database_url(main[1], name, host=tcp[0], port=str(tcp[1]))
        else:
            print("  the server has no TCP listener on 127.0.0.1: starting one of our own ...",
                  file=sys.stderr, flush=True)
            server = pgserver.OwnServer().start()
            stack.callback(server.stop)
            tcp = ("127.0.0.1", server.port)
            where = (f"a throwaway server started for it (same version and settings as the "
                     f"test server, listening on 127.0.0.1:{server.port}, stopped at the end)")
            databases = pgserver.Databases(server.admin_url, prefix)
            stack.callback(databases.close)
            name, url = databases.create("rtt")
            print(f"  copying the store to {name} on it ...", file=sys.stderr, flush=True)
            copy_store(paths.store, url)
            pgserver.vacuum_analyze(url)
            BarePg.create(url, paths.bare).close()
        proxy = stack.enter_context(DelayProxy(tcp, rtt_ms / 2000, max_seconds=900))
        proxied_url = pgserver.database_url(url, name, host="127.0.0.1", port=str(proxy.port))
        direct = sign_in(stack.enter_context(open_store(url)), os_user=builder.OS_USER)
        proxied = sign_in(stack.enter_context(open_store(proxied_url)), os_user=builder.OS_USER)
        bare_proxied = BarePg(proxied_url)
        stack.callback(bare_proxied.close)
        raw_direct = stack.enter_context(psycopg.connect(url, autocommit=True))
        raw_proxied = stack.enter_context(psycopg.connect(proxied_url, autocommit=True))
        one_direct, one_proxied = time_in_turn(
            (lambda _: _round_trip(raw_direct), lambda _: _round_trip(raw_proxied)),
            repeat=200, warmup=20)
        warmup = 10
        inputs = [s.factory.today_audits(warmup + repeat) for _ in range(3)]
        rows = [audit_row(a) for a in inputs[0]]
        sq, pg_direct, pg_proxied, bare_sq, bare_pg = time_in_turn((
            lambda i: audit_service.create_audit(s.sq, inputs[0][i], submit=True),
            lambda i: audit_service.create_audit(direct, inputs[1][i], submit=True),
            lambda i: audit_service.create_audit(proxied, inputs[2][i], submit=True),
            lambda i: s.bare.insert_one(rows[i]),
            lambda i: bare_proxied.insert_one(rows[i])), repeat=repeat, warmup=warmup)
        one = s.factory.today_audits(1)[0]
        counted = profile(proxied.store,
                          lambda: audit_service.create_audit(proxied, one, submit=True),
                          "trailed save through the delay proxy")
        statements = counted.statements
        trips = count_round_trips(proxied.store, lambda: audit_service.create_audit(
            proxied, s.factory.today_audits(1)[0], submit=True))

        def explain() -> Profile:
            return counted

    notes.append(
        f"Trailed save over TCP: on {where}; the delay proxy (tests/benchmarks/proxy.py, its "
        f"own process, loopback only) holds every chunk {rtt_ms / 2:g} ms each way. SELECT 1 "
        f"takes {one_direct.median_ms:.2f} ms directly over TCP and {one_proxied.median_ms:.2f} "
        f"ms through the proxy (+{one_proxied.median_ms - one_direct.median_ms:.2f} ms a round "
        f"trip). create_audit on PostgreSQL runs {statements} statements in {trips} round "
        f"trips (reads sent ahead together, rows nobody reads back sent with the next "
        f"statement), so the added round trips alone come to about "
        f"{trips * (one_proxied.median_ms - one_direct.median_ms):.0f} ms a save "
        f"(with exactly {rtt_ms:g} ms added: about {pg_direct.median_ms:.0f} + {trips} x "
        f"{rtt_ms:g} = {pg_direct.median_ms + trips * rtt_ms:.0f} ms). Bare psycopg "
        "through the proxy: BEGIN, one INSERT, COMMIT (three round trips).")
    return [
        EngineRow(f"trailed save over TCP, no added delay (x{repeat})", _ms(sq), _ms(pg_direct),
                  _ratio(pg_direct, sq), _ms(bare_sq), NONE, None, None),
        EngineRow(f"trailed save over TCP + {rtt_ms:g} ms round trip (delay proxy, x{repeat})",
                  _ms(sq), _ms(pg_proxied), _ratio(pg_proxied, sq), _ms(bare_sq), _ms(bare_pg),
                  RTT_SAVE_TARGET, pg_proxied.median_ms, explain),
    ]


# -- the whole section ---------------------------------------------------------------------------
def _database_size(url: str) -> str:
    with pgserver.connect_admin(url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return f"{size / 2**20:,.0f} MiB"


def run(paths: builder.Paths, data_dir: Path, *, admin_url: str, repeat: int,
        import_rows: int, import_repeat: int, rtt_ms: float) -> tuple[Section, str]:
    """The section for results.md, and the plans of its missed targets (markdown)."""
    prefix = f"sefton_bench_{os.getpid()}"
    facts = pgserver.server_facts(admin_url)
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        databases = pgserver.Databases(admin_url, prefix)
        stack.callback(databases.close)
        name, url = databases.create("store")
        print(f"PostgreSQL: copying {paths.store} to database {name} ...", file=sys.stderr,
              flush=True)
        started = time.perf_counter()
        copied = copy_store(paths.store, url)
        copy_s = time.perf_counter() - started
        started = time.perf_counter()
        visible = pgserver.vacuum_analyze(url)
        vacuum_s = time.perf_counter() - started
        bare_pg = BarePg.create(url, paths.bare)
        stack.callback(bare_pg.close)
        sq = sign_in(stack.enter_context(open_store(paths.store)), os_user=builder.OS_USER)
        pg = sign_in(stack.enter_context(open_store(url)), os_user=builder.OS_USER)
        bare = BareStore(paths.bare)
        stack.callback(bare.close)
        search = BareSearch(paths.store)
        stack.callback(search.close)
        org = load_org(sq)
        today = sq.today()
        sides = Sides(sq, pg, bare, search, bare_pg, AuditFactory(org, today=today, batches=1),
                      org.area_ids[register.FILTER_AREA], today)
        print("Timing SQLite and PostgreSQL in turn ...", file=sys.stderr, flush=True)
        queries = max(30, repeat // 3)
        rows = [bench_save(sides, repeat)]
        rows += bench_register(sides, queries, notes)
        rows.append(bench_summary(sides, max(10, repeat // 10), notes))
        rows += bench_import(sides, databases, url, data_dir, import_rows, import_repeat, notes)
        if rtt_ms > 0:
            print(f"Timing the save with {rtt_ms:g} ms added round trip ...", file=sys.stderr,
                  flush=True)
            rows += bench_rtt(sides, paths, (name, url), admin_url, rtt_ms,
                              min(repeat, 200), prefix, notes)
        missed = [r for r in rows if not r.met and r.explain is not None]
        plans = []
        if missed:
            print(f"Recording the plans of {len(missed)} missed targets ...", file=sys.stderr,
                  flush=True)
        for row in missed:
            got = row.explain()
            plans.append(got.detail)
            notes.append(f"Missed: {row.operation}: {got.summary}.")
        held = copied.counts["audits"]
        size = _database_size(url)
    header = [
        f"PostgreSQL {facts['server_version']}, server {describe_location(admin_url)}: fsync="
        f"{facts['fsync']}, synchronous_commit={facts['synchronous_commit']}, "
        f"full_page_writes={facts['full_page_writes']}, shared_buffers="
        f"{facts['shared_buffers']}, work_mem={facts['work_mem']}, jit={facts['jit']}"
        + (" (a test server's settings: a PostgreSQL commit here waits for no disk, SQLite's "
           "synchronous=FULL one does, so saves and imports favour PostgreSQL)"
           if facts["fsync"] == "off" or facts["synchronous_commit"] == "off" else ""),
        f"the PostgreSQL store: copy_store of the SQLite store ({held:,} audits, trail "
        f"{copied.trail_seq:,} rows) into a fresh database in {copy_s:.1f} s (verifying both "
        f"included), then VACUUM ANALYZE {vacuum_s:.1f} s ({visible}); {size}; dropped at "
        "the end",
        "each operation timed on both engines in turn (SQLite, PostgreSQL, bare sqlite3, bare "
        "psycopg, ...), same calls, same process; ratio = PostgreSQL median / SQLite median",
    ]
    notes.append(
        "Times are medians (p95 in brackets) with time.perf_counter, over a unix-socket "
        "connection unless the row says TCP. Bare psycopg is plain psycopg 3 doing the bare "
        "sqlite3 side's work on the server (bare_pg.py): bare.audits, a copy of the store's "
        "audits table with its indexes but no search column, no foreign keys; it pays for the "
        "connection's round trips as the app does. — where there is no such figure or target.")
    section = Section("PostgreSQL beside SQLite", header, rows, notes)
    plans_md = ("# PostgreSQL plans of the missed targets\n\n" + "\n".join(plans)) if plans \
        else ""
    return section, plans_md
