"""Which engine to run, as the model manager, the settings and the ``--engine`` flags say it,
and the one place that builds it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from core.engine.engine import Engine, EngineKind


def default_kind(platform: str = sys.platform) -> EngineKind:
    """Where the model runs unless the person chooses (the model manager, ``--engine``).

    From ``bench/bench_engines.py`` (README, "Performance"): its own process costs a start-up once
    (a fresh interpreter importing torch before the load, in the background while the window is
    usable), a few ms per streamed chunk (a chunk is 80-320 ms of audio) and the resident memory of
    a second copy of the libraries. On Linux and Windows that buys a studio that survives the
    crashes models there do have: the out-of-memory killer's SIGKILL, CUDA out-of-memory aborts
    and driver faults, each of which takes the editor and its unsaved edits with an in-process
    model. On macOS the model stays in the studio: the GPU shares the system's memory, so the
    second copy of the libraries comes out of the model's room, and memory pressure there swaps
    rather than kills."""
    return EngineKind.IN_PROCESS if platform == "darwin" else EngineKind.OWN_PROCESS


@dataclass(frozen=True)
class EngineChoice:
    kind: EngineKind = EngineKind.IN_PROCESS
    url: str | None = None  # remote: the ``dia-studio serve`` to generate on
    api_key: str | None = None  # remote: one of that server's keys


def open_engine(choice: EngineChoice, on_speech_model_load: Callable[[str], None] | None = None,
                speech_model: str | None = None, threads: int | None = None,
                warm_voices_bytes: int | None = None) -> Engine:
    """The engine of ``choice``, not yet loaded: the one place every face (the window, render,
    speak, batch) opens its engine. Imported here, by kind: each pulls in what it alone needs
    (torch and the model for in-process, a WebSocket client for remote).
    ``on_speech_model_load``: told the Whisper model's name as a local engine starts loading it;
    ``speech_model``, ``threads`` and ``warm_voices_bytes``: a local engine's Whisper model,
    processor threads and bound on the voice states it keeps for reuse."""
    if choice.kind is EngineKind.IN_PROCESS:
        from core.engine.in_process import InProcessEngine

        return InProcessEngine(speech_model=speech_model, on_speech_model_load=on_speech_model_load, threads=threads,
                               warm_voices_bytes=warm_voices_bytes)
    if choice.kind is EngineKind.OWN_PROCESS:
        from core.engine.own_process import OwnProcessEngine

        return OwnProcessEngine(speech_model=speech_model, on_speech_model_load=on_speech_model_load, threads=threads,
                                warm_voices_bytes=warm_voices_bytes)
    from core.engine.remote import RemoteEngine

    return RemoteEngine(choice.url, choice.api_key)
