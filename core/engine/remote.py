"""The engine on another machine: a ``dia-studio serve`` by URL and key, over its ``/v1/engine``
WebSocket (``core.engine.wire``; the server side is ``core.service.engine_endpoint``).

The server loads its model when it starts; ``load`` checks that it is the one asked for. Chunks,
word timings, progress and codes stream as they arrive, so the preview, follow-along and lines
regenerated with context work as they do locally. A voice goes up once: it is named by the hash
of its samples and its audio is sent only when the server does not know it.

A connection that drops is reported as ``EngineFailed`` with the reason (after the unfinished
take, kept from what was streamed); the next call connects again (a few tries, with backoff).
No call waits forever: the server sends a heartbeat while it works, so ``SILENCE_S`` without a
word means the link is dead, and a cancel is sent at once and given ``CANCEL_GRACE_S``.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import torch

from core.dia2.checkpoint import ProgressCallback
from core.dia2.events import GenerationEvent, GenerationRequest, TakeResult
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.transcript_alignment import TimedWord
from core.engine import wire
from core.engine.engine import EngineFailed, EngineKind, MemoryReport, ModelInfo
from core.engine.live_relay import RelayedLiveTake
from core.engine.streamed_takes import StreamedTakes
from core.errors import DiaStudioError
from core.params import MODEL_IDS, GenerationParams

CONNECT_TIMEOUT_S = 10.0
SILENCE_S = 30.0  # no message (not even a heartbeat) for this long: the link is dead
CANCEL_GRACE_S = 5.0  # a cancelled generation not ended by then is cut off here
POLL_S = 0.1  # how often a generation looks at its cancel
RECONNECT_DELAYS_S = (0.5, 1.0, 2.0)  # between the tries of one connect
LOADING_POLL_S = 1.0  # how often load asks a server whose model is still loading
UNREACHABLE_PAUSE_S = 15.0  # after a memory read found the server out of reach, the next one waits this long


class RemoteEngine:
    kind = EngineKind.REMOTE

    def __init__(self, url: str | None, api_key: str | None, *, silence_s: float = SILENCE_S):
        self.url = engine_url(url)
        self.server = _server_name(self.url)
        self._key = api_key or ""
        self._silence_s = silence_s
        self._link: _Link | None = None
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
            self._memory = MemoryReport(reply.get("processBytes"), reply.get("deviceBytes"))
        except DiaStudioError as error:
            self._memory = MemoryReport(self._memory.process_bytes, self._memory.device_bytes, str(error))
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
                streamed = self._stream(link, cancel, takes, live.send_pending if live is not None else None)
                first = next(streamed, None)
                break
            except _RemoteError as error:
                if error.code != "unknownVoice" or inline_voices:
                    raise error.as_studio_error(self.server) from None
                self._voices.clear()  # the server forgot them (its cache is bounded): send the codes
                inline_voices = True
            except _LinkLost as lost:  # nothing streamed yet: nothing lost by asking again
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
        except _LinkLost as lost:
            self._drop()
            reason = f"The connection to {self.server} was lost during the generation ({lost})."
            unfinished = takes.unfinished(f"{reason} What was streamed before is kept.")
            if unfinished is not None:
                yield unfinished
            raise EngineFailed(f"{reason} The next generation connects again.") from None
        except _RemoteError as error:
            unfinished = takes.unfinished(f"The server stopped the take: {error.message}")
            if unfinished is not None:
                yield unfinished
            raise error.as_studio_error(self.server) from None
        except GeneratorExit:  # the caller stopped reading: the server stops when the link goes
            self._drop()
            raise

    def _stream(self, link: _Link, cancel: threading.Event, takes: StreamedTakes,
                between=None) -> Iterator[GenerationEvent]:
        """``between(link)``: sends what a live take was given since (before each read)."""
        heard, cancelled_at = time.monotonic(), None
        while True:
            if between is not None:
                between(link)
            if cancel.is_set() and cancelled_at is None:
                link.send({"type": "cancel"})
                cancelled_at = time.monotonic()
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                self._drop()  # the server stops when the link goes; what was made is kept here
                unfinished = takes.unfinished("Cancelled.")
                if unfinished is not None:
                    yield unfinished
                return
            got = link.receive(POLL_S)
            if got is None:
                if time.monotonic() - heard > self._silence_s:
                    raise _LinkLost(f"no word from the server for {self._silence_s:.0f} s")
                continue
            heard = time.monotonic()
            message, arrays = got
            kind = message["type"]
            if kind == "working":
                continue
            if kind == "done":
                return
            if kind == "error":
                raise _RemoteError(message)
            if kind == "take":
                yield takes.watch(_take_result(message, takes))
            else:
                yield takes.watch(wire.streamed_event(message, arrays))

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
            except _LinkLost:  # found dead (the server restarted, the network changed): once more
                self._drop()
                return self._ask(self._connected(delays=reconnect_delays), message, arrays)
        except _LinkLost as lost:
            self._drop()
            raise EngineFailed(f"The connection to {self.server} was lost ({lost}); the next call "
                               "connects again.") from None
        except _RemoteError as error:
            raise error.as_studio_error(self.server) from None

    def _ask(self, link: _Link, message: dict[str, Any],
             arrays: tuple[np.ndarray, ...]) -> tuple[dict[str, Any], list[np.ndarray]]:
        link.send(message, arrays)
        while True:
            got = link.receive(self._silence_s)
            if got is None:
                raise _LinkLost(f"no word from the server for {self._silence_s:.0f} s")
            if got[0]["type"] == "error":
                raise _RemoteError(got[0])
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
                   delays: tuple[float, ...] = RECONNECT_DELAYS_S) -> _Link | None:
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
            except _Unreachable as error:
                if not error.retry or attempt == len(delays):
                    raise EngineFailed(str(error)) from None

    def _open(self) -> _Link:
        from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
        from websockets.sync.client import connect

        parts = urlsplit(self.url)
        where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'wss' else 80)}"
        try:
            connection = connect(self.url, open_timeout=CONNECT_TIMEOUT_S, close_timeout=1.0, compression=None,
                                 max_size=wire.MAX_MESSAGE_BYTES, ping_interval=10.0, ping_timeout=10.0,
                                 user_agent_header="dia-studio", legacy=True)
        except InvalidStatus as error:
            raise _Unreachable(self._refused_upgrade(error.response.status_code), retry=False) from None
        except InvalidURI as error:
            raise _Unreachable(f"{self.url} is not a server address ({error}).", retry=False) from None
        except ssl.SSLCertVerificationError as error:
            raise _Unreachable(f"The TLS certificate of {parts.hostname} could not be verified "
                               f"({error.verify_message}); check the address, or the certificate the server "
                               "uses.", retry=False) from None
        except ssl.SSLError as error:
            raise _Unreachable(f"{where} did not answer in TLS ({error.reason or error}): if the server is a "
                               "plain dia-studio serve, use ws:// or http:// for it.", retry=False) from None
        except InvalidHandshake as error:
            raise _Unreachable(f"{where} did not answer as a WebSocket server ({error}); if it uses TLS, use "
                               "wss:// or https:// for it.", retry=False) from None
        except ConnectionRefusedError:
            raise _Unreachable(f"Nothing answers at {where} (connection refused): is dia-studio serve running "
                               "there, on that port?", retry=True) from None
        except socket.gaierror:
            raise _Unreachable(f"The host {parts.hostname} is not known; check the server's address.",
                               retry=False) from None
        except (TimeoutError, socket.timeout):
            raise _Unreachable(f"{where} did not answer within {CONNECT_TIMEOUT_S:.0f} s (a wrong address, or a "
                               "firewall in between?).", retry=False) from None
        except OSError as error:
            raise _Unreachable(f"{where} could not be reached ({error.strerror or error}).", retry=True) from None
        link = _Link(connection)
        try:
            link.send({"type": "hello", "protocol": wire.PROTOCOL, "apiKey": self._key})
            got = link.receive(self._silence_s)
        except _LinkLost as lost:
            link.close()
            raise _Unreachable(f"{where} closed the connection before greeting the studio ({lost}).",
                               retry=True) from None
        if got is None or got[0]["type"] not in ("welcome", "error"):
            link.close()
            raise _Unreachable(f"{where} did not greet the studio as a dia-studio serve does.", retry=False)
        reply = got[0]
        if reply["type"] == "error":
            link.close()
            if reply.get("code") == "invalidApiKey":
                raise _Unreachable(f"The server at {self.server} refused the API key: give one of the keys of "
                                   "its --api-keys file.", retry=False)
            if reply.get("code") == "unsupportedProtocol":
                raise _Unreachable(f"The server at {self.server} speaks version {reply.get('protocol')} of the "
                                   f"engine protocol and this studio version {wire.PROTOCOL}: update the older of "
                                   "the two.", retry=False)
            raise _Unreachable(f"The server at {self.server} refused the studio: {reply.get('message')}",
                               retry=False)
        self._status = reply
        return link

    def _refused_upgrade(self, status: int) -> str:
        """Why a server answered the engine's address with an HTTP status: too old a serve, or
        something else there."""
        try:
            with urllib.request.urlopen(self.server + "/health", timeout=CONNECT_TIMEOUT_S) as reply:
                body = reply.read(1024)
        except urllib.error.HTTPError as error:
            body = error.read(1024)
        except (OSError, ValueError):
            body = b""
        try:
            is_serve = "status" in json.loads(body)
        except ValueError:
            is_serve = False
        if is_serve:
            return (f"The dia-studio serve at {self.server} is too old to be the studio's engine (it has no "
                    f"{wire.PATH}, HTTP {status}): update it.")
        return f"The server at {self.server} is not a dia-studio serve (it answered {wire.PATH} with HTTP {status})."

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

    def send_pending(self, link: _Link) -> None:
        for message in self.pending():
            link.send({"type": "text", "text": message[1]} if message[0] == "text" else {"type": "end"})


class _Link:
    """One WebSocket, in the framing of ``core.engine.wire``."""

    def __init__(self, connection):
        self._connection = connection

    def send(self, message: dict[str, Any], arrays: tuple[np.ndarray, ...] = ()) -> None:
        from websockets.exceptions import ConnectionClosed

        text, blob = wire.encode(message, arrays)
        try:
            self._connection.send(text)
            if blob is not None:
                self._connection.send(blob)
        except (ConnectionClosed, OSError) as error:
            raise _LinkLost(_closed_reason(error)) from None

    def receive(self, timeout: float) -> tuple[dict[str, Any], list[np.ndarray]] | None:
        """The next message and its arrays; None when nothing came within ``timeout``."""
        from websockets.exceptions import ConnectionClosed

        try:
            text = self._connection.recv(timeout=timeout)
            message = wire.decode(text)
            if not wire.expects_arrays(message):
                return message, []
            return message, wire.arrays_of(message, self._connection.recv(timeout=SILENCE_S))
        except TimeoutError:
            return None
        except (ConnectionClosed, OSError) as error:
            raise _LinkLost(_closed_reason(error)) from None

    def close(self) -> None:
        try:
            self._connection.close()
        except Exception:  # already gone: nothing more to do
            pass


class _LinkLost(Exception):
    """The connection went (internal: it becomes an EngineFailed or a retry)."""


class _Unreachable(Exception):
    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


class _RemoteError(Exception):
    """An error message from the server."""

    def __init__(self, message: dict[str, Any]):
        super().__init__(message.get("message"))
        self.code, self.message = message.get("code", ""), str(message.get("message", ""))

    def as_studio_error(self, server: str) -> DiaStudioError:
        if self.code == "transcriptionFailed":
            from core.dia2.transcribe import TranscriptionError  # imports Whisper: only when needed

            return TranscriptionError(self.message)
        kind = wire.ERRORS.get(self.code)
        return kind(self.message) if kind else EngineFailed(f"The server at {server} failed: {self.message}")


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


def engine_url(url: str | None) -> str:
    """The engine's WebSocket address from what a person types: ``http://box:8000``,
    ``https://box``, ``ws://box:8000/v1/engine``, or a bare ``box:8000``."""
    if not url or not url.strip():
        raise EngineFailed("Give the address of the dia-studio serve to generate on, such as http://gpu-box:8000.")
    url = url.strip()
    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if parts.scheme not in schemes or not parts.hostname:
        raise EngineFailed(f"{url} is not a server address: give one such as http://gpu-box:8000 "
                           "(or https://, ws://, wss://).")
    path = parts.path.rstrip("/")
    if not path.endswith(wire.PATH):
        path = (path.removesuffix("/v1") + wire.PATH)
    return urlunsplit((schemes[parts.scheme], parts.netloc, path, "", ""))


def _server_name(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.replace('ws', 'http')}://{parts.netloc}"


def _named(info: ModelInfo, served: set[str]) -> str:
    aliases = sorted(served - {info.name})
    return info.name + (f" ({', '.join(aliases)})" if aliases else "")


def _codes_digest(codes) -> str:
    array = wire.codes_array(codes)
    return hashlib.sha256(repr(array.shape).encode() + array.tobytes()).hexdigest()


def _closed_reason(error: BaseException) -> str:
    from websockets.exceptions import ConnectionClosed

    if isinstance(error, ConnectionClosed):
        if error.rcvd is None:
            return "the connection was cut"
        return f"the server closed it: {error.rcvd.reason or error.rcvd.code}"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
