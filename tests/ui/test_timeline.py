"""Editing the dialogue in the timeline: typing in place, keys, commands, drag and drop, undo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QToolButton

from core.dia2.script import word_spans
from core.document.markup import NONVERBAL_CUES
from core.document.speakers import Speaker
from core.studio.heard_dialogue import DIALOGUE
from tests.ui.conftest import FakeRuntime, press, use_runtime, write_dialogue
from ui.prompts import Prompts
from ui.timeline_model import Column, TimelineModel


def texts(studio) -> list[str]:
    return [line.text for line in studio.dialogue.lines]


def test_typing_in_a_line_edits_the_document_and_undo_restores_it(studio, qtbot):
    first, _ = write_dialogue(studio, (Speaker.S1, "Hello"), (Speaker.S2, "Hi"))
    timeline = studio.window.timeline
    editor = timeline.edit_line(first)
    qtbot.keyClicks(editor, " there")

    assert texts(studio) == ["Hello there", "Hi"]
    assert timeline.timeline.index(0, Column.TEXT).data() == "Hello there"
    timeline._close_editor()
    press(qtbot, studio.window.actions.undo)  # the whole typing run is one step
    assert texts(studio) == ["Hello", "Hi"]
    press(qtbot, studio.window.actions.redo)
    assert texts(studio) == ["Hello there", "Hi"]


def test_ctrl_z_in_an_open_editor_undoes_through_the_document(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "One"))
    studio.window.show()
    studio.window.activateWindow()
    editor = studio.window.timeline.edit_line(line)
    editor.setFocus()
    qtbot.keyClicks(editor, " two")
    assert studio.window.actions.undo.isEnabled()
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    assert texts(studio) == ["One"]
    assert studio.dialogue.undo_stack.can_redo  # the document's undo ran, not the editor's own
    assert editor.text() == "One"


def test_typing_on_a_selected_line_appends_to_it(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "Keep this"))
    timeline = studio.window.timeline
    timeline.select_line(line)
    qtbot.keyClicks(timeline, "!")
    qtbot.keyClicks(timeline._open_editor(), "?")
    assert texts(studio) == ["Keep this!?"]


def test_enter_splits_at_the_cursor_and_backspace_at_the_start_joins(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "First half. Second half."))
    timeline = studio.window.timeline
    editor = timeline.edit_line(line, cursor=len("First half."))
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    assert texts(studio) == ["First half.", "Second half."]
    assert [line.speaker for line in studio.dialogue.lines] == [Speaker.S1, Speaker.S1]
    editor = timeline._open_editor()
    assert timeline.current_line_id() == studio.dialogue.lines[1].id and editor.cursorPosition() == 0

    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert texts(studio) == ["First half. Second half."]
    assert timeline._open_editor().cursorPosition() == len("First half. ")


def test_line_commands_add_duplicate_move_and_delete(studio, qtbot):
    ids = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"), (Speaker.S1, "c"))
    window, timeline = studio.window, studio.window.timeline
    timeline.select_line(ids[0])

    window.actions.add_line.trigger()
    assert texts(studio) == ["a", "", "b", "c"]
    assert studio.dialogue.lines[1].speaker is Speaker.S2  # the other speaker than the line above
    timeline._close_editor()
    window.actions.delete_lines.trigger()
    assert texts(studio) == ["a", "b", "c"]

    timeline.select_line(ids[2])
    window.actions.move_up.trigger()
    assert texts(studio) == ["a", "c", "b"]
    assert timeline.current_line_id() == ids[2]
    window.actions.duplicate_line.trigger()
    assert texts(studio) == ["a", "c", "c", "b"]
    window.actions.speaker_2.trigger()
    assert studio.dialogue.lines[2].speaker is Speaker.S2
    window.actions.merge_lines.trigger()
    assert texts(studio) == ["a", "c", "c b"]

    for _ in range(6):  # each command was one undo step
        press(qtbot, window.actions.undo)
    assert texts(studio) == ["a", "b", "c"]


def test_shortcuts_reach_the_commands(studio, qtbot):
    ids = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.timeline.select_line(ids[1])
    window.timeline.setFocus()
    qtbot.keyClick(window.timeline, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert texts(studio) == ["b", "a"]
    qtbot.keyClick(window.timeline, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert texts(studio) == ["a"]


def test_the_window_keys_reach_their_commands(studio, qtbot, prompts):
    ids = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    use_runtime(studio, FakeRuntime())
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.timeline.select_line(ids[1])
    window.timeline.setFocus()
    control = Qt.KeyboardModifier.ControlModifier

    qtbot.keyClick(window.timeline, Qt.Key.Key_Return, control)  # add a line below
    assert len(studio.dialogue.lines) == 3 and studio.dialogue.lines[1].id == ids[1]
    qtbot.keyClick(window.timeline, Qt.Key.Key_Escape)  # leave the new line's editor
    window.timeline.select_line(ids[1])
    window.timeline.setFocus()
    qtbot.keyClick(window.timeline, Qt.Key.Key_Return, control | Qt.KeyboardModifier.ShiftModifier)  # above
    assert len(studio.dialogue.lines) == 4 and studio.dialogue.lines[2].id == ids[1]
    qtbot.keyClick(window.timeline, Qt.Key.Key_Escape)
    studio.dialogue.delete_lines([line.id for line in studio.dialogue.lines if not line.text])

    window.timeline.setFocus()
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        qtbot.keyClick(window.timeline, Qt.Key.Key_F5)  # generate
    assert len(studio.dialogue.takes) == 1

    studio.playback.stop()  # the preview of the generation
    window.takes.show_whole_dialogue()
    window.timeline.setFocus()
    qtbot.keyClick(window.timeline, Qt.Key.Key_Space, control)  # play
    assert studio.playback.take_id == DIALOGUE and studio.playback.is_playing

    prompts.answers["export"] = None
    qtbot.keyClick(window.timeline, Qt.Key.Key_E, control)  # export: the dialog is asked for
    assert prompts.asked[-1][0] == "export"


def test_dropping_lines_moves_them_in_one_piece(studio):
    ids = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"), (Speaker.S1, "c"), (Speaker.S2, "d"))
    model = studio.window.timeline.timeline
    dragged = model.mimeData([model.index(0, Column.TEXT), model.index(1, Column.TEXT)])

    # Dropped between "c" and "d", as the view hands it over.
    assert not model.dropMimeData(dragged, Qt.DropAction.MoveAction, 3, 0, model.index(-1, -1))
    assert texts(studio) == ["c", "a", "b", "d"]
    assert [model.line_id(row) for row in range(4)] == [ids[2], ids[0], ids[1], ids[3]]

    dropped_on_last = model.mimeData([model.index(0, Column.TEXT)])
    model.dropMimeData(dropped_on_last, Qt.DropAction.MoveAction, -1, -1, model.index(3, 0))
    assert texts(studio) == ["a", "b", "c", "d"]


def test_undo_puts_dragged_lines_back_in_one_step(studio):
    write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"), (Speaker.S1, "c"), (Speaker.S2, "d"))
    model = studio.window.timeline.timeline
    dragged = model.mimeData([model.index(0, Column.TEXT), model.index(2, Column.TEXT)])
    model.dropMimeData(dragged, Qt.DropAction.MoveAction, 4, 0, model.index(-1, -1))
    assert texts(studio) == ["b", "d", "a", "c"]
    assert studio.window.actions.undo.text() == "&Undo Move lines"

    studio.window.actions.undo.trigger()
    assert texts(studio) == ["a", "b", "c", "d"]
    assert studio.window.actions.redo.text() == "&Redo Move lines"


def test_cues_and_pauses_go_in_at_the_cursor(studio, qtbot, prompts):
    (line,) = write_dialogue(studio, (Speaker.S1, "Well that was fun"))
    timeline = studio.window.timeline
    editor = timeline.edit_line(line, cursor=len("Well"))
    laugh = studio.window.cue_menu.actions()[NONVERBAL_CUES.index("(laughs)")]
    laugh.trigger()
    assert texts(studio) == ["Well (laughs) that was fun"]
    assert editor.isVisible()

    timeline._close_editor()
    prompts.answers["pause_markup"] = '<break time="1.5s"/>'
    studio.window.actions.insert_pause.trigger()
    assert texts(studio) == ['Well (laughs) that was fun <break time="1.5s"/>']


def lines_of(studio) -> list[tuple[Speaker, str]]:
    return [(line.speaker, line.text) for line in studio.dialogue.lines]


def test_a_speaker_tag_typed_into_a_line_switches_its_speaker_or_starts_that_speakers_line(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "Hello there"))
    timeline = studio.window.timeline
    editor = timeline.edit_line(line, cursor=0)
    qtbot.keyClicks(editor, "[S2] ")  # the space after the tag is no part of the line's words
    assert lines_of(studio) == [(Speaker.S2, "Hello there")]  # at the start: the line's speaker
    assert editor.isVisible() and editor.text() == "Hello there" and editor.cursorPosition() == 0

    editor.setCursorPosition(len("Hello "))
    qtbot.keyClicks(editor, "[S1]")  # inside: the rest becomes that speaker's line
    assert lines_of(studio) == [(Speaker.S2, "Hello"), (Speaker.S1, "there")]
    editor = timeline._open_editor()
    assert timeline.current_line_id() == studio.dialogue.lines[1].id and editor.cursorPosition() == 0
    qtbot.keyClicks(editor, "over ")
    timeline._close_editor()
    assert lines_of(studio) == [(Speaker.S2, "Hello"), (Speaker.S1, "over there")]  # no character lost


def test_an_unknown_speaker_tag_is_refused_with_a_message_and_nothing_is_mangled(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "Hi"))
    timeline = studio.window.timeline
    editor = timeline.edit_line(line)
    qtbot.keyClicks(editor, " [S3]")
    message = "[S3] is not a speaker tag: Dia2 has two speakers, [S1] and [S2]."
    assert studio.window.statusBar().currentMessage() == message
    assert editor.text() == "Hi [S3" and editor.cursorPosition() == len("Hi [S3")  # the "]" is taken back
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, "4 pm")
    timeline._close_editor()
    assert texts(studio) == ["Hi [S4 pm"]


SCRIPT = "[S1] Hello there.\n[S2] Hi! (laughs)\n[S1] How are you?"


def test_a_script_pasted_into_a_line_becomes_one_line_per_turn_in_one_undo_step(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S2, "Intro."))
    timeline = studio.window.timeline
    editor = timeline.edit_line(line)
    QApplication.clipboard().setText(" " + SCRIPT)
    qtbot.keyClick(editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert lines_of(studio) == [(Speaker.S2, "Intro."), (Speaker.S1, "Hello there."), (Speaker.S2, "Hi! (laughs)"),
                                (Speaker.S1, "How are you?")]
    editor = timeline._open_editor()
    assert timeline.current_line_id() == studio.dialogue.lines[3].id
    assert editor.text() == "How are you?" and editor.cursorPosition() == len("How are you?")
    timeline._close_editor()
    press(qtbot, studio.window.actions.undo)
    assert lines_of(studio) == [(Speaker.S2, "Intro.")]


def test_a_script_pasted_on_the_selected_line_goes_into_it(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, ""))
    timeline = studio.window.timeline
    timeline.select_line(line)
    QApplication.clipboard().setText(SCRIPT)
    qtbot.keyClick(timeline, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert lines_of(studio) == [(Speaker.S1, "Hello there."), (Speaker.S2, "Hi! (laughs)"),
                                (Speaker.S1, "How are you?")]
    assert studio.dialogue.lines[0].id == line


def open_in_shown_window(studio, qtbot, line: str, cursor: int):
    studio.window.show()
    studio.window.activateWindow()
    qtbot.waitExposed(studio.window)
    editor = studio.window.timeline.edit_line(line, cursor=cursor)
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    return editor


def test_a_cue_from_the_cue_menu_goes_in_with_a_space_and_the_editor_stays_open(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "Yes. Barely."))
    editor = open_in_shown_window(studio, qtbot, line, cursor=len("Yes. "))
    cue_button = next(button for button in studio.window.findChildren(QToolButton)
                      if button.menu() is studio.window.cue_menu)

    chosen = []

    def choose_laughs_once_the_menu_is_up():
        menu = studio.window.cue_menu
        if QApplication.activePopupWidget() is not menu:
            QTimer.singleShot(10, choose_laughs_once_the_menu_is_up)
            return
        menu.setActiveAction(menu.actions()[NONVERBAL_CUES.index("(laughs)")])
        qtbot.keyClick(menu, Qt.Key.Key_Return)
        chosen.append(True)

    # The menu is answered from a timer: on PySide6 6.11 the click itself runs the menu's own event
    # loop and returns only once the menu is closed, on 6.12 it returns at once.
    QTimer.singleShot(0, choose_laughs_once_the_menu_is_up)
    qtbot.mouseClick(cue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(chosen))
    assert texts(studio) == ["Yes. (laughs) Barely."]
    assert studio.window.focusWidget() is editor
    # The offscreen platform of PySide6 6.11 leaves the closed menu the active window, where a
    # desktop gives the activation back to the studio's window.
    studio.window.activateWindow()
    qtbot.waitUntil(editor.hasFocus)
    assert editor.isVisible() and editor.cursorPosition() == len("Yes. (laughs) ")
    qtbot.keyClicks(editor, "Just ")
    assert texts(studio) == ["Yes. (laughs) Just Barely."]


def test_a_pause_from_the_pause_dialog_goes_in_at_the_cursor_and_the_editor_stays_open(studio, qtbot, prompts):
    (line,) = write_dialogue(studio, (Speaker.S1, "Wait for it"))
    prompts.pause_markup = Prompts(studio.window).pause_markup  # the real dialog, which takes the focus
    editor = open_in_shown_window(studio, qtbot, line, cursor=len("Wait"))

    def answer_two_seconds():
        dialog = QApplication.activeModalWidget()
        dialog.setDoubleValue(2.0)
        dialog.accept()

    QTimer.singleShot(0, answer_two_seconds)
    studio.window.actions.insert_pause.trigger()  # the dialog runs until it is answered
    assert texts(studio) == ['Wait <break time="2s"/> for it']
    assert editor.isVisible() and editor.cursorPosition() == len('Wait <break time="2s"/>')
    qtbot.keyClicks(editor, ", then")
    assert texts(studio) == ['Wait <break time="2s"/>, then for it']


def test_rows_show_speaker_name_colour_and_status(studio):
    write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    studio.dialogue.edit_speaker(Speaker.S2, name="Theo", colour="#123456")
    model = studio.window.timeline.timeline
    assert model.index(1, Column.SPEAKER).data() == "Theo"
    assert model.index(1, Column.SPEAKER).data(Qt.ItemDataRole.ForegroundRole).color().name() == "#123456"
    assert model.index(0, Column.STATUS).data() == "not generated"


def test_a_drop_on_the_view_moves_the_dragged_lines(studio, qtbot):
    write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"), (Speaker.S1, "c"))
    view = studio.window.timeline
    studio.window.show()
    qtbot.waitExposed(studio.window)
    model = view.timeline
    dragged = model.mimeData([model.index(0, Column.TEXT)])
    target = view.visualRect(model.index(2, Column.TEXT))
    where = QPointF(target.center().x(), target.bottom() - 1)  # the lower edge of "c": below it
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(where.toPoint(), Qt.DropAction.MoveAction, dragged, buttons, keys),  # QPoint on 6.11
                  QDragMoveEvent(where.toPoint(), Qt.DropAction.MoveAction, dragged, buttons, keys),
                  QDropEvent(where, Qt.DropAction.MoveAction, dragged, buttons, keys)):
        QApplication.sendEvent(view.viewport(), event)
    assert texts(studio) == ["b", "c", "a"]
    assert model.rowCount() == 3


def wait_for_the_layout(qtbot, view) -> None:
    """The window's layout has settled once the text column keeps its width (a shown window's
    docks take their final sizes a few events after it is exposed)."""
    widths = []
    qtbot.waitUntil(lambda: widths.append(view.columnWidth(Column.TEXT)) or widths[-3:] == [widths[-1]] * 3)


def pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].astype(int)


def test_the_word_being_heard_is_painted_over_its_text_and_nothing_moves(studio, qtbot):
    long_text = " ".join(["one two three"] * 35) + " last"  # it wraps in any width the layout gives
    write_dialogue(studio, (Speaker.S1, "short"), (Speaker.S2, long_text))
    studio.window.show()
    qtbot.waitExposed(studio.window)
    view = studio.window.timeline
    wait_for_the_layout(qtbot, view)
    model = view.timeline
    second = model.line_id(1)
    model.set_speaking(second)
    cell = view.visualRect(model.index(1, Column.TEXT))
    assert cell.height() > 2 * view.rowHeight(0)  # the long line wraps
    heights, before = [view.rowHeight(row) for row in range(2)], pixels(view.viewport())

    with qtbot.waitSignal(model.dataChanged) as changed:  # only the text cell of that line is redrawn
        model.set_speaking(second, word_spans(long_text)[-1])
    assert changed.args[0] == changed.args[1] == model.index(1, Column.TEXT)
    (rect,) = view.spoken_word_rects()
    after = pixels(view.viewport())

    assert [view.rowHeight(row) for row in range(2)] == heights
    assert rect.top() > cell.center().y()  # "last" is on the last line of the wrapped text
    box = rect.adjusted(-3, -1, 3, 1).toAlignedRect()
    changed_y, changed_x = np.nonzero(np.abs(after - before).sum(axis=2))
    assert len(changed_x) > rect.width() * rect.height() / 2
    assert box.left() <= changed_x.min() and changed_x.max() <= box.right()
    assert box.top() <= changed_y.min() and changed_y.max() <= box.bottom()
    # The box is where the style drew the word: ink at both its edges, the space before it clear.
    band = before[round(rect.top()):round(rect.bottom()), cell.left():cell.right()]
    ink = np.nonzero((band.sum(axis=2) < band.sum(axis=2).max() - 150).any(axis=0))[0] + cell.left()

    def inked(start: float, end: float) -> bool:
        return bool(((ink >= start) & (ink <= end)).any())

    assert inked(rect.left() - 0.5, rect.left() + 2.5) and inked(rect.right() - 2.5, rect.right() + 0.5)
    assert not inked(rect.right() + 1, cell.right())
    if rect.left() > cell.left() + 8:  # "last" is not the first word of its line: the space before it is clear
        assert not inked(rect.left() - 3.5, rect.left() - 0.6)

    model.set_speaking(second)  # between words: the line as it was, to the pixel
    assert not view.spoken_word_rects() and np.array_equal(pixels(view.viewport()), before)


LONG_LINE = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 100)[:5000]


class AskedModel(TimelineModel):
    """The timeline's model, noting which rows the view asks about."""

    asked: set[int] = set()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        AskedModel.asked.add(index.row())
        return super().data(index, role)


