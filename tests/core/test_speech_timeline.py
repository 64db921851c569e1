"""Which line and word is heard at a moment of a take: words counted as the runtime counts them,
finished takes, takes still streaming in, and the edges (before, between, after, overlaps, empty)."""

from __future__ import annotations

import numpy as np
import pytest

from core.dia2.events import TakeResult
from core.dia2.script import word_spans
from core.document.clips import AudioClip
from core.document.lines import DialogueLine
from core.document.speakers import Speaker
from core.document.takes import Take
from core.params import GenerationParams
from core.speech_timeline import SpeechTimeline
from core.studio.take_assembly import take_from_result


def words_of(text: str) -> list[str]:
    return [text[start:end] for start, end in word_spans(text)]


def test_words_are_found_where_they_are_written():
    text = '  Well,  (laughs) hi<break time="1s"/>there\tyou'
    assert words_of(text) == ["Well,", "(laughs)", "hi", "there", "you"]
    assert word_spans(text)[0] == (2, 7)


def test_a_colon_parts_words_and_a_pause_tag_is_no_word():
    assert words_of("Note:this") == ["Note", "this"]
    assert words_of('<break time="0.5s"/>') == []
    assert words_of("it\u2019s") == ["it\u2019s"]  # the curly apostrophe is kept in the text


def take_of(lines, line_times, words, seconds=4.0) -> Take:
    audio = AudioClip.from_samples(np.zeros(round(seconds * 100), np.float32), 100)
    return Take(GenerationParams(seed=1), audio, tuple(lines), words=words, line_times=line_times)


@pytest.fixture
def two_lines():
    return DialogueLine(Speaker.S1, "one two three"), DialogueLine(Speaker.S2, "four  five")


@pytest.fixture
def finished(two_lines) -> SpeechTimeline:
    first, second = two_lines
    words = [("one", 0.2, 0.5), ("two", 0.5, 1.0), ("three", 1.0, 1.5), ("four", 2.0, 2.5), ("five", 2.5, 4.0)]
    return SpeechTimeline.of_take(take_of(two_lines, {first.id: (0.0, 2.0), second.id: (2.0, 4.0)}, words))


def test_the_word_under_the_playhead_of_a_finished_take(finished, two_lines):
    first, second = two_lines
    heard = finished.at(0.6)
    assert (heard.line_id, heard.word) == (first.id, 1)
    assert heard.chars_in(first) == (4, 7)
    assert finished.at(2.0).line_id == second.id and finished.at(2.0).word == 0  # a start belongs to it
    assert finished.at(3.99).chars_in(second) == (6, 10)  # the double space is in the text


def test_before_the_first_word_and_between_words_the_line_is_heard_without_a_word(finished, two_lines):
    first, _ = two_lines
    assert finished.at(0.1) == finished.at(0.0)
    assert finished.at(0.1).line_id == first.id and finished.at(0.1).word is None
    assert finished.at(1.7).line_id == first.id and finished.at(1.7).chars_in(first) is None


def test_after_the_take_or_before_it_nothing_is_heard(finished):
    assert finished.at(4.0) is None and finished.at(-0.1) is None


def test_a_reworded_line_keeps_its_highlight_but_not_its_words(finished, two_lines):
    first, _ = two_lines
    heard = finished.at(0.6)
    assert heard.chars_in(DialogueLine(Speaker.S1, "one   two three", id=first.id)) == (6, 9)  # spacing only
    assert heard.chars_in(DialogueLine(Speaker.S1, "one two", id=first.id)) is None


def test_where_lines_overlap_the_one_that_began_last_is_heard():
    early, late = DialogueLine(Speaker.S1, "a b"), DialogueLine(Speaker.S2, "c")
    words = [("a", 0.0, 1.0), ("b", 1.0, 2.0), ("c", 1.5, 3.0)]
    timeline = SpeechTimeline.of_take(take_of((early, late), {early.id: (0.0, 2.0), late.id: (1.5, 3.0)}, words))
    assert timeline.at(1.2).line_id == early.id and timeline.at(1.2).word == 1
    assert timeline.at(1.6).line_id == late.id and timeline.at(1.6).word == 0
    assert timeline.at(2.5).line_id == late.id


def test_an_empty_take_hears_nothing():
    assert SpeechTimeline.of_take(take_of((), {}, ())).at(0.0) is None
    assert SpeechTimeline.streaming(()).at(0.0) is None
    assert SpeechTimeline.streaming(()).add_word(0.0) is False


def test_a_kept_voice_prompt_is_not_taken_for_the_first_lines_words():
    line = DialogueLine(Speaker.S1, "hi there")
    words = [("voice", 0.0, 0.8), ("words", 0.8, 1.6), ("hi", 1.6, 2.0), ("there", 2.0, 3.0)]
    timeline = SpeechTimeline.of_take(take_of((line,), {line.id: (0.0, 3.0)}, words, 3.0))
    assert timeline.at(0.5).word is None  # the voice clip plays: the line, no word of it yet
    assert timeline.at(1.7).chars_in(line) == (0, 2)


