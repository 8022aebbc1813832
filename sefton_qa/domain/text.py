"""Free text as the app stores it: plain text a spreadsheet, a PDF and a terminal can hold.

Everything a user types or pastes (findings, notes, reasons, learning, evidence) goes through
:func:`clean_text`: Word's line and page breaks (\\x0b, \\x0c) become new lines; every other
control character (NUL, ESC, BEL, DEL…) is dropped; tab, new line and carriage return stay.
Letters of every script, emoji and the text-direction marks right-to-left writing needs are
kept as typed.
"""

from __future__ import annotations

_TEXT_CLEANUP = {0x0B: "\n", 0x0C: "\n", **{c: None for c in range(0x20) if c not in
                                              (0x09, 0x0A, 0x0B, 0x0C, 0x0D)}, 0x7F: None}


def clean_text(text: str) -> str:
    return text.translate(_TEXT_CLEANUP)


def clean_line(text: str | None) -> str:
    """:func:`clean_text`, then surrounding white space removed (reasons, learning…)."""
    return clean_text(text or "").strip()
