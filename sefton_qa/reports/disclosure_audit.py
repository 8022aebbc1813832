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

:func:`ranges` finds every range exactly (two MILPs a cell), for the report. Suppression needs
less, and asks :func:`unprotected`: which cells are not protected, or only the first. Every
set of whole, non-negative figures agreeing with the pack (the true ones, and every MILP
solution, each checked exactly in integer arithmetic) proves each hidden cell can take the value
it has there; a cell seen at two values far enough apart (:func:`certified`) is protected
without solving for it, since its range can only be wider. Only the rest are solved for.
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
    rows, rhs = _substituted(values, equations, hidden)
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


def _substituted(values: Mapping[Key, int], equations: Sequence[Sequence[tuple[Key, int]]],
                 hidden: set) -> tuple[list[dict[Key, int]], list[int]]:
    """Each equation over the unknowns alone, with what the known values contribute moved to
    its right-hand side (equations with no unknown left are dropped)."""
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
    return rows, rhs


def _model(keys: list[Key], eq_indexes: list[int], rows: list[dict[Key, int]],
           rhs: list[int], lowest: Mapping[Key, int], integer: bool = True):
    """A HiGHS model of one group of unknowns: whole counts, each at least its lowest value,
    every equation holding. No objective yet."""
    import highspy
    import numpy as np

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
    return h, col


def attainable(point: Mapping[Key, int], values: Mapping[Key, int],
               equations: Sequence[Sequence[tuple[Key, int]]], unknown: set,
               lowest: Mapping[Key, int]) -> bool:
    """Whether ``point`` (a value for some unknown keys; every other key keeps its value in
    ``values``) is a set of figures the pack could have come from: whole counts, each unknown
    at least its lowest value, every known key its published value, every equation exact.
    Checked in integer arithmetic, so that a solver's rounding can never certify anything."""
    for k, v in point.items():
        if type(v) is not int or k not in unknown or v < lowest.get(k, 0):
            return False
    for k in unknown:
        if k not in point and values[k] < lowest.get(k, 0):
            return False
    for equation in equations:
        if sum(c * point.get(k, values[k]) for k, c in equation) != 0:
            return False
    return True


def certified(low: int, high: int, small_low: int, small_high: int) -> bool:
    """Whether a hidden cell known to take both ``low`` and ``high`` (low <= high) is
    protected, whatever else it could take: its range [lo, hi] has lo <= low and hi >= high,
    and :meth:`Range.protected` only grows truer as the range widens."""
    return high - low >= 2 and (low < small_low or high > small_high)


class _Check:
    """:func:`attainable` for many points of one audit, quickly: when the true figures are
    themselves attainable (always, for a pack's own figures), a point need only be checked in
    the equations holding a key it changes. Points hold only the keys they change."""

    def __init__(self, values, equations, unknown: set, lowest) -> None:
        self.values, self.equations, self.unknown, self.lowest = values, equations, unknown, \
            lowest
        self.truth = attainable({}, values, equations, unknown, lowest)
        self.by_key: dict[Key, list[int]] = {}
        for i, equation in enumerate(equations):
            for k, _c in equation:
                self.by_key.setdefault(k, []).append(i)

    def __call__(self, point: Mapping[Key, int]) -> bool:
        if not self.truth:
            return bool(point) and attainable(point, self.values, self.equations,
                                              self.unknown, self.lowest)
        values, lowest, unknown = self.values, self.lowest, self.unknown
        touched: set[int] = set()
        for k, v in point.items():
            if type(v) is not int or k not in unknown or v < lowest.get(k, 0):
                return False
            touched.update(self.by_key.get(k, ()))
        for i in touched:
            if sum(c * point.get(k, values[k]) for k, c in self.equations[i]) != 0:
                return False
        return True


class Solutions:
    """Whole, non-negative sets of figures that agree with everything a pack publishes, found
    while auditing it (each as the keys where it differs from the true figures). Each one
    proves that every hidden cell can take the value it has there, so a cell that takes
    values far enough apart in them is protected with no more solving. Kept between the
    rounds of secondary suppression: hiding one more cell only lets the figures vary more,
    and each is checked again before use (a reader may know more: a "c" at least 1)."""

    def __init__(self) -> None:
        self.points: list[dict[Key, int]] = []

    def usable(self, values, equations, unknown: set, lowest,
               check: "_Check | None" = None) -> list[dict[Key, int]]:
        """The points attainable in this audit (the others are dropped), the true figures
        (``{}``) first when they are."""
        check = check or _Check(values, equations, unknown, lowest)
        self.points = [p for p in self.points if p and check(p)]
        return ([{}] if check.truth else []) + self.points


