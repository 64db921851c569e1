"""A take → its report: every line cut from the take by its span and checked.

What a check needs and lacks is said, never passed over: without the model's word timings the
words it did not say and run-on speech are "not checked", without a Whisper model the words a
listener does not hear, without a speaker encoder (or two voices too alike) the speakers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from core.dia2.script import spoken_words
from core.dia2.transcript_alignment import TimedWord
from core.take_checks import line_checks
from core.take_checks.line_checks import SpokenLine
from core.take_checks.loudness import Frames
from core.take_checks.speaker_encoder import SpeakerEncoder
from core.take_checks.speakers import speaker_flags
from core.take_checks.verdicts import CheckSettings, Flag, LineReport, TakeReport, Verdict

TYPICAL_S_PER_WORD = 0.4  # the pace a take of one line is held to


@dataclass(frozen=True)
class WrittenLine:
    speaker: str  # "S1", "S2"
    text: str  # as written: cues and pause tags included
    span: tuple[float, float] | None  # where the take speaks it; None: the take ends before it
    read_as: str | None = None  # what the model read, where a pronunciation lexicon respelled it


@dataclass(frozen=True)
class Voice:
    """A speaker's voice reference, for the speaker check."""

    samples: np.ndarray
    sample_rate: int


@dataclass(frozen=True)
class TakeToCheck:
    samples: np.ndarray  # mono floats
    sample_rate: int
    lines: tuple[WrittenLine, ...]
    words: tuple[TimedWord, ...] | None  # the model's word timings; None when unknown
    voices: Mapping[str, Voice] = field(default_factory=dict)  # by speaker tag
    names: Mapping[str, str] = field(default_factory=dict)  # by speaker tag, as the person named them


def check_take(take: TakeToCheck, settings: CheckSettings = CheckSettings(), encoder: SpeakerEncoder | None = None,
               transcriber=None) -> TakeReport:
    """Check every line of ``take``. ``encoder`` judges voices, ``transcriber`` (anything with
    ``transcribe(samples, sample_rate)`` → timed words, as the engines' Whisper) hears the words."""
    spoken = [_spoken(number, line, take, settings) for number, line in enumerate(take.lines, start=1)
              if line.span is not None]
    not_checked: dict[int, list[str]] = {line.number: [] for line in spoken}
    flags: dict[int, list[Flag]] = {line.number: [] for line in spoken}
    notices: list[str] = []
    if encoder is None:
        notices.append("No speaker encoder: speakers were not checked.")
        unchecked = set(not_checked)
    else:
        references = {tag: encoder.embed(voice.samples, voice.sample_rate) for tag, voice in take.voices.items()}
        found, unchecked, said = speaker_flags(spoken, references, take.names, encoder, settings)
        notices += said
        for number, line_flags in found.items():
            flags[number] += line_flags
    for number in unchecked:
        not_checked[number].append("speaker")
    paces = {line.number: line_checks.seconds_per_word(line) for line in spoken}
    levels = {line.number: line.frames.speech_level_dbfs() for line in spoken}
    for line in spoken:
        found = flags[line.number]
        if take.words is None:
            not_checked[line.number] += ["missing_words", "overrun"]
        else:
            found += line_checks.missing_words(line) + line_checks.overrun(line, settings)
        if transcriber is None:
            not_checked[line.number].append("misheard_words")
        else:
            found += line_checks.misheard_words(line, transcriber, settings)
        take_pace = line_checks.median([pace for number, pace in paces.items() if number != line.number])
        found += line_checks.silences(line, settings) + line_checks.pace(line, take_pace or TYPICAL_S_PER_WORD,
                                                                          settings)
        found += line_checks.clipping(line, settings)
        found += line_checks.quiet(line, line_checks.median([level for number, level in levels.items()
                                                             if number != line.number]), settings)
    reports = []
    for number, line in enumerate(take.lines, start=1):
        if line.span is None:
            reports.append(_unspoken(number, line, take))
        else:
            reports.append(LineReport(number, line.speaker, line.span, tuple(flags[number]),
                                      tuple(not_checked[number])))
    if transcriber is None:
        notices.append("No Whisper model: the words a listener hears were not checked.")
    return TakeReport(tuple(reports), tuple(notices))


def _spoken(number: int, line: WrittenLine, take: TakeToCheck, settings: CheckSettings) -> SpokenLine:
    start_s, end_s = line.span
    first, last = int(round(start_s * take.sample_rate)), int(round(end_s * take.sample_rate))
    samples = take.samples[first:last]
    words = tuple(word for word in take.words or () if start_s <= word.start_s < end_s)
    return SpokenLine(number, line.speaker, line.text, start_s, samples, take.sample_rate, words,
                      Frames.of(samples, take.sample_rate, settings.silent_below_peak_db), line.read_as)


def _unspoken(number: int, line: WrittenLine, take: TakeToCheck) -> LineReport:
    end = len(take.samples) / take.sample_rate
    words = spoken_words(line.text)
    flag = Flag("missing_words", f"the take ends before this line: none of its {len(words)} words were said",
                Verdict.BAD, end)
    return LineReport(number, line.speaker, None, (flag,))
