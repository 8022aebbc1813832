"""The main window: navigation, the audit register, and the selected audit's details."""

from __future__ import annotations

import html

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QTextBrowser,
)

from sefton_qa import APP_NAME, __version__
from sefton_qa.gui.export_dialog import ExportDialog
from sefton_qa.gui.import_dialog import ImportDialog
from sefton_qa.services import register
from sefton_qa.services.audits import get_audit
from sefton_qa.services.session import Session
from sefton_qa.gui.register_model import AuditRegisterModel, COL_DATE


class MainWindow(QMainWindow):
    def __init__(self, session: Session, settings: QSettings | None = None):
        super().__init__()
        self.session = session
        self.settings = settings or QSettings()
        self.setWindowTitle(f"{APP_NAME} — {session.store.path.name}")

        self.nav = QListWidget()
        self.nav.addItems(["Audits"])
        self.nav.setCurrentRow(0)
        self.nav.setMaximumWidth(200)

        self.model = AuditRegisterModel(session, self)
        self.table = QTableView()
        self.table.setObjectName("auditRegister")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_DATE, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._show_current)

        self.detail = QTextBrowser()
        self.detail.setObjectName("auditDetail")
        self.detail.setPlaceholderText("Select an audit to see its details and history.")

        self.splitter = QSplitter()
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 1)
        self.setCentralWidget(self.splitter)

        self.count_label = QLabel()
        self.statusBar().addWidget(self.count_label)
        roles = ", ".join(sorted(r.label for r in session.actor.roles)) or "no roles"
        self.user_label = QLabel(f"{session.actor.display_name} ({roles})")
        self.path_label = QLabel(str(session.store.path))
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.path_label)
        self._build_menus()
        self._update_count()
        self._restore_layout()

    # -- menus ----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        refresh = QAction("&Refresh", self, shortcut=QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.refresh)
        file_menu.addAction(refresh)
        file_menu.addSeparator()
        import_action = QAction("&Import audits…", self, shortcut=QKeySequence("Ctrl+I"))
        import_action.triggered.connect(self.open_import)
        file_menu.addAction(import_action)
        export_action = QAction("&Export audits…", self, shortcut=QKeySequence("Ctrl+E"))
        export_action.triggered.connect(self.open_export)
        file_menu.addAction(export_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Sefton QA", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def open_import(self, path=None) -> "ImportDialog":
        dialog = ImportDialog(self.session, self, path=path)
        dialog.imported.connect(lambda report: (self.refresh(), self.statusBar().showMessage(
            f"Imported {report.added:,} audits from {report.file_name}", 10_000)))
        dialog.show()
        return dialog

    def open_export(self) -> "ExportDialog":
        dialog = ExportDialog(self.session, self)
        dialog.show()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {html.escape(__version__)}<br>"
                          "Case-file audits, moderation and committee packs for children's "
                          "social care quality assurance.")

    # -- behaviour ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.model.reload()
        self._update_count()

    def _update_count(self) -> None:
        n = self.model.total
        self.count_label.setText(f"{n:,} audit{'s' if n != 1 else ''}")

    def _show_current(self, current, _previous=None) -> None:
        if not current.isValid():
            self.detail.clear()
            return
        audit_id = self.model.audit_id(current.row())
        self.detail.setHtml(self.audit_html(audit_id))

    def audit_html(self, audit_id: int) -> str:
        """The selected audit, its history and the other audits of the same case. Every user
        string is escaped before it reaches the HTML."""
        e = html.escape
        names = register.names(self.session)
        a = get_audit(self.session, audit_id)
        grade = a.overall_grade.label if a.overall_grade else "Not graded"
        themes = ", ".join(names["themes"].get(t, "?") for t in a.theme_ids) or "None"
        rows = [
            ("Case reference", a.case_reference or ""),
            ("Audit date", a.audit_date.strftime("%d/%m/%Y") if a.audit_date else ""),
            ("Audit type", a.audit_type.label),
            ("Service area", names["service_areas"].get(a.service_area_id, "")),
            ("Team", names["teams"].get(a.team_id, "")),
            ("Auditor", names["staff"].get(a.auditor_id, "")),
            ("Overall grade", grade),
            ("Status", a.status.label),
            ("Themes", themes),
        ]
        parts = [f"<h3>Audit of {e(a.case_reference or 'a new case')}</h3><table>"]
        parts += [f"<tr><td><b>{e(k)}</b>&nbsp;</td><td>{e(v)}</td></tr>" for k, v in rows]
        parts.append("</table>")
        if a.findings:
            parts.append(f"<h4>Findings</h4><p>{e(a.findings)}</p>")
        if a.sections:
            titles = register.section_titles(self.session, a.template_id)
            order = [k for k in titles if k in a.sections] + sorted(set(a.sections) - set(titles))
            parts.append("<h4>Sections</h4><ul>")
            for key in order:
                s = a.sections[key]
                label = s.grade.short_label if s.grade else "Not graded"
                title = titles.get(key, key.replace("_", " ").capitalize())
                notes = f" — {s.notes}" if s.notes else ""
                parts.append(f"<li>{e(title)}: <b>{e(label)}</b>{e(notes)}</li>")
            parts.append("</ul>")
        if a.case_reference:
            journey = register.case_history(self.session, a.case_reference)
            if len(journey) > 1:
                parts.append("<h4>Audits of this case</h4><ul>")
                for other in journey:
                    g = other.overall_grade.short_label if other.overall_grade else "Not graded"
                    date = other.audit_date.strftime("%d/%m/%Y") if other.audit_date else "—"
                    mark = " (this audit)" if other.id == a.id else ""
                    parts.append(f"<li>{e(date)}: {e(g)}{e(mark)}</li>")
                parts.append("</ul>")
        parts.append("<h4>History</h4><ul>")
        for entry in register.history(self.session, "audits", audit_id):
            who = names["staff"].get(entry.staff_id, entry.os_user)
            fields = "" if entry.kind in ("create", "demo", "import") else \
                f" ({', '.join(sorted(entry.changes))})"
            reason = f" — reason: {entry.reason}" if entry.reason else ""
            parts.append(f"<li>{e(entry.at_utc[:16].replace('T', ' '))} UTC, {e(who)}: "
                         f"{e(entry.kind)}{e(fields)}{e(reason)}</li>")
        parts.append("</ul>")
        return "".join(parts)

    # -- remembering the layout -----------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 780)
        splitter = self.settings.value("main_window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([130, 860, 290])
        header = self.settings.value("main_window/register_header")
        if isinstance(header, QByteArray):
            self.table.horizontalHeader().restoreState(header)
        else:
            for col, width in enumerate((115, 85, 165, 170, 125, 165, 85)):
                self.table.setColumnWidth(col, width)

    def save_layout(self) -> None:
        self.settings.setValue("main_window/geometry", self.saveGeometry())
        self.settings.setValue("main_window/splitter", self.splitter.saveState())
        self.settings.setValue("main_window/register_header",
                               self.table.horizontalHeader().saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self.save_layout()
        super().closeEvent(event)

