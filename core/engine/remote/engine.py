"""The engine on a serve (see the package's docstring): the model's calls, a generation's
messages and its retries, the server's memory read in the background, and live takes there."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from core.dia2.checkpoint import ProgressCallback
from core.dia2.events import GenerationEvent, GenerationRequest
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.transcript_alignment import TimedWord
from core.engine import wire
from core.engine.engine import EngineFailed, EngineKind, MemoryReport, ModelInfo
from core.engine.live_relay import RelayedLiveTake
from core.engine.remote.address import engine_url, server_name
from core.engine.remote.connect import Unreachable, connect
from core.engine.remote.link import SILENCE_S, Link, LinkLost, RemoteError
from core.engine.remote.stream import streamed_events
from core.engine.streamed_takes import StreamedTakes
from core.errors import DiaStudioError
from core.params import MODEL_IDS, GenerationParams

RECONNECT_DELAYS_S = (0.5, 1.0, 2.0)  # between the tries of one connect
LOADING_POLL_S = 1.0  # how often load asks a server whose model is still loading
UNREACHABLE_PAUSE_S = 15.0  # after a memory read found the server out of reach, the next one waits this long


class RemoteEngine:
    kind = EngineKind.REMOTE

    def __init__(self, url: str | None, api_key: str | None, *, silence_s: float = SILENCE_S):
        self.url = engine_url(url)
        self.server = server_name(self.url)
        self._key = api_key or ""
        self._silence_s = silence_s
        self._link: Link | None = None
        self._status: dict[str, Any] = {}
        self._info: ModelInfo | None = None
        self._voices: dict[str, str] = {}  # digest of a voice's codes → the server's name for it
        self._lock = threading.Lock()  # one call at a time on the one connection
        self._memory = MemoryReport(None, None)  # as the server last said
        self._memory_reader: threading.Thread | None = None
        self._next_memory_read = 0.0  # monotonic time
        self._memory_guard = threading.Lock()  # a read is started, or a live take waits for it to end
        self._opening_live_takes = 0  # no read starts while a take waits to take the connection

    # ---- the model --------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo | None:
        return self._info

    @property
    def sample_rate(self) -> int:
        return self._served_info().sample_rate

    def load(self, model: str, device: str = "auto", precision: str = "auto",
             progress: ProgressCallback | None = None) -> ModelInfo:
        """Check that the server runs ``model`` (its id, an alias of it, or its name as loaded);
        while the server is still loading it, wait (``progress`` may raise to stop waiting).
        The device and precision are the server's (its --device and --dtype)."""
        with self._lock:
            status = self._call({"type": "info"})
            while status["status"] == "loading":
                if progress is not None:
                    progress(0, 0, f"the model on {self.server} (still loading there)")
                time.sleep(LOADING_POLL_S)
                status = self._call({"type": "info"})
        info = self._served_info()
        served = {info.name, *self._status.get("served", ())}
        if model not in served and MODEL_IDS.get(model) not in served:
            raise EngineFailed(f"The server at {self.server} runs {_named(info, served)}, not {model}: choose "
                               f"that model, or start the server with --model {model}.")
        self._info = info
        return info

    def unload(self) -> None:
        """The server keeps its model (other studios and the task API use it): only this studio
        lets go of it."""
        self._info = None

    def parse(self, script: str) -> None:
        self._locked_call({"type": "parse", "script": script})

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        digest = wire.voice_digest(samples)
        with self._lock:
            reply, arrays = self._call_with_arrays({"type": "encodeVoice", "sha256": digest})
            if reply["type"] == "voiceUnknown":  # new to the server: now the audio goes up
                reply, arrays = self._call_with_arrays({"type": "encodeVoice", "sha256": digest}, (samples,))
        codes = torch.from_numpy(arrays[0].astype(np.int64))
        self._voices[_codes_digest(codes)] = digest
        return codes

    def transcribe(self, samples: np.ndarray, sample_rate: int) -> list[TimedWord]:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        with self._lock:
            reply, _ = self._call_with_arrays({"type": "transcribe", "sampleRate": sample_rate}, (samples,))
        return wire.words_of(reply["words"])

    def release_memory(self) -> None:
        self._locked_call({"type": "releaseMemory"})

    def memory(self) -> MemoryReport:
        """As the server last said, at once: the status bar reads it on the GUI thread, which must
        never wait on the network. A fresh read is asked for in the background, one at a time;
        a server found out of reach is said in ``unavailable`` and asked again only after a pause."""
        with self._memory_guard:
            reader = self._memory_reader
            if (not self._opening_live_takes and (reader is None or not reader.is_alive())
                    and time.monotonic() >= self._next_memory_read):
                self._memory_reader = threading.Thread(target=self._read_memory, name="remote engine memory",
                                                       daemon=True)
                self._memory_reader.start()
        return self._memory

    def _read_memory(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a call holds the connection (a generation, a live take): as last said
        try:
            reply = self._call({"type": "memory"}, reconnect_delays=())  # one try: the next read comes soon
            self._memory = MemoryReport(reply.get("processBytes"), reply.get("deviceBytes"),
                                        warm_voices_bytes=reply.get("warmVoicesBytes"))
        except DiaStudioError as error:
            self._memory = MemoryReport(self._memory.process_bytes, self._memory.device_bytes, str(error),
                                        self._memory.warm_voices_bytes)
            self._next_memory_read = time.monotonic() + UNREACHABLE_PAUSE_S
        finally:
            self._lock.release()

    def close(self) -> None:
        """Not behind the call in flight: closing the link ends it (a generation raises EngineFailed)."""
        self._drop()
        self._info = None

    # ---- generation -------------------------------------------------------------------------------
    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None) -> Iterator[GenerationEvent]:
        cancel = cancel or threading.Event()
        info = self._served_info()
        with self._lock:
            yield from self._generate(request, cancel, info)

    def open_live_take(self, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                       context: SpokenContext | None = None) -> RemoteLiveTake:
        # A take finds the engine busy only when a generation or take holds it: a memory read in
        # flight (a moment, or one try of a connection) is waited for, and none starts meanwhile.
        with self._memory_guard:
            self._opening_live_takes += 1
            reader = self._memory_reader
        try:
            if reader is not None:
                reader.join()
            return RemoteLiveTake(self, params, voices, context)
        finally:
            with self._memory_guard:
                self._opening_live_takes -= 1

    def _generate(self, request: GenerationRequest, cancel: threading.Event,
                  info: ModelInfo, live: RemoteLiveTake | None = None) -> Iterator[GenerationEvent]:
        """``live``: a live take's request (its text sent while its events stream)."""
        takes = StreamedTakes(request, info.sample_rate, info.name)
        inline_voices, reconnected = False, False
        while True:  # asked again at most once for each: a voice forgotten, a link found dead
            message, arrays = self._generate_message(request, inline_voices)
            if live is not None:
                message = {key: value for key, value in message.items() if key != "script"} | {"type": "live"}
            try:
                link = self._connected(cancel)
                if link is None:
                    return
                link.send(message, arrays)
                streamed = streamed_events(link, cancel, takes, self._silence_s, self._drop,
                                           live.send_pending if live is not None else None)
                first = next(streamed, None)
                break
            except RemoteError as error:
                if error.code != "unknownVoice" or inline_voices:
                    raise error.as_studio_error(self.server) from None
                self._voices.clear()  # the server forgot them (its cache is bounded): send the codes
                inline_voices = True
            except LinkLost as lost:  # nothing streamed yet: nothing lost by asking again
                self._drop()
                if reconnected:
                    raise EngineFailed(f"The connection to {self.server} was lost ({lost}); the next "
                                       "generation connects again.") from None
                if cancel.is_set():
                    return
                reconnected = True
        if first is None:
            return
        try:
            yield first
            yield from streamed
        except LinkLost as lost:
            self._drop()
            reason = f"The connection to {self.server} was lost during the generation ({lost})."
            yield from takes.cut_short(f"{reason} What was streamed before is kept.",
                                       EngineFailed(f"{reason} The next generation connects again."))
        except RemoteError as error:
            yield from takes.cut_short(f"The server stopped the take: {error.message}",
                                       error.as_studio_error(self.server))
        except GeneratorExit:  # the caller stopped reading: the server stops when the link goes
            self._drop()
            raise

    def _generate_message(self, request: GenerationRequest,
                          inline_voices: bool) -> tuple[dict[str, Any], tuple[np.ndarray, ...]]:
        arrays: list[np.ndarray] = []

        def codes(tensor) -> int:
            arrays.append(wire.codes_array(tensor))
            return len(arrays) - 1

        voices = []
        for voice in request.voices:
            known = None if inline_voices else self._voices.get(_codes_digest(voice.codes))
            voices.append({"words": wire.words_message(voice.words)}
                          | ({"sha256": known} if known else {"codes": codes(voice.codes)}))
        context = request.context
        message = {"type": "generate", "script": request.script, "params": request.params.to_dict(),
                   "voices": voices,
                   "context": None if context is None else {"script": context.script, "codes": codes(context.codes),
                                                            "wordStarts": list(context.word_starts)}}
        return message, tuple(arrays)

    # ---- calls ------------------------------------------------------------------------------------
    def _locked_call(self, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._call(message)

    def _call(self, message: dict[str, Any],
              reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS_S) -> dict[str, Any]:
        return self._call_with_arrays(message, reconnect_delays=reconnect_delays)[0]

    def _call_with_arrays(self, message: dict[str, Any], arrays: tuple[np.ndarray, ...] = (),
                          reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS_S,
                          ) -> tuple[dict[str, Any], list[np.ndarray]]:
        """Ask and wait for the answer (not a heartbeat); a link found dead is tried once more
        on a fresh connection (every call but a generation can simply be asked again)."""
        try:
            try:
                return self._ask(self._connected(delays=reconnect_delays), message, arrays)
            except LinkLost:  # found dead (the server restarted, the network changed): once more
                self._drop()
                return self._ask(self._connected(delays=reconnect_delays), message, arrays)
        except LinkLost as lost:
            self._drop()
            raise EngineFailed(f"The connection to {self.server} was lost ({lost}); the next call "
                               "connects again.") from None
        except RemoteError as error:
            raise error.as_studio_error(self.server) from None

    def _ask(self, link: Link, message: dict[str, Any],
             arrays: tuple[np.ndarray, ...]) -> tuple[dict[str, Any], list[np.ndarray]]:
        link.send(message, arrays)
        while True:
            got = link.receive(self._silence_s)
            if got is None:
                raise LinkLost(f"no word from the server for {self._silence_s:.0f} s")
            if got[0]["type"] == "error":
                raise RemoteError(got[0])
            if got[0]["type"] != "working":
                if got[0]["type"] == "info":
                    self._status = got[0]
                return got

    def _served_info(self) -> ModelInfo:
        if "model" not in self._status:
            self._locked_call({"type": "info"})  # (a greeting already told it, mostly)
        if self._status.get("status") == "failed":
            raise EngineFailed(f"The model of the server at {self.server} could not be loaded: "
                               f"{self._status.get('reason')}")
        if "model" not in self._status:
            raise EngineFailed(f"The server at {self.server} is still loading its model; try again in a moment.")
        return wire.info_of(self._status["model"])

    # ---- the connection ---------------------------------------------------------------------------
    def _connected(self, cancel: threading.Event | None = None,
                   delays: tuple[float, ...] = RECONNECT_DELAYS_S) -> Link | None:
        """The open link, or a new one (tried again after each of ``delays`` where that can help);
        None when ``cancel`` is set meanwhile."""
        if self._link is not None:
            return self._link
        cancel = cancel or threading.Event()
        for attempt, delay in enumerate((0.0, *delays)):
            if cancel.wait(delay):
                return None
            try:
                self._link = self._open()
                return self._link
            except Unreachable as error:
                if not error.retry or attempt == len(delays):
                    raise EngineFailed(str(error)) from None

    def _open(self) -> Link:
        link, self._status = connect(self.url, self.server, self._key, self._silence_s)
        return link

    def _drop(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()


class RemoteLiveTake(RelayedLiveTake):
    """A live take on the server (``RemoteEngine.open_live_take``): a lost link ends the events
    with the take as streamed, then raises ``EngineFailed``, as a generation does."""

    def __init__(self, engine: RemoteEngine, params: GenerationParams, voices: tuple[VoicePrompt, ...],
                 context: SpokenContext | None):
        self._info = engine._served_info()  # before the lock: it may ask the server
        super().__init__(engine._lock, params, voices, context)
        self._engine = engine

    def _take_events(self) -> Iterator[GenerationEvent]:
        request = GenerationRequest("", self.params, self.voices, self.context)
        yield from self._engine._generate(request, self.cancelled, self._info, live=self)

    def send_pending(self, link: Link) -> None:
        for message in self.pending():
            link.send({"type": "text", "text": message[1]} if message[0] == "text" else {"type": "end"})


def _named(info: ModelInfo, served: set[str]) -> str:
    aliases = sorted(served - {info.name})
    return info.name + (f" ({', '.join(aliases)})" if aliases else "")


def _codes_digest(codes) -> str:
    array = wire.codes_array(codes)
    return hashlib.sha256(repr(array.shape).encode() + array.tobytes()).hexdigest()
