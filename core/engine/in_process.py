"""The engine in the studio's own process: a ``Dia2Runtime`` called directly, nothing in between
(the fastest, and the one a crash of the model takes down with it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np
import torch

from core.dia2.checkpoint import ProgressCallback
from core.dia2.events import GenerationEvent, GenerationRequest
from core.dia2.live_take import LiveTake
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.transcript_alignment import TimedWord
from core.engine.engine import EngineKind, MemoryReport, ModelInfo, NoModelLoaded
from core.engine.memory import device_bytes, process_bytes
from core.params import GenerationParams

# (model, device=..., dtype=..., progress=...) -> a runtime: Dia2Runtime.load, or a stand-in in tests
RuntimeLoader = Callable[..., object]


class InProcessEngine:
    kind = EngineKind.IN_PROCESS

    def __init__(self, loader: RuntimeLoader | None = None, speech_model: str | None = None,
                 on_speech_model_load: Callable[[str], None] | None = None, threads: int | None = None,
                 warm_voices_bytes: int | None = None):
        """``loader``: what loads a runtime (default ``Dia2Runtime.load``); ``speech_model``: the
        Whisper model voices are transcribed with (None: the default for the device);
        ``on_speech_model_load`` is told its name just before it loads (minutes, when downloaded);
        ``threads``: torch's threads on a processor (None: ``generation_threads()``);
        ``warm_voices_bytes``: the most the voice states kept for reuse may hold (None: the
        runtime's default)."""
        self._loader = loader
        self._threads = threads
        self._warm_voices_bytes = warm_voices_bytes
        self._speech_model = speech_model
        self._on_speech_model_load = on_speech_model_load
        self._transcriber = None
        self._transcriber_made = threading.Lock()  # a server transcribes from several threads: one Whisper
        self.runtime = None
        self._info: ModelInfo | None = None

    @property
    def info(self) -> ModelInfo | None:
        return self._info

    @property
    def sample_rate(self) -> int:
        return self._loaded().sample_rate

    @property
    def speech_model(self) -> str | None:
        return self._speech_model

    @speech_model.setter
    def speech_model(self, name: str | None) -> None:
        if name != self._speech_model:
            self._speech_model, self._transcriber = name, None  # the next transcription loads it

    def load(self, model: str, device: str = "auto", precision: str = "auto",
             progress: ProgressCallback | None = None) -> ModelInfo:
        loader = self._loader
        if loader is None:
            from core.dia2.runtime import Dia2Runtime  # here: it imports transformers (seconds)

            loader = Dia2Runtime.load
        threads = {} if self._threads is None else {"threads": self._threads}
        runtime = loader(model, device=device, dtype=precision, progress=progress, **threads)
        if self._warm_voices_bytes is not None and _warm_states(runtime) is not None:
            _warm_states(runtime).max_bytes = self._warm_voices_bytes
        self.runtime, self._info = runtime, model_info(runtime)
        runtime.release_memory()  # collects the model this one replaces
        return self._info

    def unload(self) -> None:
        runtime, self.runtime, self._info = self.runtime, None, None
        if runtime is not None:
            del runtime
            self.release_memory()

    def parse(self, script: str) -> None:
        self._loaded().parse(script)

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        return self._loaded().encode_voice(samples)

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> list[TimedWord]:
        with self._transcriber_made:
            if self._transcriber is None:
                from core.dia2.transcribe import WhisperTranscriber  # imports Whisper: only when a voice needs it

                # On the model's device once one is loaded; before, the default (CUDA when there is one).
                device = self.runtime.device if self.runtime is not None else None
                self._transcriber = WhisperTranscriber(self._speech_model, device=device,
                                                       on_model_load=self._on_speech_model_load)
            transcriber = self._transcriber
        return transcriber.transcribe(samples, sample_rate)

    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
        return self._loaded().generate(request, cancel)

    def open_live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                       context: SpokenContext | None = None) -> LiveTake:
        return self._loaded().open_live_take(params, voices, context)

    def release_memory(self) -> None:
        if self.runtime is not None:
            self.runtime.release_memory()
        elif torch.cuda.is_initialized():
            torch.cuda.empty_cache()

    def memory(self) -> MemoryReport:
        runtime = self.runtime
        device = runtime.device if runtime is not None else None
        warm = _warm_states(runtime)
        return MemoryReport(process_bytes(), device_bytes(device) if device is not None else None,
                            warm_voices_bytes=warm.held_bytes if warm is not None else None)

    def close(self) -> None:
        if self._transcriber is not None:
            self._transcriber.stop()  # a first download of Whisper would hold the closing for minutes
        self.unload()
        self._transcriber = None

    def _loaded(self):
        if self.runtime is None:
            raise NoModelLoaded("No model is loaded: load one in the model manager first.")
        return self.runtime


def model_info(runtime) -> ModelInfo:
    """What a loaded runtime is, as the status bar and the takes name it."""
    return ModelInfo(name=runtime.name, device=runtime.generates_on, precision=runtime.precision,
                     sample_rate=runtime.sample_rate, frame_rate=runtime.frame_rate,
                     weights_bytes=runtime.weights_bytes)


def _warm_states(runtime):
    """The runtime's kept voice states (a stand-in runtime in tests has none)."""
    return getattr(getattr(runtime, "network", None), "warm_states", None)
