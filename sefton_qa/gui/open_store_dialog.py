"""File → Open store…: a store file, or the team's store on a PostgreSQL server.

The dialog lists the stores opened recently (newest first) and takes a file path or a server's
address (``postgresql://server/database``, or ``service=NAME``). The store is opened off the GUI
thread (an unreachable server takes seconds to say so); a refusal is one plain sentence in the
dialog, with the address kept for correcting. A password is never stored: an address with one
is refused, since PostgreSQL's own password file or Kerberos supplies it.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

RECENT_KEY = "recent_stores"
MAX_RECENT = 8


def recent_stores(settings: QSettings) -> list[str]:
    value = settings.value(RECENT_KEY, [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or []) if str(v).strip()][:MAX_RECENT]


def remember_store(settings: QSettings, location: str) -> None:
    """Put ``location`` first in the recent list (never with a password: those are refused
    before a store is opened)."""
    location = str(location)
    rest = [r for r in recent_stores(settings) if r != location]
    settings.setValue(RECENT_KEY, [location, *rest][:MAX_RECENT])


def password_in(location: str) -> bool:
    """True when a server address carries a password (which the app never keeps)."""
    from sefton_qa.store.postgres import is_server_location

    if not is_server_location(location):
        return False
    from psycopg.conninfo import conninfo_to_dict

    try:
        return bool(conninfo_to_dict(location).get("password"))
    except Exception:  # noqa: BLE001 - a malformed address is refused when opened
        return False


class _Opener(QThread):
    opened = Signal(object)  # the session
    refused = Signal(object)  # the exception

    def __init__(self, location: str, parent=None):
        super().__init__(parent)
        self.location = location

    def run(self) -> None:
        from sefton_qa.gui.app import open_session

        try:
            self.opened.emit(open_session(self.location))
        except BaseException as exc:  # noqa: BLE001 - shown in the dialog
            self.refused.emit(exc)


class OpenStoreDialog(QDialog):
    """Choose a store and open it; ``session`` holds the new session once accepted."""

    def __init__(self, settings: QSettings, current: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Open store")
        self.setObjectName("openStoreDialog")
        self.settings = settings
        self.session = None
        self._opener: _Opener | None = None

        intro = QLabel(
            "Open a store file on this computer, or the team's store on a PostgreSQL server "
            "(for example <tt>postgresql://qa-db.council.local/sefton_qa</tt>, or "
            "<tt>service=sefton_qa</tt>). Sefton QA never keeps a password: PostgreSQL's own "
            "password file or your Windows sign-in (Kerberos) supplies it.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)

        self.recent = QListWidget()
        self.recent.setObjectName("recentStores")
        self.recent.setAccessibleName("Recent stores")
        for location in recent_stores(settings):
            item = QListWidgetItem(_describe(location))
            item.setData(Qt.ItemDataRole.UserRole, location)
            item.setToolTip(location)
            self.recent.addItem(item)
        self.recent.currentItemChanged.connect(self._recent_chosen)
        self.recent.itemActivated.connect(lambda _item: self.open_chosen())
        recent_label = QLabel("&Recent stores:")
        recent_label.setBuddy(self.recent)

        self.location = QLineEdit(current)
        self.location.setObjectName("storeLocation")
        self.location.setAccessibleName("Store file or server address")
        self.location.setPlaceholderText("A file path, or postgresql://server/database")
        self.location.textChanged.connect(self._changed)
        location_label = QLabel("&File or server address:")
        location_label.setBuddy(self.location)
        self.browse = QPushButton("&Browse…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.location, 1)
        row.addWidget(self.browse)

        self.message = QLabel()
        self.message.setObjectName("openStoreMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Why the store could not be opened")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.open_chosen)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(recent_label)
        layout.addWidget(self.recent, 1)
        layout.addWidget(location_label)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(620, 380)
        self._changed()
        self.location.setFocus()

    # -- behaviour ------------------------------------------------------------------------------
    def _recent_chosen(self, item, _previous=None) -> None:
        if item is not None:
            self.location.setText(item.data(Qt.ItemDataRole.UserRole))

    def _changed(self, *_args) -> None:
        self.message.clear()
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(
            bool(self.location.text().strip()) and self._opener is None)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a store file", "", "Sefton QA stores (*.sqlite3 *.sqlite *.db);;"
                                           "All files (*)")
        if path:
            self.location.setText(path)

    def open_chosen(self) -> None:
        location = self.location.text().strip()
        if not location or self._opener is not None:
            return
        if password_in(location):
            self.message.setText("Leave the password out of the address: Sefton QA never "
                                 "keeps one. Put it in PostgreSQL's password file (pgpass), "
                                 "or sign in with Kerberos.")
            return
        for widget in (self.location, self.recent, self.browse):
            widget.setEnabled(False)
        self._opener = _Opener(location, self)
        self._opener.opened.connect(lambda session: self._opened(location, session))
        self._opener.refused.connect(self._refused)
        self._opener.finished.connect(self._opener_done)
        self._changed()
        self.message.setText(f"Opening {_describe(location)}… (a server that does not answer "
                             "is given up on after 10 seconds)")
        self._opener.start()

    def _opener_done(self) -> None:
        self._opener = None
        for widget in (self.location, self.recent, self.browse):
            widget.setEnabled(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(
            bool(self.location.text().strip()))

    def _opened(self, location: str, session) -> None:
        self.session = session
        remember_store(self.settings, location)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        from sefton_qa.domain.errors import SeftonError
        from sefton_qa.gui.errors import log

        if not isinstance(exc, SeftonError):
            log.error("Opening a store failed", exc_info=exc)
        self.message.setText(str(exc) if isinstance(exc, SeftonError) else
                             f"The store could not be opened: {exc}")
        self.location.setFocus()

    def reject(self) -> None:
        if self._opener is not None:
            return  # an open under way ends within the connect timeout; then it can be left
        super().reject()

    def done(self, result: int) -> None:
        if result != QDialog.DialogCode.Accepted and self.session is not None:
            self.session.store.close()
            self.session = None
        super().done(result)


def _describe(location: str) -> str:
    from sefton_qa.store.postgres import describe_location, is_server_location

    return f"{describe_location(location)} (server)" if is_server_location(location) \
        else location
