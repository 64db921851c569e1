"""One WebSocket to a serve, in the framing of ``core.engine.wire``: a message and its arrays
sent or received whole, a connection that goes raised as ``LinkLost``, an error message from the
server as ``RemoteError``."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.engine import wire
from core.engine.engine import EngineFailed
from core.errors import DiaStudioError

SILENCE_S = 30.0  # no message (not even a heartbeat) for this long: the link is dead


class LinkLost(Exception):
    """The connection went (internal: it becomes an EngineFailed or a retry)."""


class RemoteError(Exception):
    """An error message from the server."""

    def __init__(self, message: dict[str, Any]):
        super().__init__(message.get("message"))
        self.code, self.message = message.get("code", ""), str(message.get("message", ""))

    def as_studio_error(self, server: str) -> DiaStudioError:
        if self.code == "transcriptionFailed":
            from core.dia2.transcribe import TranscriptionError  # imports Whisper: only when needed

            return TranscriptionError(self.message)
        kind = wire.ERRORS.get(self.code)
        return kind(self.message) if kind else EngineFailed(f"The server at {server} failed: {self.message}")


class Link:
    def __init__(self, connection):
        self._connection = connection

    def send(self, message: dict[str, Any], arrays: tuple[np.ndarray, ...] = ()) -> None:
        from websockets.exceptions import ConnectionClosed

        text, blob = wire.encode(message, arrays)
        try:
            self._connection.send(text)
            if blob is not None:
                self._connection.send(blob)
        except (ConnectionClosed, OSError) as error:
            raise LinkLost(_closed_reason(error)) from None

    def receive(self, timeout: float) -> tuple[dict[str, Any], list[np.ndarray]] | None:
        """The next message and its arrays; None when nothing came within ``timeout``."""
        from websockets.exceptions import ConnectionClosed

        try:
            text = self._connection.recv(timeout=timeout)
            message = wire.decode(text)
            if not wire.expects_arrays(message):
                return message, []
            return message, wire.arrays_of(message, self._connection.recv(timeout=SILENCE_S))
        except TimeoutError:
            return None
        except (ConnectionClosed, OSError) as error:
            raise LinkLost(_closed_reason(error)) from None

    def close(self) -> None:
        try:
            self._connection.close()
        except Exception:  # already gone: nothing more to do
            pass


def _closed_reason(error: BaseException) -> str:
    from websockets.exceptions import ConnectionClosed

    if isinstance(error, ConnectionClosed):
        if error.rcvd is None:
            return "the connection was cut"
        return f"the server closed it: {error.rcvd.reason or error.rcvd.code}"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
