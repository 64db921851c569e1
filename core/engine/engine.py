"""What the window, the command line and the server need of a model, wherever it runs.

An engine loads one model at a time and runs one generation at a time. Every call may block
(model work, a child process, the network): call them off the GUI thread. Requests and events are
those of ``core.dia2.events``, so the studio logic (``core.studio``) works the same against
every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from core.errors import DiaStudioError

if TYPE_CHECKING:  # types only: the window names its engine (``--engine``) before torch is imported
    import threading
    from collections.abc import Iterator

    import numpy as np
    import torch

    from core.dia2.checkpoint import ProgressCallback
    from core.dia2.events import GenerationEvent, GenerationRequest
    from core.dia2.prefix import SpokenContext, VoicePrompt
    from core.dia2.transcript_alignment import TimedWord
    from core.params import GenerationParams


class EngineKind(str, Enum):
    IN_PROCESS = "in-process"  # the studio's own process: nothing in between, nothing survives a crash
    OWN_PROCESS = "own-process"  # a child process: the editor survives whatever the model does
    REMOTE = "remote"  # a ``dia-studio serve`` elsewhere, by URL and key


@dataclass(frozen=True)
class ModelInfo:
    """The loaded model, as the status bar and the takes name it."""

    name: str  # a Hub id, or a local folder's full path (what takes record as their model)
    device: str  # "cpu", "cuda:0", "mps", or the remote machine's
    precision: str  # float32, bfloat16, int8
    sample_rate: int
    frame_rate: float
    weights_bytes: int


@dataclass(frozen=True)
class MemoryReport:
    """Memory the engine holds now; None where it cannot say."""

    process_bytes: int | None  # resident memory of the process the model runs in
    device_bytes: int | None  # allocated on the GPU (None on a processor)
    unavailable: str | None = None  # why the engine cannot say now (its server out of reach)
    warm_voices_bytes: int | None = None  # held by voice states kept for reuse (core/dia2/warm_states.py)


class NoModelLoaded(DiaStudioError):
    """A call that needs a model came before any was loaded (or after an unload)."""


class EngineFailed(DiaStudioError):
    """The engine stopped working (a crashed process, a lost connection); the message says why,
    and the next call starts it again where that can be done."""


class LiveTakeHandle(Protocol):
    """A live take on an engine, as ``core.dia2.live_take.LiveTake``: its text pushed while it is
    made. ``push_text``, ``end_text`` and ``cancel`` are thread-safe and never wait for the model
    (a relayed engine sends them between the events it reads); ``events()`` is iterated once, on
    one thread; ``close()`` cancels and gives the engine back if the events were never read."""

    def push_text(self, text: str) -> None: ...

    def end_text(self) -> None: ...

    def cancel(self) -> None: ...

    def events(self) -> Iterator[GenerationEvent]: ...

    def close(self) -> None: ...


class Engine(Protocol):
    kind: EngineKind

    @property
    def info(self) -> ModelInfo | None:
        """The loaded model; None before a load, after an unload, or after a crash that the engine
        cannot recover from by itself (own-process keeps it: its next call loads the model again)."""

    @property
    def sample_rate(self) -> int:
        """The loaded model's audio rate (what ``core.studio`` resamples voices and context to)."""

    speech_model: str | None
    """The Whisper model ``transcribe`` uses (a name or a .pt file; None: the default for the
    device); setting another one loads it at the next transcription."""

    def load(self, model: str, device: str = "auto", precision: str = "auto",
             progress: ProgressCallback | None = None) -> ModelInfo:
        """Load ``model`` (a studio model id, a Hub id or a folder the engine's machine can read),
        replacing the one loaded; ``progress`` reports download bytes and may raise to cancel."""

    def unload(self) -> None: ...

    def parse(self, script: str) -> None:
        """Refuse a script the model cannot speak (raises ``UnspeakableScript``)."""

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        """Mono float32 audio at ``sample_rate`` → Mimi codes [codebooks, frames] on the processor,
        as ``Dia2Runtime.encode_voice`` gives them."""

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> list[TimedWord]:
        """The words spoken in a voice reference, timed (Whisper, where the engine runs)."""

    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
        """Stream a request's events; setting ``cancel`` ends it with incomplete takes of what was
        made. A failure part way raises ``EngineFailed`` after the events already streamed."""

    def open_live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                       context: SpokenContext | None = None) -> LiveTakeHandle:
        """A take whose text is pushed while it is made; the engine is the take's until its events
        end (or it is closed). Raises ``GenerationBusy`` while the engine generates, and, for a
        relayed engine, fails as ``generate`` does: ``EngineFailed`` after the unfinished take."""

    def release_memory(self) -> None: ...

    def memory(self) -> MemoryReport: ...

    def close(self) -> None:
        """Stop the engine (its process, its connection); the object is not used again."""
