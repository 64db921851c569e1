import pytest

from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import Respelling, affected, respell, timed_words


def lexicon(*pairs, case_sensitive=()):
    return Lexicon(tuple(LexiconEntry(written, spoken, case_sensitive=written in case_sensitive)
                         for written, spoken in pairs))


NAMES = lexicon(("Nguyen", "Win"), ("SQL", "sequel"), ("New York", "Noo Yawk"),
                ("New York City", "the Big Apple"), ("U.S.", "you ess"))


def spoken(text, lex=NAMES):
    respelling = respell(text, lex)
    _check_word_ranges(respelling)
    return respelling.spoken


def _check_word_ranges(respelling: Respelling) -> None:
    """The words outside the respelled ones are the same, in the same order, in both texts."""
    def kept(words, ranges):
        inside = {index for numbers in ranges for index in numbers}
        return [word for index, word in enumerate(words) if index not in inside]

    written, said = timed_words(respelling.written), timed_words(respelling.spoken)
    assert kept(written, [piece.written_words for piece in respelling.respelled]) == \
        kept(said, [piece.spoken_words for piece in respelling.respelled])
    assert len(said) - len(written) == sum(len(piece.spoken_words) - len(piece.written_words)
                                           for piece in respelling.respelled)


def test_golden_a_name_in_a_script_is_respelled_with_its_spacing_kept():
    assert respell("[S1] Hello Nguyen.", lexicon(("Nguyen", "Win"))).spoken == "[S1] Hello Win."


def test_a_text_no_entry_matches_comes_back_as_the_same_string():
    text = "[S1] Hello   there.  (laughs) <break time=\"1s\"/> [S2] Hi"
    respelling = respell(text, NAMES)
    assert respelling.spoken is text
    assert respelling == Respelling(text, text) and not respelling.changed
    assert respell(text, Lexicon()).spoken is text


@pytest.mark.parametrize("text", ["SQLite is small", "MySQL", "NoSQL", "SQL-based", "SQL2", "Nguyens", "xNguyen"])
def test_only_whole_words_match(text):
    assert spoken(text) == text


@pytest.mark.parametrize("text, expected", [
    ("SQL, then", "sequel, then"),
    ("(SQL)", "(sequel)"),
    ("“SQL”.", "“sequel”."),
    ("\"SQL?!\"", "\"sequel?!\""),
    ("in the U.S., and", "in the you ess, and"),
    ("SQL: the language", "sequel: the language"),
    ("a...SQL...", "a...SQL..."),  # "a...SQL..." is one word: not SQL's
])
def test_punctuation_around_a_word_is_kept(text, expected):
    assert spoken(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Nguyen's car", "Win's car"),
    ("Nguyen’s car", "Win’s car"),  # the curly apostrophe as written
    ("(Nguyen's)", "(Win's)"),
    ("the Nguyens' car", "the Nguyens' car"),  # a plural is another word
    ("Nguyen'll", "Nguyen'll"),
    ("New York's mayor", "Noo Yawk's mayor"),
])
def test_a_possessive_is_kept_after_the_respelling(text, expected):
    assert spoken(text) == expected


def test_case_is_ignored_unless_the_entry_is_case_sensitive():
    assert spoken("sql Sql SQL") == "sequel sequel sequel"
    cased = lexicon(("US", "you ess"), case_sensitive=("US",))
    assert spoken("US and us and Us", cased) == "you ess and us and Us"


@pytest.mark.parametrize("text, expected", [
    ("New York", "Noo Yawk"),
    ("to New    York.", "to Noo Yawk."),
    ("to New\nYork", "to Noo Yawk"),
    ("new york", "Noo Yawk"),
    ("(New York)", "(Noo Yawk)"),
    ("New, York", "New, York"),
    ('New <break time="1s"/> York', 'New <break time="1s"/> York'),
    ("New Yorker", "New Yorker"),
])
def test_a_phrase_matches_across_runs_of_spaces_but_not_across_punctuation_or_a_pause(text, expected):
    assert spoken(text) == expected


