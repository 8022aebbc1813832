"""The committee pack: its figures read back from the PDF equal the period summary, the public
version shows no small count and no case reference, hostile text is escaped, every pack is
recorded in the trail and carries the chain hash, and cancelling leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from sefton_qa import identity
from sefton_qa.cli import main
from sefton_qa.domain.errors import PermissionDenied, ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.reports.figures import Period
from sefton_qa.reports.pdf import clean, esc, shorten
from sefton_qa.reports.text import change_is_chance, change_verdict, in_sentence
from sefton_qa.reports.numbers import whole_percent
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org_service
from sefton_qa.services.reports import (
    PackCancelled,
    PackOptions,
    check_options,
    committee_pack,
    gather,
)
from sefton_qa.services.summary import period_summary
from sefton_qa.services.verify import verify_store
from sefton_qa.store import file_transfers
from sefton_qa.store import staff as staff_store
from sefton_qa.store import trail

Q3 = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
HOSTILE = "Mum said <b>no</b> & left; <img src=x> then </para> <i>unclosed & 5 < 6"


def pages_of(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(str(path)).pages]


def section(pages: list[str], title: str) -> str:
    """The page a section starts on (the cover's contents list aside)."""
    return next(p for p in pages[1:] if title in p)


def flat(text: str) -> str:
    return " ".join(text.split())


def build(session, tmp_path, start=Q3[0], end=Q3[1], name="pack.pdf", **options):
    path = tmp_path / name
    result = committee_pack(session, start, end, path, options=PackOptions(**options))
    return result, pages_of(path)


# -- the figures equal the summary --------------------------------------------------------------
def test_headline_figures_equal_summary_json(demo_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    args = ["--from", Q3[0].isoformat(), "--to", Q3[1].isoformat()]
    assert main(["--db", str(demo_path), "summary", *args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    pdf = tmp_path / "pack.pdf"
    assert main(["--db", str(demo_path), "report", *args, "-o", str(pdf)]) == 0
    out = capsys.readouterr().out
    assert f"{summary['total']:,} audits" in out and "recorded in the trail" in out
    pages = pages_of(pdf)
    headline = flat(section(pages, "2. Headline figures"))
    previous = summary["previous"]
    assert previous is not None and summary["total"] > 40
    for key, g in summary["grades"].items():
        low, high = g["ci95"]
        pg = previous["grades"][key]
        row = (f"{Grade(key).label} {g['count']:,} {g['percent']:.1f}% {low:.1f}–{high:.1f}% "
               f"{pg['count']:,} {pg['percent']:.1f}%")
        assert row in headline, row
    assert f"All audits {summary['total']:,} 100% {previous['total']:,} 100%" in headline
    # The summary's words say the same numbers, rounded to whole percent.
    words = flat(section(pages, "1. Summary in plain English"))
    good = summary["grades"]["good"]["count"]
    assert f"{good} of {summary['total']} ({whole_percent(good, summary['total'])}%)" in words
    # Area and team tables: every count the summary has, in its row.
    where = flat(" ".join(p for p in pages if "By service area" in p or "By team" in p))
    grades = list(summary["grades"])
    for table in ("by_service_area", "by_team"):
        for name, counts in summary[table].items():
            cells = " ".join(str(counts[g]) for g in grades)
            assert f"{name} {cells} {sum(counts.values())} " in where, (name, cells)


def test_previous_period_can_be_chosen(demo_admin, tmp_path):
    prev = Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    result, pages = build(demo_admin, tmp_path, previous=prev)
    expected = period_summary(demo_admin.store, prev.start, prev.end)
    headline = flat(section(pages, "2. Headline figures"))
    assert "Previous period: 1 April to 30 June 2026" in headline
    for key, g in expected["grades"].items():
        assert f"{g['count']:,} {g['percent']:.1f}%" in headline
    assert f"{expected['total']:,} 100%" in headline


@pytest.mark.parametrize("start, end, previous, public, appendix, field", [
    (Q3[1], Q3[0], None, False, False, "to"),
    (*Q3, None, True, True, "appendix"),
    (*Q3, Period(dt.date(2026, 6, 1), dt.date(2026, 7, 15)), False, False, "previous to"),
    (*Q3, Period(dt.date(2026, 6, 30), dt.date(2026, 6, 1)), False, False, "previous to"),
])
def test_bad_choices_are_refused(start, end, previous, public, appendix, field):
    with pytest.raises(ValidationError) as info:
        check_options(start, end, PackOptions(public=public, appendix=appendix,
                                              previous=previous))
    assert info.value.for_field(field)


def test_a_pdf_name_is_required(demo_admin, tmp_path):
    with pytest.raises(ValidationError):
        committee_pack(demo_admin, *Q3, tmp_path / "pack.docx")


def test_people_without_a_role_cannot_build_packs(demo_store, demo_admin, tmp_path):
    nobody = next(s for s in staff_store.list_all(demo_store.conn) if not s.roles)
    from sefton_qa.services.session import Session

    session = Session(store=demo_store, actor=nobody, os_user="nobody")
    with pytest.raises(PermissionDenied):
        committee_pack(session, *Q3, tmp_path / "pack.pdf")


# -- every page ---------------------------------------------------------------------------------
def test_every_page_has_the_marking_and_page_x_of_y(demo_admin, tmp_path):
    for public, marking in ((False, "OFFICIAL-SENSITIVE"), (True, "OFFICIAL")):
        result, pages = build(demo_admin, tmp_path, public=public, name=f"{public}.pdf")
        assert result.pages == len(pages) > 8
        for number, text in enumerate(pages, start=1):
            assert f"Page {number} of {len(pages)}" in text
            lines = text.splitlines()
            assert lines.count(marking) >= 2, (number, lines[:4])
        cover = flat(pages[0])
        for words in ("Example Borough Council", "Quality of practice", "1 July 2026 to "
                      "30 September 2026", "Contents", "Produced"):
            assert words in cover
        order = ["1. Summary in plain English", "2. Headline figures", "3. Trend",
                 "4. Where inadequate work sits", "5. Themes", "6. Moderation and calibration",
                 "7. Reflective conversations and actions", "8. Who is involved",
                 "9. Glossary", "Where these figures come from"]
        body = "\n".join(pages[1:])
        positions = [body.index(title) for title in order]
        assert positions == sorted(positions)


def test_fonts_are_embedded_truetype(demo_admin, tmp_path):
    result, _ = build(demo_admin, tmp_path)
    reader = PdfReader(str(result.path))
    seen = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            seen.add(font["/BaseFont"])
            descendant = font.get("/DescendantFonts")
            descriptor = (descendant[0].get_object() if descendant else font).get(
                "/FontDescriptor")
            assert descriptor is not None and "/FontFile2" in descriptor.get_object(), font
    assert seen and not any("Helvetica" in f or "Times" in f for f in seen)


def test_charts_have_control_limits_and_the_trend_words(demo_admin, tmp_path):
    _, pages = build(demo_admin, tmp_path)
    body = flat(" ".join(pages[1:]))  # (the cover's contents list aside)
    trend = body[body.index("3. Trend"):body.index("4. Where inadequate work sits")]
    assert "control limits" in trend and "Share graded good" in trend
    # 8 quarters, as far back as the demo's audits reach (issue 16, item 2).
    quarters = re.search(r"Over the last (\d) calendar quarters, read by the usual run rules",
                         trend)
    assert quarters and 2 <= int(quarters.group(1)) <= 8, trend
    assert f"in each of the last {quarters.group(1)} calendar quarters" in trend
    assert "1 April to 30 June 2026" in trend


def test_where_these_figures_come_from_is_the_last_page(demo_admin, tmp_path):
    result, pages = build(demo_admin, tmp_path, appendix=True)
    assert "Where these figures come from" in pages[-1]
    assert "Appendix: the period's audits by case reference" in "".join(pages)


# -- the trail ----------------------------------------------------------------------------------
def test_pack_is_recorded_in_the_trail_and_carries_the_chain_hash(demo_store, demo_admin,
                                                                 tmp_path):
    conn = demo_store.conn
    seq_before, hash_before = trail.head(conn)
    result, pages = build(demo_admin, tmp_path, public=True)
    assert (result.trail_seq, result.trail_hash) == (seq_before, hash_before)
    last = flat(pages[-1])
    assert hash_before in last and f"Trail entry (sequence number): {seq_before}" in last
    row = file_transfers.list_recent(conn, 1)[0]
    assert row["id"] == result.transfer_id
    assert row["direction"] == "export" and row["file_name"] == "pack.pdf"
    assert row["sha256"] == hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    assert (row["date_from"], row["date_to"]) == (Q3[0].isoformat(), Q3[1].isoformat())
    assert row["rows_written"] == result.audits
    (entry,) = trail.entries_for(conn, "file_transfers", result.transfer_id)
    assert entry.prev_hash == hash_before and entry.seq == seq_before + 1
    assert entry.reason.startswith("Committee pack (public)")
    assert hash_before in entry.reason and entry.staff_id == demo_admin.actor.id
    assert verify_store(demo_store).ok


def test_cancelling_leaves_nothing(demo_store, demo_admin, tmp_path):
    conn = demo_store.conn
    before = trail.head(conn)
    out = tmp_path / "out"
    out.mkdir()
    for stop_at in ("Reading themes", "Laid out page 3"):
        def progress(done, total, message, stop_at=stop_at):
            return not message.startswith(stop_at)

        with pytest.raises(PackCancelled):
            committee_pack(demo_admin, *Q3, out / "pack.pdf", progress=progress)
        assert list(out.iterdir()) == []
    assert trail.head(conn) == before


def test_progress_is_reported_in_order(demo_admin, tmp_path):
    seen = []
    committee_pack(demo_admin, *Q3, tmp_path / "pack.pdf",
                   progress=lambda d, t, m: seen.append((d, t, m)))
    assert seen[0][0] == 0 and seen[-1][2] == "Done" and seen[-1][0] == seen[-1][1]
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


# -- public packs -------------------------------------------------------------------------------
def _table_rows(text: str, names, width: int) -> dict[str, list[str]]:
    """For each name, the ``width`` tokens after it where they all look like table cells."""
    out = {}
    for name in names:
        for match in re.finditer(re.escape(name) + r" ((?:\S+ ){%d})" % width, text):
            tokens = match.group(1).split()
            if all(re.fullmatch(r"c|–|[\d,]+|\d+%|[\d.]+%", t) for t in tokens):
                out.setdefault(name, tokens)
    return out


@pytest.mark.parametrize("period", [Q3, OCTOBER])
def test_public_pack_shows_no_small_count_and_no_case_reference(demo_store, demo_admin,
                                                                 tmp_path, period):
    result, pages = build(demo_admin, tmp_path, *period, public=True)
    text = flat(" ".join(pages))
    assert "LCS-" not in text  # demo case references
    internal, internal_pages = build(demo_admin, tmp_path, *period, name="internal.pdf",
                                     appendix=True)
    assert "LCS-" in " ".join(internal_pages)
    names = {s.display_name for s in staff_store.list_all(demo_store.conn)}
    for page_text in (text, flat(" ".join(internal_pages))):
        assert not [n for n in names if n in page_text]  # nobody is named, in either pack
    summary = period_summary(demo_store, *period)
    grades = len(summary["grades"])
    # Where the teams are too small, the public pack publishes the service areas only.
    teams_withheld = "The table by team is not published in this version" in text
    tables = ("by_service_area",) if teams_withheld else ("by_service_area", "by_team")
    rows = {}
    for table in tables:
        rows.update(_table_rows(text, summary[table], grades + 1))
    assert set(rows) == {name for table in tables for name in summary[table]}
    small = {"1", "2", "3", "4"}
    shown_c = 0
    for name, tokens in rows.items():
        assert not small & set(tokens), (name, tokens)
        shown_c += tokens.count("c")
    assert shown_c > 0  # the demo's teams do have small counts
    for table in tables:
        for name, counts in summary[table].items():
            for g, token in zip(summary["grades"], rows[name]):
                assert token == "c" or int(token.replace(",", "")) == counts[g]
    headline = flat(section(pages, "2. Headline figures"))
    for key, g in summary["grades"].items():
        label = Grade(key).label
        if 1 <= g["count"] <= 4:
            assert f"{label} c c c" in headline
    people = flat(section(pages, "8. Who is involved"))
    assert "Service managers (reflective conversations) c" in people  # 4 of them
    # Kappa would give small moderation counts away, so it goes when they do.
    moderation = flat(section(pages, "6. Moderation and calibration"))
    if "Grade lowered c" in moderation or "Grade raised c" in moderation:
        assert "(weighted kappa) c" in moderation


def test_public_pack_words_never_give_a_suppressed_count(demo_admin, tmp_path):
    from sefton_qa.reports.numbers import Numbers
    from sefton_qa.reports import text as words

    figures = gather(demo_admin, *OCTOBER, PackOptions(public=True))
    nums = Numbers.build(figures, public=True)
    assert nums.suppressed
    said = " ".join(words.summary(figures, nums))
    m = figures.moderation
    if ("moderation", "downgraded") in nums.suppressed:
        assert f"lowered it in {m.downgraded}" not in said


# -- hostile text -------------------------------------------------------------------------------
def test_hostile_text_is_escaped(admin, org, make_input, tmp_path, today):
    org_service.set_authority_name(admin, "Borough & <b>Council</b>")
    team = org_service.add_team(admin, "Team <i>Q</i> & co", org.area1).record_id
    theme = org_service.add_theme(admin, "Drift <br/> & \"delay\" <font size=40>").record_id
    start = today - dt.timedelta(days=40)
    inputs = [make_input(case_reference=f"LCS-10000{i}", audit_date=start + dt.timedelta(days=i),
                         findings=HOSTILE if i == 3 else "Fine.", theme_ids=[theme],
                         team_id=team if i % 2 else org.team_a1,
                         overall_grade=[Grade.GOOD, Grade.INADEQUATE,
                                        Grade.REQUIRES_IMPROVEMENT][i % 3]) for i in range(7)]
    for inp in inputs:
        audit_service.create_audit(admin, inp, submit=True)
    for public in (False, True):
        result, pages = build(admin, tmp_path, start, today, name=f"{public}.pdf",
                              public=public, appendix=not public)
        text = flat(" ".join(pages))
        assert "Borough & <b>Council</b>" in text
        # seven audits: the public pack leaves its table by team out
        assert "Team <i>Q</i> & co" in text or (
            public and "The table by team is not published in this version" in text)
        assert 'Drift <br/> & "delay" <font size=40>' in text
        if not public:
            # the appendix lists cases, never the auditors' free text about a child
            assert "Mum said" not in text
            assert "LCS-100003" in text


def test_esc_and_clean():
    assert esc("<b>&x</b>\nnext") == "&lt;b&gt;&amp;x&lt;/b&gt;<br/>next"
    assert clean("a\x00b\x07c\td") == "abc d"
    long = "word " * 100
    assert shorten(long, 50).endswith("…") and len(shorten(long, 50)) <= 51
    assert shorten("short") == "short"


# -- small pieces -------------------------------------------------------------------------------
@pytest.mark.parametrize("start, end, label, short", [
    (dt.date(2026, 7, 1), dt.date(2026, 9, 30), "1 July to 30 September 2026", "Jul–Sep 2026"),
    (dt.date(2025, 12, 1), dt.date(2026, 2, 28), "1 December 2025 to 28 February 2026",
     "Dec 2025–Feb 2026"),
    (dt.date(2026, 3, 31), dt.date(2026, 6, 30), "31 March to 30 June 2026",
     "31 Mar–30 Jun 2026"),
    (dt.date(2026, 5, 1), dt.date(2026, 5, 31), "1 May to 31 May 2026", "May 2026"),
    (dt.date(2026, 5, 4), dt.date(2026, 5, 4), "4 May 2026", "4 May 2026"),
])
def test_period_labels(start, end, label, short):
    assert Period(start, end).label() == label
    assert Period(start, end).short_label() == short


def test_whole_percent_rounds_half_up():
    assert whole_percent(1, 8) == 13  # 12.5
    assert whole_percent(4, 49) == 8
    assert whole_percent(0, 0) == 0


def test_the_issues_example_sentence():
    # "4 of 49 (8%) were good, down from 7 of 45 (16%): a change this size could be chance"
    assert change_is_chance(4, 49, 7, 45)
    assert not change_is_chance(5, 100, 40, 100)
    assert change_verdict(5, 100, 40, 100) == "fall" and change_verdict(40, 100, 5, 100) == "rise"
    assert in_sentence("Drift and delay") == "drift and delay"
    assert in_sentence("MASH referrals") == "MASH referrals"


def test_the_issues_example_in_a_pack(admin, org, make_input, tmp_path, today):
    """4 of 49 good this period against 7 of 45 before: the words the issue asks for."""
    this = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    before = Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30))

    def add(period_start, good, total):
        inputs = []
        for i in range(total):
            grade = (Grade.GOOD if i < good else Grade.INADEQUATE if i % 2
                     else Grade.REQUIRES_IMPROVEMENT)
            inputs.append(make_input(case_reference=f"LCS-{period_start:%m}{i:04d}",
                                     audit_date=period_start + dt.timedelta(days=i),
                                     overall_grade=grade))
        audit_service.add_audits(admin, inputs, flag=False)

    add(this[0], 4, 49)
    add(before.start, 7, 45)
    _, pages = build(admin, tmp_path, *this, previous=before)
    words = flat(section(pages, "1. Summary in plain English"))
    # Newcombe's interval for the difference holds 0 (issue 16, item 3): could be chance.
    assert ("4 of 49 (8%) were good, down from 7 of 45 (16%): a change this size could be "
            "chance.") in words


def test_cli_refuses_bad_options_plainly(demo_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(identity, "os_account", lambda: "admin.user")
    base = ["--db", str(demo_path), "report", "--from", "2026-07-01", "--to", "2026-09-30",
            "-o", str(tmp_path / "p.pdf")]
    for extra, phrase in ((["--public", "--appendix"], "never lists audits"),
                          (["--previous-from", "2026-04-01"], "give both"),
                          (["--previous-from", "2026-04-01", "--previous-to", "2026-07-02"],
                           "must end before")):
        assert main(base + extra) == 1
        err = capsys.readouterr().err
        assert err.startswith("sefton-qa: ") and phrase in err and "Traceback" not in err
    assert not (tmp_path / "p.pdf").exists()
    assert main(base + ["--public", "--previous-from", "2026-04-01", "--previous-to",
                        "2026-06-30"]) == 0
    assert "public pack" in capsys.readouterr().out


def test_the_logo_from_settings_goes_on_the_cover(demo_store, demo_admin, tmp_path):
    from PIL import Image

    from sefton_qa.services.reports import LOGO_SETTING
    from sefton_qa.store import settings as settings_store

    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), (27, 54, 93)).save(logo)
    with demo_store.transaction() as conn:
        settings_store.put(conn, LOGO_SETTING, str(logo), who=demo_admin.who)
    result, _ = build(demo_admin, tmp_path)
    cover = PdfReader(str(result.path)).pages[0]
    assert any(x.get_object()["/Subtype"] == "/Image"
               for x in cover["/Resources"].get("/XObject", {}).values())
    logo.write_bytes(b"not an image")  # a broken logo never stops the pack
    build(demo_admin, tmp_path, name="again.pdf")


def test_smaller_findings_of_the_pack_review(admin, org, make_input, tmp_path, today):
    """Issue 16, finding 8: the time it was produced has its zone; "The other 1 (33%) was"
    reads as a sentence; tables list names in order; shares that do not add up to 100% say
    why."""
    import zoneinfo

    from sefton_qa.reports.numbers import Numbers
    from sefton_qa.reports import pdf as pack_pdf, text as words

    start = today - dt.timedelta(days=40)
    grades = [Grade.GOOD, Grade.INADEQUATE, Grade.REQUIRES_IMPROVEMENT]
    for i, grade in enumerate(grades):
        audit_service.create_audit(admin, make_input(
            case_reference=f"LCS-30000{i}", audit_date=start + dt.timedelta(days=i),
            overall_grade=grade), submit=True)
    figures = gather(admin, start, today, PackOptions())
    said = words.summary(figures, Numbers.build(figures, public=False))
    assert "The remaining audit (33%) was graded requires improvement to be good." in said
    at = dt.datetime(2026, 7, 1, 9, 5, tzinfo=zoneinfo.ZoneInfo("Europe/London"))
    assert pack_pdf.clock_text(at) == "09:05 BST"
    _result, pages = build(admin, tmp_path, start, today)
    cover = flat(pages[0])
    assert re.search(r"Produced \d+ \w+ \d{4}, \d\d:\d\d [A-Z]{2,5}", cover), cover
    headline = flat(section(pages, "2. Headline figures"))
    # 33.3% three times is 99.9%
    assert "so they may not add up to exactly 100%" in headline


def test_tables_list_their_rows_by_name(tmp_path):
    """Issue 16, finding 8: rows were in the order the store returned them."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import seed_story
    from sefton_qa.reports import pdf as pack_pdf

    path = tmp_path / "internal.pdf"
    pack_pdf.render(seed_story.figures("2024-05"), path)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    table = text[text.index("By service area"):text.index("By team")]
    rows = [line.strip().split("  ")[0] for line in table.splitlines()
            if line.strip().startswith(tuple(seed_story.figures("2024-05").by_area))]
    table_rows = rows[:4]  # the table, then the chart's labels (ranked by count)
    assert table_rows == sorted(seed_story.figures("2024-05").by_area, key=str.lower), rows


def test_the_headline_says_how_many_grades_moderation_changed(demo_admin):
    """The headline's moderation clause, counted here straight from the moderations table:
    those done in the period whose grade differs from the auditor's."""
    from sefton_qa.reports import text
    from sefton_qa.reports.numbers import Numbers
    from sefton_qa.services.reports import PackOptions, gather

    start, end = dt.date(2026, 7, 1), dt.date(2026, 9, 30)
    done = demo_admin.store.conn.execute(
        "SELECT original_grade, moderated_grade FROM moderations WHERE status = 'done' "
        "AND moderation_date BETWEEN ? AND ?", (start.isoformat(), end.isoformat())).fetchall()
    changed = sum(1 for original, moderated in done if original != moderated)
    assert done and changed  # the demo moderates, and some grades change
    figures = gather(demo_admin, start, end, PackOptions())
    headline = text.headline_sentence(figures, Numbers.build(figures, public=False))
    assert headline.endswith(
        f"Grades are as they stand after moderation: moderation in the period changed "
        f"{changed} grade{'s' if changed != 1 else ''} of the {len(done)} audits it checked.")
