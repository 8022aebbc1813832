"""The results table: one row per operation, printed plain and written as markdown."""

from __future__ import annotations

from dataclasses import dataclass

from .timing import Timing

#: "bare" is plain sqlite3 unless the notes say otherwise (python-calamine, a bare PySide6 window).
COLUMNS = ("operation", "Sefton QA", "bare", "ratio (Sefton/bare)", "target", "met")


@dataclass(frozen=True)
class Target:
    limit: float
    unit: str
    at_least: bool  # True for rates (higher is better), False for times

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.limit:,g} {self.unit}"


NONE = "—"  # no bare comparison makes sense for this row


@dataclass(frozen=True)
class Row:
    operation: str
    sefton: str
    bare: str
    ratio: float | None  # None: no bare comparison
    target: Target
    value: float  # the Sefton figure the target is about

    def cells(self) -> tuple[str, ...]:
        return (self.operation, self.sefton, self.bare,
                NONE if self.ratio is None else f"{self.ratio:.2f}", str(self.target),
                "yes" if self.target.met(self.value) else "NO")


def _ratio(ours: float, theirs: float | None) -> float | None:
    return None if theirs is None else ours / theirs


def rate_row(operation: str, items: int, sefton: Timing, bare: Timing, target: Target) -> Row:
    ours, theirs = sefton.rate(items), bare.rate(items)
    return Row(operation, f"{ours:,.0f} {target.unit}", f"{theirs:,.0f} {target.unit}",
               ours / theirs, target, ours)


def _ms(t: Timing, detail: str = "") -> str:
    return f"{t.median_ms:.2f} ms (p95 {t.p95_ms:.2f}{detail})"


def latency_row(operation: str, sefton: Timing, bare: Timing | None, target: Target) -> Row:
    """Medians in milliseconds; the target is on the Sefton QA median."""
    return Row(operation, _ms(sefton), _ms(bare) if bare else NONE,
               _ratio(sefton.median_ms, bare.median_ms if bare else None), target,
               sefton.median_ms)


def two_step_row(operation: str, sefton: tuple[Timing, Timing],
                 bare: tuple[Timing, Timing] | None, steps: tuple[str, str],
                 target: Target) -> Row:
    """Two steps timed call by call (the register's count, then its first page): the median
    of their sum, with each step's own median beside it; the target is on the sum."""
    def figure(first: Timing, second: Timing) -> str:
        return _ms(first + second, f"; {steps[0]} {first.median_ms:.2f} + {steps[1]} "
                                   f"{second.median_ms:.2f}")

    ours = (sefton[0] + sefton[1]).median_ms
    return Row(operation, figure(*sefton), figure(*bare) if bare else NONE,
               _ratio(ours, (bare[0] + bare[1]).median_ms if bare else None), target, ours)


def duration_row(operation: str, items: int, unit: str, sefton: Timing, bare: Timing | None,
                 target: Target) -> Row:
    """One long operation over ``items``: median seconds and the rate; target in seconds."""
    def figure(t: Timing) -> str:
        return f"{t.median:.2f} s ({items / t.median:,.0f} {unit}/s)"

    return Row(operation, figure(sefton), figure(bare) if bare else NONE,
               _ratio(sefton.median, bare.median if bare else None), target, sefton.median)


def ratio_row(operation: str, sefton: Timing, bare: Timing, target: Target) -> Row:
    """Medians in seconds, a few runs each; the target is on the ratio itself."""
    def figure(t: Timing) -> str:
        return f"{t.median:.2f} s (max {max(t.samples):.2f}, {len(t.samples)} runs)"

    ratio = sefton.median / bare.median
    return Row(operation, figure(sefton), figure(bare), ratio, target, ratio)


def plain(header: list[str], rows: list, notes: list[str],
          columns: tuple[str, ...] = COLUMNS) -> str:
    """The table as plain text; ``rows`` are anything with ``cells()`` matching ``columns``
    (:class:`Row` for the main table)."""
    table = [columns] + [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join(header + ["", line(columns), rule] + [line(r.cells()) for r in rows]
                     + [""] + notes) + "\n"


def markdown(title: str, header: list[str], rows: list, notes: list[str],
             columns: tuple[str, ...] = COLUMNS, level: int = 1) -> str:
    def line(cells) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([f"{'#' * level} {title}", ""] + [f"- {h}" for h in header] + [
        "", line(columns), "|" + "|".join(["---"] * len(columns)) + "|"]
        + [line(r.cells()) for r in rows] + [""] + [f"- {n}" for n in notes]) + "\n"
