"""Generating from the window: the real tiny model on a worker thread, preview while it runs,
cancel, several takes, selected lines after the lines before them, and a GUI thread that never
stalls."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from core.dia2.events import Progress, TakeResult
from core.document.content import LineStatus
from core.document.speakers import Speaker
from core.params import GenerationParams
from tests.ui.conftest import (
    SPEAKER1_WAV,
    TINY_CHECKPOINT,
    FakeRuntime,
    press,
    write_dialogue,
)
from ui.generation_progress import GenerationProgress
from ui.timeline_model import Column


@pytest.fixture
def studio(engine_studio):
    """Here the tiny model runs on each kind of engine in turn."""
    return engine_studio


def load_tiny_model(studio, qtbot) -> None:
    with qtbot.waitSignal(studio.models.loaded, timeout=60_000):  # own process: started, then loaded
        studio.model_controls.load(str(TINY_CHECKPOINT), "cpu", "float32")


def generate_and_wait(studio, qtbot, line_ids=None, timeout=60_000) -> bool:
    """Start a generation and wait for its end; returns whether it was cancelled."""
    with qtbot.waitSignal(studio.generation.finished, timeout=timeout) as finished:
        assert studio.generate(line_ids)
    return finished.args[0]


@pytest.fixture
def fake_studio(make_studio, qtbot):
    """A studio whose "model" is a FakeRuntime the test steers."""
    def make(fake: FakeRuntime):
        studio = make_studio(model_loader=lambda *args, **kwargs: fake)
        with qtbot.waitSignal(studio.models.loaded):
            studio.model_controls.load("fake")
        return studio
    return make


def test_the_tiny_model_generates_the_dialogue_into_a_take(studio, qtbot, sound):
    load_tiny_model(studio, qtbot)
    assert "checkpoint · cpu · float32" in studio.window.model_status.text()
    assert not studio.window.banner.isVisible()
    ids = write_dialogue(studio, (Speaker.S1, "Hi."), (Speaker.S2, "Yes."))
    studio.dialogue.set_params(GenerationParams(seed=1234))

    assert not generate_and_wait(studio, qtbot)

    (take,) = studio.dialogue.takes
    assert take.seed == 1234 and studio.dialogue.lines_kept_by(take.id) == tuple(ids)
    assert [line.id for line in take.source_lines] == ids
    assert [studio.dialogue.status(i) for i in ids] == [LineStatus.GENERATED] * 2
    spans = [take.line_times[i] for i in ids]
    assert spans[0].start_s == 0 and spans[0].end_s == spans[1].start_s and spans[1].end_s == take.duration_s
    assert [w.text for w in take.words] == ["Hi.", "Yes."]
    model = studio.window.timeline.timeline
    assert model.index(1, Column.LENGTH).data() == f"{spans[1].end_s - spans[1].start_s:.1f} s"
    assert studio.window.takes.list.count() == 1
    # The preview played the take as it came.
    assert sound.streams and np.abs(sound.streams[0].played_audio).max(initial=0) > 0


def test_a_voice_from_a_file_conditions_the_selected_line(studio, qtbot):
    load_tiny_model(studio, qtbot)
    first, second = write_dialogue(studio, (Speaker.S1, "Hi."), (Speaker.S2, "Yes."))
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.window.voices.cards[Speaker.S1].load_requested.emit(Speaker.S1, str(SPEAKER1_WAV))
    assert studio.dialogue.speakers[Speaker.S1].voice is not None

    assert not generate_and_wait(studio, qtbot, [first])

    (take,) = studio.dialogue.takes
    assert [line.id for line in take.source_lines] == [first]
    assert studio.dialogue.status(second) is LineStatus.NOT_GENERATED
    assert take.duration_s > 0


def test_preview_plays_while_the_take_is_still_being_made(fake_studio, qtbot, sound):
    fake = FakeRuntime(hold_after=3)
    studio = fake_studio(fake)
    write_dialogue(studio, (Speaker.S1, "one two three"), (Speaker.S2, "four five"))
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
        qtbot.waitUntil(lambda: fake.holding.is_set() and bool(sound.streams))  # the take has started here too
        stream = sound.streams[-1]
        qtbot.waitUntil(lambda: np.abs(stream.played_audio).max(initial=0) > 0.1)  # words are heard
        assert studio.generation.is_running and not studio.dialogue.takes
        assert studio.window.generation_progress.isVisible()
        fake.release.set()
    (take,) = studio.dialogue.takes
    assert len(take.words) == 5
    assert studio.playback.take_id == take.id  # the preview became that take
    assert studio.window.playback_bar.what.text().startswith(f"Take 1 (seed {take.seed})")


def test_esc_in_a_line_editor_cancels_the_generation_at_once_and_the_line_stays_open(fake_studio, qtbot):
    """One Esc stops what the person sees running: the first used to close the editor only."""
    fake = FakeRuntime(hold_after=1)
    studio = fake_studio(fake)
    (line,) = write_dialogue(studio, (Speaker.S1, "one two"))
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000) as finished:
        studio.generate()
        qtbot.waitUntil(fake.holding.is_set)
        editor = window.timeline.edit_line(line)
        editor.setFocus()
        qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert finished.args == [True]  # cancelled
    assert window.timeline._open_editor() is editor
    qtbot.keyClick(editor, Qt.Key.Key_Escape)  # nothing runs: Esc leaves the line, as in any editor
    assert window.timeline._open_editor() is None


def test_cancel_keeps_the_lines_already_spoken(fake_studio, qtbot, prompts):
    fake = FakeRuntime(hold_after=3)
    studio = fake_studio(fake)
    ids = write_dialogue(studio, (Speaker.S1, "one two"), (Speaker.S2, "three four"), (Speaker.S1, "five"))
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000) as finished:
        studio.generate()
        qtbot.waitUntil(fake.holding.is_set)
        assert [studio.dialogue.status(i) for i in ids] == [LineStatus.GENERATING] * 3
        studio.window.actions.cancel.trigger()
        assert not studio.window.generation_progress.cancel_button.isEnabled()
        fake.release.set()
    assert finished.args == [True]
    (take,) = studio.dialogue.takes
    assert [line.id for line in take.source_lines] == ids[:1]
    assert take.duration_s == pytest.approx(3 * fake.chunk_s)
    assert [studio.dialogue.status(i) for i in ids] == [LineStatus.GENERATED, LineStatus.NOT_GENERATED,
                                                        LineStatus.NOT_GENERATED]
    assert studio.window.actions.generate.isEnabled() and not studio.window.actions.cancel.isEnabled()
    assert not prompts.errors()


class CountingRuntime:
    """The real runtime, counting the frames it still makes once cancel is set."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.frames_after_cancel = 0

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def generate(self, request, cancel):
        for event in self.runtime.generate(request, cancel):
            if cancel.is_set() and isinstance(event, Progress):
                self.frames_after_cancel += 1
            yield event