def test_the_longest_entry_at_a_place_wins_scanning_left_to_right_without_overlaps():
    assert spoken("New York City and New York") == "the Big Apple and Noo Yawk"
    assert spoken("New", lexicon(("New", "Noo"), ("New York", "Noo Yawk"))) == "Noo"
    assert spoken("New York", lexicon(("New", "Noo"), ("New York", "Noo Yawk"))) == "Noo Yawk"
    assert spoken("A B C", lexicon(("A B", "ay bee"), ("B C", "bee see"))) == "ay bee C"
    assert spoken("A B C", lexicon(("B", "bee"), ("B C", "bee see"))) == "A bee see"


def test_a_respelling_is_not_respelled_again():
    chain = lexicon(("SQL", "sequel"), ("sequel", "SEE-kwel"))
    assert spoken("SQL sequel", chain) == "sequel SEE-kwel"
    assert spoken("Bob", lexicon(("Bob", "Bob Bob"))) == "Bob Bob"


def test_speaker_tags_pauses_and_cues_are_never_touched():
    markup = lexicon(("S1", "ess one"), ("break", "brake"), ("time", "thyme"), ("laughs", "laffs"),
                     ("throat", "throte"), ("sql", "sequel"))
    script = '[S1] S1 (laughs) laughs. <break time="1.5s"/> time [S2] (clears throat) throat'
    assert spoken(script, markup) == ('[S1] ess one (laughs) laffs. <break time="1.5s"/> thyme [S2] (clears throat) '
                                      "throte")
    assert spoken("[S1]S1 (sql) (SQL) (sql server)", markup) == "[S1]S1 (sql) (sequel) (sql server)"


def test_a_pause_tag_next_to_a_word_stays_whole():
    assert spoken('Nguyen<break time="1s"/>Nguyen') == 'Win<break time="1s"/>Win'


def test_a_whole_script_is_respelled_turn_by_turn():
    script = "[S1] Hello Nguyen, how is SQL? [S2] Nguyen's fine.\n[S1] In New York?"
    assert spoken(script) == "[S1] Hello Win, how is sequel? [S2] Win's fine.\n[S1] In Noo Yawk?"


def test_respelled_words_say_where_they_are_counted_as_the_runtime_times_them():
    respelling = respell("[S1] I use SQL in New York. [S2] Nguyen!",
                         lexicon(("SQL", "S Q L"), ("New York", "Nyork"), ("Nguyen", "Win")))
    assert respelling.spoken == "[S1] I use S Q L in Nyork. [S2] Win!"
    assert [(piece.entry.written, piece.written_words, piece.spoken_words) for piece in respelling.respelled] == [
        ("SQL", range(2, 3), range(2, 5)), ("New York", range(4, 6), range(6, 7)), ("Nguyen", range(6, 7), range(7, 8))]
    assert timed_words(respelling.spoken)[7] == "Win!"


def test_a_colon_in_a_respelling_counts_as_the_runtime_counts_it():
    respelling = respell("SQL, now", lexicon(("SQL", "S: Q:")))
    assert respelling.spoken == "S: Q:, now"
    assert timed_words(respelling.spoken) == ["S", "Q", ",", "now"]
    assert respelling.respelled[0].spoken_words == range(0, 3)


def test_a_phrase_written_with_a_colon_matches_its_words():
    assert spoken("I watch Star Trek: Picard.", lexicon(("Star Trek: Picard", "Star Trek Pee-card"))) == \
        "I watch Star Trek Pee-card."


def test_affected_tells_which_texts_a_lexicon_change_reads_differently():
    before = lexicon(("Nguyen", "Win"))
    after = lexicon(("Nguyen", "Nwin"), ("SQL", "sequel"))
    assert affected("Hi Nguyen", before, after)
    assert affected("I like SQL", before, after)
    assert not affected("Hi there", before, after)
    assert not affected("Hi Nguyen", before, lexicon(("nguyen", "Win"), ("SQL", "sequel")))
    assert respell("Hi Nguyen", before).changed and not respell("Hi there", before).changed


def test_a_large_lexicon_respells_a_long_script_quickly():
    import time

    many = Lexicon(tuple(LexiconEntry(f"Name{index}", f"Nay {index}") for index in range(3000)))
    script = " ".join(f"[S1] Hello Name{index % 4000}, how are you?" for index in range(2000))
    began = time.process_time()
    respelling = respell(script, many)
    assert time.process_time() - began < 2.0
    assert respelling.spoken.count("Nay ") == sum(index % 4000 < 3000 for index in range(2000))
