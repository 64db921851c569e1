"""The checks one line of a take gets from its own audio and words: words the model never said,
words a listener does not hear, silences, run-on speech, pace, clipping and a level too low.
Each returns its flags; the speaker check, which needs the whole take, is in ``speakers``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.dia2.script import spoken_words
from core.dia2.transcript_alignment import TimedWord
from core.take_checks.loudness import Frames, clipped_samples
from core.take_checks.verdicts import CheckSettings, Flag, Verdict
from core.take_checks.words import break_seconds, comparable, compare_words, listener_words, quoted

# A word takes about this long to say, plus this much per letter: how long the last word of a
# line may sound after it starts before the speech counts as running on.
WORD_BASE_S, WORD_PER_LETTER_S = 0.25, 0.07
PAUSE_S = 0.33  # a silence this long is a pause, not part of speaking a phrase


@dataclass(frozen=True)
class SpokenLine:
    """One line as the take speaks it."""

    number: int
    speaker: str
    text: str  # as written: cues and pause tags included
    start_s: float  # in the take
    samples: np.ndarray  # its stretch of the take
    sample_rate: int
    words: tuple[TimedWord, ...]  # the model's timings that fall in it, in the take's seconds
    frames: Frames
    read_as: str | None = None  # what the model read, where a pronunciation lexicon respelled it

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.samples) / self.sample_rate


def missing_words(line: SpokenLine) -> list[Flag]:
    """Written words the model never timed: the context ran out, or the take was cut."""
    written = spoken_words(line.text)
    timed = [comparable(word.text) for word in line.words]
    diff = compare_words([comparable(word) for word in written], timed)
    if not diff.missing:
        return []
    # Quote the words as written, in order: the comparison dropped their punctuation.
    left = list(diff.missing)
    unsaid = []
    for word in written:
        if left and comparable(word) == left[0]:
            unsaid.append(word)
            left.pop(0)
    share = len(diff.missing) / max(1, len(written))
    return [Flag("missing_words", f"the model did not say {quoted(unsaid)} ({len(diff.missing)} of {len(written)} "
                 "words)", Verdict.BAD if share > 0.2 or len(diff.missing) > 2 else Verdict.CHECK, line.end_s)]


def misheard_words(line: SpokenLine, transcriber, settings: CheckSettings) -> list[Flag]:
    """Whisper's hearing of the line against its text, both as a listener would write them."""
    try:
        words = transcriber.transcribe(line.samples, line.sample_rate)
    except Exception as error:
        from core.dia2.transcribe import NoSpeechFound  # Whisper's module: loaded already when it raised

        if not isinstance(error, NoSpeechFound):
            raise
        words = []  # a line it hears nothing of: every word unheard
    heard = " ".join(word.text for word in words)
    # A listener hears what the model read: the lexicon's respelling, not the written word.
    diff = compare_words(listener_words(line.read_as or line.text), listener_words(heard))
    rate = diff.error_rate
    if rate < settings.misheard_check_rate:
        return []
    parts = []
    if diff.missing:
        parts.append(f"not heard {quoted(diff.missing)}")
    if diff.changed:
        parts.append("heard " + ", ".join(f"“{said}” for “{written}”" for written, said in diff.changed[:4]))
    if diff.extra:
        parts.append(f"heard extra {quoted(diff.extra)}")
    severity = Verdict.BAD if rate >= settings.misheard_bad_rate else Verdict.CHECK
    return [Flag("misheard_words", f"{'; '.join(parts)} (word error rate {rate:.0%})", severity, line.start_s)]


def silences(line: SpokenLine, settings: CheckSettings) -> list[Flag]:
    """Silences inside the line longer than allowed: each written pause excuses one gap of its length."""
    gaps = sorted(line.frames.inner_silences(), key=lambda gap: -gap[1])
    pauses = sorted(break_seconds(line.text), reverse=True)
    flags = []
    for index, (start, length) in enumerate(gaps):
        allowed = settings.silence_s + (pauses[index] if index < len(pauses) else 0.0)
        if length <= allowed:
            continue
        severity = Verdict.BAD if length > allowed + settings.silence_bad_s else Verdict.CHECK
        written = f" ({pauses[index]:g} s written)" if index < len(pauses) else ""
        flags.append(Flag("silence", f"{length:.1f} s of silence inside the line{written}", severity,
                          line.start_s + start))
    return sorted(flags, key=lambda flag: flag.at_s)


def overrun(line: SpokenLine, settings: CheckSettings) -> list[Flag]:
    """Sound long after the last word should have ended: babble, or a line that will not stop."""
    if not line.words:
        return []
    last = line.words[-1]
    expected_end = last.start_s + WORD_BASE_S + WORD_PER_LETTER_S * len(comparable(last.text))
    after = int(max(0.0, expected_end - line.start_s) / 0.01)
    sound_after = float(line.frames.sounding[after:].sum()) * 0.01
    if sound_after <= settings.overrun_s:
        return []
    severity = Verdict.BAD if sound_after > 2 * settings.overrun_s else Verdict.CHECK
    return [Flag("overrun", f"{sound_after:.1f} s of sound after the last word “{last.text}”", severity, expected_end)]


def seconds_per_word(line: SpokenLine) -> float | None:
    """The line's pace: its speaking time (pauses of a third of a second or more left out) per word
    said (per written word, cues apart, when the timings are unknown); None for lines too short to tell."""
    said = len(line.words) if line.words else len([word for word in spoken_words(line.text)
                                                   if not word.startswith("(")])
    bounds = line.frames.first_and_last_sound_s()
    if said < 3 or bounds is None:
        return None
    pauses = sum(length for _, length in line.frames.inner_silences() if length >= PAUSE_S)
    return max(0.0, bounds[1] - bounds[0] - pauses) / said


def pace(line: SpokenLine, take_pace: float | None, settings: CheckSettings) -> list[Flag]:
    own = seconds_per_word(line)
    if own is None or take_pace is None:
        return []
    ratio = own / take_pace
    if 1 / settings.pace_ratio <= ratio <= settings.pace_ratio:
        return []
    how = "slow" if ratio > 1 else "fast"
    return [Flag("pace", f"{how}: {own:.2f} s per word, the take's pace is {take_pace:.2f}", Verdict.CHECK,
                 line.start_s)]


def clipping(line: SpokenLine, settings: CheckSettings) -> list[Flag]:
    count, first = clipped_samples(line.samples)
    share = count / max(1, len(line.samples))
    if share < settings.clipped_share:
        return []
    severity = Verdict.BAD if share >= 10 * settings.clipped_share else Verdict.CHECK
    return [Flag("clipping", f"{share:.1%} of its samples at full scale", severity,
                 line.start_s + first / line.sample_rate)]


def quiet(line: SpokenLine, take_level: float | None, settings: CheckSettings) -> list[Flag]:
    level = line.frames.speech_level_dbfs()
    if level is None:
        return [Flag("quiet", "nothing to hear: the line is silent", Verdict.BAD, line.start_s)]
    too_quiet = level < settings.quiet_dbfs
    below_take = take_level is not None and take_level - level > settings.quiet_below_take_db
    if not (too_quiet or below_take):
        return []
    beside = f", the take's lines {take_level:.0f} dBFS" if take_level is not None else ""
    return [Flag("quiet", f"speech at {level:.0f} dBFS{beside}", Verdict.CHECK, line.start_s)]


def median(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return float(np.median(known)) if known else None
