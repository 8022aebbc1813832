"""Honest numbers: proportions with Wilson score intervals."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson_interval(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as fractions in [0, 1].

    With no observations the interval is the whole range (0, 1): we know nothing.
    """
    if total < 0 or successes < 0 or successes > total:
        raise ValueError(f"need 0 <= successes <= total, got {successes} of {total}")
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    z2 = z * z
    denom = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    low = max(0.0, centre - half)
    high = min(1.0, centre + half)
    if successes == 0:
        low = 0.0
    if successes == total:
        high = 1.0
    return (low, high)


def percent(part: int, whole: int) -> float:
    return 0.0 if whole == 0 else 100.0 * part / whole


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def weighted_kappa(pairs, categories, *, weights: str = "linear") -> float | None:
    """Cohen's kappa for two raters over ordered categories, weighted for how far apart the
    ratings are ("linear" or "quadratic"); None when there is nothing to measure.

    ``pairs`` are (rater A's category, rater B's category); ``categories`` are in order.
    1 is perfect agreement, 0 what chance alone would give, below 0 worse than chance.
    """
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    if k < 2:
        return None
    counts = [[0] * k for _ in range(k)]
    n = 0
    for a, b in pairs:
        counts[index[a]][index[b]] += 1
        n += 1
    if n == 0:
        return None
    row = [sum(counts[i]) for i in range(k)]
    col = [sum(counts[i][j] for i in range(k)) for j in range(k)]

    def w(i: int, j: int) -> float:
        d = abs(i - j) / (k - 1)
        return d * d if weights == "quadratic" else d

    observed = sum(w(i, j) * counts[i][j] for i in range(k) for j in range(k)) / n
    expected = sum(w(i, j) * row[i] * col[j] for i in range(k) for j in range(k)) / (n * n)
    if expected == 0:
        return 1.0 if observed == 0 else None
    return 1.0 - observed / expected


def kappa_words(kappa: float) -> str:
    """Agreement beyond chance in the usual words (Landis and Koch), everywhere it is said:
    below zero moderators and auditors agree less often than chance would."""
    if kappa < 0:
        return "less than chance"
    return ("almost perfect" if kappa > 0.8 else "substantial" if kappa > 0.6 else "moderate"
            if kappa > 0.4 else "fair" if kappa > 0.2 else "slight or none")
