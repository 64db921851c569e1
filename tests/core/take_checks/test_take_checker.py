"""Each check flags its one defect at the right line of a two-speaker take of real speech, and
nothing on the clean take; what a check lacks is said as "not checked", never passed."""

from dataclasses import replace

import pytest

from core.dia2.transcribe import NoSpeechFound
from core.dia2.transcript_alignment import TimedWord
from core.take_checks.speaker_encoder import LstmVoiceEncoder
from core.take_checks.take_checker import check_take
from core.take_checks.verdicts import FLAG_KINDS, CheckSettings, Verdict
from tests.core.take_checks import dialogue


@pytest.fixture(scope="module")
def encoder():
    return LstmVoiceEncoder()


def flags_by_line(report) -> dict[int, list[str]]:
    return {line.number: [flag.kind for flag in line.flags] for line in report.lines if line.flags}


def test_a_clean_take_passes_every_check(encoder):
    report = check_take(dialogue.take_of(dialogue.clean_parts()), encoder=encoder)
    assert flags_by_line(report) == {}
    assert report.score == 100
    assert [line.verdict for line in report.lines] == [Verdict.GOOD] * 4


@pytest.mark.parametrize("defect, kind, verdict", [
    (dialogue.swapped, "speaker", Verdict.BAD),
    (dialogue.silence_inside, "silence", Verdict.CHECK),
    (dialogue.cut_short, "missing_words", Verdict.BAD),
    (dialogue.runs_on, "overrun", Verdict.BAD),
    (dialogue.quiet, "quiet", Verdict.CHECK),
    (dialogue.clipped, "clipping", Verdict.BAD),
])
def test_each_defect_is_flagged_at_its_line_and_nowhere_else(encoder, defect, kind, verdict):
    report = check_take(dialogue.take_of(defect(dialogue.clean_parts())), encoder=encoder)
    flagged = flags_by_line(report)
    assert list(flagged) == [3], flagged
    assert flagged[3][0] == kind or kind in flagged[3]
    assert report.lines[2].verdict is verdict
    assert report.score < 100
    spot = next(flag.at_s for flag in report.lines[2].flags if flag.kind == kind)
    start, end = report.lines[2].span
    assert start <= spot <= end


def test_a_swapped_line_names_both_voices_and_their_similarities(encoder):
    report = check_take(dialogue.take_of(dialogue.swapped(dialogue.clean_parts())), encoder=encoder)
    detail = report.lines[2].flags[0].detail
    assert detail.startswith("sounds like Bob (S2): 0.")
    to_ann, to_bob = (float(part.split(" to ")[0].split()[-1]) for part in detail.split(": ")[1].split(", "))
    assert to_bob - to_ann > 0.15


def test_without_references_a_swap_is_found_against_the_speakers_other_lines(encoder):
    clean = check_take(dialogue.take_of(dialogue.clean_parts(), with_voices=False), encoder=encoder)
    swapped = check_take(dialogue.take_of(dialogue.swapped(dialogue.clean_parts()), with_voices=False),
                         encoder=encoder)
    assert flags_by_line(clean) == {}
    assert flags_by_line(swapped) == {3: ["speaker"]}


def test_two_voices_too_alike_are_not_checked_and_say_so(encoder):
    take = dialogue.take_of(dialogue.swapped(dialogue.clean_parts()))
    take = type(take)(take.samples, take.sample_rate, take.lines, take.words,
                      {"S1": take.voices["S1"], "S2": take.voices["S1"]}, take.names)
    report = check_take(take, encoder=encoder)
    assert "too alike to tell apart (1.00)" in report.notices[0]
    assert all("speaker" in line.not_checked for line in report.lines)
    assert flags_by_line(report) == {}


def test_a_take_that_ends_early_flags_the_lines_it_never_reached():
    take = dialogue.take_of(dialogue.clean_parts()[:2], unspoken=("And this one was never said.",))
    report = check_take(take)
    assert report.lines[2].span is None
    assert report.lines[2].verdict is Verdict.BAD
    assert "none of its 6 words were said" in report.lines[2].flags[0].detail


def test_the_missing_words_are_quoted_as_written():
    report = check_take(dialogue.take_of(dialogue.cut_short(dialogue.clean_parts())))
    assert report.lines[2].flags[0].detail == "the model did not say “read it together on the bench.” (6 of 12 words)"


def test_a_written_pause_excuses_a_silence_of_its_length():
    parts = dialogue.silence_inside(dialogue.clean_parts(), seconds=2.5)
    text = parts[2].text.replace("along,", 'along, <break time="2s"/>')
    parts[2] = dialogue.replace(parts[2], text=text)
    report = check_take(dialogue.take_of(parts))
    assert flags_by_line(report) == {}
    longer = dialogue.silence_inside(dialogue.clean_parts(), seconds=5.0)
    longer[2] = dialogue.replace(longer[2], text=text)
    assert "(2 s written)" in check_take(dialogue.take_of(longer)).lines[2].flags[0].detail


