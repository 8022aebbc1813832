"""The Case selection page (issue 19), driven by the keyboard as an administrator would: import a
caseload, plan a quarter, preview and draw, use a reserve, export the allocation list, discard a
draw and draw again; a service manager reads it; a problem is said beside the controls and
writes nothing. Each test runs on both engines (the demo store has this quarter's plan drawn
and allocated)."""

from __future__ import annotations

import csv
import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from sefton_qa.domain.models import Role
from sefton_qa.domain.sampling import Quota
from sefton_qa.gui.loop.selection import (
    READ_ONLY_WHY,
    CaseloadImportDialog,
    CaseSelectionPage,
    NewPlanDialog,
)
from sefton_qa.services import caseload as caseload_service
from sefton_qa.services import organisation as org
from sefton_qa.services import plans as plan_service
from sefton_qa.services import sign_in
from sefton_qa.services.spreadsheets import write_csv

TODAY = dt.date(2026, 11, 24)  # as tests/gui/conftest.py
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def _key(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    for _ in range(times):
        target = QApplication.focusWidget() or QApplication.activeWindow()
        assert target is not None, "the keyboard is nowhere"
        qtbot.keyClick(target, key, modifier)


def _type(qtbot, text: str) -> None:
    qtbot.keyClicks(QApplication.focusWidget(), text)


def _active(qtbot, window) -> None:
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def _dialog(qtbot, page, cls=None):
    """The dialog the page just opened, shown and active (as the desktop makes it)."""
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible())
    dialog = page.dialog
    if cls is not None:
        assert isinstance(dialog, cls)
    _active(qtbot, dialog)
    return dialog


def _page(qtbot, window) -> CaseSelectionPage:
    number = next(n for n, (title, _p) in enumerate(window.pages, start=1)
                  if title == "Case selection")
    _key(qtbot, Qt.Key(Qt.Key.Key_0 + number), CTRL)  # View → Case selection (Ctrl+9)
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), CaseSelectionPage))
    page = window.stack.currentWidget()
    _active(qtbot, window)
    return page


def _staff(session):
    return {s.id: s for s in org.staff(session)}


NEW_TEAM = "Edge of Care Team"


def _caseload_file(session, path) -> tuple[int, int]:
    """Today's caseload less three cases, plus two new ones in a team the store does not know
    yet (in a new service area): the file, (opened, closed)."""
    cases = caseload_service.snapshot_cases(session)
    kept = cases[3:]
    rows = [[c.case_reference, c.team, "", c.case_type, (c.opened_on or TODAY).isoformat()]
            for c in kept]
    rows += [[f"LCS-99900{n}", NEW_TEAM, "Edge of Care", "Child in need", "2026-11-01"]
             for n in (1, 2)]
    write_csv(path, ["Case reference", "Team", "Service area", "Case type", "Open date"], rows)
    return 2, 3


