"""The committee pack (issue 6): ``services.reports.committee_pack`` over a small period in a
demo store (about 49 audits) and over a period of about 10,000 audits in the big store, the
internal pack without the appendix.

The pack compares its period with the one before and draws a trend over earlier periods of
the same length, so a period holding ~10,000 audits has ~10,000 in each of them too: the work
of a 10,000-audit quarter. The big store holds ~42,000 audits a quarter, so the period used is
the ~3 weeks ending with the last full quarter; the demo store ~150 a quarter, so its period
is a month.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import traceback
from pathlib import Path

from sefton_qa.services.demo import generate_demo
from sefton_qa.services.session import Session, sign_in
from sefton_qa.store import open_store

from . import report
from .report import Row, Target
from .timing import time_calls
from .workload import last_full_quarter

SMALL, LARGE = 49, 10_000
SMALL_TARGET = Target(1000, "ms median", at_least=False)
LARGE_TARGET = Target(3000, "ms median", at_least=False)


def _builder():
    """committee_pack and PackOptions, or why the rows are skipped."""
    try:
        from sefton_qa.services.reports import PackOptions, committee_pack
    except ImportError as exc:
        return None, f"sefton_qa.services.reports has no committee_pack yet ({exc})"
    return (committee_pack, PackOptions), None


def month_nearest(session: Session, audits: int) -> tuple[dt.date, dt.date]:
    """The full calendar month (before this one) whose audit count is nearest ``audits``."""
    this_month = session.today().replace(day=1).isoformat()
    month = session.store.conn.execute(
        "SELECT substr(audit_date, 1, 7) FROM audits WHERE status = 'submitted' "
        "AND audit_date < ? GROUP BY 1 ORDER BY abs(count(*) - ?), 1 DESC LIMIT 1",
        (this_month, audits)).fetchone()[0]
    start = dt.date.fromisoformat(f"{month}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def days_ending(session: Session, end: dt.date, audits: int) -> tuple[dt.date, dt.date]:
    """The period ending on ``end`` that holds about ``audits`` submitted audits."""
    first = session.store.conn.execute(
        "SELECT audit_date FROM audits WHERE status = 'submitted' AND audit_date <= ? "
        "ORDER BY audit_date DESC LIMIT 1 OFFSET ?", (end.isoformat(), audits - 1)).fetchone()[0]
    return dt.date.fromisoformat(first), end


def _time_pack(build, session: Session, start: dt.date, end: dt.date, out: Path, *,
               repeat: int, label: str, target: Target, public: bool = False
               ) -> tuple[Row, str]:
    committee_pack, options = build
    results = []

    def one(_i: int) -> None:
        results.append(committee_pack(session, start, end, out, options=options(public=public),
                                      overwrite=True))

    timing = time_calls(one, repeat=repeat, warmup=1)
    made = results[-1]
    version = "public" if public else "internal"
    detail = (f"{label}, {version}: {start:%d/%m/%Y} to {end:%d/%m/%Y}, {made.audits:,} "
              f"audits, {made.pages} pages, {out.stat().st_size / 1024:,.0f} KiB")
    if public:
        detail += f"; the disclosure audit took {_disclosure_share(session, start, end)}"
    return report.latency_row(f"committee pack, {label}, {version} (x{repeat})", timing, None,
                              target), detail


def _disclosure_share(session: Session, start: dt.date, end: dt.date) -> str:
    """How long the public pack's suppression and integer-programming audit take, median of 5."""
    import statistics
    import time

    from sefton_qa.reports.numbers import Numbers
    from sefton_qa.services.reports import PackOptions, gather

    figures = gather(session, start, end, PackOptions(public=True))
    took = []
    for _ in range(5):
        t0 = time.perf_counter()
        Numbers._public(figures)  # (Numbers.build keeps its answer with the figures)
        took.append(1000 * (time.perf_counter() - t0))
    return f"{statistics.median(took):.0f} ms of it"


def bench_packs(big: Session, scratch: Path, repeat: int, notes: list[str]) -> list[Row]:
    build, why_not = _builder()
    if build is None:
        notes.append(f"Committee pack rows skipped: {why_not}.")
        return []
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    small = None
    try:
        small = sign_in(open_store(scratch / "demo.sqlite3"), os_user="bench")
        generate_demo(small)  # 18 months with the moderation loop closed, as a council's
        rows, details = zip(
            _time_pack(build, small, *month_nearest(small, SMALL), scratch / "small.pdf",
                       repeat=repeat, label=f"~{SMALL} audits (demo store)",
                       target=SMALL_TARGET),
            _time_pack(build, big, *days_ending(big, last_full_quarter(big.today())[1], LARGE),
                       scratch / "large.pdf", repeat=max(3, repeat // 2),
                       label=f"~{LARGE:,} audits (this store)", target=LARGE_TARGET),
            _time_pack(build, small, *month_nearest(small, SMALL), scratch / "small-public.pdf",
                       repeat=repeat, label=f"~{SMALL} audits (demo store)",
                       target=SMALL_TARGET, public=True),
            _time_pack(build, big, *days_ending(big, last_full_quarter(big.today())[1], LARGE),
                       scratch / "large-public.pdf", repeat=max(3, repeat // 2),
                       label=f"~{LARGE:,} audits (this store)", target=LARGE_TARGET,
                       public=True))
    except Exception as exc:  # another engineer's work in progress must not sink the run
        traceback.print_exc(file=sys.stderr)
        notes.append(f"Committee pack rows skipped: the build failed with "
                     f"{type(exc).__name__}: {exc}")
        return []
    finally:
        if small is not None:
            small.store.close()
        shutil.rmtree(scratch, ignore_errors=True)
    notes.append(
        "Committee pack (issue 6): services.reports.committee_pack, internal, no appendix, the "
        "previous period the default; each build writes the PDF and records it in the trail; "
        "median after one warm-up build. " + "; ".join(details) + ". A period's trend and "
        "previous period are of its own length, so each holds about as many audits: the "
        "~10,000-audit period is the ~3 weeks ending with the last full quarter (this store "
        "holds ~42,000 audits a quarter), the ~49-audit one the demo store's month nearest 49.")
    return list(rows)
