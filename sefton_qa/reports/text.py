"""The pack's words, generated from its figures: the one-minute summary and the plain-English
lines under each section. Plain text (the PDF escapes it); every count comes through
:class:`~sefton_qa.reports.numbers.Numbers`, so a public pack never words a suppressed one."""

from __future__ import annotations

from fractions import Fraction

from sefton_qa.domain import periods
from sefton_qa.domain.grades import Grade
from sefton_qa.domain import significance
from sefton_qa.domain.stats import kappa_words
from sefton_qa.reports.figures import (
    CONTROL_LIMIT_MIN_PERIODS,
    KAPPA_MIN_MODERATED,
    PackFigures,
)
from sefton_qa.reports.suppression import is_small
from sefton_qa.reports.numbers import (
    CENTRE_GOB,
    CENTRE_INADEQUATE,
    CENTRE_TOTAL,
    Numbers,
    area_key,
    below_good_key,
    gob_key,
    grade_key,
    has_control_limits,
    sorted_themes,
    theme_key,
    theme_previous_key,
    total_key,
    whole_percent,
)

#: What a change that could be chance is called in a sentence.
COULD_BE_CHANCE = "a change this size could be chance"
NOT_PUBLISHED = "is not published, so that small numbers cannot be worked out"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def in_sentence(name: str) -> str:
    """"Drift and delay" → "drift and delay", but "MASH referrals" stays as it is."""
    if name[:1].isupper() and not name[1:2].isupper():
        return name[0].lower() + name[1:]
    return name


def was(n: int) -> str:
    return "was" if n == 1 else "were"


def gob_label(figures: PackFigures) -> str:
    return "good or better" if Grade.OUTSTANDING in figures.grades else "good"


def comparison_words(figures: PackFigures) -> str:
    """How the previous period was chosen: "the 3 whole calendar months just before", "the 30
    days just before: this period is not whole calendar months, so ...", or "chosen for this
    comparison"."""
    p, q = figures.current.period, figures.prior.period
    return periods.rule_words(p.start, p.end, (q.start, q.end))


def trend_units(figures: PackFigures) -> str:
    """What the trend's earlier periods are, as a plural noun: "calendar quarters", "calendar
    months", "periods of 2 whole calendar months", "periods of 30 days"."""
    trend = [t.period for t in figures.trend]
    earlier = trend[:-1] or trend
    counts = {periods.whole_months(p.start, p.end) for p in earlier}
    if len(counts) == 1 and None not in counts:
        n = counts.pop()
        if n == 1:
            return "calendar months"
        if n == 3 and all(p.start.month % 3 == 1 for p in earlier):
            return "calendar quarters"
        return f"periods of {n} whole calendar months"
    days = {p.days for p in earlier}
    if len(days) == 1:
        return f"periods of {plural(days.pop(), 'day')}"
    return "periods"


def kappa_strength(kappa: float) -> str:
    """The usual words for kappa (Landis and Koch), as the calibration view uses them."""
    return kappa_words(kappa)


def change_verdict(k1: int, n1: int, k2: int, n2: int) -> str:
    """RISE, FALL or CHANCE for this period's k1 of n1 against the previous period's k2 of n2:
    Newcombe's score interval, or Fisher's exact test for small counts, at α = 0.05
    (:mod:`sefton_qa.domain.significance`)."""
    c = significance.compare(k1, n1, k2, n2)
    return significance.CHANCE if c is None else c.verdict()


def change_is_chance(k1: int, n1: int, k2: int, n2: int) -> bool:
    """True when the change could be chance (the test cannot rule it out at α = 0.05)."""
    return change_verdict(k1, n1, k2, n2) == significance.CHANCE


#: How the pack tests a change, said once (the headline and the themes).
METHOD = ("A change is tested at the 5% level: by Newcombe's score interval for the difference "
          "between two shares, or by Fisher's exact test when the numbers are small. Where the "
          "test cannot rule chance out, the change “could be chance”; otherwise it is “too "
          "large to be chance”.")


def change_note(verdict: str) -> str:
    """The short form under a change in a table: "could be chance", "rise too large to be
    chance", "fall too large to be chance"."""
    if verdict == significance.CHANCE:
        return "could be chance"
    return significance.verdict_words(verdict).removeprefix("a ")


