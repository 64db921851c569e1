"""The window at its default size and at 1024×768: every part of the docks is reachable (inside
its scroll area, never wider than it), nothing is squeezed below its own minimum, messages wrap
and show whole, and nothing moves when a generation starts."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QLabel, QLineEdit,
                               QScrollArea, QWidget)

from core.document.speakers import Speaker
from core.params import GenerationParams
from tests.ui.conftest import FakeRuntime, write_dialogue

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QLabel, QLineEdit)
SIZES = [(1280, 800), (1024, 768)]
LONG_MESSAGE = ("This voice file could not be read: the decoder stopped at byte 48213 because the "
                "stream ends in the middle of a frame. Export it again from your recorder, or choose "
                "another file of 5 to 20 seconds of clear speech.")


def show_at(studio, qtbot, size: tuple[int, int]) -> None:
    window = studio.window
    needed = window.minimumSizeHint()
    assert needed.width() <= size[0] and needed.height() <= size[1], f"the window needs {needed.toTuple()}"
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.size().toTuple() == size)
    settle(window)


def settle(window) -> None:
    """Let the layouts finish (a scroll bar that appears narrows its view once more)."""
    for _ in range(10):
        before = geometry(window)
        QApplication.processEvents()
        if geometry(window) == before:
            return
    raise AssertionError("the window's layout never settles")


def problems_in(scroll: QScrollArea) -> list[str]:
    """What in this dock's content cannot be seen whole by scrolling it up and down."""
    content, viewport = scroll.widget(), scroll.viewport()
    found = []
    if content.width() > viewport.width():
        found.append(f"{content.objectName()} is {content.width()} px wide in a {viewport.width()} px view")
    for widget in content.findChildren(QWidget):
        if not widget.isVisibleTo(content) or not isinstance(widget, CONTROLS) \
                or isinstance(widget.parentWidget(), CONTROLS):  # a spin box's own line edit
            continue
        name = f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r:.40}"
        top_left = widget.mapTo(content, widget.rect().topLeft())
        if top_left.x() < 0 or top_left.y() < 0 or top_left.x() + widget.width() > viewport.width() \
                or top_left.y() + widget.height() > content.height():
            found.append(f"{name} lies outside what scrolling reaches")
        needed = widget.minimumSizeHint()
        if widget.minimumWidth():
            needed.setWidth(widget.minimumWidth())  # the width it was given (the colour swatch)
        if isinstance(widget, QLabel) and widget.wordWrap():
            needed.setHeight(widget.heightForWidth(widget.width()))
        if widget.width() < needed.width() or widget.height() < needed.height():
            found.append(f"{name} is cut: {widget.size().toTuple()} for {needed.toTuple()}")
    return found


def assert_docks_reachable(window) -> None:
    for dock in (window.voices_dock, window.parameters_dock, window.takes_dock):
        scroll = dock.widget()
        assert isinstance(scroll, QScrollArea)
        assert scroll.horizontalScrollBar().maximum() == 0, dock.windowTitle()
        assert problems_in(scroll) == [], dock.windowTitle()


@pytest.mark.parametrize("size", SIZES)
def test_the_example_fits_the_window_with_every_control_reachable(make_studio, qtbot, size):
    studio = make_studio(first_start_done=False)  # the example: both voices with their clips
    show_at(studio, qtbot, size)
    assert_docks_reachable(studio.window)


@pytest.mark.parametrize("size", SIZES)
def test_long_messages_wrap_and_show_whole(make_studio, qtbot, size):
    studio = make_studio(first_start_done=False)
    window = studio.window
    show_at(studio, qtbot, size)
    card = window.voices.cards[Speaker.S1]
    qtbot.keyClicks(card.transcript_edit, " and more")  # "Apply correction" appears
    card.show_message(LONG_MESSAGE, error=True)
    window.parameters._show_error(LONG_MESSAGE)
    card.trimmer.select(0.0, 1.0)  # a red "too short" under the clip
    settle(window)
    assert card.apply_button.isVisible()
    for label in (card.message_label, window.parameters.error_label, card.trimmer.length_label):
        assert label.isVisible() and label.wordWrap()
    assert window.size().toTuple() == size
    assert_docks_reachable(window)


