"""Issue 17, item 7: the audit's whole story in the register's detail pane: its moderation,
reflective conversation, actions and re-audit, each open step a link that opens it, by
keyboard (Tab to the link, Enter)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sefton_qa.domain.models import ModerationStatus
from sefton_qa.services.register import RegisterFilter
from sefton_qa.store import loop as loop_store


def _select(window, audit_id: int) -> None:
    page = window.audits_page
    audit = page.session.store.conn.execute(
        "SELECT case_reference FROM audits WHERE id = ?", (audit_id,)).fetchone()[0]
    page.filters.search.setText(audit)
    page.model.set_filter(RegisterFilter(search=audit))
    row = next(r for r in range(page.model.rowCount()) if page.model.audit_id(r) == audit_id)
    page.table.selectRow(row)


def test_a_waiting_moderation_is_a_link_that_opens_it_on_its_page(qtbot, demo_session,
                                                                   main_window):
    conn = demo_session.store.conn
    moderation = next(m for (mid,) in conn.execute(
        "SELECT id FROM moderations WHERE status = 'pending' ORDER BY id")
        for m in [loop_store.get_moderation(conn, mid)])
    window = main_window(demo_session)
    _select(window, moderation.audit_id)
    detail = window.audits_page.detail
    text = detail.toPlainText()
    assert "What followed" in text and "Moderation waiting" in text
    detail.setFocus()
    qtbot.waitUntil(detail.hasFocus)
    # Tab moves to the first link inside the pane; Enter opens it.
    for _ in range(30):
        if detail.textCursor().hasSelection() and \
                detail.textCursor().charFormat().anchorHref().startswith("sefton:moderation/"):
            break
        qtbot.keyClick(detail, Qt.Key.Key_Tab)
    assert detail.textCursor().charFormat().anchorHref() == f"sefton:moderation/{moderation.id}"
    qtbot.keyClick(detail, Qt.Key.Key_Return)
    page = window.stack.currentWidget()
    assert type(page).__name__ == "ModerationPage"
    assert page.selected_item().item_id == moderation.id
    window.close()


def test_the_story_tells_what_was_done_and_links_the_reaudit(qtbot, demo_session,
                                                            main_window):
    conn = demo_session.store.conn
    row = conn.execute("SELECT audit_id, reaudit_audit_id FROM remedial_actions "
                       "WHERE reaudit_audit_id IS NOT NULL ORDER BY id").fetchone()
    assert row is not None, "the demo data has a re-audit"
    audit_id, reaudit_id = row
    window = main_window(demo_session)
    _select(window, audit_id)
    html = window.audits_page.detail.toHtml()
    text = window.audits_page.detail.toPlainText()
    done = [m for m in loop_store.moderations_for_audit(conn, audit_id)
            if m.status is ModerationStatus.DONE]
    if done:
        assert "Moderated " in text
    assert "Action: " in text and "re-audited " in text
    assert f"sefton:audit/{reaudit_id}" in html
    forms = window.open_story_step("audit", reaudit_id)
    assert forms is not None and forms.audit_id == reaudit_id
    forms.close()
    window.close()


def test_an_audit_with_nothing_after_it_says_so(qtbot, demo_session, main_window):
    conn = demo_session.store.conn
    audit_id = conn.execute(
        "SELECT id FROM audits a WHERE NOT EXISTS (SELECT 1 FROM moderations m "
        "WHERE m.audit_id = a.id) ORDER BY id").fetchone()[0]
    window = main_window(demo_session)
    _select(window, audit_id)
    assert "Nothing yet: no moderation, conversation or action." in \
        window.audits_page.detail.toPlainText()
    window.close()
