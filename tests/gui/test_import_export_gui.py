"""File → Import and File → Export through the GUI, with the work done in the background."""

from __future__ import annotations

import csv

from sefton_qa.gui.export_dialog import ExportDialog
from sefton_qa.gui.import_dialog import ImportDialog
from sefton_qa.gui.main_window import MainWindow
from sefton_qa.store import audits as audit_store
from sefton_qa.store import staff as staff_store
from sefton_qa.store import trail

HEADER = ["Case Reference", "Audit Date", "Service Area", "Team", "Auditor", "Grade", "Notes"]


def write(path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def auditor_name(session):
    return staff_store.find_by_os_username(session.store.conn, "demo.qa01").display_name


def wait_for_report(qtbot, dialog):
    qtbot.waitUntil(lambda: dialog.job is None and dialog.report is not None, timeout=20_000)


def test_import_dialog_shows_problems_and_writes_nothing(qtbot, demo_session, tmp_path):
    name = auditor_name(demo_session)
    path = write(tmp_path / "bad.csv", [
        ["LCS-900001", "31/05/2024", "Assessment", "Assessment Team North", name, "RI", "x"],
        ["LCS-900002", "31/02/2024", "Assessment", "Assessment Team North", name, "Good", "y"],
    ])
    before = (audit_store.count(demo_session.store.conn), trail.count(demo_session.store.conn))
    dialog = ImportDialog(demo_session, path=path)
    qtbot.addWidget(dialog)
    wait_for_report(qtbot, dialog)
    problems = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert problems == ['row 3, audit_date: "31/02/2024" is not a date']
    assert not dialog.import_button.isEnabled()
    assert "Notes" in dialog.summary.text()  # the unknown column is listed
    assert dialog.preview.rowCount() == 2
    assert dialog.preview.verticalHeaderItem(0).text() == "Row 2"
    assert (audit_store.count(demo_session.store.conn),
            trail.count(demo_session.store.conn)) == before


def test_import_dialog_imports_in_the_background(qtbot, demo_session, tmp_path):
    name = auditor_name(demo_session)
    path = write(tmp_path / "good.csv", [
        ["LCS-900001", "31/05/2024", "Assessment", "Assessment Team North", name, "RI", "x"],
        ["LCS-900002", "2024-06-03", "Assessment", "Assessment Team North", name,
         "Requires improvement to be good", "y"],
    ])
    window = MainWindow(demo_session, None)
    qtbot.addWidget(window)
    before = window.audits_page.model.total
    dialog = window.open_import(path)
    wait_for_report(qtbot, dialog)
    assert dialog.problems.count() == 0
    assert dialog.import_button.isEnabled()
    with qtbot.waitSignal(dialog.imported, timeout=20_000):
        dialog.import_button.click()
    qtbot.waitUntil(lambda: window.audits_page.model.total == before + 2, timeout=5_000)
    assert "Imported 2 audits" in window.statusBar().currentMessage()


def test_import_dialog_mapping_choice(qtbot, demo_session, tmp_path):
    name = auditor_name(demo_session)
    path = tmp_path / "mapped.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Ref", "Audit date", "Service area", "Team", "Auditor", "Grade"])
        writer.writerow(["LCS-900003", "31/05/2024", "Assessment", "Assessment Team North",
                         name, "Good"])
    dialog = ImportDialog(demo_session, path=path)
    qtbot.addWidget(dialog)
    wait_for_report(qtbot, dialog)
    assert any("case_reference" in p for p in
               (dialog.problems.item(i).text() for i in range(dialog.problems.count())))
    combo = dialog._combos["Ref"]
    combo.setCurrentIndex(combo.findData("case_reference"))
    dialog.report = None
    dialog.check()
    wait_for_report(qtbot, dialog)
    assert dialog.problems.count() == 0
    assert dialog.import_button.isEnabled()


def test_export_dialog_writes_the_file(qtbot, demo_session, tmp_path):
    dialog = ExportDialog(demo_session)
    qtbot.addWidget(dialog)
    target = tmp_path / "out.xlsx"
    dialog.export_to(target)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20_000)
    assert target.exists()
    assert dialog.result.rows == audit_store.count(demo_session.store.conn, status="submitted")


