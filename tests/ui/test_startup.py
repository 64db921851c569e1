"""Starting the studio: an empty project takes typing at once (its first line)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.dialogue import Speaker


def type_into_focus(qtbot, text: str) -> None:
    """Real key presses, each to whatever has the keyboard focus then."""
    for character in text:
        qtbot.keyClick(QApplication.focusWidget(), character)


def test_typing_in_an_empty_project_writes_its_first_line(studio, qtbot):
    window = studio.window  # a later start: an empty project
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    assert not studio.dialogue.lines
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.timeline)
    type_into_focus(qtbot, "Hello there")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert [(line.speaker, line.text) for line in studio.dialogue.lines][:1] == [(Speaker.S1, "Hello there")]


def test_a_new_project_also_takes_typing_and_enter_starts_its_first_line(studio, qtbot):
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.actions.new_project.trigger()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.timeline)
    qtbot.keyClick(window.timeline, Qt.Key.Key_Return)
    type_into_focus(qtbot, "Hi")
    assert [line.text for line in studio.dialogue.lines] == ["Hi"]
