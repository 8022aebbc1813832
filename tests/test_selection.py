"""How each audited case was chosen (``audits.selection``, schema step 0008): recorded with
every audit on both engines, defaulted per audit type from a setting, kept through edits,
undo, import, export and verify's replay, and refused when it is not one of the four."""

from __future__ import annotations

import pytest

from sefton_qa.domain.errors import PermissionDenied, ValidationError
from sefton_qa.domain.models import AuditType, Selection
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation
from sefton_qa.services.import_export import export_audits, import_audits
from sefton_qa.services.verify import verify_store
from sefton_qa.store import trail

from import_helpers import csv_rows, row, write_rows
from test_import_export import fresh  # noqa: F401 (a fixture: a second, empty store)


def selection_of(store, audit_id: int) -> str:
    return store.conn.execute("SELECT selection FROM audits WHERE id = ?",
                              (audit_id,)).fetchone()[0]


def test_a_new_audit_takes_the_default_for_its_type(admin, store, make_input):
    deep = audit_service.create_audit(admin, make_input()).record_id
    assert audit_service.get_audit(admin, deep).selection is Selection.CHOSEN
    organisation.set_selection_default(admin, AuditType.DIP_SAMPLE, Selection.RANDOM_DRAW)
    dip = audit_service.create_audit(
        admin, make_input(case_reference="LCS-100002", audit_type=AuditType.DIP_SAMPLE))
    assert selection_of(store, dip.record_id) == "random_draw"
    # the other types keep theirs
    deep2 = audit_service.create_audit(admin, make_input(case_reference="LCS-100003"))
    assert selection_of(store, deep2.record_id) == "chosen"
    assert verify_store(store).ok


def test_said_selection_wins_and_an_edit_keeps_it_unless_changed(admin, store, make_input):
    made = audit_service.create_audit(admin, make_input(selection=Selection.REFERRED),
                                      submit=True).record_id
    audit = audit_service.get_audit(admin, made)
    assert audit.selection is Selection.REFERRED
    # an edit whose input does not say (an older caller) keeps what the audit has
    inp = audit.to_input()
    inp.selection = None
    inp.findings = "Chronology missing."
    audit_service.update_audit(admin, made, inp, reason="typo")
    assert selection_of(store, made) == "referred"
    inp = audit_service.get_audit(admin, made).to_input()
    inp.selection = Selection.RANDOM_DRAW
    audit_service.update_audit(admin, made, inp, reason="it was drawn after all")
    assert selection_of(store, made) == "random_draw"
    assert trail.entries_for(store.conn, "audits", made)[-1].changes["selection"] == \
        ["referred", "random_draw"]
    audit_service.undo_last_change(admin, made)
    assert selection_of(store, made) == "referred"
    assert verify_store(store).ok


def test_anything_else_is_refused(admin, make_input):
    with pytest.raises(ValidationError) as caught:
        audit_service.create_audit(admin, make_input(selection="lottery"))
    assert any(p.field == "selection" for p in caught.value.problems)
    with pytest.raises(ValidationError):
        organisation.set_selection_default(admin, AuditType.DEEP_DIVE, "lottery")


def test_the_store_refuses_a_value_outside_the_four(admin, store, make_input, raw_sql):
    made = audit_service.create_audit(admin, make_input()).record_id
    with pytest.raises(Exception, match="(?i)check"):
        raw_sql(store.location, f"UPDATE audits SET selection = 'lottery' WHERE id = {made}")
    assert selection_of(store, made) == "chosen"


def test_only_administrators_set_the_default(auditor):
    with pytest.raises(PermissionDenied):
        organisation.set_selection_default(auditor, AuditType.DEEP_DIVE, Selection.RANDOM_DRAW)


def test_a_default_set_is_trailed_and_an_unchanged_one_writes_nothing(admin, store):
    before = trail.head(store.conn)[0]
    organisation.set_selection_default(admin, AuditType.DEEP_DIVE, Selection.CHOSEN)
    assert trail.head(store.conn)[0] == before  # already the default: nothing written
    organisation.set_selection_default(admin, AuditType.DEEP_DIVE, Selection.REFERRED)
    assert trail.head(store.conn)[0] == before + 1
    assert audit_service.selection_defaults(store.conn)[AuditType.DEEP_DIVE] is \
        Selection.REFERRED


def test_a_changed_selection_outside_the_app_is_caught(admin, store, make_input, raw_sql):
    made = audit_service.create_audit(admin, make_input()).record_id
    raw_sql(store.location, f"UPDATE audits SET selection = 'random_draw' WHERE id = {made}")
    report = verify_store(store)
    assert not report.ok
    assert "selection" in " ".join(report.lines())


