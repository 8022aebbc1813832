"""The committee pack: gather a period's figures in one consistent read, draw the PDF, and
record it in the trail (who, when, period, options and the file's SHA-256).

The headline figures are the period summary's own (:func:`period_summary`), so a pack always
says what ``sefton-qa summary --json`` says for the same period.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sefton_qa.domain import periods
from sefton_qa.domain.errors import SeftonError, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import Role
from sefton_qa.reports.figures import (
    GradeCounts,
    Loop,
    Moderation,
    PackFigures,
    Period,
    SampleFigures,
)
from sefton_qa.services.moderation import calibration, loop_settings
from sefton_qa.services.session import Session
from sefton_qa.services.summary import check_previous, period_summary
from sefton_qa.store import reporting as report_store
from sefton_qa.reports.cover import EXEMPT_INFORMATION, EXEMPT_SETTING, CoverReport
from sefton_qa.store import settings as settings_store
from sefton_qa.store import summary as summary_store
from sefton_qa.store import trail
from sefton_qa.domain.wording import date_text

Progress = Callable[[int, int, str], "bool | None"]
"""progress(done, total, message) -> False to cancel."""

#: Everyone with a role may build a pack (it holds no more than the summary shows them).
BUILDERS = (Role.QA_OFFICER, Role.MODERATOR, Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
#: The settings key naming an image file (PNG or JPEG) for the cover, if the council has one.
LOGO_SETTING = "report_logo"
#: The marking a public pack carries, whatever the internal marking is.
PUBLIC_MARKING = "OFFICIAL"


#: The pack's file formats, by suffix: the PDF, and the accessible web page (issue 16, item 6).
FORMATS = {".pdf": "PDF", ".html": "HTML", ".htm": "HTML"}


def renderer(path: Path):
    """The render function for a pack file's suffix; ValidationError for any other."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValidationError.single("file", f'"{path.name}" must end in .pdf (the printable '
                                             'pack) or .html (its accessible version)')
    if kind == "HTML":
        from sefton_qa.reports.html import render
    else:
        from sefton_qa.reports.pdf import render
    return render


class PackCancelled(SeftonError):
    """The person cancelled the build; no file was written and nothing was recorded."""


@dataclass(frozen=True)
class PackOptions:
    public: bool = False
    appendix: bool = False
    previous: Period | None = None  # None: by the rule (domain.periods.previous_period)
    #: The cover report for this pack (kept for the next one); None: the one kept last time.
    cover: CoverReport | None = None

    def describe(self) -> str:
        parts = ["public" if self.public else "internal"]
        if self.appendix:
            parts.append("with the appendix of audits")
        return ", ".join(parts)


@dataclass(frozen=True)
class PackResult:
    path: Path
    sha256: str
    pages: int
    audits: int
    seconds: float
    trail_seq: int  # the trail row the pack's figures were read at (printed on its last page)
    trail_hash: str
    transfer_id: int  # the file_transfers row recording the pack
    tables: tuple[Path, ...] = ()  # the public tables as CSV (open data), when asked for


def check_options(start: dt.date, end: dt.date, options: PackOptions) -> Period:
    """The previous period to compare with; raises ValidationError for a bad choice."""
    if end < start:
        raise ValidationError.single("to", f"{date_text(end)} is before the start of the period "
                                           f"({date_text(start)})")
    if options.public and options.appendix:
        raise ValidationError.single("appendix", "a public pack never lists audits by case "
                                                 "reference: leave the appendix out")
    given = None if options.previous is None else (options.previous.start, options.previous.end)
    return Period(*check_previous(start, end, given))


def trend_periods(start: dt.date, end: dt.date, previous: Period) -> list[Period]:
    """The trend's periods, oldest first: the same calendar units as the comparison, stepping
    back from the previous period (so a chosen previous period moves the trend too)."""
    return [Period(s, e) for s, e in periods.trend_periods(start, end,
                                                           (previous.start, previous.end))]


def _report(progress: Progress | None, done: int, total: int, message: str) -> None:
    if progress is not None and progress(done, total, message) is False:
        raise PackCancelled("The committee pack was cancelled; no file was written.")


