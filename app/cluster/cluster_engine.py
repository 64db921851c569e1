"""What the ingress's task service runs on: the model replicas of a Serve application, seen as
one engine (``core.engine.engine.Engine``: the service calls ``generate`` and ``open_live_take``
as it does the in-process engine's, from as many threads as there are replicas). Scripts are
checked and voices encoded here, with the checkpoint's tokenizer and codec (``ScriptCodec``), and
voices heard by Whisper on this machine's processor; only generations go to the replicas.
``dia-studio batch --ray`` makes one per replica actor (``batch_engines``).

A replica lost mid-generation (its process or node died) ends the events with the take as
streamed, then raises ``EngineFailed``: the task runner runs such a task again, a live take or a
studio hears why.

What makes no sense for a pool: ``load`` of another model (the replicas load theirs as they
start, from ``--model``), ``unload`` (they keep it while they run); both raise
``ClusterModelFixed``. ``release_memory`` does nothing (each replica gives its memory back after
each take) and ``memory`` says this machine's process only (each replica's is its own).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import ray.exceptions
import torch

from core.dia2.checkpoint import ProgressCallback
from core.dia2.events import GenerationEvent, GenerationRequest
from core.dia2.live_take_base import LiveTakeBase
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.script_codec import ScriptCodec
from core.dia2.transcript_alignment import TimedWord
from core.engine.engine import EngineFailed, EngineKind, MemoryReport, ModelInfo
from core.engine.memory import process_bytes
from core.engine.streamed_takes import StreamedTakes
from core.errors import DiaStudioError
from core.params import MODEL_IDS, GenerationParams

# What a handle raises when the replica serving it is gone (killed, out of memory, node lost).
REPLICA_LOST = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, ray.exceptions.NodeDiedError,
                ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError)
CANCEL_CHECK_S = 0.1  # how soon a cancel set on a generation reaches its replica


class ClusterModelFixed(DiaStudioError):
    """A cluster's replicas run the model they started with: it is neither replaced nor unloaded
    through its engine."""


class CpuWhisper:
    """Whisper on this machine's processor (the GPUs are the replicas'), loaded at the first
    transcription; one may hear voices for several engines (a batch's, one per replica)."""

    def __init__(self, model: str | None = None, on_model_load: Callable[[str], None] | None = None):
        """``model``: a Whisper name or .pt file (None: the default for a processor)."""
        self.model = model
        self._on_model_load = on_model_load
        self._transcriber = None
        self._made = threading.Lock()

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> list[TimedWord]:
        with self._made:
            if self._transcriber is None:
                from core.dia2.transcribe import WhisperTranscriber  # imports Whisper: only when a voice needs it

                self._transcriber = WhisperTranscriber(self.model, device="cpu", on_model_load=self._on_model_load)
            transcriber = self._transcriber
        return transcriber.transcribe(samples, sample_rate)


class ClusterEngine:
    # The model runs elsewhere, on the replicas, reached over the network (as a remote engine's
    # server); the window never opens one: it is serve --ray's and batch --ray's.
    kind = EngineKind.REMOTE

    def __init__(self, script_codec: ScriptCodec, replicas, mailbox, described: dict, replicas_said: str,
                 whisper: CpuWhisper | None = None, on_close: Callable[[], None] | None = None):
        """``replicas``: the model deployment's handle (or one actor's, ``batch_engines``);
        ``described``: one replica's ``describe()``; ``replicas_said``: what they are, as said to
        clients ("2 Ray Serve replica(s)"); ``whisper``: what hears voices given without words
        (default: Whisper's default for a processor); ``on_close``: called by ``close`` (a batch
        leaves the cluster)."""
        if described["sampleRate"] != script_codec.sample_rate:
            raise EngineFailed(f"the replicas run a model at {described['sampleRate']} Hz, the ingress's checkpoint "
                               f"is at {script_codec.sample_rate} Hz: start them from the same --model")
        self.script_codec = script_codec
        self.replicas, self.mailbox = replicas, mailbox
        self._info = ModelInfo(name=described["name"], device=f"{described['device']} on {replicas_said}",
                               precision=described["precision"], sample_rate=script_codec.sample_rate,
                               frame_rate=script_codec.frame_rate, weights_bytes=described["weightsBytes"])
        self._whisper = whisper or CpuWhisper()
        self._on_close = on_close

    @property
    def info(self) -> ModelInfo:
        """The replicas' model, from the moment the engine is made to its close."""
        return self._info

    @property
    def sample_rate(self) -> int:
        return self.script_codec.sample_rate

    @property
    def speech_model(self) -> str | None:
        return self._whisper.model

    @speech_model.setter
    def speech_model(self, name: str | None) -> None:
        if name != self._whisper.model:  # this engine's alone from now on
            self._whisper = CpuWhisper(name)

    def load(self, model: str, device: str = "auto", precision: str = "auto",
             progress: ProgressCallback | None = None) -> ModelInfo:
        """The replicas' model is loaded already: naming it gives its info; another one raises
        ``ClusterModelFixed`` (start the replicas with that ``--model``)."""
        named = MODEL_IDS.get(model, model)
        if named == self._info.name or str(Path(named).resolve()) == self._info.name:
            return self._info
        raise ClusterModelFixed(f"The cluster's replicas run {self._info.name}; they cannot load {model}: "
                                "start them with that --model.")

    def unload(self) -> None:
        raise ClusterModelFixed("A cluster's replicas keep their model while they run: stop the cluster to free it.")

    def parse(self, script: str) -> None:
        """Refuse a script the model cannot speak (``UnspeakableScript``), with the checkpoint's
        tokenizer, here."""
        self.script_codec.parse(script)

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        """With the checkpoint's codec, here: the codes go to the replicas with each request."""
        return self.script_codec.encode_voice(samples)

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> list[TimedWord]:
        return self._whisper.transcribe(samples, sample_rate)

    def memory(self) -> MemoryReport:
        """This machine's process (the codec, Whisper, the task store); each replica's memory is its own."""
        return MemoryReport(process_bytes(), None)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()

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
            yield from self.relayed(stream, StreamedTakes(request, self.sample_rate, self._info.name))
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

    def __init__(self, engine: ClusterEngine, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None):
        super().__init__()
        self.params = params.with_seed()
        self.seed = self.params.seed
        self._engine, self._take = engine, _take_id()
        self._streamed = StreamedTakes(GenerationRequest("", self.params, tuple(voices), context),
                                       engine.sample_rate, engine.info.name)
        self._stream = engine.replicas.options(method_name="live_take", stream=True).remote(
            self.params, tuple(voices), context, engine.mailbox, self._take)
        self._script = engine.script_codec.incremental_script()
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
        return self._engine.relayed(self._stream, self._streamed)

    def _let_go(self) -> None:
        if not self._iterating:  # a stream read to its end needs no cancel
            self._stream.cancel()

    def _send(self, message: tuple) -> None:
        """Under ``_state``: numbered in the order written, whatever thread writes."""
        self._engine.mailbox.put.remote(self._take, next(self._numbers), message)


def _take_id() -> str:
    return str(uuid.uuid4())


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
