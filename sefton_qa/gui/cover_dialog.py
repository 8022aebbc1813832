"""The committee pack's cover report, edited before a pack is built: purpose, recommendations
(one a line), contact officer and background papers (one a line). It starts from the cover
kept from the last pack; the pack keeps what is used here for the next one."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout,
    QWidget,
)

from sefton_qa.domain.errors import ValidationError
from sefton_qa.gui.labels import buddy_label
from sefton_qa.reports.cover import CoverReport, checked


def _lines(edit: QPlainTextEdit) -> list[str]:
    return [line.strip() for line in edit.toPlainText().splitlines() if line.strip()]


class CoverDialog(QDialog):
    def __init__(self, cover: CoverReport, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Cover report")
        self.setObjectName("coverDialog")
        self.cover = cover
        self.purpose = QPlainTextEdit(cover.purpose)
        self.recommendations = QPlainTextEdit("\n".join(cover.recommendations))
        self.contact = QLineEdit(cover.contact_officer)
        self.contact.setPlaceholderText("e.g. Head of Quality Assurance, qa@example.gov.uk")
        self.papers = QPlainTextEdit("\n".join(cover.background_papers))
        for edit in (self.purpose, self.recommendations, self.papers):
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4 + 12)
        form = QFormLayout()
        form.addRow(buddy_label("&Purpose", self.purpose), self.purpose)
        form.addRow(buddy_label("&Recommendations (one a line)", self.recommendations,
                                accessible="Recommendations"), self.recommendations)
        form.addRow(buddy_label("&Contact officer", self.contact), self.contact)
        form.addRow(buddy_label("&Background papers (one a line)", self.papers,
                                accessible="Background papers"), self.papers)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problem with the cover report")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Use for this pack")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel("What the committee reads before the figures. The pack keeps it for next "
                       "quarter's pack.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(max(self.sizeHint().width(), self.fontMetrics().averageCharWidth() * 90),
                    self.sizeHint().height())

    def accept(self) -> None:
        try:
            self.cover = checked({"purpose": self.purpose.toPlainText(),
                                  "recommendations": _lines(self.recommendations),
                                  "contact_officer": self.contact.text(),
                                  "background_papers": _lines(self.papers)},
                                 where="The cover report")
        except ValidationError as exc:
            self.problem.setText("Problem: " + "; ".join(p.message for p in exc.problems))
            self.problem.show()
            return
        super().accept()
