"""GUI tests run offscreen unless QT_QPA_PLATFORM says otherwise. Each test gets its own
QSettings file, so nothing leaks into the user's settings."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from sefton_qa.services import sign_in  # noqa: E402
from sefton_qa.services.demo import generate_demo  # noqa: E402
from sefton_qa.store import open_store  # noqa: E402

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def gui_settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def demo_session(tmp_path):
    store = open_store(tmp_path / "gui-demo.sqlite3")
    session = sign_in(store, os_user="gui.tester", today=lambda: TODAY)
    generate_demo(session, months=6, seed=7)
    yield session
    store.close()
