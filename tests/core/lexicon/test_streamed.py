"""Text arriving in pieces, respelled as it settles: what goes out is what the whole text respelled
at once gives, never half a word, pause tag or cue, and never a phrase entry's first words alone."""

import random

import pytest

from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import respell
from core.lexicon.streamed import StreamedRespelling

LEXICON = Lexicon((LexiconEntry("Nguyen", "Win"), LexiconEntry("New York", "Noo Yawk"),
                   LexiconEntry("New York City", "the Big Apple"), LexiconEntry("time", "tyme"),
                   LexiconEntry("SQL", "sequel")))
TEXT = ('[S1] Hello Nguyen, welcome to New York City. (clears throat) [S2] Wait <break time="1s"/> '
        'what time is it in New York? SQL time! [S1] Nguyen\'s SQL.')


def streamed(pieces: list[str], lexicon: Lexicon = LEXICON) -> tuple[list[str], StreamedRespelling]:
    respelling = StreamedRespelling(lexicon)
    sent = [respelling.take(piece) for piece in pieces]
    return sent + [respelling.end()], respelling


def test_settled_words_go_respelled_and_the_word_being_written_waits():
    sent, _ = streamed(["Hello Ngu", "yen. How", " are you"])
    assert sent == ["Hello ", "Win. ", "How are ", "you"]


def test_a_phrase_entrys_first_words_wait_for_the_words_that_may_complete_it():
    sent, _ = streamed(["I love New ", "York ", "City. Yes ", "and New York. "])
    assert sent == ["I love ", "", "the Big Apple. Yes ", "and Noo Yawk. ", ""]


def test_half_a_pause_tag_or_a_cue_never_goes_out():
    sent, _ = streamed(["Wait <break ", "time=\"1s\"/> the (clears ", "throat) time "])
    assert sent == ["Wait ", "<break time=\"1s\"/> the ", "(clears throat) tyme ", ""]


@pytest.mark.parametrize("seed", range(20))
def test_any_cutting_of_the_text_sends_what_the_whole_text_respelled_gives(seed):
    generator = random.Random(seed)
    cuts = sorted(generator.sample(range(1, len(TEXT)), generator.randint(1, 30)))
    pieces = [TEXT[start:end] for start, end in zip([0, *cuts], [*cuts, len(TEXT)])]
    sent, respelling = streamed(pieces)
    assert "".join(sent) == respell(TEXT, LEXICON).spoken
    assert "".join(piece.written for piece in respelling.pieces) == TEXT


def test_without_entries_the_text_goes_as_it_comes():
    sent, respelling = streamed(["Hel", "lo <bre", "ak"], Lexicon())
    assert sent == ["Hel", "lo <bre", "ak", ""] and respelling.pieces == []


def test_the_words_a_live_take_times_are_told_as_written():
    sent, respelling = streamed([TEXT])
    spoken = respell(TEXT, LEXICON).spoken
    from core.lexicon.respelling import timed_words

    told = [word for said in timed_words(spoken) for word in respelling.written_words(said)]
    assert told == timed_words(TEXT)
    assert respelling.written_words("extra") == ["extra"]  # past what was sent: as the model said it


def test_without_entries_the_timed_words_are_the_models():
    _, respelling = streamed(["Hello there. "], Lexicon())
    assert respelling.written_words("Hello") == ["Hello"]
