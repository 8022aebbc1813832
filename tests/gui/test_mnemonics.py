"""Issue 17, finding 4: an Alt letter on a page must not also open a menu of the window (Alt+R
was both Reports and the moderation reason: the reason's text was lost to the pack dialog).
Every page of the main window, and the set-up page of a new store, is shown in turn; the Alt
letters of its visible labels, buttons and group boxes must differ from each other and from
the menu bar's."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QGroupBox, QLabel

from sefton_qa.gui.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("as_gui_tester")
_MNEMONIC = re.compile(r"&([^&\s])")


def menu_letters(window) -> dict[str, str]:
    out = {}
    for action in window.menuBar().actions():
        match = _MNEMONIC.search(action.text())
        if match:
            out[match.group(1).lower()] = action.text()
    return out


def page_letters(page) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    widgets = page.findChildren(QAbstractButton) + page.findChildren(QLabel) + \
        page.findChildren(QGroupBox)
    for widget in widgets:
        if not widget.isVisibleTo(page):
            continue
        text = widget.title() if isinstance(widget, QGroupBox) else widget.text()
        match = _MNEMONIC.search(text or "")
        if match:
            found.setdefault(match.group(1).lower(), []).append(text)
    return found


def clashes(window, page) -> list[str]:
    menus = menu_letters(window)
    out = []
    for letter, texts in page_letters(page).items():
        if len(texts) > 1:
            out.append(f"Alt+{letter.upper()}: {texts}")
        if letter in menus:
            out.append(f"Alt+{letter.upper()}: {texts} and the {menus[letter]} menu")
    return out


def test_no_page_of_the_window_shares_an_alt_letter(qtbot, demo_session, gui_settings):
    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    found = {}
    for row in range(window.nav.count()):
        window.nav.setCurrentRow(row)
        page = window.page(row)
        QApplication.processEvents()
        problems = clashes(window, page)
        if problems:
            found[window.nav.item(row).text()] = problems
    assert found == {}
    assert set(menu_letters(window)) == {"f", "e", "v", "r", "h"}
    window.close()


def test_the_set_up_page_shares_no_alt_letter_with_the_menus(qtbot, tmp_path, gui_settings):
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store

    store = open_store(tmp_path / "new.sqlite3")
    window = MainWindow(sign_in(store, os_user="gui.tester"), gui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.welcome is not None and window.stack.currentWidget() is window.welcome
    problems = clashes(window, window.welcome)
    welcome = window.welcome
    welcome.stack.setCurrentWidget(welcome.setup)  # "Set up for real": each step in turn
    setup = welcome.setup
    for index in range(setup.steps.count()):
        setup.go_to(index)
        QApplication.processEvents()
        assert setup.steps.currentIndex() == index
        problems += [f"step {index + 1}: {p}" for p in clashes(window, setup)]
    assert problems == []
    window.close()
    store.close()
