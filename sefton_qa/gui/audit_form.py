"""The audit form: log a new audit or edit one, with validation as you type and drafts saved on
their own, so nothing typed is lost.

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

import copy
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QCoreApplication, QDate, QEvent, QObject, QSettings, \
    QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
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
from sefton_qa.domain.errors import (
    ConflictError, FieldProblem, SeftonError, ServerUnreachable, ValidationError,
)
from sefton_qa.domain.wording import AUDIT_FIELD_LABELS
from sefton_qa.domain.grades import Grade, active_grades, suggest_overall
from sefton_qa.domain.models import (
    Audit,
    AuditInput,
    AuditStatus,
    AuditType,
    Role,
    SectionGrade,
    TemplateSection,
)
from sefton_qa.gui import operations
from sefton_qa.gui.errors import show_error
from sefton_qa.services import audits as audit_service
from sefton_qa.services import kept_drafts
from sefton_qa.services import organisation
from sefton_qa.services.session import Session
from sefton_qa.store import templates as template_store
from sefton_qa.domain.wording import local_time_text

GEOMETRY_KEY = "audit_form/geometry"
VALIDATE_DELAY_MS = 250
AUTOSAVE_DELAY_MS = 1500
#: While a draft is kept on this computer (the server cannot be reached), how often the form
#: tries the store again.
KEPT_RETRY_MS = 5000
#: A QDateEdit cannot be empty: its minimum date stands for "no date" and shows as "Not set".
NO_DATE = QDate(1900, 1, 1)

#: Field names in sentences ("audit date is required"): the form's labels, in lower case.
FIELD_NAMES = {field: label.lower() for field, label in AUDIT_FIELD_LABELS.items()}


def _sentence(name: str, message: str) -> str:
    """ "case reference", "is required" → "Case reference is required." """
    from sefton_qa.domain.wording import problem_sentence

    if not message:
        return problem_sentence(None, name, full_stop=True)
    return problem_sentence(name, message, full_stop=True)


def _mnemonic_safe(text: str) -> str:
    return text.replace("&", "&&")


def _now_hhmm() -> str:
    return dt.datetime.now().strftime("%H:%M")




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


_TYPED_DATE = (re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"),
               re.compile(r"(\d{2})(\d{2})(\d{4})"))


def impossible_date(typed: str) -> str | None:
    """What is wrong with a whole date typed as ``typed`` ("31/02/2024"), or None when it is a
    real date or not a whole date yet."""
    for pattern in _TYPED_DATE:
        match = pattern.fullmatch(typed)
        if match:
            day, month, year = (int(g) for g in match.groups())
            if not 1 <= month <= 12:
                return f"There is no month {month}: type the date as day/month/year"
            try:
                dt.date(year, month, day)
            except ValueError:
                name = dt.date(2000, month, 1).strftime("%B")
                return f"There is no {day} {name} {year}"
            return None
    return None


class _DateEdit(QDateEdit):
    """A date field that Tab leaves in one press (a plain QDateEdit tabs through day, month and
    year first). Typing "25/11/2026" still moves from part to part; so do Left and Right.

    Qt quietly makes an impossible date possible as it is typed (31/02/2024 becomes 28/02/2024).
    The keys typed are kept, so the form can say "There is no 31 February 2024" and refuse to
    save the date Qt put in its place: ``impossible`` holds that sentence until a real date is
    typed or set."""

    _tabbing = False
    _moved_on = False
    impossible_changed = Signal()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._typed = ""
        self.impossible: str | None = None

    def _set_impossible(self, message: str | None) -> None:
        if message != self.impossible:
            self.impossible = message
            self.impossible_changed.emit()

    def setDate(self, date) -> None:  # noqa: N802 (Qt's name): a date set is a real one
        self._typed = ""
        self._set_impossible(None)
        super().setDate(date)

    def keyPressEvent(self, event) -> None:
        # Typing "01/12/2026": Qt moves on to the month by itself once "01" is typed, so the
        # "/" the user types next must not move on again (to the year).
        text = event.text()
        if text and (text.isdigit() or text in "/.-"):
            if impossible_date(self._typed) is not None or _whole(self._typed):
                self._typed = ""  # a new date is being typed
            self._typed += text
        elif event.key() not in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Shift):
            self._typed = ""  # edited some other way: only whole typed dates are judged
        if text and text in "/.-" and self._moved_on:
            self._moved_on = False
            event.accept()
            self._judge()
            return
        before = self.currentSectionIndex()
        super().keyPressEvent(event)
        self._moved_on = bool(text) and text.isdigit() and self.currentSectionIndex() != before
        self._judge()

    def _judge(self) -> None:
        if _whole(self._typed):
            self._set_impossible(impossible_date(self._typed))

    def focusInEvent(self, event) -> None:
        self._moved_on = False
        self._typed = ""
        super().focusInEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Tab,
                                                                      Qt.Key.Key_Backtab):
            self._tabbing = True
            try:
                return super().event(event)
            finally:
                self._tabbing = False
        return super().event(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 (Qt's name)
        # QDateEdit also calls this to move on to the next part of the date as one is typed;
        # only a real Tab leaves the field.
        if self._tabbing:
            return QWidget.focusNextPrevChild(self, next)
        return super().focusNextPrevChild(next)


def _whole(typed: str) -> bool:
    return any(p.fullmatch(typed) for p in _TYPED_DATE)


class ReasonDialog(QDialog):
    """Asks why a submitted audit is being changed. The reason is required; it goes into the
    audit's history."""

    def __init__(self, parent: QWidget | None = None, *, action: str = "changing it"):
        super().__init__(parent)
        self.setWindowTitle("Reason for the change")
        self.setObjectName("reasonDialog")
        intro = QLabel(f"This audit has been submitted, so say why you are {action}. The "
                       "reason is kept in the audit's history.")
        intro.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setAccessibleName("Reason for the change")
        label = QLabel("&Reason (required):")
        label.setBuddy(self.reason_edit)
        self.hint = QLabel("A reason is required before the change can be saved.")
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("Why Save is not available")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Save with this reason")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(label)
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._update)
        self._update()
        self.resize(max(self.sizeHint().width(), self.fontMetrics().averageCharWidth() * 70),
                    self.sizeHint().height())

    def reason(self) -> str:
        return self.reason_edit.text().strip()

    def _update(self) -> None:
        ok = bool(self.reason())
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)
        self.hint.setVisible(not ok)

    def accept(self) -> None:
        if self.reason():
            super().accept()