def change_words(verdict: str) -> str:
    """"a rise too large to be chance", "a fall too large to be chance", or "a change this
    size could be chance"."""
    if verdict == significance.CHANCE:
        return COULD_BE_CHANCE
    return significance.verdict_words(verdict)


def _compare(nums: Numbers, figures: PackFigures, now_key, before_key, label: str) -> str:
    period, previous = figures.current.period, figures.prior.period
    n1, n2 = nums.value(total_key(period)), nums.value(total_key(previous))
    if not nums.shown(now_key):
        return f"The number graded {label} {NOT_PUBLISHED} (it is shown as c)."
    k1 = nums.value(now_key)
    text = f"{k1:,} of {n1:,} ({whole_percent(k1, n1)}%) {was(k1)} {label}"
    if not n2:
        return text + "."
    if not nums.shown(before_key) or not nums.shown(total_key(previous)):
        return text + "; the previous period's figure is not published because it is small."
    k2 = nums.value(before_key)
    share1, share2 = Fraction(k1, n1), Fraction(k2, n2)
    before = f"{k2:,} of {n2:,} ({whole_percent(k2, n2)}%)"
    if share1 == share2:
        return f"{text}, the same share as in the previous period ({before})."
    verdict = change_verdict(k1, n1, k2, n2)
    if verdict == significance.CHANCE and whole_percent(k1, n1) == whole_percent(k2, n2):
        return f"{text}, about the same share as in the previous period ({before})."
    direction = "up from" if share1 > share2 else "down from"
    return f"{text}, {direction} {before}: {change_words(verdict)}."


def summary(figures: PackFigures, nums: Numbers) -> list[str]:
    """The one-minute summary, as short paragraphs."""
    period, previous = figures.current.period, figures.prior.period
    n_key = total_key(period)
    n = nums.value(n_key)
    lines = []
    if not n:
        return [f"No audits were completed from {period.label()}, so there are no figures for "
                "the period.",
                _previous_sentence(figures, nums)]
    if nums.shown(n_key):
        before = (f"The previous period, {previous.label()}, had "
                  f"{nums.fmt(total_key(previous)) if nums.value(total_key(previous)) else 'none'}."
                  if nums.shown(total_key(previous)) else
                  "The previous period's number of audits is not published because it is small.")
        kind = figures.audits_called
        lines.append(f"From {period.label()}, {n:,} {kind if n != 1 else kind[:-1]} of "
                     f"children's case files {was(n)} completed and graded. {before}")
        lines.append(headline_sentence(figures, nums))
    elif is_small(n):
        lines.append(f"From {period.label()}, fewer than 5 audits were completed, too few to "
                     "publish figures for.")
        return lines
    else:
        lines.append(f"From {period.label()}, {figures.audits_called} of children's case files "
                     "were completed and graded; their number is not published, so that small "
                     "numbers cannot be worked out from it.")
        lines.append(headline_sentence(figures, nums))
    label = gob_label(figures)
    lines.append(_compare(nums, figures, gob_key(figures, period), gob_key(figures, previous),
                          label))
    lines.append(_compare(nums, figures, grade_key(period, Grade.INADEQUATE),
                          grade_key(previous, Grade.INADEQUATE), "inadequate"))
    ri = grade_key(period, Grade.REQUIRES_IMPROVEMENT)
    if nums.shown(ri):
        k = nums.value(ri)
        share = f"({whole_percent(k, n)}%)"
        if Grade.OUTSTANDING in figures.grades:
            lines.append(f"{plural(k, 'audit')} {share} {was(k)} graded requires improvement "
                         "to be good.")
        elif k == 1:  # not "The other 1 (33%) was …"
            lines.append(f"The remaining audit {share} was graded requires improvement to be "
                         "good.")
        else:
            lines.append(f"The other {k:,} {share} were graded requires improvement to be "
                         "good.")
    trend = trend_sentence(figures, nums)
    if trend:
        lines.append(trend)
    where = where_sentence(figures, nums)
    if where:
        lines.append(where)
    theme = theme_sentence(figures, nums)
    if theme:
        lines.append(theme)
    theme_change = theme_change_sentence(figures, nums)
    if theme_change:
        lines.append(theme_change)
    lines.append(moderation_sentence(figures, nums, short=True))
    lines.append(imported_sentence(figures, nums))
    lines.append(previous_published_sentence(figures, nums))
    lines.append(selection_sentence(figures, nums))
    lines.append(sample_sentence(figures, nums))
    lines.append(loop_sentence(figures, nums))
    lines.append(reaudit_sentence(figures, nums))
    lines.append(people_summary(figures, nums))
    return [line for line in lines if line]


