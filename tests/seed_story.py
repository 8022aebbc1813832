"""The seed story's quarter as pack figures (synthetic; see ../shared/seeds): May–July 2024,
49 deep-dive audits: 4 good, 25 requires improvement, 20 inadequate; February–April 2024,
45 audits with 7 good; and the quarter after, August–October 2024. The split by service area
and team is this project's own, made so that the small counts sit where the seed's did (four
teams with one good audit each, inadequate work most often in Child Protection)."""

from __future__ import annotations

import datetime as dt

from sefton_qa.domain.grades import Grade
from sefton_qa.reports.figures import GradeCounts, Loop, Moderation, PackFigures, Period

G, RI, I = Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE
GRADES = (G, RI, I)

MAY_JUL = Period(dt.date(2024, 5, 1), dt.date(2024, 7, 31))
FEB_APR = Period(dt.date(2024, 2, 1), dt.date(2024, 4, 30))
AUG_OCT = Period(dt.date(2024, 8, 1), dt.date(2024, 10, 31))
NOV_JAN = Period(dt.date(2023, 11, 1), dt.date(2024, 1, 31))

#: team → (service area, good, requires improvement, inadequate), May–July 2024.
TEAMS_MAY_JUL = {
    "Assessment 1": ("Front Door", 1, 5, 3),
    "Assessment 2": ("Front Door", 0, 4, 2),
    "Child Protection 1": ("Child Protection", 1, 3, 4),
    "Child Protection 2": ("Child Protection", 0, 3, 2),
    "Permanence": ("Children in Care", 1, 4, 3),
    "Fostering": ("Children in Care", 0, 3, 2),
    "Care Leavers": ("Care Leavers", 1, 3, 4),
}
#: The quarter after: 52 audits, 9 good.
TEAMS_AUG_OCT = {
    "Assessment 1": ("Front Door", 2, 6, 2),
    "Assessment 2": ("Front Door", 1, 4, 2),
    "Child Protection 1": ("Child Protection", 2, 4, 3),
    "Child Protection 2": ("Child Protection", 1, 4, 1),
    "Permanence": ("Children in Care", 1, 5, 2),
    "Fostering": ("Children in Care", 1, 3, 1),
    "Care Leavers": ("Care Leavers", 1, 4, 2),
}
#: theme → service area → audits with the theme, May–July 2024.
THEMES_MAY_JUL = {
    "Care planning": {"Front Door": 2, "Child Protection": 6, "Children in Care": 5,
                      "Care Leavers": 3},
    "Voice of the child": {"Front Door": 4, "Child Protection": 2, "Children in Care": 1,
                           "Care Leavers": 0},
}


def _tables(teams):
    by_team = {t: {G: g, RI: ri, I: i} for t, (_a, g, ri, i) in teams.items()}
    team_areas = {t: a for t, (a, *_r) in teams.items()}
    by_area: dict[str, dict[Grade, int]] = {}
    for t, counts in by_team.items():
        area = by_area.setdefault(team_areas[t], {G: 0, RI: 0, I: 0})
        for g, n in counts.items():
            area[g] += n
    total = {g: sum(c[g] for c in by_team.values()) for g in GRADES}
    return by_team, team_areas, by_area, total


def figures(quarter: str = "2024-05") -> PackFigures:
    """The pack figures of May–July 2024 (``"2024-05"``) or August–October (``"2024-08"``)."""
    may = _tables(TEAMS_MAY_JUL)
    assert may[3] == {G: 4, RI: 25, I: 20}, may[3]
    if quarter == "2024-05":
        period, previous = MAY_JUL, FEB_APR
        by_team, team_areas, by_area, total = may
        prior = GradeCounts(FEB_APR, {G: 7, RI: 21, I: 17})
        trend = [GradeCounts(NOV_JAN, {G: 6, RI: 22, I: 15}), prior,
                 GradeCounts(MAY_JUL, total)]
        themes = {k: {a: n for a, n in v.items()} for k, v in THEMES_MAY_JUL.items()}
        themes_previous = {"Care planning": 14, "Voice of the child": 9}
        moderation = Moderation(moderated=0, confirmed=0, upgraded=0, downgraded=0, kappa=None,
                                median_working_days=None, plain_words="", target_days=5,
                                flagged_inadequate=20, flagged_calibration=4, pending=24,
                                pending_overdue=0)
    elif quarter == "2024-08":
        period, previous = AUG_OCT, MAY_JUL
        by_team, team_areas, by_area, total = _tables(TEAMS_AUG_OCT)
        prior = GradeCounts(MAY_JUL, may[3])
        trend = [GradeCounts(FEB_APR, {G: 7, RI: 21, I: 17}), prior,
                 GradeCounts(AUG_OCT, total)]
        themes = {"Care planning": {"Front Door": 5, "Child Protection": 6,
                                    "Children in Care": 5, "Care Leavers": 3}}
        themes_previous = {"Care planning": 16}
        moderation = Moderation(moderated=24, confirmed=20, upgraded=3, downgraded=1,
                                kappa=0.62, median_working_days=4, plain_words="",
                                target_days=5, flagged_inadequate=total[I],
                                flagged_calibration=5, pending=total[I] + 5 - 11,
                                pending_overdue=0)
    else:
        raise ValueError(quarter)
    current = GradeCounts(period, total)
    return PackFigures(
        authority="Seaside Borough Council (synthetic)", marking="OFFICIAL",
        produced=dt.datetime(2024, 8, 20, 9, 0), period=period, previous=previous,
        grades=GRADES, summary={}, current=current, prior=prior, trend=trend,
        by_area=by_area, by_team=by_team, team_areas=team_areas, themes=themes,
        themes_previous=themes_previous, moderation=moderation,
        loop=Loop(conversations_held=12, conversations_due=5, conversations_overdue=3,
                  actions_on_time=20, actions_late=6, actions_open=9, actions_overdue=5,
                  actions_not_needed=2, reaudits_improved=6, reaudits_same=3,
                  reaudits_worse=1, reaudits_asked=8, reaudits_from_inadequate=7,
                  reaudits_from_inadequate_improved=5),
        people={"auditors": (9, 8), "moderators": (3, 3), "service_managers": (4, 4),
                "practitioners": (21, 19)},
        trail_seq=1234, trail_hash="ab" * 32, by_type={"deep_dive": current.total})