def gather(session: Session, start: dt.date, end: dt.date, options: PackOptions = PackOptions(),
           progress: Progress | None = None) -> PackFigures:
    """Every figure the pack shows, read in one snapshot together with the trail's head."""
    session.require(*BUILDERS, doing="build committee packs")
    previous = check_options(start, end, options)
    store = session.store
    today = session.today()
    steps = 7
    with store.snapshot() as conn:
        _report(progress, 0, steps, "Reading the period's figures")
        summary = period_summary(store, start, end, (previous.start, previous.end))
        grades = tuple(Grade(g) for g in summary["grades"])
        seq, head_hash = trail.head(conn)
        settings = settings_store.get_all(conn)
        current = GradeCounts(Period(start, end), summary_store.grade_counts(conn, start, end))
        prior = GradeCounts(previous, summary_store.grade_counts(conn, previous.start,
                                                                 previous.end))
        _report(progress, 1, steps, "Reading the trend over earlier periods")
        trend = []
        for p in trend_periods(start, end, previous):
            if p == current.period:
                trend.append(current)
            elif p == previous:
                trend.append(prior)
            else:
                trend.append(GradeCounts(p, summary_store.grade_counts(conn, p.start, p.end)))
        while len(trend) > 2 and not trend[0].total:  # only as far back as the data reaches
            trend.pop(0)
        _report(progress, 2, steps, "Reading grades by service area and team")
        by_area = summary_store.grade_counts_by_service_area(conn, start, end)
        by_team = summary_store.grade_counts_by_team(conn, start, end)
        by_type = summary_store.audit_type_counts(conn, start, end)
        imported = summary_store.imported_count(conn, start, end)
        selection = summary["selection"]  # (read with the summary's figures)
        sample = _sample_figures(conn, start, end)
        areas_of = report_store.team_service_areas(conn)
        team_areas = {}
        for name in by_team:
            if name in areas_of and len(areas_of[name]) == 1:
                team_areas[name] = next(iter(areas_of[name]))
            elif name.endswith(")") and " (" in name:  # "Team (Area)": qualified where names clash
                team_areas[name] = name[name.rindex(" (") + 2:-1]
        _report(progress, 3, steps, "Reading themes")
        themes: dict[str, dict[str | None, int]] = {}
        for (theme, area), n in report_store.theme_counts_by_area(conn, start, end).items():
            themes.setdefault(theme, {})[area] = n
        themes_previous = report_store.theme_counts(conn, previous.start, previous.end)
        _report(progress, 4, steps, "Reading moderation and calibration")
        cal = calibration(session, start=start, end=end)
        flags = report_store.moderation_flags(conn, start, end, today)
        moderation = Moderation(
            moderated=cal.moderated, confirmed=cal.confirmed, upgraded=cal.upgraded,
            downgraded=cal.downgraded, kappa=cal.kappa,
            median_working_days=cal.median_working_days, plain_words=cal.plain_words(),
            target_days=loop_settings(conn).moderation_days,
            flagged_inadequate=flags.inadequate, flagged_calibration=flags.calibration,
            pending=flags.pending, pending_overdue=flags.pending_overdue)
        _report(progress, 5, steps, "Reading reflective conversations, actions and re-audits")
        conv = report_store.conversation_counts(conn, start, end, today)
        acts = report_store.action_counts(conn, start, end, today)
        re = report_store.reaudits(conn, start, end)
        ranks = [(Grade(now).rank, Grade(before).rank, asked) for now, before, asked in re]
        from_inadequate = [r for r in ranks if r[1] == Grade.INADEQUATE.rank]
        loop = Loop(
            conversations_held=conv.held, conversations_due=conv.due,
            conversations_overdue=conv.overdue, actions_on_time=acts.done_on_time,
            actions_late=acts.done_late, actions_open=acts.open_in_time,
            actions_overdue=acts.overdue, actions_not_needed=acts.not_needed,
            reaudits_improved=sum(now > before for now, before, _ in ranks),
            reaudits_same=sum(now == before for now, before, _ in ranks),
            reaudits_worse=sum(now < before for now, before, _ in ranks),
            reaudits_asked=sum(asked for _, _, asked in ranks),
            reaudits_from_inadequate=len(from_inadequate),
            reaudits_from_inadequate_improved=sum(now > before
                                                  for now, before, _ in from_inadequate))
        _report(progress, 6, steps, "Reading who took part")
        now_people = report_store.people_counts(conn, start, end)
        before_people = report_store.people_counts(conn, previous.start, previous.end)
        people = {k: (getattr(now_people, k), getattr(before_people, k))
                  for k in now_people._fields}
        appendix = (report_store.appendix_rows(conn, start, end)
                    if options.appendix and not options.public else [])
    logo = settings.get(LOGO_SETTING)
    return PackFigures(
        authority=str(settings.get("authority_name") or ""),
        marking=(PUBLIC_MARKING if options.public
                 else str(settings.get("protective_marking") or "OFFICIAL-SENSITIVE")),
        produced=dt.datetime.now().astimezone(), period=Period(start, end), previous=previous,
        grades=grades, summary=summary, current=current, prior=prior, trend=trend,
        by_area=by_area, by_team=by_team, team_areas=team_areas, themes=themes,
        themes_previous=themes_previous, moderation=moderation, loop=loop, people=people,
        trail_seq=seq, trail_hash=head_hash, logo=str(logo) if logo else None,
        appendix=appendix, by_type=by_type, imported=imported, selection=selection,
        sample=sample,
        previous_published=(settings.get(published_key(previous)) if options.public
                            else None),
        cover=options.cover or CoverReport.from_setting(settings.get(COVER_SETTING)),
        exempt_information=str(settings.get(EXEMPT_SETTING) or EXEMPT_INFORMATION))


