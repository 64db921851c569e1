"""Which engine to run, as the model manager, the settings and the ``--engine`` flags say it,
and the one place that builds it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from core.engine.engine import Engine, EngineKind


def default_kind(platform: str = sys.platform) -> EngineKind:
    """Where the model runs unless the person chooses (the model manager, ``--engine``)."""
    return EngineKind.IN_PROCESS


@dataclass(frozen=True)
class EngineChoice:
    kind: EngineKind = EngineKind.IN_PROCESS
    url: str | None = None  # remote: the ``dia-studio serve`` to generate on
    api_key: str | None = None  # remote: one of that server's keys


def open_engine(choice: EngineChoice, on_speech_model_load: Callable[[str], None] | None = None) -> Engine:
    """The engine of ``choice``, not yet loaded. Imported here, by kind: each pulls in what it
    alone needs (torch and the model for in-process, a WebSocket client for remote).
    ``on_speech_model_load``: told the Whisper model's name as a local engine starts loading it."""
    if choice.kind is EngineKind.IN_PROCESS:
        from core.engine.in_process import InProcessEngine

        return InProcessEngine(on_speech_model_load=on_speech_model_load)
    if choice.kind is EngineKind.OWN_PROCESS:
        from core.engine.own_process import OwnProcessEngine

        return OwnProcessEngine(on_speech_model_load=on_speech_model_load)
    from core.engine.remote import RemoteEngine

    return RemoteEngine(choice.url, choice.api_key)
