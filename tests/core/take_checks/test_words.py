"""The words compared: as the runtime counts them, as a listener would write them, and the fewest
edits between two lists of words."""

import pytest

from core.dia2.script import spoken_words
from core.take_checks.words import break_seconds, compare_words, listener_words


def test_the_runtime_counts_cues_as_words_and_pauses_not():
    assert spoken_words('Well: (laughs) I <break time="1s"/>know.') == ["Well", "(laughs)", "I", "know."]
    assert break_seconds('One <break time="1.5s"/> two <break time=".5s"/>') == [1.5, 0.5]


@pytest.mark.parametrize("written, heard", [
    ("I have twenty-five apples.", "I have 25 apples"),
    ("It's 3 o'clock, Dr. Smith!", "it is three o'clock doctor smith"),
    ("We'll see (laughs) tomorrow.", "We will see tomorrow"),
    ('Wait <break time="1s"/> for it.', "wait for it"),
    ("Colour me surprised.", "color me surprised"),
])
def test_spellings_a_listener_cannot_tell_apart_compare_equal(written, heard):
    diff = compare_words(listener_words(written), listener_words(heard))
    assert diff.error_rate == 0, (listener_words(written), listener_words(heard))


def test_the_fewest_edits_say_what_was_missed_added_and_changed():
    diff = compare_words("the cat sat on the mat".split(), "the cat sat on a mat today".split())
    assert diff.changed == (("the", "a"),) and diff.extra == ("today",) and diff.missing == ()
    assert diff.error_rate == pytest.approx(2 / 6)
    diff = compare_words("one two three four".split(), "one four".split())
    assert diff.missing == ("two", "three") and diff.error_rate == 0.5
    assert compare_words([], ["uh"]).error_rate == 1.0
