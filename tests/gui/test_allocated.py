"""Issue 19, item 4: the cases the random draw allocated to me, on their own page (Ctrl+8).
Enter starts the selected case's audit, pre-filled, recorded as drawn at random and linked to
its allocation, and opens it; Enter again opens the same audit, never a second one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sefton_qa.domain.models import AuditStatus, Selection
from sefton_qa.services import audits as audit_service
from sefton_qa.services import plans


def give_me_cases(session, n: int = 2) -> list:
    """Reallocate ``n`` of the demo draw's cases to the signed-in administrator (who audits
    too), as an administrator would when an auditor is away."""
    mine = plans.my_allocations(session)
    if len(mine) >= n:
        return mine[:n]
    others = [a for a in plans.allocations(session) if a.auditor_id != session.actor.id
              and a.audit_id is None and a.status == "allocated"
              and a.team_manager_id != session.actor.id]
    for a in others[:n - len(mine)]:
        plans.reallocate(session, a.id, session.actor.id, "Covering for leave.")
    return plans.my_allocations(session)[:n]


def test_enter_starts_the_allocated_audit_then_opens_it_again(qtbot, demo_session,
                                                               active_main_window):
    window = active_main_window
    mine = give_me_cases(demo_session)
    assert mine, "the demo draw allocates cases"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)
    page = window.show_page_of("AllocatedPage")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is page)
    page.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.table)
    first = page.selected()
    assert first is not None and first.audit_id is None
    assert page.start_button.text() == "&Start audit"
    assert page.model.rows[0].values[0] == first.case_reference
    forms_before = len(window._forms)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window._forms) == forms_before + 1)
    form = window._forms[-1]
    audit = audit_service.get_audit(demo_session, form.audit_id)
    assert audit.status is AuditStatus.DRAFT and audit.selection is Selection.RANDOM_DRAW
    assert audit.case_reference == first.case_reference and audit.team_id == first.team_id
    assert form.case_edit.text() == first.case_reference
    assert form.selection_combo.currentText() == "Random draw"
    assert plans.allocation_of_audit(demo_session, audit.id).id == first.id
    form.close()
    qtbot.waitUntil(lambda: len(window._forms) == forms_before)
    # the list now says it was started; Enter opens the same audit
    page.table.setFocus()
    row = page.model.row_of(first.id)
    page.table.selectRow(row)
    assert page.model.rows[row].values[4] == "Started"
    assert page.start_button.text() == "&Open audit"
    count = demo_session.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window._forms) == forms_before + 1)
    assert window._forms[-1].audit_id == audit.id
    assert demo_session.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0] == count
    window._forms[-1].close()


def test_done_cases_show_only_when_asked(qtbot, demo_session, shown_active):
    from sefton_qa.gui.loop.allocated import AllocatedPage

    first = give_me_cases(demo_session, 1)[0]
    audit_id = plans.start_audit(demo_session, first.id).record_id
    inp = audit_service.get_audit(demo_session, audit_id).to_input()
    from sefton_qa.domain.grades import Grade

    inp.overall_grade = Grade.GOOD
    audit_service.update_audit(demo_session, audit_id, inp)
    audit_service.submit_audit(demo_session, audit_id)
    page = shown_active(AllocatedPage(demo_session))
    assert first.case_reference not in [r.values[0] for r in page.model.rows]
    page.show_done.setFocus()
    qtbot.keyClick(page.show_done, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: first.case_reference in [r.values[0] for r in page.model.rows])
    row = page.model.rows[page.model.row_of(first.id)]
    assert row.values[4] == "Done"