# -- importing the caseload ----------------------------------------------------------------------
def test_import_a_caseload_through_the_dialog(qtbot, demo_session, main_window, tmp_path):
    window = main_window(demo_session)
    page = _page(qtbot, window)
    before = len(caseload_service.list_snapshots(demo_session))
    assert "Latest snapshot: taken on 24/11/2026" in page.caseload_label.text()

    # a file with a personal-data column is refused: the problem listed, Import never offered
    bad = tmp_path / "bad.csv"
    write_csv(bad, ["Case reference", "Team", "Case type", "Open date", "Child name"],
              [["LCS-999111", "Nowhere", "CIN", "2026-01-01", "A child"]])
    _key(qtbot, Qt.Key.Key_C, ALT)  # Import &caseload…
    dialog = _dialog(qtbot, page, CaseloadImportDialog)
    assert QApplication.focusWidget() is dialog.path_edit
    _type(qtbot, str(bad))
    _key(qtbot, Qt.Key.Key_Return)  # the default button: Check the file
    qtbot.waitUntil(lambda: "nothing was imported" in dialog.report_box.toPlainText())
    assert not dialog.import_button.isEnabled()
    assert dialog.message.isVisible() and "problems" in dialog.message.text()

    # the real file: checked (a dry run), then imported
    good = tmp_path / "caseload.csv"
    opened, closed = _caseload_file(demo_session, good)
    _key(qtbot, Qt.Key.Key_F, ALT)  # &File:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.path_edit)
    _key(qtbot, Qt.Key.Key_A, CTRL)
    _type(qtbot, str(good))
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "tick Create missing teams" in dialog.report_box.toPlainText())
    assert not dialog.import_button.isEnabled()
    _key(qtbot, Qt.Key.Key_M, ALT)  # Create &missing teams
    qtbot.waitUntil(dialog.create_missing.isChecked)
    _key(qtbot, Qt.Key.Key_Return)  # Check the file again
    qtbot.waitUntil(lambda: "Dry run" in dialog.report_box.toPlainText())
    assert f"Would create teams: {NEW_TEAM}" in dialog.report_box.toPlainText()
    assert len(caseload_service.list_snapshots(demo_session)) == before  # nothing written
    qtbot.waitUntil(dialog.import_button.isEnabled)
    _key(qtbot, Qt.Key.Key_I, ALT)  # &Import
    qtbot.waitUntil(lambda: "Imported a snapshot" in dialog.report_box.toPlainText())
    assert len(caseload_service.list_snapshots(demo_session)) == before + 1
    _key(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.dialog is None)
    text = page.caseload_label.text()
    assert f"{opened} opened, {closed} closed" in text and "from caseload.csv" in text
    assert "Imported a caseload snapshot" in page.done_label.text()
    assert any(t.name == NEW_TEAM for t in org.teams(demo_session))
    window.close()


