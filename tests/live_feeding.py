"""Feeding a live take from another thread, as the server and the CLI do, for the live-take tests
of the runtime and of every engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from core.dia2.events import TakeResult


def fed_from_a_thread(take, pieces: Sequence[str], pauses: Sequence[float] | None = None) -> list:
    """Another thread pushes the pieces (after ``pauses``, each before its piece; default none)
    and then ends the text, while this one iterates the take's events."""
    pauses = pauses or [0.0] * len(pieces)

    def feed():
        for piece, pause in zip(pieces, pauses):
            time.sleep(pause)
            take.push_text(piece)
        take.end_text()

    feeder = threading.Thread(target=feed)
    feeder.start()
    events = list(take.events())
    feeder.join()
    return events


def result_of(events) -> TakeResult:
    (result,) = [event for event in events if isinstance(event, TakeResult)]
    return result
