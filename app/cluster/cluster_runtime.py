"""What the ingress's task service runs on: the model replicas of a Serve application, seen as
one runtime (the service calls ``generate`` and ``open_live_take`` as it does a ``Dia2Runtime``'s,
from as many threads as there are replicas). Scripts are checked and voices encoded here, with
the checkpoint's tokenizer and codec (``ScriptCodec``); only generations go to the replicas.

A replica lost mid-generation (its process or node died) ends the events with the take as
streamed, then raises ``EngineFailed``: the task runner runs such a task again, a live take or a
studio hears why.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator

import ray.exceptions
import torch

from core.dia2.events import GenerationEvent, GenerationRequest
from core.dia2.live_take_base import LiveTakeBase
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.script_codec import ScriptCodec
from core.engine.engine import EngineFailed
from core.engine.streamed_takes import StreamedTakes
from core.params import GenerationParams

# What a handle raises when the replica serving it is gone (killed, out of memory, node lost).
REPLICA_LOST = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, ray.exceptions.NodeDiedError,
                ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError)
CANCEL_CHECK_S = 0.1  # how soon a cancel set on a generation reaches its replica


class ClusterRuntime(ScriptCodec):
    def __init__(self, script_codec: ScriptCodec, replicas, mailbox, described: dict, replicas_said: str):
        """``replicas``: the model deployment's handle (or one actor's, ``batch_engines``);
        ``described``: one replica's ``describe()``; ``replicas_said``: what they are, as said to
        clients ("2 Ray Serve replica(s)")."""
        super().__init__(script_codec.tokenizer, script_codec.codec)
        if described["sampleRate"] != self.sample_rate:
            raise EngineFailed(f"the replicas run a model at {described['sampleRate']} Hz, the ingress's checkpoint "
                               f"is at {self.sample_rate} Hz: start them from the same --model")
        self.replicas, self.mailbox = replicas, mailbox
        self.name = described["name"]
        self.device = torch.device("cpu")  # what runs here: the codec for voices, Whisper
        self.generates_on = f"{described['device']} on {replicas_said}"
        self.precision = described["precision"]
        self.weights_bytes = described["weightsBytes"]

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None
                 ) -> Iterator[GenerationEvent]:
        take = _take_id()
        stream = self.replicas.options(method_name="generate", stream=True).remote(request, self.mailbox, take)
        ended, cancelled = threading.Event(), threading.Lock()

        def cancel_there() -> None:  # once: the replica stops between two frames
            if cancelled.acquire(blocking=False):
                self.mailbox.put.remote(take, 0, ("cancel",))

        if cancel is not None:
            threading.Thread(target=self._pass_cancel, args=(cancel, ended, cancel_there), daemon=True).start()
        finished = False
        try:
            yield from self.relayed(stream, StreamedTakes(request, self.sample_rate, self.name))
            finished = True
        finally:
            ended.set()
            if not finished:  # the caller stopped reading (or the replica was lost): free the replica
                cancel_there()

    def open_live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                       context: SpokenContext | None = None) -> ClusterLiveTake:
        return ClusterLiveTake(self, params, voices, context)

    def release_memory(self) -> None:
        """Each replica gives back its memory after each of its takes."""

    def relayed(self, stream, streamed: StreamedTakes) -> Iterator[GenerationEvent]:
        """A replica's events as its own; a lost replica → the unfinished take, then EngineFailed;
        what the generation itself raised (a refused script) → that error, as raised there."""
        try:
            for event in stream:
                yield streamed.watch(event)
        except REPLICA_LOST as error:
            reason = _first_line(error)
            yield from streamed.cut_short(f"Cut short: the replica generating it was lost ({reason}).",
                                          EngineFailed(f"the Ray replica generating it was lost: {reason}"))
        except ray.exceptions.RayTaskError as error:
            cause = error.cause
            raise (cause if isinstance(cause, Exception) else EngineFailed(_first_line(error))) from None

    @staticmethod
    def _pass_cancel(cancel: threading.Event, ended: threading.Event, cancel_there) -> None:
        while not ended.wait(CANCEL_CHECK_S):
            if cancel.is_set():
                cancel_there()
                return


class ClusterLiveTake(LiveTakeBase):
    """A live take on whichever replica Serve chose, as ``core.dia2.live_take.LiveTake`` behaves:
    text, end and cancel from any thread, never waiting (they go to the mailbox); the take starts
    on its replica at once, before any text. The text is parsed here as well, as it comes, so a
    piece the model cannot follow is refused in the caller's thread and the take goes on, as on
    one server (the replica, given only what was accepted, never refuses any)."""

    def __init__(self, runtime: ClusterRuntime, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None):
        super().__init__()
        self.params = params.with_seed()
        self.seed = self.params.seed
        self._runtime, self._take = runtime, _take_id()
        self._streamed = StreamedTakes(GenerationRequest("", self.params, tuple(voices), context),
                                       runtime.sample_rate, runtime.name)
        self._stream = runtime.replicas.options(method_name="live_take", stream=True).remote(
            self.params, tuple(voices), context, runtime.mailbox, self._take)
        self._script = runtime.incremental_script()
        self._numbers = itertools.count()
        self._cancelled = False

    def push_text(self, text: str) -> None:
        """Raises ``UnspeakableScript`` for a piece the model cannot follow (refused whole, as
        ``LiveTake.push_text``), ``TextAfterEnd`` after the end."""
        with self._state:
            if self._cancelled:
                return
            self._script.feed(text)
            if text:
                self._send(("text", text))

    def end_text(self) -> None:
        """Raises ``UnspeakableScript`` if the whole text has no words or ends with a speaker tag."""
        with self._state:
            self._script.close()
            self._send(("end",))

    def cancel(self) -> None:
        with self._state:
            if not self._cancelled:
                self._cancelled = True
                self._send(("cancel",))

    @property
    def text_ended(self) -> bool:
        return self._script.closed

    def _take_events(self) -> Iterator[GenerationEvent]:
        return self._runtime.relayed(self._stream, self._streamed)

    def _let_go(self) -> None:
        if not self._iterating:  # a stream read to its end needs no cancel
            self._stream.cancel()

    def _send(self, message: tuple) -> None:
        """Under ``_state``: numbered in the order written, whatever thread writes."""
        self._runtime.mailbox.put.remote(self._take, next(self._numbers), message)


def _take_id() -> str:
    return str(uuid.uuid4())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
