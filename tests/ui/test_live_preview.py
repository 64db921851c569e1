"""Speak as I type: real key presses in the timeline's line editor, the tiny model on each kind of
engine. Audio comes while the line is still being typed, an edit of what was spoken restarts the
take, leaving the line ends it, a Generate cancels it, and the GUI thread keeps ticking."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from core.document.speakers import Speaker
from core.params import GenerationParams
from tests.ui.conftest import TINY_CHECKPOINT, press, write_dialogue

ENGINES = ["in-process", "own-process", "remote"]


@pytest.fixture(params=ENGINES)
def studio(request, make_studio, qtbot):
    """A studio with the tiny model loaded on each engine (remote: a real serve on loopback),
    speaking as the person types."""
    from core.engine.engine import EngineKind

    kind = EngineKind(request.param)
    studio = make_studio(engine=EngineKind.IN_PROCESS if kind is EngineKind.REMOTE else kind)
    if kind is EngineKind.REMOTE:
        server = request.getfixturevalue("remote_engine_server")
        from tests.service.remote_engine import KEY

        assert studio.model_controls.choose_engine(kind.value, server.url, KEY)
    with qtbot.waitSignal(studio.models.loaded, timeout=120_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    studio.dialogue.set_params(GenerationParams(seed=5))
    press(qtbot, studio.window.actions.speak_as_i_type)
    assert studio.live_preview.on and studio.settings.speak_as_i_type
    yield studio
    stopped(studio, qtbot)


def stopped(studio, qtbot) -> None:
    """No take left running when the test ends."""
    if studio.live_preview.is_running:
        with qtbot.waitSignal(studio.live_preview.idle, timeout=120_000):
            studio.live_preview.stop()


class Ticks:
    """Counts a 10 ms QTimer's ticks: the GUI thread handled its events meanwhile."""

    def __init__(self):
        self.count = 0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.count += 1


class Heard:
    """What the preview streamed: its takes' chunks, starts and ends."""

    def __init__(self, preview):
        self.starts, self.chunks, self.results = [], [], []
        preview.take_started.connect(lambda line_id, rate: self.starts.append(line_id))
        preview.chunk.connect(self.chunks.append)
        preview.take_finished.connect(self.results.append)


def open_line(studio, qtbot, text: str = "") -> tuple[str, object]:
    (line_id,) = write_dialogue(studio, (Speaker.S1, text))
    editor = studio.window.timeline.edit_line(line_id)
    assert editor is not None and editor.property("line_id") == line_id
    return line_id, editor


@pytest.mark.slow  # the tiny model speaks a whole line on each engine
def test_audio_arrives_while_the_line_is_typed_and_leaving_the_line_ends_the_take(studio, qtbot, sound):
    ticks, heard = Ticks(), Heard(studio.live_preview)
    line_id, editor = open_line(studio, qtbot)

    qtbot.keyClicks(editor, "Hello there, how are you doing ")
    # Still typing: the take speaks the words whose two following words are there.
    qtbot.waitUntil(lambda: bool(heard.chunks), timeout=120_000)
    assert not heard.results and studio.live_preview.is_running and editor.isVisible()
    before = ticks.count
    qtbot.waitUntil(lambda: ticks.count > before + 20, timeout=120_000)  # the window goes on meanwhile
    assert studio.dialogue.line(line_id).text == "Hello there, how are you doing "
    qtbot.keyClicks(editor, "today")

    qtbot.keyClick(editor, Qt.Key.Key_Return)  # leaves the line: the rest is spoken, the take ends
    qtbot.waitUntil(lambda: bool(heard.results), timeout=120_000)
    (result,) = heard.results
    assert result.complete
    assert [word for word, _ in result.words] == ["Hello", "there,", "how", "are", "you", "doing", "today"]
    np.testing.assert_array_equal(np.concatenate(heard.chunks), result.audio)
    assert heard.starts == [line_id]
    # It was heard through the studio's playback, and shown on the waveform.
    assert sound.streams and np.abs(sound.streams[-1].played_audio).max(initial=0) > 0
    assert studio.window.waveform.envelope is not None
    # A preview is not a take until the person keeps it.
    assert not studio.dialogue.takes
    press(qtbot, studio.window.actions.keep_preview)
    (take,) = studio.dialogue.takes
    assert studio.dialogue.lines_kept_by(take.id) == (line_id,)
    assert ticks.count > before + 20
    ticks.timer.stop()