#: The setting holding the cover report last used.
COVER_SETTING = "committee_cover"


def stored_cover(session: Session) -> CoverReport:
    """The cover report last used in this store (the defaults before the first pack)."""
    session.require(*BUILDERS, doing="build committee packs")
    return CoverReport.from_setting(settings_store.get(session.store.conn, COVER_SETTING))


def published_key(period: Period) -> str:
    """The setting holding what the public pack of ``period`` published for it."""
    return f"public_pack_published:{period.start.isoformat()}:{period.end.isoformat()}"


def _sample_figures(conn, start: dt.date, end: dt.date) -> SampleFigures | None:
    """The period's recorded random draw and what its audits so far estimate (issue 19)."""
    from sefton_qa.services import plans

    found = plans.period_sample(conn, start, end)
    if found is None:
        return None
    plan, draw, estimate = found
    return SampleFigures(stratify_by=plan.stratify_by,
                         proportional=plan.quota_rule == "proportional",
                         drawn=draw.sample_size, open_cases=draw.open_cases,
                         strata=len(draw.strata), estimate=estimate)


def committee_pack(session: Session, start: dt.date, end: dt.date, path: str | Path, *,
                   options: PackOptions = PackOptions(), progress: Progress | None = None,
                   overwrite: bool = False, csv_dir: str | Path | None = None) -> PackResult:
    """Build the pack for [start, end] into ``path`` and record it in the trail. The file's
    suffix chooses the format: ``.pdf``, or ``.html`` (``.htm``) for the accessible version,
    one self-contained web page with the same figures.

    The file appears whole or not at all, and only once the trail records it; a cancelled or
    failed build leaves nothing behind and records nothing. An existing file is replaced only
    with ``overwrite``.

    With ``csv_dir`` (public packs only), the pack's tables are also written there as CSV
    files for open data, each recorded in the trail as the pack is, after it.
    """
    from sefton_qa.services.import_export import deliver_recorded

    began = time.perf_counter()
    path = Path(path)
    render = renderer(path)
    if csv_dir is not None:
        csv_dir = _check_csv_dir(Path(csv_dir), options, overwrite)
    figures = gather(session, start, end, options,
                     progress=None if progress is None else
                     (lambda d, t, m: progress(d, t + 10, m)))
    def drawing(done: int, total: int, message: str) -> None:
        _report(progress, 7 + round(8 * done / max(total, 1)), 17, message)

    from sefton_qa.reports.numbers import Numbers, published_cells

    # Worked out once: the pack draws them, records what it published and writes the CSV.
    _report(progress, 7, 17, "Working out which figures can be published" if options.public
            else "Preparing the figures")
    nums = Numbers.build(figures, public=options.public)
    pages = 0

    def write(tmp: Path) -> None:
        nonlocal pages
        pages = render(figures, tmp, public=options.public, appendix=options.appendix,
                       progress=drawing, numbers=nums)
        _report(progress, 16, 17, "Recording the pack in the trail")

    reason = (f"Committee pack ({options.describe()}) as {FORMATS[path.suffix.lower()]}; "
              "compared with "
              f"{figures.previous.start.isoformat()} to {figures.previous.end.isoformat()}; "
              f"figures as at trail row {figures.trail_seq} ({figures.trail_hash})")
    def record_published(conn) -> None:  # in the same transaction as the pack's trail row
        cells = published_cells(figures, nums)
        settings_store.put(conn, published_key(figures.period), cells, who=session.who,
                           reason=f"What the public pack {path.name} published for "
                                  f"{figures.period.label()}")

    def also(conn) -> None:
        if options.public:
            record_published(conn)
        if options.cover is not None and options.cover.as_setting() != \
                settings_store.get(conn, COVER_SETTING):
            settings_store.put(conn, COVER_SETTING, options.cover.as_setting(),
                               who=session.who, reason=f"The cover report of {path.name}, "
                                                       "kept for the next pack")

    sha256, transfer_id = deliver_recorded(session, path, write, overwrite=overwrite,
                                           reason=reason, also=also, values={
        "direction": "export", "file_name": path.name, "date_from": start.isoformat(),
        "date_to": end.isoformat(), "rows_written": figures.current.total,
        "rows_skipped": 0})
    if session.store.dialect.is_file and session.store.path is not None:
        # The pack prints the trail's head; a copy of it outside the store holds the history
        # to what the committee was shown.
        from sefton_qa.services.backups import backup_folder, backup_stem_of
        from sefton_qa.store import anchors

        anchors.record(session.store.path, backup_folder(session.store),
                       backup_stem_of(session.store), anchors.Anchor(
            figures.trail_seq, figures.trail_hash, "pack", path.name))
    written = () if csv_dir is None else _write_tables(session, figures, nums, csv_dir,
                                                       overwrite)
    _report(progress, 17, 17, "Done")
    return PackResult(path=path, sha256=sha256, pages=pages, audits=figures.current.total,
                      seconds=time.perf_counter() - began, trail_seq=figures.trail_seq,
                      trail_hash=figures.trail_hash, transfer_id=transfer_id,
                      tables=written)