def test_import_dialog_counts_the_problems_and_saves_their_list(qtbot, demo_session, tmp_path,
                                                                monkeypatch):
    from sefton_qa.services import import_export

    monkeypatch.setattr(import_export, "MAX_PROBLEMS_LISTED", 3)
    name = auditor_name(demo_session)
    path = write(tmp_path / "many bad.csv", [
        [f"LCS-90000{i}", f"3{i}/02/2024", "Assessment", "Assessment Team North", name, "Good",
         ""] for i in range(5)])
    before = audit_store.count(demo_session.store.conn)
    dialog = ImportDialog(demo_session, path=path)
    qtbot.addWidget(dialog)
    wait_for_report(qtbot, dialog)
    assert dialog.problems.count() == 3
    assert dialog.problems_label.text().startswith("5 problems; the first 3 are listed.")
    assert dialog.save_problems.isEnabled()
    target = tmp_path / "problems.csv"
    asked = []

    def save_as(_parent, _title, suggested, _filter):
        asked.append(suggested)
        return str(target), "CSV (*.csv)"

    monkeypatch.setattr("sefton_qa.gui.import_dialog.QFileDialog.getSaveFileName", save_as)
    dialog.save_problems.click()
    assert asked == [str(tmp_path / "many bad problems.csv")]
    with open(target, encoding="utf-8-sig", newline="") as fh:
        saved = list(csv.reader(fh))
    assert saved[0] == ["row", "column", "problem"]
    assert saved[1] == ["2", "audit_date", '"30/02/2024" is not a date']
    assert saved[-1] == ["", "", "… and 2 more problems (the first 3 are listed)"]
    assert "Saved the list of 5 problem(s)" in dialog.status.text()
    assert audit_store.count(demo_session.store.conn) == before


def test_the_save_button_is_off_without_problems(qtbot, demo_session, tmp_path):
    name = auditor_name(demo_session)
    path = write(tmp_path / "fine.csv", [
        ["LCS-900001", "31/05/2024", "Assessment", "Assessment Team North", name, "RI", "x"]])
    dialog = ImportDialog(demo_session, path=path)
    qtbot.addWidget(dialog)
    wait_for_report(qtbot, dialog)
    assert not dialog.save_problems.isEnabled()
    assert dialog.problems_label.text().startswith("Problems (nothing is imported")


def test_a_long_import_says_the_time_left_and_escape_cancels_it(qtbot, demo_session, tmp_path,
                                                              monkeypatch):
    """Issue 18, item 5: progress with the time left, and Cancel (here Escape, by keyboard),
    which writes nothing."""
    import threading
    import time as real_time

    from PySide6.QtCore import Qt

    from sefton_qa.gui import import_dialog
    from sefton_qa.services.import_export import ImportCancelled

    name = auditor_name(demo_session)
    path = write(tmp_path / "good.csv", [
        ["LCS-900001", "31/05/2024", "Assessment", "Assessment Team North", name, "RI", "x"]])
    dialog = ImportDialog(demo_session, path=path)
    qtbot.addWidget(dialog)
    wait_for_report(qtbot, dialog)
    shown: list[str] = []
    reached = threading.Event()

    def slow_import(session, path, *, dry_run, progress, **_kw):
        for step in range(1, 1000):  # a long import: 10 s of clock per step reported
            if not progress(step, 1000, "Saving 20,000 audits"):
                raise ImportCancelled("Cancelled; nothing was imported.")
            if step == 3:
                reached.set()
            real_time.sleep(0.01)
        raise AssertionError("never cancelled")

    clock = iter(range(0, 10**6, 10))
    monkeypatch.setattr(import_dialog.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(import_dialog, "import_audits", slow_import)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = demo_session.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    dialog.import_button.click()
    qtbot.waitUntil(reached.is_set, timeout=5_000)
    qtbot.waitUntil(lambda: "left; Escape cancels" in dialog.status.text(), timeout=5_000)
    shown.append(dialog.status.text())
    assert shown[0].startswith("Saving 20,000 audits (about ") and " left;" in shown[0]
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert dialog.isVisible()  # Escape cancelled the import; it did not close the dialog
    after = demo_session.store.conn.execute("SELECT count(*) FROM audits").fetchone()[0]
    assert after == before