@pytest.mark.slow  # the tiny model speaks a whole line on each engine
def test_an_edit_of_what_was_spoken_restarts_the_take_from_the_line_as_it_reads(studio, qtbot):
    heard = Heard(studio.live_preview)
    line_id, editor = open_line(studio, qtbot)
    qtbot.keyClicks(editor, "Hello there, how are you ")
    qtbot.waitUntil(lambda: bool(heard.chunks), timeout=120_000)

    editor.setCursorPosition(len("Hello there"))
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)  # an edit before the end: "Hello ther, how are you "
    qtbot.waitUntil(lambda: len(heard.starts) == 2, timeout=120_000)
    assert len(heard.results) == 1 and not heard.results[0].complete  # the first take was cancelled

    editor.setCursorPosition(len(editor.text()))
    qtbot.keyClicks(editor, "today")
    studio.window.timeline.setFocus()  # a click elsewhere leaves the line too
    qtbot.waitUntil(lambda: len(heard.results) == 2, timeout=120_000)
    restarted = heard.results[1]
    assert restarted.complete
    assert [word for word, _ in restarted.words] == ["Hello", "ther,", "how", "are", "you", "today"]
    assert studio.dialogue.line(line_id).text == "Hello ther, how are you today"


@pytest.mark.slow  # the tiny model speaks a whole line on each engine
def test_a_generate_cancels_the_preview_and_no_preview_runs_while_it_generates(studio, qtbot):
    heard = Heard(studio.live_preview)
    line_id, editor = open_line(studio, qtbot)
    qtbot.keyClicks(editor, "Hello there, how are you ")
    qtbot.waitUntil(lambda: bool(heard.chunks), timeout=120_000)

    with qtbot.waitSignal(studio.generation.finished, timeout=120_000) as finished:
        press(qtbot, studio.window.actions.generate)
        qtbot.keyClicks(editor, "doing ")  # before the preview has let go of the model: no new take
        qtbot.waitUntil(lambda: studio.generation.is_running, timeout=120_000)
        assert not studio.live_preview.is_running
        (result,) = heard.results
        assert not result.complete  # cancelled, with what it had made
        # Typing while it generates says why nothing is heard.
        editor = studio.window.timeline.edit_line(line_id)
        qtbot.keyClicks(editor, "today ")
        assert "generation is running" in studio.window.statusBar().currentMessage()
        assert not studio.live_preview.is_running
    assert not finished.args[0]
    assert len(studio.dialogue.takes) == 1 and len(heard.results) == 1


def test_without_a_model_the_preview_says_so(make_studio, qtbot):
    studio = make_studio()
    press(qtbot, studio.window.actions.speak_as_i_type)
    line_id, editor = open_line(studio, qtbot)
    qtbot.keyClicks(editor, "Hello there, how are you ")
    assert "needs a model" in studio.window.statusBar().currentMessage()
    assert not studio.live_preview.is_running
    # The choice is remembered.
    again = make_studio()
    assert again.window.actions.speak_as_i_type.isChecked() and again.live_preview.on


def test_keep_pressed_while_the_preview_is_made_keeps_it_once_finished(make_studio, qtbot, sound):
    """Shift+F6 before the preview had finished did nothing and said nothing."""
    studio = make_studio()
    with qtbot.waitSignal(studio.models.loaded, timeout=120_000):
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")
    press(qtbot, studio.window.actions.speak_as_i_type)
    heard = Heard(studio.live_preview)
    line_id, editor = open_line(studio, qtbot)
    qtbot.keyClicks(editor, "Hello there, how are you doing ")
    qtbot.waitUntil(lambda: studio.live_preview.is_running, timeout=120_000)
    assert not heard.results
    press(qtbot, studio.window.actions.keep_preview)  # enabled while it is made
    assert "still being made" in studio.window.statusBar().currentMessage()
    assert not studio.dialogue.takes
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the rest is spoken, the take ends
    qtbot.waitUntil(lambda: bool(studio.dialogue.takes), timeout=120_000)
    (take,) = studio.dialogue.takes
    assert studio.dialogue.lines_kept_by(take.id) == (line_id,)
    assert studio.window.statusBar().currentMessage() == "The preview is kept as a take of its line."
    stopped(studio, qtbot)


class _TakeThatFails:
    """A live take that sends its start and one chunk, then fails before any result."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate

    def push_text(self, text: str) -> None:
        pass

    def end_text(self) -> None:
        pass

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass

    def events(self):
        from core.dia2.events import AudioChunk, TakeStarted
        from core.engine.engine import EngineFailed

        yield TakeStarted(0, 5)
        yield AudioChunk(0, np.zeros(1920, np.float32), 0.0)
        raise EngineFailed("the model's process ended")


def test_a_preview_that_fails_before_its_result_lets_go_of_the_waveform(make_studio, qtbot):
    """It never finishes, so only the preview's end can free the waveform for what comes next."""
    from tests.ui.conftest import FakeRuntime, use_runtime

    runtime = FakeRuntime()
    runtime.open_live_take = lambda params, voices=(), context=None: _TakeThatFails(runtime.sample_rate)
    studio = make_studio()
    use_runtime(studio, runtime)
    press(qtbot, studio.window.actions.speak_as_i_type)
    _, editor = open_line(studio, qtbot)
    started = []
    studio.live_preview.take_started.connect(lambda *_: started.append(studio.window.waveform.streaming))
    with qtbot.waitSignal(studio.live_preview.idle, timeout=30_000):
        qtbot.keyClicks(editor, "Hello there, how are you ")
    assert started == [True]  # its audio held the waveform
    assert not studio.window.waveform.streaming
