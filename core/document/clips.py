"""Audio held by the document (a take's or a voice's), and the timed words heard in it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from core.dia2.transcript_alignment import TimedWord
from core.document.errors import DialogueError
from core.document.ids import new_id


def check_times(start_s: object, end_s: object, what: str) -> None:
    for value in (start_s, end_s):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DialogueError(f"{what}: {value!r} is not a time in seconds.")
    if not 0 <= start_s <= end_s:
        raise DialogueError(f"{what}: it starts at {start_s} s and ends at {end_s} s; "
                            "times must be ≥ 0 and the start not after the end.")


def timed_words(words: Iterable[TimedWord | Iterable]) -> tuple[TimedWord, ...]:
    """Checked :class:`TimedWord` values (a word heard in a clip, with where it starts and ends,
    in seconds from the clip's start), from timed words or ``(word, start_s, end_s)`` triples."""
    checked = []
    for number, item in enumerate(words, 1):
        if isinstance(item, TimedWord):
            item = (item.text, item.start_s, item.end_s)
        try:
            word, start_s, end_s = item
        except (TypeError, ValueError):
            raise DialogueError(f"Word {number}: expected (word, start_s, end_s), found {item!r}.") from None
        if not isinstance(word, str):
            raise DialogueError(f"Word {number}: {word!r} is not text.")
        check_times(start_s, end_s, f"Word {number} ({word!r})")
        checked.append(TimedWord(word, float(start_s), float(end_s)))
    return tuple(checked)


class AudioClip:
    """Mono float32 audio of a take or a voice; its content never changes once made.

    It is held in memory (just generated or recorded) or read on demand from the project file
    it is stored in. Clips are equal when they have the same id, so a take reopened from disk
    equals the take that was saved.
    """

    def __init__(self, sample_rate: int, frame_count: int, load: Callable[[], np.ndarray],
                 *, clip_id: str | None = None, file: Path | None = None):
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise DialogueError(f"A sample rate must be a positive whole number of Hz, not {sample_rate!r}.")
        self.id = clip_id or new_id()
        self.sample_rate = sample_rate
        self.frame_count = frame_count
        self.file = file  # where the samples are stored; None while they only live in memory
        self._load = load

    @classmethod
    def from_samples(cls, samples: np.ndarray, sample_rate: int) -> AudioClip:
        """A clip holding a private, read-only copy of ``samples``."""
        array = np.array(samples, dtype=np.float32)
        if array.ndim != 1:
            raise DialogueError(f"Audio must be mono (one channel); got an array of shape {array.shape}.")
        array.flags.writeable = False
        return cls(sample_rate, len(array), lambda: array)

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.sample_rate

    def samples(self) -> np.ndarray:
        """The samples, mono float32 in [-1, 1]; read from the file each time when stored in one."""
        return self._load()

    def between(self, start_s: float, end_s: float, samples: np.ndarray | None = None) -> np.ndarray:
        """The samples from ``start_s`` to ``end_s``: cut from ``samples`` when the caller has
        already read them (a file is decoded each time it is read)."""
        samples = self.samples() if samples is None else samples
        return samples[round(start_s * self.sample_rate):round(end_s * self.sample_rate)]

    def keep_in_memory(self) -> None:
        """Hold the samples in memory from now on, so the file they came from may be deleted."""
        if self.file is not None:
            array = self._load()
            self._load = lambda: array
            self.file = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioClip):
            return NotImplemented
        return ((self.id, self.sample_rate, self.frame_count)
                == (other.id, other.sample_rate, other.frame_count))

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        where = f", file={str(self.file)!r}" if self.file else ""
        return f"AudioClip(id={self.id!r}, {self.duration_s:.2f} s at {self.sample_rate} Hz{where})"
