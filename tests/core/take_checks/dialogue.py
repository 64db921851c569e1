"""Two-speaker takes made of real speech (espeak-ng, tests/fixtures/dialogue/), clean or with one
known defect, in the form the checks read: the audio, each line's span and the model's word timings.

Word timings are spread over each line's sound by word length: close to where espeak-ng says each
word, which is all the checks that read them need (which words were said, where the last began)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile

from core.dia2.script import spoken_words
from core.dia2.transcript_alignment import TimedWord
from core.take_checks.take_checker import TakeToCheck, Voice, WrittenLine

FOLDER = Path(__file__).parents[2] / "fixtures" / "dialogue"
RATE = 16000
GAP_S = 0.3  # between lines
TEXTS = ("The weather is lovely today, shall we go for a walk in the park?",
         "I would love to, but I have to finish reading this book first.",
         "Bring the book along, we can read it together on the bench.",
         "That sounds like a wonderful plan, let me find my coat.")
SPEAKERS = ("S1", "S2", "S1", "S2")
REFERENCE_TEXTS = {"S1": "Hello there. This is the first speaker, talking for a few seconds so you can learn my voice.",
                   "S2": "Hi! I am the second speaker. I speak a little higher, and I like long walks."}


def clip(name: str) -> np.ndarray:
    samples, rate = soundfile.read(FOLDER / f"{name}.flac", dtype="float32")
    assert rate == RATE
    return samples


def voices() -> dict[str, Voice]:
    return {"S1": Voice(clip("s1-reference"), RATE), "S2": Voice(clip("s2-reference"), RATE)}


@dataclass(frozen=True)
class Part:
    """One line of a take as it is built: its speech, what is written, and the words timed in it."""

    speaker: str
    text: str
    audio: np.ndarray
    words: tuple[TimedWord, ...]  # from the line's start


def spread_words(text: str, audio: np.ndarray) -> tuple[TimedWord, ...]:
    """The line's words over its sound, each as long as its letters."""
    sound = np.flatnonzero(np.abs(audio) > 0.01)
    first, last = (sound[0], sound[-1]) if len(sound) else (0, len(audio))
    words = spoken_words(text)
    lengths = np.array([len(word) + 1 for word in words], dtype=float)
    starts = first / RATE + np.concatenate([[0], np.cumsum(lengths)[:-1]]) / lengths.sum() * (last - first) / RATE
    ends = list(starts[1:]) + [last / RATE]
    return tuple(TimedWord(word, float(start), float(end)) for word, start, end in zip(words, starts, ends))


def clean_parts() -> list[Part]:
    parts = []
    for index, (speaker, text) in enumerate(zip(SPEAKERS, TEXTS), start=1):
        audio = clip(f"{speaker.lower()}-line{index}")
        parts.append(Part(speaker, text, audio, spread_words(text, audio)))
    return parts


def take_of(parts: list[Part], *, with_voices: bool = True, with_words: bool = True,
            unspoken: tuple[str, ...] = ()) -> TakeToCheck:
    """The take these parts make, one after another with a short gap; ``unspoken`` lines are
    written after them but not in the take."""
    audio, lines, words, at = [], [], [], 0.0
    gap = np.zeros(int(GAP_S * RATE), dtype=np.float32)
    for part in parts:
        length = len(part.audio) / RATE
        lines.append(WrittenLine(part.speaker, part.text, (at, at + length + GAP_S)))
        words += [TimedWord(word.text, word.start_s + at, word.end_s + at) for word in part.words]
        audio += [part.audio, gap]
        at += length + GAP_S
    lines += [WrittenLine("S1", text, None) for text in unspoken]
    return TakeToCheck(np.concatenate(audio), RATE, tuple(lines), tuple(words) if with_words else None,
                       voices() if with_voices else {}, {"S1": "Ann", "S2": "Bob"})


# One defect each, always on line 3 (S1's second line) unless said otherwise.

def swapped(parts: list[Part]) -> list[Part]:
    """Line 3 spoken in the other speaker's voice."""
    audio = clip("s2-line3")
    return _with(parts, 2, audio=audio, words=spread_words(TEXTS[2], audio))


def silence_inside(parts: list[Part], seconds: float = 2.5) -> list[Part]:
    """Line 3 stops mid-sentence for ``seconds``, then goes on."""
    part = parts[2]
    middle = part.words[len(part.words) // 2].start_s - 0.02
    cut = int(middle * RATE)
    audio = np.concatenate([part.audio[:cut], np.zeros(int(seconds * RATE), np.float32), part.audio[cut:]])
    words = tuple(word if word.start_s < middle else TimedWord(word.text, word.start_s + seconds, word.end_s + seconds)
                  for word in part.words)
    return _with(parts, 2, audio=audio, words=words)


def cut_short(parts: list[Part]) -> list[Part]:
    """Line 3 ends after half its words: the words after the cut were never timed."""
    part = parts[2]
    keep = part.words[:len(part.words) // 2]
    end = int(part.words[len(keep)].start_s * RATE)
    return _with(parts, 2, audio=part.audio[:end], words=keep)


def runs_on(parts: list[Part]) -> list[Part]:
    """Line 3 goes on babbling after its last word."""
    part = parts[2]
    return _with(parts, 2, audio=np.concatenate([part.audio, clip("s1-babble")]))


def quiet(parts: list[Part], gain: float = 0.004) -> list[Part]:
    return _with(parts, 2, audio=parts[2].audio * gain)


def clipped(parts: list[Part], gain: float = 12.0) -> list[Part]:
    return _with(parts, 2, audio=np.clip(parts[2].audio * gain, -1.0, 1.0))


def _with(parts: list[Part], index: int, **changes) -> list[Part]:
    changed = list(parts)
    changed[index] = replace(parts[index], **changes)
    return changed
