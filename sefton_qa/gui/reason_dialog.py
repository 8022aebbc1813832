"""Asks why a submitted audit is being changed."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget


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
