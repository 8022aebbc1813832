"""The audit form: log a new audit or edit one, with validation as you type and drafts saved on
their own, so nothing typed is lost.

This module builds the widgets and binds them; what the form does on each event is decided by
its Qt-free presenter, :class:`sefton_qa.services.audit_editor.AuditEditor` (tested without
widgets in ``tests/test_audit_editor.py``), for which :class:`AuditForm` is the view.

Everything it writes goes through :mod:`sefton_qa.services.audits`; every successful write is
announced with ``saved`` (the services' :class:`~sefton_qa.domain.models.Change`), so the main
window can refresh the register and the detail pane.

* A new audit or a draft is saved automatically ~1.5 s after the last change (and when the form
  closes or the application quits): the first save creates the draft, later ones update it with
  the version last saved (optimistic locking; a :class:`ConflictError` is shown in the form,
  which offers to reload).
* A submitted audit is not saved automatically: "Save changes" (Ctrl+S) asks for a reason,
  which goes into the trail.
* A withdrawn audit opens read-only.
* "Undo last saved change" (Ctrl+Shift+Z) undoes the audit's last change through the services,
  so the undo is itself in the history. Ctrl+Z is left to the text fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QCoreApplication, QDate, QEvent, QObject, QSettings, \
    QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from sefton_qa import APP_NAME
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import (
    Audit, AuditInput, AuditType, Role, SectionGrade, Selection, TemplateSection,
)
from sefton_qa.gui import operations
from sefton_qa.gui.date_edit import NO_DATE, TypedDateEdit
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.reason_dialog import ReasonDialog
from sefton_qa.services import kept_drafts
from sefton_qa.services import organisation
from sefton_qa.services.audit_editor import FIELD_NAMES, AuditEditor, Buttons, Mode, Suggestion
from sefton_qa.services.session import Session

GEOMETRY_KEY = "audit_form/geometry"
VALIDATE_DELAY_MS = 250
AUTOSAVE_DELAY_MS = 1500
#: While a draft is kept on this computer (the server cannot be reached), how often the form
#: tries the store again.
KEPT_RETRY_MS = 5000


def _mnemonic_safe(text: str) -> str:
    return text.replace("&", "&&")


@dataclass
class _Section:
    """The widgets of one template section."""

    key: str
    number: int
    title: str
    grade: QComboBox
    notes: QPlainTextEdit
    message: QLabel


class _FieldLabel(QLabel):
    """A field's label. QFormLayout gives each label exactly its size hint, which at some font
    sizes is a pixel or two short of the text as drawn; a little room keeps the last letter."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width() + max(2, self.fontMetrics().averageCharWidth() // 2),
                     hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width() + max(2, self.fontMetrics().averageCharWidth() // 2),
                     hint.height())