# -- plan, draw, allocate, reserve, export, discard, draw again ------------------------------------
def test_plan_a_quarter_draw_allocate_and_redraw_by_keyboard(qtbot, demo_session, main_window,
                                                             tmp_path, monkeypatch):
    window = main_window(demo_session)
    page = _page(qtbot, window)
    plans_before = {p.id for p in plan_service.list_plans(demo_session)}

    # a plan for next quarter (the demo has planned this one), two deep dives and one dip
    # sample per team, cases audited in the 3 months before left out
    _key(qtbot, Qt.Key.Key_N, ALT)  # &New plan…
    dialog = _dialog(qtbot, page, NewPlanDialog)
    _key(qtbot, Qt.Key.Key_Q, ALT)  # A &quarter:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.quarter_radio)
    _key(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.quarter_combo
    assert dialog.quarter_combo.currentText().startswith("2026 Q4")  # today's, by default
    _key(qtbot, Qt.Key.Key_Down)
    assert dialog.quarter_combo.currentText().startswith("2027 Q1")
    _key(qtbot, Qt.Key.Key_L, ALT)  # Months to &leave out:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.exclude)
    _key(qtbot, Qt.Key.Key_A, CTRL)
    _type(qtbot, "3")
    assert dialog.exclude.value() == 3
    assert not dialog.create_button.isEnabled()  # previewed first
    _key(qtbot, Qt.Key.Key_Return)  # Preview (the default)
    qtbot.waitUntil(lambda: "The plan (not saved)" in dialog.preview_box.toPlainText())
    qtbot.waitUntil(dialog.create_button.isEnabled)
    _key(qtbot, Qt.Key.Key_Return)  # Create plan (the default now)
    qtbot.waitUntil(lambda: page.dialog is None)
    [plan_id] = {p.id for p in plan_service.list_plans(demo_session)} - plans_before
    plan = plan_service.get_plan(demo_session, plan_id)
    assert (plan.period_start, plan.period_end) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    assert plan.exclude_months == 3 and plan.quota_rule == "per_stratum"
    assert {(q.deep_dives, q.dip_samples) for q in plan.quotas} == {(2, 1)}
    assert page.selected_plan().id == plan_id
    assert "Plan made for 2027 Q1" in page.done_label.text()
    _active(qtbot, window)

    # preview the draw, then draw and allocate
    _key(qtbot, Qt.Key.Key_W, ALT)  # Previe&w draw
    qtbot.waitUntil(lambda: f"Plan {plan_id}:" in page.details.toPlainText())
    assert "nothing was drawn" in page.done_label.text()
    assert plan_service.kept_draw(demo_session, plan_id) is None
    _key(qtbot, Qt.Key.Key_D, ALT)  # &Draw now…
    box = _dialog(qtbot, page)
    assert box.objectName() == "confirmDraw"
    assert "discarded with a reason" in box.text()
    _key(qtbot, Qt.Key.Key_Return)  # Draw and allocate (the default)
    qtbot.waitUntil(lambda: plan_service.kept_draw(demo_session, plan_id) is not None)
    _active(qtbot, window)
    qtbot.waitUntil(lambda: "allocated to" in page.done_label.text())
    first = plan_service.kept_draw(demo_session, plan_id)
    assert f"Draw {first.id}: {first.sample_size} cases drawn at random" in \
        page.done_label.text()

    # the allocation list: the draw's cases, none with an auditor of the case's own team
    allocations = plan_service.allocations(demo_session, draw_id=first.id)
    sampled = [c.case_reference for c in plan_service.drawn_cases(demo_session, first.id)
               if not c.is_reserve]
    shown = [r.values[0] for r in page.allocation_model.rows]
    assert sorted(shown) == sorted(sampled) == sorted(a.case_reference for a in allocations)
    staff = _staff(demo_session)
    for a in allocations:
        assert a.auditor_id is not None
        assert staff[a.auditor_id].team_id != a.team_id
        assert a.auditor_id != a.team_manager_id
    assert {r.values[5] for r in page.allocation_model.rows} == {"To do"}
    assert sum(r.values[1] for r in page.progress_model.rows) == len(allocations)

    # use a reserve for the first case, with a reason
    _key(qtbot, Qt.Key.Key_O, ALT)  # All&ocations:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.allocation_table)
    _key(qtbot, Qt.Key.Key_Down)
    chosen = page.selected_allocation()
    assert chosen is not None
    qtbot.waitUntil(page.reserve_button.isEnabled)
    _key(qtbot, Qt.Key.Key_U, ALT)  # &Use reserve…
    dialog = _dialog(qtbot, page)
    assert not dialog.ok_button.isEnabled()
    _type(qtbot, "The case closed before it was audited.")
    _key(qtbot, Qt.Key.Key_U, ALT)  # &Use the reserve
    qtbot.waitUntil(lambda: page.dialog is None)
    _active(qtbot, window)
    qtbot.waitUntil(lambda: f"{chosen.case_reference} was replaced" in page.done_label.text())
    now = plan_service.allocations(demo_session, draw_id=first.id, current_only=False)
    replaced = next(a for a in now if a.id == chosen.id)
    reserve = next(a for a in now if a.replaces_id == chosen.id)
    assert replaced.status == "replaced" and reserve.is_reserve
    assert reserve.reserve_reason == "The case closed before it was audited."
    rows = {r.values[0]: r.values for r in page.allocation_model.rows}
    assert rows[chosen.case_reference][5] == "Replaced"
    assert rows[reserve.case_reference][6] == "The case closed before it was audited."
    assert staff[reserve.auditor_id].team_id != reserve.team_id

    # export the allocation list to CSV and read it back
    target = tmp_path / "allocations.csv"
    monkeypatch.setattr("sefton_qa.gui.loop.selection.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), "CSV (*.csv)"))
    _key(qtbot, Qt.Key.Key_X, ALT)  # E&xport allocations…
    qtbot.waitUntil(target.exists)
    qtbot.waitUntil(lambda: "Exported" in page.done_label.text())
    with open(target, newline="", encoding="utf-8-sig") as f:
        exported = list(csv.DictReader(f))
    current = plan_service.allocations(demo_session, draw_id=first.id)
    assert sorted(r["Case reference"] for r in exported) == \
        sorted(a.case_reference for a in current)
    row = next(r for r in exported if r["Case reference"] == reserve.case_reference)
    assert row["Reserve for"] == chosen.case_reference
    assert row["Why a reserve"] == "The case closed before it was audited."

    # discard the draw with a reason, then draw again
    _key(qtbot, Qt.Key.Key_A, ALT)  # Disc&ard draw…
    dialog = _dialog(qtbot, page)
    assert any("including discarded ones, is kept on record" in label.text()
               for label in dialog.findChildren(QLabel))
    _type(qtbot, "Drawn before the caseload was refreshed.")
    _key(qtbot, Qt.Key.Key_D, ALT)  # &Discard the draw
    qtbot.waitUntil(lambda: page.dialog is None)
    _active(qtbot, window)
    qtbot.waitUntil(lambda: plan_service.kept_draw(demo_session, plan_id) is None)
    qtbot.waitUntil(lambda: "stays on record" in page.done_label.text())
    [gone] = plan_service.list_draws(demo_session, plan_id=plan_id)
    assert gone.status == "discarded"
    assert gone.discard_reason == "Drawn before the caseload was refreshed."
    assert page.allocation_model.rows == []
    assert "1 earlier draw discarded" in page.draw_label.text()

    qtbot.waitUntil(page.draw_button.isEnabled)
    _key(qtbot, Qt.Key.Key_D, ALT)  # &Draw now…
    _dialog(qtbot, page)
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: plan_service.kept_draw(demo_session, plan_id) is not None)
    second = plan_service.kept_draw(demo_session, plan_id)
    assert second.id != first.id
    _active(qtbot, window)
    qtbot.waitUntil(lambda: len(page.allocation_model.rows) == second.sample_size)
    assert f"draw {second.id}" in page.draw_label.text()
    assert "1 earlier draw discarded (kept on record)" in page.draw_label.text()

    # every recorded draw, the discarded one too, recomputed
    _key(qtbot, Qt.Key.Key_K, ALT)  # Chec&k draws
    qtbot.waitUntil(lambda: f"draw {second.id} (plan {plan_id}, kept)" in
                    page.details.toPlainText())
    details = page.details.toPlainText()
    assert f"draw {first.id} (plan {plan_id}, discarded)" in details
    assert "FAIL" not in details
    assert "each case is the one the method gives" in page.done_label.text()
    window.close()


def test_every_control_of_the_page_is_reached_by_tab(qtbot, demo_session, main_window):
    window = main_window(demo_session)
    page = _page(qtbot, window)
    page.allocation_table.selectRow(0)  # Use reserve is enabled for an allocated case
    _key(qtbot, Qt.Key.Key_P, ALT)  # &Plans
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.plan_table)
    seen = []
    for _ in range(40):
        _key(qtbot, Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    wanted = [page.import_button, page.plan_table, page.new_plan_button, page.preview_button,
              page.discard_button, page.check_button, page.details, page.progress_table,
              page.allocation_table, page.reserve_button, page.export_button]
    assert [w for w in wanted if w not in seen] == [], \
        " ".join(w.objectName() or type(w).__name__ for w in seen)
    assert all(w.accessibleName() for w in wanted)
    window.close()


def test_the_page_refreshes_when_a_change_it_shows_is_made(qtbot, demo_session, main_window):
    """The window's app-wide change signal: a plan made through the operations path (as
    another page or dialog would) appears without pressing F5."""
    from sefton_qa.gui import operations

    window = main_window(demo_session)
    page = _page(qtbot, window)
    before = len(page.plan_model.rows)
    change = operations.call(demo_session, lambda s: plan_service.create_plan(
        s, dt.date(2027, 1, 1), dt.date(2027, 3, 31), total=Quota(10, 5)))
    qtbot.waitUntil(lambda: len(page.plan_model.rows) == before + 1)
    assert page.plan_model.row_of(change.record_ids[0]) is not None
    window.close()


# -- a service manager reads -----------------------------------------------------------------------
def test_a_service_manager_sees_the_page_read_only(qtbot, demo_session, main_window):
    manager = sign_in(demo_session.store, os_user="demo.sm1", today=lambda: TODAY)
    assert manager.actor.has_role(Role.SERVICE_MANAGER)
    assert not manager.actor.has_role(Role.ADMINISTRATOR)
    window = main_window(manager)
    page = _page(qtbot, window)
    assert page.why_label.text() == READ_ONLY_WHY and page.why_label.isVisible()
    for button in (page.import_button, page.new_plan_button, page.cancel_plan_button,
                   page.preview_button, page.draw_button, page.discard_button,
                   page.reserve_button):
        assert not button.isEnabled(), button.text()
    assert page.check_button.isEnabled() and page.export_button.isEnabled()
    # the demo's plan for this quarter, drawn and allocated, is shown
    plan = page.selected_plan()
    assert (plan.period_start, plan.period_end) == (dt.date(2026, 10, 1),
                                                    dt.date(2026, 12, 31))
    assert page.allocation_model.rows and page.progress_model.rows
    _key(qtbot, Qt.Key.Key_O, ALT)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.allocation_table)
    _key(qtbot, Qt.Key.Key_Down)
    assert page.selected_allocation() is not None and not page.reserve_button.isEnabled()
    _key(qtbot, Qt.Key.Key_N, ALT)  # New plan is disabled: nothing opens
    qtbot.wait(250)
    assert page.dialog is None
    _key(qtbot, Qt.Key.Key_K, ALT)  # a service manager may check the draws
    qtbot.waitUntil(lambda: "kept)" in page.details.toPlainText())
    window.close()


