"""Small-number suppression for public packs.

A public pack must not let a reader find a count from 1 to 4, nor work one out. Counts are
*cells* with keys; every table's totals, and every link between tables (the grade totals of
the area table are the headline figures; an area's teams add up to the area), are
*equations* over those keys (``sum(coefficient * value) == 0``), because a reader can use
every one of them.

1. Primary suppression: every shown cell from 1 to 4 (totals included) is hidden ("c").
2. Secondary suppression, the usual rule: in any equation where exactly one cell is
   unknown to the reader, hide the next smallest non-zero cell of that equation; repeat
   until stable.
3. The rule in (2) looks at one equation at a time, but a reader can combine them (add two
   rows and subtract a column...). So the whole system is then solved exactly: a hidden cell
   is *determined* when every solution of the equations, given the visible cells, gives it
   the same value. While any hidden cell is determined, hide one more cell (the smallest
   non-zero visible cell sharing an equation with it that leaves it undetermined, else the
   smallest), and solve again.

4. The zeros next to a small count are hidden too (in every equation holding a cell hidden
   in step 1): printed, they would tell a reader that each "c" there is at least 1, and that a
   group whose audits all have one grade has only that grade.
5. Finally the pack is audited as a reader holding all of it would attack it, with integer
   programming (:mod:`sefton_qa.reports.disclosure_audit`): counts are whole and never
   negative, so linear algebra alone understates what can be worked out. While a hidden cell
   could take fewer than three values, or only values inside the small range, one more cell
   beside it is hidden, within a few rounds and a time limit; past them, every cell linked to
   the unprotected one is hidden (the pack says which tables were withheld). Each round
   needs only the first unprotected cell, and the solutions found in one round (checked again)
   still prove cells protected in the next, so few cells are solved for at all.

Cells that are never shown anywhere (``hidden``) are unknown to the reader; they need
protection only when their value is small (a count from 1 to 4 a reader could work out from
what is shown, such as the requires-improvement count of an older period in the trend, whose
total and two shares are shown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Hashable, Iterable, Mapping, Sequence

from sefton_qa.reports import disclosure_audit

Key = Hashable
Equation = Sequence[tuple[Key, int]]

SMALL_LOW = 1
SMALL_HIGH = 4
_PRIME = (1 << 61) - 1  # arithmetic modulo a large prime: exact for these small systems


def is_small(value: int) -> bool:
    return SMALL_LOW <= value <= SMALL_HIGH


@dataclass
class Disclosure:
    """Everything a pack would show: cell values, the equations linking them, and the keys
    the pack never shows."""

    values: dict[Key, int] = field(default_factory=dict)
    equations: list[tuple[tuple[Key, int], ...]] = field(default_factory=list)
    hidden: set[Key] = field(default_factory=set)
    #: Counts hidden only as a last resort (the number of audits in the period): secondary
    #: suppression takes any other cell first.
    keep: set[Key] = field(default_factory=set)
    values_shown: set[Key] = field(default_factory=set, repr=False)

    def add(self, key: Key, value: int, *, shown: bool = True) -> Key:
        if key in self.values and self.values[key] != value:
            raise ValueError(f"{key!r} has two values: {self.values[key]} and {value}")
        self.values[key] = int(value)
        if not shown and key not in self.values_shown:
            self.hidden.add(key)
        elif shown:
            self.values_shown.add(key)
            self.hidden.discard(key)
        return key

    def total(self, total_key: Key, part_keys: Iterable[Key]) -> bool:
        """Record that ``total_key`` is the sum of ``part_keys``, if the values say so (a link
        that does not hold gives a reader nothing exact, so it is left out). True if added."""
        parts = list(dict.fromkeys(part_keys))
        if not parts or sum(self.values[k] for k in parts) != self.values[total_key]:
            return False
        self.equations.append(tuple([(k, 1) for k in parts] + [(total_key, -1)]))
        return True

    def suppress(self, forced: Iterable[Key] = (), *, audited: bool = True) -> frozenset:
        return suppress(self.values, self.equations, hidden=self.hidden, forced=forced,
                        audited=audited, keep=self.keep)

    def audit(self, suppressed: Iterable[Key]):
        """What a reader of the pack could work out about each cell it hides."""
        return audit(self.values, self.equations, suppressed, hidden=self.hidden)


#: How many cells the integer-programming audit may add one by one, and for how long, before
#: it withholds everything linked to a cell it could not protect.
AUDIT_ROUNDS = 40
AUDIT_SECONDS = 3.0


def suppress(values: Mapping[Key, int], equations: Sequence[Equation], *,
             hidden: Iterable[Key] = (), forced: Iterable[Key] = (),
             audited: bool = True, keep: Iterable[Key] = ()) -> frozenset:
    """The keys to show as "c". ``hidden`` keys are never shown, so never in the result.
    ``audited`` False stops after the linear steps (1 to 4), for comparison."""
    order = {k: i for i, k in enumerate(values)}
    hidden = set(hidden)
    shown = [k for k in values if k not in hidden]
    cells: set[Key] = {k for k in shown if is_small(values[k])}
    primary = set(cells)
    cells.update(k for k in forced if k in values and k not in hidden)
    eqs: list[dict[Key, int]] = []
    for equation in equations:
        eq: dict[Key, int] = {}
        for k, c in equation:
            eq[k] = eq.get(k, 0) + c
        eq = {k: c for k, c in eq.items() if c}
        if len(eq) > 1:
            eqs.append(eq)
    by_key: dict[Key, list[dict[Key, int]]] = {}
    for eq in eqs:
        for k in eq:
            by_key.setdefault(k, []).append(eq)

    keep = set(keep)

    def rank(k: Key) -> tuple[bool, bool, int, int]:
        # kept counts last, then non-zero first, then smallest, then first
        return (k in keep, values[k] == 0, values[k], order[k])

    def visible(keys: Iterable[Key]) -> list[Key]:
        return [k for k in keys if k not in cells and k not in hidden]

    # 4 (first, so that the steps after it see them). The zeros beside a small count.
    for eq in eqs:
        if primary.intersection(eq):
            cells.update(k for k in eq if values[k] == 0 and k not in hidden)

    # 2. One equation at a time, until stable.
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            unknown = [k for k in eq if k in cells or k in hidden]
            if len(unknown) == 1 and unknown[0] in cells:
                candidates = visible(eq)
                if candidates:
                    cells.add(min(candidates, key=rank))
                    changed = True

    # 3. The whole system, exactly.
    while True:
        determined = _determined(cells | hidden, eqs, order) & cells
        if not determined:
            break
        target = min(determined, key=order.__getitem__)
        near = sorted({k for eq in by_key.get(target, ()) for k in visible(eq)}, key=rank)
        choice = None
        for candidate in near:
            if values[candidate] == 0:
                break
            if target not in _determined(cells | hidden | {candidate}, eqs, order):
                choice = candidate
                break
        if choice is None:
            choice = near[0] if near else _nearest_visible(target, eqs, by_key, visible, rank)
        if choice is None:  # nothing left to hide near it: cannot happen (see _determined)
            raise AssertionError(f"cannot protect {target!r}")
        cells.add(choice)
    if not audited:
        return frozenset(cells)

    # 5. Whole, non-negative counts: the integer-programming audit.
    # Each round needs only the first cell (in the pack's order) that is not protected, and
    # the figures found in one round still prove cells protected in the next.
    started = time.perf_counter()
    solutions = disclosure_audit.Solutions()
    for _round in range(AUDIT_ROUNDS):
        failing = _failing(values, eqs, cells, hidden, order, solutions=solutions)
        if not failing:
            return frozenset(cells)
        if time.perf_counter() - started > AUDIT_SECONDS:
            break
        target = failing[0]
        near = sorted({k for eq in by_key.get(target, ()) for k in visible(eq)}, key=rank)
        if not near:
            near = [k for k in [_nearest_visible(target, eqs, by_key, visible, rank)] if k]
        if not near:
            break
        cells.add(near[0])
    # Not protected within the limits: withhold everything linked to what is still exposed.
    result = audit(values, eqs, cells, hidden=hidden)
    for target in result.unprotected():
        cells.update(k for k in _linked(target, by_key) if k not in hidden)
    return frozenset(cells)


def _linked(target: Key, by_key) -> set[Key]:
    """Every key connected to ``target`` through equations."""
    seen, frontier = {target}, [target]
    while frontier:
        k = frontier.pop()
        for eq in by_key.get(k, ()):
            for other in eq:
                if other not in seen:
                    seen.add(other)
                    frontier.append(other)
    return seen


def _audit_model(values: Mapping[Key, int], equations: Sequence[Equation],
                 suppressed: Iterable[Key], hidden: Iterable[Key]):
    """What the audit of a pack hiding ``suppressed`` and never showing ``hidden`` solves: the
    equations, the unknowns, each unknown's lowest value, and the keys to protect (see
    :func:`audit`)."""
    suppressed = set(suppressed)
    hidden = set(hidden) - suppressed
    rows = [dict(eq) if isinstance(eq, Mapping) else {k: c for k, c in eq} for eq in equations]
    beside_another: set[Key] = set()
    for row in rows:
        inside = [k for k in row if k in suppressed]
        if len(inside) > 1:
            beside_another.update(inside)
    # A "c" alone in its equations is not a zero hidden beside a small count, so a reader may
    # take it to be at least 1; if any such "c" is in fact 0 (hidden as a last resort), that
    # assumption fails on the figures, and a reader can no longer rely on it for any of them.
    lone = suppressed - beside_another
    floor = 0 if any(values[k] == 0 for k in lone) else 1
    lowest = {k: (floor if k in lone else 0) for k in suppressed}
    lowest.update({k: 0 for k in hidden})
    protect = suppressed | {k for k in hidden if is_small(values[k])}
    unknown = sorted(suppressed, key=repr) + sorted(hidden, key=repr)
    return [tuple(r.items()) for r in rows], unknown, lowest, protect


def audit(values: Mapping[Key, int], equations: Sequence[Equation], suppressed: Iterable[Key],
          *, hidden: Iterable[Key] = ()) -> disclosure_audit.Audit:
    """The integer-programming audit of a pack that hides ``suppressed`` (shown as "c") and
    never shows ``hidden``: each one's range, as a reader holding the whole pack can work it
    out. A "c" may stand for a zero (its lowest value is 0) when it shares an equation with
    another "c", since step 4 hides the zeros beside a small count; elsewhere the pack prints
    its zeros, so a "c" is at least 1. A never-shown key needs protecting only when small."""
    suppressed = set(suppressed)
    rows, unknown, lowest, protect = _audit_model(values, equations, suppressed, hidden)
    return disclosure_audit.audit(values, rows, sorted(suppressed, key=repr),
                                  hidden=unknown[len(suppressed):], lowest=lowest,
                                  protect=protect, small_low=SMALL_LOW, small_high=SMALL_HIGH)


def _failing(values: Mapping[Key, int], equations: Sequence[Equation],
             suppressed: Iterable[Key], hidden: Iterable[Key], order: Mapping[Key, int], *,
             first: bool = True, solutions: disclosure_audit.Solutions | None = None,
             stats: dict | None = None) -> list[Key]:
    """The cells :func:`audit` would find unprotected, in the pack's order (``first``: only
    the first of them), worked out with as little solving as proves it
    (:func:`disclosure_audit.unprotected`)."""
    rows, unknown, lowest, protect = _audit_model(values, equations, suppressed, hidden)
    return disclosure_audit.unprotected(
        values, rows, unknown, sorted(protect, key=order.__getitem__), lowest=lowest,
        small_low=SMALL_LOW, small_high=SMALL_HIGH, first=first, solutions=solutions,
        stats=stats)


def _nearest_visible(target, eqs, by_key, visible, rank):
    """The smallest visible cell in any equation connected to ``target``."""
    seen_keys = {target}
    frontier = [target]
    seen_eqs: set[int] = set()
    found: list = []
    while frontier and not found:
        nxt = []
        for k in frontier:
            for eq in by_key.get(k, ()):
                if id(eq) in seen_eqs:
                    continue
                seen_eqs.add(id(eq))
                found.extend(visible(eq))
                for other in eq:
                    if other not in seen_keys:
                        seen_keys.add(other)
                        nxt.append(other)
        frontier = nxt
    return min(found, key=rank) if found else None


def _determined(unknown: set[Key], equations: Sequence[Mapping[Key, int]],
                order: Mapping[Key, int]) -> set[Key]:
    """The unknown keys whose value the equations fix, given every other key's value.

    Gauss–Jordan elimination on the equations' coefficients over the unknowns. A key is fixed exactly when it is a
    pivot whose reduced row holds no free unknown. If every key of a connected set of
    equations is unknown, nothing there is fixed (the equations are homogeneous, so any
    solution can be scaled), so hiding more always ends in protection.
    """
    columns = sorted(unknown, key=order.__getitem__)
    index = {k: i for i, k in enumerate(columns)}
    pivots: dict[int, dict[int, int]] = {}
    for eq in equations:
        row: dict[int, int] = {}
        for key, coefficient in eq.items():
            if key in index:
                row[index[key]] = coefficient % _PRIME
        row = {c: v for c, v in row.items() if v}
        for col in [c for c in row if c in pivots]:
            factor = row.get(col, 0)
            if factor:
                for c, v in pivots[col].items():
                    row[c] = (row.get(c, 0) - factor * v) % _PRIME
                row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        lead = min(row)
        inverse = pow(row[lead], _PRIME - 2, _PRIME)
        row = {c: v * inverse % _PRIME for c, v in row.items()}
        for col, other in pivots.items():
            factor = other.get(lead)
            if factor:
                for c, v in row.items():
                    other[c] = (other.get(c, 0) - factor * v) % _PRIME
                for c in [c for c, v in other.items() if not v]:
                    del other[c]
        pivots[lead] = row
    return {columns[col] for col, row in pivots.items() if len(row) == 1}
