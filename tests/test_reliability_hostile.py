"""Hostile input everywhere a user can type or load (issue 8, item 7).

Hypothesis feeds every service a user's text reaches with control characters, NUL,
100,000-character strings, right-to-left text and overrides (U+202E), emoji and astral
characters, markup (<b>, <img src=x>, &amp;, ]]>) and SQL fragments. The property, for each:

* either the call succeeds, ``verify_store`` passes and the text reads back exactly as typed
  (or in its documented cleaned form: ``domain.text.clean_text`` for audits' findings and
  notes, ``domain.text.clean_line`` for reasons and the moderation loop's free text),
* or it raises one of the app's own errors (``SeftonError``) and the store is byte-for-byte
  unchanged (``iterdump`` before and after);
* never any other exception.

Stores are copies of the session's org template (as in tests/test_trail.py), one per example.
Run alone with ``-s`` to see the figures it prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from figures import record_figure
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_qa.domain.errors import SeftonError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import ActionInput, AuditInput, AuditType, Role, SectionGrade
from sefton_qa.services import audits as audit_service
from sefton_qa.services import import_export
from sefton_qa.services import moderation
from sefton_qa.services import organisation as org_service
from sefton_qa.services import sign_in
from sefton_qa.domain.text import clean_line, clean_text
from sefton_qa.services.reports import PackOptions, committee_pack
from sefton_qa.services.session import Session
from sefton_qa.services.spreadsheets import XLSX_MAX_CELL_CHARS, unescape_cell
from sefton_qa.services.verify import verify_store
from sefton_qa.store import loop as loop_store
from sefton_qa.store import open_store
from sefton_qa.store import settings as settings_store
from sefton_qa.store import staff as staff_store

TODAY = dt.date(2026, 11, 24)
FIGURES: dict[str, dict[str, int]] = {}

PIECES = [
    "<b>", "</b>", "<img src=x onerror=alert(1)>", "<br/>", "&amp;", "&", "&lt;", "]]>",
    "<![CDATA[", "<script>", "'; DROP TABLE audits; --", "\" OR 1=1 --", "Robert'); --",
    "\u202e", "\u202d", "\u200f", "\u2066", "مرحبا بالعالم", "שלום עולם", "😀", "👨‍👩‍👧",
    "𝕏𝔸", "\U0010fffd", "\x00", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1b[31m", "\x07",
    "\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "%s%n", "{0}", "\\", "_x0041_",
    "=cmd|' /C calc'!A0", "'=1+1", "+SUM(A1)", "@x", " ", "  ", "LCS-100001",
]
_chars = st.characters(blacklist_categories=("Cs",))
short_hostile = st.lists(st.one_of(st.sampled_from(PIECES), st.text(_chars, max_size=12)),
                         max_size=8).map("".join)


def _huge(piece: str, n: int) -> str:
    return (piece * (n // len(piece) + 1))[:n]


huge = st.builds(_huge, st.sampled_from(PIECES + ["x", "é"]),
                 st.sampled_from([20_000, 20_001, 99_999, 100_000, 100_001]))
hostile = st.one_of(short_hostile, short_hostile, short_hostile, huge)

HYP = dict(deadline=None, database=None,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                  HealthCheck.function_scoped_fixture,
                                  HealthCheck.large_base_example])


def dump(store) -> str:
    return "\n".join(store.conn.iterdump())


def tally(name: str, outcome: str) -> None:
    counts = FIGURES.setdefault(name, {"examples": 0, "accepted": 0, "refused": 0})
    counts["examples"] += 1
    counts[outcome] += 1


def attempt(name: str, store, call, check_accepted) -> None:
    """The property: accepted (store verifies, text reads back) or refused cleanly."""
    before = dump(store)
    try:
        result = call()
    except SeftonError:
        assert dump(store) == before, f"{name}: a refused input changed the store"
        tally(name, "refused")
        return
    report = verify_store(store)
    assert report.ok, f"{name}: {report}"
    check_accepted(result)
    tally(name, "accepted")


@pytest.fixture(scope="module")
def loop_template(org_store_template, tmp_path_factory):
    """The org store plus a moderator, a team manager, no calibration sample, and audits at
    each step of the loop: pending moderation, a due conversation, an open action, a
    submitted audit, a draft."""
    template, ids = org_store_template
    path = tmp_path_factory.mktemp("hostile") / "loop.sqlite3"
    shutil.copy(template, path)
    store = open_store(path)
    admin = sign_in(store, os_user="admin.user", today=lambda: TODAY)
    with store.transaction() as conn:
        settings_store.put(conn, "calibration_rate", 0.0, who=admin.who)
    moderator = org_service.add_staff(admin, "Mo Moderator", os_username="mo.moderator",
                                      roles=[Role.MODERATOR]).record_id
    team_manager = org_service.add_staff(admin, "Tia Teamlead", roles=[],
                                         team_id=ids.team_a1).record_id
    auditor = sign_in(store, os_user="qa.officer", today=lambda: TODAY)

    def as_(staff_id):
        return Session(store=store, actor=staff_store.get(store.conn, staff_id),
                       os_user="pytest", today=lambda: TODAY)

    def submit(ref, grade=Grade.INADEQUATE):
        return audit_service.create_audit(auditor, base_input(ids, ref, grade),
                                          submit=True).record_id

    def pending(audit_id):
        return [m for m in loop_store.moderations_for_audit(store.conn, audit_id)][0].id

    pending_audit = submit("LCS-200001")
    conv_audit = submit("LCS-200002")
    moderation.moderate(as_(moderator), pending(conv_audit), Grade.INADEQUATE)
    action_audit = submit("LCS-200003")
    moderation.moderate(as_(moderator), pending(action_audit), Grade.INADEQUATE)
    (conv2,) = loop_store.conversations_for_audit(store.conn, action_audit)
    moderation.hold_conversation(as_(ids.manager), conv2.id, held_on=TODAY,
                                 participants=["worker"], learning="Visits slipped.",
                                 actions=[ActionInput("See the child alone.", team_manager,
                                                      TODAY + dt.timedelta(days=10))])
    submitted = submit("LCS-200004", Grade.GOOD)
    draft = audit_service.create_audit(auditor, base_input(ids, "LCS-200005")).record_id
    (conv,) = loop_store.conversations_for_audit(store.conn, conv_audit)
    (action,) = loop_store.actions_for_audit(store.conn, action_audit)
    refs = dict(moderator=moderator, team_manager=team_manager,
                moderation=pending(pending_audit), conversation=conv.id, action=action.id,
                submitted=submitted, draft=draft)
    store.close()
    return path, ids, refs


def base_input(ids, ref, grade=Grade.GOOD, **overrides) -> AuditInput:
    values = dict(case_reference=ref, audit_type=AuditType.DEEP_DIVE,
                  audit_date=TODAY - dt.timedelta(days=10), service_area_id=ids.area1,
                  team_id=ids.team_a1, auditor_id=ids.auditor, team_manager_id=None,
                  template_id=ids.template,
                  sections={"voice": SectionGrade(Grade.GOOD, "seen alone")},
                  overall_grade=grade, theme_ids=[ids.themes["Neglect"]], findings="ok")
    values.update(overrides)
    return AuditInput(**values)


class Copy:
    """A fresh copy of a template store for one example."""

    def __init__(self, template: Path):
        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "store.sqlite3"
        shutil.copy(template, path)
        self.store = open_store(path)
        self.folder = Path(self._dir.name)

    def session(self, os_user="admin.user", staff_id=None):
        if staff_id is not None:
            return Session(store=self.store, actor=staff_store.get(self.store.conn, staff_id),
                           os_user="pytest", today=lambda: TODAY)
        return sign_in(self.store, os_user=os_user, today=lambda: TODAY)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.store.close()
        self._dir.cleanup()


# -- audits --------------------------------------------------------------------------------------
@settings(max_examples=60, **HYP)
@given(case_reference=hostile, findings=hostile, notes=hostile, submit=st.booleans(),
       update=st.booleans())
def test_audit_text_is_kept_or_refused_cleanly(loop_template, case_reference, findings, notes,
                                               submit, update):
    path, ids, refs = loop_template
    with Copy(path) as c:
        session = c.session("qa.officer")
        inp = base_input(ids, case_reference, findings=findings,
                         sections={"voice": SectionGrade(Grade.GOOD, notes)})

        def accepted(change):
            audit = audit_service.get_audit(session, change.record_ids[0])
            assert audit.case_reference == (clean_text(case_reference) or None) or (
                audit.case_reference == "" and not clean_text(case_reference))
            assert audit.findings == clean_text(findings)
            assert audit.sections["voice"].notes in (notes, clean_text(notes))

        if update:
            attempt("audits.update_audit", c.store,
                    lambda: audit_service.update_audit(session, refs["draft"], inp), accepted)
        else:
            attempt("audits.create_audit", c.store,
                    lambda: audit_service.create_audit(session, inp, submit=submit), accepted)


@settings(max_examples=30, **HYP)
@given(reason=hostile)
def test_withdraw_reason(loop_template, reason):
    path, ids, refs = loop_template
    with Copy(path) as c:
        session = c.session("qa.officer")

        def accepted(_change):
            audit = audit_service.get_audit(session, refs["submitted"])
            assert audit.status.value == "withdrawn"
            row = c.store.conn.execute(
                "SELECT reason FROM trail WHERE table_name='audits' AND record_id=? "
                "AND kind='withdraw'", (refs["submitted"],)).fetchone()
            assert row[0] == clean_line(reason)

        attempt("audits.withdraw_audit", c.store,
                lambda: audit_service.withdraw_audit(session, refs["submitted"], reason),
                accepted)


# -- organisation ----------------------------------------------------------------------------------
@settings(max_examples=60, **HYP)
@given(kind=st.sampled_from(["service_area", "team", "staff", "theme"]), name=hostile)
def test_organisation_names(loop_template, kind, name):
    path, ids, refs = loop_template
    with Copy(path) as c:
        admin = c.session()
        add, listing, attr = {
            "service_area": (lambda: org_service.add_service_area(admin, name),
                             org_service.service_areas, "name"),
            "team": (lambda: org_service.add_team(admin, name, ids.area1),
                     org_service.teams, "name"),
            "staff": (lambda: org_service.add_staff(admin, name), org_service.staff,
                      "display_name"),
            "theme": (lambda: org_service.add_theme(admin, name), org_service.themes, "name"),
        }[kind]

        def accepted(change):
            (record,) = [r for r in listing(admin) if r.id == change.record_ids[0]]
            assert getattr(record, attr) == name

        attempt(f"organisation.add_{kind}", c.store, add, accepted)


# -- the moderation loop ---------------------------------------------------------------------------
@settings(max_examples=40, **HYP)
@given(reason=hostile, comment=hostile, grade=st.sampled_from([Grade.INADEQUATE, Grade.GOOD]))
def test_moderation_reason_and_comments(loop_template, reason, comment, grade):
    path, ids, refs = loop_template
    with Copy(path) as c:
        mod = c.session(staff_id=refs["moderator"])

        def accepted(_change):
            m = loop_store.get_moderation(c.store.conn, refs["moderation"])
            assert (m.reason or "") == clean_line(reason)
            assert m.section_comments == ({"voice": clean_line(comment)} if clean_line(comment)
                                          else {})

        attempt("moderation.moderate", c.store,
                lambda: moderation.moderate(mod, refs["moderation"], grade, reason=reason,
                                            section_comments={"voice": comment}), accepted)


@settings(max_examples=40, **HYP)
@given(learning=hostile, description=hostile)
def test_conversation_learning_and_actions(loop_template, learning, description):
    path, ids, refs = loop_template
    with Copy(path) as c:
        sm = c.session(staff_id=ids.manager)
        action = ActionInput(description, refs["team_manager"], TODAY + dt.timedelta(days=5))

        def accepted(_change):
            conv = loop_store.get_conversation(c.store.conn, refs["conversation"])
            assert conv.learning == clean_line(learning)
            actions = [a for a in loop_store.actions_for_audit(c.store.conn, conv.audit_id)]
            assert [a.description for a in actions] == [clean_line(description)]

        attempt("moderation.hold_conversation", c.store,
                lambda: moderation.hold_conversation(sm, refs["conversation"], held_on=TODAY,
                                                     participants=["worker"], learning=learning,
                                                     actions=[action]), accepted)


@settings(max_examples=30, **HYP)
@given(evidence=hostile)
def test_complete_action_evidence(loop_template, evidence):
    path, ids, refs = loop_template
    with Copy(path) as c:
        owner = c.session(staff_id=refs["team_manager"])

        def accepted(_change):
            action = loop_store.get_action(c.store.conn, refs["action"])
            assert action.evidence == clean_line(evidence)

        attempt("moderation.complete_action", c.store,
                lambda: moderation.complete_action(owner, refs["action"], evidence), accepted)



# -- the importer ----------------------------------------------------------------------------------
HEADERS = ["case_reference", "audit_date", "service_area", "team", "auditor", "grade",
           "findings"]


def _xlsx_safe(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def write_sheet(path: Path, cells: list[str]) -> Path:
    if path.suffix == ".xlsx":
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(HEADERS)
        sheet.append(cells)
        workbook.save(path)
    else:
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HEADERS)
            writer.writerow(cells)
    return path


def either(good: str):
    """Mostly the good value (so most files get as far as their findings), else hostile."""
    return st.integers(0, 9).flatmap(
        lambda n: st.just(good) if n < 7 else hostile.map(lambda t: t[:200]) if n < 9
        else hostile)


@settings(max_examples=60, **HYP)
@given(suffix=st.sampled_from([".csv", ".xlsx"]), case_reference=either("LCS-300001"),
       area=either("Child Protection"), team=either("CP Team 1"), auditor=either("Alex Auditor"),
       grade=either("Good"), findings=hostile, create_missing=st.booleans())
def test_import_of_hostile_cells(loop_template, suffix, case_reference, area, team, auditor,
                                 grade, findings, create_missing):
    path, ids, refs = loop_template
    cells = [case_reference, "01/11/2026", area, team, auditor, grade, findings]
    if suffix == ".xlsx":
        # What the file can hold: openpyxl refuses some control characters, and writes at
        # most Excel's 32,767 characters a cell (it cuts longer text itself).
        cells = [_xlsx_safe(v)[:XLSX_MAX_CELL_CHARS] for v in cells]
    with Copy(path) as c:
        session = c.session()
        sheet = write_sheet(c.folder / f"hostile{suffix}", cells)
        before = dump(c.store)
        name = f"import_export.import_audits ({suffix[1:].upper()})"
        try:
            report = import_export.import_audits(session, sheet, create_missing=create_missing)
        except SeftonError:
            assert dump(c.store) == before, f"{name}: a refused file changed the store"
            tally(name, "refused")
            return
        if not report.ok:
            assert dump(c.store) == before, f"{name}: a file with problems changed the store"
            tally(name, "refused")
            return
        assert verify_store(c.store).ok
        assert report.added == 1
        (stored,) = c.store.conn.execute(
            "SELECT findings FROM audits WHERE id = (SELECT max(id) FROM audits)").fetchone()
        if suffix == ".csv":
            typed = unescape_cell(cells[-1])  # (the app's own apostrophe before a formula)
        else:
            # openpyxl writes a carriage return raw into the XML, and XML parsers (openpyxl's
            # own reader too) read a raw CR or CRLF as LF: that is what the file holds.
            typed = cells[-1].replace("\r\n", "\n").replace("\r", "\n")
            # openpyxl also writes a literal "_x0041_" unescaped, and OOXML (so Excel, and the
            # app) reads _xHHHH_ as the character U+HHHH: "A".
            typed = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), typed)
        assert stored == clean_text(typed)
        tally(name, "accepted")


# -- the committee pack ----------------------------------------------------------------------------
MARKUP_ARTEFACTS = ("&lt;", "&gt;", "&amp;", "&#", "<br/>", "<para", "</font>")


@settings(max_examples=10, **HYP)
@given(findings=st.lists(st.one_of(short_hostile, huge.map(lambda t: t[:100_000])),
                         min_size=1, max_size=4))
def test_committee_pack_over_hostile_findings(loop_template, findings):
    """The internal pack with its appendix of audits, over hostile findings: built or refused
    cleanly, never obeying markup (the appendix lists the cases; since issue 16 it prints no
    free text about a child, so the findings themselves are not in it; names and themes are
    printed as typed: test_reports.test_hostile_text_is_escaped)."""
    from pypdf import PdfReader

    path, ids, refs = loop_template
    with Copy(path) as c:
        officer = c.session("qa.officer")
        for n, text in enumerate(findings):
            audit_service.create_audit(officer, base_input(
                ids, f"LCS-4000{n:02d}", findings=text, sections={
                    "voice": SectionGrade(Grade.GOOD, text[:500])}), submit=True)
        admin = c.session()
        out = c.folder / "pack.pdf"
        before = dump(c.store)
        try:
            result = committee_pack(admin, dt.date(2026, 11, 1), TODAY, out,
                                    options=PackOptions(appendix=True))
        except SeftonError:
            assert dump(c.store) == before, "a refused pack changed the store"
            assert not out.exists() and not list(c.folder.glob("*.partial"))
            tally("reports.committee_pack", "refused")
            return
        assert verify_store(c.store).ok
        assert result.audits >= len(findings)
        text = "\n".join(page.extract_text() for page in PdfReader(str(result.path)).pages)
        printed = re.sub(r"\s", "", text)  # (a long word may wrap anywhere in its cell)
        typed = re.sub(r"\s", "", "".join(findings))
        for artefact in MARKUP_ARTEFACTS:
            if artefact not in typed:
                assert artefact not in printed, f"unescaped markup in the pack: {artefact!r}"
        tally("reports.committee_pack", "accepted")


@pytest.fixture(scope="module", autouse=True)
def print_figures():
    yield
    for name, counts in sorted(FIGURES.items()):
        record_figure("hostile input", f"{name}: {counts['examples']} examples, "
                                       f"{counts['accepted']} accepted, {counts['refused']} "
                                       "refused cleanly, 0 unexpected exceptions",
                      test="tests/test_reliability_hostile.py (its properties together)")
