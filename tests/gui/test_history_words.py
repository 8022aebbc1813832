"""Issue 17, finding 5: the audit's history in the register's detail pane says which fields
changed in the form's own words and when in local time (it showed `audit_date`,
`service_area_id` and UTC times)."""

from __future__ import annotations

import datetime as dt

import pytest

from sefton_qa.domain.wording import field_label, local_time_text
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.services import audits as audit_service
from sefton_qa.store import trail

pytestmark = pytest.mark.usefixtures("as_gui_tester")


@pytest.fixture
def london(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_history_names_fields_as_the_form_does_in_local_time(qtbot, demo_session,
                                                               gui_settings, london):
    from test_audit_form import new_draft

    audit_id = new_draft(demo_session)
    audit = audit_service.get_audit(demo_session, audit_id)
    changed = audit.to_input()
    changed.audit_date = changed.audit_date - dt.timedelta(days=1)
    changed.findings = (changed.findings or "") + " Checked again."
    audit_service.update_audit(demo_session, audit_id, changed)
    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    text = window.audits_page.audit_html(audit_id)
    assert "audit_date" not in text and "service_area_id" not in text and " UTC" not in text
    assert "changed (Audit date, Findings)" in text
    last = trail.entries_for(demo_session.store.conn, "audits", audit_id)[-1]
    assert local_time_text(last.at_utc) in text
    assert field_label("team_id") == "Team"
    # a summer time in London is shown an hour on from UTC
    assert local_time_text("2026-07-01T09:30:00.000000Z") == "01/07/2026 10:30"