#: When no audit of the period records how its case was chosen (all logged before Sefton QA
#: recorded it, or imported without it), the pack says what its intervals can and cannot claim.
SELECTION_SENTENCE = ("How the audited cases were chosen is not recorded with them, so the 95% "
                      "intervals describe these audits; they would describe the whole caseload "
                      "only if the cases had been drawn from it at random.")
ALL_DRAWN_SENTENCE = ("Every audited case was drawn at random from the caseload, so the 95% "
                      "intervals estimate the share across the cases they were drawn from.")
NOT_ALL_DRAWN = ("so the 95% intervals describe these audits only; they would describe the "
                 "whole caseload only if every case had been drawn from it at random.")
#: How each way of choosing is said in a sentence ("30 were chosen by the QA team").
_CHOSEN_PHRASES = (("chosen", "chosen by the QA team"), ("referred", "referred for audit"),
                   ("random_draw", "drawn at random"), ("unknown", "not recorded"))


def _whole(share: float) -> str:
    return f"{round(100 * share)}%"


def sample_publishable(figures: PackFigures, nums: Numbers) -> bool:
    """Whether a public pack may print the random sample's estimate. The weighted share is a
    sum of each stratum's good count weighted by known numbers, so a reader can often solve it
    for every stratum's count: it is printed only when no stratum's sample holds 1 to 4
    audits, good ones or others, and the pack hides nothing else it could be set against."""
    sample = figures.sample
    if sample is None or not nums.public:
        return sample is not None
    counts = [c for s in sample.estimate.strata
              for c in (s.audited, s.good, s.audited - s.good)]
    return not nums.suppressed and not any(is_small(c) for c in counts)


def sample_sentence(figures: PackFigures, nums: Numbers) -> str:
    """The period's random sample (issue 19): how many of the caseload's open cases were drawn
    within each team, how many are audited so far, and what they estimate for the caseload,
    weighted by each stratum's open cases (the unweighted share beside it when the quotas were
    not proportional). The headline, the change and the trend stay on all the period's
    audits, unweighted."""
    sample = figures.sample
    if sample is None:
        return ""
    unit = "team" if sample.stratify_by == "team" else "service area"
    est = sample.estimate
    audited = ("none of them has been audited yet" if not est.audited else
               f"{est.audited:,} of them {'has' if est.audited == 1 else 'have'} been audited "
               "so far")
    said = (f"For this period's audit plan, {sample.drawn:,} of {sample.open_cases:,} open "
            f"cases were drawn at random within each {unit} ({plural(sample.strata, unit)}); "
            f"{audited}.")
    if not est.audited:
        return said
    if not sample_publishable(figures, nums):
        return (said + " The sample's estimate is not published: with so few audits in each "
                f"{unit}, it could be used to work out small numbers.")
    label = gob_label(figures)
    weighted = "" if sample.proportional else f"weighted by each {unit}'s open cases, "
    said += (f" From them, {weighted}an estimated {_whole(est.share)} of all the open cases "
             f"would be {label} (95% interval {_whole(est.low)} to {_whole(est.high)}).")
    if not sample.proportional:
        said += (f" Counted without weights, {_whole(est.unweighted)} of the audited sample "
                 f"{'was' if est.audited == 1 else 'were'} {label}; the quotas were not in "
                 f"proportion to each {unit}'s open cases, so the weighted figure is the "
                 "estimate.")
    return said + (" The headline, the change from the previous period and the trend count "
                   "all the period's audits, unweighted.")


