"""Issue 17, item 1 (and issue 14, item 5): one path for every change the window makes.

The service call runs on the operations path's worker thread, on its own connection; the
window keeps painting and answering while a save waits for another person's write; what a
call touched (every table and record it wrote a trail row for) is announced once, app-wide,
and each page refreshes only when it shows a touched table. The autouse fixture in
conftest.py fails any GUI test whose window code opens a write transaction on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from PySide6.QtCore import QTimer

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, AuditType, SectionGrade
from sefton_qa.gui import operations
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation

TODAY = dt.date(2026, 11, 24)  # as tests/gui/conftest.py


def _inadequate(session, case: str) -> AuditInput:
    area = next(a for a in organisation.service_areas(session, active_only=True)
                if organisation.teams(session, service_area_id=a.id, active_only=True))
    team = organisation.teams(session, service_area_id=area.id, active_only=True)[0]
    return AuditInput(case_reference=case, audit_type=AuditType.DEEP_DIVE,
                      audit_date=TODAY - dt.timedelta(days=2), service_area_id=area.id,
                      team_id=team.id, sections={"voice": SectionGrade(Grade.INADEQUATE)},
                      overall_grade=Grade.INADEQUATE, findings="Drift.")


def test_a_call_runs_off_the_gui_thread_and_announces_every_table_it_touched(
        qtbot, demo_session):
    ops = operations.for_session(demo_session)
    ran_on = []

    def submit(session):
        ran_on.append(threading.current_thread())
        assert session.store is not demo_session.store  # the worker's own connection
        return audit_service.create_audit(session, _inadequate(session, "LCS-300300"),
                                          submit=True)

    with qtbot.waitSignal(ops.changed) as announced:
        change = operations.call(demo_session, submit)
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert announced.args[0] == change
    # Submitting an inadequate audit also flagged a moderation: both are said.
    assert {"audits", "moderations"} <= change.tables
    assert ("audits", change.record_id) in change.touched
    assert audit_service.get_audit(demo_session, change.record_id).case_reference == \
        "LCS-300300"


def test_errors_come_back_to_the_caller_and_nothing_is_announced(qtbot, demo_session):
    from sefton_qa.domain.errors import ValidationError

    ops = operations.for_session(demo_session)
    heard = []
    ops.changed.connect(heard.append)
    inp = _inadequate(demo_session, "")
    try:
        operations.call(demo_session, lambda s: audit_service.create_audit(s, inp, submit=True))
        raise AssertionError("an incomplete audit was submitted")
    except ValidationError as exc:
        assert any(p.field == "case_reference" for p in exc.problems)
    assert heard == []


def test_pages_refresh_only_when_they_show_a_touched_table(qtbot, demo_session, gui_settings):
    from sefton_qa.gui.main_window import MainWindow

    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    for row in range(len(window.pages)):
        window.page(row)
    refreshed = []
    for title, page in window.pages:
        page.refresh = (lambda *a, t=title, **k: refreshed.append(t))
    window._refresh_pages(tables={"import_mappings"})  # shown by no page
    assert refreshed == []
    window._refresh_pages(tables={"remedial_actions"})
    assert "Actions" in refreshed and "Audits" not in refreshed
    refreshed.clear()
    window._refresh_pages(tables={"audits"})
    assert "Audits" in refreshed and "Moderation" in refreshed
    window.close()


def test_the_window_keeps_answering_while_a_save_waits_for_another_writer(
        qtbot, pg_server, gui_demo_database):
    """A save held up by another person's long write (an import) waits on the worker: the
    GUI thread's timers keep firing all the while."""
    from pg_server import another_users_long_write
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    url = pg_server.create(template=gui_demo_database)
    store = open_store(url)
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    ops = operations.for_session(session)
    ops.on_worker_store.append(lambda worker: worker.conn.execute("SET lock_timeout = 1500"))
    ticks = []
    timer = QTimer(interval=50)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    waiting = []
    ops.waiting.connect(waiting.append)
    inp = _inadequate(session, "LCS-300301")
    started = time.monotonic()
    with another_users_long_write(url):
        try:
            operations.call(session, lambda s: audit_service.create_audit(s, inp, submit=True))
            raise AssertionError("the save did not wait for the other writer")
        except Exception as exc:  # refused plainly after the lock timeout
            assert "kept it busy" in str(exc)
    took = time.monotonic() - started
    timer.stop()
    assert took >= 1.4
    assert len([t for t in ticks if t >= started]) >= 10  # painting and timers went on
    assert waiting and "importing audits" in waiting[0]
    store.close()
    pg_server.drop(url)
