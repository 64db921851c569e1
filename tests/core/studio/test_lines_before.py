"""Which lines before a selection become its context, and how their codes (their takes' own, or
their audio encoded again) and words are joined."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from core.dia2.events import TakeResult
from core.document.clips import AudioClip
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.studio.lines_before import lines_before, spoken_context
from core.studio.take_assembly import take_from_result

RATE = 24000
WORD_S = 0.08  # every word of these takes lasts one frame of codes


def _take(lines, words):
    """A take of ``lines`` saying ``words`` one after the other, each a level and a code of its own."""
    audio = np.concatenate([np.full(round(WORD_S * RATE), 0.01 * (i + 1), np.float32) for i in range(len(words))])
    codes = np.tile(np.arange(1, len(words) + 1), (32, 1))
    result = TakeResult(0, 1, GenerationParams(seed=1), audio, RATE, codes,
                        [(word, i * WORD_S) for i, word in enumerate(words)])
    return take_from_result(result, lines)


@pytest.fixture
def dialogue():
    dialogue = Dialogue([DialogueLine(Speaker.S1, "one two"), DialogueLine(Speaker.S2, ""),
                         DialogueLine(Speaker.S2, "three"), DialogueLine(Speaker.S1, "four five six"),
                         DialogueLine(Speaker.S2, "seven")])
    dialogue.add_takes([_take(dialogue.lines, ["one", "two", "three", "four", "five", "six", "seven"])])
    return dialogue


class Encoder:
    sample_rate = RATE

    def __init__(self):
        self.encoded = []

    def encode_voice(self, samples):
        self.encoded.append(samples)
        return torch.ones((32, len(samples) // 1920), dtype=torch.long)


def test_the_lines_before_go_back_to_the_cap_skipping_empty_lines(dialogue):
    one, _empty, three, four, seven = (line.id for line in dialogue.lines)
    assert [item.line.id for item in lines_before(dialogue, seven)] == [one, three, four]
    # 0.24 s of line 4, then 0.08 s of line 3 would pass 0.3 s: line 4 alone.
    assert [item.line.id for item in lines_before(dialogue, seven, max_seconds=0.3)] == [four]
    # The nearest line comes however long it is: the Dia2 runtime cuts it to what fits.
    assert [item.line.id for item in lines_before(dialogue, seven, max_seconds=0.1)] == [four]
    assert lines_before(dialogue, one) == ()


def test_a_line_changed_since_its_take_or_never_spoken_ends_the_lines_before(dialogue):
    *_, three, four, seven = (line.id for line in dialogue.lines)
    dialogue.set_text(three, "three!")
    assert [item.line.id for item in lines_before(dialogue, seven)] == [four]
    dialogue.insert_line(4, Speaker.S2, "not yet said")
    assert lines_before(dialogue, seven) == ()


def test_the_context_joins_the_lines_codes_from_their_takes_with_their_words_from_its_start(dialogue):
    encoder = Encoder()
    context = spoken_context(encoder, lines_before(dialogue, dialogue.lines[-1].id, max_seconds=0.45))
    assert context.script == "[S2] three [S1] four five six"
    assert context.word_starts == pytest.approx((0.0, 0.08, 0.16, 0.24))
    # Words 3 to 6 of the take, exactly as it was made: nothing is encoded again.
    np.testing.assert_array_equal(context.codes, np.tile(np.arange(3, 7), (32, 1)))
    assert context.codes.dtype == torch.long and not encoder.encoded
    assert spoken_context(encoder, ()) is None


def test_lines_from_a_take_without_codes_are_encoded_from_their_audio(dialogue):
    # Line 7 is kept from a take saved before takes kept their codes.
    uncoded = replace(_take(dialogue.lines[-1:], ["seven"]), codes=None)
    dialogue.add_takes([uncoded], regenerated=[dialogue.lines[-1].id])
    dialogue.insert_line(5, Speaker.S1, "eight")
    dialogue.add_takes([_take(dialogue.lines[-1:], ["eight"])])
    encoder = Encoder()
    context = spoken_context(encoder, lines_before(dialogue, dialogue.lines[-1].id, max_seconds=0.35))
    assert context.script == "[S1] four five six [S2] seven"
    assert context.word_starts == pytest.approx((0.0, 0.08, 0.16, 0.24))
    # One of the takes has no codes: all the lines' audio is encoded, in one piece.
    (audio,) = encoder.encoded
    whole = dialogue.takes[0].audio.samples()
    np.testing.assert_array_equal(audio, np.concatenate([whole[round(0.24 * RATE):round(0.48 * RATE)],
                                                         uncoded.audio.samples()]))
    assert context.frames == 4


def test_lines_before_that_last_no_time_give_no_context():
    pause, line = DialogueLine(Speaker.S1, '<break time="1s"/>'), DialogueLine(Speaker.S2, "hello")
    dialogue = Dialogue([pause, line])
    silent = AudioClip.from_samples(np.zeros(RATE, np.float32), RATE)
    dialogue.add_takes([Take(GenerationParams(seed=1), silent, (pause,), line_times={pause.id: (1.0, 1.0)})])
    assert [item.line for item in lines_before(dialogue, line.id)] == [pause]
    assert spoken_context(Encoder(), lines_before(dialogue, line.id)) is None