def test_a_keystroke_measures_and_draws_only_the_line_it_changes(make_studio, qtbot, monkeypatch):
    monkeypatch.setattr("ui.timeline.TimelineModel", AskedModel)
    studio = make_studio()
    ids = write_dialogue(studio, *[(Speaker.S1, f"Line {n} of a dialogue long enough to scroll.") for n in range(30)])
    studio.dialogue.set_text(ids[2], LONG_LINE)
    studio.window.show()
    qtbot.waitExposed(studio.window)
    view = studio.window.timeline
    editor = view.edit_line(ids[2])
    wait_for_the_layout(qtbot, view)
    AskedModel.asked = set()
    qtbot.keyClicks(editor, "abc")
    qtbot.wait(10)
    assert AskedModel.asked == {2}  # not every row re-measured, long text re-wrapped, at each key
    assert texts(studio)[2] == LONG_LINE + "abc"


def test_a_very_long_line_is_never_taller_than_the_view_and_shows_its_speaker_and_status(studio, qtbot):
    ids = write_dialogue(studio, (Speaker.S1, "Before."), (Speaker.S2, LONG_LINE), (Speaker.S1, "After."))
    studio.window.resize(1280, 800)
    studio.window.show()
    qtbot.waitExposed(studio.window)
    view = studio.window.timeline
    editor = view.edit_line(ids[1])
    qtbot.keyClicks(editor, " More")
    viewport = view.viewport().rect()
    assert view.rowHeight(1) <= viewport.height()
    for column in (Column.SPEAKER, Column.STATUS):
        assert viewport.contains(view.visualRect(view.timeline.index(1, column)))
    assert view.rowHeight(0) < 60 and view.rowHeight(2) < 60  # the short lines keep their size
    # Its editor holds the whole text, wrapped, and scrolls to where the typing is.
    assert editor.verticalScrollBar().isVisible() and editor.verticalScrollBar().value() > 0
    assert editor.viewport().rect().contains(editor.cursorRect())
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # no line break in a line
    assert texts(studio)[1] == LONG_LINE + " More"

    view._close_editor()
    studio.dialogue.set_text(ids[1], "Short again.")  # and the row shrinks back
    assert view.rowHeight(1) < 60


