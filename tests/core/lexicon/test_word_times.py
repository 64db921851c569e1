import pytest

from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import respell, timed_words


def respelled(text, *pairs):
    return respell(text, Lexicon(tuple(LexiconEntry(written, spoken) for written, spoken in pairs)))


def test_words_as_written_keep_their_starts():
    respelling = respelled("Hello there, Nguyen.", ("Nguyen", "Win"))
    assert respelling.written_starts([0.0, 0.4, 0.9]) == [0.0, 0.4, 0.9]
    assert respelled("Hello there", ("Nguyen", "Win")).written_starts([0.0, 0.4]) == [0.0, 0.4]


def test_a_word_respelled_as_three_takes_the_first_ones_start():
    respelling = respelled("I use SQL now", ("SQL", "S Q L"))
    assert respelling.spoken == "I use S Q L now"
    assert respelling.written_starts([0.0, 0.2, 0.5, 0.7, 0.9, 1.2]) == [0.0, 0.2, 0.5, 1.2]


def test_two_words_respelled_as_one_share_its_span_evenly():
    respelling = respelled("in New York today", ("New York", "Nyork"))
    assert respelling.written_starts([0.0, 0.4, 1.0]) == pytest.approx([0.0, 0.4, 0.7, 1.0])


def test_three_words_over_two_share_the_span_up_to_the_next_word():
    respelling = respelled("go New York City now", ("New York City", "Big Apple"))
    assert respelling.written_starts([0.0, 0.3, 0.6, 1.2]) == pytest.approx([0.0, 0.3, 0.6, 0.9, 1.2])


def test_as_many_spoken_words_as_written_take_their_starts_one_for_one():
    respelling = respelled("Tran Nguyen said", ("Tran Nguyen", "Tran Win"))
    assert respelling.written_starts([0.1, 0.5, 0.8]) == [0.1, 0.5, 0.8]


def test_at_the_end_with_no_word_after_them_the_written_words_end_at_the_last_spoken_start():
    assert respelled("in New York", ("New York", "Nyork")).written_starts([0.0, 0.4]) == [0.0, 0.4, 0.4]
    assert respelled("in New York", ("New York", "Noo Yaw K")).written_starts([0.0, 0.4, 0.6, 0.8]) == \
        pytest.approx([0.0, 0.4, 0.6])


def test_a_cut_take_gives_starts_only_to_the_written_words_whose_spoken_words_were_all_timed():
    respelling = respelled("I use SQL now", ("SQL", "S Q L"))
    assert respelling.written_starts([0.0, 0.2, 0.5, 0.7]) == [0.0, 0.2]  # "L" never timed
    assert respelling.written_starts([0.0, 0.2, 0.5, 0.7, 0.9]) == [0.0, 0.2, 0.5]
    assert respelling.written_starts([0.0]) == [0.0]
    assert respelling.written_starts([]) == []
    shortened = respelled("in New York today", ("New York", "Nyork"))
    assert shortened.written_starts([0.0, 0.4]) == [0.0, 0.4, 0.4]


def test_a_scripts_speaker_tags_are_not_timed_words():
    respelling = respelled("[S1] Hello Nguyen. [S2] I use SQL.", ("Nguyen", "Win"), ("SQL", "S Q L"))
    assert timed_words(respelling.spoken) == ["Hello", "Win.", "I", "use", "S", "Q", "L."]
    assert respelling.written_starts([0.0, 0.3, 1.0, 1.2, 1.5, 1.6, 1.7]) == [0.0, 0.3, 1.0, 1.2, 1.5]


def test_more_starts_than_spoken_words_is_a_mistake_of_the_caller():
    with pytest.raises(ValueError, match="3 word starts for a text of 2 spoken words"):
        respelled("Hello Nguyen", ("Nguyen", "Win")).written_starts([0.0, 0.3, 0.6])
