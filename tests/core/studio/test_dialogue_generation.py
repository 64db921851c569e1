"""A generation of a dialogue's lines without the window: which lines, the voices in order, the
request with the lines before, and the takes put back into the document."""

import threading

import numpy as np
import pytest
import torch

from core.dia2.events import TakeResult, TakeStarted
from core.dia2.transcript_alignment import TimedWord
from core.document.clips import AudioClip
from core.document.content import LineStatus
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.speakers import Speaker, VoiceReference
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.params import GenerationParams
from core.project.opening import open_project
from core.project.saving import save_project
from core.studio.dialogue_generation import CannotGenerate, DialogueGeneration, lines_to_generate

RATE = 24000
WORD_S = 0.08


class ScriptedEngine:
    """An engine's stand-in: says each word of the script in 80 ms, a code a word; take 1 is
    cancelled after ``cancel_after_words`` words when given (the later takes are made in full)."""

    sample_rate = RATE

    def __init__(self, notices=(), cancel_after_words=None):
        self.notices, self.cancel_after_words = list(notices), cancel_after_words
        self.requests, self.encoded = [], []

    def encode_voice(self, samples):
        self.encoded.append(samples)
        return torch.ones((32, 3), dtype=torch.long)

    def generate(self, request, cancel):
        self.requests.append(request)
        words = [word for word in request.script.split() if word not in ("[S1]", "[S2]")]
        params = request.params.with_seed()
        for take, seed in enumerate(params.take_seeds()):
            cancelled = take == 0 and self.cancel_after_words is not None
            said = words[:self.cancel_after_words] if cancelled else words
            yield TakeStarted(take, seed)
            audio = np.full(round(len(said) * WORD_S * RATE), 0.1 * (take + 1), np.float32)
            yield TakeResult(take, seed, params.with_seed(seed), audio, RATE, np.tile(np.arange(len(said)), (32, 1)),
                             [(word, i * WORD_S) for i, word in enumerate(said)],
                             complete=not cancelled, notices=list(self.notices))




def run(generation: DialogueGeneration, engine) -> list:
    added = []
    for event in generation.events(engine, threading.Event()):
        if isinstance(event, TakeResult):
            added.append(generation.add_result(event))
    return added


def voice(words=("hello", "there")) -> VoiceReference:
    return VoiceReference(AudioClip.from_samples(np.full(RATE, 0.1, np.float32), RATE),
                          [TimedWord(word, i * 0.4, i * 0.4 + 0.3) for i, word in enumerate(words)])


@pytest.fixture
def dialogue():
    return Dialogue([DialogueLine(Speaker.S1, "one two"), DialogueLine(Speaker.S2, ""),
                     DialogueLine(Speaker.S2, "three"), DialogueLine(Speaker.S1, "four")])


def test_the_lines_as_they_read_when_it_starts_empty_ones_left_out(dialogue):
    one, empty, three, four = (line.id for line in dialogue.lines)
    whole = DialogueGeneration(dialogue)
    assert [line.id for line in whole.lines] == [one, three, four] and whole.regenerated == ()
    assert whole.script == "[S1] one two [S2] three [S1] four" and whole.words_per_take == 4

    chosen = DialogueGeneration(dialogue, [empty, three])
    assert [line.id for line in chosen.lines] == [three] and chosen.regenerated == (three,)
    dialogue.set_text(three, "changed")
    dialogue.set_params(GenerationParams(seed=9))
    engine = ScriptedEngine()
    run(chosen, engine)
    assert engine.requests[0].script == "[S2] three" and engine.requests[0].params.seed is None

    with pytest.raises(CannotGenerate, match="no text to speak"):
        DialogueGeneration(dialogue, [empty])


def test_the_voices_go_speaker_1_first_and_unusable_ones_are_refused(dialogue):
    dialogue.set_voice(Speaker.S2, voice())
    with pytest.raises(CannotGenerate, match="Speaker 2 has a voice but Speaker 1 has none"):
        DialogueGeneration(dialogue)
    dialogue.set_voice(Speaker.S1, voice(()))
    with pytest.raises(CannotGenerate, match="The voice of Speaker 1 has no timed words"):
        DialogueGeneration(dialogue)
    first = voice(("first",))
    dialogue.set_voice(Speaker.S1, first)
    generation = DialogueGeneration(dialogue)
    assert generation.speaking_with.voices == (first, dialogue.speakers[Speaker.S2].voice)
    engine = ScriptedEngine()
    run(generation, engine)
    assert [[word for word in prompt.words] for prompt in engine.requests[0].voices] == [
        list(first.words), list(dialogue.speakers[Speaker.S2].voice.words)]
    assert len(engine.encoded) == 2