def test_up_and_down_move_through_a_wrapped_line_then_to_the_next_line(studio, qtbot):
    long_text = " ".join(["words that wrap"] * 12)
    ids = write_dialogue(studio, (Speaker.S1, "Above."), (Speaker.S2, long_text), (Speaker.S1, "Below."))
    studio.window.resize(1280, 800)
    studio.window.show()
    qtbot.waitExposed(studio.window)
    view = studio.window.timeline
    editor = view.edit_line(ids[1])  # the cursor at the end: the last row of the wrapped text
    assert view.rowHeight(1) >= editor.text_height() > 2 * editor.fontMetrics().lineSpacing()
    assert not editor.verticalScrollBar().isVisible()  # a row that fits its text needs no scrolling
    qtbot.keyClick(editor, Qt.Key.Key_Up)
    assert view.current_line_id() == ids[1] and 0 < editor.cursorPosition() < len(long_text)
    qtbot.keyClick(editor, Qt.Key.Key_Down)
    assert view.current_line_id() == ids[1] and editor.cursorPosition() == len(long_text)
    qtbot.keyClick(editor, Qt.Key.Key_Down)
    assert view.current_line_id() == ids[2]
    qtbot.keyClick(view._open_editor(), Qt.Key.Key_Up)
    editor = view._open_editor()
    editor.setCursorPosition(3)
    qtbot.keyClick(editor, Qt.Key.Key_Up)  # from the first row: the line above
    assert view.current_line_id() == ids[0]