@pytest.mark.parametrize("size", SIZES)
def test_a_status_message_shows_whole_beside_the_longest_model_and_memory_figures(make_studio, qtbot, size):
    """"…press Keep to us": the message shared the bar with the model and the memory figures."""
    studio = make_studio()
    window = studio.window
    show_at(studio, qtbot, size)
    window.model_status.setText("Model: Dia2 2B · cuda:0 · bfloat16 · in its own process")
    window.memory_status.setText("Memory: weights 4,410 MB, GPU 5,112 MB in use, model's process 6,877 MB, app 771 MB")
    message = ("Take 12 is not kept: lines 1, 3–5 keep take 3; line 2 keeps take 11. Select it and press Keep "
               "to use it.")
    window.statusBar().showMessage(message, 15000)
    settle(window)
    room = window.model_status.geometry().left() - window.statusBar().contentsMargins().left()
    assert not window.memory_status.isVisible()
    assert window.statusBar().fontMetrics().horizontalAdvance(message) < room
    window.statusBar().clearMessage()
    assert window.memory_status.isVisible()  # the figures are back once the message has gone


def test_a_window_larger_than_its_screen_is_brought_onto_it(make_studio, qtbot, monkeypatch):
    """A size saved at 1280×800 reopened on a 1024×768 screen (or the default size there) put the
    status bar below the screen's edge."""
    from PySide6.QtCore import QRect

    class Screen:  # a 1024×768 desktop with a 24 px panel at the top
        def availableGeometry(self):
            return QRect(0, 24, 1024, 744)

    window = make_studio().window
    monkeypatch.setattr(window, "screen", lambda: Screen())
    window.resize(1280, 800)
    window.move(200, 300)
    window.keep_on_screen()
    border = window.frameGeometry().size() - window.size()  # what the platform draws around it
    assert QRect(0, 24, 1024, 744).contains(window.frameGeometry())
    assert (window.size() + border).toTuple() == (1024, 744)
    window.resize(1000, 600)
    window.move(400, 500)  # a size that fits, partly off the screen: moved, not shrunk
    window.keep_on_screen()
    assert window.size().toTuple() == (1000, 600)
    assert window.frameGeometry().bottomRight().toTuple() == (1023, 767)


def geometry(window) -> dict[str, tuple]:
    parts = {"window": window, "central": window.centralWidget(), "timeline": window.timeline,
             "waveform": window.waveform, "playback": window.playback_bar,
             "voices": window.voices_dock, "settings": window.parameters_dock, "takes": window.takes_dock}
    columns = {"timeline columns": tuple(window.timeline.columnWidth(column)
                                         for column in range(window.timeline.model().columnCount()))}
    return {name: widget.geometry().getRect() for name, widget in parts.items()} | columns


@pytest.mark.parametrize("size", SIZES)
def test_nothing_moves_when_a_generation_starts(make_studio, qtbot, size):
    fake = FakeRuntime(hold_after=2)
    studio = make_studio(model_loader=lambda *args, **kwargs: fake)
    with qtbot.waitSignal(studio.models.loaded):
        studio.model_controls.load("fake")
    write_dialogue(studio, (Speaker.S1, "one two three four five six seven eight nine ten"),
                   (Speaker.S2, "eleven twelve"))
    studio.dialogue.set_params(GenerationParams(number_results=3))
    show_at(studio, qtbot, size)
    assert_docks_reachable(studio.window)  # the cards without voices, too
    before = geometry(studio.window)
    progress = studio.window.generation_progress
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
        qtbot.waitUntil(lambda: fake.holding.is_set() and "real time" in progress.label.text())
        settle(studio.window)
        assert progress.isVisible()
        assert geometry(studio.window) == before
        fake.release.set()
    assert geometry(studio.window) == before
