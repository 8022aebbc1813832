"""The labels every page, tab and step builds alike: headings, paragraphs, a label whose Alt
letter moves to its field, and the line where problems are reported. One copy each, so they
look and read the same everywhere."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget


def heading(text: str, scale: float = 1.1) -> QLabel:
    """A heading whose size follows the system font (never a fixed pixel size): ``scale``
    times it (1.25 for a page's title, 1.1 for a part of a page)."""
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    label.setAccessibleName(text)
    return label


def paragraph(text: str, name: str | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if name:
        label.setAccessibleName(name)
    return label


def buddy_label(text: str, buddy: QWidget, *, accessible: str | None = None) -> QLabel:
    """A label whose mnemonic (``&``) moves focus to ``buddy``; the buddy takes the label's
    words as its accessible name unless it already has one."""
    label = QLabel(text)
    label.setBuddy(buddy)
    if accessible or not buddy.accessibleName():
        buddy.setAccessibleName(accessible or text.replace("&", "").rstrip(":"))
    return label


def problem_label() -> QLabel:
    """Where problems are reported: words first ("Problem:"), colour only as a second cue."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("QLabel { color: palette(highlighted-text); "
                        "background: palette(highlight); padding: 6px; }")
    label.setAccessibleName("Problems")
    label.setVisible(False)
    return label


def show_problems(label: QLabel, messages: list[str]) -> None:
    if not messages:
        label.clear()
        label.setVisible(False)
        return
    label.setText("Problem: " + messages[0] if len(messages) == 1 else
                  "Problems:\n" + "\n".join(f"• {m}" for m in messages))
    label.setAccessibleDescription(label.text())
    label.setVisible(True)