def test_cancel_stops_the_real_model_within_a_frame(fake_studio, tiny_runtime, qtbot):
    counting = CountingRuntime(tiny_runtime)
    studio = fake_studio(counting)
    ids = write_dialogue(studio, (Speaker.S1, "Hello there, how are you today?"),
                         (Speaker.S2, "Fine, thank you, and you?"))
    studio.generation.chunk.connect(lambda take, samples: studio.cancel_generation())

    assert generate_and_wait(studio, qtbot)

    assert counting.frames_after_cancel <= 1
    (take,) = studio.dialogue.takes
    assert take.duration_s > 0 and len(take.source_lines) < len(ids)


def test_several_takes_follow_the_seeds_and_the_first_is_kept(fake_studio, qtbot):
    studio = fake_studio(FakeRuntime())
    ids = write_dialogue(studio, (Speaker.S1, "a b"), (Speaker.S2, "c"))
    studio.dialogue.set_params(GenerationParams(seed=7, number_results=3))
    generate_and_wait(studio, qtbot)
    takes = studio.dialogue.takes
    assert [take.seed for take in takes] == [7, 8, 9]
    assert studio.dialogue.lines_kept_by(takes[0].id) == tuple(ids)
    assert studio.window.takes.list.count() == 3


def test_without_a_model_generate_points_to_the_model_manager(studio, prompts):
    write_dialogue(studio, (Speaker.S1, "Hi."))
    assert studio.window.banner.isVisible()
    assert not studio.generate()
    assert prompts.errors()[0][0] == "No model loaded"
    assert studio.model_controls.manager is not None and studio.model_controls.manager.isVisible()


