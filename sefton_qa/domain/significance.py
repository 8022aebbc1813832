"""Whether a change could be chance (issue 16, item 3): pure arithmetic, no I/O.

* Two shares (this period's k1 of n1 against the previous period's k2 of n2) are compared by
  Newcombe's hybrid score interval for a difference of proportions (method 10 of Newcombe,
  *Statistics in Medicine* 1998;17:873–890): the change "could be chance" when the 95%
  interval contains 0. When any expected count of the 2×2 table is below 5, Fisher's exact
  two-sided test is used instead (p < 0.05). α = 0.05 throughout.
* Several such comparisons (the themes) are judged together with Holm's step-down correction.
* A trend is judged by the standard run rules on a p-chart: a point outside the 3-sigma
  limits, 6 points in a row rising or falling, 8 points in a row on one side of the centre
  line; only the rules the number of points allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

from sefton_qa.domain.stats import Z95, wilson_interval

ALPHA = 0.05
#: Expected counts below this, and Fisher's exact test replaces the score interval.
MIN_EXPECTED = 5
#: Points needed for each run rule (and for the control limits to mean much).
OUTSIDE_MIN_POINTS = 6
RUN_TREND = 6  # this many in a row, each higher (or lower) than the one before
RUN_SIDE = 8  # this many in a row on one side of the centre line

NEWCOMBE = "Newcombe"
FISHER = "Fisher"

RISE, FALL, CHANCE = "rise", "fall", "chance"


# -- two shares ---------------------------------------------------------------------------------
def newcombe_interval(k1: int, n1: int, k2: int, n2: int,
                      z: float = Z95) -> tuple[float, float, float]:
    """(difference, low, high) for p1 − p2 by Newcombe's hybrid score method (method 10),
    from the two Wilson score intervals without continuity correction."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both periods need audits")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z)
    l2, u2 = wilson_interval(k2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def newcombe_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """The two-sided p-value of Newcombe's interval, by inverting it: the smallest α at which
    the (1 − α) interval leaves 0 out. p < 0.05 exactly when the 95% interval leaves 0 out."""
    d = k1 / n1 - k2 / n2
    if d == 0:
        return 1.0

    def excludes_zero(z: float) -> bool:
        _, low, high = newcombe_interval(k1, n1, k2, n2, z)
        return low > 0 if d > 0 else high < 0

    if not excludes_zero(1e-9):
        return 1.0
    lo, hi = 1e-9, 40.0
    if excludes_zero(hi):
        return 2 * NormalDist().cdf(-hi)
    for _ in range(100):
        mid = (lo + hi) / 2
        if excludes_zero(mid):
            lo = mid
        else:
            hi = mid
    return min(1.0, 2 * NormalDist().cdf(-(lo + hi) / 2))


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test, two-sided, for the table [[a, b], [c, d]]: the probability, given
    the margins, of a table no more likely than the one seen (exact, in whole numbers)."""
    if min(a, b, c, d) < 0:
        raise ValueError("counts cannot be negative")
    r1, r2, c1 = a + b, c + d, a + c
    n = r1 + r2

    def weight(x: int) -> int:  # C(r1, x) C(r2, c1 − x): proportional to P(a = x)
        return math.comb(r1, x) * math.comb(r2, c1 - x)

    seen = weight(a)
    total = math.comb(n, c1)
    tail = sum(w for w in (weight(x) for x in range(max(0, c1 - r2), min(r1, c1) + 1))
               if w <= seen)
    return min(1.0, tail / total)


def expected_counts(k1: int, n1: int, k2: int, n2: int) -> list[float]:
    """The four expected counts of the 2×2 table (period × with/without) under no change."""
    n = n1 + n2
    yes, no = k1 + k2, n - k1 - k2
    return [n1 * yes / n, n1 * no / n, n2 * yes / n, n2 * no / n]


@dataclass(frozen=True)
class Comparison:
    """This period's k1 of n1 against the previous period's k2 of n2."""

    k1: int
    n1: int
    k2: int
    n2: int
    method: str  # NEWCOMBE or FISHER
    difference: float  # p1 − p2
    low: float  # Newcombe's 95% interval for the difference (given with either method)
    high: float
    p: float  # two-sided

    @property
    def significant(self) -> bool:
        """Too large to be chance at α = 0.05 (on its own, before any correction)."""
        if self.method == FISHER:
            return self.p < ALPHA
        return self.low > 0 or self.high < 0

    @property
    def direction(self) -> str:
        return RISE if self.difference > 0 else FALL if self.difference < 0 else CHANCE

    def verdict(self, significant: bool | None = None) -> str:
        """RISE, FALL or CHANCE; ``significant`` overrides the test's own (for Holm)."""
        sig = self.significant if significant is None else significant
        return self.direction if sig and self.difference != 0 else CHANCE


def compare(k1: int, n1: int, k2: int, n2: int) -> Comparison | None:
    """The test the issue asks for, or None when either period has no audits."""
    if n1 <= 0 or n2 <= 0:
        return None
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"need 0 <= k <= n, got {k1} of {n1} and {k2} of {n2}")
    d, low, high = newcombe_interval(k1, n1, k2, n2)
    if min(expected_counts(k1, n1, k2, n2)) < MIN_EXPECTED:
        return Comparison(k1, n1, k2, n2, FISHER, d, low, high,
                          fisher_exact(k1, n1 - k1, k2, n2 - k2))
    return Comparison(k1, n1, k2, n2, NEWCOMBE, d, low, high, newcombe_p(k1, n1, k2, n2))


