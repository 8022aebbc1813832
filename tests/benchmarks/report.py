"""The results table: one row per operation, printed plain and written as markdown."""

from __future__ import annotations

from dataclasses import dataclass

from .timing import Timing

COLUMNS = ("operation", "Sefton QA", "bare sqlite3", "ratio (Sefton/bare)", "target", "met")


@dataclass(frozen=True)
class Target:
    limit: float
    unit: str
    at_least: bool  # True for rates (higher is better), False for times

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.limit:,g} {self.unit}"


@dataclass(frozen=True)
class Row:
    operation: str
    sefton: str
    bare: str
    ratio: float
    target: Target
    value: float  # the Sefton figure the target is about

    def cells(self) -> tuple[str, ...]:
        return (self.operation, self.sefton, self.bare, f"{self.ratio:.2f}", str(self.target),
                "yes" if self.target.met(self.value) else "NO")


def rate_row(operation: str, items: int, sefton: Timing, bare: Timing, target: Target) -> Row:
    ours, theirs = sefton.rate(items), bare.rate(items)
    return Row(operation, f"{ours:,.0f} {target.unit}", f"{theirs:,.0f} {target.unit}",
               ours / theirs, target, ours)


def latency_row(operation: str, sefton: Timing, bare: Timing, target: Target) -> Row:
    def figure(t: Timing) -> str:
        return f"{t.median_ms:.2f} ms (p95 {t.p95_ms:.2f})"

    return Row(operation, figure(sefton), figure(bare), sefton.median_ms / bare.median_ms,
               target, sefton.median_ms)


def plain(header: list[str], rows: list[Row], notes: list[str]) -> str:
    table = [COLUMNS] + [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]

    def line(cells) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join(header + ["", line(COLUMNS), rule] + [line(r.cells()) for r in rows]
                     + [""] + notes) + "\n"


def markdown(title: str, header: list[str], rows: list[Row], notes: list[str]) -> str:
    def line(cells) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([f"# {title}", ""] + [f"- {h}" for h in header] + [
        "", line(COLUMNS), "|" + "|".join(["---"] * len(COLUMNS)) + "|"]
        + [line(r.cells()) for r in rows] + [""] + [f"- {n}" for n in notes]) + "\n"
