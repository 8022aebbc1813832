"""Every count the pack shows, under one key each, with the sums that link them; and, for a
public pack, which of them are shown as "c" (see :mod:`sefton_qa.reports.suppression`).

The pack never prints a count (or a share of it) except through :class:`Numbers`, so a public
pack cannot show a count the suppression did not clear.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from sefton_qa.domain.grades import ALL_GRADES, Grade
from sefton_qa.reports.figures import (
    CONTROL_LIMIT_MIN_PERIODS,
    GradeCounts,
    PackFigures,
    Period,
)
from sefton_qa.reports.suppression import Disclosure

SUPPRESSED = "c"
NO_AREA = "Not recorded"


# -- keys ---------------------------------------------------------------------------------------
def grade_key(period: Period, grade: Grade) -> tuple:
    return ("grade", period, grade.value)


def total_key(period: Period) -> tuple:
    return ("audits", period)


def gob_key(figures: PackFigures, period: Period) -> tuple:
    """Good or better: the good count itself when outstanding is not on the scale."""
    if Grade.OUTSTANDING in figures.grades:
        return ("good or better", period)
    return grade_key(period, Grade.GOOD)


def area_key(area: str, grade: Grade | None = None) -> tuple:
    return ("area", area, grade.value if grade else "total")


def team_key(team: str, grade: Grade | None = None) -> tuple:
    return ("team", team, grade.value if grade else "total")


def theme_key(theme: str, area: str | None = "total") -> tuple:
    return ("theme", theme, NO_AREA if area is None else area)


def theme_previous_key(theme: str) -> tuple:
    return ("theme previous", theme)


def below_good_key(period: Period) -> tuple:
    """Requires improvement or inadequate: the council's own headline ("92% requires
    improvement or inadequate")."""
    return ("requires improvement or inadequate", period)


CENTRE_GOB = ("trend", "good or better")
CENTRE_INADEQUATE = ("trend", "inadequate")
CENTRE_TOTAL = ("trend", "audits")


def has_control_limits(figures: PackFigures) -> bool:
    return sum(1 for t in figures.trend if t.total) >= CONTROL_LIMIT_MIN_PERIODS


def sorted_themes(figures: PackFigures) -> list[str]:
    names = set(figures.themes) | {t for t, n in figures.themes_previous.items() if n}
    return sorted(names, key=lambda t: (-figures.theme_total(t),
                                        -figures.themes_previous.get(t, 0), t.lower()))


def theme_areas(figures: PackFigures) -> list[str | None]:
    """Service areas with any theme this period: the area table's order, then "none"."""
    used = {a for per in figures.themes.values() for a, n in per.items() if n}
    ordered: list[str | None] = [a for a in figures.by_area if a in used]
    ordered += sorted((a for a in used if a is not None and a not in ordered), key=str.lower)
    if None in used:
        ordered.append(None)
    return ordered


# -- the model ----------------------------------------------------------------------------------
def _add_grades(d: Disclosure, figures: PackFigures, gc: GradeCounts, *, shown: set[Grade],
                show_total: bool) -> None:
    p = gc.period
    # A grade not on the scale, with no audits, is known to be 0 by every reader (the scale is
    # printed): it is no unknown, so it is left out of the sums.
    counted = [g for g in ALL_GRADES if g in figures.grades or gc.count(g)]
    for g in counted:
        d.add(grade_key(p, g), gc.count(g), shown=g in shown)
    d.add(total_key(p), gc.total, shown=show_total)
    d.total(total_key(p), [grade_key(p, g) for g in counted])
    if Grade.OUTSTANDING in figures.grades:
        d.add(gob_key(figures, p), gc.good_or_better())
        d.total(gob_key(figures, p), [grade_key(p, Grade.OUTSTANDING), grade_key(p, Grade.GOOD)])


