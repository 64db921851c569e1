"""An engine's result as a take of the document: which lines it speaks, and where."""

import numpy as np
import pytest

from core.dia2.events import TakeResult
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.params import GenerationParams
from core.studio.take_assembly import take_from_result

RATE = 24000
LINES = (DialogueLine(Speaker.S1, "one two"), DialogueLine(Speaker.S2, "three four"))


def result(audio_s, word_starts, complete):
    words = [(word, start) for word, start in zip("one two three four".split(), word_starts)]
    return TakeResult(0, 1, GenerationParams(seed=1), np.zeros(round(audio_s * RATE), np.float32), RATE,
                      np.zeros((32, 0), np.int64), words, complete)


def test_a_complete_take_speaks_every_line_to_the_end_of_its_audio():
    take = take_from_result(result(1.0, [0.0, 0.2, 0.4, 0.6], True), LINES)
    assert [line.id for line in take.source_lines] == [line.id for line in LINES]
    assert take.line_times[LINES[1].id] == pytest.approx((0.4, 1.0))


@pytest.mark.parametrize("audio_s, word_starts, lines_spoken", [
    (0.7, [0.0, 0.2, 0.4, 0.6], 1),  # the last word was taken, but the line may be cut off: not finished
    (0.5, [0.0, 0.2, 0.4], 1),  # the next line's first word is in the audio: line 1 is finished
    (0.3, [0.0, 0.2, 0.4], 0),  # that word was taken after the audio made: line 1 may be cut off
    (0.1, [0.0], 0),
])
def test_a_cancelled_take_speaks_only_the_lines_it_finished(audio_s, word_starts, lines_spoken):
    take = take_from_result(result(audio_s, word_starts, False), LINES)
    assert [line.id for line in take.source_lines] == [line.id for line in LINES[:lines_spoken]]
    assert set(take.line_times) == {line.id for line in LINES[:lines_spoken]}
    if lines_spoken:
        assert take.line_times[LINES[0].id] == pytest.approx((0.0, 0.4))
