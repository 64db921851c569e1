"""Following along: the line and the word being heard are highlighted in the timeline while a take
plays, while the whole dialogue plays as exported, and while the first take of a generation is
heard as it is made."""

from __future__ import annotations

import numpy as np
import pytest

from core.document.clips import AudioClip
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.studio.heard_dialogue import DIALOGUE
from tests.fake_sound_card import FakeBackend
from tests.ui.conftest import FakeRuntime, use_runtime, write_dialogue


@pytest.fixture
def sound() -> FakeBackend:
    """A sound system whose clock moves only when the test says: the playhead is where it is put."""
    return FakeBackend(speed=None)


def heard(studio):
    return studio.window.timeline.timeline.speaking


def worded_take(dialogue) -> Take:
    """4 s of a take of the two lines, with the word timings of ``test_speech_timeline``."""
    first, second = dialogue.lines
    words = [("one", 0.2, 0.5), ("two", 0.5, 1.0), ("three", 1.0, 1.5), ("four", 2.0, 2.5), ("five", 2.5, 4.0)]
    audio = AudioClip.from_samples(np.full(4 * 24000, 0.1, np.float32), 24000)
    return Take(GenerationParams(seed=3), audio, dialogue.lines, words=words,
                line_times={first.id: (0.0, 2.0), second.id: (2.0, 4.0)})


def test_the_word_being_heard_follows_the_playhead_and_clears_when_stopped(studio, qtbot, sound):
    first, second = write_dialogue(studio, (Speaker.S1, "one two three"), (Speaker.S2, "four  five"))
    take = worded_take(studio.dialogue)
    studio.dialogue.add_takes([take])
    studio.listening.play_take(take.id)
    assert heard(studio) == (first, None)  # at 0 s: the first line, before its first word

    sound.advance(0.6)
    qtbot.waitUntil(lambda: heard(studio) == (first, (4, 7)))  # "two"
    studio.playback.seek(2.6)
    assert heard(studio) == (second, (6, 10))  # "five", after the double space
    assert studio.window.timeline.spoken_word_rects()  # and it is painted

    studio.window.actions.play_pause.trigger()  # paused: nothing is being heard
    assert heard(studio) == (None, None)
    studio.window.actions.play_pause.trigger()
    assert heard(studio) == (second, (6, 10))
    studio.window.actions.stop.trigger()
    assert heard(studio) == (None, None) and not studio.window.timeline.spoken_word_rects()


def test_the_whole_dialogue_highlights_each_line_from_the_take_that_speaks_it(studio, qtbot, sound):
    first, second, third = write_dialogue(studio, (Speaker.S1, "one two three"), (Speaker.S2, "four five"),
                                          (Speaker.S1, "six seven"))
    dialogue = studio.dialogue
    audio = AudioClip.from_samples(np.full(6 * 24000, 0.1, np.float32), 24000)
    everything = Take(GenerationParams(seed=3), audio, dialogue.lines,
                      words=[("one", 0.2, 0.5), ("two", 0.5, 1.0), ("three", 1.0, 2.0), ("four", 2.0, 2.5),
                             ("five", 2.5, 4.0), ("six", 4.0, 5.0), ("seven", 5.0, 6.0)],
                      line_times={first: (0.0, 2.0), second: (2.0, 4.0), third: (4.0, 6.0)})
    again = Take(GenerationParams(seed=4), AudioClip.from_samples(np.full(3 * 24000, 0.3, np.float32), 24000),
                 (dialogue.line(second),), words=[("four", 0.0, 1.0), ("five", 1.0, 3.0)],
                 line_times={second: (0.0, 3.0)})  # the middle line made again, and kept
    dialogue.add_takes([everything])
    dialogue.add_takes([again], regenerated=[second])
    studio.window.takes.whole_button.click()
    studio.window.actions.play_pause.trigger()
    assert studio.playback.take_id == DIALOGUE
    assert heard(studio) == (first, None)  # at 0 s: the first line, before its first word

    sound.advance(0.6)
    qtbot.waitUntil(lambda: heard(studio) == (first, (4, 7)))  # "two"
    studio.playback.seek(2.5)  # line 2 from 2 s to 5 s, from the take that made it again
    assert heard(studio) == (second, (0, 4))  # its "four", not the first take's "five"
    studio.playback.seek(6.5)  # line 3 from 5 s to 7 s: 1 s later than in its take
    assert heard(studio) == (third, (4, 9))  # "seven"
    assert studio.window.timeline.spoken_word_rects()

    dialogue.keep_take(everything.id)  # line 2 from the first take: 1 s shorter from the next play on
    sound.advance(0.1)
    qtbot.waitUntil(lambda: studio.playback.position_s > 6.55)
    assert heard(studio) == (third, (4, 9))  # the words follow the audio that plays
    studio.window.actions.stop.trigger()
    assert heard(studio) == (None, None)
    studio.listening.play_dialogue()  # played again: assembled again
    studio.playback.seek(5.5)
    assert heard(studio) == (third, (4, 9))


def test_a_line_reworded_since_the_take_keeps_its_highlight_but_not_its_word(studio, sound):
    first, _ = write_dialogue(studio, (Speaker.S1, "one two three"), (Speaker.S2, "four five"))
    take = worded_take(studio.dialogue)
    studio.dialogue.add_takes([take])
    studio.dialogue.set_text(first, "one two three and more")
    studio.listening.play_take(take.id)
    studio.playback.seek(0.6)
    assert heard(studio) == (first, None)


def test_the_preview_highlights_words_while_the_take_is_still_being_made(studio, qtbot, sound):
    fake = FakeRuntime(hold_after=4)
    use_runtime(studio, fake)
    first, second = write_dialogue(studio, (Speaker.S1, "one two three"), (Speaker.S2, "four five"))
    with qtbot.waitSignal(studio.generation.finished, timeout=30_000):
        assert studio.generate()
        qtbot.waitUntil(fake.holding.is_set)
        playback = studio.playback
        qtbot.waitUntil(lambda: playback.player is not None and playback.player.duration_s == pytest.approx(0.32))
        sound.advance(0.1)  # 80 ms a word: the second word
        qtbot.waitUntil(lambda: heard(studio) == (first, (4, 7)))
        studio.playback.seek(0.25)  # the first word of the second line, made but not yet a take
        assert heard(studio) == (second, (0, 4))
        assert studio.generation.is_running and not studio.dialogue.takes
        fake.release.set()
    (take,) = studio.dialogue.takes
    assert studio.playback.take_id == take.id  # the preview became the take: its timings take over
    studio.playback.seek(0.33)
    assert heard(studio) == (second, (5, 9))
    studio.playback.stop()
    assert heard(studio) == (None, None)


def test_deleting_the_line_being_heard_clears_its_highlight(studio, qtbot, sound):
    first, second = write_dialogue(studio, (Speaker.S1, "one two three"), (Speaker.S2, "four five"))
    take = worded_take(studio.dialogue)
    studio.dialogue.add_takes([take])
    studio.listening.play_take(take.id)
    studio.playback.seek(0.6)
    assert heard(studio) == (first, (4, 7))
    studio.dialogue.delete_lines([first])
    qtbot.waitUntil(lambda: heard(studio) == (None, None))  # the next tick of the playhead
    assert not studio.window.timeline.spoken_word_rects()
    studio.playback.seek(2.1)
    assert heard(studio) == (second, (0, 4))