def _check_csv_dir(folder: Path, options: PackOptions, overwrite: bool) -> Path:
    """The folder for the CSV tables, refused before anything is built when the pack is not
    public, or when it holds pack tables already and ``overwrite`` is not given."""
    if not options.public:
        raise ValidationError.single("csv", "the tables are written as open data for the "
                                            "public pack only: add --public")
    if folder.exists() and not folder.is_dir():
        raise ValidationError.single("csv", f'"{folder}" is a file, not a folder')
    if not overwrite and folder.is_dir() and any(folder.glob("[0-9][0-9]-*.csv")):
        raise ValidationError.single("csv", f'"{folder}" already holds pack tables: choose '
                                            "another folder, or replace them (--overwrite)")
    return folder


def _write_tables(session: Session, figures: PackFigures, nums, folder: Path,
                  overwrite: bool) -> tuple[Path, ...]:
    """The public tables as CSV files in ``folder``, each written whole and recorded."""
    from sefton_qa.reports.opendata import tables
    from sefton_qa.services.import_export import deliver_recorded

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text, rows in tables(figures, nums):
        target = folder / name
        deliver_recorded(
            session, target,
            lambda tmp, text=text: tmp.write_text(text, encoding="utf-8", newline=""),
            overwrite=overwrite,
            reason=(f"Committee pack table (public) as CSV; figures as at trail row "
                    f"{figures.trail_seq} ({figures.trail_hash})"),
            values={"direction": "export", "file_name": name,
                    "date_from": figures.period.start.isoformat(),
                    "date_to": figures.period.end.isoformat(), "rows_written": rows,
                    "rows_skipped": 0})
        written.append(target)
    return tuple(written)


def disclosure_audit(session: Session, start: dt.date, end: dt.date,
                     options: PackOptions = PackOptions(public=True)) -> list[dict]:
    """The public pack's disclosure audit for [start, end]: each hidden cell, the range a
    reader holding the whole pack could work out for it, and whether that protects it (at
    least three values, not all of them from 1 to 4). Nothing is written."""
    from sefton_qa.reports.numbers import Numbers, disclosure_report

    figures = gather(session, start, end, options)
    return disclosure_report(Numbers.build(figures, public=True))