def unprotected(values: Mapping[Key, int], equations: Sequence[Sequence[tuple[Key, int]]],
                unknown: Iterable[Key], protect: Sequence[Key], *,
                lowest: Mapping[Key, int] | None = None, small_low: int = 1,
                small_high: int = 4, first: bool = False,
                solutions: Solutions | None = None, stats: dict | None = None) -> list[Key]:
    """The keys of ``protect``, in its order, that are not protected (see :func:`ranges`);
    ``first``: only the first of them. The same answer as :func:`ranges`, with less solving.

    A cell is protected when solutions already found take values in it far enough apart
    (:func:`certified`); only the others are solved for, smallest value first (skipped when a
    solution already takes the cell's lowest possible value), then the largest. Every
    solution found, checked exactly (:func:`attainable`), joins the others and may prove
    more cells protected."""
    import highspy

    unknown = list(dict.fromkeys(unknown))
    hidden = set(unknown)
    lowest = lowest or {}
    solutions = solutions if solutions is not None else Solutions()
    stats = stats if stats is not None else {}
    equations = [tuple(eq) for eq in equations]
    check = _Check(values, equations, hidden, lowest)
    protect = [k for k in dict.fromkeys(protect) if k in hidden]
    low = {k: values[k] for k in protect}
    high = dict(low)

    def learn(point: Mapping[Key, int]) -> None:
        for k, v in point.items():
            if k in low:
                if v < low[k]:
                    low[k] = v
                if v > high[k]:
                    high[k] = v

    points = solutions.usable(values, equations, hidden, lowest, check)
    if not check.truth:  # (not a pack's own figures: nothing is taken from them)
        low = {k: 1 << 62 for k in protect}
        high = {k: -(1 << 62) for k in protect}
    for point in points:
        learn(point)

    rows, rhs = _substituted(values, equations, hidden)
    group: dict[Key, tuple[list[Key], list[int]]] = {}
    for keys, eq_indexes in _components(unknown, rows):
        for k in keys:
            group[k] = (keys, eq_indexes)
    models: dict[int, tuple] = {}

    def solve(k: Key, sense, cap: int | None = None) -> int | None:
        """The cell's smallest or largest value (None: no largest), or with ``cap``, the
        largest up to ``cap``."""
        keys, eq_indexes = group[k]
        if id(keys) not in models:
            models[id(keys)] = _model(keys, eq_indexes, rows, rhs, lowest)
        h, col = models[id(keys)]
        h.changeColCost(col[k], 1.0)
        h.changeObjectiveSense(sense)
        if cap is not None:
            h.changeColBounds(col[k], float(lowest.get(k, 0)), float(cap))
        h.run()
        stats["solves"] = stats.get("solves", 0) + 1
        status = h.getModelStatus()
        objective = h.getInfo().objective_function_value
        found = h.getSolution().col_value
        h.changeColCost(col[k], 0.0)  # (a change to the model clears its status)
        if cap is not None:
            h.changeColBounds(col[k], float(lowest.get(k, 0)), highspy.kHighsInf)
        if status in (highspy.HighsModelStatus.kUnbounded,
                      highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"disclosure audit: {status} for {k!r}")
        point = {kk: v for kk, i in col.items() if (v := round(found[i])) != values[kk]}
        if point and check(point):
            solutions.points.append(point)
            learn(point)
        return round(objective)

    failing: list[Key] = []
    for k in protect:
        if certified(low[k], high[k], small_low, small_high):
            continue
        keys, eq_indexes = group[k]
        if not eq_indexes:  # linked to nothing: anything from its lowest value up
            continue
        least = lowest.get(k, 0)
        lo = least if low[k] == least else solve(k, highspy.ObjSense.kMinimize)
        lo = least if lo is None else lo
        if certified(lo, high[k], small_low, small_high):
            continue
        hi = solve(k, highspy.ObjSense.kMaximize)
        if hi is None:
            # Protected: it has no largest value. A solution where it is large enough to
            # prove that spares solving again in the next round (which has no ray to keep).
            solve(k, highspy.ObjSense.kMaximize, cap=max(lo + 2, small_high + 1))
        if Range(lo, hi).protected(small_low, small_high):
            continue
        failing.append(k)
        if first:
            break
    return failing


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