def test_cancel_a_plan_with_a_reason(qtbot, demo_session, main_window):
    change = plan_service.create_plan(demo_session, dt.date(2027, 4, 1), dt.date(2027, 6, 30),
                                      per_stratum=Quota(1, 0))
    plan_id = change.record_ids[0]
    window = main_window(demo_session)
    page = _page(qtbot, window)
    _key(qtbot, Qt.Key.Key_P, ALT)  # &Plans
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.plan_table)
    _key(qtbot, Qt.Key.Key_Home, CTRL)
    for _ in range(len(page.plan_model.rows)):
        if page.selected_plan().id == plan_id:
            break
        _key(qtbot, Qt.Key.Key_Down)
    assert page.selected_plan().id == plan_id
    qtbot.waitUntil(page.cancel_plan_button.isEnabled)
    _key(qtbot, Qt.Key.Key_L, ALT)  # Cancel p&lan…
    _dialog(qtbot, page)
    _type(qtbot, "Planned by mistake: the quarter is planned in March.")
    _key(qtbot, Qt.Key.Key_P, ALT)  # Cancel the &plan
    qtbot.waitUntil(lambda: plan_service.get_plan(demo_session, plan_id).status == "cancelled")
    _active(qtbot, window)
    qtbot.waitUntil(lambda: "was cancelled" in page.done_label.text())
    row = page.plan_model.rows[page.plan_model.row_of(plan_id)]
    assert row.values[4] == "Cancelled"
    assert not page.draw_button.isEnabled() and not page.cancel_plan_button.isEnabled()
    window.close()