def selection_sentence(figures: PackFigures, nums: Numbers) -> str:
    """How the period's audited cases were chosen, and so what the intervals describe. The
    internal pack gives the counts; a public pack says which ways were used, without counts
    (a count beside the grade counts could be differenced)."""
    counts = {how: n for how, n in figures.selection.items() if n}
    total = sum(counts.values())
    if not total or set(counts) == {"unknown"}:
        return SELECTION_SENTENCE
    if set(counts) == {"random_draw"}:
        return ALL_DRAWN_SENTENCE
    drawn_some = "random_draw" in counts
    lead = "Not every audited case was" if drawn_some else "None of the audited cases was"
    if nums.public:
        used = [phrase for how, phrase in _CHOSEN_PHRASES
                if how in counts and how not in ("unknown", "random_draw")]
        who = "some" if drawn_some else "they"
        if used:
            gap = " (for some it is not recorded)" if "unknown" in counts else ""
            said = f"{who} were {' or '.join(used)}{gap}"
        else:
            said = f"for {'some' if drawn_some else 'the others'} it is not recorded how " \
                   "they were chosen"
        return f"{lead} drawn at random: {said}, {NOT_ALL_DRAWN}"
    parts = [f"{counts[how]:,} {'was' if counts[how] == 1 else 'were'} {phrase}"
             for how, phrase in _CHOSEN_PHRASES if how in counts]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    none = "not every case was" if drawn_some else "none was"
    return f"Of the {total:,} audited cases, {listed}: {none} drawn at random, {NOT_ALL_DRAWN}"


def headline_sentence(figures: PackFigures, nums: Numbers) -> str:
    """The headline in the council's own form: "92% requires improvement or inadequate, 8%
    good", with what the grades are (after moderation) and, for imported history, why."""
    period = figures.current.period
    n_key, below = total_key(period), below_good_key(period)
    gob = gob_key(figures, period)
    label = gob_label(figures)
    if nums.share_shown(below, n_key):
        text = (f"{nums.pct(below, n_key)} {'was' if nums.value(below) == 1 else 'were'} "
                f"graded requires improvement or inadequate ({nums.fmt(below)} of "
                f"{nums.fmt(n_key)})")
        if nums.share_shown(gob, n_key):
            text += f", and {nums.pct(gob, n_key)} {label}"
        text += "."
    else:
        text = ("The share graded requires improvement or inadequate is not published, so that "
                "small numbers cannot be worked out.")
    m = figures.moderation
    changed = m.upgraded + m.downgraded
    text += " Grades are as they stand after moderation"
    if not m.moderated:
        text += "."
    elif all(nums.shown(("moderation", k)) for k in ("upgraded", "downgraded", "moderated")):
        text += (f": moderation in the period changed {plural(changed, 'grade')} of the "
                 f"{plural(m.moderated, 'audit')} it checked.")
    else:
        text += "; how many grades moderation changed is not published because it is small."
    return text


def previous_published_sentence(figures: PackFigures, nums: Numbers) -> str:
    """A public pack says where its previous period's figures come from."""
    if not nums.public or not nums.value(total_key(figures.prior.period)):
        return ""
    if figures.previous_published is None:
        return ("The previous period's figures are worked out again from the records as they "
                "now stand: no public pack for that period is on record.")
    return ("The previous period's figures are those its own public pack published; any that "
            "have changed since (an audit moderated or corrected later) are shown as c.")


def imported_sentence(figures: PackFigures, nums: Numbers) -> str:
    """Why imported history shows no moderation."""
    n = nums.value(total_key(figures.current.period))
    if not figures.imported:
        return ""
    if figures.imported == n:
        return ("All of this period's audits were brought in from earlier records by import; "
                "those records hold no moderation, so none is reported for them.")
    return ("Some of this period's audits were brought in from earlier records by import; "
            "those records hold no moderation.")


def _previous_sentence(figures: PackFigures, nums: Numbers) -> str:
    previous = figures.prior.period
    if not nums.shown(total_key(previous)):
        return "The previous period's number of audits is not published because it is small."
    n2 = nums.value(total_key(previous))
    return (f"The previous period, {previous.label()}, had "
            f"{nums.fmt(total_key(previous)) if n2 else 'none'}.")