def test_import_reads_the_column_and_history_without_it_is_not_recorded(admin, org, store,
                                                                         tmp_path):
    rows = [row(1, selection="Random draw"), row(2, selection="referred"), row(3)]
    report = import_audits(admin, write_rows(tmp_path / "in.csv", rows))
    assert report.ok and report.added == 3
    got = dict(store.conn.execute("SELECT case_reference, selection FROM audits"))
    assert got == {"LCS-100001": "random_draw", "LCS-100002": "referred",
                   "LCS-100003": "unknown"}
    assert verify_store(store).ok


def test_import_refuses_an_unknown_way_of_choosing(admin, org, store, tmp_path):
    rows = [row(1), row(2, selection="picked from a hat")]
    report = import_audits(admin, write_rows(tmp_path / "in.csv", rows))
    assert not report.ok and report.added == 0
    assert any("row 3" in p and "selection" in p for p in report.problems), report.problems
    assert store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_and_reimport_keep_the_selection(admin, org, store, make_input, fresh, tmp_path,
                                                suffix):
    for n, how in enumerate(Selection, start=1):
        audit_service.create_audit(admin, make_input(case_reference=f"LCS-20000{n}",
                                                     selection=how), submit=True)
    path = tmp_path / f"out{suffix}"
    export_audits(admin, path)
    empty = fresh(f"fresh{suffix}")
    report = import_audits(empty, path, create_missing=True)
    assert report.ok, report.problems
    again = sorted(empty.store.conn.execute("SELECT case_reference, selection FROM audits"))
    assert again == sorted(store.conn.execute("SELECT case_reference, selection FROM audits"))
    assert {s for _r, s in again} == {s.value for s in Selection}
    if suffix == ".csv":
        assert csv_rows(path)[0][-1] == "selection"


# -- what the committee pack says ----------------------------------------------------------------
def pack_sentences(session, *, public: bool) -> list[str]:
    import datetime as dt

    from sefton_qa.reports import text
    from sefton_qa.reports.numbers import Numbers
    from sefton_qa.services.reports import PackOptions, gather

    today = session.today()
    figures = gather(session, today - dt.timedelta(days=60), today, PackOptions(public=public))
    return text.summary(figures, Numbers.build(figures, public=public))


def log(session, make_input, how: Selection | None, n: int, start: int = 1) -> None:
    for i in range(start, start + n):
        audit_service.create_audit(session, make_input(case_reference=f"LCS-3{i:05d}",
                                                       selection=how), submit=True)


def test_the_pack_says_how_many_of_each_and_what_the_intervals_describe(admin, make_input):
    from sefton_qa.reports import text

    log(admin, make_input, Selection.CHOSEN, 3)
    log(admin, make_input, Selection.REFERRED, 1, start=10)
    log(admin, make_input, Selection.RANDOM_DRAW, 2, start=20)
    said = pack_sentences(admin, public=False)
    assert ("Of the 6 audited cases, 3 were chosen by the QA team, 1 was referred for audit "
            "and 2 were drawn at random: not every case was drawn at random, "
            + text.NOT_ALL_DRAWN) in said
    assert text.SELECTION_SENTENCE not in said and text.ALL_DRAWN_SENTENCE not in said
    # the public pack names the ways used, with no counts
    public = [s for s in pack_sentences(admin, public=True) if "drawn at random" in s]
    assert public == ["Not every audited case was drawn at random: some were chosen by the QA "
                      "team or referred for audit, " + text.NOT_ALL_DRAWN]


def test_a_pack_of_random_draws_says_so_and_one_of_unknowns_says_it_is_not_recorded(
        admin, make_input, store):
    from sefton_qa.reports import text

    log(admin, make_input, Selection.RANDOM_DRAW, 5)  # (a public pack shows 5 or more)
    assert text.ALL_DRAWN_SENTENCE in pack_sentences(admin, public=False)
    assert text.ALL_DRAWN_SENTENCE in pack_sentences(admin, public=True)
    for audit in (r[0] for r in store.conn.execute("SELECT id FROM audits")):
        inp = audit_service.get_audit(admin, audit).to_input()
        inp.selection = Selection.UNKNOWN
        audit_service.update_audit(admin, audit, inp, reason="not known after all")
    said = pack_sentences(admin, public=False)
    assert text.SELECTION_SENTENCE in said and text.ALL_DRAWN_SENTENCE not in said


def test_a_pack_where_no_case_was_drawn_says_none_was(admin, make_input):
    from sefton_qa.reports import text

    log(admin, make_input, None, 5)  # the store's default for deep dives: chosen
    assert ("Of the 5 audited cases, 5 were chosen by the QA team: none was drawn at random, "
            + text.NOT_ALL_DRAWN) in pack_sentences(admin, public=False)
    assert ("None of the audited cases was drawn at random: they were chosen by the QA team, "
            + text.NOT_ALL_DRAWN) in pack_sentences(admin, public=True)
