"""The first-run welcome page and the settings dialog, driven as a user would (offscreen)."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditInput, Role
from sefton_qa.gui.settings.dialog import SettingsDialog
from sefton_qa.gui.welcome.page import WelcomePage
from sefton_qa.services import audits as audit_service
from sefton_qa.services import organisation as org
from sefton_qa.services import sign_in
from sefton_qa.services.verify import verify_store
from sefton_qa.store import audits as audit_store
from sefton_qa.store import open_store

TODAY = dt.date(2026, 11, 24)
TABLES = ("audits", "trail", "staff", "teams", "service_areas", "settings", "themes")


def counts(session) -> dict[str, int]:
    return {t: session.store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in TABLES}


@pytest.fixture
def fresh_session(tmp_path):
    store = open_store(tmp_path / "fresh.sqlite3")
    session = sign_in(store, os_user="first.user", today=lambda: TODAY)
    yield session
    store.close()


@pytest.fixture
def officer_session(fresh_session):
    """A QA officer (not an administrator) on the same fresh store."""
    org.add_staff(fresh_session, "Quinn Officer", os_username="quinn.o",
                  roles=[Role.QA_OFFICER])
    return sign_in(fresh_session.store, os_user="quinn.o", today=lambda: TODAY)


def make_page(qtbot, session) -> WelcomePage:
    page = WelcomePage(session)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    return page


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def unlabelled_controls(root: QWidget) -> list[str]:
    """Interactive widgets with neither an accessible name nor a label as their buddy."""
    from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSpinBox,
                                   QComboBox, QLineEdit, QPlainTextEdit)

    def inside_a_compound_control(widget) -> bool:  # a combo's popup list, a tab bar's arrows,
        parent = widget.parent()                     # a date editor's own line edit
        while parent is not None and parent is not root:
            if isinstance(parent, (QComboBox, QAbstractItemView, QAbstractSpinBox)) or \
                    type(parent).__name__ in (
                    "QComboBoxPrivateContainer", "QTabBar"):
                return True
            parent = parent.parent()
        return False

    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy()}
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, (QAbstractButton, QAbstractItemView, QComboBox, QLineEdit,
                                   QPlainTextEdit)) or inside_a_compound_control(widget):
            continue
        if not widget.accessibleName() and id(widget) not in buddies:
            found.append(f"{type(widget).__name__} {widget.objectName()!r} "
                         f"{getattr(widget, 'text', lambda: '')()!r}")
    return found


# -- welcome: demo data ------------------------------------------------------------------------
def test_loading_demo_data_fills_an_empty_store(qtbot, fresh_session):
    page = make_page(qtbot, fresh_session)
    page.demo_months = 3
    assert audit_store.count(fresh_session.store.conn) == 0
    with qtbot.waitSignal(page.finished, timeout=60_000):
        click(qtbot, page.demo_button)
        assert page.progress.isVisible() and page.cancel_button.isVisible()
    qtbot.waitUntil(lambda: page.job is None, timeout=10_000)
    assert audit_store.count(fresh_session.store.conn) > 50
    assert "Loaded" in page.progress_status.text()
    assert not page.progress.isVisible()
    assert verify_store(fresh_session.store).ok


def test_cancelling_demo_data_leaves_the_store_untouched(qtbot, fresh_session):
    page = make_page(qtbot, fresh_session)
    before = counts(fresh_session)
    finished = []
    page.finished.connect(lambda: finished.append(True))
    click(qtbot, page.demo_button)
    assert not page.demo_button.isEnabled()
    click(qtbot, page.cancel_button)  # at once: the job is still opening its store
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    assert counts(fresh_session) == before
    assert "Nothing was added" in page.progress_status.text()
    assert not finished
    assert page.demo_button.isEnabled() and page.real_button.isEnabled()
    assert verify_store(fresh_session.store).ok


def test_closing_the_page_while_loading_cancels_and_waits(qtbot, fresh_session):
    page = make_page(qtbot, fresh_session)
    before = counts(fresh_session)
    click(qtbot, page.demo_button)
    page.close()  # cancels, and returns only once the job has rolled back
    assert page.job is None
    assert counts(fresh_session) == before


# -- welcome: start for real -------------------------------------------------------------------
def walk_setup(qtbot, page) -> None:
    """Authority, two service areas, their teams and one person, by keyboard where it can."""
    setup = page.setup
    click(qtbot, page.real_button)
    assert page.stack.currentWidget() is setup
    type_into(qtbot, setup.authority, "Sefton Council")
    type_into(qtbot, setup.your_name, "Ada Admin")
    click(qtbot, setup.next_button)
    # Service areas: untick all but two, with the space bar, and add one of our own.
    areas = setup.area_list
    keep = {"Child Protection", "Children in Care"}
    areas.setFocus()
    for row in range(areas.count()):
        if areas.item(row).text() not in keep:
            areas.setCurrentRow(row)
            qtbot.keyClick(areas, Qt.Key.Key_Space)
    type_into(qtbot, setup.new_area, "SEND")
    qtbot.keyClick(setup.new_area, Qt.Key.Key_Return)
    assert setup.chosen_areas() == ["Child Protection", "Children in Care", "SEND"]
    click(qtbot, setup.next_button)
    # Teams: defaults are filled in; give Child Protection two teams.
    assert setup.team_edit("SEND").toPlainText() == "SEND Team"
    edit = setup.team_edit("Child Protection")
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "CP Team 1")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.keyClicks(edit, "CP Team 2")
    click(qtbot, setup.next_button)
    # Staff: one person, a moderator too, in CP Team 2.
    type_into(qtbot, setup.person_name, "Pat Auditor")
    type_into(qtbot, setup.person_account, "pat.a")
    setup.person_roles[Role.MODERATOR].setChecked(True)
    setup.person_team.setCurrentIndex(setup.person_team.findText("Child Protection — CP Team 2"))
    click(qtbot, setup.add_person_button)
    assert setup.people_list.count() == 1
    # and a service manager for CP Team 1, her role ticked with the space bar
    type_into(qtbot, setup.person_name, "Sam Manager")
    type_into(qtbot, setup.person_account, "sam.m")
    box = setup.person_roles[Role.SERVICE_MANAGER]
    box.setFocus()
    if not box.isChecked():
        qtbot.keyClick(box, Qt.Key.Key_Space)
    setup.person_team.setCurrentIndex(setup.person_team.findText("Child Protection — CP Team 1"))
    click(qtbot, setup.add_person_button)
    assert setup.people_list.count() == 2
    click(qtbot, setup.next_button)
    assert setup.finish_button.isVisible()
    assert "CP Team 1, CP Team 2" in setup.summary.toPlainText()


def test_start_for_real_sets_everything_up_in_one_go(qtbot, fresh_session):
    page = make_page(qtbot, fresh_session)
    walk_setup(qtbot, page)
    before = counts(fresh_session)
    assert before["service_areas"] == 0  # nothing is written before Finish
    with qtbot.waitSignal(page.finished, timeout=5_000):
        click(qtbot, page.setup.finish_button)
    session = fresh_session
    assert org.settings(session)["authority_name"] == "Sefton Council"
    assert session.actor.display_name == "Ada Admin"
    areas = {a.name: a.id for a in org.service_areas(session)}
    assert set(areas) == {"Child Protection", "Children in Care", "SEND"}
    teams = {(t.service_area_id, t.name): t.id for t in org.teams(session)}
    assert set(teams) == {(areas["Child Protection"], "CP Team 1"),
                          (areas["Child Protection"], "CP Team 2"),
                          (areas["Children in Care"], "Children in Care Team"),
                          (areas["SEND"], "SEND Team")}
    pat = next(s for s in org.staff(session) if s.os_username == "pat.a")
    assert pat.roles == {Role.QA_OFFICER, Role.MODERATOR}
    assert pat.team_id == teams[(areas["Child Protection"], "CP Team 2")]
    # finding 3: a service manager set up with a team becomes its service manager
    sam = next(s for s in org.staff(session) if s.os_username == "sam.m")
    assert Role.SERVICE_MANAGER in sam.roles
    by_id = {t.id: t for t in org.teams(session)}
    assert by_id[teams[(areas["Child Protection"], "CP Team 1")]].service_manager_id == sam.id
    assert by_id[teams[(areas["Child Protection"], "CP Team 2")]].service_manager_id is None
    assert not org.needs_first_run(session)
    assert verify_store(session.store).ok


def test_a_failed_set_up_writes_nothing_and_says_why(qtbot, fresh_session):
    org.add_staff(fresh_session, "Pat Existing", os_username="pat.a")
    page = make_page(qtbot, fresh_session)
    walk_setup(qtbot, page)
    before = counts(fresh_session)
    finished = []
    page.finished.connect(lambda: finished.append(True))
    click(qtbot, page.setup.finish_button)
    assert counts(fresh_session) == before
    assert not finished
    assert page.setup.steps.currentIndex() == 3  # back on the staff step
    assert page.setup.problems.isVisible()
    assert 'Pat Auditor: the account "pat.a" already belongs to someone' in \
        page.setup.problems.text()


def test_setup_steps_say_what_is_missing(qtbot, fresh_session):
    page = make_page(qtbot, fresh_session)
    setup = page.setup
    click(qtbot, page.real_button)
    setup.authority.clear()
    click(qtbot, setup.next_button)
    assert setup.steps.currentIndex() == 0
    assert "Type the authority's name." in setup.problems.text()
    type_into(qtbot, setup.authority, "Sefton Council")
    click(qtbot, setup.next_button)
    for row in range(setup.area_list.count()):
        setup.area_list.item(row).setCheckState(Qt.CheckState.Unchecked)
    click(qtbot, setup.next_button)
    assert setup.steps.currentIndex() == 1
    assert setup.problems.text() == "Problem: Tick at least one service area."
    click(qtbot, setup.cancel_button)
    assert page.stack.currentWidget() is page.intro
    assert counts(fresh_session)["service_areas"] == 0


def test_a_non_administrator_cannot_set_up_the_store(qtbot, officer_session):
    page = make_page(qtbot, officer_session)
    assert not page.real_button.isEnabled()
    assert not page.demo_button.isEnabled()
    assert page.permission_note.isVisible()
    assert "Only an administrator can" in page.permission_note.text()
    assert "first.user" in page.permission_note.text()  # who to ask
    before = counts(officer_session)
    page.start_for_real()  # even if called directly, nothing opens
    page.load_demo()
    assert page.stack.currentWidget() is page.intro and page.job is None
    assert counts(officer_session) == before


def test_welcome_controls_are_labelled_and_keyboard_reachable(qtbot, fresh_session):
    page = make_page(qtbot, fresh_session)
    assert unlabelled_controls(page) == []
    page.demo_button.setFocus()
    assert page.demo_button.text().startswith("&") and page.real_button.text().startswith("&")
    assert page.demo_button.nextInFocusChain() is page.real_button


# -- settings ----------------------------------------------------------------------------------
@pytest.fixture
def dialog(qtbot, demo_session):
    dlg = SettingsDialog(demo_session)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_settings_adds_a_team(qtbot, dialog, demo_session):
    dialog.tabs.setCurrentWidget(dialog.areas)
    tab = dialog.areas
    area = next(a for a in org.service_areas(demo_session) if a.name == "Assessment")
    tab.select("area", area.id)
    type_into(qtbot, tab.name, "Assessment Team East")
    with qtbot.waitSignal(dialog.changed, timeout=2_000):
        click(qtbot, tab.add_team_button)
    team = next(t for t in org.teams(demo_session) if t.name == "Assessment Team East")
    assert team.service_area_id == area.id
    assert tab.selected()[:2] == ("team", team.id)
    assert tab.status.text().startswith("Saved")
    # The Staff tab's team list follows at once.
    assert dialog.staff.team.findData(team.id) >= 0


def test_settings_sets_a_team_service_manager(qtbot, dialog, demo_session):
    tab = dialog.areas
    team = next(t for t in org.teams(demo_session) if t.name == "MASH Team")
    tab.select("team", team.id)
    index = next(i for i in range(tab.manager.count())
                 if tab.manager.itemData(i) not in (None, team.service_manager_id))
    tab.manager.setCurrentIndex(index)
    click(qtbot, tab.set_manager_button)
    updated = next(t for t in org.teams(demo_session) if t.id == team.id)
    assert updated.service_manager_id == tab.manager.itemData(index)


def test_settings_renames_and_retires_a_theme(qtbot, dialog, demo_session):
    tab = dialog.themes
    dialog.tabs.setCurrentWidget(tab)
    neglect = next(t for t in org.themes(demo_session) if t.name == "Neglect")
    tab.select(neglect.id)
    assert tab.name.text() == "Neglect"
    type_into(qtbot, tab.name, "Neglect and poverty")
    click(qtbot, tab.rename_button)
    assert next(t for t in org.themes(demo_session) if t.id == neglect.id).name == \
        "Neglect and poverty"
    click(qtbot, tab.retire_button)
    assert not next(t for t in org.themes(demo_session) if t.id == neglect.id).active
    assert tab.list.currentItem().text() == "Neglect and poverty (retired)"  # words, not colour
    assert tab.retire_button.text() == "Reac&tivate selected"


def test_settings_shows_the_service_message_for_a_duplicate_name(qtbot, dialog, demo_session):
    tab = dialog.themes
    dialog.tabs.setCurrentWidget(tab)
    before = counts(demo_session)
    type_into(qtbot, tab.name, "domestic abuse")
    click(qtbot, tab.add_button)
    assert tab.problems.isVisible()
    assert tab.problems.text() == ('Problem: Name: a theme called "domestic abuse" already '
                                   "exists")
    areas = dialog.areas
    dialog.tabs.setCurrentWidget(areas)
    type_into(qtbot, areas.name, "Child Protection")
    click(qtbot, areas.add_area_button)
    assert 'a service area called "Child Protection" already exists' in areas.problems.text()
    assert counts(demo_session) == before
    # The next good change clears the message.
    dialog.tabs.setCurrentWidget(tab)
    type_into(qtbot, tab.name, "Private fostering")
    click(qtbot, tab.add_button)
    assert not tab.problems.isVisible()


def outstanding_input(session) -> AuditInput:
    return AuditInput(overall_grade=Grade.OUTSTANDING, auditor_id=session.actor.id)


def test_settings_toggles_outstanding(qtbot, dialog, demo_session):
    def grade_problems():
        problems = audit_service.check(demo_session, outstanding_input(demo_session),
                                       complete=False)
        return [p for p in problems if p.field == "overall_grade"]

    assert grade_problems()  # not on the scale yet
    box = dialog.general.outstanding
    assert not box.isChecked()
    with qtbot.waitSignal(dialog.changed, timeout=2_000):
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked()
    assert org.settings(demo_session)["outstanding_enabled"] is True
    assert grade_problems() == []
    assert "Outstanding" in dialog.general.scale_text.text()
    box.click()
    assert not box.isChecked()
    assert org.settings(demo_session)["outstanding_enabled"] is False
    assert grade_problems()


def test_settings_adds_and_edits_a_staff_member(qtbot, dialog, demo_session):
    tab = dialog.staff
    dialog.tabs.setCurrentWidget(tab)
    rows = tab.table.rowCount()
    click(qtbot, tab.new_button)
    type_into(qtbot, tab.name, "Robin New")
    type_into(qtbot, tab.account, "robin.n")
    tab.roles[Role.MODERATOR].setChecked(True)
    tab.team.setCurrentIndex(tab.team.findText("Assessment — Assessment Team North"))
    with qtbot.waitSignal(dialog.changed, timeout=2_000):
        click(qtbot, tab.save_button)
    robin = next(s for s in org.staff(demo_session) if s.os_username == "robin.n")
    assert robin.display_name == "Robin New"
    assert robin.roles == {Role.QA_OFFICER, Role.MODERATOR}
    assert robin.team_id == tab.team.currentData()
    assert tab.table.rowCount() == rows + 1
    assert tab.editing_id == robin.id and tab.save_button.text() == "&Save changes"
    # Edit: a new account and no team, then deactivate.
    type_into(qtbot, tab.account, "robin.new")
    tab.team.setCurrentIndex(0)
    click(qtbot, tab.save_button)
    robin = next(s for s in org.staff(demo_session) if s.id == robin.id)
    assert (robin.os_username, robin.team_id) == ("robin.new", None)
    click(qtbot, tab.active_button)
    assert not next(s for s in org.staff(demo_session) if s.id == robin.id).active
    row = next(r for r in range(tab.table.rowCount())
               if tab.table.item(r, 0).text() == "Robin New")
    assert tab.table.item(row, 7).text() == "Inactive"


def test_settings_refuses_removing_your_own_admin_role(qtbot, dialog, demo_session):
    tab = dialog.staff
    tab.select(demo_session.actor.id)
    tab.roles[Role.ADMINISTRATOR].setChecked(False)
    click(qtbot, tab.save_button)
    assert "you cannot remove your own administrator role" in tab.problems.text()
    assert demo_session.actor.has_role(Role.ADMINISTRATOR)


def test_settings_case_reference_format_try_it(qtbot, dialog, demo_session):
    tab = dialog.general
    type_into(qtbot, tab.pattern, r"^LCS-\d{6}$")
    type_into(qtbot, tab.hint, "LCS- and six digits")
    type_into(qtbot, tab.sample, "LCS-12")
    assert tab.sample_result.text() == ('✗ Not accepted: "LCS-12" is not a valid case reference '
                                        "(LCS- and six digits).")
    type_into(qtbot, tab.sample, "LCS-123456")
    assert tab.sample_result.text().startswith("✓ Accepted")
    type_into(qtbot, tab.pattern, r"^LCS-(\d{6}$")
    assert tab.sample_result.text().startswith("✗ The pattern is not valid")
    click(qtbot, tab.save_format)
    assert "Pattern is not a valid pattern" in tab.problems.text()
    type_into(qtbot, tab.pattern, r"^LCS-\d{6}$")
    click(qtbot, tab.save_format)
    assert org.settings(demo_session)["case_reference_pattern"] == r"^LCS-\d{6}$"
    type_into(qtbot, tab.authority, "Sefton Council")
    qtbot.keyClick(tab.authority, Qt.Key.Key_Return)
    assert org.settings(demo_session)["authority_name"] == "Sefton Council"


def test_settings_refuses_a_format_that_can_spin_and_sets_the_earliest_date_by_keyboard(
        qtbot, dialog, demo_session):
    import datetime as dt

    from PySide6.QtWidgets import QApplication

    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)  # so Alt keys reach it
    tab = dialog.general
    type_into(qtbot, tab.pattern, r"^(a|aa)+$")
    assert tab.sample_result.text().startswith("✗ The pattern takes too long")
    qtbot.keyClick(tab.pattern, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)  # Save &format
    qtbot.waitUntil(lambda: "takes too long" in tab.problems.text())  # an animated click
    assert org.settings(demo_session)["case_reference_pattern"] != r"^(a|aa)+$"
    # Earl&iest audit date: Alt+I, type the date, Save &earliest date: Alt+E
    qtbot.keyClick(tab.pattern, Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)
    assert tab.earliest.hasFocus()
    assert tab.earliest.date().toPython() == dt.date(2000, 1, 1)
    qtbot.keyClick(tab.earliest, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(tab.earliest, "01/04/1998")
    qtbot.keyClick(tab.earliest, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "01/04/1998" in tab.status.text())
    assert org.earliest_audit_date(demo_session) == dt.date(1998, 4, 1)


def test_settings_saves_a_new_template_version(qtbot, dialog, demo_session):
    tab = dialog.templates
    dialog.tabs.setCurrentWidget(tab)
    old = org.current_template(demo_session)
    assert tab.table.rowCount() == len(old.sections)
    assert tab.table.editTriggers() == tab.table.EditTrigger.NoEditTriggers  # read-only
    click(qtbot, tab.edit_button)
    click(qtbot, tab.add_button)
    row = tab.table.rowCount() - 1
    tab.table.item(row, 1).setText("Education")
    tab.table.item(row, 2).setText("Is the child in school and learning?")
    type_into(qtbot, tab.reason, "Ofsted asked about education")
    click(qtbot, tab.save_button)
    new = org.current_template(demo_session)
    assert new.version == old.version + 1
    assert new.sections[-1].key == "education" and new.sections[-1].title == "Education"
    assert "version 2 (in use)" in tab.version.currentText()
    assert not tab.editing
    assert verify_store(demo_session.store).ok


def test_settings_is_read_only_for_others(qtbot, demo_session):
    officer = sign_in(demo_session.store, os_user="demo.qa01", today=lambda: TODAY)
    dlg = SettingsDialog(officer)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.note.isVisible() and "Only an administrator" in dlg.note.text()
    for button in (dlg.general.save_authority, dlg.general.outstanding, dlg.areas.rename_button,
                   dlg.areas.add_area_button, dlg.staff.save_button, dlg.themes.add_button,
                   dlg.templates.edit_button):
        assert not button.isEnabled(), button.text()
    assert dlg.general.authority.isReadOnly()
    dlg.themes.list.setCurrentRow(0)  # selecting does not turn editing back on
    assert not dlg.themes.rename_button.isEnabled()
    assert dlg.themes.name.isReadOnly()


def test_settings_controls_are_labelled(qtbot, dialog):
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        assert unlabelled_controls(dialog.tabs.currentWidget()) == [], \
            dialog.tabs.tabText(index)
    assert unlabelled_controls(dialog) == []


def test_the_set_up_people_step_adds_on_enter_starts_each_person_afresh_and_drops_nobody(
        qtbot, fresh_session):
    """Issue 17, finding 5: Enter adds the person typed; the next person's roles start from
    QA officer again; a person typed but not added stops Next with a message, not a loss."""
    page = make_page(qtbot, fresh_session)
    walk_setup(qtbot, page)
    setup = page.setup
    click(qtbot, setup.back_button)  # back to the people
    assert setup.steps.currentIndex() == 3
    type_into(qtbot, setup.person_name, "Robin Moderator")
    box = setup.person_roles[Role.MODERATOR]
    box.setChecked(True)
    type_into(qtbot, setup.person_account, "robin.m")
    qtbot.keyClick(setup.person_account, Qt.Key.Key_Return)
    assert setup.people_list.count() == 3 and "Robin Moderator" in \
        setup.people_list.item(2).text()
    assert {r for r, b in setup.person_roles.items() if b.isChecked()} == {Role.QA_OFFICER}
    type_into(qtbot, setup.person_name, "Kim Forgotten")
    click(qtbot, setup.next_button)
    assert setup.steps.currentIndex() == 3
    assert "Kim Forgotten is typed but not added" in setup.problems.text()
    qtbot.keyClick(setup.person_name, Qt.Key.Key_Return)
    assert setup.people_list.count() == 4
    click(qtbot, setup.next_button)
    assert setup.steps.currentIndex() == 4


def test_new_audit_waits_until_set_up_is_finished(qtbot, fresh_session, gui_settings):
    from sefton_qa.gui.main_window import MainWindow

    window = MainWindow(fresh_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.welcome is not None
    assert not window.new_action.isEnabled()  # Ctrl+N does nothing before set-up
    walk_setup(qtbot, window.welcome)
    with qtbot.waitSignal(window.welcome.finished, timeout=5_000):
        click(qtbot, window.welcome.setup.finish_button)
    assert window.new_action.isEnabled()


def test_the_internal_packs_exempt_paragraph_is_set_in_settings(qtbot, dialog, demo_session,
                                                                 tmp_path):
    """Issue 16, item 5: the exempt-information paragraph is configurable, refused when
    empty, and the internal pack carries the council's own wording."""
    import subprocess

    from sefton_qa.reports.cover import EXEMPT_INFORMATION
    from sefton_qa.services.reports import PackOptions, committee_pack

    tab = dialog.general
    assert tab.exempt.toPlainText() == EXEMPT_INFORMATION
    tab.exempt.clear()
    click(qtbot, tab.save_exempt)
    assert "Exempt paragraph is required" in tab.problems.text()
    own = "Exempt under paragraph 2 of Schedule 12A: not for publication (Seaside wording)."
    qtbot.keyClicks(tab.exempt, own)
    click(qtbot, tab.save_exempt)
    assert org.settings(demo_session)["exempt_information"] == own
    path = tmp_path / "internal.pdf"
    committee_pack(demo_session, dt.date(2026, 7, 1), dt.date(2026, 9, 30), path,
                   options=PackOptions())
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert own in text and "paragraphs 1 and 2 of Part 1" not in text
    click(qtbot, tab.standard_exempt)
    assert tab.exempt.toPlainText() == EXEMPT_INFORMATION