def control_position(value: int, total: int, centre: Fraction) -> int:
    """-1 below the lower 3-sigma limit, 1 above the upper one, 0 within."""
    return significance.control_position(value, total, centre)


def _trend_measures(figures: PackFigures):
    """(name, key of a period, centre key, which way is better) for the two p-charts."""
    return ((gob_label(figures), lambda p: gob_key(figures, p), CENTRE_GOB, 1),
            ("inadequate", lambda p: grade_key(p, Grade.INADEQUATE), CENTRE_INADEQUATE, -1))


def run_rule_words(name: str, better: int, rr: significance.RunRules,
                   labels: list[str]) -> str:
    """One measure's run-rule findings in words: "the share good was above its upper control
    limit in Apr–Jun 2026 ...: signs of a real improvement"."""
    parts = []
    ways = set()
    for f in rr.findings:
        first, last = labels[f.points[0]], labels[f.points[-1]]
        if f.rule == "outside":
            side = "above its upper" if f.direction > 0 else "below its lower"
            parts.append(f"{side} control limit in {_listed([labels[i] for i in f.points])}")
        elif f.rule == "trend":
            way = "rising" if f.direction > 0 else "falling"
            parts.append(f"{way} {len(f.points)} periods in a row ({first} to {last})")
        else:
            side = "above" if f.direction > 0 else "below"
            parts.append(f"{side} the average {len(f.points)} periods in a row ({first} to "
                         f"{last})")
    outside = {f.direction: f.points for f in rr.findings if f.rule == "outside"}
    runs = {f.direction for f in rr.findings if f.rule != "outside"}
    if len(outside) == 2:  # below, then above (or the other way): a rise (or a fall)
        if max(outside[-1]) < min(outside[1]):
            ways.add(1)
        elif max(outside[1]) < min(outside[-1]):
            ways.add(-1)
        else:
            ways.update((1, -1))
    elif outside:
        ways.add(next(iter(outside)))
    ways |= runs
    if not parts:
        return (f"the share {name} stayed within its control limits with no run of "
                f"{significance.RUN_TREND} rising or falling"
                + (f" and no {significance.RUN_SIDE} in a row on one side of the average"
                   if "side" in rr.rules else "")
                + ": nothing beyond ordinary variation")
    said = f"the share {name} was " + ", and ".join(parts)
    if len(ways) == 1:
        change = "improvement" if ways.pop() * better > 0 else "decline"
        return said + f", which chance alone would rarely give: a sign of a real {change}"
    return said + ", which chance alone would rarely give"


def trend_sentence(figures: PackFigures, nums: Numbers) -> str:
    """The trend judged by the run rules on each p-chart (issue 16, item 3), said only for a
    measure whose every point and centre line the pack shows."""
    periods_with = sum(1 for t in figures.trend if t.total)
    if not periods_with:
        return f"None of the last {len(figures.trend)} periods had audits: there is no trend yet."
    if not has_control_limits(figures):
        return (f"Only {plural(periods_with, 'period')} of the trend "
                f"{'has' if periods_with == 1 else 'have'} audits: too few to tell a trend from "
                f"ordinary variation, which needs at least {CONTROL_LIMIT_MIN_PERIODS}.")
    with_data = [t for t in figures.trend if t.total]
    labels = [t.period.short_label() for t in with_data]
    said = []
    for name, key_of, centre_key, better in _trend_measures(figures):
        if not (nums.shown(centre_key) and nums.shown(CENTRE_TOTAL)
                and all(nums.share_shown(key_of(t.period), total_key(t.period))
                        for t in with_data)):
            continue
        rr = significance.run_rules([(nums.value(key_of(t.period)), t.total)
                                     for t in with_data])
        said.append(run_rule_words(name, better, rr, labels))
    if not said:
        return ""
    return (f"Over the last {len(figures.trend)} {trend_units(figures)}, read by the usual run "
            "rules (section 3), " + "; ".join(said) + ".")


def _listed(names: list[str]) -> str:
    """"A", "A and B", "A, B and C"; with a comma before the last "and" when a name holds an
    "and" of its own ("care planning, and drift and delay")."""
    if len(names) == 1:
        return names[0]
    comma = "," if any(" and " in n for n in names) else ""
    return ", ".join(names[:-1]) + f"{comma} and " + names[-1]


