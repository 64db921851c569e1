"""A server's address as a person types it, made the engine's WebSocket address, and the
server's name as messages say it."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from core.engine import wire
from core.engine.engine import EngineFailed


def engine_url(url: str | None) -> str:
    """The engine's WebSocket address from what a person types: ``http://box:8000``,
    ``https://box``, ``ws://box:8000/v1/engine``, or a bare ``box:8000``."""
    if not url or not url.strip():
        raise EngineFailed("Give the address of the dia-studio serve to generate on, such as http://gpu-box:8000.")
    url = url.strip()
    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes or not parts.hostname:
        raise EngineFailed(f"{url} is not a server address: give one such as http://gpu-box:8000 "
                           "(or https://, ws://, wss://).")
    path = parts.path.rstrip("/")
    if not path.endswith(wire.PATH):
        path = (path.removesuffix("/v1") + wire.PATH)
    return urlunsplit((schemes[parts.scheme], parts.netloc, path, "", ""))


def server_name(url: str) -> str:
    """``ws://box:8000/v1/engine`` → ``http://box:8000``."""
    parts = urlsplit(url)
    return f"{parts.scheme.replace('ws', 'http')}://{parts.netloc}"
