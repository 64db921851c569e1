"""What a line being typed gives its live take: whole words only, respelled by the lexicon,
appended; a phrase's first words wait for the word after them; an edit of what was given (or of
the lexicon) restarts from the line as it reads."""

from core.document.speakers import Speaker
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.studio.typed_line import Push, Restart, TypedLine, settled


def test_only_whole_words_are_settled():
    assert settled("") == "" and settled("Hel") == ""
    assert settled("Hello wor") == "Hello "
    assert settled("Hello,  there\n") == "Hello, there "
    assert settled("  ") == ""


def test_typing_on_appends_each_word_once_it_is_closed():
    line = TypedLine(Speaker.S2)
    said = [line.typed(text) for text in ("H", "He", "Hello", "Hello ", "Hello t", "Hello there,", "Hello there, ")]
    assert said == [Push("[S2] "), None, None, Push("Hello "), None, None, Push("there, ")]
    assert line.given == "[S2] Hello there, "


def test_leaving_the_line_gives_the_word_being_typed_too():
    line = TypedLine(Speaker.S1)
    line.typed("Hello wor")
    assert line.finished("Hello world") == Push("world ")
    line = TypedLine(Speaker.S1)
    line.typed("Hello world ")
    assert line.finished("Hello world ") is None


def test_an_edit_of_what_was_given_restarts_from_the_line_as_it_reads():
    line = TypedLine(Speaker.S1)
    line.typed("Hello there friend")
    assert line.typed("Hello there frien") is None  # the word being typed was never given
    assert line.typed("Hello ther") == Restart("[S1] Hello ")  # a backspace into a given word
    assert line.typed("Hi ther") == Restart("[S1] Hi ")  # an edit before the end
    assert line.typed("Hi there you ") == Push("there you ")


def test_the_words_go_respelled_as_a_generation_would_send_them():
    lexicon = Lexicon((LexiconEntry("Nguyen", "Win"),))
    line = TypedLine(Speaker.S1)
    said = [line.typed(text, lexicon) for text in ("Hello Ngu", "Hello Nguyen's ", "Hello Nguyen's here")]
    assert said == [Push("[S1] Hello "), Push("Win's "), None]
    assert line.finished("Hello Nguyen's here", lexicon) == Push("here ")


def test_the_first_words_of_a_phrase_wait_until_the_next_word_says_whether_the_phrase_is_complete():
    lexicon = Lexicon((LexiconEntry("New York", "Noo Yawk"), LexiconEntry("New York City", "the Big Apple")))
    line = TypedLine(Speaker.S1)
    said = [line.typed(text, lexicon) for text in ("I love New ", "I love New York ", "I love New York City ",
                                                   "I love New York City and New ", "I love New York City and New York, ")]
    assert said == [Push("[S1] I love "), None, Push("the Big Apple "), Push("and "), Push("Noo Yawk, ")]
    line = TypedLine(Speaker.S1)
    assert line.typed("in New York today ", lexicon) == Push("[S1] in Noo Yawk today ")
    assert line.typed("in new ", lexicon) == Restart("[S1] in ")
    assert line.finished("in new", lexicon) == Push("new ")  # left: the phrase will not be completed


def test_a_lexicon_changed_while_typing_restarts_from_the_line_as_it_is_read_now():
    line = TypedLine(Speaker.S2)
    line.typed("Hello Nguyen ", Lexicon())
    assert line.typed("Hello Nguyen ", Lexicon((LexiconEntry("Nguyen", "Win"),))) == Restart("[S2] Hello Win ")