def _leaders(counts: dict[str, int]) -> tuple[int, list[str]]:
    """The largest count and every name that has it (a tie names them all)."""
    top = max(counts.values(), default=0)
    return top, [name for name, n in counts.items() if n == top] if top else []


def where_sentence(figures: PackFigures, nums: Numbers) -> str:
    """Where the largest number of inadequate audits was, by count (ties named together), said
    as a number (the share beside it is of that area's own audits, not a ranking by rate).
    Said only when every leader's figures are shown: naming the largest figure left visible,
    while a larger one is hidden as "c", would print something false (issue 16, finding 2)."""
    counts = {area: nums.value(area_key(area, Grade.INADEQUATE)) for area in figures.by_area}
    top, leaders = _leaders(counts)
    if not leaders or not all(nums.shown(area_key(a, Grade.INADEQUATE))
                              and nums.shown(area_key(a)) for a in leaders):
        return ""
    if len(leaders) == 1:
        area, t = leaders[0], nums.value(area_key(leaders[0]))
        return (f"The largest number of inadequate audits was in {area}: {top:,} of its "
                f"{plural(t, 'audit')} ({whole_percent(top, t)}%).")
    return (f"The largest number of inadequate audits was in {_listed(leaders)}: "
            f"{top:,} in each.")


def theme_sentence(figures: PackFigures, nums: Numbers) -> str:
    """The theme found most often, by count (ties named together), said only when every
    leader's count is shown (as where_sentence)."""
    period, previous = figures.current.period, figures.prior.period
    n, n2 = nums.value(total_key(period)), nums.value(total_key(previous))
    themes = sorted_themes(figures)
    top, leaders = _leaders({t: nums.value(theme_key(t)) for t in themes})
    if not leaders or not all(nums.shown(theme_key(t)) for t in leaders):
        return ""
    if len(leaders) > 1:
        return (f"The themes found most often were "
                f"{_listed([in_sentence(t) for t in leaders])}, in {plural(top, 'audit')} each "
                f"({whole_percent(top, n)}%).")
    theme = leaders[0]
    text = (f"The theme found most often was {in_sentence(theme)}, "
            f"in {plural(top, 'audit')} ({whole_percent(top, n)}%)")
    before = theme_previous_key(theme)
    if n2 and nums.shown(before) and nums.shown(total_key(previous)):
        text += f", against {whole_percent(nums.value(before), n2)}% in the previous period"
    return text + "."


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def theme_changes(figures: PackFigures, nums: Numbers
                  ) -> dict[str, tuple[significance.Comparison, str]]:
    """Each theme's change since the previous period, tested as the headline shares are, with
    Holm's correction over every theme tested: theme → (the test, RISE / FALL / CHANCE).

    A theme is tested only when the pack shows both its counts and both periods' totals, so a
    public pack never states a result worked out from a "c" (and the correction is over the
    themes whose results it states)."""
    period, previous = figures.current.period, figures.prior.period
    n1, n2 = nums.value(total_key(period)), nums.value(total_key(previous))
    if not (n1 and n2 and nums.shown(total_key(period)) and nums.shown(total_key(previous))):
        return {}
    tested = []
    for theme in sorted_themes(figures):
        now, before = theme_key(theme), theme_previous_key(theme)
        if not (nums.shown(now) and nums.shown(before)):
            continue
        k1, k2 = nums.value(now), nums.value(before)
        if k1 <= n1 and k2 <= n2:
            tested.append((theme, significance.compare(k1, n1, k2, n2)))
    rejected = significance.holm([c.p for _, c in tested])
    return {t: (c, c.verdict(r)) for (t, c), r in zip(tested, rejected)}


