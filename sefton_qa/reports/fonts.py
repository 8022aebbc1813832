"""Fonts embedded in every pack: DejaVu Sans where the system has it (wide Unicode coverage,
so names like "Siân" or "Zoë" print), else the Bitstream Vera fonts that ship with reportlab."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS = "PackSans"
SANS_BOLD = "PackSans-Bold"
SANS_ITALIC = "PackSans-Italic"
SANS_BOLD_ITALIC = "PackSans-BoldItalic"
MONO = "PackMono"

_DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
                "/usr/local/share/fonts/dejavu", "/Library/Fonts",
                os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"))
_DEJAVU = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf",
           SANS_ITALIC: "DejaVuSans-Oblique.ttf", SANS_BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
           MONO: "DejaVuSansMono.ttf"}
_VERA = {SANS: "Vera.ttf", SANS_BOLD: "VeraBd.ttf", SANS_ITALIC: "VeraIt.ttf",
         SANS_BOLD_ITALIC: "VeraBI.ttf", MONO: "Vera.ttf"}

_lock = threading.Lock()
_registered: str | None = None


def _dejavu_files() -> dict[str, Path] | None:
    for folder in _DEJAVU_DIRS:
        files = {name: Path(folder) / file for name, file in _DEJAVU.items()}
        if all(p.is_file() for p in files.values()):
            return files
    return None


def _vera_files() -> dict[str, Path]:
    folders = [Path(p) for p in rl_config.T1SearchPath + rl_config.TTFSearchPath]
    import reportlab

    folders.insert(0, Path(reportlab.__file__).parent / "fonts")
    for folder in folders:
        files = {name: folder / file for name, file in _VERA.items()}
        if all(p.is_file() for p in files.values()):
            return files
    raise FileNotFoundError("neither DejaVu Sans nor reportlab's own Vera fonts were found")


def register() -> str:
    """Register the pack's fonts (once per process); returns the family used."""
    global _registered
    with _lock:
        if _registered is None:
            files = _dejavu_files()
            family = "DejaVu Sans"
            if files is None:
                files, family = _vera_files(), "Bitstream Vera Sans"
            for name, path in files.items():
                pdfmetrics.registerFont(TTFont(name, str(path)))
            pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_ITALIC,
                                          boldItalic=SANS_BOLD_ITALIC)
            for bold, italic, name in ((0, 0, SANS), (1, 0, SANS_BOLD), (0, 1, SANS_ITALIC),
                                       (1, 1, SANS_BOLD_ITALIC)):
                addMapping(SANS, bold, italic, name)
            _registered = family
        return _registered
