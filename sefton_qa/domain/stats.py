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