def test_a_second_voice_alone_is_refused_with_a_reason(fake_studio, qtbot, prompts):
    studio = fake_studio(FakeRuntime())
    write_dialogue(studio, (Speaker.S1, "Hi."))
    with qtbot.waitSignal(studio.voices.prepared, timeout=30_000):
        studio.voices.load(Speaker.S2, str(SPEAKER1_WAV))
    assert not studio.generate()
    assert "first voice" in prompts.errors()[0][1]


def test_the_gui_thread_never_stalls_while_the_model_runs(studio, qtbot):
    load_tiny_model(studio, qtbot)
    write_dialogue(studio, (Speaker.S1, "Hello there, how are you today?"), (Speaker.S2, "Fine, thanks."))
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    with qtbot.waitSignal(studio.generation.finished, timeout=60_000):
        studio.generate()
        heartbeat.start()
    heartbeat.stop()
    gaps = np.diff(beats)
    assert len(beats) > 50  # the generation ran long enough to say something
    assert gaps.max() < 0.100, f"the GUI thread stalled for {gaps.max() * 1000:.0f} ms"


def test_closing_the_window_during_a_generation_asks_then_stops_it(fake_studio, qtbot, prompts):
    fake = FakeRuntime(hold_after=1)
    studio = fake_studio(fake)
    write_dialogue(studio, (Speaker.S1, "one two three"))
    studio.generate()
    qtbot.waitUntil(fake.holding.is_set)

    prompts.answers["save_changes"] = "cancel"
    assert not studio.window.close()
    assert studio.generation.is_running

    prompts.answers["save_changes"] = "discard"
    with qtbot.waitSignal(studio.generation.finished, timeout=10_000) as finished:
        assert studio.window.close()  # returns once the worker has stopped
    assert finished.args == [True]


def test_the_progress_says_words_of_the_total_seconds_of_audio_speed_and_time_left(fake_studio, qtbot):
    fake = FakeRuntime(hold_after=3)
    studio = fake_studio(fake)
    write_dialogue(studio, (Speaker.S1, "one two three four"))
    label = studio.window.generation_progress.label
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
        qtbot.waitUntil(lambda: "word 3" in label.text())  # the fake reports a frame a word
        # three 80 ms words (0.24 s) made in the 0.03 s the fake says it took: 8× faster than real time
        assert label.text() == "word 3 of 4 · 0.2 s made · 8.0× real time · less than a second left"
        assert label.toolTip().startswith("Frame 3; 0.24 s of audio")
        assert studio.window.generation_progress.bar.value() == 750  # three words of four
        fake.release.set()


def test_the_time_left_counts_every_take_still_to_come(qtbot):
    progress = GenerationProgress()
    qtbot.addWidget(progress)
    progress.start(takes=2, words=100)
    progress.report(0, 0, Progress(0, 1, 0.0, 0.5))
    assert progress.label.text().endswith("estimating time left")
    progress.report(0, 50, Progress(0, 300, 24.0, 30.0))  # a quarter done in 30 s: 90 s to go
    assert progress.label.text() == ("Take 1 of 2 · word 50 of 100 · 24.0 s made · 0.8× real time · "
                                     "about 1 min 30 s left")
    progress.report(0, 100, Progress(0, 600, 48.0, 60.0))
    progress.report(1, 50, Progress(1, 300, 24.0, 30.0))  # three quarters done in 90 s
    assert progress.label.text().endswith("word 50 of 100 · 24.0 s made · 0.8× real time · about 30 s left")
    assert progress.bar.value() == 750