def test_a_line_is_generated_after_the_lines_before_it_and_its_new_take_kept(dialogue):
    one, _, three, four = (line.id for line in dialogue.lines)
    engine = ScriptedEngine()
    ((_, whole),) = run(DialogueGeneration(dialogue), engine)
    assert engine.requests[0].context is None
    assert [dialogue.status(i) for i in (one, three, four)] == [LineStatus.GENERATED] * 3

    ((_, again),) = run(DialogueGeneration(dialogue, [four]), engine)
    context = engine.requests[1].context
    assert context.script == "[S1] one two [S2] three" and context.word_starts == pytest.approx((0, 0.08, 0.16))
    np.testing.assert_array_equal(context.codes, np.tile([0, 1, 2], (32, 1)))
    assert dialogue.take_for(four) is again and dialogue.take_for(one) is whole


def test_only_the_first_complete_take_replaces_the_lines_asked_for_again(dialogue):
    one, _, three, four = (line.id for line in dialogue.lines)
    (_, first), = run(DialogueGeneration(dialogue), ScriptedEngine())
    dialogue.set_params(GenerationParams(number_results=2))

    added = run(DialogueGeneration(dialogue, [three, four]), ScriptedEngine())
    assert [dialogue.take_for(i) for i in (one, three, four)] == [first, added[0][1], added[0][1]]

    cancelled = run(DialogueGeneration(dialogue, [three, four]), ScriptedEngine(cancel_after_words=2))
    assert list(cancelled[0][1].line_times) == [three]  # cancelled in line 4: line 3 was finished
    assert [dialogue.take_for(i) for i in (three, four)] == [added[0][1]] * 2  # neither take replaced them


def test_each_notice_is_said_once_and_an_empty_take_is_not_added(dialogue):
    dialogue.set_params(GenerationParams(number_results=3))
    generation = DialogueGeneration(dialogue)
    said = run(generation, ScriptedEngine(notices=["The lines before were cut.", "The lines before were cut."]))
    assert [notices for notices, _ in said] == [["The lines before were cut."], [], []]
    assert generation.notices == ["The lines before were cut."] and len(generation.takes) == 3

    nothing = TakeResult(0, 1, GenerationParams(seed=1), np.zeros(0, np.float32), RATE, None, [], complete=False)
    assert generation.add_result(nothing) == ([], None) and len(dialogue.takes) == 3


def test_a_take_holds_its_audio_as_the_saved_project_gives_it_back(dialogue, tmp_path):
    (_, take), = run(DialogueGeneration(dialogue), ScriptedEngine())
    assert not np.array_equal(take.audio.samples(), np.full(take.audio.frame_count, 0.1, np.float32))  # 24-bit
    save_project(dialogue, tmp_path / "Talk.diastudio")
    (reopened,) = open_project(tmp_path / "Talk.diastudio").takes
    np.testing.assert_array_equal(reopened.audio.samples(), take.audio.samples())


def test_lines_to_generate_go_in_runs_of_lines_that_follow_each_other():
    dialogue = Dialogue([DialogueLine(Speaker.S1, text) for text in ("a", "", "b", "c", "d", "e")])
    a, _, b, c, d, e = (line.id for line in dialogue.lines)
    run(DialogueGeneration(dialogue, [c]), ScriptedEngine())
    every = [line.id for line in dialogue.lines]
    assert lines_to_generate(dialogue, every) == [[a, b], [d, e]]  # the empty line breaks no run
    assert lines_to_generate(dialogue, [b, d]) == [[b], [d]]
    assert lines_to_generate(dialogue, every, again=True) == [[a, b, c, d, e]]
    dialogue.set_text(c, "changed")
    assert lines_to_generate(dialogue, [c, d]) == [[c, d]]  # outdated: generated again


def test_the_model_reads_the_lines_respelled_and_the_take_keeps_the_written_words(dialogue):
    one, _, three, four = (line.id for line in dialogue.lines)
    dialogue.set_lexicon(Lexicon((LexiconEntry("two", "to oo"), LexiconEntry("four", "fore"))))
    generation = DialogueGeneration(dialogue)
    assert generation.words_per_take == 5  # the words the model reads and times: "one to oo three fore"
    engine = ScriptedEngine()
    ((_, take),) = run(generation, engine)
    assert engine.requests[0].script == "[S1] one to oo [S2] three [S1] fore"
    assert [(word.text, word.start_s) for word in take.words] == [
        ("one", 0.0), ("two", 0.08), ("three", 0.24), ("four", 0.32)]
    assert take.respelled == {one: "one to oo", four: "fore"}
    assert take.line_times[three] == pytest.approx((0.24, 0.32))
    assert [dialogue.status(i) for i in (one, three, four)] == [LineStatus.GENERATED] * 3


def test_the_lines_before_are_replayed_as_the_model_read_them(dialogue):
    one, _, three, four = (line.id for line in dialogue.lines)
    dialogue.set_lexicon(Lexicon((LexiconEntry("two", "to oo"),)))
    engine = ScriptedEngine()
    run(DialogueGeneration(dialogue), engine)
    run(DialogueGeneration(dialogue, [four]), engine)
    context = engine.requests[1].context
    assert context.script == "[S1] one to oo [S2] three"
    # "two" was read as two words: their starts share its time, up to the next word's
    assert context.word_starts == pytest.approx((0, 0.08, 0.16, 0.24))