class AuditForm(QDialog):
    """New audit (``audit_id`` None) or an existing one. Non-modal: call ``show()``.

    The widgets and how they are bound; what the form does on each event, and everything it
    knows that is not a widget, is its :class:`~sefton_qa.services.audit_editor.AuditEditor`
    (``self.editor``), for which this class is the view."""

    #: The services' Change after every successful write (autosave, submit, edit, undo).
    saved = Signal(object)

    def __init__(self, session: Session, audit_id: int | None = None,
                 parent: QWidget | None = None, *, settings: QSettings | None = None,
                 kept: kept_drafts.KeptDraft | None = None):
        super().__init__(parent)
        self.setModal(False)
        self.setObjectName("auditForm")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.session = session
        if settings is None:
            settings = getattr(parent, "settings", None)
        self.settings = settings if isinstance(settings, QSettings) else QSettings()
        self.reason_dialog: ReasonDialog | None = None
        self._extra_sections: dict[str, SectionGrade] = {}
        self._loaded_section_keys: set[str] = set()
        self.editor = AuditEditor(session, self, audit_id, kept=kept,
                                  run=lambda fn: operations.call(session, fn))
        self.template_id = self.editor.template_id
        self.grades = self.editor.grades

        self._validate_timer = QTimer(self, singleShot=True, interval=VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self._autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self._autosave_timer.timeout.connect(self._autosave)
        self._retry_timer = QTimer(self, interval=KEPT_RETRY_MS)
        self._retry_timer.timeout.connect(self.editor.retry_kept)
        self._timers = {"validate": self._validate_timer, "autosave": self._autosave_timer,
                        "retry": self._retry_timer}

        self._build(self.editor.sections)
        self.editor.beside = frozenset(self.messages)
        self._connect_changes()
        self.editor.start()
        if kept is not None:  # a kept draft is saved at once
            QTimer.singleShot(0, self.save_draft)
        self._restore_geometry()
        self.case_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._save_on_quit)

    # == the editor's state, read where tests and the window look for it ==========================
    audit_id = property(lambda self: self.editor.audit_id)
    version = property(lambda self: self.editor.version)
    status = property(lambda self: self.editor.status)
    problems = property(lambda self: self.editor.problems)
    read_only = property(lambda self: self.editor.read_only)
    in_conflict = property(lambda self: self.editor.in_conflict)
    kept_path = property(lambda self: self.editor.kept_path)
    can_log = property(lambda self: self.editor.can_log)
    is_draft = property(lambda self: self.editor.is_draft)

    def is_dirty(self) -> bool:
        """Whether the form holds anything not yet saved."""
        return self.editor.is_dirty()

    # == building =================================================================================
    def _build(self, sections: list[TemplateSection]) -> None:
        self.title_label = QLabel()
        self.title_label.setObjectName("formTitle")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setWordWrap(True)
        self.save_state_label = QLabel()
        self.save_state_label.setObjectName("saveState")
        self.save_state_label.setAccessibleName("Save state")
        self.save_state_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                           | Qt.AlignmentFlag.AlignVCenter)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.save_state_label)

        # A plain notice for conflicts, read-only audits and errors the fields cannot show.
        self.notice = QFrame()
        self.notice.setObjectName("notice")
        self.notice.setFrameShape(QFrame.Shape.StyledPanel)
        self.notice_label = QLabel()
        self.notice_label.setObjectName("noticeText")
        self.notice_label.setWordWrap(True)
        self.notice_label.setAccessibleName("Notice")
        self.notice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton("Re&load their version")
        self.reload_button.setAccessibleName("Reload the audit as it is now saved")
        self.reload_button.clicked.connect(self.reload)
        notice_layout = QHBoxLayout(self.notice)
        notice_layout.addWidget(self.notice_label, 1)
        notice_layout.addWidget(self.reload_button, 0, Qt.AlignmentFlag.AlignTop)
        self.notice.hide()

        self.messages: dict[str, QLabel] = {}

        # -- the case ----------------------------------------------------------------------------
        self.case_edit = QLineEdit()
        self.case_edit.setObjectName("caseReference")
        self.case_edit.setPlaceholderText("e.g. LCS-123456")
        self.date_edit = TypedDateEdit()
        self.date_edit.setObjectName("auditDate")
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setMinimumDate(NO_DATE)
        self.date_edit.setSpecialValueText("Not set")
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("auditType")
        for audit_type in AuditType:
            self.type_combo.addItem(audit_type.label, audit_type.value)
        self.selection_combo = QComboBox()
        self.selection_combo.setObjectName("selection")
        for how in Selection:
            self.selection_combo.addItem(how.label, how.value)
        self._selection_said = False  # whether the user chose it (else it follows the type)
        # the store's defaults by audit type, read once (a type change must not read the store)
        self._selection_defaults = organisation.selection_defaults(self.session)
        self.area_combo = QComboBox()
        self.area_combo.setObjectName("serviceArea")
        self.team_combo = QComboBox()
        self.team_combo.setObjectName("team")
        self.auditor_combo = QComboBox()
        self.auditor_combo.setObjectName("auditor")
        self.manager_combo = QComboBox()
        self.manager_combo.setObjectName("teamManager")
        for combo in (self.type_combo, self.selection_combo, self.area_combo, self.team_combo,
                      self.auditor_combo, self.manager_combo):
            self._size_combo(combo)

        case_box = QGroupBox("The case")
        case_form = self._form_layout(case_box)
        self._add_row(case_form, "Case &reference", self.case_edit, "case_reference")
        self._add_row(case_form, "Audit &date", self.date_edit, "audit_date",
                      hint="dd/mm/yyyy; Alt+Down opens a calendar")
        self._add_row(case_form, "Audit t&ype", self.type_combo, "audit_type")
        self._add_row(case_form, "Ho&w the case was chosen", self.selection_combo, "selection",
                      hint="A random draw lets the committee pack speak for the whole "
                           "caseload; any other way, for these audits only",
                      accessible="How the case was chosen")
        self._add_row(case_form, "&Service area", self.area_combo, "service_area")
        self._add_row(case_form, "&Team", self.team_combo, "team",
                      hint="The teams of the chosen service area")
        self._add_row(case_form, "Aud&itor", self.auditor_combo, "auditor")
        self._add_row(case_form, "Team &manager (optional)", self.manager_combo, "team_manager",
                      accessible="Team manager (optional)")

        # -- the template's sections -------------------------------------------------------------
        name = self.editor.template_name or "Sections"
        sections_box = QGroupBox(f"{name}: grade each section" if self.editor.template_name
                                 else "Sections")
        sections_layout = QVBoxLayout(sections_box)
        self.sections: dict[str, _Section] = {}
        if not sections:
            none = QLabel("This audit has no template sections to grade.")
            none.setWordWrap(True)
            sections_layout.addWidget(none)
        for number, section in enumerate(sections, start=1):
            if number > 1:
                line = QFrame()
                line.setFrameShape(QFrame.Shape.HLine)
                line.setFrameShadow(QFrame.Shadow.Sunken)
                sections_layout.addWidget(line)
            sections_layout.addLayout(self._build_section(number, section))

        # -- the outcome -------------------------------------------------------------------------
        self.overall_combo = QComboBox()
        self.overall_combo.setObjectName("overallGrade")
        self._size_combo(self.overall_combo)
        self.suggestion_label = QLabel()
        self.suggestion_label.setObjectName("suggestion")
        self.suggestion_label.setAccessibleName("Suggested overall grade")
        self.suggestion_label.setWordWrap(True)
        self.use_suggestion_button = QPushButton("&Use suggestion")
        self.use_suggestion_button.setObjectName("useSuggestion")
        self.use_suggestion_button.setAccessibleName("Use the suggested overall grade")
        self.use_suggestion_button.clicked.connect(self.use_suggestion)
        overall_row = QWidget()
        overall_layout = QGridLayout(overall_row)
        overall_layout.setContentsMargins(0, 0, 0, 0)
        overall_layout.addWidget(self.overall_combo, 0, 0)
        overall_layout.addWidget(self.use_suggestion_button, 0, 1)
        overall_layout.addWidget(self.suggestion_label, 1, 0, 1, 3)
        overall_layout.setColumnStretch(2, 1)

        self.theme_list = QListWidget()
        self.theme_list.setObjectName("themes")
        self.theme_list.setFlow(QListView.Flow.TopToBottom)
        self.theme_list.setWrapping(True)
        self.theme_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.theme_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.themes_chosen_label = QLabel()
        self.themes_chosen_label.setObjectName("themesChosen")
        self.themes_chosen_label.setWordWrap(True)
        self.themes_chosen_label.setAccessibleName("Themes chosen")
        themes_widget = QWidget()
        themes_layout = QVBoxLayout(themes_widget)
        themes_layout.setContentsMargins(0, 0, 0, 0)
        themes_layout.addWidget(self.theme_list)
        themes_layout.addWidget(self.themes_chosen_label)

        self.findings_edit = QPlainTextEdit()
        self.findings_edit.setObjectName("findings")
        self.findings_edit.setTabChangesFocus(True)
        self.findings_edit.setPlaceholderText("What the audit found, in plain words.")
        self.findings_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 7)

        outcome_box = QGroupBox("Outcome")
        outcome_form = self._form_layout(outcome_box)
        self._add_row(outcome_form, "Overall &grade", overall_row, "overall_grade",
                      buddy=self.overall_combo, hint="You decide; the suggestion comes from the "
                                                     "section grades")
        self._add_row(outcome_form, "T&hemes", themes_widget, "themes", buddy=self.theme_list,
                      hint="Space ticks or unticks the theme under the cursor")
        self._add_row(outcome_form, "&Findings", self.findings_edit, "findings")

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.addWidget(case_box)
        content_layout.addWidget(sections_box)
        content_layout.addWidget(outcome_box)
        content_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("formScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)

        # -- the buttons -------------------------------------------------------------------------
        self.undo_button = QPushButton("Und&o")
        self.undo_button.setObjectName("undoButton")
        self.undo_button.setAccessibleName("Undo the last saved change to this audit")
        self.undo_button.setToolTip("Undo this audit's last saved change (Ctrl+Shift+Z); "
                                    "pressed again, the change before. Each undo is recorded "
                                    "in its history.")
        self.undo_button.clicked.connect(self.undo_last_saved_change)
        self.redo_button = QPushButton("Redo")
        self.redo_button.setObjectName("redoButton")
        self.redo_button.setAccessibleName("Redo the change last undone (Ctrl+Shift+Y)")
        self.redo_button.setToolTip("Make the change last undone again (Ctrl+Shift+Y). "
                                    "Recorded in the history too.")
        self.redo_button.clicked.connect(self.redo_last_undone_change)
        self.submit_reason_label = QLabel()
        self.submit_reason_label.setObjectName("submitReason")
        self.submit_reason_label.setAccessibleName("Why Submit is not available")
        self.submit_reason_label.setWordWrap(True)
        self.submit_reason_label.setSizePolicy(QSizePolicy.Policy.Expanding,
                                               QSizePolicy.Policy.Preferred)
        self.save_button = QPushButton("Save dr&aft")
        self.save_button.setObjectName("saveButton")
        self.save_button.setToolTip("Ctrl+S")
        self.save_button.clicked.connect(self.save_changes)
        self.submit_button = QPushButton("Su&bmit")
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setAccessibleName("Submit the audit")
        self.submit_button.setToolTip("Ctrl+Enter")
        self.submit_button.clicked.connect(self.submit)
        self.close_button = QPushButton("Clos&e")
        self.close_button.setObjectName("closeButton")
        self.close_button.setAccessibleName("Close the form (a draft is saved first)")
        self.close_button.setToolTip("Escape. A draft is saved first.")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.close_button)
        for button in (self.reload_button, self.use_suggestion_button, self.undo_button,
                       self.redo_button, self.save_button, self.submit_button,
                       self.close_button):
            # Enter in a text field must never press a button behind the user's back.
            button.setAutoDefault(False)
            button.setDefault(False)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.notice)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.submit_reason_label)
        layout.addLayout(buttons)

        # -- keyboard ----------------------------------------------------------------------------
        self.save_action = self._action("Save", QKeySequence.StandardKey.Save, self.save_changes)
        self.submit_action = self._action("Submit", [QKeySequence("Ctrl+Return"),
                                                     QKeySequence("Ctrl+Enter")], self.submit)
        # Ctrl+Z stays with the text fields (their own undo); this is the form's undo.
        self.undo_action = self._action("Undo last saved change", QKeySequence("Ctrl+Shift+Z"),
                                        self.undo_last_saved_change)
        self.redo_action = self._action("Redo the change last undone",
                                        QKeySequence("Ctrl+Shift+Y"),
                                        self.redo_last_undone_change)
        order = [self.case_edit, self.date_edit, self.type_combo, self.selection_combo,
                 self.area_combo,
                 self.team_combo, self.auditor_combo, self.manager_combo]
        for section in self.sections.values():
            order += [section.grade, section.notes]
        order += [self.overall_combo, self.use_suggestion_button, self.theme_list,
                  self.findings_edit, self.undo_button, self.redo_button, self.save_button,
                  self.submit_button,
                  self.close_button, self.reload_button]
        for first, second in zip(order, order[1:]):
            self.setTabOrder(first, second)
        for widget in order:
            widget.installEventFilter(self)

    def _action(self, text: str, keys, slot) -> QAction:
        action = QAction(text, self)
        if isinstance(keys, list):
            action.setShortcuts(keys)
        else:
            action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _size_combo(self, combo: QComboBox) -> None:
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(28)
        combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def _form_layout(self, box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return form

    def _message_label(self, field: str, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(f"message:{field}")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAccessibleName(f"Problem with {name}")
        label.hide()
        self.messages[field] = label
        return label

    def _add_row(self, form: QFormLayout, text: str, field_widget: QWidget, field: str, *,
                 buddy: QWidget | None = None, hint: str = "",
                 accessible: str | None = None) -> None:
        buddy = buddy or field_widget
        name = accessible or text.replace("&", "")
        buddy.setAccessibleName(name)
        if hint:
            buddy.setAccessibleDescription(hint)
            buddy.setToolTip(hint)
        label = _FieldLabel(text)
        label.setBuddy(buddy)
        container = QWidget()
        # The row takes the form's whole width, so a message under a narrow field (the date)
        # wraps across it instead of being cut off; the field itself keeps its own width.
        container.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        box = QVBoxLayout(container)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(field_widget)
        if field_widget.sizePolicy().horizontalPolicy() not in (
                QSizePolicy.Policy.Expanding, QSizePolicy.Policy.MinimumExpanding):
            line.addStretch(1)
        box.addLayout(line)
        box.addWidget(self._message_label(field, FIELD_NAMES.get(field, name.lower())))
        form.addRow(label, container)

    def _build_section(self, number: int, section: TemplateSection) -> QGridLayout:
        grid = QGridLayout()
        grid.setColumnStretch(0, 1)
        mnemonic = f"&{number}" if number <= 9 else str(number)
        title = QLabel(f"{mnemonic}. {_mnemonic_safe(section.title)}")
        title.setWordWrap(True)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        grade = QComboBox()
        grade.setObjectName(f"grade:{section.key}")
        self._size_combo(grade)
        grade.setMinimumContentsLength(24)
        grade.setAccessibleName(f"Grade for section {number}, {section.title}")
        title.setBuddy(grade)
        grid.addWidget(title, 0, 0)
        grid.addWidget(grade, 0, 1, Qt.AlignmentFlag.AlignTop)
        row = 1
        if section.prompt:
            prompt = QLabel(section.prompt)
            prompt.setWordWrap(True)
            font = prompt.font()
            font.setItalic(True)
            prompt.setFont(font)
            grade.setAccessibleDescription(section.prompt)
            grid.addWidget(prompt, row, 0, 1, 2)
            row += 1
        notes = QPlainTextEdit()
        notes.setObjectName(f"notes:{section.key}")
        notes.setTabChangesFocus(True)
        notes.setAccessibleName(f"Notes for section {number}, {section.title}")
        notes.setFixedHeight(self.fontMetrics().lineSpacing() * 2
                             + 2 * notes.frameWidth() + 8)
        # The same mnemonic on every section's notes: Alt+N goes from one to the next.
        notes_label = _FieldLabel("&Notes")
        notes_label.setBuddy(notes)
        notes_row = QHBoxLayout()
        notes_row.addWidget(notes_label, 0, Qt.AlignmentFlag.AlignTop)
        notes_row.addWidget(notes, 1)
        grid.addLayout(notes_row, row, 0, 1, 2)
        field = f"section:{section.key}"
        message = self._message_label(field, f"section {number}")
        grid.addWidget(message, row + 1, 0, 1, 2)
        self.sections[section.key] = _Section(section.key, number, section.title, grade, notes,
                                              message)
        return grid

    def _connect_changes(self) -> None:
        self.case_edit.textChanged.connect(lambda: self._changed("case_reference"))
        self.date_edit.dateChanged.connect(lambda: self._changed("audit_date"))
        self.date_edit.impossible_changed.connect(self._date_judged)
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.selection_combo.currentIndexChanged.connect(self._selection_changed)
        self.area_combo.currentIndexChanged.connect(self._area_changed)
        self.team_combo.currentIndexChanged.connect(self._team_changed)
        self.auditor_combo.currentIndexChanged.connect(lambda: self._changed("auditor"))
        self.manager_combo.currentIndexChanged.connect(lambda: self._changed("team_manager"))
        for section in self.sections.values():
            field = f"section:{section.key}"
            section.grade.currentIndexChanged.connect(
                lambda _=None, f=field: self._changed(f))
            section.notes.textChanged.connect(lambda f=field: self._changed(f))
        self.overall_combo.currentIndexChanged.connect(lambda: self._changed("overall_grade"))
        self.theme_list.itemChanged.connect(lambda _item: self._changed("themes"))
        self.findings_edit.textChanged.connect(lambda: self._changed("findings"))

    # == filling the widgets ======================================================================
    def _fill(self, combo: QComboBox, blank: str | None, items: list[tuple[str, object]],
              value) -> None:
        """Replace a combo's items and select ``value`` (the blank item when it is not there)."""
        combo.blockSignals(True)
        combo.clear()
        if blank is not None:
            combo.addItem(blank)
        for text, data in items:
            if text is None:
                combo.insertSeparator(combo.count())
            else:
                combo.addItem(text, data)
        index = combo.findData(value) if value is not None else -1
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)

    def _grade_items(self, current: Grade | None) -> list[tuple[str, object]]:
        grades = list(self.grades)
        if current is not None and current not in grades:
            grades.append(current)  # shown so it can be seen and changed; validation says why
        return [(g.label if g in self.grades else f"{g.label} (not on the scale)", g.value)
                for g in grades]

    def _fill_areas(self, value: int | None) -> None:
        areas = organisation.service_areas(self.session)
        items = [(a.name if a.active else f"{a.name} (no longer in use)", a.id)
                 for a in areas if a.active or a.id == value]
        self._fill(self.area_combo, "Choose a service area…", items, value)

    def _fill_teams(self, area_id: int | None, value: int | None) -> None:
        teams = [] if area_id is None else organisation.teams(self.session,
                                                              service_area_id=area_id)
        items = [(t.name if t.active else f"{t.name} (no longer in use)", t.id)
                 for t in teams if t.active or t.id == value]
        blank = "Choose a team…" if area_id is not None else "Choose a service area first"
        self._fill(self.team_combo, blank, items, value)

    def _fill_auditors(self, value: int | None) -> None:
        staff = organisation.staff(self.session)
        items = [(s.display_name if s.active else f"{s.display_name} (inactive)", s.id)
                 for s in sorted(staff, key=lambda s: s.display_name.lower())
                 if (s.active and s.has_role(Role.QA_OFFICER)) or s.id == value]
        self._fill(self.auditor_combo, "Choose the auditor…", items, value)

    def _fill_managers(self, team_id: int | None, value: int | None) -> None:
        staff = sorted(organisation.staff(self.session), key=lambda s: s.display_name.lower())
        usable = [s for s in staff if s.active or s.id == value]
        in_team = [(s.display_name, s.id) for s in usable if team_id and s.team_id == team_id]
        others = [(s.display_name if s.active else f"{s.display_name} (inactive)", s.id)
                  for s in usable if not (team_id and s.team_id == team_id)]
        items = in_team + ([(None, None)] if in_team and others else []) + others
        self._fill(self.manager_combo, "Not recorded", items, value)

    def _fill_themes(self, chosen: list[int] | tuple[int, ...]) -> None:
        self.theme_list.blockSignals(True)
        self.theme_list.clear()
        for theme in organisation.themes(self.session):
            if not theme.active and theme.id not in chosen:
                continue
            text = theme.name if theme.active else f"{theme.name} (no longer in use)"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, theme.id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if theme.id in chosen
                               else Qt.CheckState.Unchecked)
            self.theme_list.addItem(item)
        self.theme_list.blockSignals(False)
        self._size_theme_list()
        self._update_themes_label()

    def _size_theme_list(self) -> None:
        """Two columns of themes, each as wide as the longest name, so none is cut short."""
        count = self.theme_list.count()
        if not count:
            self.theme_list.setFixedHeight(self.fontMetrics().lineSpacing() * 2)
            return
        fm = self.theme_list.fontMetrics()
        check = self.style().pixelMetric(self.style().PixelMetric.PM_IndicatorWidth)
        widest = max(fm.horizontalAdvance(self.theme_list.item(i).text()) for i in range(count))
        row_height = max(self.theme_list.sizeHintForRow(0), fm.lineSpacing() + 4)
        self.theme_list.setGridSize(QSize(widest + check + 3 * fm.averageCharWidth() + 8,
                                          row_height))
        column_width = self.theme_list.gridSize().width()
        rows = (count + 1) // 2
        if rows <= 10:  # everything shows: two columns, no scroll bar
            self.theme_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.theme_list.setMinimumWidth(2 * column_width + 2 * self.theme_list.frameWidth()
                                            + 4)
            extra = 0
        else:  # a long list: ten rows, and more columns to scroll to
            rows = 10
            self.theme_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            extra = self.theme_list.horizontalScrollBar().sizeHint().height()
        self.theme_list.setFixedHeight(rows * row_height + 2 * self.theme_list.frameWidth()
                                       + extra + row_height // 2)


    def _set_date(self, date: dt.date | None) -> None:
        self.date_edit.setDate(QDate(date.year, date.month, date.day) if date else NO_DATE)

    # == the editor's view: showing ===============================================================
    def show_values(self, values: Audit | AuditInput | None, *,
                    auditor_id: int | None) -> None:
        """Put an audit's values (saved, or kept on this computer) into the widgets; None
        clears them for a new audit."""
        with self.editor.filling():
            if values is None:
                self.case_edit.clear()
                self._set_date(self.session.today())
                self.type_combo.setCurrentIndex(0)
                self._selection_said = False
                self._show_selection(None)
                self._fill_areas(None)
                self._fill_teams(None, None)
                self._fill_auditors(auditor_id)
                self._fill_managers(None, None)
                for section in self.sections.values():
                    self._fill(section.grade, "Not graded", self._grade_items(None), None)
                    section.notes.setPlainText("")
                self._fill(self.overall_combo, "Not chosen yet", self._grade_items(None), None)
                self._fill_themes([])
                self.findings_edit.setPlainText("")
                self._extra_sections, self._loaded_section_keys = {}, set()
                return
            self.case_edit.setText(values.case_reference or "")
            self._set_date(values.audit_date)
            self.type_combo.setCurrentIndex(
                max(0, self.type_combo.findData(values.audit_type.value)))
            self._selection_said = values.selection is not None
            self._show_selection(values.selection)
            self._fill_areas(values.service_area_id)
            self._fill_teams(values.service_area_id, values.team_id)
            self._fill_auditors(auditor_id)
            self._fill_managers(values.team_id, values.team_manager_id)
            self._extra_sections = {k: v for k, v in values.sections.items()
                                    if k not in self.sections}
            self._loaded_section_keys = set(values.sections)
            for key, section in self.sections.items():
                saved = values.sections.get(key, SectionGrade(None))
                self._fill(section.grade, "Not graded", self._grade_items(saved.grade),
                           saved.grade.value if saved.grade else None)
                section.notes.setPlainText(saved.notes)
            self._fill(self.overall_combo, "Not chosen yet",
                       self._grade_items(values.overall_grade),
                       values.overall_grade.value if values.overall_grade else None)
            self._fill_themes(values.theme_ids)
            self.findings_edit.setPlainText(values.findings)

    def show_auditor(self, auditor_id: int) -> None:
        self._fill_auditors(auditor_id)

    def show_save_state(self, text: str) -> None:
        self.save_state_label.setText(text)

    def show_notice(self, text: str, *, offer_reload: bool = False, details: str = "") -> None:
        self.notice_label.setText(text)
        self.notice_label.setToolTip(details)
        self.reload_button.setVisible(offer_reload)
        self.notice.show()

    def hide_notice(self) -> None:
        self.notice.hide()
        self.notice_label.clear()
        self.notice_label.setToolTip("")

    def show_problems(self, beside: dict[str, list[str]], general: list[str]) -> None:
        for name, label in self.messages.items():
            texts = beside.get(name)
            label.setText("Problem: " + " ".join(texts) if texts else "")
            label.setVisible(bool(texts))
            widget = self._widget_of(name)
            if widget is not None:
                widget.setAccessibleDescription(label.text())

    def show_suggestion(self, suggestion: Suggestion) -> None:
        self.suggested = suggestion.grade
        self.suggestion_label.setText(suggestion.text)
        self.use_suggestion_button.setEnabled(suggestion.offer)

    def show_mode(self, mode: Mode) -> None:
        ro = mode.read_only
        for edit in (self.case_edit, self.findings_edit):
            edit.setReadOnly(ro)
        self.date_edit.setReadOnly(ro)
        for combo in (self.type_combo, self.selection_combo, self.area_combo, self.team_combo,
                      self.auditor_combo, self.manager_combo, self.overall_combo):
            combo.setEnabled(not ro)
        for section in self.sections.values():
            section.grade.setEnabled(not ro)
            section.notes.setReadOnly(ro)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not ro:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        self.theme_list.blockSignals(True)
        for i in range(self.theme_list.count()):
            self.theme_list.item(i).setFlags(flags)
        self.theme_list.blockSignals(False)
        draft = mode.draft
        self.submit_button.setVisible(draft and not ro)
        self.submit_action.setEnabled(draft and not ro)
        self.save_button.setVisible(not ro)
        self.save_action.setEnabled(not ro)
        self.save_button.setText("Save dr&aft" if draft else "Save &changes…")
        self.save_button.setAccessibleName("Save the draft now" if draft
                                           else "Save changes (asks for a reason)")
        self.submit_reason_label.setVisible(not ro)
        self.reload_button.hide()
        self.title_label.setText(mode.title)
        self.setWindowTitle(f"{mode.title} — {APP_NAME}")

    def show_buttons(self, buttons: Buttons) -> None:
        def shown(words: str) -> str:
            return words if len(words) <= 40 else words[:39] + "…"

        self.undo_button.setEnabled(buttons.undo is not None)
        self.undo_action.setEnabled(buttons.undo is not None)
        self.undo_button.setText(f"Und&o: {shown(buttons.undo)}" if buttons.undo else "Und&o")
        self.redo_button.setEnabled(buttons.redo is not None)
        self.redo_action.setEnabled(buttons.redo is not None)
        self.redo_button.setText(f"Redo: {shown(buttons.redo)}" if buttons.redo else "Redo")
        if buttons.why is None:  # read-only: nothing to submit or save
            return
        self.submit_reason_label.setText(buttons.why)
        self.submit_button.setEnabled(buttons.submit)
        self.save_button.setEnabled(buttons.save)

    def go_to_field(self, name: str) -> bool:
        widget = self._widget_of(name)
        if widget is None:
            return False
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        self.scroll.ensureWidgetVisible(widget)
        return True

    def start_timer(self, which: str) -> None:
        self._timers[which].start()

    def stop_timer(self, which: str) -> None:
        self._timers[which].stop()

    def announce(self, change) -> None:
        self.saved.emit(change)

    def ask_reason(self, then) -> None:
        self.reason_dialog = ReasonDialog(self)
        self.reason_dialog.accepted.connect(
            lambda dialog=self.reason_dialog: then(dialog.reason()))
        # The dialog has gone: the keyboard goes back to the form (the save waits in a local
        # event loop, which would otherwise leave the hidden dialog the active window).
        self.reason_dialog.finished.connect(lambda _r: self.activateWindow())
        self.reason_dialog.open()

    def ask_discard(self, text: str) -> bool:
        """Ask before anything typed is thrown away. True means discard."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes", text, parent=self)
        discard = box.addButton("&Discard them", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is discard

    def show_unexpected(self, exc: BaseException, title: str) -> None:
        show_error(self, exc, title=title)

    def close_form(self, accepted: bool) -> None:
        self._remember_geometry()
        super().done(QDialog.DialogCode.Accepted if accepted else QDialog.DialogCode.Rejected)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.audit_id is not None:
            # QDialog selects the first field's text as it shows; an existing audit's case
            # reference must not be replaced by the first key pressed.
            QTimer.singleShot(0, self._unselect_case_reference)

    @Slot()
    def _unselect_case_reference(self) -> None:
        if self.case_edit.hasSelectedText():
            self.case_edit.deselect()
            self.case_edit.end(False)

    # == the editor's view: reading the widgets ===================================================
    def current_input(self) -> AuditInput:
        """What the form holds now, as the services take it."""
        date = self.date_edit.date()
        sections = dict(self._extra_sections)
        for key, section in self.sections.items():
            value = section.grade.currentData()
            notes = section.notes.toPlainText()
            # A section the audit already had stays, even blank, so saving an unrelated
            # change does not rewrite it.
            if value or notes or key in self._loaded_section_keys:
                sections[key] = SectionGrade(Grade(value) if value else None, notes)
        overall = self.overall_combo.currentData()
        return AuditInput(
            case_reference=self.case_edit.text(),
            audit_type=AuditType(self.type_combo.currentData()),
            audit_date=None if date == NO_DATE else dt.date(date.year(), date.month(),
                                                             date.day()),
            service_area_id=self.area_combo.currentData(),
            team_id=self.team_combo.currentData(),
            auditor_id=self.auditor_combo.currentData(),
            team_manager_id=self.manager_combo.currentData(),
            template_id=self.template_id,
            sections=sections,
            overall_grade=Grade(overall) if overall else None,
            theme_ids=sorted(self.chosen_theme_ids()),
            findings=self.findings_edit.toPlainText(),
            selection=Selection(self.selection_combo.currentData()),
        )

    def impossible_date(self) -> str | None:
        return self.date_edit.impossible

    def chosen_theme_ids(self) -> list[int]:
        return [self.theme_list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.theme_list.count())
                if self.theme_list.item(i).checkState() == Qt.CheckState.Checked]

    # == binding the user's changes to the editor =================================================
    def _changed(self, name: str) -> None:
        if self.editor.loading:
            return
        if name == "themes":
            self._update_themes_label()
        self.editor.changed(name)

    def _show_selection(self, value: Selection | None) -> None:
        """Show how the case was chosen; None: the store's default for the audit's type."""
        if value is None:
            kind = AuditType(self.type_combo.currentData())
            value = self._selection_defaults[kind]
        self.selection_combo.setCurrentIndex(max(0, self.selection_combo.findData(value.value)))

    def _type_changed(self) -> None:
        if self.editor.loading:
            return
        if not self._selection_said:  # still the default: the new type's default
            with self.editor.filling():
                self._show_selection(None)
        self._changed("audit_type")

    def _selection_changed(self) -> None:
        if self.editor.loading:
            return
        self._selection_said = True
        self._changed("selection")

    def _area_changed(self) -> None:
        if self.editor.loading:
            return
        team = self.team_combo.currentData()
        with self.editor.filling():
            self._fill_teams(self.area_combo.currentData(), team)
            self._fill_managers(self.team_combo.currentData(), self.manager_combo.currentData())
        self._changed("service_area")

    def _team_changed(self) -> None:
        if self.editor.loading:
            return
        with self.editor.filling():
            self._fill_managers(self.team_combo.currentData(), self.manager_combo.currentData())
        self._changed("team")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Leaving a field counts as touching it: its "is required" may show from then on."""
        if event.type() == QEvent.Type.FocusOut and event.reason() in (
                Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason,
                Qt.FocusReason.MouseFocusReason, Qt.FocusReason.ShortcutFocusReason):
            # (not a combo's list opening, nor another window coming to the front)
            name = self._field_of(watched)
            if name:
                self.editor.left(name)
        return super().eventFilter(watched, event)

    def _field_of(self, widget: QObject) -> str | None:
        fields = {self.case_edit: "case_reference", self.date_edit: "audit_date",
                  self.type_combo: "audit_type", self.selection_combo: "selection",
                  self.area_combo: "service_area",
                  self.team_combo: "team", self.auditor_combo: "auditor",
                  self.manager_combo: "team_manager", self.overall_combo: "overall_grade",
                  self.theme_list: "themes", self.findings_edit: "findings"}
        if widget in fields:
            return fields[widget]
        for section in self.sections.values():
            if widget in (section.grade, section.notes):
                return f"section:{section.key}"
        return None

    def _widget_of(self, name: str) -> QWidget | None:
        widgets = {"case_reference": self.case_edit, "audit_date": self.date_edit,
                   "audit_type": self.type_combo, "selection": self.selection_combo,
                   "service_area": self.area_combo,
                   "team": self.team_combo, "auditor": self.auditor_combo,
                   "team_manager": self.manager_combo, "overall_grade": self.overall_combo,
                   "themes": self.theme_list, "findings": self.findings_edit}
        if name.startswith("section:") and name[8:] in self.sections:
            return self.sections[name[8:]].grade
        return widgets.get(name)

    def _update_themes_label(self) -> None:
        names = [self.theme_list.item(i).text() for i in range(self.theme_list.count())
                 if self.theme_list.item(i).checkState() == Qt.CheckState.Checked]
        self.themes_chosen_label.setText(
            f"{len(names)} chosen: {', '.join(names)}" if names else "No themes chosen")

    @Slot()
    def use_suggestion(self) -> None:
        suggested = self.editor.suggestion.grade
        if suggested is None or self.read_only:
            return
        index = self.overall_combo.findData(suggested.value)
        if index >= 0:
            self.overall_combo.setCurrentIndex(index)
        self.overall_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    # == the user's commands, passed to the editor ================================================
    @Slot()
    def validate_now(self):
        return self.editor.validate_now()

    @Slot()
    def _date_judged(self) -> None:
        self.editor.date_judged()

    @Slot()
    def _autosave(self) -> None:
        self.editor.autosave()

    @Slot()
    def save_draft(self) -> bool:
        return self.editor.save_draft()

    @Slot()
    def save_changes(self) -> None:
        self.editor.save_changes()

    @Slot()
    def submit(self) -> bool:
        return self.editor.submit()

    @Slot()
    def undo_last_saved_change(self) -> bool:
        return self.editor.undo()

    @Slot()
    def redo_last_undone_change(self) -> bool:
        return self.editor.redo()

    @Slot()
    def reload(self) -> None:
        self.editor.reload()

    def check_changed_elsewhere(self) -> bool:
        return self.editor.check_changed_elsewhere()

    # == closing ==================================================================================
    def done(self, result: int) -> None:
        """Escape, Close and the window's close button all come here: save the draft first."""
        if not self.editor.ready_to_close():
            return
        self.editor.close_now(accepted=result == QDialog.DialogCode.Accepted)

    @Slot()
    def _save_on_quit(self) -> None:
        """The application is quitting: save a draft without asking anything."""
        try:
            if self.isVisible():
                self.editor.save_on_quit()
        except RuntimeError:  # the C++ side is already gone
            pass

    # == remembering the size =====================================================================
    def _restore_geometry(self) -> None:
        geometry = self.settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
            return
        fm = self.fontMetrics()
        width, height = fm.averageCharWidth() * 120, fm.lineSpacing() * 48
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, available.width() - 40)
            height = min(height, available.height() - 60)
        self.resize(width, height)

    def _remember_geometry(self) -> None:
        self.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.settings.sync()