class EncodingRecorder(FakeRuntime):
    """The fake runtime, numbering the frames of its takes' codes and noting the audio it is asked
    to encode."""

    def __init__(self):
        super().__init__()
        self.encoded: list[np.ndarray] = []

    def encode_voice(self, samples):
        self.encoded.append(np.array(samples))
        return super().encode_voice(samples)

    def generate(self, request, cancel):
        for event in super().generate(request, cancel):
            if isinstance(event, TakeResult):
                event.codes = np.tile(np.arange(event.codes.shape[1]), (32, 1))
            yield event


def test_selected_lines_are_generated_after_the_lines_before_them(fake_studio, qtbot, prompts):
    fake = EncodingRecorder()
    studio = fake_studio(fake)
    ids = write_dialogue(studio, (Speaker.S1, "Hello there."), (Speaker.S2, "Hi!"), (Speaker.S1, "How are you?"))
    generate_and_wait(studio, qtbot)
    (whole,) = studio.dialogue.takes
    assert fake.requests[0].context is None  # from the first line: nothing before it

    studio.window.timeline.select_line(ids[2])
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        press(qtbot, studio.window.actions.generate_selected)

    request = fake.requests[1]
    assert request.script == "[S1] How are you?"
    # Lines 1 and 2 as the kept take speaks them: its codes of their frames, script and word starts.
    assert request.context.script == "[S1] Hello there. [S2] Hi!"
    assert request.context.word_starts == pytest.approx((0.0, 0.08, 0.16))
    np.testing.assert_array_equal(request.context.codes, np.tile([0, 1, 2], (32, 1)))
    assert not fake.encoded  # the take kept its codes: nothing to encode again
    # The new take is put in place of line 3 alone.
    new = studio.dialogue.takes[-1]
    assert [line.id for line in new.source_lines] == [ids[2]] and studio.dialogue.take_for(ids[2]) is new
    assert studio.dialogue.take_for(ids[0]) is whole and not prompts.errors()


class NoticingRuntime(FakeRuntime):
    """The fake runtime, with a notice on every take (as when the lines before were cut)."""

    def generate(self, request, cancel):
        for event in super().generate(request, cancel):
            if isinstance(event, TakeResult):
                event.notices.append("The lines before were cut.")
            yield event


def test_a_takes_notice_is_shown_once_in_the_status_bar(fake_studio, qtbot):
    studio = fake_studio(NoticingRuntime())
    write_dialogue(studio, (Speaker.S1, "a b"))
    studio.dialogue.set_params(GenerationParams(seed=7, number_results=3))
    notices = []
    studio.generation.notice.connect(notices.append)
    generate_and_wait(studio, qtbot)
    assert notices == ["The lines before were cut."]
    # At the end, with what the generation changed.
    assert studio.window.statusBar().currentMessage() == "Take 1 kept for line 1. The lines before were cut."


def test_the_tiny_model_regenerates_a_line_after_the_one_before(studio, qtbot, prompts):
    load_tiny_model(studio, qtbot)
    first, second = write_dialogue(studio, (Speaker.S1, "Hello there."), (Speaker.S2, "Fine, thanks."))
    studio.dialogue.set_params(GenerationParams(seed=5))
    generate_and_wait(studio, qtbot)

    assert not generate_and_wait(studio, qtbot, [second])

    _, again = studio.dialogue.takes
    assert [line.id for line in again.source_lines] == [second]
    assert [word.text for word in again.words] == ["Fine,", "thanks."] and again.words[0].start_s < 0.5
    assert again.line_times[second].end_s == again.duration_s
    assert [studio.dialogue.status(i) for i in (first, second)] == [LineStatus.GENERATED] * 2
    assert not prompts.errors()


