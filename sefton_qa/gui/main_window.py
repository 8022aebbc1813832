"""The main window: navigation, the audit register with its filters, and the selected audit."""

from __future__ import annotations

import html

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sefton_qa import APP_NAME, __version__
from sefton_qa.domain.errors import SeftonError
from sefton_qa.domain.models import AuditStatus, Role
from sefton_qa.gui.errors import show_error
from sefton_qa.gui.filter_bar import FilterBar
from sefton_qa.gui.register_page import RegisterPage
from sefton_qa.gui.store_check import StoreChecker, StoreCheckBanner
from sefton_qa.services import audits as audit_service
from sefton_qa.services import kept_drafts
from sefton_qa.services import organisation as org
from sefton_qa.services.session import Session


FOCUS_FRAMES = """
QListWidget, QTableView, QTextBrowser { border: 2px solid transparent; }
QListWidget:focus, QTableView:focus, QTextBrowser:focus { border: 2px solid palette(highlight); }
"""


class MainWindow(QMainWindow):
    def __init__(self, session: Session, settings: QSettings | None = None):
        super().__init__()
        self.session = session
        self.settings = settings or QSettings()
        self._forms: list = []

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Sections of Sefton QA")
        self.nav.setMaximumWidth(260)
        self.stack = QStackedWidget()

        self.audits_page = RegisterPage(session, "audits", self)
        me = session.actor
        self.my_work_page = RegisterPage(
            session, "my_work", self, fixed={"auditor_id": me.id},
            intro=f"Audits by {me.display_name}: drafts to finish and work already submitted.")
        self.register_pages = [self.audits_page, self.my_work_page]
        # The loop pages are built the first time they are shown, so the window opens at
        # once whatever the store holds.
        self._page_factories = {title: name for title, name in (
            ("Moderation", "ModerationPage"), ("Reflective conversations", "ConversationsPage"),
            ("Actions", "ActionsPage"), ("Drift dashboard", "DriftPage"),
            ("Calibration", "CalibrationPage"), ("Allocated to me", "AllocatedPage"),
            ("Case selection", "CaseSelectionPage"))}
        self.pages: list[tuple[str, object]] = [("Audits", self.audits_page),
                                                 ("My work", self.my_work_page)]
        self.pages += [(title, None) for title in self._page_factories]
        self.welcome = None
        for title, page in self.pages:
            self.nav.addItem(title)
            if page is not None:
                self.stack.addWidget(page)
                page.open_requested.connect(self.open_audit)
                if isinstance(page, RegisterPage):
                    page.story_requested.connect(self.open_story_step)
                page.count_changed.connect(self._update_count)
        self.nav.currentRowChanged.connect(self._show_page)

        self.splitter = QSplitter()
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        # The banner the store's background check shows when it fails (store_check.py).
        self.store_check_banner = StoreCheckBanner()
        self.store_check_banner.read_only_requested.connect(self.switch_to_read_only)
        self.store_check_banner.restore_requested.connect(self.open_backups)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.store_check_banner)
        # Drafts typed while the server could not be reached, kept on this computer.
        self.kept_banner = QFrame()
        self.kept_banner.setObjectName("keptDraftsBanner")
        self.kept_banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.kept_banner.setStyleSheet("#keptDraftsBanner { background: #fff4d6; "
                                       "border: 1px solid #945700; }")
        kept_row = QHBoxLayout(self.kept_banner)
        self.kept_label = QLabel()
        self.kept_label.setWordWrap(True)
        self.kept_button = QPushButton("Open &kept drafts")
        self.kept_button.clicked.connect(self.open_kept_drafts)
        kept_row.addWidget(self.kept_label, 1)
        kept_row.addWidget(self.kept_button)
        self.kept_banner.hide()
        column.addWidget(self.kept_banner)
        column.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        # Where the keyboard is must show: the sidebar, the register and the detail pane draw
        # a frame in the highlight colour while they have the focus.
        self.nav.setStyleSheet(FOCUS_FRAMES)
        for page in self.register_pages:
            page.table.setStyleSheet(FOCUS_FRAMES)
            page.detail.setStyleSheet(FOCUS_FRAMES)

        self.count_label = QLabel()
        self.statusBar().addWidget(self.count_label)
        roles = ", ".join(sorted(r.label for r in me.roles)) or "no roles"
        # who the store takes this person for: the OS account, or on a server the login
        self.user_label = QLabel(f"{me.display_name} · {session.os_user} ({roles})")
        self.path_label = QLabel(session.store.describe())
        self.connection_label = QLabel("⚠ Connection to the server lost: saves wait until it "
                                       "is back; reconnecting…")
        self.connection_label.setAccessibleName("Connection to the server lost")
        self.connection_label.hide()
        self.statusBar().addPermanentWidget(self.connection_label)
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.path_label)
        self.store_checker = StoreChecker(self)
        session.store.on_wait = self._waiting_for_another_writer
        self._backup_job = None
        self._build_menus()
        self.nav.setCurrentRow(0)
        self._restore_layout()
        self.show_read_only_state()
        if org.needs_first_run(session):
            self.show_welcome()
        self.live = None
        self._ops_wired = None
        self.ops  # the operations path, wired to this window
        self._start_live_updates()
        self.offer_kept_drafts()

    @property
    def ops(self):
        """The store's one operations path: every change made in this window goes through it,
        and its ``changed`` (what each change touched) refreshes the pages that show it."""
        from sefton_qa.gui import operations

        ops = operations.for_session(self.session)
        if self._ops_wired is not ops:
            ops.changed.connect(self._after_change)
            ops.waiting.connect(self._waiting_for_another_writer)
            self._ops_wired = ops
        return ops

    # -- drafts kept on this computer -------------------------------------------------------------
    def offer_kept_drafts(self) -> None:
        """Drafts this user typed while the server could not be reached (and then closed the
        form or the app) are offered again, to be saved to the store."""
        open_now = {f.kept_path for f in self._forms if f.kept_path is not None}
        kept = [k for k in kept_drafts.kept_for(self.session.store.location)
                if k.path not in open_now]
        if not kept or self.session.store.read_only:
            self.kept_banner.hide()
            return
        which = "; ".join(html.escape(k.label) for k in kept[:3])
        more = f" and {len(kept) - 3} more" if len(kept) > 3 else ""
        self.kept_label.setText(
            f"{len(kept)} draft{'s' if len(kept) != 1 else ''} typed while the server could "
            f"not be reached {'are' if len(kept) != 1 else 'is'} kept on this computer, not yet "
            f"in the store: {which}{more}. "
            f"{'Open them to save them' if len(kept) != 1 else 'Open it to save it'}.")
        self.kept_banner.show()

    def open_kept_drafts(self) -> list:
        """Open each kept draft in its form, which saves it to the store at once (or shows the
        conflict bar if the audit was changed on the server meanwhile)."""
        from sefton_qa.gui.audit_form import AuditForm

        open_now = {f.kept_path for f in self._forms if f.kept_path is not None}
        forms = []
        for kept in kept_drafts.kept_for(self.session.store.location):
            if kept.path in open_now:
                continue
            form = AuditForm(self.session, kept.audit_id, self, kept=kept)
            self._track_form(form)
            form.show()
            forms.append(form)
        self.kept_banner.hide()
        return forms

    # -- pages ----------------------------------------------------------------------------------
    @property
    def current_page(self) -> RegisterPage | None:
        page = self.stack.currentWidget()
        return page if isinstance(page, RegisterPage) else None

    def page(self, row: int):
        """The page at ``row`` of the navigation, built on first use."""
        title, page = self.pages[row]
        if page is None:
            # imported on first use: a quicker start
            from sefton_qa.gui.loop import (
                actions,
                allocated,
                calibration,
                conversations,
                drift,
                moderation,
                selection,
            )

            page_class = {cls.__name__: cls for cls in (
                allocated.AllocatedPage, moderation.ModerationPage,
                conversations.ConversationsPage, actions.ActionsPage, drift.DriftPage,
                calibration.CalibrationPage,
                selection.CaseSelectionPage)}[self._page_factories[title]]
            page = page_class(self.session, self)
            if hasattr(page, "open_requested"):
                page.open_requested.connect(self.open_audit)
            self.stack.addWidget(page)
            self.pages[row] = (title, page)
        return page

    def _show_page(self, row: int) -> None:
        if 0 <= row < len(self.pages):
            page = self.page(row)
            self.stack.setCurrentWidget(page)
            if isinstance(page, RegisterPage):
                self._update_count(page.model.total)
            else:
                self.count_label.clear()

    def show_welcome(self) -> None:
        """An empty store: offer demo data or a real set-up first."""
        try:
            from sefton_qa.gui.welcome.page import WelcomePage
        except ImportError:  # pragma: no cover - the welcome page ships with the app
            return
        self.welcome = WelcomePage(self.session, self)
        self.welcome.finished.connect(self._welcome_done)
        self.stack.addWidget(self.welcome)
        self.stack.setCurrentWidget(self.welcome)
        # An audit needs service areas and teams: none until set-up is finished.
        self.new_action.setEnabled(False)
        self.new_action.setStatusTip("Finish setting up the store (or load demo data) first.")

    def _welcome_done(self) -> None:
        if self.welcome is not None:
            self.stack.removeWidget(self.welcome)
            self.welcome.deleteLater()
            self.welcome = None
        self.rebuild_filters()
        self.refresh()
        self.nav.setCurrentRow(0)
        self._show_page(0)
        self.session.refresh_actor()
        self.new_action.setStatusTip("")
        self.new_action.setEnabled(self.session.actor.has_role(Role.QA_OFFICER) or
                                   self.session.actor.has_role(Role.ADMINISTRATOR))

    def rebuild_filters(self) -> None:
        """Service areas, teams, staff or themes changed: the filter lists follow."""
        for page in self.register_pages:
            page.filters.deleteLater()
            bar = FilterBar(self.session, page, fixed=page.filters.fixed)
            layout = page.filters.parentWidget().layout()
            layout.replaceWidget(page.filters, bar)
            page.filters = bar
            bar.changed.connect(page._apply_filter)

    # -- menus ----------------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, *, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if name:
            action.setObjectName(name)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_action = self._action(file_menu, "&New audit…", self.new_audit,
                                       QKeySequence.StandardKey.New, name="newAudit")
        self._action(file_menu, "&Open selected audit", self.open_selected, "Ctrl+O")
        self._action(file_menu, "Open s&tore…", self.open_store_dialog, "Ctrl+Shift+O",
                     name="openStore")
        file_menu.addSeparator()
        self._action(file_menu, "&Import audits…", self.open_import, "Ctrl+I")
        self._action(file_menu, "&Export audits…", self.open_export, "Ctrl+E")
        file_menu.addSeparator()
        self._action(file_menu, "&Backups…", self.open_backups, name="backups")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action(edit_menu, "&Undo last change to the selected audit",
                                        self.undo_selected, QKeySequence.StandardKey.Undo,
                                        name="undoAudit")
        self.redo_action = self._action(edit_menu, "&Redo the change last undone",
                                        self.redo_selected, QKeySequence.StandardKey.Redo,
                                        name="redoAudit")
        self._action(edit_menu, "&Find…", self.focus_search, QKeySequence.StandardKey.Find)
        edit_menu.addSeparator()
        self.settings_action = self._action(edit_menu, "&Settings…", self.open_settings,
                                            "Ctrl+,", name="settings")

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Refresh", self.refresh, QKeySequence.StandardKey.Refresh)
        for number, (title, _page) in enumerate(self.pages, start=1):
            self._action(view_menu, f"&{number} {title}",
                         lambda _c=False, n=number - 1: self.nav.setCurrentRow(n),
                         f"Ctrl+{number}")

        reports_menu = bar.addMenu("&Reports")
        self._action(reports_menu, "&Committee pack…", self.open_report, "Ctrl+R",
                     name="committeePack")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts,
                     QKeySequence.StandardKey.HelpContents, name="shortcuts")
        self._action(help_menu, "&About Sefton QA", self._about)
        can_log = self.session.actor.has_role(Role.QA_OFFICER) or \
            self.session.actor.has_role(Role.ADMINISTRATOR)
        self.new_action.setEnabled(can_log)
        self.undo_action.setEnabled(can_log)
        self.redo_action.setEnabled(can_log)

    def show_shortcuts(self):
        """Help → Keyboard shortcuts (F1): generated from the menus and gui/surfaces.py."""
        from sefton_qa.gui.surfaces import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.show()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {html.escape(__version__)}<br>"
                          "Case-file audits, moderation and committee packs for children's "
                          "social care quality assurance.")

    # -- actions --------------------------------------------------------------------------------
    def refresh(self) -> None:
        for _title, page in self.pages:
            if page is not None:
                page.refresh()
        page = self.current_page
        if page is not None:
            self._update_count(page.model.total)
        self._update_title()

    def _update_count(self, n: int) -> None:
        self.count_label.setText(f"{n:,} audit{'s' if n != 1 else ''}")

    def focus_search(self) -> None:
        page = self.current_page
        if page is not None:
            page.filters.search.setFocus()
            page.filters.search.selectAll()

    def new_audit(self):
        return self._open_form(None)

    def open_selected(self) -> None:
        page = self.current_page
        audit_id = page.selected_audit_id() if page else None
        if audit_id is not None:
            self.open_audit(audit_id)

    def open_audit(self, audit_id: int):
        return self._open_form(audit_id)

    def _open_form(self, audit_id: int | None):
        from sefton_qa.gui.audit_form import AuditForm

        form = AuditForm(self.session, audit_id, self)
        self._track_form(form)
        form.show()
        return form

    def _track_form(self, form) -> None:
        self.ops  # wired before the form's first save
        form.finished.connect(lambda _r, f=form: self._forms.remove(f) if f in self._forms
                              else None)
        form.finished.connect(lambda _r: self.offer_kept_drafts())  # one left kept, say so
        self._forms.append(form)

    def _after_change(self, change) -> None:
        """A change made in this window (the operations path says what it touched): each page
        showing a touched table refreshes."""
        keep = change.record_ids[0] if change.table == "audits" and change.record_ids else None
        self._refresh_pages(keep_audit=keep, tables=change.tables or None)

    def _refresh_pages(self, *, skip=None, keep_audit: int | None = None,
                       tables=None) -> None:
        """Every built page (but ``skip``) that shows one of ``tables`` (all pages when None)
        reloads what it shows; a register selects ``keep_audit`` (by default the audit it had
        selected)."""
        tables = set(tables) if tables is not None else None
        for _title, page in self.pages:
            if page is None or page is skip:
                continue
            shows = getattr(page, "SHOWS", None)
            if tables is not None and shows is not None and not tables & set(shows):
                continue
            if isinstance(page, RegisterPage):
                page.refresh(keep_audit=keep_audit)
            else:
                page.refresh()
        page = self.current_page
        if page is not None:
            self._update_count(page.model.total)

    def undo_selected(self) -> None:
        """Edit → Undo: the selected audit's last change still done, taken back."""
        self._through_history(redo=False)

    def redo_selected(self) -> None:
        """Edit → Redo: the selected audit's change last undone, made again."""
        self._through_history(redo=True)

    def _through_history(self, *, redo: bool) -> None:
        page = self.current_page
        audit_id = page.selected_audit_id() if page else None
        if audit_id is None:
            self.statusBar().showMessage(
                "Select an audit first: Redo makes its change last undone again." if redo
                else "Select an audit first: Undo reverts its last change.", 6000)
            return
        step = audit_service.redo_last_undo if redo else audit_service.undo_last_change
        try:
            audit = audit_service.get_audit(self.session, audit_id)
            self.ops.call(lambda s: step(s, audit_id), self.session)
            after = audit_service.get_audit(self.session, audit_id).status
        except SeftonError as exc:
            show_error(self, exc, title="Cannot redo" if redo else "Cannot undo")
            return
        case = audit.case_reference or "a new case"
        if redo:
            text = f"Redone: the audit of {case} has its change back. The redo is in its history."
        else:
            withdrawn = after is AuditStatus.WITHDRAWN and \
                audit.status is not AuditStatus.WITHDRAWN
            what = "withdrawn" if withdrawn else "restored to how it was before its last change"
            text = f"Undone: the audit of {case} was {what}. The undo is in its history."
        self.statusBar().showMessage(text, 10_000)

    def show_page_of(self, factory: str):
        """Go to the page built by ``factory`` ("ModerationPage", …) and return it."""
        row = next(i for i, (title, _p) in enumerate(self.pages)
                   if self._page_factories.get(title) == factory)
        self.nav.setCurrentRow(row)
        return self.page(row)

    def open_story_step(self, kind: str, record_id: int):
        """A link in an audit's detail pane: a re-audit opens in its form; an open moderation,
        conversation or action is shown selected on its page."""
        from sefton_qa.store import loop as loop_store

        if kind == "audit":
            return self.open_audit(record_id)
        getter, factory = {"moderation": (loop_store.get_moderation, "ModerationPage"),
                           "conversation": (loop_store.get_conversation, "ConversationsPage"),
                           "action": (loop_store.get_action, "ActionsPage")}.get(kind,
                                                                                 (None, None))
        item = getter(self.session.store.conn, record_id) if getter else None
        if item is None:
            return None
        case = audit_service.get_audit(self.session, item.audit_id).case_reference or ""
        page = self.show_page_of(factory)
        if hasattr(page, "everyone") and page.everyone.isVisible():
            page.everyone.setChecked(True)  # not only "mine": the step may be someone else's
        if not page.select_item(record_id):
            self.statusBar().showMessage(
                f"{case} is not in this queue for you (it may be another team's).", 8000)
        return page

    def open_import(self, path=None):
        from sefton_qa.gui.import_dialog import ImportDialog

        dialog = ImportDialog(self.session, self, path=path)
        dialog.imported.connect(lambda report: (self.refresh(), self.statusBar().showMessage(
            f"Imported {report.added:,} audits from {report.file_name}", 10_000)))
        dialog.show()
        return dialog

    def open_export(self):
        from sefton_qa.gui.export_dialog import ExportDialog

        dialog = ExportDialog(self.session, self)
        dialog.show()
        return dialog

    def open_store_dialog(self):
        """File → Open store…: another file, or the team's server. The chosen store opens in
        a new window; this one closes (saving drafts) once it has."""
        from sefton_qa.gui.open_store_dialog import OpenStoreDialog

        dialog = OpenStoreDialog(self.settings, self.session.store.location, self)
        dialog.accepted.connect(lambda: self._switch_to(dialog.session))
        dialog.open()
        return dialog

    # -- other people's changes ------------------------------------------------------------------
    def _start_live_updates(self) -> None:
        from sefton_qa.gui.live_updates import LiveUpdates

        if self.live is not None:
            self.live.stop()
        self.live = LiveUpdates(self.session.store, self)
        self.live.changed.connect(self.changed_elsewhere)
        self.live.connection.connect(self.show_connection)
        self.live.start()

    def show_connection(self, up: bool) -> None:
        """A lost connection to the server is shown in the status bar until it is back (the
        app reconnects by itself; saves meanwhile are refused plainly)."""
        if up:
            if self.connection_label.isVisible():
                self.statusBar().showMessage("Connected to the server again.", 8000)
            self.connection_label.hide()
        else:
            self.connection_label.show()

    def changed_elsewhere(self, head: int, tables) -> None:
        """Someone else's change (a store file's poll also sees this window's own): every
        page reloads what it shows, keeping its selection, so queues and the register stay
        current; an open form whose audit changed says so."""
        self._refresh_pages(tables=tables)
        if tables is None or "audits" in tables:
            for form in list(self._forms):
                form.check_changed_elsewhere()

    def _switch_to(self, session) -> None:
        from sefton_qa.gui.app import show_main_window

        if session is None:
            return
        old_store = self.session.store
        if not self.close():  # an open form kept its unsaved changes: stay here
            session.store.close()
            return
        self.replaced_by = show_main_window(session, self.settings)
        self.replaced_by.owns_store = True  # closed with its window (run_gui closes the first)
        old_store.close()

    def open_backups(self):
        if not self.session.store.dialect.is_file:  # IT backs the server up; a snapshot here
            from sefton_qa.gui.server_backups_dialog import ServerBackupsDialog

            dialog = ServerBackupsDialog(self.session, self)
            dialog.show()
            return dialog
        from sefton_qa.gui.backups_dialog import BackupsDialog

        dialog = BackupsDialog(self.session, self)
        dialog.restored.connect(self._after_restore)
        dialog.show()
        return dialog

    def _after_restore(self, _result) -> None:
        """A restored store is another file: the old banner goes, the title says whether it
        is read-only, and the full check runs again on it."""
        self.store_check_banner.hide()
        self.store_check_banner.read_only_button.show()
        self.show_read_only_state()
        self.check_store()
        self._start_live_updates()  # the file was replaced: watch the new one

    def open_report(self):
        from sefton_qa.gui.report_dialog import ReportDialog

        dialog = ReportDialog(self.session, self)
        dialog.show()
        return dialog

    def open_settings(self):
        from sefton_qa.gui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.session, self)
        dialog.changed.connect(self._settings_changed)
        dialog.show()
        return dialog

    def _settings_changed(self) -> None:
        self.session.refresh_actor()
        self.rebuild_filters()
        self.refresh()

    # -- the store's state -----------------------------------------------------------------------
    def start_daily_backup(self):
        """The first start of each day backs the store up (services.backups.backup_if_due), in
        the background: at a million audits it takes half a minute, which the window must not
        wait for. A failure is a warning in the status bar, not a stop. Returns the Job, or
        None for a read-only store."""
        from sefton_qa.gui.jobs import Job
        from sefton_qa.services.backups import backup_if_due

        if self.session.store.read_only or not self.session.store.dialect.is_file:
            return None  # a server store is backed up by IT, with the server's own backups

        def work(session, progress):
            def should_stop() -> bool:
                return progress(0, 0, "Making today's backup") is False

            return backup_if_due(session.store, should_stop=should_stop)

        # It reads the store and writes only the backup folder.
        job = Job(self.session, work, self, writes=False)
        job.succeeded.connect(self._daily_backup_made)
        job.failed.connect(lambda exc: None if job.cancelled else self.statusBar().showMessage(
            f"Today's backup could not be made: {exc}", 30_000))
        self._backup_job = job
        self.statusBar().showMessage("Making today's backup in the background…", 10_000)
        job.start()
        return job

    def _daily_backup_made(self, made) -> None:
        if made is not None:
            self.statusBar().showMessage(f"Today's backup: {made}", 10_000)
        elif self.statusBar().currentMessage().startswith("Making today's backup"):
            self.statusBar().clearMessage()  # there was one already today

    def _waiting_for_another_writer(self, holder: str | None) -> None:
        """A save on the team's server waits while someone else's long write runs: say what,
        at once (the save itself waits up to the lock timeout, then is refused plainly)."""
        from PySide6.QtWidgets import QApplication

        from sefton_qa.store.postgres import LOCK_TIMEOUT_MS

        what = holder or "another user's work"
        self.statusBar().showMessage(
            f"Waiting for {what} to finish before saving (up to "
            f"{LOCK_TIMEOUT_MS // 1000} seconds)…", LOCK_TIMEOUT_MS + 2000)
        QApplication.processEvents()

    def check_store(self) -> None:
        """Run the store's full check in the background (once the window is open)."""
        self.store_checker.start()

    def _update_title(self) -> None:
        store = self.session.store
        read_only = " (read-only)" if store.read_only else ""
        where = store.path.name if store.dialect.is_file else store.describe()
        self.setWindowTitle(f"{APP_NAME} — {where}{read_only}")

    def show_read_only_state(self) -> None:
        store = self.session.store
        self._update_title()
        if store.read_only:
            why = (" It was written by a newer version of Sefton QA." if store.newer_version
                   else "")
            self.statusBar().showMessage(
                f"The store is open read-only: changes cannot be saved.{why}")

    def switch_to_read_only(self) -> bool:
        """Close the store and reopen it read-only into the same session (the banner's way out
        when the full check fails). Open audit forms are closed first, saving their drafts."""
        from sefton_qa.gui.jobs import Job
        from sefton_qa.store import open_store

        if Job.running():
            QMessageBox.information(
                self, "Work is still being saved",
                "An import or other work is still being written to the store. Wait for it to "
                "finish, or cancel it, then switch to read-only.")
            return False
        for form in list(self._forms):
            if not form.close():
                return False
        store = self.session.store
        path = store.location
        store.close()
        try:
            self.session.store = open_store(path, read_only=True, migrate=False, create=False)
        except Exception as exc:  # the store is closed; say so plainly, with details
            show_error(self, exc)
            self.setEnabled(False)
            return False
        self.store_check_banner.read_only_button.hide()
        self.show_read_only_state()
        self.refresh()
        return True

    # -- remembering the layout -----------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1360, 820)
        splitter = self.settings.value("main_window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([185, 1175])
        for page in self.register_pages:
            page.restore_layout(self.settings)

    def save_layout(self) -> None:
        self.settings.setValue("main_window/geometry", self.saveGeometry())
        self.settings.setValue("main_window/splitter", self.splitter.saveState())
        for page in self.register_pages:
            page.save_layout(self.settings)
        self.settings.sync()

    def closeEvent(self, event) -> None:
        for form in list(self._forms):
            if not form.close():  # each form saves its draft as it closes, or asks
                event.ignore()
                return
        self.store_checker.stop()
        if self.live is not None:
            self.live.stop()
            self.live = None
        if self._backup_job is not None:
            # A backup still being checked stops at once and keeps nothing (the next start
            # makes the day's backup again); one still copying finishes its copy first.
            self._backup_job.cancel()
            self.hide()
            self._backup_job.wait(None)
        self.save_layout()
        super().closeEvent(event)
        if getattr(self, "owns_store", False):
            self.session.store.close()
