"""The grade scale used for audits: outstanding (optional), good, requires improvement, inadequate."""

from __future__ import annotations

from enum import Enum


class Grade(str, Enum):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]

    @property
    def short_label(self) -> str:
        return GRADE_SHORT_LABELS[self]

    @property
    def rank(self) -> int:
        """Higher is better: inadequate 1 ... outstanding 4."""
        return GRADE_RANKS[self]


GRADE_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires improvement to be good",
    Grade.INADEQUATE: "Inadequate",
}
GRADE_SHORT_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires improvement",
    Grade.INADEQUATE: "Inadequate",
}
GRADE_RANKS = {
    Grade.INADEQUATE: 1,
    Grade.REQUIRES_IMPROVEMENT: 2,
    Grade.GOOD: 3,
    Grade.OUTSTANDING: 4,
}

#: Best first; the order tables and charts use.
ALL_GRADES: tuple[Grade, ...] = (
    Grade.OUTSTANDING,
    Grade.GOOD,
    Grade.REQUIRES_IMPROVEMENT,
    Grade.INADEQUATE,
)


def active_grades(outstanding_enabled: bool) -> tuple[Grade, ...]:
    return ALL_GRADES if outstanding_enabled else ALL_GRADES[1:]


def suggest_overall(section_grades: list[Grade]) -> Grade | None:
    """Suggest an overall grade from section grades: the median rank, rounded down (cautious).

    Returns None when no section is graded. The auditor decides; this is only a suggestion.
    """
    if not section_grades:
        return None
    ranks = sorted(g.rank for g in section_grades)
    median = ranks[(len(ranks) - 1) // 2]
    return next(g for g in ALL_GRADES if g.rank == median)
