"""The engine on another machine: a ``dia-studio serve`` by URL and key, over its ``/v1/engine``
WebSocket (``core.engine.wire``; the server side is ``core.service.engine_endpoint``).

The server loads its model when it starts; ``load`` checks that it is the one asked for. Chunks,
word timings, progress and codes stream as they arrive, so the preview, follow-along and lines
regenerated with context work as they do locally. A voice goes up once: it is named by the hash
of its samples and its audio is sent only when the server does not know it.

A connection that drops is reported as ``EngineFailed`` with the reason (after the unfinished
take, kept from what was streamed); the next call connects again (a few tries, with backoff).
No call waits forever: the server sends a heartbeat while it works, so ``SILENCE_S`` without a
word means the link is dead, and a cancel is sent at once and given ``CANCEL_GRACE_S``.

The engine (``engine``) apart from its link: the address typed (``address``), the connection
opened and greeted (``connect``), one WebSocket's framing (``link``), a generation's stream read
as events (``stream``).
"""

from core.engine.remote.address import engine_url
from core.engine.remote.engine import RemoteEngine

__all__ = ["RemoteEngine", "engine_url"]
