"""The set-up wizard, step by step: the authority's name, service areas, their teams and staff,
then a check of it all. Nothing is saved until Finish, and then in one transaction
(``organisation.set_up``), so a problem leaves nothing half set up."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import ValidationError
from sefton_qa.domain.models import Role
from sefton_qa.domain.reference import DEFAULT_SERVICE_AREAS
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.labels import heading, paragraph, problem_label, show_problems
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session


ROLE_ORDER = (Role.QA_OFFICER, Role.MODERATOR, Role.SERVICE_MANAGER, Role.ADMINISTRATOR)
ROLE_MNEMONICS = {Role.QA_OFFICER: "&QA officer", Role.MODERATOR: "M&oderator",
                  Role.SERVICE_MANAGER: "Service mana&ger", Role.ADMINISTRATOR: "Admin&istrator"}
#: A first team name for an area when the plain "<area> Team" would read oddly.
_FIRST_TEAM = {"Front Door / MASH": "MASH Team",
               "Exploitation and Adolescent Services": "Adolescent Services Team"}
STEP_TITLES = ("Your council", "Service areas", "Teams", "Staff", "Check and finish")


def default_team_name(area: str) -> str:
    return _FIRST_TEAM.get(area, f"{area} Team")


def centre_column(owner: QWidget, inner: QVBoxLayout, *, chars: int, stretch: int) -> None:
    """``inner`` as a column in the middle of ``owner``, at most ``chars`` characters wide."""
    body = QWidget()
    body.setLayout(inner)
    body.setMaximumWidth(body.fontMetrics().averageCharWidth() * chars)
    outer = QHBoxLayout(owner)
    outer.setContentsMargins(24, 24, 24, 24)
    outer.addStretch(1)
    outer.addWidget(body, stretch)
    outer.addStretch(1)


class SetupPages(QWidget):
    """The "Start for real" steps. Nothing is written until Finish, then all in one go."""

    cancelled = Signal()
    done = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("setupPages")
        self.result: org.SetupResult | None = None
        self.people: list[org.NewStaff] = []
        self._team_edits: dict[str, QPlainTextEdit] = {}
        self._team_texts: dict[str, str] = {}

        self.title = heading("", 1.4)
        self.step_label = paragraph("")
        self.steps = QStackedWidget()
        self.steps.addWidget(self._council_step())
        self.steps.addWidget(self._areas_step())
        self.steps.addWidget(self._teams_step())
        self.steps.addWidget(self._staff_step())
        self.steps.addWidget(self._review_step())
        self.problems = problem_label()
        self.problems.setObjectName("setupProblems")

        self.back_button = QPushButton("&Back")
        self.back_button.setAccessibleName("Back to the previous step")
        self.back_button.clicked.connect(lambda: self.go_to(self.steps.currentIndex() - 1))
        self.next_button = QPushButton("&Next")
        self.next_button.setAccessibleName("Next step")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next_step)
        self.finish_button = QPushButton("F&inish set-up")
        self.finish_button.setObjectName("finishSetupButton")
        self.finish_button.setAccessibleName("Finish set-up and save everything")
        self.finish_button.clicked.connect(self.finish)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.setAccessibleName("Cancel set-up; nothing is saved")
        self.cancel_button.clicked.connect(self.cancelled)
        nav = QHBoxLayout()
        nav.addWidget(self.cancel_button)
        nav.addStretch(1)
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button)
        nav.addWidget(self.finish_button)

        inner = QVBoxLayout()
        inner.addWidget(self.step_label)
        inner.addWidget(self.title)
        inner.addWidget(self.problems)
        inner.addWidget(self.steps, 1)
        inner.addLayout(nav)
        centre_column(self, inner, chars=120, stretch=8)

    # -- step 1: the council --------------------------------------------------------------------
    def _council_step(self) -> QWidget:
        page = QWidget()
        current = org.settings(self.session).get("authority_name", "")
        self.authority = QLineEdit("" if current == "Example Borough Council" else current)
        self.authority.setObjectName("authorityName")
        self.authority.setPlaceholderText("for example, Sefton Council")
        self.authority.setAccessibleName("Authority's name")
        self.your_name = QLineEdit(self.session.actor.display_name)
        self.your_name.setObjectName("yourName")
        self.your_name.setAccessibleName("Your name as others will see it")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        label = QLabel("&Authority's name:")
        label.setBuddy(self.authority)
        form.addRow(label, self.authority)
        label = QLabel("&Your name:")
        label.setBuddy(self.your_name)
        form.addRow(label, self.your_name)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(paragraph(
            "The council's name appears on reports. Your name is how you appear to others in "
            f"the app; you sign in with the Windows account \"{self.session.os_user}\" and are "
            "this store's administrator."))
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    # -- step 2: service areas ------------------------------------------------------------------
    def _areas_step(self) -> QWidget:
        page = QWidget()
        self.area_list = QListWidget()
        self.area_list.setObjectName("areaList")
        self.area_list.setAccessibleName("Service areas to use (space ticks or unticks)")
        existing = [a.name for a in org.service_areas(self.session)]
        for name in [*DEFAULT_SERVICE_AREAS,
                     *(n for n in existing if n.lower() not in
                       {d.lower() for d in DEFAULT_SERVICE_AREAS})]:
            self._add_area_item(name, True)
        if self.area_list.count():
            self.area_list.setCurrentRow(0)
        list_label = QLabel("Service areas to &use (tick each one your council has):")
        list_label.setBuddy(self.area_list)
        self.new_area = QLineEdit()
        self.new_area.setObjectName("newArea")
        self.new_area.setAccessibleName("Name of another service area")
        self.new_area.setPlaceholderText("for example, SEND")
        self.new_area.returnPressed.connect(self.add_area)
        add_label = QLabel("&Other service area:")
        add_label.setBuddy(self.new_area)
        self.add_area_button = QPushButton("A&dd")
        self.add_area_button.setAccessibleName("Add this service area")
        self.add_area_button.clicked.connect(self.add_area)
        row = QHBoxLayout()
        row.addWidget(add_label)
        row.addWidget(self.new_area, 1)
        row.addWidget(self.add_area_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(paragraph(
            "These are the service areas most councils audit. Untick any you do not have and "
            "add your own. Areas can be renamed or retired later in Settings."))
        layout.addWidget(list_label)
        layout.addWidget(self.area_list, 1)
        layout.addLayout(row)
        return page

    def _add_area_item(self, name: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.area_list.addItem(item)
        return item

    def add_area(self) -> None:
        name = self.new_area.text().strip()
        if not name:
            show_problems(self.problems, ["Type the service area's name first."])
            return
        for row in range(self.area_list.count()):
            item = self.area_list.item(row)
            if item.text().lower() == name.lower():
                item.setCheckState(Qt.CheckState.Checked)
                self.area_list.setCurrentItem(item)
                show_problems(self.problems, [f'"{item.text()}" is already in the list; it is '
                                              "now ticked."])
                return
        item = self._add_area_item(name, True)
        self.area_list.setCurrentItem(item)
        self.new_area.clear()
        show_problems(self.problems, [])

    def chosen_areas(self) -> list[str]:
        return [self.area_list.item(r).text() for r in range(self.area_list.count())
                if self.area_list.item(r).checkState() == Qt.CheckState.Checked]

    # -- step 3: teams --------------------------------------------------------------------------
    def _teams_step(self) -> QWidget:
        page = QWidget()
        self.teams_form_host = QWidget()
        self.teams_form = QFormLayout(self.teams_form_host)
        self.teams_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.teams_form_host)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Focus goes straight to the team boxes; the area scrolls to show the focused one.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setAccessibleName("Teams for each service area")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(paragraph(
            "Each service area needs at least one team: one team name per line. A first "
            "name is filled in for you; change it to what your teams are called."))
        layout.addWidget(scroll, 1)
        return page

    def _build_team_fields(self) -> None:
        for area, edit in self._team_edits.items():
            self._team_texts[area] = edit.toPlainText()
        while self.teams_form.rowCount():
            self.teams_form.removeRow(0)
        self._team_edits.clear()
        existing = {a.name.lower(): a.id for a in org.service_areas(self.session)}
        for area in self.chosen_areas():
            text = self._team_texts.get(area)
            if text is None:
                area_id = existing.get(area.lower())
                names = [t.name for t in org.teams(self.session, service_area_id=area_id)] \
                    if area_id is not None else []
                text = "\n".join(names or [default_team_name(area)])
            edit = QPlainTextEdit(text)
            edit.setTabChangesFocus(True)
            edit.setObjectName(f"teams:{area}")
            edit.setAccessibleName(f"Teams in {area}, one per line")
            lines = max(2, min(5, text.count("\n") + 2))
            edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 14)
            label = QLabel(f"{area}:")
            label.setWordWrap(True)
            label.setBuddy(edit)
            self.teams_form.addRow(label, edit)
            self._team_edits[area] = edit

    def team_plan(self) -> list[tuple[str, list[str]]]:
        plan = []
        for area in self.chosen_areas():
            edit = self._team_edits.get(area)
            text = edit.toPlainText() if edit is not None else \
                self._team_texts.get(area, default_team_name(area))
            plan.append((area, [line.strip() for line in text.splitlines() if line.strip()]))
        return plan

    def team_edit(self, area: str) -> QPlainTextEdit:
        return self._team_edits[area]

    # -- step 4: staff --------------------------------------------------------------------------
    def _staff_step(self) -> QWidget:
        page = QWidget()
        self.person_name = QLineEdit()
        self.person_name.setObjectName("personName")
        self.person_name.setAccessibleName("Full name of the person to add")
        self.person_name.returnPressed.connect(self.add_person)  # Enter adds the person
        self.person_account = QLineEdit()
        self.person_account.returnPressed.connect(self.add_person)
        self.person_account.setObjectName("personAccount")
        self.person_account.setAccessibleName("Their Windows account name")
        self.person_account.setPlaceholderText("for example, jsmith (leave blank if they will "
                                               "not sign in)")
        self.person_roles: dict[Role, QCheckBox] = {}
        roles_row = QHBoxLayout()
        for role in ROLE_ORDER:
            box = QCheckBox(ROLE_MNEMONICS[role])
            box.setAccessibleName(f"Role: {role.label}")
            box.setChecked(role is Role.QA_OFFICER)
            self.person_roles[role] = box
            roles_row.addWidget(box)
        roles_row.addStretch(1)
        self.person_team = QComboBox()
        self.person_team.setObjectName("personTeam")
        self.person_team.setAccessibleName("Their team")
        self.add_person_button = QPushButton("&Add person")
        self.add_person_button.setObjectName("addPersonButton")
        self.add_person_button.setAccessibleName("Add this person to the list")
        self.add_person_button.clicked.connect(self.add_person)
        self.people_list = QListWidget()
        self.people_list.setObjectName("peopleList")
        self.people_list.setAccessibleName("People to add")
        self.people_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.remove_person_button = QPushButton("Remove se&lected")
        self.remove_person_button.setAccessibleName("Remove the selected person from the list")
        self.remove_person_button.clicked.connect(self.remove_person)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, widget in (("Full na&me:", self.person_name),
                             ("&Windows account:", self.person_account)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        roles_label = QLabel("Roles:")
        form.addRow(roles_label, roles_row)
        label = QLabel("&Team:")
        label.setBuddy(self.person_team)
        form.addRow(label, self.person_team)
        add_row = QHBoxLayout()
        add_row.addStretch(1)
        add_row.addWidget(self.add_person_button)
        form.addRow(add_row)
        list_label = QLabel("&People to add:")
        list_label.setBuddy(self.people_list)
        remove_row = QHBoxLayout()
        remove_row.addStretch(1)
        remove_row.addWidget(self.remove_person_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(paragraph(
            f"You ({self.session.actor.display_name}) are already the administrator. Add the "
            "people who will log, moderate or manage audits now, or later in Settings → Staff. "
            "QA officers log audits; moderators re-check grades; service managers lead the "
            "reflective conversations; administrators change settings."))
        layout.addLayout(form)
        layout.addWidget(list_label)
        layout.addWidget(self.people_list, 1)
        layout.addLayout(remove_row)
        return page

    def _fill_team_choices(self) -> None:
        current = self.person_team.currentData()
        self.person_team.clear()
        self.person_team.addItem("(no team)", None)
        for area, teams in self.team_plan():
            for team in teams:
                self.person_team.addItem(f"{area} — {team}", (area, team))
        index = self.person_team.findData(current)
        self.person_team.setCurrentIndex(max(index, 0))

    def add_person(self) -> None:
        name = self.person_name.text().strip()
        account = self.person_account.text().strip() or None
        roles = tuple(r for r, box in self.person_roles.items() if box.isChecked())
        problems = []
        if not name:
            problems.append("Type the person's full name.")
        if account and any((p.os_username or "").lower() == account.lower()
                           for p in self.people):
            problems.append(f'The account "{account}" is already in the list.')
        if account and account.lower() == (self.session.actor.os_username or "").lower():
            problems.append(f'"{account}" is your own account; you are already set up.')
        if problems:
            show_problems(self.problems, problems)
            self.person_name.setFocus()
            return
        person = org.NewStaff(name, account, roles, self.person_team.currentData())
        self.people.append(person)
        self.people_list.addItem(self._describe(person))
        self.person_name.clear()
        self.person_account.clear()
        for role, box in self.person_roles.items():  # the next person starts afresh
            box.setChecked(role is Role.QA_OFFICER)
        self.person_team.setCurrentIndex(0)
        show_problems(self.problems, [])
        self.person_name.setFocus()

    @staticmethod
    def _describe(person: org.NewStaff) -> str:
        account = f" (account {person.os_username})" if person.os_username else \
            " (no account)"
        roles = ", ".join(r.label for r in ROLE_ORDER if r in person.roles) or "no roles"
        team = f"; {person.team[1]}" if person.team else ""
        return f"{person.display_name}{account}: {roles}{team}"

    def remove_person(self) -> None:
        row = self.people_list.currentRow()
        if 0 <= row < len(self.people):
            del self.people[row]
            self.people_list.takeItem(row)

    # -- step 5: check and finish ---------------------------------------------------------------
    def _review_step(self) -> QWidget:
        page = QWidget()
        self.summary = QTextBrowser()
        self.summary.setObjectName("setupSummary")
        self.summary.setAccessibleName("What will be set up")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(paragraph("Nothing has been saved yet. Check the list, then choose "
                                   "Finish set-up to save it all in one go."))
        layout.addWidget(self.summary, 1)
        return page

    def _fill_summary(self) -> None:
        import html

        e = html.escape
        parts = [f"<p><b>Authority:</b> {e(self.authority.text().strip())}<br>"
                 f"<b>Administrator:</b> {e(self.your_name.text().strip())} "
                 f"(account {e(self.session.os_user)})</p>",
                 "<p><b>Service areas and teams</b></p><ul>"]
        for area, teams in self.team_plan():
            parts.append(f"<li>{e(area)}: {e(', '.join(teams))}</li>")
        parts.append("</ul>")
        if self.people:
            parts.append("<p><b>Staff</b></p><ul>")
            parts += [f"<li>{e(self._describe(p))}</li>" for p in self.people]
            parts.append("</ul>")
        else:
            parts.append("<p><b>Staff:</b> nobody else yet (add people later in Settings).</p>")
        self.summary.setHtml("".join(parts))

    # -- moving between steps -------------------------------------------------------------------
    def _step_problems(self, index: int) -> list[str]:
        if index == 0:
            out = []
            if not self.authority.text().strip():
                out.append("Type the authority's name.")
            if not self.your_name.text().strip():
                out.append("Type your name.")
            return out
        if index == 1 and not self.chosen_areas():
            return ["Tick at least one service area."]
        if index == 2:
            return [f"{area} needs at least one team." for area, teams in self.team_plan()
                    if not teams]
        if index == 3 and (self.person_name.text().strip() or
                           self.person_account.text().strip()):
            # A person typed but not added was once dropped without a word.
            who = self.person_name.text().strip() or self.person_account.text().strip()
            return [f"{who} is typed but not added: choose Add person (or press Enter), or "
                    "clear the name and account."]
        return []

    def next_step(self) -> None:
        index = self.steps.currentIndex()
        problems = self._step_problems(index)
        if problems:
            show_problems(self.problems, problems)
            self._focus_step(index)
            return
        self.go_to(index + 1)

    def go_to(self, index: int) -> None:
        index = max(0, min(index, self.steps.count() - 1))
        if index == 2:
            self._build_team_fields()
        if index == 3:
            self._fill_team_choices()
        if index == 4:
            self._fill_summary()
        self.steps.setCurrentIndex(index)
        self.title.setText(STEP_TITLES[index])
        self.title.setAccessibleName(STEP_TITLES[index])
        self.step_label.setText(f"Start for real: step {index + 1} of {self.steps.count()}")
        self.back_button.setEnabled(index > 0)
        last = index == self.steps.count() - 1
        self.next_button.setVisible(not last)
        self.finish_button.setVisible(last)
        (self.finish_button if last else self.next_button).setDefault(True)
        show_problems(self.problems, [])
        self._focus_step(index)

    def _focus_step(self, index: int) -> None:
        """Focus the step's first field (the first empty one on the first step)."""
        first = {0: self.authority, 1: self.area_list, 3: self.person_name,
                 4: self.finish_button}.get(index)
        if index == 0 and self.authority.text().strip() and not self.your_name.text().strip():
            first = self.your_name
        if index == 2 and self._team_edits:
            first = next((e for e in self._team_edits.values() if not e.toPlainText().strip()),
                         next(iter(self._team_edits.values())))
        if first is not None:
            first.setFocus()

    # -- saving ---------------------------------------------------------------------------------
    def finish(self) -> None:
        for index in range(self.steps.count() - 1):
            problems = self._step_problems(index)
            if problems:
                self.go_to(index)
                show_problems(self.problems, problems)
                return
        try:
            from sefton_qa.gui import operations

            authority, you = self.authority.text().strip(), self.your_name.text().strip()
            areas, people = self.team_plan(), self.people
            self.result = operations.call(self.session, lambda s: org.set_up(
                s, authority_name=authority, your_name=you, areas=areas, staff=people))
        except ValidationError as exc:
            fields = [p.field for p in exc.problems]
            step = min((0 if f in ("authority_name", "your_name") else
                        1 if f == "service_areas" else 2 if f.startswith("teams:") else 3)
                       for f in fields)
            self.go_to(step)
            show_problems(self.problems, [p.message for p in exc.problems])
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user, never lost
            show_error(self, exc, title="The store could not be set up")
            return
        self.done.emit()
