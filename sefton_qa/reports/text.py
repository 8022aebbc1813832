"""The pack's words, generated from its figures: the one-minute summary and the plain-English
lines under each section. Plain text (the PDF escapes it); every count comes through
:class:`~sefton_qa.reports.numbers.Numbers`, so a public pack never words a suppressed one."""

from __future__ import annotations

from fractions import Fraction

from sefton_qa.domain import periods
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.stats import intervals_overlap, kappa_words, wilson_interval
from sefton_qa.reports.figures import KAPPA_MIN_MODERATED, PackFigures
from sefton_qa.reports.numbers import (
    CENTRE_GOB,
    CENTRE_INADEQUATE,
    CENTRE_TOTAL,
    Numbers,
    area_key,
    gob_key,
    grade_key,
    has_control_limits,
    sorted_themes,
    theme_key,
    theme_previous_key,
    total_key,
    whole_percent,
)

CHANCE = "with samples this small the change may be chance"
WITHIN_MARGIN = "the change is within the margin of error, so it may be chance"
LARGE_SAMPLE = 400  # from this many audits on, "samples this small" would read oddly
REAL = "the change is larger than the margin of error, so it is unlikely to be chance alone"
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


def change_is_chance(k1: int, n1: int, k2: int, n2: int) -> bool:
    """True when the two 95% Wilson intervals overlap: the change may be chance."""
    return intervals_overlap(wilson_interval(k1, n1), wilson_interval(k2, n2))


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
    chance = change_is_chance(k1, n1, k2, n2)
    if chance and whole_percent(k1, n1) == whole_percent(k2, n2):
        return f"{text}, about the same share as in the previous period ({before})."
    direction = "up from" if share1 > share2 else "down from"
    if not chance:
        caveat = REAL
    elif min(n1, n2) < LARGE_SAMPLE:
        caveat = CHANCE
    else:
        caveat = WITHIN_MARGIN
    return f"{text}, {direction} {before}; {caveat}."


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
        lines.append(f"From {period.label()}, {plural(n, 'audit')} of children's case files "
                     f"{was(n)} completed and graded. {before}")
    else:
        lines.append(f"From {period.label()}, fewer than 5 audits were completed, too few to "
                     "publish figures for.")
        return lines
    label = gob_label(figures)
    lines.append(_compare(nums, figures, gob_key(figures, period), gob_key(figures, previous),
                          label))
    lines.append(_compare(nums, figures, grade_key(period, Grade.INADEQUATE),
                          grade_key(previous, Grade.INADEQUATE), "inadequate"))
    ri = grade_key(period, Grade.REQUIRES_IMPROVEMENT)
    if nums.shown(ri):
        k = nums.value(ri)
        lines.append(f"The other {k:,} ({whole_percent(k, n)}%) {was(k)} graded requires "
                     "improvement to be good." if Grade.OUTSTANDING not in figures.grades else
                     f"{k:,} ({whole_percent(k, n)}%) {was(k)} graded requires improvement "
                     "to be good.")
    trend = trend_sentence(figures, nums)
    if trend:
        lines.append(trend)
    where = where_sentence(figures, nums)
    if where:
        lines.append(where)
    theme = theme_sentence(figures, nums)
    if theme:
        lines.append(theme)
    lines.append(moderation_sentence(figures, nums, short=True))
    lines.append(loop_sentence(figures, nums))
    lines.append(reaudit_sentence(figures, nums))
    lines.append(people_summary(figures, nums))
    return [line for line in lines if line]


def _previous_sentence(figures: PackFigures, nums: Numbers) -> str:
    previous = figures.prior.period
    if not nums.shown(total_key(previous)):
        return "The previous period's number of audits is not published because it is small."
    n2 = nums.value(total_key(previous))
    return (f"The previous period, {previous.label()}, had "
            f"{nums.fmt(total_key(previous)) if n2 else 'none'}.")


def control_position(value: int, total: int, centre: Fraction) -> int:
    """-1 below the lower 3-sigma limit, 1 above the upper one, 0 within."""
    if not total:
        return 0
    p = Fraction(value, total)
    spread_sq = centre * (1 - centre) / total * 9  # (3 sigma)^2
    diff = p - centre
    if diff * diff <= spread_sq:
        return 0
    return 1 if diff > 0 else -1


def trend_sentence(figures: PackFigures, nums: Numbers) -> str:
    periods = sum(1 for t in figures.trend if t.total)
    if not periods:
        return f"None of the last {len(figures.trend)} periods had audits: there is no trend yet."
    if not has_control_limits(figures):
        return (f"Only {plural(periods, 'period')} of the last {len(figures.trend)} had audits: "
                "too few to tell a trend from ordinary variation.")
    period = figures.current.period
    said = []
    for centre_key, key, name, better in (
            (CENTRE_GOB, gob_key(figures, period), gob_label(figures), 1),
            (CENTRE_INADEQUATE, grade_key(period, Grade.INADEQUATE), "inadequate", -1)):
        if not (nums.shown(centre_key) and nums.shown(CENTRE_TOTAL) and nums.shown(key)):
            continue
        centre = Fraction(nums.value(centre_key), nums.value(CENTRE_TOTAL))
        where = control_position(nums.value(key), nums.value(total_key(period)), centre)
        if where == 0:
            said.append(f"share {name} is within the range chance alone would give")
        else:
            side = "higher" if where > 0 else "lower"
            change = "improvement" if where * better > 0 else "decline"
            said.append(f"share {name} is {side} than chance alone would give, so the "
                        f"{change} looks real")
    if not said:
        return ""
    return (f"Against the average of the last {len(figures.trend)} periods, this period's "
            + "; its ".join(said) + " (see the control limits in section 3).")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _leaders(counts: dict[str, int]) -> tuple[int, list[str]]:
    """The largest count and every name that has it (a tie names them all)."""
    top = max(counts.values(), default=0)
    return top, [name for name, n in counts.items() if n == top] if top else []


def where_sentence(figures: PackFigures, nums: Numbers) -> str:
    """Where inadequate work was found most often, by count (ties named together). Said only
    when every leader's figures are shown: naming the largest figure left visible, while a
    larger one is hidden as "c", would print something false (issue 16, finding 2)."""
    counts = {area: nums.value(area_key(area, Grade.INADEQUATE)) for area in figures.by_area}
    top, leaders = _leaders(counts)
    if not leaders or not all(nums.shown(area_key(a, Grade.INADEQUATE))
                              and nums.shown(area_key(a)) for a in leaders):
        return ""
    if len(leaders) == 1:
        area, t = leaders[0], nums.value(area_key(leaders[0]))
        return (f"Inadequate work was found most often in {area}: {top:,} of its "
                f"{plural(t, 'audit')} ({whole_percent(top, t)}%).")
    return (f"Inadequate work was found most often in {_listed(leaders)}: "
            f"{plural(top, 'audit')} in each.")


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
