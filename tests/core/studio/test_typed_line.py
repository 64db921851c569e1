"""What a line being typed gives its live take: whole words only, appended; an edit of what was
given restarts from the line as it reads."""

from core.document.speakers import Speaker
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