class AuditForm(QDialog):
    """New audit (``audit_id`` None) or an existing one. Non-modal: call ``show()``."""

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
        self.audit_id: int | None = audit_id
        self.version: int | None = None
        self.status: AuditStatus | None = None
        self.problems: list[FieldProblem] = []
        self.read_only = False
        self.in_conflict = False
        self.reason_dialog: ReasonDialog | None = None
        self._touched: set[str] = set()
        self._show_all = False
        self._loading = True
        self._extra_sections: dict[str, SectionGrade] = {}
        self._loaded_section_keys: set[str] = set()
        self.can_log = any(session.actor.has_role(r) for r in audit_service.LOGGERS)
        self._writing = False
        #: The file this form's draft is kept in while the server cannot be reached (None
        #: when it is safely in the store); its name stays the same, so keeping replaces it.
        self.kept_path: Path | None = kept.path if kept is not None else None
        self._kept_name = kept.path.name if kept is not None else \
            kept_drafts.new_name(session.store.location)
        self._retry_timer = QTimer(self, interval=KEPT_RETRY_MS)
        self._retry_timer.timeout.connect(self._retry_kept)

        if kept is not None:
            audit_id = kept.audit_id
        audit = audit_service.get_audit(session, audit_id) if audit_id is not None else None
        if audit is not None and audit.template_id is not None:
            self.template = template_store.get(session.store.conn, audit.template_id)
        elif audit is None:
            self.template = template_store.current(session.store.conn)
        else:
            self.template = None
        # An audit keeps the template it was made with, even one no longer on file.
        self.template_id = audit.template_id if audit is not None else \
            (self.template.id if self.template else None)
        sections = list(self.template.sections) if self.template else []
        if audit is not None:  # sections the audit has that its template does not name
            known = {s.key for s in sections}
            sections += [TemplateSection(k, k.replace("_", " ").capitalize())
                         for k in audit.sections if k not in known]
        settings_values = organisation.settings(session)
        self.grades = active_grades(bool(settings_values.get("outstanding_enabled", False)))

        self._validate_timer = QTimer(self, singleShot=True, interval=VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self._autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self._autosave_timer.timeout.connect(self._autosave)

        self._build(sections)
        self._connect_changes()
        if audit is not None:
            self._load(audit)
        else:
            self._load_new()
        if kept is not None:
            self._show_kept(kept)
        self._restore_geometry()
        self.case_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._save_on_quit)

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
        self.date_edit = _DateEdit()
        self.date_edit.setObjectName("auditDate")
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setMinimumDate(NO_DATE)
        self.date_edit.setSpecialValueText("Not set")
        self.type_combo = QComboBox()
        self.type_combo.setObjectName("auditType")
        for audit_type in AuditType:
            self.type_combo.addItem(audit_type.label, audit_type.value)
        self.area_combo = QComboBox()
        self.area_combo.setObjectName("serviceArea")
        self.team_combo = QComboBox()
        self.team_combo.setObjectName("team")
        self.auditor_combo = QComboBox()
        self.auditor_combo.setObjectName("auditor")
        self.manager_combo = QComboBox()
        self.manager_combo.setObjectName("teamManager")
        for combo in (self.type_combo, self.area_combo, self.team_combo, self.auditor_combo,
                      self.manager_combo):
            self._size_combo(combo)

        case_box = QGroupBox("The case")
        case_form = self._form_layout(case_box)
        self._add_row(case_form, "Case &reference", self.case_edit, "case_reference")
        self._add_row(case_form, "Audit &date", self.date_edit, "audit_date",
                      hint="dd/mm/yyyy; Alt+Down opens a calendar")
        self._add_row(case_form, "Audit t&ype", self.type_combo, "audit_type")
        self._add_row(case_form, "&Service area", self.area_combo, "service_area")
        self._add_row(case_form, "&Team", self.team_combo, "team",
                      hint="The teams of the chosen service area")
        self._add_row(case_form, "Aud&itor", self.auditor_combo, "auditor")
        self._add_row(case_form, "Team &manager (optional)", self.manager_combo, "team_manager",
                      accessible="Team manager (optional)")

        # -- the template's sections -------------------------------------------------------------
        name = self.template.name if self.template else "Sections"
        sections_box = QGroupBox(f"{name}: grade each section" if self.template
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
        #: What Undo and Redo would do now, in words (read after each load and save).
        self._undo_words: str | None = None
        self._redo_words: str | None = None
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
        order = [self.case_edit, self.date_edit, self.type_combo, self.area_combo,
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
        self.type_combo.currentIndexChanged.connect(lambda: self._changed("audit_type"))
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

    def _load_new(self) -> None:
        self._loading = True
        actor = self.session.actor
        me = actor.id if actor.has_role(Role.QA_OFFICER) else None
        self.case_edit.clear()
        self._set_date(self.session.today())
        self.type_combo.setCurrentIndex(0)
        self._fill_areas(None)
        self._fill_teams(None, None)
        self._fill_auditors(me)
        self._fill_managers(None, None)
        for section in self.sections.values():
            self._fill(section.grade, "Not graded", self._grade_items(None), None)
            section.notes.setPlainText("")
        self._fill(self.overall_combo, "Not chosen yet", self._grade_items(None), None)
        self._fill_themes([])
        self.findings_edit.setPlainText("")
        self._extra_sections, self._loaded_section_keys = {}, set()
        self._after_load()
        self._set_save_state("Not saved yet")

    def _load(self, audit: Audit) -> None:
        """Show ``audit`` as it is saved: its values, version and status."""
        self._loading = True
        self.audit_id = audit.id
        self.version = audit.version
        self.status = audit.status
        self._show_values(audit)
        self._after_load()
        self._set_save_state(f"{audit.status.label}, last saved {local_time_text(audit.updated_at)}")

    def _show_values(self, audit: Audit | AuditInput) -> None:
        """Put an audit's values (saved, or kept on this computer) into the widgets."""
        self.case_edit.setText(audit.case_reference or "")
        self._set_date(audit.audit_date)
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(audit.audit_type.value)))
        self._fill_areas(audit.service_area_id)
        self._fill_teams(audit.service_area_id, audit.team_id)
        self._fill_auditors(audit.auditor_id)
        self._fill_managers(audit.team_id, audit.team_manager_id)
        self._extra_sections = {k: v for k, v in audit.sections.items()
                                if k not in self.sections}
        self._loaded_section_keys = set(audit.sections)
        for key, section in self.sections.items():
            saved = audit.sections.get(key, SectionGrade(None))
            self._fill(section.grade, "Not graded", self._grade_items(saved.grade),
                       saved.grade.value if saved.grade else None)
            section.notes.setPlainText(saved.notes)
        self._fill(self.overall_combo, "Not chosen yet", self._grade_items(audit.overall_grade),
                   audit.overall_grade.value if audit.overall_grade else None)
        self._fill_themes(audit.theme_ids)
        self.findings_edit.setPlainText(audit.findings)

    def _show_kept(self, kept: kept_drafts.KeptDraft) -> None:
        """A draft kept on this computer while the server was away: shown over the audit as
        saved (so it counts as unsaved typing), with the version it was typed on, and saved at
        once. If the audit changed on the server since, that save meets the conflict bar."""
        self._loading = True
        self._show_values(kept.input)
        self._loading = False
        if kept.version is not None:
            self.version = kept.version
        self.validate_now()
        self._set_save_state("Kept on this computer; saving it to the store")
        QTimer.singleShot(0, self.save_draft)

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

    def _after_load(self) -> None:
        self._touched.clear()
        self._show_all = False
        self.in_conflict = False
        self._saved_input = self.current_input()
        self._loading = False
        self.read_only = not self.can_log or self.status is AuditStatus.WITHDRAWN
        self._read_undo_redo()
        self._apply_mode()
        self.validate_now()

    # == reading the widgets ======================================================================
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
        )

    def chosen_theme_ids(self) -> list[int]:
        return [self.theme_list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.theme_list.count())
                if self.theme_list.item(i).checkState() == Qt.CheckState.Checked]

    def is_dirty(self) -> bool:
        """Whether the form holds anything not yet saved."""
        return self.current_input() != self._saved_input

    @property
    def is_draft(self) -> bool:
        return self.status in (None, AuditStatus.DRAFT)

    # == reacting to the user =====================================================================
    def _changed(self, field: str) -> None:
        if self._loading:
            return
        self._touched.add(field)
        if field == "themes":
            self._update_themes_label()
        if field.startswith("section:") or field == "overall_grade":
            self._update_suggestion()
        self._validate_timer.start()
        if self.is_draft and not self.read_only and not self.in_conflict:
            self._autosave_timer.start()
        self._update_buttons()

    def _area_changed(self) -> None:
        if self._loading:
            return
        team = self.team_combo.currentData()
        self._loading = True
        try:
            self._fill_teams(self.area_combo.currentData(), team)
            self._fill_managers(self.team_combo.currentData(),
                                self.manager_combo.currentData())
        finally:
            self._loading = False
        self._changed("service_area")

    def _team_changed(self) -> None:
        if self._loading:
            return
        self._loading = True
        try:
            self._fill_managers(self.team_combo.currentData(), self.manager_combo.currentData())
        finally:
            self._loading = False
        self._changed("team")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Leaving a field counts as touching it: its "is required" may show from then on."""
        if event.type() == QEvent.Type.FocusOut and not self._loading and event.reason() in (
                Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason,
                Qt.FocusReason.MouseFocusReason, Qt.FocusReason.ShortcutFocusReason):
            # (not a combo's list opening, nor another window coming to the front)
            field = self._field_of(watched)
            if field and field not in self._touched:
                self._touched.add(field)
                self._show_messages()
        return super().eventFilter(watched, event)

    def _field_of(self, widget: QObject) -> str | None:
        fields = {self.case_edit: "case_reference", self.date_edit: "audit_date",
                  self.type_combo: "audit_type", self.area_combo: "service_area",
                  self.team_combo: "team", self.auditor_combo: "auditor",
                  self.manager_combo: "team_manager", self.overall_combo: "overall_grade",
                  self.theme_list: "themes", self.findings_edit: "findings"}
        if widget in fields:
            return fields[widget]
        for section in self.sections.values():
            if widget in (section.grade, section.notes):
                return f"section:{section.key}"
        return None

    def _widget_of(self, field: str) -> QWidget | None:
        widgets = {"case_reference": self.case_edit, "audit_date": self.date_edit,
                   "audit_type": self.type_combo, "service_area": self.area_combo,
                   "team": self.team_combo, "auditor": self.auditor_combo,
                   "team_manager": self.manager_combo, "overall_grade": self.overall_combo,
                   "themes": self.theme_list, "findings": self.findings_edit}
        if field.startswith("section:") and field[8:] in self.sections:
            return self.sections[field[8:]].grade
        return widgets.get(field)

    def _field_name(self, field: str) -> str:
        if field.startswith("section:"):
            section = self.sections.get(field[8:])
            return f"section {section.number} ({section.title})" if section else field[8:]
        return FIELD_NAMES.get(field, field.replace("_", " "))

    def _date_judged(self) -> None:
        """An impossible date typed (or a real one typed after it): say so at once."""
        self._touched.add("audit_date")
        self.validate_now()

    # == validation ===============================================================================
    @Slot()
    def validate_now(self) -> list[FieldProblem]:
        """Check the form as the services would for a submitted audit and show the messages."""
        self._validate_timer.stop()
        if self.read_only:
            self.problems = []
        else:
            self.problems = audit_service.check(self.session, self.current_input(),
                                                complete=True)
            if self.date_edit.impossible:
                self.problems = [p for p in self.problems if p.field != "audit_date"] + [
                    FieldProblem("audit_date", self.date_edit.impossible)]
        self._update_suggestion()
        self._show_messages()
        self._update_buttons()
        return self.problems

    def _visible(self, problem: FieldProblem) -> bool:
        """Say "is required" only about fields the user has been to, or after they tried to
        submit; any other problem is about something that is there, so it shows at once."""
        return (self._show_all or problem.field in self._touched
                or problem.message != "is required")

    def _show_messages(self) -> None:
        by_field: dict[str, list[str]] = {}
        general: list[str] = []
        for problem in self.problems:
            if not self._visible(problem):
                continue
            if problem.field in self.messages:
                # Beside its field the message need not name it, unless it reads as a sentence
                # about the field ("case reference is required").
                phrase = self._problem_phrase(problem)
                by_field.setdefault(problem.field, []).append(
                    phrase if phrase.endswith((".", "?", "!")) else phrase + ".")
            else:
                general.append(_sentence(self._field_name(problem.field), problem.message))
        for field, label in self.messages.items():
            texts = by_field.get(field)
            label.setText("Problem: " + " ".join(texts) if texts else "")
            label.setVisible(bool(texts))
            widget = self._widget_of(field)
            if widget is not None:
                widget.setAccessibleDescription(label.text())
        self._general_problems = general
        if general and not self.in_conflict:
            self._show_notice("Problem: " + " ".join(general))
        elif not self.in_conflict and not self.read_only:
            self._hide_notice()

    def _update_suggestion(self) -> None:
        graded = [Grade(s.grade.currentData()) for s in self.sections.values()
                  if s.grade.currentData()]
        graded += [s.grade for s in self._extra_sections.values() if s.grade]
        self.suggested = suggest_overall(graded)
        if self.suggested is None:
            self.suggestion_label.setText("Suggested: none yet (grade the sections first)")
        else:
            n = len(graded)
            self.suggestion_label.setText(
                f"Suggested: {self.suggested.label} (from {n} graded section"
                f"{'s' if n != 1 else ''})")
        current = self.overall_combo.currentData()
        self.use_suggestion_button.setEnabled(
            not self.read_only and self.suggested is not None
            and current != self.suggested.value)

    def _update_themes_label(self) -> None:
        names = [self.theme_list.item(i).text() for i in range(self.theme_list.count())
                 if self.theme_list.item(i).checkState() == Qt.CheckState.Checked]
        self.themes_chosen_label.setText(
            f"{len(names)} chosen: {', '.join(names)}" if names else "No themes chosen")

    @Slot()
    def use_suggestion(self) -> None:
        if self.suggested is None or self.read_only:
            return
        index = self.overall_combo.findData(self.suggested.value)
        if index >= 0:
            self.overall_combo.setCurrentIndex(index)
        self.overall_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    # == the mode: new, draft, submitted, withdrawn ===============================================
    def _apply_mode(self) -> None:
        ro = self.read_only
        for edit in (self.case_edit, self.findings_edit):
            edit.setReadOnly(ro)
        self.date_edit.setReadOnly(ro)
        for combo in (self.type_combo, self.area_combo, self.team_combo, self.auditor_combo,
                      self.manager_combo, self.overall_combo):
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
        draft = self.is_draft
        self.submit_button.setVisible(draft and not ro)
        self.submit_action.setEnabled(draft and not ro)
        self.save_button.setVisible(not ro)
        self.save_action.setEnabled(not ro)
        self.save_button.setText("Save dr&aft" if draft else "Save &changes…")
        self.save_button.setAccessibleName("Save the draft now" if draft
                                           else "Save changes (asks for a reason)")
        self.submit_reason_label.setVisible(not ro)
        self.reload_button.hide()
        self._update_titles()
        if ro:
            why = ("This audit was withdrawn, so it is shown read-only."
                   if self.status is AuditStatus.WITHDRAWN else
                   f"Only a QA officer or an administrator can log or edit audits; "
                   f"{self.session.actor.display_name} is not one, so this is read-only.")
            self._show_notice(why)
        else:
            self._hide_notice()
        self._update_buttons()

    def _update_titles(self) -> None:
        if self.audit_id is None:
            title = "New audit"
        else:
            case = self.case_edit.text().strip() or "a case not yet named"
            title = f"Audit of {case} ({self.status.label.lower()})"
        self.title_label.setText(title)
        self.setWindowTitle(f"{title} — {APP_NAME}")

    def _read_undo_redo(self) -> None:
        """What Undo and Redo would do now (after a load, a save, an undo or a redo)."""
        self._undo_words = self._redo_words = None
        if self.can_log and self.audit_id is not None:
            try:
                self._undo_words, self._redo_words = audit_service.undo_redo_offered(
                    self.session, self.audit_id)
            except SeftonError:
                pass

    def _update_buttons(self) -> None:
        def shown(words: str | None) -> str:
            return words if words is None or len(words) <= 40 else words[:39] + "…"

        can_undo = self.can_log and self.audit_id is not None and bool(self._undo_words)
        can_redo = self.can_log and self.audit_id is not None and bool(self._redo_words)
        self.undo_button.setEnabled(can_undo)
        self.undo_action.setEnabled(can_undo)
        self.undo_button.setText(f"Und&o: {shown(self._undo_words)}" if can_undo else "Und&o")
        self.redo_button.setEnabled(can_redo)
        self.redo_action.setEnabled(can_redo)
        self.redo_button.setText(f"Redo: {shown(self._redo_words)}" if can_redo else "Redo")
        if self.read_only:
            return
        n = len(self.problems)
        blocked = n > 0 or self.in_conflict
        if self.in_conflict:
            why = "Saving is stopped: someone else changed this audit. Reload to go on."
        elif n:
            listed = [self._problem_phrase(p, named=True) for p in self.problems[:3]]
            more = f"; and {n - 3} more" if n > 3 else ""
            verb = "submit" if self.is_draft else "save"
            why = (f"Fix {n} problem{'s' if n != 1 else ''} to {verb}: "
                   f"{'; '.join(listed)}{more}.")
        elif not self.is_draft and not self.is_dirty():
            why = "No changes to save."
        else:
            why = "Ready to submit." if self.is_draft else "Ready to save."
        self.submit_reason_label.setText(why)
        self.submit_button.setEnabled(self.is_draft and not blocked)
        if self.is_draft:
            self.save_button.setEnabled(not self.in_conflict)
        else:
            self.save_button.setEnabled(not blocked and self.is_dirty())

    def _problem_phrase(self, problem: FieldProblem, *, named: bool = False) -> str:
        """The problem as a phrase: "case reference is required", or the message alone when it
        already says what it is about (``named`` prefixes the field's name to those too)."""
        from sefton_qa.domain.wording import problem_sentence

        return problem_sentence(self._field_name(problem.field), problem.message,
                                beside=not named, capital=False)

    def _show_notice(self, text: str, *, offer_reload: bool = False) -> None:
        self.notice_label.setText(text)
        self.reload_button.setVisible(offer_reload)
        self.notice.show()

    def _hide_notice(self) -> None:
        self.notice.hide()
        self.notice_label.clear()
        self.notice_label.setToolTip("")

    def _set_save_state(self, text: str) -> None:
        self.save_state_label.setText(text)

    # == saving ===================================================================================
    @Slot()
    def _autosave(self) -> None:
        if self.is_draft and not self.read_only and not self.in_conflict and self.is_dirty():
            self.save_draft()

    def _write(self, fn):
        """A service write, through the window's one operations path (on its worker, never on
        the GUI thread); its exception is raised here, for the form's own messages."""
        self._writing = True
        self._set_save_state("Saving…")
        try:
            return operations.call(self.session, fn)
        finally:
            self._writing = False

    def save_draft(self) -> bool:
        """Create the draft the first time, update it afterwards. True when the form's contents
        are safely in the store."""
        self._autosave_timer.stop()
        if self._writing:  # a save is under way (a timer fired meanwhile): it comes again
            self._autosave_timer.start()
            return False
        if self.read_only or not self.is_draft:
            return False
        if self.in_conflict or self.date_edit.impossible:
            if self.date_edit.impossible:
                self._set_save_state("Draft not saved: the audit date does not exist")
                self.validate_now()
            return False
        if self.audit_id is not None and not self.is_dirty():
            return True
        inp = self.current_input()
        try:
            if self.audit_id is None:
                draft = copy.deepcopy(inp)
                change = self._write(lambda s: audit_service.create_audit(s, draft,
                                                                          submit=False))
                self.audit_id = change.record_id
            else:
                draft, audit_id, version = copy.deepcopy(inp), self.audit_id, self.version
                change = self._write(lambda s: audit_service.update_audit(
                    s, audit_id, draft, expected_version=version))
        except ConflictError as exc:
            self._conflict(exc)
            return False
        except ValidationError as exc:
            self._draft_refused(exc)
            return False
        except ServerUnreachable as exc:
            self._keep_on_this_computer(inp, exc)
            return False
        except SeftonError as exc:
            self._set_save_state("Draft not saved")
            self._show_notice(f"The draft was not saved: {exc} What you typed is still here.")
            return False
        except Exception as exc:  # logged and shown with details; the text stays in the form
            self._set_save_state("Draft not saved")
            show_error(self, exc, title="The draft was not saved")
            return False
        self._after_save(inp)
        self._set_save_state(f"Draft saved {_now_hhmm()}")
        if self.kept_path is not None:  # in the store now: the copy here goes
            kept_drafts.discard(self.kept_path)
            self.kept_path = None
            self._retry_timer.stop()
            self._hide_notice()
        self.saved.emit(change)
        return True

    def _keep_on_this_computer(self, inp: AuditInput, exc: ServerUnreachable) -> None:
        """The server cannot be reached: keep the draft in a file of this user's (deleted once
        it is saved) and try the store again every few seconds."""
        try:
            self.kept_path = kept_drafts.keep(self._kept_name, self.session.store.location,
                                              self.audit_id, self.version, inp)
        except OSError as err:
            self._set_save_state("Draft not saved")
            self._show_notice(f"The draft was not saved: {exc} It could not be kept on this "
                              f"computer either ({err.strerror}). What you typed is still "
                              "here; do not close the form.")
            return
        self._set_save_state("Kept on this computer: the server cannot be reached")
        self._show_notice(
            "The server cannot be reached, so this draft is kept on this computer for now and "
            "saved to the store as soon as the server is back. You can go on typing, or close "
            "the form: it is offered again the next time this store is opened.")
        self.notice_label.setToolTip(str(exc))
        self._retry_timer.start()

    @Slot()
    def _retry_kept(self) -> None:
        if self.kept_path is None or self.in_conflict:
            self._retry_timer.stop()
            return
        self.save_draft()

    def _after_save(self, inp: AuditInput) -> None:
        audit = audit_service.get_audit(self.session, self.audit_id)
        self.version = audit.version
        self.status = audit.status
        self._read_undo_redo()
        if inp.auditor_id is None and audit.auditor_id is not None:
            # The services made the signed-in user the auditor; show it.
            self._loading = True
            self._fill_auditors(audit.auditor_id)
            self._loading = False
            inp.auditor_id = audit.auditor_id
        self._saved_input = inp
        self._apply_mode()
        self._show_messages()

    def _draft_refused(self, exc: ValidationError) -> None:
        """Even a draft could not be saved (a future date, an unknown team...): say so at the
        fields and keep everything in the form."""
        for problem in exc.problems:
            self._touched.add(problem.field)
        self.validate_now()
        self.problems = list({(p.field, p.message): p
                              for p in self.problems + exc.problems}.values())
        self._show_messages()
        self._update_buttons()
        self._set_save_state("Draft not saved: fix the problems shown")

    def _conflict(self, exc: ConflictError) -> None:
        self._set_save_state("Not saved")
        self._stop_for_reload(
            "Someone else changed this audit since you opened it, so your changes were not "
            "saved. What you typed is still in the form: copy anything you need, then reload "
            "to see the audit as it is now saved.")
        self.notice_label.setToolTip(str(exc))

    def _stop_for_reload(self, text: str) -> None:
        """Someone else's version is saved: no more saving until the user reloads it."""
        self.in_conflict = True
        self._autosave_timer.stop()
        self._show_notice(text, offer_reload=True)
        self._update_buttons()

    def check_changed_elsewhere(self) -> bool:
        """Other people's changes arrived (the window's live updates): if this audit was
        changed since the form read it, say so at once, with Reload, instead of at the next
        save. What was typed stays in the form until the user reloads."""
        if self.audit_id is None or self.version is None or self.in_conflict:
            return False
        try:
            audit = audit_service.get_audit(self.session, self.audit_id)
        except SeftonError:
            return False
        if audit.version == self.version:
            return False
        self._stop_for_reload(
            "Someone else has just changed this audit. Reload to see it as it is now saved; "
            "until then your changes cannot be saved (what you typed stays here).")
        return True

    @Slot()
    def save_changes(self) -> None:
        """Ctrl+S: a draft is saved now; a submitted audit asks for a reason first."""
        if self.read_only:
            return
        if self.is_draft:
            self.save_draft()
            return
        if self.in_conflict:
            return
        self.validate_now()
        if self.problems:
            self._insist()
            return
        if not self.is_dirty():
            self._set_save_state("No changes to save")
            return
        self.reason_dialog = ReasonDialog(self)
        self.reason_dialog.accepted.connect(
            lambda dialog=self.reason_dialog: self._save_submitted(dialog.reason()))
        # The dialog has gone: the keyboard goes back to the form (the save waits in a local
        # event loop, which would otherwise leave the hidden dialog the active window).
        self.reason_dialog.finished.connect(lambda _r: self.activateWindow())
        self.reason_dialog.open()

    def _save_submitted(self, reason: str) -> bool:
        inp = self.current_input()
        try:
            edited, audit_id, version = copy.deepcopy(inp), self.audit_id, self.version
            change = self._write(lambda s: audit_service.update_audit(
                s, audit_id, edited, expected_version=version, reason=reason))
        except ConflictError as exc:
            self._conflict(exc)
            return False
        except ValidationError as exc:
            self._draft_refused(exc)
            self._set_save_state("Not saved: fix the problems shown")
            return False
        except SeftonError as exc:
            self._show_notice(f"The changes were not saved: {exc}")
            return False
        self._after_save(inp)
        self._set_save_state(f"Changes saved {_now_hhmm()}")
        self.saved.emit(change)
        return True

    def _insist(self) -> None:
        """The user tried to submit or save with problems: show every message and go to the
        first field that needs fixing."""
        self._show_all = True
        self._show_messages()
        self._update_buttons()
        first = next((self._widget_of(p.field) for p in self.problems
                      if self._widget_of(p.field) is not None), None)
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            self.scroll.ensureWidgetVisible(first)

    @Slot()
    def submit(self) -> bool:
        """Ctrl+Enter: save, then submit. The form closes once the audit is submitted."""
        if self.read_only or not self.is_draft or self.in_conflict:
            return False
        self.validate_now()
        if self.problems:
            self._insist()
            return False
        if not self.save_draft():
            return False
        try:
            audit_id, version = self.audit_id, self.version
            change = self._write(lambda s: audit_service.submit_audit(
                s, audit_id, expected_version=version))
        except ConflictError as exc:
            self._conflict(exc)
            return False
        except ValidationError as exc:
            self._draft_refused(exc)
            self._set_save_state("Draft saved; not submitted")
            return False
        except SeftonError as exc:
            self._show_notice(f"The audit was not submitted: {exc}")
            return False
        audit = audit_service.get_audit(self.session, self.audit_id)
        self.version, self.status = audit.version, audit.status
        self._saved_input = self.current_input()
        self._set_save_state(f"Submitted {_now_hhmm()}")
        self.saved.emit(change)
        self._apply_mode()
        self._close_now(QDialog.DialogCode.Accepted)
        return True

    # == undo and reload ==========================================================================
    @Slot()
    def undo_last_saved_change(self) -> bool:
        """Undo the audit's last saved change through the services, then show the result.

        A draft's unsaved typing is saved first (so it is what gets undone); a submitted
        audit's unsaved edits are discarded only if the user agrees."""
        if self.audit_id is None or not self.can_log:
            return False
        if self.is_dirty() and not self.read_only:
            if self.is_draft and not self.in_conflict:
                if not self.save_draft():
                    return False
            elif not self.ask_discard("Undoing the last saved change will discard the edits "
                                      "you have not saved. Go on?"):
                return False
        return self._through_history(redo=False)

    @Slot()
    def redo_last_undone_change(self) -> bool:
        """Make the change last undone again (Ctrl+Shift+Y), then show the result. Unsaved
        typing stops it (a redo would overwrite it): the form says so and keeps it."""
        if self.audit_id is None or not self.can_log:
            return False
        if self.is_dirty() and not self.read_only:
            self._show_notice("Save or undo your typing first: Redo would overwrite it.")
            return False
        return self._through_history(redo=True)

    def _through_history(self, *, redo: bool) -> bool:
        """Undo or redo through the services, refusing to act over someone else's change
        the form has not seen; then show the audit as it now is."""
        verb = "redo" if redo else "undo"
        try:
            current = audit_service.get_audit(self.session, self.audit_id)
            if self.version is not None and current.version != self.version:
                raise ConflictError("This audit was changed by someone else since you opened "
                                    f"it, so the form will not {verb} over their change "
                                    "unseen.")
            audit_id = self.audit_id
            step = audit_service.redo_last_undo if redo else audit_service.undo_last_change
            change = self._write(lambda s: step(s, audit_id))
        except ConflictError as exc:
            self._conflict(exc)
            return False
        except SeftonError as exc:
            self._show_notice(f"Nothing was {'redone' if redo else 'undone'}: {exc}")
            return False
        self._load(audit_service.get_audit(self.session, self.audit_id))
        self._set_save_state(f"Change redone {_now_hhmm()}" if redo else
                             f"Last change undone {_now_hhmm()}")
        self.saved.emit(change)
        return True

    def _discard_kept(self) -> None:
        """The user chose to drop what was typed: the copy kept on this computer goes too."""
        kept_drafts.discard(self.kept_path)
        self.kept_path = None
        self._retry_timer.stop()

    @Slot()
    def reload(self) -> None:
        """Show the audit as it is now saved, dropping unsaved edits (after a conflict)."""
        self._autosave_timer.stop()
        self._discard_kept()
        if self.audit_id is None:
            self._load_new()
        else:
            self._load(audit_service.get_audit(self.session, self.audit_id))
        self._set_save_state("Reloaded")

    # == closing ==================================================================================
    def ask_discard(self, text: str) -> bool:
        """Ask before anything typed is thrown away. True means discard."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes", text, parent=self)
        discard = box.addButton("&Discard them", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is discard

    def _ready_to_close(self) -> bool:
        if self.read_only or not self.is_dirty():
            return True
        if self.is_draft and not self.in_conflict:
            if self.save_draft() or self.kept_path is not None:
                return True  # in the store, or kept on this computer until the server is back
            return self.ask_discard("This draft could not be saved (the problems are shown in "
                                    "the form). Close it and lose what you typed since the last "
                                    "save?")
        if self.in_conflict:
            if self.ask_discard("Your changes could not be saved because someone else "
                                "changed this audit. Close and lose them?"):
                self._discard_kept()
                return True
            return False
        return self.ask_discard("You have changed this submitted audit but not saved it "
                                "(Save changes asks for a reason). Close and lose the changes?")

    def done(self, result: int) -> None:
        """Escape, Close and the window's close button all come here: save the draft first."""
        if not self._ready_to_close():
            return
        self._close_now(result)

    def _close_now(self, result) -> None:
        self._validate_timer.stop()
        self._autosave_timer.stop()
        self._retry_timer.stop()
        self._remember_geometry()
        super().done(result)

    @Slot()
    def _save_on_quit(self) -> None:
        """The application is quitting: save a draft without asking anything."""
        try:
            if self.isVisible() and self.is_draft and not self.read_only and self.is_dirty():
                self.save_draft()
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