def disclosure(figures: PackFigures) -> Disclosure:
    """Every count the pack can show, and every sum a reader could use to work one out."""
    d = Disclosure()
    headline = {figures.current.period, figures.prior.period}
    periods = {gc.period: gc for gc in [figures.prior, *figures.trend]}
    d.keep.update(total_key(p) for p in headline)
    for gc in periods.values():
        if gc.period in headline:
            _add_grades(d, figures, gc, shown=set(figures.grades), show_total=True)
            below = below_good_key(gc.period)
            d.add(below, gc.count(Grade.REQUIRES_IMPROVEMENT) + gc.count(Grade.INADEQUATE))
            d.total(below, [grade_key(gc.period, Grade.REQUIRES_IMPROVEMENT),
                            grade_key(gc.period, Grade.INADEQUATE)])
            # the audits are the good (or better) and the rest: said outright, so that the
            # share below good is the first thing hidden when it would reveal the good count
            d.total(total_key(gc.period), [gob_key(figures, gc.period), below])
        else:  # older periods: the trend shows the audits and two shares
            shown = {Grade.INADEQUATE} | ({Grade.GOOD} if Grade.OUTSTANDING not in figures.grades
                                          else set())
            _add_grades(d, figures, gc, shown=shown, show_total=True)
    if has_control_limits(figures):
        with_data = [t for t in figures.trend if t.total]
        d.add(CENTRE_GOB, sum(t.good_or_better() for t in with_data))
        d.add(CENTRE_INADEQUATE, sum(t.count(Grade.INADEQUATE) for t in with_data))
        d.add(CENTRE_TOTAL, sum(t.total for t in with_data))
        d.total(CENTRE_GOB, [gob_key(figures, t.period) for t in with_data])
        d.total(CENTRE_INADEQUATE, [grade_key(t.period, Grade.INADEQUATE) for t in with_data])
        d.total(CENTRE_TOTAL, [total_key(t.period) for t in with_data])

    period = figures.current.period
    _add_table(d, figures, figures.by_area, area_key, period)
    _add_table(d, figures, figures.by_team, team_key, period)
    for area in figures.by_area:  # an area's teams add up to the area, where they do
        teams = [t for t, a in figures.team_areas.items() if a == area]
        if teams:
            for g in figures.grades:
                d.total(area_key(area, g), [team_key(t, g) for t in teams])
            d.total(area_key(area), [team_key(t) for t in teams])

    for theme in sorted_themes(figures):
        per_area = figures.themes.get(theme, {})
        for area in theme_areas(figures):
            d.add(theme_key(theme, area), per_area.get(area, 0))
        d.add(theme_key(theme), figures.theme_total(theme))
        d.total(theme_key(theme), [theme_key(theme, a) for a in theme_areas(figures)])
        d.add(theme_previous_key(theme), figures.themes_previous.get(theme, 0))

    m = figures.moderation
    for name in ("confirmed", "upgraded", "downgraded", "moderated", "flagged_inadequate",
                 "flagged_calibration", "pending", "pending_overdue"):
        d.add(("moderation", name), getattr(m, name))
    d.total(("moderation", "moderated"), [("moderation", n) for n in
                                          ("confirmed", "upgraded", "downgraded")])
    d.add(("moderation", "pending_in_time"), m.pending - m.pending_overdue, shown=False)
    d.total(("moderation", "pending"), [("moderation", "pending_in_time"),
                                        ("moderation", "pending_overdue")])
    # What a reader who knows the moderation rules can link (each only where it holds): every
    # audit graded inadequate is flagged, so the flags count the inadequate grades; and the
    # period's flagged audits are either moderated or still waiting.
    d.total(grade_key(period, Grade.INADEQUATE), [("moderation", "flagged_inadequate")])
    d.add(("moderation", "flagged"), m.flagged_inadequate + m.flagged_calibration, shown=False)
    d.total(("moderation", "flagged"), [("moderation", "flagged_inadequate"),
                                        ("moderation", "flagged_calibration")])
    d.total(("moderation", "flagged"), [("moderation", "pending"), ("moderation", "moderated")])

    lp = figures.loop
    conv = ("conversations_held", "conversations_due", "conversations_overdue")
    acts = ("actions_on_time", "actions_late", "actions_open", "actions_overdue",
            "actions_not_needed")
    reaudits = ("reaudits_improved", "reaudits_same", "reaudits_worse")
    for names, total in ((conv, "conversations"), (acts, "actions"), (reaudits, "reaudits")):
        for name in names:
            d.add(("loop", name), getattr(lp, name))
        d.add(("loop", total), getattr(lp, total))
        d.total(("loop", total), [("loop", n) for n in names])
    for name in ("reaudits_asked", "reaudits_from_inadequate",
                 "reaudits_from_inadequate_improved"):
        d.add(("loop", name), getattr(lp, name))

    for role, (now, before) in figures.people.items():
        d.add(("people", role, "now"), now)
        d.add(("people", role, "previous"), before)
    return d


