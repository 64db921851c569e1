"""The waveform under the timeline: the envelope of a take (or, with no take selected, of the
whole dialogue as exported), where its lines begin, the playhead, click to play from there, and the
envelope and line markers growing while a generation streams in."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from core.audio.envelope import Envelope
from core.document.clips import AudioClip
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.studio.heard_dialogue import DIALOGUE
from tests.fake_sound_card import FakeBackend
from tests.ui.conftest import FakeRuntime, use_runtime, write_dialogue
from tests.ui.test_takes import tone_take
from ui.waveform import WaveformView

RATE = 24000


def silence_then_tone(silence_s: float = 1.0, tone_s: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(tone_s * RATE)) / RATE
    tone = amplitude * np.sin(2 * np.pi * 2000 * t)  # a full period in every column
    return np.concatenate([np.zeros(round(silence_s * RATE)), tone]).astype(np.float32)


@pytest.fixture
def view(qtbot) -> WaveformView:
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(800, 120)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_envelope_is_flat_over_silence_and_reaches_the_tone(view):
    view.set_clip(silence_then_tone(), RATE)
    envelope = view.envelope
    assert 1000 <= len(envelope) <= 4096  # a few thousand columns, not the samples
    assert view.duration_s == pytest.approx(2.0)
    half = len(envelope) // 2
    assert np.abs(envelope.mins[:half - 1]).max() == 0 and np.abs(envelope.maxs[:half - 1]).max() == 0
    assert envelope.maxs[half + 1:].min() > 0.45 and envelope.mins[half + 1:].max() < -0.45
    assert envelope.maxs.max() == pytest.approx(0.5, abs=1e-3)
    lows, highs = envelope.pixels(view.width(), view.span_s)
    assert len(highs) == view.width()
    assert highs[:390].max() == 0 and highs[410:].min() == pytest.approx(0.5, abs=0.02)
    view.grab()  # paints


def test_line_markers_sit_at_their_times(view):
    view.set_clip(np.zeros(4 * RATE, np.float32), RATE, [(2.0, "2"), (0.0, "1"), (3.0, "3")])
    assert view.markers == [(0.0, "1"), (2.0, "2"), (3.0, "3")]
    assert [view.x_for_seconds(seconds) for seconds, _ in view.markers] == [0, 400, 600]
    image = view.grab().toImage()
    background = image.pixelColor(300, 100)

    def marked(x: int) -> bool:  # below the middle line, which is grey too
        return any(image.pixelColor(x, y) != background for y in range(80, 118))

    assert marked(400) and marked(600) and not marked(300) and not marked(500)


def test_a_click_asks_to_play_from_that_time(view, qtbot):
    view.set_clip(np.zeros(4 * RATE, np.float32), RATE)
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 60))
    assert blocker.args[0] == pytest.approx(1.0)
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(799, 60))
    assert blocker.args[0] == pytest.approx(3.995)


def test_no_seek_without_audio(view, qtbot):
    with qtbot.assertNotEmitted(view.seekRequested):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 60))


def test_the_playhead_maps_seconds_to_pixels(view):
    view.set_clip(np.zeros(8 * RATE, np.float32), RATE)
    view.set_playhead(2.0)
    assert view.x_for_seconds(view.playhead_s) == 200
    assert view.seconds_at_x(200) == pytest.approx(2.0)
    image = view.grab().toImage()
    assert image.pixelColor(200, 100).red() > 150 and image.pixelColor(200, 100).blue() < 100
    view.resize(400, 120)
    assert view.x_for_seconds(2.0) == 100


def test_appending_chunks_gives_the_envelope_of_the_whole_clip(view):
    clip = np.random.default_rng(1).uniform(-1, 1, 7 * RATE + 123).astype(np.float32)
    view.begin_stream(RATE)
    assert view.streaming and view.span_s == 5.0
    for start in range(0, len(clip), 1920):  # 80 ms chunks, as the model makes them
        view.append(clip[start:start + 1920])
    assert view.span_s == 10.0  # room to grow into
    view.end_stream()
    whole = Envelope.of(clip, RATE)
    assert view.envelope.bucket == whole.bucket
    assert np.array_equal(view.envelope.mins, whole.mins) and np.array_equal(view.envelope.maxs, whole.maxs)
    assert view.span_s == view.duration_s


def test_picking_a_take_shows_its_waveform_and_a_click_plays_from_there(studio, qtbot, sound):
    first, second = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"))
    quiet, loud = tone_take(studio.dialogue, 1, 2.0, 0.1), tone_take(studio.dialogue, 2, 4.0, 0.4)
    studio.dialogue.add_takes([quiet])
    studio.dialogue.add_takes([loud])
    window = studio.window
    waveform = window.waveform
    assert waveform.isVisible() and waveform.width() > 100

    window.takes.list.setCurrentRow(0)  # newest first: the loud take
    assert waveform.key == loud.id
    assert waveform.duration_s == pytest.approx(4.0)
    assert waveform.envelope.maxs.max() == pytest.approx(0.4)
    assert waveform.markers == [(0.0, "1"), (2.0, "2")]
    window.takes.list.setCurrentRow(1)
    assert waveform.key == quiet.id and waveform.envelope.maxs.max() == pytest.approx(0.1)
    window.takes.list.setCurrentRow(0)
    assert waveform.envelope is studio.listening._envelopes[loud.id]  # computed once per take

    x = round(waveform.x_for_seconds(3.0))
    qtbot.mouseClick(waveform, Qt.MouseButton.LeftButton, pos=QPoint(x, waveform.height() // 2))
    assert studio.playback.take_id == loud.id
    assert studio.playback.position_s == pytest.approx(3.0, abs=0.05 + waveform.span_s / waveform.width())
    qtbot.waitUntil(lambda: waveform.playhead_s is not None and waveform.playhead_s > 3.0)
    assert "seed 2" in window.playback_bar.what.text()

    studio.dialogue.move_lines([second], 0)  # the numbers follow the lines
    assert waveform.markers == [(0.0, "2"), (2.0, "1")]


def test_the_waveform_grows_while_a_generation_streams(studio, qtbot):
    write_dialogue(studio, (Speaker.S1, "one two three four five six"))
    runtime = FakeRuntime(hold_after=3)
    use_runtime(studio, runtime)
    waveform = studio.window.waveform
    assert studio.generate()
    assert runtime.holding.wait(10)
    qtbot.waitUntil(lambda: waveform.duration_s == pytest.approx(3 * runtime.chunk_s))
    assert waveform.streaming and waveform.envelope.maxs.max() == pytest.approx(0.2, abs=1e-3)
    runtime.release.set()
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        pass
    take = studio.dialogue.takes[-1]
    assert not waveform.streaming and waveform.key == take.id
    assert waveform.duration_s == pytest.approx(take.duration_s)
    assert waveform.markers == [(0.0, "1")]


def test_line_markers_appear_while_the_take_streams(studio, qtbot):
    fake = FakeRuntime(hold_after=2)
    use_runtime(studio, fake)
    write_dialogue(studio, (Speaker.S1, "one two"), (Speaker.S2, "three four"), (Speaker.S1, "five"))
    waveform = studio.window.waveform
    streamed: list[list] = []
    studio.generation.progress.connect(
        lambda *args: streamed.append(list(waveform.markers)) if waveform.streaming else None)
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
        qtbot.waitUntil(fake.holding.is_set)
        qtbot.waitUntil(lambda: len(streamed) == 2)  # the first line's two words are in
        assert waveform.streaming and waveform.markers == [(0.0, "1")]  # it starts with the take
        fake.release.set()
    take = studio.dialogue.takes[-1]
    assert streamed[2] == [(0.0, "1"), (pytest.approx(0.16), "2")]  # with the third word, before the end
    assert streamed[4] == [(0.0, "1"), (pytest.approx(0.16), "2"), (pytest.approx(0.32), "3")]
    assert waveform.key == take.id
    assert waveform.markers == [(0.0, "1"), (pytest.approx(0.16), "2"), (pytest.approx(0.32), "3")]


def test_the_tiny_model_marks_its_lines_as_it_streams(studio, tiny_runtime, qtbot):
    use_runtime(studio, tiny_runtime)
    _, second = write_dialogue(studio, (Speaker.S1, "Hi."), (Speaker.S2, "Yes."))
    studio.dialogue.set_params(GenerationParams(seed=1234))
    waveform = studio.window.waveform
    streamed: list[list] = []
    studio.generation.progress.connect(
        lambda *args: streamed.append(list(waveform.markers)) if waveform.streaming else None)
    with qtbot.waitSignal(studio.generation.finished, timeout=60_000):
        assert studio.generate()
    (take,) = studio.dialogue.takes
    second_start = take.line_times[second].start_s
    assert streamed[0] == [(0.0, "1")]
    assert [(0.0, "1"), (second_start, "2")] in streamed  # before the take was finished
    assert waveform.markers == [(0.0, "1"), (second_start, "2")]


def test_with_no_take_selected_the_whole_dialogue_is_shown_and_played_as_exported(make_studio, qtbot):
    sound = FakeBackend(speed=None)  # the clock moves only when the test says
    studio = make_studio(backend=sound)
    first, second, _ = write_dialogue(studio, (Speaker.S1, "a"), (Speaker.S2, "b"), (Speaker.S1, "c"))
    dialogue = studio.dialogue
    everything = tone_take(dialogue, 1, 3.0, 0.1)  # 1 s a line
    again = Take(GenerationParams(seed=2), AudioClip.from_samples(np.full(2 * RATE, 0.3, np.float32), RATE),
                 (dialogue.line(second),), line_times={second: (0.0, 2.0)})  # the middle line made again
    dialogue.add_takes([everything])
    dialogue.add_takes([again], regenerated=[second])
    window, waveform = studio.window, studio.window.waveform
    assert waveform.key == everything.id  # the first take was selected as it arrived

    window.takes.whole_button.click()
    assert window.takes.selected_take_id() is None and not window.takes.whole_button.isEnabled()
    assert waveform.key == DIALOGUE
    assert waveform.duration_s == pytest.approx(4.0)  # 1 s of line 1, 2 s of line 2 made again, 1 s of line 3
    assert waveform.markers == [(0.0, "1"), (1.0, "2"), (3.0, "3")]
    assert waveform.envelope.maxs.max() == pytest.approx(0.3)

    def heard(seconds: float) -> np.ndarray:  # what the speakers play in the next ``seconds``
        stream = sound.streams[-1]
        before = len(stream.played_audio)
        sound.advance(seconds)
        return stream.played_audio[before:]

    window.actions.play_pause.trigger()
    assert studio.playback.take_id == DIALOGUE and window.playback_bar.what.text().startswith("The dialogue")
    assert np.allclose(heard(0.9)[:, 0], 0.1, atol=1e-3)  # line 1, from the first take
    assert np.allclose(heard(0.6)[4800:, 0], 0.3, atol=1e-3)  # line 2, from the take that made it again
    qtbot.waitUntil(lambda: waveform.playhead_s is not None and waveform.playhead_s > 1.4)

    for seconds, level in ((3.5, 0.1), (1.5, 0.3)):  # a click plays on from that line
        qtbot.mouseClick(waveform, Qt.MouseButton.LeftButton,
                         pos=QPoint(round(waveform.x_for_seconds(seconds)), waveform.height() // 2))
        assert studio.playback.position_s == pytest.approx(seconds, abs=0.05 + waveform.span_s / waveform.width())
        assert np.allclose(heard(0.3)[:, 0], level, atol=1e-3)

    envelope = waveform.envelope
    dialogue.set_text(first, "a, reworded")  # the audio is the same: nothing is assembled again
    assert waveform.envelope is envelope and waveform.key == DIALOGUE
    dialogue.keep_take(everything.id)  # the first take speaks line 2 again
    assert waveform.duration_s == pytest.approx(3.0) and waveform.envelope.maxs.max() == pytest.approx(0.1)
    assert waveform.markers == [(0.0, "1"), (1.0, "2"), (2.0, "3")]


def test_play_pause_plays_what_the_waveform_shows(studio, qtbot, sound):
    write_dialogue(studio, (Speaker.S1, "a"))
    first, second = tone_take(studio.dialogue, 1, 1.0, 0.1), tone_take(studio.dialogue, 2, 2.0, 0.2)
    studio.dialogue.add_takes([first])
    studio.dialogue.add_takes([second])
    actions, takes = studio.window.actions, studio.window.takes
    takes.select_take(first.id)
    actions.play_pause.trigger()
    assert studio.playback.take_id == first.id
    actions.play_pause.trigger()  # pause; choosing the other take then playing plays it
    takes.select_take(second.id)
    actions.play_pause.trigger()
    assert studio.playback.take_id == second.id and studio.playback.is_playing
    actions.play_pause.trigger()
    takes.show_whole_dialogue()
    actions.play_pause.trigger()
    assert studio.playback.take_id == DIALOGUE  # the line from the kept take
    assert studio.playback.player.duration_s == pytest.approx(1.0)


def test_nothing_generated_plays_nothing_and_says_why(studio):
    write_dialogue(studio, (Speaker.S1, "a"))
    studio.window.actions.play_pause.trigger()
    assert studio.playback.player is None and studio.window.waveform.envelope is None
    assert "generate the dialogue first" in studio.window.statusBar().currentMessage()
