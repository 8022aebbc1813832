"""The register's filters driven as a person drives them: Alt+letter to reach a filter, arrow
keys to choose each option in turn, and the rows checked against a direct query each time.

The grade and status filters once crashed the app on every choice: Qt hands a str enum member
back from ``currentData()`` as a plain str, and tests that built the filter by hand never saw
it. These tests go through the combo boxes themselves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox

from sefton_qa.services import register

ALT = Qt.KeyboardModifier.AltModifier

#: filter → (its Alt shortcut, the column of `audits` it picks by; None for the theme table)
FILTERS = {
    "area": (Qt.Key.Key_A, "service_area_id"),
    "team": (Qt.Key.Key_T, "team_id"),
    "auditor": (Qt.Key.Key_U, "auditor_id"),
    "grade": (Qt.Key.Key_G, "overall_grade"),
    "status": (Qt.Key.Key_S, "status"),
    "theme": (Qt.Key.Key_M, None),
}


@pytest.fixture
def window(active_main_window):
    return active_main_window


def register_ids(page) -> set[int]:
    model = page.model
    return {model.audit_id(row) for row in range(model.rowCount())}


def expected_ids(conn, column: str | None, value) -> set[int]:
    if value is None:
        sql, params = "SELECT id FROM audits", ()
    elif column is None:
        sql, params = "SELECT audit_id FROM audit_themes WHERE theme_id = ?", (value,)
    else:
        sql, params = f"SELECT id FROM audits WHERE {column} = ?", (value,)
    return {row[0] for row in conn.execute(sql, params)}


def focus_with_shortcut(qtbot, window, key) -> QComboBox:
    qtbot.keyClick(QApplication.focusWidget() or window, key, ALT)
    widget = QApplication.focusWidget()
    assert isinstance(widget, QComboBox), widget
    return widget


def no_failure_shown(window) -> bool:
    return not any(isinstance(w, QMessageBox) and w.isVisible()
                   for w in QApplication.topLevelWidgets())


@pytest.mark.parametrize("name", list(FILTERS))
def test_every_option_of_every_filter_by_keyboard(qtbot, window, demo_session, name):
    key, column = FILTERS[name]
    page = window.audits_page
    bar = page.filters
    combo = focus_with_shortcut(qtbot, window, key)
    assert combo is getattr(bar, name)
    assert combo.count() > 1
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    seen = []
    for index in range(combo.count()):
        if index:
            qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() == index
        data = combo.currentData()
        raw = getattr(data, "value", data)
        assert page.model.failure is None, page.model.failure
        assert register_ids(page) == expected_ids(demo_session.store.conn, column, raw), \
            combo.currentText()
        assert page.model.total == page.model.rowCount()
        seen.append(combo.currentText())
        # the count in the status bar follows the register
        assert window.count_label.text().startswith(f"{page.model.total:,} audit")
    assert len(seen) == combo.count() and no_failure_shown(window)
    # Home goes back to "Any": every audit again
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    assert register_ids(page) == expected_ids(demo_session.store.conn, None, None)


def test_grade_and_status_reach_the_services_as_members(qtbot, window):
    """Whatever Qt hands back, the filter the services get holds real Grade/AuditStatus."""
    from sefton_qa.domain.grades import Grade
    from sefton_qa.domain.models import AuditStatus

    page = window.audits_page
    grade = focus_with_shortcut(qtbot, window, Qt.Key.Key_G)
    qtbot.keyClick(grade, Qt.Key.Key_End)
    status = focus_with_shortcut(qtbot, window, Qt.Key.Key_S)
    qtbot.keyClick(status, Qt.Key.Key_Down)
    f = page.model.filter
    assert type(f.grade) is Grade and type(f.status) is AuditStatus
    assert f.grade is Grade(grade.currentData()) and f.status is AuditStatus(status.currentData())


def test_register_filter_turns_text_into_members_and_refuses_others():
    from sefton_qa.domain.grades import Grade
    from sefton_qa.domain.models import AuditStatus

    f = register.RegisterFilter(grade="inadequate", status="draft")
    assert f.grade is Grade.INADEQUATE and f.status is AuditStatus.DRAFT
    with pytest.raises(ValueError, match="not a grade"):
        register.RegisterFilter(grade="excellent")


def test_a_failing_register_query_says_so_once_and_clears_the_filter(qtbot, window,
                                                                     monkeypatch):
    """Any failure of the register's query: one message, the filters that caused it cleared,
    and the register usable again, not a dialog after every repaint."""
    page = window.audits_page
    real_count, real_page = register.count, register.page
    calls = {"count": 0, "page": 0}

    def count(session, f):
        if f.grade is not None:
            calls["count"] += 1
            raise RuntimeError("the query failed")
        return real_count(session, f)

    monkeypatch.setattr(register, "count", count)
    combo = focus_with_shortcut(qtbot, window, Qt.Key.Key_G)
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: combo.currentIndex() == 0)  # the filter was cleared
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1 and "cleared" in boxes[0].text()
    assert calls["count"] == 1
    total = page.model.total
    assert total > 0 and page.model.failure is None
    for _ in range(5):  # repaints do not bring it back
        page.table.viewport().repaint()
        QApplication.processEvents()
    assert len([w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.isVisible()]) == 1
    boxes[0].accept()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    # A page that fails while the view paints it: the same single message.
    def failing_page(session, f, **kwargs):
        if f.status is not None:
            calls["page"] += 1
            raise RuntimeError("the page failed")
        return real_page(session, f, **kwargs)

    monkeypatch.setattr(register, "count", real_count)
    monkeypatch.setattr(register, "page", failing_page)
    status = focus_with_shortcut(qtbot, window, Qt.Key.Key_S)
    while not calls["page"]:  # down to a status with audits, whose rows are painted
        assert status.currentIndex() < status.count() - 1
        qtbot.keyClick(status, Qt.Key.Key_Down)
        page.table.viewport().repaint()
    qtbot.waitUntil(lambda: status.currentIndex() == 0)
    qtbot.waitUntil(lambda: page.model.rowCount() == total)
    boxes = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1 and calls["page"] == 1
    assert page.model.audit_id(0) is not None  # the register reads again


# -- random combinations, through the widgets --------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

COMBINED = ("area", "grade", "status", "theme")


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choices=st.fixed_dictionaries(  # "Any" often, so that combinations still find audits
           {name: st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5]) for name in COMBINED}),
       search=st.sampled_from([None, "existing", "nothing"]),
       sort=st.tuples(st.integers(0, 6), st.booleans()))
def test_any_combination_of_filters_search_and_sort_through_the_widgets(
        qtbot, window, demo_session, choices, search, sort):
    """Filters chosen with Alt+letter and the arrow keys, a search typed, a column header
    clicked (once or twice): the register never fails and holds exactly the audits a direct
    query finds."""
    conn = demo_session.store.conn
    page = window.audits_page
    bar = page.filters
    wanted: dict[str, object] = {}
    for name in COMBINED:
        combo = focus_with_shortcut(qtbot, window, FILTERS[name][0])
        qtbot.keyClick(combo, Qt.Key.Key_Home)
        for _ in range(min(choices[name], combo.count() - 1)):
            qtbot.keyClick(combo, Qt.Key.Key_Down)
        data = combo.currentData()
        wanted[name] = getattr(data, "value", data)
    case = conn.execute("SELECT case_reference FROM audits ORDER BY id LIMIT 1 OFFSET 7"
                        ).fetchone()[0]
    text = {None: "", "existing": case, "nothing": "ZZZ-NO-SUCH-CASE"}[search]
    bar.search.setFocus()
    qtbot.keyClick(bar.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(bar.search, Qt.Key.Key_Backspace)
    if text:
        qtbot.keyClicks(bar.search, text)
    qtbot.waitUntil(lambda: page.model.filter.search == (text or None)
                    or (page.model.filter.search or "") == text)
    column, twice = sort
    header = page.table.horizontalHeader()
    from PySide6.QtCore import QPoint

    point = QPoint(header.sectionViewportPosition(column) + 5, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)
    if twice:
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)

    clauses, params = [], []
    for name, col in (("area", "service_area_id"), ("grade", "overall_grade"),
                      ("status", "status")):
        if wanted[name] is not None:
            clauses.append(f"{col} = ?")
            params.append(wanted[name])
    if wanted["theme"] is not None:
        clauses.append("id IN (SELECT audit_id FROM audit_themes WHERE theme_id = ?)")
        params.append(wanted["theme"])
    if text:
        clauses.append("case_reference = ?")
        params.append(text)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    expected = {r[0] for r in conn.execute(f"SELECT id FROM audits {where}", params)}
    qtbot.waitUntil(lambda: page.model.failure is not None or
                    page.model.total == len(expected), timeout=5000)
    assert page.model.failure is None, page.model.failure
    assert register_ids(page) == expected
    assert no_failure_shown(window)