def test_how_cases_are_chosen_by_default_is_set_per_type_with_the_keyboard(
        qtbot, shown_active, demo_session):
    """Issue 16, item 4: an administrator sets what new audits of each type record about how
    their case was chosen; Alt+M reaches dip samples, the arrow keys choose, each choice is
    saved (trailed) and only that type changes; a new audit then takes it."""
    from PySide6.QtWidgets import QApplication

    from sefton_qa.domain.models import AuditType, Selection

    dlg = shown_active(SettingsDialog(demo_session))
    tab = dlg.general
    assert {k: c.currentText() for k, c in tab.selection.items()} == {
        AuditType.DEEP_DIVE: "Chosen by the QA team", AuditType.THEMED: "Chosen by the QA team",
        AuditType.DIP_SAMPLE: "Chosen by the QA team"}
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.selection[AuditType.DIP_SAMPLE])
    with qtbot.waitSignal(dlg.changed, timeout=3_000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)  # Chosen → Random draw
    assert org.selection_defaults(demo_session) == {
        AuditType.DEEP_DIVE: Selection.CHOSEN, AuditType.THEMED: Selection.CHOSEN,
        AuditType.DIP_SAMPLE: Selection.RANDOM_DRAW}
    assert "random draw" in tab.status.text()
    made = audit_service.create_audit(demo_session, AuditInput(
        case_reference="LCS-515151", audit_type=AuditType.DIP_SAMPLE)).record_id
    assert audit_service.get_audit(demo_session, made).selection is Selection.RANDOM_DRAW
    assert verify_store(demo_session.store).ok