def test_what_a_check_lacks_is_not_checked_never_passed():
    report = check_take(dialogue.take_of(dialogue.cut_short(dialogue.clean_parts()), with_words=False))
    for line in report.lines:
        assert set(line.not_checked) == {"speaker", "missing_words", "overrun", "misheard_words"}
    # Without the timings a cut line is still found, by its pace: all its written words in half the time.
    assert flags_by_line(report) == {3: ["pace"]}
    assert report.lines[2].flags[0].detail.startswith("fast: ")
    assert any("Whisper" in notice for notice in report.notices)
    assert any("speaker encoder" in notice for notice in report.notices)


class ScriptedTranscriber:
    """Hears the lines, in the order they are checked, as scripted."""

    def __init__(self, *heard: str):
        self.heard = list(heard)

    def transcribe(self, samples, sample_rate):
        return [TimedWord(word, 0.1 * index, 0.1 * index + 0.1) for index, word in enumerate(self.heard.pop(0).split())]


def test_whisper_hearing_other_words_flags_the_line_with_what_it_heard():
    transcriber = ScriptedTranscriber(
        dialogue.TEXTS[0].upper(),  # case and punctuation are not errors
        "I'd love to but I have to finish reading this book first",  # nor a contraction
        "Bring the cook along we can read it together on the bench and then some",
        dialogue.TEXTS[3])
    report = check_take(dialogue.take_of(dialogue.clean_parts()), transcriber=transcriber)
    assert flags_by_line(report) == {3: ["misheard_words"]}
    detail = report.lines[2].flags[0].detail
    assert "heard “cook” for “book”" in detail and "heard extra “and then some”" in detail
    assert "word error rate 33%" in detail
    assert report.lines[2].verdict is Verdict.CHECK
    assert all("misheard_words" not in line.not_checked for line in report.lines)


def test_a_line_a_lexicon_respelled_is_heard_against_what_the_model_read():
    take = dialogue.take_of(dialogue.clean_parts())
    read = dialogue.TEXTS[2].replace("book", "volume")  # the lexicon said: book → volume
    lines = list(take.lines)
    lines[2] = replace(lines[2], read_as=read)
    take = replace(take, lines=tuple(lines))
    heard = ScriptedTranscriber(dialogue.TEXTS[0], dialogue.TEXTS[1], read, dialogue.TEXTS[3])
    assert flags_by_line(check_take(take, transcriber=heard)) == {}
    as_written = ScriptedTranscriber(*dialogue.TEXTS)  # the written word, which the model did not read
    strict = CheckSettings(misheard_check_rate=0.05)  # one word in twelve
    flags = check_take(take, strict, transcriber=as_written).lines[2].flags
    assert [flag.kind for flag in flags] == ["misheard_words"] and "“book” for “volume”" in flags[0].detail


def test_a_line_whisper_hears_no_speech_in_is_bad():
    class DeafToLine2(ScriptedTranscriber):
        def transcribe(self, samples, sample_rate):
            if len(self.heard) == 3:
                self.heard.pop(0)
                raise NoSpeechFound("No speech was found")
            return super().transcribe(samples, sample_rate)

    report = check_take(dialogue.take_of(dialogue.clean_parts()), transcriber=DeafToLine2(*dialogue.TEXTS))
    assert flags_by_line(report) == {2: ["misheard_words"]}
    assert report.lines[1].flags[0].detail.startswith("not heard “")
    assert report.lines[1].verdict is Verdict.BAD


def test_a_line_whisper_barely_recognises_is_bad():
    transcriber = ScriptedTranscriber(dialogue.TEXTS[0], "mm hmm", dialogue.TEXTS[2], dialogue.TEXTS[3])
    report = check_take(dialogue.take_of(dialogue.clean_parts()), transcriber=transcriber)
    assert report.lines[1].verdict is Verdict.BAD
    assert "not heard" in report.lines[1].flags[0].detail


def test_the_report_as_json_names_kinds_verdicts_and_score(encoder):
    report = check_take(dialogue.take_of(dialogue.swapped(dialogue.clean_parts())), encoder=encoder)
    data = report.as_json()
    assert data["score"] == report.score == 75
    assert data["lines"][2]["verdict"] == "bad" and data["lines"][2]["flags"][0]["kind"] == "speaker"
    assert data["lines"][0] == {"line": 1, "speaker": "S1", "verdict": "good", "start": 0.0,
                                "end": data["lines"][0]["end"], "flags": [], "notChecked": ["misheard_words"]}
    assert {flag["kind"] for line in data["lines"] for flag in line["flags"]} <= set(FLAG_KINDS)


def test_thresholds_are_settings():
    take = dialogue.take_of(dialogue.silence_inside(dialogue.clean_parts(), seconds=2.5))
    assert flags_by_line(check_take(take, CheckSettings(silence_s=3.0))) == {}
