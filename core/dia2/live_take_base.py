"""What every live take shares, wherever it is made (here, in the model's own process, on a
server, on a cluster's replica): its events are iterated once, on one thread, and what it holds
(the model's lock, a stream) is let go exactly once, when its events end, or at ``close()`` if
they were never iterated."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from core.dia2.events import GenerationEvent


class LiveTakeBase:
    """The base of every live take's class: ``events()``, ``close()`` and ``with`` on top of the
    subclass's ``_take_events``, ``cancel`` and ``_let_go``; what engines promise of a live take
    is ``core.engine.engine.LiveTakeHandle``, which these fulfil."""

    def __init__(self):
        self._state = threading.Lock()  # also serialises a subclass's text, end and cancel
        self._iterating = False
        self._released = False

    def cancel(self) -> None:
        raise NotImplementedError

    def _take_events(self) -> Iterator[GenerationEvent]:
        """The take as it is made (iterated once)."""
        raise NotImplementedError

    def _let_go(self) -> None:
        """Free what the take holds (called once)."""
        raise NotImplementedError

    def events(self) -> Iterator[GenerationEvent]:
        """The take as it is made; iterate it on one thread (a worker), once. Closing the
        iterator early cancels the take; what it holds is freed when it ends either way."""
        with self._state:
            if self._iterating or self._released:
                raise RuntimeError("A live take's events can be iterated once.")
            self._iterating = True
        return self._released_after(self._take_events())

    def _released_after(self, events: Iterator[GenerationEvent]) -> Iterator[GenerationEvent]:
        try:
            yield from events
        finally:
            self.cancel()
            self._release()

    def close(self) -> None:
        """Cancel the take; frees what it holds now if its events were never iterated."""
        self.cancel()
        with self._state:
            never_iterated = not self._iterating
        if never_iterated:
            self._release()

    def _release(self) -> None:
        with self._state:
            if self._released:
                return
            self._released = True
        self._let_go()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
