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
import queue
import threading
from collections.abc import Callable, Iterator

from core.dia2.events import GenerationBusy, GenerationEvent, GenerationRequest
from core.dia2.incremental_script import TextAfterEnd
from core.dia2.live_take_handle import LiveTakeHandle
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.engine.streamed_takes import StreamedTakes
from core.params import GenerationParams

# In the model's own process: the live takes' text, as the child's reader gets it (the take in
# progress picks out its own by serial number: what was sent to a take that ended is dropped).
CHILD_LIVE_INPUT: queue.Queue = queue.Queue()
CHILD_POLL_S = 0.01  # how soon a cancel reaches the take in the child
_serials = itertools.count(1)


class RelayedLiveTake(LiveTakeHandle):
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


class OwnProcessLiveTake(RelayedLiveTake):
    """A live take in the model's own process (``OwnProcessEngine.open_live_take``); a child that
    dies mid-take ends the events with the take as streamed, then raises ``EngineFailed``."""

    def __init__(self, engine, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None):
        super().__init__(engine._calls, params, voices, context)
        try:
            engine._needs_model()
        except Exception:
            self._release()
            raise
        self._engine = engine

    def _take_events(self) -> Iterator[GenerationEvent]:
        from core.engine.own_process.child_ended import ChildEnded

        engine = self._engine
        engine._start_if_stopped()
        streamed = self.streamed_takes(engine.info.sample_rate, engine.info.name)
        engine._relay = self._messages
        try:
            exchange = engine._exchange(("live", (self.serial, self.params, self.voices, self.context)),
                                        self.cancelled)
            try:
                for event in exchange:
                    yield streamed.watch(event)
            except ChildEnded as ended:
                take = streamed.unfinished(ended.notice())
                if take is not None:
                    yield take
                raise ended.failure() from None
            finally:
                exchange.close()
        finally:
            engine._relay = None

    def _messages(self) -> list[tuple]:
        return [("live", self.serial, *message) for message in self.pending()]


def child_live_take(engine, args, cancel: threading.Event, send) -> None:
    """In the child: make the take, streaming its events; the text comes from the reader
    (``CHILD_LIVE_INPUT``) while it is made."""
    serial, params, voices, context = args
    take = engine.open_live_take(params, voices, context)

    def messages() -> list[tuple]:
        try:
            message = CHILD_LIVE_INPUT.get(timeout=CHILD_POLL_S)
        except queue.Empty:
            return []
        return [message[1:]] if message[0] == serial else []  # else: sent to a take that has ended

    for event in fed_events(take, messages, cancel):
        send(("event", event))


def fed_events(take, messages: Callable[[], list[tuple]],
               cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
    """The events of ``take`` (a live take made here, at the far end of a relay) while a thread
    gives it what ``messages()`` returns, waiting a short while for it: ``("text", str)``,
    ``("end",)`` or ``("cancel",)``. Text the model refuses cancels the take, and the refusal is
    raised after the take's last event (the near end hears why)."""
    finished, refused = threading.Event(), []

    def feed() -> None:
        while not finished.is_set():
            if cancel is not None and cancel.is_set():
                take.cancel()
                return
            for message in messages():
                try:
                    if message[0] == "text":
                        take.push_text(message[1])
                    elif message[0] == "end":
                        take.end_text()
                    else:
                        take.cancel()
                except Exception as error:  # markup the model cannot follow
                    refused.append(error)
                    take.cancel()
                    return

    feeder = threading.Thread(target=feed, name="live take text", daemon=True)
    feeder.start()
    try:
        yield from take.events()
    finally:
        finished.set()
        feeder.join()
    if refused:
        raise refused[0]
