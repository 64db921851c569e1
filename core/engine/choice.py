"""Which engine to run, as the model manager, the settings and the ``--engine`` flags say it,
and the one place that builds it."""

from __future__ import annotations

from dataclasses import dataclass

from core.engine.engine import Engine, EngineKind


@dataclass(frozen=True)
class EngineChoice:
    kind: EngineKind = EngineKind.IN_PROCESS
    url: str | None = None  # remote: the ``dia-studio serve`` to generate on
    api_key: str | None = None  # remote: one of that server's keys


def open_engine(choice: EngineChoice) -> Engine:
    """The engine of ``choice``, not yet loaded. Imported here, by kind: each pulls in what it
    alone needs (torch and the model for in-process, a WebSocket client for remote)."""
    if choice.kind is EngineKind.IN_PROCESS:
        from core.engine.in_process import InProcessEngine

        return InProcessEngine()
    if choice.kind is EngineKind.OWN_PROCESS:
        from core.engine.own_process import OwnProcessEngine

        return OwnProcessEngine()
    from core.engine.remote import RemoteEngine

    return RemoteEngine(choice.url, choice.api_key)