def verdict_words(verdict: str) -> str:
    """"a rise too large to be chance", "a fall too large to be chance", "could be chance"."""
    return {RISE: "a rise too large to be chance", FALL: "a fall too large to be chance",
            CHANCE: "could be chance"}[verdict]


# -- many comparisons at once -------------------------------------------------------------------
def holm(pvalues: list[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down procedure: which of the hypotheses are rejected, controlling the
    chance of any false "too large to be chance" among them at ``alpha``."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    rejected = [False] * m
    for rank, i in enumerate(order):
        if pvalues[i] < alpha / (m - rank):
            rejected[i] = True
        else:
            break
    return rejected


def holm_adjusted(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values: rejected at α exactly when the adjusted p is below α."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


# -- a trend on a p-chart -----------------------------------------------------------------------
@dataclass(frozen=True)
class RunFinding:
    """One run rule that fired: which, which way (1 up or above, -1 down or below), and the
    points (indices into the points given) it covers."""

    rule: str  # "outside", "trend" or "side"
    direction: int
    points: tuple[int, ...]


@dataclass(frozen=True)
class RunRules:
    points: int  # points with audits
    rules: tuple[str, ...]  # the rules the number of points allows
    findings: tuple[RunFinding, ...]


def control_position(k: int, n: int, centre: Fraction) -> int:
    """-1 below the lower 3-sigma limit, 1 above the upper one, 0 within (exactly)."""
    if not n:
        return 0
    diff = Fraction(k, n) - centre
    if diff * diff <= centre * (1 - centre) / n * 9:
        return 0
    return 1 if diff > 0 else -1


def run_rules(points: list[tuple[int, int]]) -> RunRules:
    """Judge a p-chart's points ((k, n), oldest first; periods with no audits are left out by
    the caller) by the run rules the number of points allows."""
    pts = [(k, n) for k, n in points if n]
    rules = []
    if len(pts) >= OUTSIDE_MIN_POINTS:
        rules.append("outside")
    if len(pts) >= RUN_TREND:
        rules.append("trend")
    if len(pts) >= RUN_SIDE:
        rules.append("side")
    findings: list[RunFinding] = []
    if not rules:
        return RunRules(len(pts), (), ())
    centre = Fraction(sum(k for k, _ in pts), sum(n for _, n in pts))
    shares = [Fraction(k, n) for k, n in pts]
    for side in (1, -1):
        outside = tuple(i for i, (k, n) in enumerate(pts)
                        if control_position(k, n, centre) == side)
        if outside:
            findings.append(RunFinding("outside", side, outside))
    if "trend" in rules:
        findings += _runs(len(shares), RUN_TREND, "trend",
                          lambda i: _sign(shares[i] - shares[i - 1]) if i else 0, pairs=True)
    if "side" in rules:
        findings += _runs(len(shares), RUN_SIDE, "side", lambda i: _sign(shares[i] - centre),
                          pairs=False)
    return RunRules(len(pts), tuple(rules), tuple(findings))


def _sign(x) -> int:
    return (x > 0) - (x < 0)


def _runs(count: int, length: int, rule: str, step, *, pairs: bool) -> list[RunFinding]:
    """Maximal runs of at least ``length`` points with the same non-zero sign. With pairs, the
    sign of point i is its change from point i − 1, and a run of L points has L − 1 changes."""
    found = []
    i = 1 if pairs else 0
    while i < count:
        s = step(i)
        j = i
        while s and j + 1 < count and step(j + 1) == s:
            j += 1
        first = i - 1 if pairs else i
        if s and j - first + 1 >= length:
            found.append(RunFinding(rule, s, tuple(range(first, j + 1))))
        i = j + 1
    return found
