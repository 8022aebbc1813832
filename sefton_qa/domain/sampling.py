"""Choosing which cases to audit: a stratified random sample, its quotas, its allocation to
auditors and its weighted estimate. Pure functions, no store and no Qt (issue 19).

The draw (method ``sha256-v1``)
-------------------------------
Within each stratum (a team, or a service area), every eligible case is given the key::

    SHA-256( UTF-8(seed) + b"\\x00" + UTF-8(stratum) + b"\\x00" + UTF-8(reference) )

where ``seed`` is the seed as recorded (text: a decimal number), ``stratum`` the stratum's
key as recorded (``team:12`` or ``area:3``) and ``reference`` the case reference normalised
by :func:`normalise_reference` (surrounding white space removed, upper-cased). The cases are
ordered by the key's 32 bytes (as unsigned bytes, lowest first; a tie, which SHA-256 will
not give, falls to the reference). The first ``n`` are the sample, the next
:func:`reserves_for` ``(n)`` are the reserves, in that order. When the stratum has fewer
eligible cases than asked for, all of them are taken, sample first.

When a stratum's quota has deep dives and dip samples, the sample's first ``deep_dives``
cases are the deep dives and the next ``dip_samples`` the dip samples (one ordering per
stratum, so no case is drawn twice); a reserve takes the type of the case it replaces.

The order depends on nothing else (not on Python's ``random``, whose output may change between
versions, nor on the order cases were imported), so anyone holding the seed and the case list
can redo the draw with any SHA-256 tool; :func:`draw` is all of it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping, Sequence

from sefton_qa.domain.stats import Z95

METHOD = "sha256-v1"
#: The methods this version can recompute (``check``); a draw records the one it used.
METHODS = (METHOD,)
#: Reserves: a quarter of the sample, rounded up, and never fewer than this (none when the
#: sample is empty).
MIN_RESERVES = 2


def normalise_reference(reference: str) -> str:
    """A case reference as the draw and the recent-audit exclusion compare it: trimmed and
    upper-cased ("  lcs-12 " is "LCS-12")."""
    return str(reference).strip().upper()


def sort_key(seed: str, stratum: str, reference: str) -> bytes:
    """The case's key within its stratum (see the module's description for the bytes)."""
    message = (str(seed).encode("utf-8") + b"\x00" + stratum.encode("utf-8") + b"\x00"
               + normalise_reference(reference).encode("utf-8"))
    return hashlib.sha256(message).digest()


def reserves_for(n: int) -> int:
    """max(2, ⌈n/4⌉) reserves for a sample of n (25% rounded up: 5 → 2, 9 → 3, 12 → 3);
    none for an empty sample."""
    if n <= 0:
        return 0
    return max(MIN_RESERVES, (n + 3) // 4)


def order_stratum(seed: str, stratum: str, references: Iterable[str]) -> list[str]:
    """Every reference of the stratum (normalised, each once), in the draw's order."""
    unique = {normalise_reference(r) for r in references}
    return sorted(unique, key=lambda r: (sort_key(seed, stratum, r), r))


@dataclass(frozen=True)
class Quota:
    deep_dives: int = 0
    dip_samples: int = 0

    @property
    def total(self) -> int:
        return self.deep_dives + self.dip_samples


@dataclass(frozen=True)
class Drawn:
    """One drawn case: its place in its stratum's order (1 first), whether a reserve, and the
    audit type it was drawn for (None for a reserve, which takes the type it replaces)."""

    stratum: str
    rank: int
    reference: str
    is_reserve: bool
    audit_type: str | None


@dataclass(frozen=True)
class StratumDraw:
    stratum: str
    eligible: int
    asked: int
    sample: tuple[Drawn, ...]
    reserves: tuple[Drawn, ...]

    @property
    def short(self) -> int:
        """How many fewer cases than asked the stratum could give."""
        return self.asked - len(self.sample)