def test_rows_follow_the_width_when_the_window_is_narrowed_and_widened_again(studio, qtbot):
    """Measured as the header's section changed, each row took the width it had before: short
    while narrow, 57–70 px tall after widening again, until the next resize."""
    long_text = "Welcome back to the studio! Today we are trying something new, long enough to wrap."
    write_dialogue(studio, *[(Speaker.S1, long_text)] * 3)
    window, timeline = studio.window, studio.window.timeline
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)

    def heights() -> list[int]:
        return [timeline.rowHeight(row) for row in range(3)]

    qtbot.waitUntil(lambda: heights()[0] == timeline.sizeHintForRow(0))
    wide = heights()
    window.resize(1000, 800)
    qtbot.waitUntil(lambda: heights() != wide)
    assert all(narrow > high for narrow, high in zip(heights(), wide))  # wrapped onto more rows
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: heights() == wide)


def test_a_pause_put_in_while_typing_is_an_undo_step_of_its_own(studio, qtbot):
    (line,) = write_dialogue(studio, (Speaker.S1, "Hello"))
    timeline = studio.window.timeline
    editor = timeline.edit_line(line)
    qtbot.keyClicks(editor, " there")
    timeline.insert_at_cursor('<break time="1s"/>')
    qtbot.keyClicks(editor, " world")
    assert texts(studio) == ['Hello there <break time="1s"/> world']
    press(qtbot, studio.window.actions.undo)  # the word typed after the pause, not the pause with it
    assert texts(studio) == ['Hello there <break time="1s"/>']
    press(qtbot, studio.window.actions.undo)
    assert texts(studio) == ["Hello there"]
    press(qtbot, studio.window.actions.undo)
    assert texts(studio) == ["Hello"]


def test_a_tag_typed_into_an_empty_line_leaves_no_space_before_the_words(studio, qtbot):
    """"[S2] Very loud" typed into a line kept a leading space: " Very loud"."""
    (line,) = write_dialogue(studio, (Speaker.S1, ""))
    editor = studio.window.timeline.edit_line(line)
    qtbot.keyClicks(editor, "[S2] Very loud")
    assert lines_of(studio) == [(Speaker.S2, "Very loud")]
    assert editor.text() == "Very loud"

