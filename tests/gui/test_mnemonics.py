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
        # The same label repeated (each section's "&Notes") is one letter on purpose: Alt+N
        # moves from one to the next.
        if len(set(texts)) > 1:
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


# -- the registry of every surface (sefton_qa/gui/surfaces.py) -------------------------------
def test_the_registry_names_every_window_dialog_and_page_in_the_gui():
    """A new window, dialog or page in sefton_qa/gui fails here until it is in the registry
    (or named as a part of another)."""
    import importlib
    import inspect
    import pkgutil

    from PySide6.QtWidgets import QDialog, QMainWindow, QWidget

    import sefton_qa.gui as gui
    from sefton_qa.gui.surfaces import PARTS, SURFACES

    found = set()
    modules = [info.name for info in pkgutil.walk_packages(gui.__path__, "sefton_qa.gui.")]
    assert "sefton_qa.gui.loop.moderation" in modules  # the walk reaches the subpackages
    for dotted in modules:
        module = importlib.import_module(dotted)
        short = dotted.removeprefix("sefton_qa.gui.")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, QWidget) and (
                    issubclass(cls, (QDialog, QMainWindow)) or
                    name.endswith(("Page", "Tab", "Pages", "Window")) or
                    cls.__bases__[0] is QWidget):
                found.add(f"{short}:{name}")
    registered = {s.cls for s in SURFACES}
    assert found - registered - set(PARTS) == set(), "not in gui/surfaces.py"
    assert registered - found == set(), "in the registry but not in the code"
    assert not registered & set(PARTS)


def test_no_surface_in_the_registry_shares_an_alt_letter(qtbot, demo_session, gui_settings):
    """Every surface the registry can open, opened from the main window: within it (and, for a
    page, with the menu bar) no two visible Alt letters are the same."""
    from sefton_qa.gui.surfaces import SURFACES

    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    found = {}
    opened = 0
    for surface in SURFACES:
        if surface.opens is None or surface.kind == "window":
            continue
        widget = surface.opens(window)
        if widget is None:
            continue
        opened += 1
        qtbot.addWidget(widget) if widget.parent() is None else None
        widget.show()
        QApplication.processEvents()
        if surface.kind == "page":
            problems = clashes(window, widget)
        else:
            problems = [p for p in clashes(window, widget) if " menu" not in p]
        if problems:
            found[surface.name] = problems
        if surface.kind != "page":
            widget.close()
    assert found == {}
    assert opened >= 20
    window.close()


def test_help_keyboard_shortcuts_is_generated_from_the_menus_and_the_registry(
        qtbot, active_main_window):
    from PySide6.QtCore import Qt

    from sefton_qa.gui.surfaces import SURFACES

    window = active_main_window

    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_F1)
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if w.objectName() == "shortcutsDialog" and w.isVisible())
    text = dialog.text.toPlainText()
    for surface in SURFACES:
        assert surface.name in text and surface.how in text
    assert "File → New audit…" in text and "Ctrl+N" in text
    assert "Reports → Committee pack…" in text and "Ctrl+R" in text
    dialog.close()
    window.close()


def test_every_input_of_every_surface_has_an_accessible_name(qtbot, demo_session,
                                                             gui_settings):
    """Issue 17, item 5: a screen reader names every control a person can reach, on every
    surface the registry opens."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    from sefton_qa.gui.surfaces import SURFACES

    window = MainWindow(demo_session, gui_settings)
    qtbot.addWidget(window)
    window.show()
    unnamed: dict[str, list[str]] = {}
    for surface in SURFACES:
        if surface.opens is None:
            continue
        widget = surface.opens(window)
        if widget is None:
            continue
        widget.show()
        QApplication.processEvents()
        scope = widget if surface.kind != "tab" else widget.tabs.currentWidget()
        missing = []
        for control in scope.findChildren(QWidget):
            if control.focusPolicy() == Qt.FocusPolicy.NoFocus or \
                    not control.isVisibleTo(scope) or control.objectName().startswith("qt_"):
                continue
            # A button or box is named by its own text; any other control needs a name.
            visible_text = control.text() if isinstance(control, QAbstractButton) else ""
            if not control.accessibleName() and not visible_text:
                missing.append(control.objectName() or type(control).__name__)
        if missing:
            unnamed[surface.name] = sorted(set(missing))
        if surface.kind not in ("page", "window"):
            widget.close()
    assert unnamed == {}
    window.close()
