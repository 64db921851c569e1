"""Undo and redo of every structural edit while a line's editor is open: the document comes back
as it was, the open editor shows its line as the document has it (or closes, when its line went),
and typing goes on into the right line, adding nothing anywhere else."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView

from core.document.speakers import Speaker
from tests.ui.conftest import press, write_dialogue

LINES = ((Speaker.S1, "One one."), (Speaker.S2, "Two two."), (Speaker.S1, "Three three."))


def _key(key):
    return lambda studio, qtbot, editor: qtbot.keyClick(editor, key)


def _action(name):
    return lambda studio, qtbot, editor: press(qtbot, getattr(studio.window.actions, name))


EDITS = {  # each with the editor open on line 2, its cursor after "Two "
    "Enter splits the line": _key(Qt.Key.Key_Return),
    "Backspace at its start joins it to the line above": lambda studio, qtbot, editor: (
        editor.setCursorPosition(0), qtbot.keyClick(editor, Qt.Key.Key_Backspace)),
    "a tag put in starts a line": lambda studio, qtbot, editor: editor.insert("[S1] "),
    "add a line below": _action("add_line"),
    "add a line above": _action("insert_line"),
    "duplicate": _action("duplicate_line"),
    "delete": _action("delete_lines"),
    "move up": _action("move_up"),
    "move down": _action("move_down"),
    "join with the next line": _action("merge_lines"),
}


def texts(studio) -> list[str]:
    return [line.text for line in studio.dialogue.lines]


def _editing(studio, qtbot):
    studio.window.show()
    studio.window.activateWindow()
    ids = write_dialogue(studio, *LINES)
    editor = studio.window.timeline.edit_line(ids[1], cursor=len("Two "))
    editor.setFocus()
    return editor


def _open_editor(studio):
    """The editor open after a command (a command that closed it: the current line's, reopened)."""
    timeline = studio.window.timeline
    return timeline._open_editor() or timeline.edit_line(timeline.current_line_id())


def _assert_the_view_shows_the_document(studio):
    timeline = studio.window.timeline
    editor = timeline._open_editor()
    if editor is None:
        assert timeline.state() != QAbstractItemView.State.EditingState, "no editor, yet the view is editing"
    else:
        line = studio.dialogue.line(editor.property("line_id"))
        assert editor.text() == line.text


def _type_and_leave(studio, qtbot) -> None:
    """A word typed, each key where the person's would go (the open editor, else the table, whose
    typing opens the current line's), then the line left: it must land in one line, once."""
    timeline = studio.window.timeline
    for key in "Zed":
        qtbot.keyClicks(timeline._open_editor() or timeline, key)
    assert timeline._open_editor() is not None, "typing opened no editor: the view is dead"
    timeline._close_editor()


def _one_line_took_the_word(before: list[str], after: list[str]) -> bool:
    changed = [(old, new) for old, new in zip(before, after) if old != new]
    return len(after) == len(before) and len(changed) == 1 and changed[0][1].replace("Zed", "", 1) == changed[0][0]


@pytest.mark.parametrize("edit", EDITS)
def test_undo_with_the_editor_open_restores_the_document_and_typing_goes_on(studio, qtbot, edit):
    editor = _editing(studio, qtbot)
    before = texts(studio)
    EDITS[edit](studio, qtbot, editor)
    assert texts(studio) != before, "the edit changed nothing"
    qtbot.keyClick(_open_editor(studio), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    assert texts(studio) == before
    _assert_the_view_shows_the_document(studio)
    _type_and_leave(studio, qtbot)
    assert _one_line_took_the_word(before, texts(studio)), texts(studio)


@pytest.mark.parametrize("edit", EDITS)
def test_redo_with_the_editor_open_makes_the_edit_again_and_typing_goes_on(studio, qtbot, edit):
    editor = _editing(studio, qtbot)
    EDITS[edit](studio, qtbot, editor)
    edited = texts(studio)
    studio.window.timeline._close_editor()
    press(qtbot, studio.window.actions.undo)
    qtbot.keyClick(_open_editor(studio), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)

    assert texts(studio) == edited
    _assert_the_view_shows_the_document(studio)
    _type_and_leave(studio, qtbot)
    assert _one_line_took_the_word(edited, texts(studio)), texts(studio)