def test_a_new_take_keeps_the_takes_chosen_and_a_cancelled_one_replaces_none(fake_studio, qtbot):
    fake = FakeRuntime()
    studio = fake_studio(fake)
    ids = write_dialogue(studio, (Speaker.S1, "one two"), (Speaker.S2, "three four"), (Speaker.S1, "five six"),
                         (Speaker.S2, "seven"))
    dialogue, window = studio.dialogue, studio.window
    window.show()
    qtbot.waitExposed(window)
    status = window.statusBar()
    panel = window.takes

    def keys(key, modifier=Qt.KeyboardModifier.NoModifier):
        fake.holding.clear()
        with qtbot.waitSignal(studio.generation.finished, timeout=30_000) as finished:
            window.timeline.setFocus()
            qtbot.keyClick(window.timeline, key, modifier)
            if fake.hold_after is not None:
                qtbot.waitUntil(fake.holding.is_set)
                qtbot.keyClick(window.timeline, Qt.Key.Key_Escape)  # cancel
        return finished.args[0]

    dialogue.set_params(GenerationParams(seed=1, number_results=3))
    window.timeline.select_line(ids[1])
    keys(Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)  # line 2, three times
    assert status.currentMessage() == "Take 1 kept for line 2."
    third = dialogue.takes[2]
    panel.select_take(third.id)
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)  # keep take 3 for line 2
    assert dialogue.take_for(ids[1]) is third and "✓ kept" in panel.list.item(0).text()

    dialogue.set_params(GenerationParams(seed=5))
    fake.hold_after = 6  # cancelled once "six", the last word of line 3, is taken
    assert keys(Qt.Key.Key_F5)
    partial = dialogue.takes[3]
    # Lines 1 and 2 were finished; line 3 may be cut off: the take does not speak it.
    assert [line.id for line in partial.source_lines] == ids[:2]
    assert [dialogue.take_for(i) for i in ids] == [partial, third, None, None]
    assert dialogue.status(ids[2]) is LineStatus.NOT_GENERATED
    assert status.currentMessage() == "Generation cancelled. Take 4 kept for line 1; line 2 keeps take 3."
    assert panel.list.item(0).text().startswith("Take 4 · lines 1–2 · ")
    assert "✓ kept for line 1\n" in panel.list.item(0).text()

    fake.hold_after = None
    window.timeline.select_line(ids[1])
    keys(Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)  # line 2 asked for again: its new take is kept
    again = dialogue.takes[4]
    assert dialogue.take_for(ids[1]) is again and status.currentMessage() == "Take 5 kept for line 2."
    keys(Qt.Key.Key_F5)  # the whole dialogue: lines 1 and 2 keep theirs
    whole = dialogue.takes[5]
    assert [dialogue.take_for(i) for i in ids] == [partial, again, whole, whole]
    assert status.currentMessage() == "Take 6 kept for lines 3–4; line 1 keeps take 4; line 2 keeps take 5."

    press(qtbot, window.actions.undo)  # the whole dialogue's take goes, and with it its lines' takes
    assert [dialogue.take_for(i) for i in ids] == [partial, again, None, None]

    fake.hold_after = 1  # cancelled before a line was finished: the take keeps the audio, and no line
    assert keys(Qt.Key.Key_F5)
    assert dialogue.takes[-1].source_lines == () and [dialogue.take_for(i) for i in ids] == [partial, again, None, None]
    assert status.currentMessage() == "Generation cancelled. Take 6 has no finished line."
    assert panel.list.item(0).text().startswith("Take 6 · no line finished · ")


class FailsBeforeAnyAudio(FakeRuntime):
    """The engine lost (a crashed process, a cut link) once the take has started, before any sound."""

    def generate(self, request, cancel):
        from core.dia2.events import TakeStarted
        from core.engine.engine import EngineFailed

        yield TakeStarted(0, 7)
        raise EngineFailed("The model's process was killed by SIGKILL (often: out of memory).")


def test_a_take_lost_before_any_audio_leaves_no_generating_label_in_the_playback_bar(fake_studio, qtbot, prompts):
    studio = fake_studio(FailsBeforeAnyAudio())
    write_dialogue(studio, (Speaker.S1, "one two"))
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
    assert prompts.errors() and not studio.dialogue.takes
    assert studio.window.playback_bar.what.text() == "Nothing playing"  # not "Generating (seed 7)" at 0:00.0