def theme_change_sentence(figures: PackFigures, nums: Numbers) -> str:
    """Which themes changed by more than chance since the previous period (Holm's correction
    over all themes tested), or that none did. In a public pack a theme whose counts are "c"
    is not tested, and the sentence says the others were not, so that "none" stays true of
    the full data."""
    changes = theme_changes(figures, nums)
    if not changes:
        return ""
    m = len(changes)
    untested = sum(1 for t in sorted_themes(figures) if t not in changes)
    compared = (f"the {m} themes whose figures are published" if untested and m > 1 else
                "the one theme whose figures are published" if untested else
                f"the {m} themes compared")
    allowing = f", allowing for {compared} (Holm's correction)" if m > 1 else ""
    not_tested = ("" if not untested else
                  " One other theme is not tested here because its numbers are small."
                  if untested == 1 else
                  f" The other {untested:,} themes are not tested here because their numbers "
                  "are small.")
    real = [(t, c, v) for t, (c, v) in changes.items() if v != significance.CHANCE]
    if not real:
        if untested and m == 1:
            return ("The one theme whose figures are published did not change since the "
                    "previous period by more than chance would give." + not_tested)
        if untested:
            return (f"Of {compared}, none changed since the previous period by more than "
                    "chance would give" + (" (with Holm's correction)" if m > 1 else "") + "."
                    + not_tested)
        return ("No theme's change since the previous period is too large to be chance"
                + allowing + ".")
    adjusted = dict(zip(changes, significance.holm_adjusted([c.p for c, _ in
                                                             changes.values()])))
    said = []
    for theme, c, verdict in real:
        way = "up" if verdict == significance.RISE else "down"
        p = _p_text(c.p) + (f", {adjusted[theme]:.3f} after the correction"
                            if m > 1 and adjusted[theme] >= 0.001
                            and f"{adjusted[theme]:.3f}" != f"{c.p:.3f}" else "")
        said.append(f"{in_sentence(theme)} was found in {whole_percent(c.k1, c.n1)}% of "
                    f"audits, {way} from {whole_percent(c.k2, c.n2)}%: "
                    f"{significance.verdict_words(verdict)} ({p})")
    text = "Since the previous period" + allowing + ", " + "; ".join(said) + "."
    others = m - len(real)
    if others:
        which = "published " if untested else ""
        text += (f" The other {which}themes' changes could be chance." if others > 1 else
                 f" The other {which}theme's change could be chance.")
    return text + not_tested


def moderation_sentence(figures: PackFigures, nums: Numbers, *, short: bool = False) -> str:
    m = figures.moderation
    key = ("moderation", "moderated")
    if not m.moderated:
        return "No audits were moderated in the period."
    if not nums.shown(key):
        return "A small number of audits were moderated in the period."
    parts = [("confirmed", "agreed with the grade in"), ("upgraded", "raised it in"),
             ("downgraded", "lowered it in")]
    text = f"{plural(m.moderated, 'audit')} {was(m.moderated)} moderated"
    if all(nums.shown(("moderation", p)) for p, _ in parts):
        text += (f": moderators agreed with the auditor's grade in {m.confirmed:,} "
                 f"({whole_percent(m.confirmed, m.moderated)}%), raised it in {m.upgraded:,} "
                 f"and lowered it in {m.downgraded:,}.")
        if not short:
            if m.downgraded > m.upgraded:
                text += (" More grades were lowered than raised: auditors may be grading too "
                         "optimistically.")
            elif m.upgraded > m.downgraded:
                text += (" More grades were raised than lowered: auditors may be grading "
                         "harshly.")
    else:
        text += ("; how many grades were confirmed, raised or lowered is not published "
                 "because the numbers are small.")
    if m.median_working_days is not None:
        text += (f" Half were moderated within {_days(m.median_working_days)} of being "
                 f"flagged (the timescale is {plural(m.target_days, 'working day')}).")
    if not short:
        if not kappa_shown(m, nums):
            text += (" Agreement beyond chance (weighted kappa) is not published: with small "
                     "numbers it could reveal them.")
        elif m.kappa is None or m.moderated < KAPPA_MIN_MODERATED:
            text += (f" Agreement beyond chance (weighted kappa) is not given: it needs at "
                     f"least {KAPPA_MIN_MODERATED} moderated audits to mean much.")
        else:
            text += (f" Agreement beyond chance (weighted kappa) is {m.kappa:.2f}: "
                     f"{kappa_strength(m.kappa)}.")
    return text