def _add_table(d: Disclosure, figures: PackFigures, rows: dict, key, period: Period) -> None:
    for name, counts in rows.items():
        for g in figures.grades:
            d.add(key(name, g), counts.get(g, 0))
        d.add(key(name), sum(counts.get(g, 0) for g in figures.grades))
        d.total(key(name), [key(name, g) for g in figures.grades])
    if rows:
        for g in figures.grades:
            d.total(grade_key(period, g), [key(name, g) for name in rows])
        d.total(total_key(period), [key(name) for name in rows])


def describe(key) -> str:
    """A count's key in words, for the disclosure audit's report."""
    kind = key[0]
    if kind == "grade":
        return f"{Grade(key[2]).label}, {key[1].label()}"
    if kind == "audits":
        return f"All audits, {key[1].label()}"
    if kind == "requires improvement or inadequate":
        return f"Requires improvement or inadequate, {key[1].label()}"
    if kind == "good or better":
        return f"Good or better, {key[1].label()}"
    if kind in ("area", "team"):
        what = "all grades" if key[2] == "total" else Grade(key[2]).label
        return f"{'Service area' if kind == 'area' else 'Team'} {key[1]}: {what}"
    if kind == "theme":
        return f"Theme {key[1]}: {'all areas' if key[2] == 'total' else key[2]}"
    if kind == "theme previous":
        return f"Theme {key[1]}: previous period"
    if kind in ("moderation", "loop", "trend"):
        return f"{kind.capitalize()}: {key[1].replace('_', ' ')}"
    if kind == "people":
        return f"People: {key[1].replace('_', ' ')} ({key[2]})"
    return " ".join(str(part) for part in key)


def disclosure_report(numbers: "Numbers") -> list[dict]:
    """Each cell a public pack hides (and each never-shown count it must protect), with the
    range a reader holding the whole pack could work out for it, by integer programming."""
    result = numbers.model.audit(numbers.suppressed)
    rows = []
    for key, found in sorted(result.ranges.items(), key=lambda kv: describe(kv[0])):
        rows.append({"cell": describe(key), "shown_as": SUPPRESSED if key in numbers.suppressed
                     else "never shown", "lowest": found.lo, "highest": found.hi,
                     "protected": found.protected(result.small_low, result.small_high)})
    return rows


def published_cells(figures: PackFigures, numbers: "Numbers") -> dict:
    """What a public pack publishes for its own period's headline: each grade's count, the
    number of audits and the share below good, as printed (None for "c"). Recorded with the
    pack, so that the next quarter's pack prints the same figures for it as its previous
    period, or "c"."""
    period = figures.current.period
    keys = {"audits": total_key(period), "requires improvement or inadequate":
            below_good_key(period)}
    keys.update({g.value: grade_key(period, g) for g in figures.grades})
    return {name: (numbers.value(key) if numbers.shown(key) else None)
            for name, key in keys.items() if key in numbers.model.values}


def changed_since_published(figures: PackFigures) -> set:
    """The previous period's headline cells to show as "c" because the previous public pack
    showed them as "c", or showed another value (an audit moderated or edited since): printed,
    the two packs' figures could be subtracted one from the other."""
    published = figures.previous_published
    if published is None:
        return set()
    period = figures.prior.period
    keys = {"audits": total_key(period), "requires improvement or inadequate":
            below_good_key(period)}
    keys.update({g.value: grade_key(period, g) for g in figures.grades})
    values = {total_key(period): figures.prior.total,
              below_good_key(period): figures.prior.count(Grade.REQUIRES_IMPROVEMENT)
              + figures.prior.count(Grade.INADEQUATE)}
    values.update({grade_key(period, g): figures.prior.count(g) for g in figures.grades})
    return {key for name, key in keys.items()
            if name not in published or published[name] is None
            or published[name] != values[key]}


