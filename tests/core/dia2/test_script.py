"""parse_script: the reference parser's rules, checked with the fixture's real tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.dia2.script import (
    MAX_BREAK_SECONDS,
    Entry,
    UnspeakableScript,
    normalize,
    parse_script,
)
from core.dia2.tokenizer import TextTokenizer
from core.errors import DiaStudioError

CHECKPOINT = Path(__file__).resolve().parents[2] / "fixtures" / "dia2_parity" / "checkpoint"
FRAME_RATE = 12.5  # Mimi's frame rate


@pytest.fixture(scope="module")
def tokenizer() -> TextTokenizer:
    return TextTokenizer(CHECKPOINT)


@pytest.fixture(scope="module")
def s1(tokenizer) -> int:
    return tokenizer.speaker_ids["[S1]"]


@pytest.fixture(scope="module")
def s2(tokenizer) -> int:
    return tokenizer.speaker_ids["[S2]"]


@pytest.fixture
def parse(tokenizer, s1):
    def run(script: str, **options) -> list[Entry]:
        return parse_script(script, tokenizer.encode, s1, FRAME_RATE, **options)
    return run


def refusal(parse, script: str, **options) -> str:
    with pytest.raises(UnspeakableScript) as raised:
        parse(script, **options)
    assert isinstance(raised.value, DiaStudioError)
    return str(raised.value)


def test_fixture_speaker_ids(s1, s2):
    assert (s1, s2) == (384, 385)


def test_words_are_tokenized_one_by_one_with_tags_glued_and_hold_their_token_count(parse, tokenizer, s1, s2):
    entries = parse("[S1] Hello there. [S2] Hi!")
    assert [e.text for e in entries] == ["Hello", "there.", "Hi!"]
    assert entries[0].tokens == tuple(tokenizer.encode("[S1] Hello"))
    assert entries[0].tokens[0] == s1
    assert entries[1].tokens == tuple(tokenizer.encode("there."))  # no leading space merged in
    assert entries[2].tokens == tuple(tokenizer.encode("[S2] Hi!"))
    assert entries[2].tokens[0] == s2
    assert [e.hold for e in entries] == [len(e.tokens) for e in entries]
    assert not any(e.is_break for e in entries)


def test_whitespace_of_any_kind_separates_words(parse):
    entries = parse("[S1]  one\ttwo\n\nthree   ")
    assert [e.text for e in entries] == ["one", "two", "three"]


def test_curly_apostrophe_becomes_straight(parse):
    assert normalize("don\u2019t") == "don't"
    curly, straight = parse("[S1] don\u2019t"), parse("[S1] don't")
    assert curly == straight
    assert curly[0].text == "don't"


def test_colon_becomes_a_space(parse, tokenizer):
    assert normalize("Note:this") == "Note this"
    entries = parse("[S1] Note:this")
    assert [e.text for e in entries] == ["Note", "this"]
    assert entries[1].tokens == tuple(tokenizer.encode("this"))


def test_first_entry_gets_s1_when_it_has_no_tag(parse, tokenizer, s1):
    entries = parse("Hello world")
    assert entries[0].tokens == (s1, *tokenizer.encode("Hello"))
    assert entries[0].hold == len(entries[0].tokens)
    assert entries[1].tokens == tuple(tokenizer.encode("world"))


def test_first_entry_with_s1_is_not_given_a_second_one(parse, s1):
    entries = parse("[S1] Hello")
    assert entries[0].tokens.count(s1) == 1


def test_a_script_starting_with_s2_gets_s1_in_front(parse, tokenizer, s1, s2):
    # The reference's quirk: [S1][S2]... for a script that opens with speaker 2.
    entries = parse("[S2] Hello")
    assert entries[0].tokens == (s1, *tokenizer.encode("[S2] Hello"))
    assert entries[0].tokens[:2] == (s1, s2)


def test_force_first_speaker_false_leaves_the_first_entry_alone(parse, tokenizer, s1):
    entries = parse("muffled robotic", force_first_speaker=False)
    assert entries[0].tokens == tuple(tokenizer.encode("muffled"))
    assert s1 not in entries[0].tokens


def test_consecutive_tags_are_glued_to_the_next_word(parse, tokenizer, s1, s2):
    entries = parse("[S1] Hi [S2] [S1] there")
    assert [e.text for e in entries] == ["Hi", "there"]
    assert entries[1].tokens == tuple(tokenizer.encode("[S2] [S1] there"))
    tokens = entries[1].tokens
    assert tokens[0] == s2 and tokens.index(s1) > 0 and tokens.count(s1) == 1


@pytest.mark.parametrize("script, tag", [("[S3] Hello", "[S3]"), ("[S1] Hi [S0] there", "[S0]"),
                                         ("[S1] Call [S12]", "[S12]")])
def test_a_tag_for_a_speaker_dia2_does_not_have_is_refused_not_read_out(parse, script, tag):
    message = refusal(parse, script)
    assert message.startswith(f"{tag} is not a speaker tag") and "[S1] and [S2]" in message


def test_non_verbal_cues_are_ordinary_words(parse, tokenizer):
    entries = parse("[S1] Well (laughs) yes")
    assert [e.text for e in entries] == ["Well", "(laughs)", "yes"]
    assert entries[1].tokens == tuple(tokenizer.encode("(laughs)"))


@pytest.mark.parametrize("seconds, frames", [
    ("1", 12),      # 12.5 rounds half to even
    ("0.2", 2),     # 2.5 -> 2
    ("0.6", 8),     # 7.5 -> 8
    ("0.04", 0),    # 0.5 -> 0
    ("0.12", 2),    # 1.5 -> 2
    ("1.5", 19),    # 18.75
    ("2", 25),
    (".5", 6),      # 6.25
    ("3.", 38),     # 37.5 -> 38
    ("10", 125),    # the longest pause allowed
], ids=lambda v: str(v))
def test_break_frames_round_half_to_even(parse, seconds, frames):
    entries = parse(f'[S1] Wait <break time="{seconds}s"/> now')
    assert [e.text for e in entries] == ["Wait", "", "now"]
    pause = entries[1]
    assert pause.is_break and pause.tokens == () and pause.hold == frames


def test_break_tag_spacing_variants_and_no_surrounding_spaces(parse):
    entries = parse('[S1] a<break  time = " 1 s " />b<break time="0.6s"/>c')
    assert [(e.text, e.hold) for e in entries if e.is_break] == [("", 12), ("", 8)]
    assert [e.text for e in entries if not e.is_break] == ["a", "b", "c"]


def test_break_longer_than_the_limit_is_refused(parse):
    assert MAX_BREAK_SECONDS == 10.0
    message = refusal(parse, '[S1] Wait <break time="10.01s"/> now')
    assert "10.01 s is too long" in message and "10 s" in message


@pytest.mark.parametrize("duration", ["", "1", "1.5", "abc", "-1s", "1.5ms", "1,5s", "1e1s", "s", "1.2.3s", "2 sec"])
def test_malformed_break_duration_is_refused(parse, duration):
    message = refusal(parse, f'[S1] Wait <break time="{duration}"/> now')
    assert f'<break time="{duration}"/>' in message and "seconds" in message


def test_tag_at_the_end_is_refused(parse):
    assert "[S2]" in refusal(parse, "[S1] Hello [S2]")
    assert "[S1]" in refusal(parse, "[S1]")
    assert "[S2]" in refusal(parse, '[S1] Hello [S2] <break time="1s"/>')


@pytest.mark.parametrize("script", ["", "   \n\t", '<break time="1s"/>', '<break time="1s"/> <break time="2s"/>'],
                         ids=["empty", "blank", "one-break", "two-breaks"])
def test_script_without_words_is_refused(parse, script):
    assert "no words" in refusal(parse, script)


def test_script_starting_with_a_pause_is_refused(parse):
    assert "starts with a pause" in refusal(parse, '<break time="1s"/> [S1] Hello')


def test_negative_prompt_may_start_with_a_pause(parse):
    entries = parse('<break time="1s"/> muffled', force_first_speaker=False)
    assert (entries[0].is_break, entries[0].hold) == (True, 12)
    assert entries[1].text == "muffled"


def test_frame_rate_is_the_callers(tokenizer, s1):
    entries = parse_script('[S1] a <break time="1s"/> b', tokenizer.encode, s1, 25.0)
    assert entries[1].hold == 25