def test_words_stream_in_and_lines_start_as_their_first_word_comes(two_lines):
    first, second = two_lines
    timeline = SpeechTimeline.streaming(two_lines)
    assert timeline.line_starts == [(first.id, 0.0)]  # the first line starts with the take
    assert timeline.at(5.0).line_id == first.id and timeline.at(5.0).word is None
    assert [timeline.add_word(start) for start in (0.2, 0.5, 1.0)] == [False] * 3
    assert timeline.at(30.0).word == 2  # the last word known lasts until the next one comes
    assert timeline.add_word(2.0) is True
    assert timeline.line_starts == [(first.id, 0.0), (second.id, 2.0)]
    assert timeline.at(1.9).line_id == first.id and timeline.at(1.9).word == 2
    assert timeline.at(2.1).chars_in(second) == (0, 4)
    assert timeline.add_word(2.5) is False
    assert timeline.add_word(2.9) is False  # a word past the script's last: ignored
    assert timeline.at(9.0).chars_in(second) == (6, 10)


def test_a_line_of_only_a_pause_starts_where_the_next_line_does():
    lines = (DialogueLine(Speaker.S1, "a"), DialogueLine(Speaker.S2, '<break time="1s"/>'),
             DialogueLine(Speaker.S1, "b"))
    timeline = SpeechTimeline.streaming(lines)
    timeline.add_word(0.1)
    assert timeline.line_starts == [(lines[0].id, 0.0)]
    assert timeline.add_word(1.5) is True
    assert timeline.line_starts == [(lines[0].id, 0.0), (lines[1].id, 1.5), (lines[2].id, 1.5)]
    assert timeline.at(1.5).line_id == lines[2].id  # the pause line lasts no time: never heard


def test_streaming_and_the_finished_take_agree(two_lines):
    """The same words, streamed or assembled into a take, give the same answers."""
    starts = [("one", 0.16), ("two", 0.4), ("three", 0.8), ("four", 1.6), ("five", 2.0)]
    result = TakeResult(0, 1, GenerationParams(seed=1), np.zeros(24000 * 3, np.float32), 24000,
                        np.zeros((32, 0), np.int64), starts)
    finished = SpeechTimeline.of_take(take_from_result(result, two_lines))
    streamed = SpeechTimeline.streaming(two_lines)
    for _, start in starts:
        streamed.add_word(start)
    for seconds in np.arange(0.0, 2.99, 0.05):
        assert streamed.at(seconds) == finished.at(seconds), seconds
    assert streamed.line_starts == finished.line_starts


def test_lines_cut_from_two_takes_are_heard_where_they_are_laid():
    """Lines 1 and 3 from a take of all three, line 2 from a take that made it again reworded:
    laid end to end, each piece shifted to where the one before it ends."""
    first, old_second, third = (DialogueLine(Speaker.S1, "one two three"), DialogueLine(Speaker.S2, "four five"),
                                DialogueLine(Speaker.S1, "six seven"))
    second = DialogueLine(Speaker.S2, "now four five", id=old_second.id)
    everything = take_of((first, old_second, third),
                         {first.id: (0.0, 2.0), old_second.id: (2.0, 4.0), third.id: (4.0, 6.0)},
                         [("one", 0.2, 0.5), ("two", 0.5, 1.0), ("three", 1.0, 2.0), ("four", 2.0, 2.5),
                          ("five", 2.5, 4.0), ("six", 4.0, 5.0), ("seven", 5.0, 6.0)], 6.0)
    again = take_of((second,), {second.id: (0.0, 3.0)}, [("now", 0.0, 0.5), ("four", 0.5, 1.0), ("five", 1.0, 3.0)])
    # line 1 at 0-2 s as in its take, line 2 at 2-5 s (0-3 s of its take), line 3 at 5-7 s (4-6 s)
    timeline = SpeechTimeline.of_placed_lines([(everything, first.id, 0.0), (again, second.id, 2.0),
                                               (everything, third.id, 1.0)])

    assert timeline.line_starts == [(first.id, 0.0), (second.id, 2.0), (third.id, 5.0)]
    assert timeline.at(1.99).chars_in(first) == (8, 13)  # "three" lasts until the piece ends
    at_the_boundary = timeline.at(2.0)  # the next piece's first word starts right where it ends
    assert (at_the_boundary.line_id, at_the_boundary.word) == (second.id, 0)
    assert at_the_boundary.chars_in(second) == (0, 3)  # "now": the words of the take that is heard
    assert timeline.at(2.6).chars_in(second) == (4, 8)  # not the other take's "five" at 2.5 s
    assert timeline.at(3.5).chars_in(second) == (9, 13)
    assert timeline.at(3.5).chars_in(old_second) is None  # the text the other take spoke
    assert timeline.at(5.0).chars_in(third) == (0, 3)
    assert timeline.at(6.5).chars_in(third) == (4, 9)
    assert timeline.at(7.0) is None


def test_only_the_lines_laid_are_heard():
    line, other = DialogueLine(Speaker.S1, "a b"), DialogueLine(Speaker.S2, "c")
    take = take_of((line, other), {line.id: (0.0, 1.0), other.id: (1.0, 2.0)},
                   [("a", 0.0, 0.5), ("b", 0.5, 1.0), ("c", 1.0, 2.0)], 2.0)
    timeline = SpeechTimeline.of_placed_lines([(take, other.id, -1.0), (take, "a line of no take", 0.0)])
    assert timeline.line_starts == [(other.id, 0.0)]
    assert timeline.at(0.5).chars_in(other) == (0, 1) and timeline.at(1.0) is None
