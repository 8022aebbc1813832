"""One place for unexpected errors: log them, and show a dialog with a plain message, the
details to copy, and where the log file is. No traceback is ever the only explanation."""

from __future__ import annotations

import logging
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from sefton_qa import paths
from sefton_qa.domain.errors import SeftonError

log = logging.getLogger("sefton_qa")


def setup_logging(directory: Path | None = None) -> Path:
    directory = directory or paths.log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    log_file = directory / "sefton-qa.log"
    if not any(isinstance(h, RotatingFileHandler) for h in log.handlers):
        handler = RotatingFileHandler(log_file, maxBytes=1_000_000, backupCount=3,
                                      encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log_file


def show_error(parent, exc: BaseException, *, title: str = "Something went wrong",
               log_file: Path | None = None) -> None:
    """A known error (SeftonError) gets its own plain message; anything else gets a general
    one with the details underneath."""
    if isinstance(exc, SeftonError):
        QMessageBox.warning(parent, title, str(exc))
        return
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("Unexpected error\n%s", details)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText("Sefton QA hit an unexpected problem. Your saved work is safe in the store; "
                "the last action may not have completed.")
    where = f"\n\nThe details are also in the log file:\n{log_file}" if log_file else ""
    box.setInformativeText("Please send the details below to your IT support." + where)
    box.setDetailedText(details)
    box.exec()


def install_excepthook(log_file: Path) -> None:
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        exc.__traceback__ = tb
        if QApplication.instance() is None:
            sys.__excepthook__(exc_type, exc, tb)
            return
        show_error(QApplication.activeWindow(), exc, log_file=log_file)

    sys.excepthook = hook
