"""``/v1/engine``: the server's engine (the task runner's) as a studio's engine
(``core.engine.remote.RemoteEngine``), over one WebSocket per studio, in the protocol of
``core.engine.wire``.

The first message is ``hello`` with the protocol version and an API key, checked as the task
API checks its keys; the answer is ``welcome`` with the model the server runs. Then one request
at a time: ``info``, ``parse``, ``encodeVoice``, ``transcribe``, ``generate``, ``memory``,
``releaseMemory``. Model work runs on a thread while this loop sends heartbeats and reads the
socket, so a ``cancel``, or a studio that vanishes, stops its generation within a frame and
gives the model back to the task runner at once.

Voices are encoded once per content: the studio names a voice by the hash of its samples and
sends the audio only when the server does not know it; the codes are kept in the task store
(bounded, least recently used forgotten), so a restart keeps them too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from core.dia2.events import GenerationRequest, TakeResult
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.engine import wire
from core.engine.live_text import LiveText
from core.errors import DiaStudioError, InvalidParameter, describe_error
from core.params import GenerationParams
from core.service.api_errors import ApiError
from core.service.protocol import invalid_parameter
from core.service.socket_session import SocketSession
from core.service.task_service import TaskService

if TYPE_CHECKING:
    from core.engine.engine import Engine

log = logging.getLogger("dia_studio.service")

HELLO_TIMEOUT_S = 30.0
_END = object()  # the generation's thread is done


class EngineSession(SocketSession):
    """One studio's connection. ``socket`` is Starlette's WebSocket, already accepted."""

    def __init__(self, service: TaskService, socket):
        super().__init__(socket)
        self.service = service
        client = socket.client
        self.studio = f"a studio at {client.host}" if client else "a studio"
        self._cancel = threading.Event()  # of the generation running now; set when the studio leaves
        self._live = LiveInput()  # a live take's text, from the socket to the take
        self._holding = threading.Event()  # the running generation holds a slot on the model

    async def _serve(self) -> None:
        try:
            if await self._greet():
                while (message := await self._next()) is not None:
                    await self._answer(message)
        except asyncio.TimeoutError:
            pass
        except wire.WireError as error:  # the studio broke the protocol: it hears why, then goes
            await self._send_quietly(wire.error_message("invalidMessage", str(error)))

    # ---- the socket ------------------------------------------------------------------------------
    async def _received(self, frame: dict[str, Any]) -> None:
        """A frame the studio sent, into the inbox; a cancel, and a live take's text, act at once."""
        data = frame.get("text") if frame.get("text") is not None else frame.get("bytes")
        if isinstance(data, str) and _is_cancel(data):
            self._stop_generation()
            return
        if isinstance(data, str) and self._live.takes(data):
            return
        await self._inbox.put(data)

    def _gone(self) -> None:
        self._stop_generation()

    def _stop_generation(self) -> None:
        """Stop the generation running now (it stops within a frame). Its slot on the model is
        marked as being given back, so that this studio's next generation, which may arrive before
        the slot is free (a studio reconnects at once after a cut link), waits for it instead of
        being told the model is busy with its own old generation."""
        self._cancel.set()
        self._live.cancel()
        if self._holding.is_set():
            self.service.runner.turn.leaving(self.studio)

    async def _next(self, timeout: float | None = None) -> tuple[dict[str, Any], list[np.ndarray]] | None:
        """The next message and its arrays; None once the studio has gone."""
        text = await asyncio.wait_for(self._inbox.get(), timeout)
        if text is None:
            return None
        message = wire.decode(text)
        if not wire.expects_arrays(message):
            return message, []
        blob = await asyncio.wait_for(self._inbox.get(), timeout)
        if blob is None:
            return None
        return message, wire.arrays_of(message, blob)

    async def _send(self, message: dict[str, Any], arrays: tuple[np.ndarray, ...] = ()) -> None:
        text, blob = wire.encode(message, arrays)
        await self._send_frames(text, *(() if blob is None else (blob,)))

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
        except ConnectionError:
            pass

    async def _blocking(self, work: Callable, *args):
        """``work(*args)`` on a thread, with a heartbeat to the studio while it runs."""
        future = asyncio.ensure_future(asyncio.to_thread(work, *args))
        while True:
            done, _ = await asyncio.wait({future}, timeout=wire.HEARTBEAT_S)
            if done:
                return future.result()
            await self._send({"type": "working"})

    # ---- hello ------------------------------------------------------------------------------------
    async def _greet(self) -> bool:
        got = await self._next(HELLO_TIMEOUT_S)
        if got is None:
            return False
        hello, _ = got
        if hello["type"] != "hello" or hello.get("protocol") != wire.PROTOCOL:
            await self._send(wire.error_message(
                "unsupportedProtocol", f"This server speaks version {wire.PROTOCOL} of the engine protocol; the "
                f"studio sent version {hello.get('protocol')!r}. Use a studio and a server of the same release.")
                | {"protocol": wire.PROTOCOL})
            return False
        if not self.service.key_is_valid(hello.get("apiKey")):
            await self._send(wire.error_message("invalidApiKey", "The server refused the API key: give one of "
                                                "the keys of its --api-keys file.", "apiKey"))
            return False
        await self._send({"type": "welcome", "protocol": wire.PROTOCOL} | self._status())
        return True

    def _status(self) -> dict[str, Any]:
        engine, runner = self.service.runner.engine, self.service.runner
        if engine is not None:
            return {"status": "ready", "model": wire.info_message(engine.info),
                    "served": list(self.service.config.served_models)}
        if runner.load_error:
            return {"status": "failed", "reason": runner.load_error}
        return {"status": "loading"}

    # ---- requests ---------------------------------------------------------------------------------
    async def _answer(self, got: tuple[dict[str, Any], list[np.ndarray]]) -> None:
        message, arrays = got
        kind = message["type"]
        try:
            if kind == "info":
                await self._send({"type": "info"} | self._status())
                return
            handler = self._HANDLERS.get(kind)
            if handler is None:
                raise ApiError("unsupportedMessage", f"This server does not know a {kind!r} message.")
            await handler(self, message, arrays)
        except ApiError as error:
            await self._send(wire.error_message(error.code, error.message, error.parameter))
        except DiaStudioError as error:
            await self._send(wire.error_message(wire.code_of(error) or "inferenceError", str(error)))
        except (ConnectionError, wire.WireError):
            raise
        except Exception as error:  # a bug or a model failure: the studio hears of it, the server goes on
            log.exception("an engine request (%s) failed", kind)
            await self._send(wire.error_message("inferenceError", describe_error(error, f"The server's {kind} failed")))

    def _engine(self) -> Engine:
        engine = self.service.runner.engine
        if engine is None:
            reason = self.service.runner.load_error
            raise ApiError("modelUnavailable", f"The server's model could not be loaded: {reason}" if reason
                           else "The server's model is still loading; try again in a moment.")
        return engine

    async def _parse(self, message: dict[str, Any], arrays: list[np.ndarray]) -> None:
        self._engine().parse(str(message.get("script", "")))
        await self._send({"type": "parsed"})

    async def _encode_voice(self, message: dict[str, Any], arrays: list[np.ndarray]) -> None:
        engine = self._engine()
        model = engine.info.name
        digest = str(message.get("sha256", ""))
        codes = self.service.store.engine_voice(digest, model)
        if codes is None and not arrays:
            await self._send({"type": "voiceUnknown", "sha256": digest})
            return
        if codes is None:
            samples = _one_array(arrays, "encodeVoice")
            if wire.voice_digest(samples) != digest:
                raise ApiError("invalidVoice", "The voice's audio does not match the hash it was sent with.")
            codes = (await self._blocking(engine.encode_voice, samples)).numpy()
            self.service.store.keep_engine_voice(digest, model, codes)
            log.info("engine: a voice of %.1f s encoded for %s", len(samples) / engine.sample_rate, self.studio)
        await self._send({"type": "voice", "sha256": digest}, (wire.codes_array(codes),))

    async def _transcribe(self, message: dict[str, Any], arrays: list[np.ndarray]) -> None:
        transcriber = self.service.runner.transcriber
        if transcriber is None:
            self._engine()  # no Whisper before the model: say why
            raise ApiError("transcriptionFailed", "This server has no Whisper model.")
        from core.dia2.transcribe import TranscriptionError

        try:
            words = await self._blocking(transcriber.transcribe, _one_array(arrays, "transcribe"),
                                         int(message.get("sampleRate", 0)))
        except TranscriptionError as error:
            raise ApiError("transcriptionFailed", str(error)) from None
        await self._send({"type": "words", "words": wire.words_message(words)})

    async def _memory(self, message: dict[str, Any], arrays: list[np.ndarray]) -> None:
        report = self._engine().memory()
        await self._send({"type": "memory", "processBytes": report.process_bytes, "deviceBytes": report.device_bytes,
                          "warmVoicesBytes": report.warm_voices_bytes})

    async def _release_memory(self, message: dict[str, Any], arrays: list[np.ndarray]) -> None:
        await self._blocking(self._engine().release_memory)
        await self._send({"type": "released"})

    async def _generate(self, message: dict[str, Any], arrays: list[np.ndarray]) -> None:
        """A ``generate``, or a ``live`` take (its text arriving meanwhile, see ``LiveInput``)."""
        engine = self._engine()
        request = self._request(engine, message, arrays)
        live = message["type"] == "live"
        self._cancel = cancel = threading.Event()
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        put = lambda item: loop.call_soon_threadsafe(events.put_nowait, item)  # noqa: E731
        turn = self.service.runner.turn

        def produce() -> None:
            try:
                if turn.take_for_studio(self.studio, cancel.is_set):
                    self._holding.set()
                    takes = 0
                    try:
                        log.info("engine: %s generates (%d characters)", self.studio, len(request.script))
                        events = (self._live.events(engine, request, cancel) if live
                                  else engine.generate(request, cancel))
                        for event in events:
                            takes += isinstance(event, TakeResult) and event.complete
                            put(event)
                    finally:
                        self._holding.clear()
                        turn.give_back(self.studio)
                        log.info("engine: %s's generation %s after %d of %d take(s)", self.studio,
                                 "was stopped" if cancel.is_set() else "ended", takes, request.params.number_results)
                put(_END)
            except BaseException as error:  # goes to the studio as an error message
                put(error)

        threading.Thread(target=produce, name="engine-generation", daemon=True).start()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), wire.HEARTBEAT_S)
                except asyncio.TimeoutError:
                    await self._send({"type": "working"})  # waiting for the model's turn
                    continue
                if event is _END:
                    break
                if isinstance(event, BaseException):
                    raise event
                await self._send(*wire.event_message(event))
        finally:
            self._stop_generation()  # ended, failed or the studio left
        await self._send({"type": "done"})

    def _request(self, engine: Engine, message: dict[str, Any], arrays: list[np.ndarray]) -> GenerationRequest:
        def codes(index: Any, what: str) -> torch.Tensor:
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise ApiError("invalidMessage", f"{what}: no codes sent with index {index!r}.")
            return torch.from_numpy(arrays[index].astype(np.int64))

        try:
            params = GenerationParams.from_dict(message.get("params") or {})
        except InvalidParameter as error:
            raise invalid_parameter(error) from None
        voices = []
        for index, voice in enumerate(message.get("voices") or []):
            words = wire.words_of(voice.get("words") or [])
            if "codes" in voice:
                voices.append(VoicePrompt(codes(voice["codes"], f"voices[{index}]"), words))
                continue
            kept = self.service.store.engine_voice(str(voice.get("sha256")), engine.info.name)
            if kept is None:
                raise ApiError("unknownVoice", f"voices[{index}]: this server does not keep that voice (any more); "
                               "send its codes.", parameter=f"voices[{index}]")
            voices.append(VoicePrompt(torch.from_numpy(kept), words))
        context = None
        if message.get("context") is not None:
            spoken = message["context"]
            context = SpokenContext(codes(spoken.get("codes"), "context"), str(spoken.get("script", "")),
                                    tuple(float(start) for start in spoken.get("wordStarts") or ()))
        return GenerationRequest(str(message.get("script", "")), params, tuple(voices), context)

    _HANDLERS = {"parse": _parse, "encodeVoice": _encode_voice, "transcribe": _transcribe, "generate": _generate,
                 "memory": _memory, "releaseMemory": _release_memory, "live": _generate}