def test_a_qa_officer_is_told_the_page_is_not_theirs(qtbot, demo_session, main_window):
    officer = next(s for s in org.staff(demo_session)
                   if s.has_role(Role.QA_OFFICER) and not s.has_role(Role.ADMINISTRATOR)
                   and not s.has_role(Role.SERVICE_MANAGER) and s.os_username)
    window = main_window(sign_in(demo_session.store, os_user=officer.os_username,
                                 today=lambda: TODAY))
    page = _page(qtbot, window)
    assert "for administrators and service managers" in page.why_label.text()
    assert page.plan_model.rows == [] and page.allocation_model.rows == []
    assert not any(b.isEnabled() for b in (page.import_button, page.new_plan_button,
                                           page.draw_button, page.export_button))
    window.close()


# -- a problem is said beside the controls and writes nothing -------------------------------------
def test_a_plan_that_cannot_be_made_says_why_and_writes_nothing(qtbot, demo_session,
                                                               main_window):
    window = main_window(demo_session)
    page = _page(qtbot, window)
    before = [(p.id, p.status) for p in plan_service.list_plans(demo_session)]

    _key(qtbot, Qt.Key.Key_N, ALT)
    dialog = _dialog(qtbot, page, NewPlanDialog)
    # no quotas at all
    _key(qtbot, Qt.Key.Key_V, ALT)  # Deep di&ves:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.deep)
    _key(qtbot, Qt.Key.Key_A, CTRL)
    _type(qtbot, "0")
    _key(qtbot, Qt.Key.Key_I, ALT)  # D&ip samples:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.dip)
    _key(qtbot, Qt.Key.Key_A, CTRL)
    _type(qtbot, "0")
    _key(qtbot, Qt.Key.Key_Return)  # Preview
    qtbot.waitUntil(dialog.message.isVisible)
    assert "at least one deep dive or dip sample" in dialog.message.text()
    assert not dialog.create_button.isEnabled()

    # this quarter is planned already: the preview works, creating is refused beside it
    _key(qtbot, Qt.Key.Key_V, ALT)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.deep)
    _key(qtbot, Qt.Key.Key_A, CTRL)
    _type(qtbot, "2")
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.create_button.isEnabled)
    assert not dialog.message.isVisible()
    _key(qtbot, Qt.Key.Key_Return)  # Create plan
    qtbot.waitUntil(dialog.message.isVisible)
    assert "already covers this period" in dialog.message.text()
    assert dialog.isVisible() and not dialog.create_button.isEnabled()
    assert [(p.id, p.status) for p in plan_service.list_plans(demo_session)] == before
    _key(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.dialog is None)

    # a draw refused by the service (the plan is drawn already) is said beside the buttons
    _active(qtbot, window)
    page.draw_button.setEnabled(True)  # as a stale page would offer it
    _key(qtbot, Qt.Key.Key_D, ALT)
    _dialog(qtbot, page)
    _key(qtbot, Qt.Key.Key_Return)
    _active(qtbot, window)
    qtbot.waitUntil(page.message.isVisible)
    assert "was drawn already" in page.message.text()
    assert len(plan_service.list_draws(demo_session)) == 1
    window.close()


