"""The studio's end of the pipe to the model's own process (see the package's docstring): each
call sent, what the child streams read back, a cancel forwarded, and a child that died noticed at
once and started again at the next call."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait

import numpy as np
import torch

from core.dia2.checkpoint import ProgressCallback
from core.dia2.events import GenerationEvent, GenerationRequest
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.transcript_alignment import TimedWord
from core.engine.engine import EngineKind, MemoryReport, ModelInfo, NoModelLoaded
from core.engine.live_relay import RelayedLiveTake
from core.engine.memory import process_bytes
from core.engine.own_process.child import serve
from core.engine.own_process.child_ended import ChildEnded, ending
from core.engine.own_process.pickled_errors import unpacked
from core.engine.streamed_takes import StreamedTakes
from core.params import GenerationParams

# How often a pending cancel is looked for while waiting on the child: it is forwarded within this.
CANCEL_POLL_S = 0.01
# How long a child asked to close may take before it is killed.
CLOSE_WAIT_S = 5.0


class OwnProcessEngine:
    kind = EngineKind.OWN_PROCESS

    def __init__(self, speech_model: str | None = None,
                 on_speech_model_load: Callable[[str], None] | None = None, threads: int | None = None,
                 warm_voices_bytes: int | None = None):
        """As ``InProcessEngine``'s; ``on_speech_model_load`` is called in this process."""
        self._threads = threads
        self._warm_voices_bytes = warm_voices_bytes
        self.speech_model = speech_model  # sent with each transcription
        self._on_speech_model_load = on_speech_model_load
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._calls = threading.Lock()  # one call at a time on the pipe
        self._info: ModelInfo | None = None
        # What the child loaded, so a fresh child loads it again; a reload after a crash reports
        # through the progress of the load it repeats.
        self._loaded_with: tuple[str, str, str, ProgressCallback | None] | None = None
        self._device_bytes: int | None = None  # as the child last said
        self._warm_bytes: int | None = None  # likewise
        self._cancel_forwarded = False  # the call in progress was told to stop
        # While a live take runs: what was pushed to it meanwhile, sent between the child's messages.
        self._relay: Callable[[], list[tuple]] | None = None

    @property
    def info(self) -> ModelInfo | None:
        return self._info

    @property
    def sample_rate(self) -> int:
        if self._info is None:
            raise NoModelLoaded("No model is loaded: load one in the model manager first.")
        return self._info.sample_rate

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def load(self, model: str, device: str = "auto", precision: str = "auto",
             progress: ProgressCallback | None = None) -> ModelInfo:
        with self._calls:
            self._start_if_stopped(reload=False)
            try:
                info = self._answer(("load", (model, device, precision, progress is not None)), progress=progress)
            except ChildEnded as ended:
                raise ended.failure() from None
            self._info, self._loaded_with = info, (model, device, precision, progress)
            return info

    def unload(self) -> None:
        """Stop the child: all it held goes back to the system at once."""
        with self._calls:
            self._info, self._loaded_with = None, None
            self._stop()

    def parse(self, script: str) -> None:
        self._call("parse", script)

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        return self._call("encode_voice", np.asarray(samples, dtype=np.float32))

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> list[TimedWord]:
        return self._call("transcribe", (np.asarray(samples, dtype=np.float32), sample_rate, self.speech_model),
                          needs_model=False)  # Whisper needs no Dia2 model

    def release_memory(self) -> None:
        if self._process is not None:
            self._call("release_memory", None, needs_model=False)

    def memory(self) -> MemoryReport:
        """Read without asking the child (it may be busy generating): its resident memory from the
        system, its device memory as it last reported."""
        process = self._process
        if process is None:
            return MemoryReport(None, None)
        return MemoryReport(process_bytes(process.pid), self._device_bytes, warm_voices_bytes=self._warm_bytes)

    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
        with self._calls:
            self._needs_model()
            for attempt in range(2):
                fresh = self._process is None or not self._process.is_alive()
                self._start_if_stopped()
                info = self._info
                streamed = StreamedTakes(request, info.sample_rate, info.name)
                exchange = self._exchange(("generate", request), cancel or threading.Event())
                heard = False
                try:
                    for event in exchange:
                        heard = True
                        yield streamed.watch(event)
                    return
                except ChildEnded as ended:
                    if not (heard or fresh or attempt):
                        continue  # it had died unnoticed before the request: once more, on a fresh one
                    yield from streamed.cut_short(ended.notice(), ended.failure())
                finally:
                    exchange.close()  # abandoned mid-stream: the child is cancelled and its rest read

    def open_live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                       context: SpokenContext | None = None) -> OwnProcessLiveTake:
        return OwnProcessLiveTake(self, params, voices, context)

    def _live_events(self, take: OwnProcessLiveTake) -> Iterator[GenerationEvent]:
        """A live take's events, its text relayed to the child between two of them."""
        self._start_if_stopped()
        streamed = take.streamed_takes(self._info.sample_rate, self._info.name)
        self._relay = lambda: [("live", take.serial, *message) for message in take.pending()]
        try:
            exchange = self._exchange(("live", (take.serial, take.params, take.voices, take.context)),
                                      take.cancelled)
            try:
                for event in exchange:
                    yield streamed.watch(event)
            except ChildEnded as ended:
                yield from streamed.cut_short(ended.notice(), ended.failure())
            finally:
                exchange.close()
        finally:
            self._relay = None

    def close(self) -> None:
        if self._calls.acquire(blocking=False):
            try:
                self._stop()
            finally:
                self._calls.release()
        elif self._process is not None:  # a call runs (a load, a download): ended, not waited for
            self._process.kill()

    # --- calls ---------------------------------------------------------------------------------

    def _call(self, method: str, args, needs_model: bool = True):
        """A call that streams nothing and changes nothing: asked again of a fresh child when the
        one asked had died unnoticed before it (killed while idle, as the system's out-of-memory
        killer does); one that dies of the call itself fails."""
        with self._calls:
            if needs_model:
                self._needs_model()
            for attempt in range(2):
                fresh = self._process is None or not self._process.is_alive()
                self._start_if_stopped()
                try:
                    return self._answer((method, args))
                except ChildEnded as ended:
                    if fresh or attempt:
                        raise ended.failure() from None

    def _needs_model(self) -> None:
        if self._loaded_with is None:
            raise NoModelLoaded("No model is loaded: load one in the model manager first.")

    def _answer(self, call: tuple, progress: ProgressCallback | None = None):
        """Run a call that streams no events; its answer."""
        try:
            next(self._exchange(call, progress=progress))
        except StopIteration as answered:
            return answered.value
        raise AssertionError(f"{call[0]} streamed an event")  # a bug of ours, not the model's

    def _exchange(self, call: tuple, cancel: threading.Event | None = None,
                  progress: ProgressCallback | None = None) -> Iterator[GenerationEvent]:
        """Send ``call``, then yield the events the child streams until it answers, and return its
        answer; an error the child raised is raised here, as it was. Raises ``ChildEnded`` when
        the child dies first."""
        cancel = cancel or threading.Event()
        self._cancel_forwarded = False
        self._send(("call", *call))
        refused: BaseException | None = None  # raised by ``progress``: the caller cancelled the download
        answered = False
        try:
            while True:
                message = self._receive(cancel)
                kind = message[0]
                if kind == "event":
                    yield message[1]
                elif kind == "progress":
                    if progress is not None and refused is None:
                        try:
                            progress(*message[1:])
                        except Exception as error:  # e.g. DownloadCancelled: the child stops at its next chunk
                            refused = error
                            cancel.set()
                elif kind == "memory":
                    self._device_bytes, self._warm_bytes = message[1]
                elif kind == "speech_model_loading":
                    if self._on_speech_model_load is not None:
                        self._on_speech_model_load(message[1])
                elif kind == "return":
                    answered = True
                    self._device_bytes, self._warm_bytes = message[2]
                    if refused is not None:
                        raise refused
                    return message[1]
                else:  # "raise"
                    answered = True
                    raise unpacked(*message[1])
        finally:
            if not answered and self._process is not None:
                self._drain()

    def _drain(self) -> None:
        """The caller left mid-call: cancel the child's call and read what it still sends, up to
        its answer, so the next call starts on a clean pipe."""
        cancel = threading.Event()
        cancel.set()
        self._cancel_forwarded = False
        try:
            while self._receive(cancel)[0] not in ("return", "raise"):
                pass
        except ChildEnded:
            pass  # it died meanwhile: the next call starts another

    def _send(self, message: tuple) -> None:
        try:
            self._connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # the child is gone
            self._ended()

    def _receive(self, cancel: threading.Event | None) -> tuple:
        """The child's next message; forwards ``cancel`` once it is set. A child that has ended is
        noticed at once: its process sentinel is waited on with the pipe."""
        connection, process = self._connection, self._process
        while True:
            for message in self._relay() if self._relay is not None else ():
                try:
                    connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
                except OSError:
                    pass  # gone: the wait below says so
            if cancel is not None and cancel.is_set() and not self._cancel_forwarded:
                self._cancel_forwarded = True
                try:
                    connection.send_bytes(pickle.dumps(("cancel",)))
                except OSError:
                    pass  # gone: the wait below says so
            polling = self._relay is not None or (cancel is not None and not self._cancel_forwarded)
            ready = wait([connection, process.sentinel], timeout=CANCEL_POLL_S if polling else None)
            if connection in ready:
                try:
                    return pickle.loads(connection.recv_bytes())
                except (EOFError, OSError):
                    pass  # its end closed: it died, or is dying
                self._ended()
            elif process.sentinel in ready:
                self._ended()

    # --- the child's life ------------------------------------------------------------------------

    def _start_if_stopped(self, reload: bool = True) -> None:
        """A fresh child when there is none, with the model loaded before (unless ``reload`` is
        False: a load is what comes next)."""
        if self._process is not None:
            if self._process.is_alive():
                return
            self._forget_dead_child()  # it died between calls: nothing was lost, start another
        here, there = self._context.Pipe(duplex=True)
        process = self._context.Process(target=serve, args=(there, self._threads, self._warm_voices_bytes),
                                        name="dia-studio engine", daemon=True)
        process.start()
        there.close()  # the child's end: only the child holds it now, so its death closes the pipe
        self._process, self._connection, self._device_bytes, self._warm_bytes = process, here, None, None
        if reload and self._loaded_with is not None:  # after a crash: the same model, again
            model, device, precision, progress = self._loaded_with
            try:
                self._info = self._answer(("load", (model, device, precision, progress is not None)),
                                          progress=progress)
            except ChildEnded as ended:
                raise ended.failure() from None

    def _ended(self):
        """The child died: forget it, and raise ``ChildEnded`` with how it ended."""
        raise ChildEnded(ending(self._forget_dead_child()))

    def _forget_dead_child(self) -> int | None:
        """Its exit code, once the system has reaped it."""
        process, connection = self._process, self._connection
        self._process, self._connection = None, None
        process.join(CLOSE_WAIT_S)  # its pipe closes a moment before the system reaps it
        if process.exitcode is None:  # alive with its pipe closed: of no further use
            process.kill()
            process.join()
        connection.close()
        return process.exitcode

    def _stop(self) -> None:
        process, connection = self._process, self._connection
        self._process, self._connection = None, None
        if process is None:
            return
        try:
            connection.send_bytes(pickle.dumps(("close",)))
        except OSError:
            pass
        process.join(CLOSE_WAIT_S)
        if process.exitcode is None:
            process.kill()
            process.join()
        connection.close()


class OwnProcessLiveTake(RelayedLiveTake):
    """A live take in the model's own process (``OwnProcessEngine.open_live_take``); a child that
    dies mid-take ends the events with the take as streamed, then raises ``EngineFailed``."""

    def __init__(self, engine: OwnProcessEngine, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None):
        super().__init__(engine._calls, params, voices, context)
        try:
            engine._needs_model()
        except Exception:
            self._release()
            raise
        self._engine = engine

    def _take_events(self) -> Iterator[GenerationEvent]:
        return self._engine._live_events(self)
