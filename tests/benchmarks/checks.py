"""The store's checks (issue 8, item 5): the quick check every read-write open of the app runs,
and the full check the window runs in the background (``verify_store``)."""

from __future__ import annotations

from pathlib import Path

from sefton_qa.services.verify import verify_store
from sefton_qa.store import open_store

from .report import Row, Target, duration_row, latency_row
from .timing import time_calls, time_in_turn


def bench_open_check(path: Path, repeat: int, notes: list[str]) -> Row:
    """open_store with the quick check against open_store without it, called in turn."""
    checked, plain = time_in_turn(
        (lambda _i: open_store(path, check=True).close(), lambda _i: open_store(path).close()),
        repeat=repeat, warmup=3)
    notes.append("Quick check on opening: open_store(check=True) (the trail's triggers, no "
                 "row missing, the newest 1,000 trail rows' hashes, on a read-only connection "
                 "before anything is written) against open_store without it; both close the "
                 "store again.")
    return latency_row(f"open the store with its quick check (x{repeat})", checked, plain,
                       Target(100, "ms median", at_least=False))


def bench_full_check(path: Path, n: int, notes: list[str]) -> Row:
    """verify_store once (it reads the whole file and replays the whole trail)."""
    store = open_store(path, read_only=True, migrate=False)
    try:
        result = {}
        timing = time_calls(lambda _i: result.setdefault("report", verify_store(store)),
                            repeat=1)
    finally:
        store.close()
    report = result["report"]
    notes.append("Full check: verify_store on a read-only connection (integrity_check, "
                 "foreign_key_check, search index, trail protection, the whole hash chain, "
                 "every record rebuilt from the trail), run once; the app runs it in the "
                 "background after its window opens. "
                 + ("It passed." if report.ok else "It FAILED: " + "; ".join(report.lines())))
    return duration_row("full check of the store (verify_store, once, in the background)", n,
                        "audits", timing, None, Target(120, "s", at_least=False))