def test_a_draw_that_cannot_be_allocated_is_kept_and_says_so(qtbot, demo_session, main_window,
                                                            monkeypatch):
    from sefton_qa.domain.errors import ValidationError

    def no_auditors(*_a, **_k):
        raise ValidationError.single("auditors", "there is no active QA officer to allocate to")

    plan_id = plan_service.create_plan(demo_session, dt.date(2027, 1, 1), dt.date(2027, 3, 31),
                                       per_stratum=Quota(1, 0)).record_ids[0]
    monkeypatch.setattr(plan_service, "allocate_draw", no_auditors)
    window = main_window(demo_session)
    page = _page(qtbot, window)
    assert page.select_plan(plan_id)
    qtbot.waitUntil(page.draw_button.isEnabled)
    _key(qtbot, Qt.Key.Key_D, ALT)
    _dialog(qtbot, page)
    _key(qtbot, Qt.Key.Key_Return)
    _active(qtbot, window)
    qtbot.waitUntil(page.message.isVisible)
    draw = plan_service.kept_draw(demo_session, plan_id)
    assert draw is not None
    assert f"Draw {draw.id} was made and is kept" in page.message.text()
    assert "no active QA officer" in page.message.text()
    assert page.allocation_model.rows == [] and page.discard_button.isEnabled()
    window.close()