#: A public pack whose team table would hide more than this share of its grade cells
#: publishes the service areas only.
TEAMS_HIDDEN_SHARE = 0.5


def _headline_keys(figures: PackFigures) -> list:
    keys = []
    for p in (figures.current.period, figures.prior.period):
        keys += [total_key(p), below_good_key(p)] + [grade_key(p, g) for g in figures.grades]
    return keys


# -- reading it back ----------------------------------------------------------------------------
def whole_percent(part: int, whole: int) -> int:
    """A share rounded half up (8.5% → 9%), the way people round."""
    return 0 if not whole else _half_up(Fraction(100 * part, whole))


def _half_up(value: Fraction) -> int:
    return int((value + Fraction(1, 2)).__floor__())


@dataclass
class Numbers:
    """The pack's view of its counts: formatted, or "c" where suppressed."""

    model: Disclosure
    suppressed: frozenset
    public: bool
    #: The public pack leaves out the table by team (see :meth:`build`).
    teams_withheld: bool = False

    @classmethod
    def build(cls, figures: PackFigures, *, public: bool) -> "Numbers":
        """The pack's numbers; for a public pack, with the cells to show as "c".

        Where teams are small, protecting the table by team can cost the period's headline
        figures (the number of audits, the counts by grade), or leave the table mostly "c".
        A public pack then publishes the service areas only and leaves the team table out
        (the pack says so), as the disclosure-control convention is: a coarser table rather
        than a blank one."""
        if not public:
            return cls(disclosure(figures), frozenset(), public)
        return cls._public(figures)

    @classmethod
    def _public(cls, figures: PackFigures) -> "Numbers":
        public = True
        model = disclosure(figures)
        forced = changed_since_published(figures)
        if not figures.by_team:
            return cls(model, model.suppress(forced), public)
        headline = _headline_keys(figures)
        coarse = disclosure(dataclasses.replace(figures, by_team={}, team_areas={}))
        coarse_hidden = coarse.suppress(forced)
        cells = [team_key(t, g) for t in figures.by_team for g in figures.grades]

        def too_costly(hidden) -> bool:
            mostly_hidden = sum(k in hidden for k in cells) > TEAMS_HIDDEN_SHARE * len(cells)
            return mostly_hidden or any(k in hidden and k not in coarse_hidden
                                        for k in headline)

        # The integer-programming audit only ever hides more than the linear steps before it,
        # so when those already hide too much of the team table (or a headline figure), the
        # audited answer would too: the team table is left out without auditing it.
        if too_costly(model.suppress(forced, audited=False)):
            return cls(coarse, coarse_hidden, public, teams_withheld=True)
        hidden = model.suppress(forced)
        if too_costly(hidden):
            return cls(coarse, coarse_hidden, public, teams_withheld=True)
        return cls(model, hidden, public)

    def value(self, key) -> int:
        return self.model.values[key]

    def shown(self, key) -> bool:
        return key not in self.suppressed and key not in self.model.hidden

    def fmt(self, key) -> str:
        if key in self.suppressed:
            return SUPPRESSED
        if key in self.model.hidden:
            raise KeyError(f"{key!r} is never shown")
        return f"{self.model.values[key]:,}"

    def share_shown(self, part_key, whole_key) -> bool:
        return self.shown(part_key) and self.shown(whole_key)

    def pct(self, part_key, whole_key, *, digits: int = 0) -> str:
        """"8%" (or "8.2%"), or "c" when the count or the total is suppressed."""
        if not self.share_shown(part_key, whole_key):
            return SUPPRESSED
        part, whole = self.model.values[part_key], self.model.values[whole_key]
        if not whole:
            return "–"
        if digits == 0:
            return f"{whole_percent(part, whole)}%"
        return f"{100 * part / whole:.{digits}f}%"
