"""A generation's stream from the server, read as the studio's events: chunks and words as they
come, a finished take rebuilt from its chunks, heartbeats skipped, silence found dead, and a
cancel sent at once and given ``CANCEL_GRACE_S``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from core.dia2.events import GenerationEvent, TakeResult
from core.engine import wire
from core.engine.remote.link import Link, LinkLost, RemoteError
from core.engine.streamed_takes import StreamedTakes
from core.params import GenerationParams

CANCEL_GRACE_S = 5.0  # a cancelled generation not ended by then is cut off here
POLL_S = 0.1  # how often a generation looks at its cancel


def streamed_events(link: Link, cancel: threading.Event, takes: StreamedTakes, silence_s: float,
                    drop: Callable[[], None], between: Callable[[Link], None] | None = None,
                    ) -> Iterator[GenerationEvent]:
    """The events until the server says ``done``; raises ``LinkLost`` or ``RemoteError``.
    ``drop()`` lets the link go (a cancel past its grace); ``between(link)`` sends what a live
    take was given since (before each read)."""
    heard, cancelled_at = time.monotonic(), None
    while True:
        if between is not None:
            between(link)
        if cancel.is_set() and cancelled_at is None:
            link.send({"type": "cancel"})
            cancelled_at = time.monotonic()
        if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S:
            drop()  # the server stops when the link goes; what was made is kept here
            unfinished = takes.unfinished("Cancelled.")
            if unfinished is not None:
                yield unfinished
            return
        got = link.receive(POLL_S)
        if got is None:
            if time.monotonic() - heard > silence_s:
                raise LinkLost(f"no word from the server for {silence_s:.0f} s")
            continue
        heard = time.monotonic()
        message, arrays = got
        kind = message["type"]
        if kind == "working":
            continue
        if kind == "done":
            return
        if kind == "error":
            raise RemoteError(message)
        if kind == "take":
            yield takes.watch(_take_result(message, takes))
        else:
            yield takes.watch(wire.streamed_event(message, arrays))


def _take_result(message: dict[str, Any], takes: StreamedTakes) -> TakeResult:
    """A finished take from its metadata and the chunks streamed of it."""
    audio, codes = takes.so_far()
    frames = message.get("frames")
    if frames == 0:  # a take cancelled before its first frame
        codes = np.zeros((message["codebooks"], 0), np.int64)
    streamed_frames = None if codes is None else codes.shape[1]
    if len(audio) != message["samples"] or (frames is not None and streamed_frames != frames):
        raise wire.WireError("A take's audio does not match the chunks streamed of it.")
    return TakeResult(take=message["take"], seed=message["seed"], params=GenerationParams.from_dict(message["params"]),
                      audio=audio, sample_rate=message["sampleRate"], codes=codes if frames is not None else None,
                      words=[(str(word), float(start)) for word, start in message["words"]],
                      complete=message["complete"], notices=list(message["notices"]), model=message["model"])
