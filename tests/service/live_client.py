"""A client of `/v1/live` as a user would write one: a plain `websockets` connection, JSON out,
JSON and binary PCM in (nothing of the server's code between the test and the socket)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np
from websockets.sync.client import connect

RECEIVE_TIMEOUT_S = 120.0


@dataclass
class Heard:
    """What a take sent: its audio bytes, its JSON messages in order, and when each arrived."""

    audio: bytearray = field(default_factory=bytearray)
    messages: list[dict] = field(default_factory=list)
    first_audio_at: float | None = None
    audio_bytes_at: list[tuple[float, int]] = field(default_factory=list)  # (arrival, total bytes so far)
    message_at: list[float] = field(default_factory=list)

    @property
    def done(self) -> dict | None:
        return next((m for m in self.messages if m["type"] == "done"), None)

    @property
    def error(self) -> dict | None:
        return next((m for m in self.messages if m["type"] == "error"), None)

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    def samples(self, encoding: str = "pcm_f32le") -> np.ndarray:
        return np.frombuffer(bytes(self.audio), "<f4" if encoding == "pcm_f32le" else "<i2")


class LiveClient:
    def __init__(self, base_url: str, bearer: str | None = None):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
        self._stack = ExitStack()
        self.socket = self._stack.enter_context(connect(base_url.replace("http://", "ws://") + "/v1/live",
                                                        additional_headers=headers, max_size=None))

    def send(self, kind: str, **fields) -> None:
        self.socket.send(json.dumps({"type": kind, **fields}))

    def text(self, text: str) -> None:
        self.send("text", text=text)

    def receive(self, timeout: float = RECEIVE_TIMEOUT_S) -> dict | bytes:
        message = self.socket.recv(timeout=timeout)
        return message if isinstance(message, bytes) else json.loads(message)

    def start(self, **fields) -> dict:
        """Send start; the first answer that is not ``waiting`` (``ready``, or an ``error``)."""
        self.send("start", **fields)
        while (answer := self.receive())["type"] == "waiting":
            pass
        return answer

    def hear(self, heard: Heard | None = None, until: tuple[str, ...] = ("done", "error")) -> Heard:
        """Collect the take's frames until a message of a type in ``until`` (included)."""
        heard = heard or Heard()
        while True:
            message = self.receive()
            now = time.perf_counter()
            if isinstance(message, bytes):
                heard.first_audio_at = heard.first_audio_at or now
                heard.audio += message
                heard.audio_bytes_at.append((now, len(heard.audio)))
                continue
            heard.messages.append(message)
            heard.message_at.append(now)
            if message["type"] in until:
                return heard

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> "LiveClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
