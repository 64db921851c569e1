"""What a generation is asked and what it answers: the request, the events of its stream (audio
chunks, word timings, progress, stalls, finished takes) and its errors. Every face and relay
(a pipe, a socket, a Ray stream) speaks these types, so this module stays light: no torch, so
that importing it never loads the model's libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.errors import DiaStudioError
from core.params import GenerationParams

if TYPE_CHECKING:
    from core.dia2.prefix import SpokenContext, VoicePrompt

# While a take waits for text, it says so this often.
STALL_REPORT_S = 0.5


@dataclass(frozen=True)
class GenerationRequest:
    script: str
    params: GenerationParams
    voices: tuple[VoicePrompt, ...] = ()
    context: SpokenContext | None = None  # the lines before the script, replayed after the voices
    # Only TakeStarted and TakeResult events: for callers that keep finished takes (API tasks,
    # batch renders), so that a relay (a pipe, a Ray stream) carries nothing per frame.
    takes_only: bool = False


@dataclass(frozen=True)
class TakeStarted:
    take: int
    seed: int


@dataclass(frozen=True)
class AudioChunk:
    take: int
    samples: np.ndarray  # float32 mono at the codec's sample rate
    start_s: float
    # The Mimi codes [codebooks, frames] (int64) the samples were decoded from: whoever relays the
    # stream (another process, a server) can rebuild what was made if the take never finishes.
    codes: np.ndarray | None = None


@dataclass(frozen=True)
class WordTiming:
    take: int
    word: str
    start_s: float


@dataclass(frozen=True)
class Progress:
    take: int
    frames: int  # generation steps run so far in this take
    audio_s: float  # seconds of audio streamed so far
    elapsed_s: float

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio made per second of compute (above 1 is faster than real time)."""
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class TakeResult:
    take: int
    seed: int
    params: GenerationParams
    audio: np.ndarray
    sample_rate: int
    codes: np.ndarray | None  # [codebooks, frames] of the audio; None when they were lost (a relay cut)
    words: list[tuple[str, float]]
    complete: bool = True  # False when cancelled: what was made so far
    notices: list[str] = field(default_factory=list)
    # The model that made it, as loaded (a Hub id or a local folder's path); params.model names
    # only the model the request asked for.
    model: str | None = None


@dataclass(frozen=True)
class Stalled:
    """The take waits for text: a word is due and it, or the word its look-ahead reads, has not
    arrived (a live take only). Sent when the wait begins (``waiting_s`` 0) and every
    ``STALL_REPORT_S`` while it lasts, with the time waited so far."""

    take: int
    waiting_s: float


class GenerationStalled(DiaStudioError):
    """The model cannot make progress on the script (its context is too small for it)."""


class GenerationBusy(DiaStudioError):
    """The model is generating already: its caches serve one generation at a time."""


class InvalidContext(DiaStudioError):
    """The lines given as context do not fit this model (codes or words that do not match)."""


GenerationEvent = TakeStarted | AudioChunk | WordTiming | Progress | Stalled | TakeResult