def kappa_shown(m, nums: Numbers) -> bool:
    """Kappa is worked out from the moderation outcomes, so it is only published when they
    are."""
    return all(nums.shown(("moderation", k)) for k in ("moderated", "confirmed", "upgraded",
                                                       "downgraded"))


def _days(value: float) -> str:
    if value == int(value):
        return plural(int(value), "working day")
    return f"{value:.1f} working days"


def loop_sentence(figures: PackFigures, nums: Numbers) -> str:
    lp = figures.loop
    conv = [("loop", k) for k in ("conversations", "conversations_held", "conversations_due",
                                  "conversations_overdue")]
    acts = [("loop", k) for k in ("actions", "actions_on_time", "actions_late",
                                  "actions_overdue")]
    parts = []
    if not lp.conversations:
        parts.append("No reflective conversations were due on this period's audits.")
    elif all(nums.shown(k) for k in conv):
        waiting = lp.conversations_due + lp.conversations_overdue
        text = (f"{plural(lp.conversations_held, 'reflective conversation')} "
                f"{was(lp.conversations_held)} held about this period's inadequate audits")
        if not waiting:
            text += "; none is still waiting."
        else:
            text += (f" and {waiting:,} {'is' if waiting == 1 else 'are'} still to be held"
                     + (f" ({lp.conversations_overdue:,} overdue)."
                        if lp.conversations_overdue else "."))
        parts.append(text)
    else:
        parts.append("Some figures on reflective conversations are not published because they "
                     "are small.")
    if lp.actions and all(nums.shown(k) for k in acts):
        parts.append(f"Of {plural(lp.actions, 'remedial action')} agreed, "
                     f"{lp.actions_on_time:,} {was(lp.actions_on_time)} completed on time, "
                     f"{lp.actions_late:,} late, and {lp.actions_overdue:,} "
                     f"{'is' if lp.actions_overdue == 1 else 'are'} overdue.")
    elif lp.actions:
        parts.append("Some figures on remedial actions are not published because they are "
                     "small.")
    return " ".join(parts)


def reaudit_sentence(figures: PackFigures, nums: Numbers) -> str:
    lp = figures.loop
    keys = [("loop", k) for k in ("reaudits", "reaudits_improved", "reaudits_same",
                                  "reaudits_worse")]
    if not lp.reaudits:
        return ("No case audited in the period had been audited before, so there is no "
                "re-audit evidence yet of the difference the work made.")
    if not all(nums.shown(k) for k in keys):
        return ("Some cases audited in the period had been audited before; the outcomes are "
                "not published because the numbers are small.")
    text = (f"{plural(lp.reaudits, 'case')} audited in the period had been audited before: "
            f"{lp.reaudits_improved:,} improved, {lp.reaudits_same:,} kept the same grade and "
            f"{lp.reaudits_worse:,} got worse.")
    inad, inad_up = (("loop", "reaudits_from_inadequate"),
                     ("loop", "reaudits_from_inadequate_improved"))
    if lp.reaudits_from_inadequate and nums.shown(inad) and nums.shown(inad_up):
        k, n = lp.reaudits_from_inadequate_improved, lp.reaudits_from_inadequate
        text += (f" Of the {plural(n, 'case')} graded inadequate before, "
                 + (f"all {k:,}" if k == n and n > 1 else f"{k:,}") + " improved.")
    return text


def people_summary(figures: PackFigures, nums: Numbers) -> str:
    words = {"auditors": ("auditor", "auditors"), "moderators": ("moderator", "moderators"),
             "service_managers": ("service manager", "service managers"),
             "practitioners": ("team manager named on audits", "team managers named on audits")}
    keys = [("people", role, "now") for role in words]
    if not all(nums.shown(k) for k in keys):
        return ("Who took part is in section 8; some of the numbers are small and not "
                "published.")
    parts = [plural(nums.value(k), *words[k[1]]) for k in keys]
    return (f"Taking part: {', '.join(parts[:-1])} and {parts[-1]} (counted once each in "
            "each role; nobody is named).")


def people_sentence(figures: PackFigures) -> str:
    return ("These are counts of different people in each role; one person can hold more than "
            "one role. Nobody is named in this pack.")
