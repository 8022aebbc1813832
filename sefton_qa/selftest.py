"""``sefton-qa --self-test``: prove that this installation works, without touching real data.

In a temporary folder it creates a store (applying every migration), signs in, adds a service
area and a team, logs and submits an audit through the services, verifies the store and its
audit trail, opens the main window offscreen, builds a one-page PDF and previews it, and runs
the public pack's disclosure audit on a small table. Each check prints
``ok`` or ``FAIL`` with a detail; the exit code is 0 only when every check passed.

It is what council IT (and CI) run after installing a package: it exercises Qt's platform
plugin, SQLite, reportlab's fonts and the bundled resources, which is where a frozen build
usually breaks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

from sefton_qa import APP_NAME, __version__


class _Failed(Exception):
    pass


def _needs_offscreen() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    if sys.platform.startswith("linux"):
        return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return False


def run(out=None) -> int:
    """Run every check, print one line per check, return the exit code (0: all passed)."""
    out = out or sys.stdout
    if _needs_offscreen():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    frozen = " (frozen bundle)" if getattr(sys, "frozen", False) else ""
    print(f"{APP_NAME} {__version__} self-test{frozen}; Python {sys.version.split()[0]} "
          f"on {sys.platform}", file=out, flush=True)
    began = time.perf_counter()
    failures: list[str] = []
    state: dict = {}

    with tempfile.TemporaryDirectory(prefix="sefton-qa-selftest-") as folder:
        work = Path(folder)

        def check(name: str, fn: Callable[[], str]) -> bool:
            t0 = time.perf_counter()
            try:
                detail = fn()
                ok = True
            except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
                ok = False
                detail = f"{type(exc).__name__}: {exc}"
                if os.environ.get("SEFTON_QA_SELFTEST_TRACE"):
                    traceback.print_exc()
            ms = (time.perf_counter() - t0) * 1000
            print(f"{'ok  ' if ok else 'FAIL'}  {name}: {detail} ({ms:.0f} ms)", file=out,
                  flush=True)
            if not ok:
                failures.append(f"{name}: {detail}")
            return ok

        try:
            steps = [
                ("store", lambda: _store(work, state)),
                ("sign in", lambda: _sign_in(state)),
                ("organisation", lambda: _organisation(state)),
                ("audit", lambda: _audit(state)),
                ("verify", lambda: _verify(state)),
                ("workbook", lambda: _workbook(work)),
                ("main window", lambda: _main_window(work, state)),
                ("pdf", lambda: _pdf(work, state)),
                ("pdf preview", lambda: _pdf_preview(work)),
                ("disclosure audit", _disclosure_audit),
            ]
            for name, fn in steps:
                if not check(name, fn) and name in ("store", "sign in"):
                    break  # nothing after these can run
        finally:
            window = state.pop("window", None)
            if window is not None:
                window.close()
                window.deleteLater()
                from PySide6.QtCore import QCoreApplication, QEvent
                QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            store = state.pop("store", None)
            if store is not None:
                store.close()

    seconds = time.perf_counter() - began
    if failures:
        print(f"self-test FAILED ({len(failures)} check(s)) in {seconds:.2f} s: "
              f"{failures[0]}", file=out, flush=True)
        return 1
    print(f"self-test passed in {seconds:.2f} s", file=out, flush=True)
    return 0


def _store(work: Path, state: dict) -> str:
    from sefton_qa.store import open_store, pending_migrations

    store = open_store(work / "selftest.sqlite3", backup_dir=work / "backups")
    state["store"] = store
    left = pending_migrations(store)
    if left:
        raise _Failed(f"migrations still pending: {', '.join(left)}")
    return f"created {store.path.name} in a temporary folder; every migration applied"


def _sign_in(state: dict) -> str:
    from sefton_qa.services import sign_in

    session = sign_in(state["store"], os_user="selftest")
    state["session"] = session
    roles = ", ".join(sorted(str(getattr(r, "value", r)) for r in session.actor.roles))
    return f"signed in as {session.actor.display_name} ({roles})"


def _organisation(state: dict) -> str:
    from sefton_qa.services import organisation as org

    session = state["session"]
    area = org.add_service_area(session, "Self-test area").record_id
    team = org.add_team(session, "Self-test team", area).record_id
    state["area"], state["team"] = area, team
    return f"added service area {area} and team {team}"


def _audit(state: dict) -> str:
    from sefton_qa.domain.grades import Grade
    from sefton_qa.domain.models import AuditInput, AuditType, SectionGrade
    from sefton_qa.services import audits
    from sefton_qa.services import organisation as org

    session = state["session"]
    template = org.current_template(session)
    themes = org.themes(session, active_only=True)
    inp = AuditInput(
        case_reference="LCS-100001",
        audit_type=AuditType.DEEP_DIVE,
        audit_date=session.today() - dt.timedelta(days=1),
        service_area_id=state["area"],
        team_id=state["team"],
        template_id=template.id if template else None,
        sections=({s.key: SectionGrade(Grade.GOOD, "self-test") for s in template.sections}
                  if template else {}),
        overall_grade=Grade.GOOD,
        theme_ids=[themes[0].id] if themes else [],
        findings="Logged by the self-test.",
    )
    audit_id = audits.create_audit(session, inp, submit=True).record_id
    audit = audits.get_audit(session, audit_id)
    status = getattr(audit.status, "value", audit.status)
    if str(status) != "submitted":
        raise _Failed(f"audit {audit_id} is {status}, not submitted")
    state["audit"] = audit_id
    return f"logged and submitted audit {audit_id}"


def _verify(state: dict) -> str:
    from sefton_qa.services.verify import verify_store

    report = verify_store(state["store"])
    if not report.ok:
        raise _Failed("; ".join(line for line in report.lines() if line.startswith("FAIL")))
    return f"{len(report.checks)} checks passed (integrity, foreign keys, trail chain, replay)"


def _workbook(work: Path) -> str:
    """An XLSX written by openpyxl and read back by calamine (a compiled library the bundle
    must carry)."""
    from sefton_qa.services.spreadsheets import read_sheet, write_xlsx

    path = work / "selftest.xlsx"
    write_xlsx(path, ["case_reference", "audit_date"], [["LCS-100001", dt.date(2024, 5, 31)]])
    sheet = read_sheet(path)
    if sheet.rows != [(2, ["LCS-100001", dt.datetime(2024, 5, 31)])]:
        raise _Failed(f"read back {sheet.rows!r}")
    return f"wrote {path.name} and read it back"


def _main_window(work: Path, state: dict) -> str:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QGuiApplication

    from sefton_qa.gui.app import make_app
    from sefton_qa.gui.main_window import MainWindow

    app = make_app([sys.argv[0] if sys.argv else "sefton-qa"])
    settings = QSettings(str(work / "selftest.ini"), QSettings.Format.IniFormat)
    window = MainWindow(state["session"], settings)
    state["window"] = window
    window.show()
    for _ in range(5):
        app.processEvents()
    if not window.isVisible():
        raise _Failed("the main window did not show")
    return (f"opened on the '{QGuiApplication.platformName()}' platform, "
            f"{len(window.pages)} pages, {window.width()}x{window.height()}")


def _pdf(work: Path, state: dict) -> str:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = work / "selftest.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(f"{APP_NAME} self-test")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 770, f"{APP_NAME} {__version__}: self-test")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 745, f"Audit {state.get('audit')} logged and verified on "
                            f"{dt.date.today().isoformat()}.")
    pdf.showPage()
    pdf.save()
    data = path.read_bytes()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:]:
        raise _Failed(f"{path.name} is not a complete PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    if pages != 1:
        raise _Failed(f"{path.name} has {pages} pages, not 1")
    return f"wrote a one-page PDF with reportlab ({len(data):,} bytes)"


def _disclosure_audit() -> str:
    """The public pack's disclosure audit (HiGHS) is in this installation and finds what a
    reader could work out: a 2×2 table whose one hidden cell is pinned by its totals."""
    from sefton_qa.reports.disclosure_audit import ranges

    values = {"a": 3, "b": 7, "c": 5, "d": 5, "r1": 10, "r2": 10, "k1": 8, "k2": 12}
    equations = [(("a", 1), ("b", 1), ("r1", -1)), (("c", 1), ("d", 1), ("r2", -1)),
                 (("a", 1), ("c", 1), ("k1", -1)), (("b", 1), ("d", 1), ("k2", -1))]
    pinned = ranges(values, equations, ["a"])["a"]
    if (pinned.lo, pinned.hi) != (3, 3):
        raise _Failed(f"a cell hidden alone should be pinned at 3, not {pinned.text()}")
    wide = ranges(values, equations, ["a", "b", "c", "d"])["a"]
    if (wide.lo, wide.hi) != (0, 8):
        raise _Failed(f"four hidden cells should leave 0 to 8, not {wide.text()}")
    return "HiGHS pinned a lone hidden cell and not four"


def _pdf_preview(work: Path) -> str:
    """The in-app preview's engine (pypdfium2) is in this installation and draws the page."""
    from sefton_qa.gui.pack_preview import open_document, render_page

    document = open_document(work / "selftest.pdf")
    try:
        image = render_page(document, 0, 1.0)
    finally:
        document.close()
    if image.isNull() or image.width() < 500:
        raise _Failed("the preview engine drew no page")
    # The title is drawn 72 points below the top: some of the band above it must be inked.
    inked = sum(1 for x in range(60, 400, 2) for y in range(56, 74, 2)
                if image.pixelColor(x, y).lightness() < 128)
    if not inked:
        raise _Failed("the preview engine drew a blank page")
    return f"drew page 1 at {image.width()}×{image.height()} with PDFium"
