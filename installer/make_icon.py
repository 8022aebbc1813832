"""Draw the app icon with Qt: resources/sefton-qa.png (256 px) and resources/sefton-qa.ico.

    QT_QPA_PLATFORM=offscreen python installer/make_icon.py

The committed files are what the installers use; run this again only to change the icon.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QImage, QPainter, QPen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.04
    rect = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(QColor("#1f5f8b")))
    p.drawRoundedRect(rect, size * 0.18, size * 0.18)
    # A tick: the audit passed.
    pen = QPen(QColor("#ffffff"), size * 0.075, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.drawPolyline([QPointF(x * size, y * size)
                    for x, y in ((0.56, 0.30), (0.66, 0.40), (0.84, 0.20))])
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(int(size * 0.36))
    p.setFont(font)
    p.setPen(QColor("#ffffff"))
    p.drawText(QRectF(0, size * 0.38, size, size * 0.5), Qt.AlignmentFlag.AlignCenter, "QA")
    p.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    out = ROOT / "resources"
    out.mkdir(exist_ok=True)
    big = draw(256)
    if not big.save(str(out / "sefton-qa.png"), "PNG"):
        print("could not write the PNG", file=sys.stderr)
        return 1
    # Qt's ico writer stores one image per file; 256 px is what Windows scales down from.
    if not big.save(str(out / "sefton-qa.ico"), "ICO"):
        print("could not write the ICO (Qt's imageformats plugin qico missing?)", file=sys.stderr)
        return 1
    for name in ("sefton-qa.png", "sefton-qa.ico"):
        print(f"wrote resources/{name} ({(out / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