def draw_stratum(seed: str, stratum: str, references: Iterable[str], quota: Quota
                 ) -> StratumDraw:
    ordered = order_stratum(seed, stratum, references)
    n = min(quota.total, len(ordered))
    reserves = min(reserves_for(quota.total), len(ordered) - n)
    sample, spare = [], []
    for rank, reference in enumerate(ordered[:n + reserves], start=1):
        if rank <= n:
            kind = "deep_dive" if rank <= quota.deep_dives else "dip_sample"
            sample.append(Drawn(stratum, rank, reference, False, kind))
        else:
            spare.append(Drawn(stratum, rank, reference, True, None))
    return StratumDraw(stratum, len(ordered), quota.total, tuple(sample), tuple(spare))


def draw(seed: str, population: Mapping[str, Iterable[str]], quotas: Mapping[str, Quota]
         ) -> dict[str, StratumDraw]:
    """The whole draw: for each stratum with a quota, its sample and reserves, from the
    eligible case references ``population[stratum]``."""
    return {stratum: draw_stratum(seed, stratum, population.get(stratum, ()), quota)
            for stratum, quota in sorted(quotas.items())}


# -- quotas proportional to caseload -----------------------------------------------------------
def largest_remainder(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Share ``total`` among strata in proportion to ``sizes`` (Hamilton's largest-remainder
    method): each stratum gets the whole part of total × size / Σ sizes, and the units left
    over go one each to the strata with the largest fractional parts; ties go to the larger
    stratum, then to the stratum key in order. The shares add up to ``total`` exactly (when
    every size is 0, everything is 0). Exact: worked in integers, no floating point."""
    if total < 0:
        raise ValueError("a total to share cannot be negative")
    whole = sum(sizes.values())
    if whole <= 0:
        return {k: 0 for k in sizes}
    shares = {k: total * s // whole for k, s in sizes.items()}
    remainders = {k: total * s % whole for k, s in sizes.items()}
    left = total - sum(shares.values())
    for k in sorted(sizes, key=lambda k: (-remainders[k], -sizes[k], k))[:left]:
        shares[k] += 1
    return shares


# -- allocation ----------------------------------------------------------------------------------
def allocate(cases: Sequence[tuple[Hashable, frozenset]], auditors: Sequence[Hashable],
             current: Mapping[Hashable, int] | None = None) -> dict[Hashable, Hashable | None]:
    """Give each case an auditor it allows, keeping the numbers even.

    ``cases`` are (case key, the auditors it forbids); ``auditors`` the eligible auditors in a
    fixed order; ``current`` any counts they already hold (within the same draw). Returns
    {case key: auditor, or None when every auditor is forbidden}.

    Cases with the fewest allowed auditors are placed first, each to the allowed auditor with
    the fewest so far (ties to the earlier auditor). Then, while some auditor holds two or
    more cases than another and a chain of allowed moves joins them (a case of the first to
    an auditor it allows, a case of that one to the next, ... ending at the second), the
    cases move along the chain: the first loses one, the last gains one. Each such move
    lowers the sum of squared counts, so this ends; and when it has, counts differ by at most
    one except where the rules leave no way to even them. Deterministic: the same input
    gives the same answer.
    """
    counts = {a: 0 for a in auditors}
    for a, n in (current or {}).items():
        if a in counts:
            counts[a] = n
    order = {a: i for i, a in enumerate(auditors)}
    allowed = {key: [a for a in auditors if a not in forbidden] for key, forbidden in cases}
    result: dict[Hashable, Hashable | None] = {}
    for position, (key, _forbidden) in sorted(enumerate(cases),
                                              key=lambda p: (len(allowed[p[1][0]]), p[0])):
        choices = allowed[key]
        if not choices:
            result[key] = None
            continue
        best = min(choices, key=lambda a: (counts[a], order[a]))
        counts[best] += 1
        result[key] = best
    while True:
        path = _evening_chain(cases, auditors, allowed, result, counts, order)
        if path is None:
            return result
        for key, target in path:
            counts[result[key]] -= 1
            counts[target] += 1
            result[key] = target


def _evening_chain(cases, auditors, allowed, result, counts, order):
    """A chain of moves [(case, to auditor), ...] from an auditor to one holding two or more
    fewer, or None. Breadth first from the most loaded auditors (the shortest chain, ties by
    the auditors' and cases' order)."""
    held: dict[Hashable, list] = {a: [] for a in auditors}
    for key, _forbidden in cases:
        if result[key] is not None:
            held[result[key]].append(key)
    for start in sorted(auditors, key=lambda a: (-counts[a], order[a])):
        seen = {start: None}  # auditor → (previous auditor, case moved to it)
        frontier = [start]
        while frontier:
            following = []
            for holder in frontier:
                for key in held[holder]:
                    for target in allowed[key]:
                        if target in seen:
                            continue
                        seen[target] = (holder, key)
                        if counts[start] - counts[target] >= 2:
                            path, at = [], target
                            while seen[at] is not None:
                                previous, moved = seen[at]
                                path.append((moved, at))
                                at = previous
                            return path[::-1]
                        following.append(target)
            frontier = following
    return None


# -- the weighted estimate -------------------------------------------------------------------------
@dataclass(frozen=True)
class StratumResult:
    """One stratum's part of an estimate: its open cases N, audited cases n, good ones."""

    open_cases: int
    audited: int
    good: int


@dataclass(frozen=True)
class Estimate:
    share: float  # the weighted share, a fraction
    unweighted: float  # Σ good / Σ audited
    standard_error: float
    effective_n: float | None  # None when the variance is 0 (the share is exact or 0/1)
    low: float
    high: float
    audited: int
    open_cases: int
    strata: tuple[StratumResult, ...] = field(default=())


def wilson_from_share(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a share ``p`` observed over a (possibly fractional,
    effective) sample size ``n``: the same formula as :func:`stats.wilson_interval`."""
    if n <= 0:
        return (0.0, 1.0)
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def weighted_estimate(strata: Sequence[StratumResult], z: float = Z95) -> Estimate:
    """The share good across the caseload from a stratified sample.

    With W_h = N_h / Σ N (strata with nothing audited are left out, and the weights are of
    those audited), p_h = good_h / n_h:

    * share = Σ W_h p_h
    * variance = Σ W_h² p_h (1 − p_h) / (n_h − 1) · (1 − n_h / N_h)  (a stratum of one audit
      adds nothing it can measure: its term is 0)
    * effective n = share (1 − share) / variance, and the 95% interval is Wilson's on it;
      when the variance is 0 the interval is Wilson's on the audits themselves.
    """
    used = [s for s in strata if s.audited > 0]
    for s in strata:
        if s.good < 0 or s.good > s.audited or s.audited > s.open_cases:
            raise ValueError(f"need 0 <= good <= audited <= open cases, got {s}")
    audited = sum(s.audited for s in used)
    good = sum(s.good for s in used)
    total_open = sum(s.open_cases for s in used)
    if not used or total_open == 0:
        return Estimate(0.0, 0.0, 0.0, None, 0.0, 1.0, 0, 0, tuple(strata))
    share = variance = 0.0
    for s in used:
        w = s.open_cases / total_open
        p = s.good / s.audited
        share += w * p
        if s.audited > 1:
            variance += w * w * p * (1 - p) / (s.audited - 1) * (1 - s.audited / s.open_cases)
    unweighted = good / audited
    if variance > 0:
        effective = share * (1 - share) / variance
        low, high = wilson_from_share(share, effective, z)
    else:
        effective = None
        low, high = wilson_from_share(share, audited, z)
    return Estimate(share, unweighted, math.sqrt(variance), effective, low, high, audited,
                    total_open, tuple(strata))
