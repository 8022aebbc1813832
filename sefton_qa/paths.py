"""The one place that knows where Sefton QA keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from sefton_qa import APP_ID

DB_ENV = "SEFTON_QA_DB"
STORE_FILENAME = "sefton-qa.sqlite3"
DEMO_STORE_FILENAME = "sefton-qa-demo.sqlite3"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def default_store_path() -> Path:
    return data_dir() / STORE_FILENAME


def demo_store_path() -> Path:
    return data_dir() / DEMO_STORE_FILENAME


def resolve_store_path(explicit: str | os.PathLike | None, *, demo: bool = False
                       ) -> Path | str:
    """--db wins, then $SEFTON_QA_DB, then the default (or the demo store when asked for it).

    A PostgreSQL server's address (``postgresql://…``, or a libpq string such as
    ``service=NAME``) comes back as it was given; anything else is a file path."""
    from sefton_qa.store.postgres import is_server_location

    for given in (explicit, os.environ.get(DB_ENV)):
        if given:
            return str(given) if is_server_location(given) else Path(given).expanduser()
    return demo_store_path() if demo else default_store_path()


def backup_dir_for(store_path: Path) -> Path:
    """Backups sit beside the store, in a folder named after it."""
    return store_path.parent / "backups"
