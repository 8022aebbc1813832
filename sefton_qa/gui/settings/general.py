"""Settings → General: the authority's name, the earliest audit date, the case-reference
format, the grade scale, how cases are chosen by default and the packs' exempt paragraph."""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from sefton_qa.domain.errors import ValidationError
from sefton_qa.domain.grades import Grade
from sefton_qa.domain.models import AuditType, Selection
from sefton_qa.domain.reference import (
    DEFAULT_CASE_REFERENCE_HINT,
    DEFAULT_CASE_REFERENCE_PATTERN,
    PatternTooSlow,
)
from sefton_qa.domain.wording import date_text
from sefton_qa.gui.labels import buddy_label, paragraph
from sefton_qa.gui.settings.common import _Tab, named
from sefton_qa.reports.cover import EXEMPT_INFORMATION, EXEMPT_SETTING
from sefton_qa.services import organisation as org


class GeneralTab(_Tab):
    def __init__(self, dialog):
        super().__init__(dialog)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.authority = named(QLineEdit(), "Authority's name", "authorityName")
        self.save_authority = named(QPushButton("Save &name"), "Save the authority's name")
        self.save_authority.clicked.connect(self.save_name)
        self.authority.returnPressed.connect(self.save_name)
        row = QHBoxLayout()
        row.addWidget(self.authority, 1)
        row.addWidget(self.save_authority)
        top = QFormLayout()
        top.addRow(buddy_label("&Authority's name:", self.authority), row)
        self.earliest = named(QDateEdit(), "Earliest audit date accepted", "earliestAuditDate")
        self.earliest.setDisplayFormat("dd/MM/yyyy")
        self.earliest.setCalendarPopup(True)
        self.earliest.setToolTip("Audits dated before this are refused as a mistyped year "
                                 "(0026 for 2026). Lower it only to log older audits.")
        self.save_earliest = named(QPushButton("Save &earliest date"),
                                   "Save the earliest audit date accepted")
        self.save_earliest.clicked.connect(self.save_earliest_date)
        dates = QHBoxLayout()
        dates.addWidget(self.earliest)
        dates.addWidget(self.save_earliest)
        dates.addStretch(1)
        top.addRow(buddy_label("Earl&iest audit date:", self.earliest), dates)

        self.pattern = named(QLineEdit(), "Case-reference pattern (a regular expression)",
                             "casePattern")
        self.pattern.setFont(mono)
        self.hint = named(QLineEdit(), "Case-reference format in plain words", "caseHint")
        self.sample = named(QLineEdit(), "Try a case reference", "caseSample")
        self.sample.setPlaceholderText("type a reference to see whether it is accepted")
        self.sample_result = named(QLabel(), "Whether the sample reference is accepted",
                                   "caseSampleResult")
        self.sample_result.setWordWrap(True)
        self.sample_result.setTextFormat(Qt.TextFormat.PlainText)
        for edit in (self.pattern, self.hint, self.sample):
            edit.textChanged.connect(self.try_sample)
        self.save_format = named(QPushButton("Save &format"), "Save the case-reference format")
        self.save_format.clicked.connect(self.save_reference_format)
        self.reset_format = named(QPushButton("Use the &default"),
                                  "Put back the default case-reference format")
        self.reset_format.clicked.connect(self.use_default_format)
        refs = QGroupBox("Case references")
        form = QFormLayout(refs)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(paragraph(
            "Auditors type the child's case reference from your case-management system. The "
            "pattern (a regular expression) decides which references are accepted; the hint "
            "says the same in plain words and is shown when a reference is refused."))
        form.addRow(buddy_label("&Pattern:", self.pattern), self.pattern)
        form.addRow(buddy_label("&Hint, in plain words:", self.hint), self.hint)
        form.addRow(buddy_label("T&ry a reference:", self.sample), self.sample)
        form.addRow("", self.sample_result)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reset_format)
        buttons.addWidget(self.save_format)
        form.addRow(buttons)

        self.outstanding = named(QCheckBox("Use '&Outstanding' as a grade"),
                                 "Use Outstanding as a grade", "useOutstanding")
        self.outstanding.clicked.connect(self.set_outstanding)
        self.scale_text = paragraph("")
        grades = QGroupBox("Grade scale")
        grades_layout = QVBoxLayout(grades)
        grades_layout.addWidget(paragraph(
            "Ofsted grades on four points; many councils audit on three (good, requires "
            "improvement to be good, inadequate) and report \"good or better\". With "
            "Outstanding on, auditors can also grade an audit or a section Outstanding. "
            "Audits already logged keep their grades either way."))
        grades_layout.addWidget(self.outstanding)
        grades_layout.addWidget(self.scale_text)

        self.exempt = named(QPlainTextEdit(), "Exempt-information paragraph of internal packs",
                            "exemptInformation")
        self.exempt.setTabChangesFocus(True)
        self.exempt.setFixedHeight(self.exempt.fontMetrics().lineSpacing() * 4 + 12)
        self.save_exempt = named(QPushButton("Sa&ve paragraph"),
                                 "Save the exempt-information paragraph")
        self.save_exempt.clicked.connect(self.save_exempt_paragraph)
        self.standard_exempt = named(QPushButton("Standard &wording"),
                                     "Put back the standard exempt-information paragraph")
        self.standard_exempt.clicked.connect(
            lambda: self.exempt.setPlainText(EXEMPT_INFORMATION))
        packs = QGroupBox("Committee packs")
        packs_form = QFormLayout(packs)
        packs_form.addRow(paragraph(
            "The internal pack is headed with why it is not for publication. The standard "
            "wording cites paragraphs 1 and 2 of Schedule 12A to the Local Government Act 1972; "
            "use your council's own if it differs."))
        packs_form.addRow(buddy_label("E&xempt paragraph:", self.exempt), self.exempt)
        exempt_buttons = QHBoxLayout()
        exempt_buttons.addStretch(1)
        exempt_buttons.addWidget(self.standard_exempt)
        exempt_buttons.addWidget(self.save_exempt)
        packs_form.addRow(exempt_buttons)

        # How cases are chosen, per audit type: what a new audit records unless its auditor
        # says otherwise; the pack reports it beside its intervals.
        self.selection: dict[AuditType, QComboBox] = {}
        chosen = QGroupBox("How cases are chosen")
        chosen_form = QFormLayout(chosen)
        chosen_form.addRow(paragraph(
            "What a new audit of each type records about how its case was chosen, unless the "
            "auditor says otherwise. The committee pack says how the period's cases were "
            "chosen: its 95% ranges speak for the whole caseload only when every case was "
            "drawn at random."))
        for kind, label in ((AuditType.DEEP_DIVE, "Deep dive&s:"), (AuditType.THEMED,
                            "&Themed audits:"), (AuditType.DIP_SAMPLE, "Dip sa&mples:")):
            combo = named(QComboBox(), f"How the cases of {kind.label.lower()} audits are "
                                       "chosen", f"selection_{kind.value}")
            for how in Selection:
                combo.addItem(how.label, how.value)
            combo.activated.connect(lambda _i, k=kind: self.save_selection(k))
            self.selection[kind] = combo
            chosen_form.addRow(buddy_label(label, combo), combo)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(refs)
        layout.addWidget(grades)
        layout.addWidget(chosen)
        layout.addWidget(packs)
        layout.addWidget(self.problems)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.edit(self.authority, self.save_authority, self.earliest, self.save_earliest,
                  self.pattern, self.hint, self.save_format, self.reset_format,
                  self.outstanding, self.exempt, self.save_exempt, self.standard_exempt,
                  *self.selection.values())
        self.refresh()

    def refresh(self) -> None:
        values = org.settings(self.session)
        self.authority.setText(values.get("authority_name", ""))
        self.pattern.setText(values.get("case_reference_pattern", DEFAULT_CASE_REFERENCE_PATTERN))
        self.hint.setText(values.get("case_reference_hint", DEFAULT_CASE_REFERENCE_HINT))
        earliest = org.earliest_audit_date(self.session)
        self.earliest.setDate(QDate(earliest.year, earliest.month, earliest.day))
        on = bool(values.get("outstanding_enabled", False))
        self.outstanding.setChecked(on)
        self.exempt.setPlainText(str(values.get(EXEMPT_SETTING) or EXEMPT_INFORMATION))
        for kind, how in org.selection_defaults(self.session).items():
            combo = self.selection[kind]
            combo.setCurrentIndex(max(0, combo.findData(how.value)))
        grades = [Grade.OUTSTANDING.label] if on else []
        grades += [g.label for g in (Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)]
        self.scale_text.setText("Grades in use now: " + ", ".join(grades) + ".")
        self.try_sample()

    def try_sample(self) -> None:
        sample = self.sample.text()
        try:
            problem = org.try_case_reference(self.pattern.text(), self.hint.text(), sample)
        except ValidationError as exc:
            message = exc.problems[0].message
            if message.startswith("is not a valid pattern: "):
                self.sample_result.setText("✗ The pattern is not valid: "
                                           + message.removeprefix("is not a valid pattern: "))
            else:
                self.sample_result.setText(f"✗ The pattern {message}.")
            return
        except PatternTooSlow as exc:
            self.sample_result.setText(f"✗ {exc}")
            return
        if not sample:
            self.sample_result.setText("Type a reference above to try the format.")
        elif problem is None:
            self.sample_result.setText(f"✓ Accepted: \"{sample}\" is a valid case reference.")
        else:
            self.sample_result.setText(f"✗ Not accepted: {problem}.")
        self.sample_result.setAccessibleDescription(self.sample_result.text())

    def save_name(self) -> None:
        name = self.authority.text()
        self.apply(lambda s: org.set_authority_name(s, name),
                   f"the authority's name is now {name}.")

    def save_earliest_date(self) -> None:
        day = self.earliest.date().toPython()
        self.apply(lambda s: org.set_earliest_audit_date(s, day),
                   f"audits dated before {date_text(day)} are now refused as a mistyped year.")

    def save_reference_format(self) -> None:
        pattern, hint = self.pattern.text(), self.hint.text()
        self.apply(lambda s: org.set_case_reference_format(s, pattern, hint),
                   "the case-reference format. New and edited audits are checked against it.")

    def use_default_format(self) -> None:
        self.pattern.setText(DEFAULT_CASE_REFERENCE_PATTERN)
        self.hint.setText(DEFAULT_CASE_REFERENCE_HINT)

    def save_exempt_paragraph(self) -> None:
        text = self.exempt.toPlainText()
        self.apply(lambda s: org.set_exempt_information(s, text),
                   "the exempt-information paragraph of internal packs.")

    def save_selection(self, kind: AuditType) -> None:
        how = Selection(self.selection[kind].currentData())
        if not self.apply(lambda s: org.set_selection_default(s, kind, how),
                          f"new {kind.label.lower()} audits record their cases as "
                          f"\"{how.label.lower()}\" unless the auditor says otherwise."):
            self.refresh()

    def set_outstanding(self, on: bool) -> None:
        ok = self.apply(lambda s: org.set_outstanding_enabled(s, on),
                        "Outstanding is " + ("now a grade." if on else "no longer offered."))
        if not ok:
            self.refresh()
