"""Timing helper: warm up, repeat, keep every sample; report median and p95."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one operation, in seconds."""

    samples: tuple[float, ...]

    @property
    def total(self) -> float:
        return sum(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def median_ms(self) -> float:
        return 1000 * self.median

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples)
        return 1000 * ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank

    def rate(self, items: int) -> float:
        """Items per second over all samples together."""
        return items / self.total

    def __add__(self, other: "Timing") -> "Timing":
        """Two steps timed call by call (a count, then a page): the time of both, per call."""
        assert len(self.samples) == len(other.samples)
        return Timing(tuple(a + b for a, b in zip(self.samples, other.samples)))


def time_calls(fn: Callable[[Any], object], *, repeat: int, warmup: int = 0,
               setup: Callable[[int], Any] | None = None) -> Timing:
    """Call ``fn`` ``warmup + repeat`` times and time the last ``repeat`` calls.

    Call ``i`` gets ``setup(i)`` (made before the clock starts) or, without ``setup``, ``i``.
    """
    samples = []
    for i in range(warmup + repeat):
        elapsed = _clock(fn, setup(i) if setup is not None else i)
        if i >= warmup:
            samples.append(elapsed)
    return Timing(tuple(samples))


def time_in_turn(fns: Sequence[Callable[[Any], object]], *, repeat: int, warmup: int = 0,
                 setups: Sequence[Callable[[int], Any] | None] | None = None) -> list[Timing]:
    """:func:`time_calls` for several functions called in turn (a(0), b(0), a(1), b(1) ...),
    so that each meets the same conditions (the disk's writeback, other load).

    ``setups``, one per function (or None), work as ``setup`` does for :func:`time_calls`.
    """
    setups = setups or [None] * len(fns)
    samples: list[list[float]] = [[] for _ in fns]
    for i in range(warmup + repeat):
        for fn, setup, out in zip(fns, setups, samples):
            elapsed = _clock(fn, setup(i) if setup is not None else i)
            if i >= warmup:
                out.append(elapsed)
    return [Timing(tuple(s)) for s in samples]


def _clock(fn: Callable[[Any], object], arg: Any) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start
