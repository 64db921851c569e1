"""IncrementalScript: text fed in any pieces gives exactly parse_script's entries for the whole
text (or its error), with the fixture's real tokenizer."""

from __future__ import annotations

import random

import pytest

from core.dia2.incremental_script import IncrementalScript, TextAfterEnd
from core.dia2.script import UnspeakableScript, parse_script
from core.dia2.tokenizer import TextTokenizer
from tests.core.dia2.golden import CASES, CHECKPOINT, GoldenCase

FRAME_RATE = 12.5

GOLDEN_SCRIPTS = sorted({GoldenCase(name).json["script"] for name in CASES})
TRICKY = [
    '[S1] a<break  time = " 1 s " />b<break time="0.6s"/>c',
    '[S1] Wait <break time="1.5s"/> now [S2] <break time="0.2s"/> ok',
    '[S1] x <break time="2s"/><break time="1s"/>y<break time="0.5s"/>',
    '[S1] 1 < 2 and x<y, <b>bold</b> <break time=oops> <br/> <break time="1s" never closed',
    '[S1] a <break time="<break time="1s"/> b <break time=""/>',
    "[S1] Café naïve — “quotes” 日本語 emoji 🎉 done.\u00a0nbsp\u2003em\u3000wide",
    " Hello world, how are you? I'm fine: really fine.",
    "[S1] Hi [S2] [S1] there [S2]again [S1]",
    "[S1] don\u2019t: stop\u2019n [S2] (laughs) okay!!!",
    "\n\t[S2]  Hello\n\n[S1]\tworld  ",
    "[S1] lots   of\r\nspace   ",
]
REFUSED = [
    "[S1] Hello [S2]",
    "[S3] Hello",
    "[S1] Call [S12]",
    "[S1] Wait <break time=\"abc\"/> now",
    "[S1] Wait <break time=\"10.01s\"/> now",
    '<break time="1s"/> [S1] Hello',
    '<break time="1s"/>',
    '[S1] <break time="[S7]"/> hi',
    "   ",
    "",
]


@pytest.fixture(scope="module")
def tokenizer() -> TextTokenizer:
    return TextTokenizer(CHECKPOINT)


def _whole(tokenizer, text, force=True):
    return parse_script(text, tokenizer.encode, tokenizer.speaker_ids["[S1]"], FRAME_RATE,
                        force_first_speaker=force)


def _pieces(tokenizer, pieces, force=True):
    script = IncrementalScript(tokenizer.encode, tokenizer.speaker_ids["[S1]"], FRAME_RATE, force_first_speaker=force)
    entries = []
    for piece in pieces:
        entries += script.feed(piece)
    return entries + script.close()


def _outcome(run):
    try:
        return run()
    except UnspeakableScript as error:
        return type(error), str(error)


def _splits(text: str, seed: int):
    """Every split in two, one character at a time, and random multi-splits."""
    yield [text]
    for at in range(len(text) + 1):
        yield [text[:at], text[at:]]
    yield list(text)
    rng = random.Random(seed)
    for _ in range(25):
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(1, 8))))
        yield [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]


@pytest.mark.parametrize("text", GOLDEN_SCRIPTS + TRICKY + REFUSED)
def test_every_split_gives_the_entries_or_the_error_of_the_whole_text(tokenizer, text):
    expected = _outcome(lambda: _whole(tokenizer, text))
    for pieces in _splits(text, seed=len(text)):
        assert _outcome(lambda: _pieces(tokenizer, pieces)) == expected, pieces


@pytest.mark.parametrize("text", ['<break time="1s"/> muffled', "static <break time=\"0.5s\"/> hiss"])
def test_without_a_forced_first_speaker_a_leading_pause_is_kept(tokenizer, text):
    expected = _whole(tokenizer, text, force=False)
    assert expected[0].is_break or expected[1].is_break
    for pieces in _splits(text, seed=1):
        assert _pieces(tokenizer, pieces, force=False) == expected


def _model_deltas(text: str) -> list[str]:
    """A language model's way: each word with its leading space, punctuation apart."""
    deltas = []
    for index, word in enumerate(text.split(" ")):
        head = word.rstrip(",.!?")
        deltas += [(" " if index else "") + head] + list(word[len(head):])
    return deltas


def test_model_deltas_with_leading_spaces_complete_a_word_when_the_next_arrives(tokenizer):
    text = "[S1] Hello there, how are you? [S2] Fine!"
    script = IncrementalScript(tokenizer.encode, tokenizer.speaker_ids["[S1]"], FRAME_RATE)
    settled = [[entry.text for entry in script.feed(delta)] for delta in _model_deltas(text)]
    # "[S1]" and "Hello" wait for the space before "there"; "there" is held while "," may follow.
    assert settled[:4] == [[], [], ["Hello"], []]
    assert [word for words in settled for word in words] == ["Hello", "there,", "how", "are", "you?"]
    assert [entry.text for entry in script.close()] == ["Fine!"]


def test_a_half_written_break_tag_and_a_lone_speaker_tag_are_held_until_they_complete(tokenizer):
    script = IncrementalScript(tokenizer.encode, tokenizer.speaker_ids["[S1]"], FRAME_RATE)
    assert [e.text for e in script.feed("[S1] Wait <break time=")] == ["Wait"]
    assert script.held == "<break time="
    assert script.feed('"1.5s"') == []
    (pause,) = script.feed("/>")
    assert pause.is_break and pause.hold == 19
    assert script.feed(" [S2] ") == [] and script.held == ""
    (word,) = script.feed("now ")
    assert word.tokens == tuple(tokenizer.encode("[S2] now"))


def test_a_refused_piece_changes_nothing_and_text_after_the_end_is_refused(tokenizer):
    script = IncrementalScript(tokenizer.encode, tokenizer.speaker_ids["[S1]"], FRAME_RATE)
    assert [e.text for e in script.feed("[S1] Hello ")] == ["Hello"]
    with pytest.raises(UnspeakableScript, match=r"\[S3\] is not a speaker tag"):
        script.feed("there [S3] friend ")
    with pytest.raises(UnspeakableScript, match="needs a duration in seconds"):
        script.feed('there <break time="soon"/>')
    entries = script.feed("there [S2] friend") + script.close()
    assert entries == _whole(tokenizer, "[S1] Hello there [S2] friend")[1:]
    with pytest.raises(TextAfterEnd):
        script.feed("more")
