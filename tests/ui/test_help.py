"""The Help menu: every keyboard shortcut, read off the window's commands, and About with the version."""

from __future__ import annotations

from importlib.metadata import version

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.help_dialogs import ShortcutsDialog


def test_the_help_menu_lists_every_shortcut_and_says_the_version(studio, qtbot):
    window = studio.window
    help_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Help")
    assert [action.text() for action in help_menu.actions()] == ["&Keyboard shortcuts", "&About Dia Studio"]

    window.actions.shortcuts.trigger()
    dialog = window.findChild(ShortcutsDialog)
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.table
    rows = {table.item(row, 0).text(): table.item(row, 1).text() for row in range(table.rowCount())}
    assert rows["Generate"] == "F5" and rows["Cancel generation"] == "Esc" and rows["Export"] == "Ctrl+E"
    assert rows["Speak as I type"] == "F6" and rows["Keep this preview"] == "Shift+F6"
    assert rows["Undo"].startswith("Ctrl+Z") and "F14" not in rows["Undo"] and rows["Save As"] == "Ctrl+Shift+S"
    assert rows["Split the line at the cursor"] == "Enter"
    # Every command with keys is there: the list is read off the window, never written twice.
    with_keys = [action for action in QWidget.actions(window) if not action.shortcut().isEmpty()]
    assert len(with_keys) > 20 and all(action.property("command") in rows for action in with_keys)
    dialog.close()

    window.actions.about.trigger()
    box = window.findChild(QMessageBox, "about_box")
    qtbot.waitUntil(box.isVisible)
    assert f"Dia Studio {version('dia-studio')}" in box.text() and "Apache License 2.0" in box.text()
    box.close()