class LiveInput:
    """A live take's ``text`` and ``end`` messages, taken from the socket as they come (the request
    loop is busy streaming the take's events) and given to the take: held until it opens (the
    model may be the task runner's a moment longer), dropped once it has ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = False
        self._held: list[dict[str, Any]] = []
        self._text: LiveText | None = None  # the open take's

    def takes(self, text: str) -> bool:
        """True when ``text`` is a live take's message (used, or dropped if its take has ended).
        A ``live`` request begins to hold them here, as it goes to the request loop."""
        try:
            message = wire.decode(text)
        except wire.WireError:
            return False  # the request loop reports it
        if message["type"] == "live":
            with self._lock:
                self._active, self._held, self._text = True, [], None
        if message["type"] not in ("text", "end"):
            return False
        with self._lock:
            if self._text is not None:
                self._give(message)
            elif self._active:
                self._held.append(message)
        return True

    def events(self, engine: Engine, request: GenerationRequest, cancel: threading.Event):
        """The take's events (on the generation's thread); raises what the take refused after
        its events end."""
        take = engine.open_live_take(request.params, request.voices, request.context)
        text = LiveText(take)
        try:
            with self._lock:
                self._text = text
                for message in self._held:
                    self._give(message)
                self._held = []
                if cancel.is_set():
                    take.cancel()
            yield from take.events()
        finally:
            with self._lock:
                self._text, self._active = None, False
            take.close()
        text.raise_refusal()

    def cancel(self) -> None:
        with self._lock:
            self._active = False
            if self._text is not None:
                self._text.take.cancel()

    def _give(self, message: dict[str, Any]) -> None:
        self._text.apply(message["type"], str(message.get("text", "")))


def _is_cancel(text: str) -> bool:
    try:
        return wire.decode(text)["type"] == "cancel"
    except wire.WireError:
        return False  # the request loop reports it


def _one_array(arrays: list[np.ndarray], kind: str) -> np.ndarray:
    if len(arrays) != 1 or arrays[0].ndim != 1 or arrays[0].dtype != np.float32:
        raise ApiError("invalidMessage", f"A {kind} message carries one array of float32 samples.")
    return arrays[0]
