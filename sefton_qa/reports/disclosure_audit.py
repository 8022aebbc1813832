"""What a reader holding the whole public pack can work out about each number it hides.

Every number a pack publishes is a whole, non-negative count, and many are linked by sums (a
table's rows and columns, the headline and the tables, the moderation counts and the grades).
A reader can use all of them at once, and that counts are whole and never negative: with
integer programming they can find, for each hidden cell, the smallest value ``lo`` and the
largest ``hi`` it could take. This module does exactly that (HiGHS, through ``highspy``) and
says whether each hidden cell is protected:

* ``hi - lo >= 2`` (at least three values are possible), and
* ``[lo, hi]`` does not lie inside the small-count range (1–4 by default): "somewhere from 1
  to 4" would tell the reader the count is small.

A hidden cell's lowest possible value is 0 when a "c" there could stand for a zero (the pack
hides the zeros next to a small count, so they cannot reveal it), else 1 (the pack prints its
other zeros, so a reader knows a "c" elsewhere is not one). The attacker is taken to know which
cells were hidden first for being small: a stronger reader than a real one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

Key = Hashable

_lock = threading.Lock()
_quiet = False


def _highs():
    """A new HiGHS solver, silent. (Its first construction in a process prints a banner on
    the standard output, which would spoil ``--json``: that once, the output is swallowed.)"""
    global _quiet
    import highspy

    with _lock:
        if not _quiet:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "wb") as null:
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _quiet = True
        else:
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    return h


@dataclass(frozen=True)
class Range:
    """What a reader can work out about one hidden cell: it lies in ``[lo, hi]`` (``hi`` None:
    no upper limit)."""

    lo: int
    hi: int | None

    def protected(self, small_low: int, small_high: int) -> bool:
        if self.hi is not None and self.hi - self.lo < 2:
            return False
        return not (self.lo >= small_low and self.hi is not None and self.hi <= small_high)

    def text(self) -> str:
        return f"{self.lo} to {'any number' if self.hi is None else self.hi}"


def _components(unknown: list[Key], rows: list[dict[Key, int]]) -> list[tuple[list[Key],
                                                                               list[int]]]:
    """The unknowns in groups linked by equations, each with its equations' indexes."""
    parent = {k: k for k in unknown}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for row in rows:
        keys = [k for k in row if k in parent]
        for other in keys[1:]:
            a, b = find(keys[0]), find(other)
            if a != b:
                parent[a] = b
    groups: dict[Key, list[Key]] = {}
    for k in unknown:
        groups.setdefault(find(k), []).append(k)
    eqs: dict[Key, list[int]] = {}
    for i, row in enumerate(rows):
        keys = [k for k in row if k in parent]
        if keys:
            eqs.setdefault(find(keys[0]), []).append(i)
    return [(keys, eqs.get(root, [])) for root, keys in groups.items()]


def ranges(values: Mapping[Key, int], equations: Sequence[Sequence[tuple[Key, int]]],
           unknown: Iterable[Key], *, lowest: Mapping[Key, int] | None = None,
           integer: bool = True, only: Iterable[Key] | None = None) -> dict[Key, Range]:
    """For each unknown key (or each of ``only``), the range a reader can work out from every
    known value and every equation (``sum(coefficient * value) == 0``), given whole counts
    (``integer``) no smaller than ``lowest[key]`` (default 0)."""
    import highspy
    import numpy as np

    unknown = list(dict.fromkeys(unknown))
    hidden = set(unknown)
    lowest = lowest or {}
    wanted = set(unknown if only is None else only) & hidden
    rows: list[dict[Key, int]] = []
    rhs: list[int] = []
    for equation in equations:
        row: dict[Key, int] = {}
        constant = 0
        for key, c in equation:
            if key in hidden:
                row[key] = row.get(key, 0) + c
            else:
                constant += c * values[key]
        row = {k: c for k, c in row.items() if c}
        if row:
            rows.append(row)
            rhs.append(-constant)
    result: dict[Key, Range] = {}
    for keys, eq_indexes in _components(unknown, rows):
        if not wanted.intersection(keys):
            continue
        if not eq_indexes:  # linked to nothing: anything from its lowest value up
            for k in keys:
                if k in wanted:
                    result[k] = Range(lowest.get(k, 0), None)
            continue
        col = {k: i for i, k in enumerate(keys)}
        h = _highs()
        n = len(keys)
        h.addVars(n, np.array([float(lowest.get(k, 0)) for k in keys]),
                  np.full(n, highspy.kHighsInf))
        if integer:
            h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                    np.array([highspy.HighsVarType.kInteger] * n))
        for i in eq_indexes:
            row = rows[i]
            h.addRow(float(rhs[i]), float(rhs[i]), len(row),
                     np.array([col[k] for k in row], dtype=np.int32),
                     np.array([float(c) for c in row.values()]))
        for k in keys:
            if k not in wanted:
                continue
            h.changeColCost(col[k], 1.0)
            bounds = []
            for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
                h.changeObjectiveSense(sense)
                h.run()
                status = h.getModelStatus()
                if status == highspy.HighsModelStatus.kOptimal:
                    bounds.append(round(h.getInfo().objective_function_value))
                elif status in (highspy.HighsModelStatus.kUnbounded,
                                highspy.HighsModelStatus.kUnboundedOrInfeasible):
                    bounds.append(None)
                else:  # the published figures are consistent, so this cannot happen
                    bad = [kk for kk in keys if values[kk] < lowest.get(kk, 0)]
                    wrong = [i for i in eq_indexes
                             if sum(c * values[kk] for kk, c in rows[i].items()) != rhs[i]]
                    raise RuntimeError(f"disclosure audit: {status} for {k!r}; below lowest "
                                       f"{bad}; false {[rows[i] for i in wrong]}")
            h.changeColCost(col[k], 0.0)
            lo, hi = bounds
            result[k] = Range(lowest.get(k, 0) if lo is None else lo, hi)
    return result


@dataclass
class Audit:
    """The disclosure audit of one pack: each hidden cell's range, and the time it took."""

    ranges: dict[Key, Range]
    small_low: int
    small_high: int
    seconds: float = 0.0

    def unprotected(self) -> list[Key]:
        return [k for k, r in self.ranges.items()
                if not r.protected(self.small_low, self.small_high)]


def audit(values: Mapping[Key, int], equations: Sequence[Sequence[tuple[Key, int]]],
          suppressed: Iterable[Key], *, hidden: Iterable[Key] = (),
          lowest: Mapping[Key, int] | None = None, protect: Iterable[Key] | None = None,
          small_low: int = 1, small_high: int = 4) -> Audit:
    """The range of every cell in ``protect`` (default: the ``suppressed`` ones) when the
    reader knows every value except the ``suppressed`` and ``hidden`` ones."""
    started = time.perf_counter()
    suppressed = list(suppressed)
    unknown = suppressed + [k for k in hidden if k not in set(suppressed)]
    found = ranges(values, equations, unknown, lowest=lowest,
                   only=suppressed if protect is None else protect)
    return Audit(found, small_low, small_high, time.perf_counter() - started)
