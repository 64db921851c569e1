"""Live takes on a relayed engine (the model's own process, a remote serve): the same contract as
``core.dia2.live_take.LiveTake``, with the take itself made at the other end.

Text pushed, the end and a cancel come from any thread (a window's, typing) and only go into an
outbox: the thread that reads the take's events sends them between two of its reads, so nothing
but that thread ever touches the pipe or the socket, and a push never waits for the model or the
link. What the other end refuses (markup the model cannot follow) ends the take there: its events
end with the take as made, then the refusal is raised, as ``push_text`` raises it in-process.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator

from core.dia2.events import GenerationBusy, GenerationEvent, GenerationRequest
from core.dia2.incremental_script import TextAfterEnd
from core.dia2.live_take_base import LiveTakeBase
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.engine.live_text import LiveText
from core.engine.streamed_takes import StreamedTakes
from core.params import GenerationParams

_serials = itertools.count(1)  # a take's number, for the far end to tell its messages from an ended one's


class RelayedLiveTake(LiveTakeBase):
    """The outbox of a live take made elsewhere. ``lock`` is the engine's lock of one call at a
    time, taken here and held until the take's events end."""

    def __init__(self, lock: threading.Lock, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None):
        if not lock.acquire(blocking=False):
            raise GenerationBusy("The model is busy with another generation; finish or cancel it first.")
        super().__init__()
        self._engine_lock = lock
        self.params, self.voices, self.context = params.with_seed(), tuple(voices), context
        self.serial = next(_serials)
        self.cancelled = threading.Event()
        self._outbox: list[tuple] = []
        self._ended = False

    # ---- any thread ------------------------------------------------------------------------------
    def push_text(self, text: str) -> None:
        with self._state:
            if self.cancelled.is_set():
                return
            if self._ended:
                raise TextAfterEnd("The take's text has ended: no more text can be added to it.")
            if text:
                self._outbox.append(("text", text))

    def end_text(self) -> None:
        with self._state:
            if not self._ended:
                self._ended = True
                self._outbox.append(("end",))

    def cancel(self) -> None:
        self.cancelled.set()

    @property
    def text_ended(self) -> bool:
        return self._ended

    # ---- the events' thread -----------------------------------------------------------------------
    def pending(self) -> list[tuple]:
        """What was pushed since the last call, in order: ``("text", str)`` or ``("end",)``."""
        with self._state:
            pending, self._outbox = self._outbox, []
            return pending

    def streamed_takes(self, sample_rate: int, model: str | None) -> StreamedTakes:
        """What rebuilds the take if the other end goes mid-take."""
        return StreamedTakes(GenerationRequest("", self.params, self.voices, self.context), sample_rate, model)

    def _let_go(self) -> None:
        self._engine_lock.release()


def fed_events(take, messages: Callable[[], list[tuple]],
               cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
    """The events of ``take`` (a live take made here, at the far end of a relay) while a thread
    gives it what ``messages()`` returns, waiting a short while for it: ``("text", str)``,
    ``("end",)`` or ``("cancel",)``. Text the model refuses cancels the take, and the refusal is
    raised after the take's last event (the near end hears why)."""
    finished, text = threading.Event(), LiveText(take)

    def feed() -> None:
        while not finished.is_set():
            if cancel is not None and cancel.is_set():
                take.cancel()
                return
            if not all(text.apply(*message) for message in messages()):
                return

    feeder = threading.Thread(target=feed, name="live take text", daemon=True)
    feeder.start()
    try:
        yield from take.events()
    finally:
        finished.set()
        feeder.join()
    text.raise_refusal()
