"""``/v1/live``: a live take over a WebSocket. Text goes in as it is written (a language model's
reply token by token), audio comes out as it is made (``core.dia2.live_take``).

From the client, JSON objects with a ``type``:
- ``start``: the take's settings, named and checked as an audioInference task's (``model``,
  ``seed``, ``CFGScale``, ``negativePrompt``, ``settings``, ``inputs.audios``), and the audio
  wanted: ``outputFormat`` ``pcm_f32le`` (default) or ``pcm_s16le``, ``audioSettings.sampleRate``
  (24000, the model's, by default; other rates are resampled). ``apiKey`` too, unless the
  handshake sent ``Authorization: Bearer <key>``.
- ``text`` (``"text"``: appended verbatim; any pieces, down to single characters), ``end`` (no
  more text: the take finishes), ``cancel`` (stop now), ``ping`` (answered ``pong``).

From the server: ``ready`` (voices encoded, the model is this take's: send text), binary frames
of PCM, ``word`` (a word taken, ``startS`` on the take's audio clock; it comes before its audio),
``stall`` / ``resume`` (the text runs behind the speech: the take waits for it), ``done``
(``reason`` end, cancelled or idle; ``audioS``, ``ttfaMs`` from the first text to the first audio,
``stalledMs``, ``seed``), ``waiting`` (the model finishes a running task first) and ``error``
with the task API's codes. A refused piece of text (``invalidSpeechText``) or a bad message
changes nothing: the take goes on. After ``done`` the connection may ``start`` again.

The model: a live take takes its turn as a studio does (``ModelTurn``): after the task running
now, ahead of queued tasks, and ``modelBusy`` at once while another live take or a studio has it.
It holds the model until ``done``; text that stops for ``idle_timeout_s`` without an ``end`` ends
the take (``reason`` idle). A client that leaves (or cancels) frees the model within a frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from core.audio import MODEL_SAMPLE_RATE
from core.audio.pcm_stream import PcmStream
from core.dia2.events import AudioChunk, GenerationBusy, Stalled, TakeResult, WordTiming
from core.dia2.script import UnspeakableScript
from core.errors import DiaStudioError, InvalidParameter, describe_error
from core.lexicon.lexicon import Lexicon
from core.lexicon.streamed import StreamedRespelling
from core.params import GenerationParams
from core.service.api_errors import ApiError
from core.service.protocol import MAX_SCRIPT_CHARS, generation_params, invalid_parameter, parse_voices
from core.service.socket_session import SocketSession
from core.service.task_service import TaskService
from core.service.voice_inputs import keep_voice
from core.service.ws_session import IDLE_TIMEOUT_S as CONNECTION_IDLE_S

log = logging.getLogger("dia_studio.service")

PATH = "/v1/live"
_GENERATION_FIELDS = ("model", "seed", "CFGScale", "negativePrompt", "settings")
_START_FIELDS = ("type", "apiKey", *_GENERATION_FIELDS, "inputs", "outputFormat", "audioSettings")
_END = object()  # the take's events are over


@dataclass(frozen=True)
class LiveRequest:
    params: GenerationParams  # with its seed
    voices: tuple[Any, ...]  # inputs.audios as sent
    encoding: str
    sample_rate: int


def parse_start(message: dict[str, Any]) -> LiveRequest:
    """A ``start`` message's settings, checked as the task API checks a task's; raises ApiError."""
    message = {key: value for key, value in message.items() if value is not None}
    for key in message:
        if key == "numberResults":
            raise ApiError("unknownParameter", "numberResults: a live take is one take; start another for "
                           "another seed.", parameter=key)
        if key not in _START_FIELDS:
            raise ApiError("unknownParameter", f"{key} is not a field of a start message; it takes "
                           + ", ".join(_START_FIELDS[1:]) + ".", parameter=key)
    settings = message.get("audioSettings", {})
    if not isinstance(settings, dict) or set(settings) - {"sampleRate"}:
        raise ApiError("invalidAudioSettings", 'audioSettings takes only a sampleRate, such as {"sampleRate": '
                       "16000}.", parameter="audioSettings")
    try:
        params = generation_params({key: message[key] for key in _GENERATION_FIELDS if key in message})
        output = PcmStream(message.get("outputFormat", "pcm_f32le"), settings.get("sampleRate", MODEL_SAMPLE_RATE),
                           encoding_field="outputFormat", rate_field="audioSettings.sampleRate")
    except InvalidParameter as error:
        raise invalid_parameter(error) from None
    return LiveRequest(params.with_seed(), parse_voices(message.get("inputs")), output.encoding, output.sample_rate)


@dataclass
class _Take:
    """What the session knows of its take while it runs."""

    live: Any  # the engine's live take (in process a core.dia2.live_take.LiveTake): its seed and text_ended read too
    pcm: PcmStream
    idle_deadline: float
    first_text_at: float | None = None
    first_audio_at: float | None = None
    spoke: bool = False  # a word was taken: a wait for text from now on is a stall
    stall_began: float | None = None
    stalled_s: float = 0.0
    by_idle: bool = False
    result: TakeResult | None = None
    respelling: StreamedRespelling = field(default_factory=lambda: StreamedRespelling(Lexicon()))


class LiveSession(SocketSession):
    """One client's connection. ``socket`` is Starlette's WebSocket, already accepted;
    ``bearer`` the key its handshake gave, if any."""

    def __init__(self, service: TaskService, socket, bearer: str | None, idle_timeout_s: float):
        super().__init__(socket)
        self.service = service
        self.idle_timeout_s = idle_timeout_s
        client = socket.client
        self.holder = f"a live take from {client.host}:{client.port}" if client else "a live take"
        self._authenticated = bearer is not None and service.key_is_valid(bearer)
        self._give_up = threading.Event()  # a start being prepared stops (a cancel, the client gone)
        self._take: _Take | None = None
        self._pump: asyncio.Future | None = None
        self._closing = False

    async def _serve(self) -> None:
        while not self._closing and (got := await self._next()) is not None:
            message, received_at = got
            try:
                await self._handle(message, received_at)
            except ConnectionError:
                raise
            except Exception as error:  # the client hears why; the connection goes on
                await self._send(_error_of(error, message.get("type")))

    # ---- the socket ------------------------------------------------------------------------------
    async def _received(self, frame: dict[str, Any]) -> None:
        """A message into the inbox with the moment it came; a cancel acts at once, a ping is
        answered at once."""
        received_at = time.monotonic()
        message = _decode(frame.get("text"))
        if message.get("type") == "cancel":
            self._cancel_now()
        elif message.get("type") == "ping":
            await self._send({"type": "pong"})
            return
        await self._inbox.put((message, received_at))

    def _gone(self) -> None:
        """The client left (its take is cancelled: the model is free within a frame), or the session ended."""
        self._cancel_now()
        if self._pump is not None:
            self._pump.cancel()

    async def _next(self) -> tuple[dict[str, Any], float] | None:
        """The next message; meanwhile, a take whose text stopped coming is ended (idle)."""
        while True:
            take = self._take
            waiting_for_text = take is not None and not take.live.text_ended and not take.by_idle
            timeout = max(0.0, take.idle_deadline - time.monotonic()) if waiting_for_text else None
            if take is None:
                timeout = CONNECTION_IDLE_S
            try:
                return await asyncio.wait_for(self._inbox.get(), timeout)
            except asyncio.TimeoutError:
                if take is None:
                    return None  # a connection without a take, silent for long: closed
                if self._take is take:
                    self._end_idle(take)

    async def _send(self, message: dict[str, Any] | bytes) -> None:
        await self._send_frames(message if isinstance(message, bytes) else json.dumps(message))

    def _cancel_now(self) -> None:
        self._give_up.set()
        take = self._take
        if take is not None:
            take.live.cancel()
            self.service.runner.turn.leaving(self.holder)

    # ---- messages ---------------------------------------------------------------------------------
    async def _handle(self, message: dict[str, Any], received_at: float) -> None:
        kind = message.get("type")
        take = self._take
        if kind == "start":
            if take is not None:
                raise ApiError("invalidMessage", "A take is running on this connection: end or cancel it, and "
                               "start the next after its done.")
            await self._start(message)
        elif kind in ("text", "end"):
            if take is None:
                raise ApiError("invalidMessage", f"No take is running for this {kind} message: send start first.")
            if kind == "text":
                self._push(take, message, received_at)
            else:
                self._end_text(take)
        elif kind == "cancel":
            pass  # acted on as it came (_read); without a take there is nothing to stop
        elif kind == "invalid":
            raise ApiError("invalidMessage", message["why"])
        else:
            raise ApiError("unsupportedMessage", f"This endpoint takes start, text, end, cancel and ping "
                           f"messages, not {kind!r}.")

    def _push(self, take: _Take, message: dict[str, Any], received_at: float) -> None:
        text = message.get("text")
        if not isinstance(text, str):
            raise ApiError("invalidText", 'A text message carries its text as a string: {"type": "text", '
                           '"text": "Hello"}.', parameter="text")
        if len(text) > MAX_SCRIPT_CHARS:
            raise ApiError("invalidText", f"A text message holds at most {MAX_SCRIPT_CHARS} characters (this one "
                           f"{len(text)}); send long text in several.", parameter="text")
        take.idle_deadline = received_at + self.idle_timeout_s
        if take.first_text_at is None and text.strip():
            take.first_text_at = received_at
        spoken = take.respelling.take(text)  # the server's lexicon: settled words go respelled
        if spoken:
            take.live.push_text(spoken)

    @staticmethod
    def _end_text(take: _Take) -> None:
        rest = take.respelling.end()
        if rest:
            take.live.push_text(rest)
        take.live.end_text()

    def _end_idle(self, take: _Take) -> None:
        take.by_idle = True
        try:
            self._end_text(take)
        except UnspeakableScript:  # nothing to say (no words yet): the take just ends
            take.live.cancel()

    # ---- a take -----------------------------------------------------------------------------------
    async def _start(self, message: dict[str, Any]) -> None:
        self._give_up.clear()
        if not self._authenticated:
            if not self.service.key_is_valid(message.get("apiKey")):
                await self._send({"type": "error", "code": "invalidApiKey", "parameter": "apiKey",
                                  "message": "The server refused the API key: give one of its --api-keys as "
                                             "apiKey in the start message, or as 'Authorization: Bearer <key>'."})
                self._closing = True
                return
            self._authenticated = True
        request = parse_start(message)
        engine = self.service.runner.engine
        if engine is None:
            reason = self.service.runner.load_error
            raise ApiError("modelUnavailable", f"The server's model could not be loaded: {reason}" if reason
                           else "The server's model is still loading; try again in a moment.")
        self.service.check_served(request.params.model)
        turn = self.service.runner.turn
        turn.refuse_if_busy()  # before voices are prepared: a busy model is said at once
        prompts = await asyncio.to_thread(self._voice_prompts, request.voices)
        if (busy_with := turn.waits_for()) is not None:
            await self._send({"type": "waiting", "message": f"The model finishes {busy_with} first; this take "
                              "starts right after it."})
        if not await asyncio.to_thread(turn.take_for_studio, self.holder, self._give_up.is_set):
            await self._send(_done("cancelled", None, request.params.seed))
            return
        try:
            live = engine.open_live_take(request.params, prompts)
        except BaseException:
            turn.give_back(self.holder)
            raise
        take = _Take(live, PcmStream(request.encoding, request.sample_rate),
                     idle_deadline=time.monotonic() + self.idle_timeout_s,
                     respelling=StreamedRespelling(self.service.config.lexicon))
        self._take = take
        if self._give_up.is_set():  # the client left or cancelled meanwhile
            live.cancel()
        log.info("live: %s started (seed %d)", self.holder, live.seed)
        # The take runs from here (its first frames need no text); its events wait in the queue
        # until ready has gone out. A client gone before that cancels it, as any other time.
        events: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._produce, args=(live, lambda item: loop.call_soon_threadsafe(
            events.put_nowait, item)), name="live-take", daemon=True).start()
        await self._send({"type": "ready", "seed": live.seed, "model": engine.info.name,
                          "outputFormat": request.encoding, "sampleRate": request.sample_rate})
        self._pump = asyncio.ensure_future(self._relay(take, events))

    def _voice_prompts(self, voices: tuple[Any, ...]) -> tuple:
        """inputs.audios → voice prompts, as an audioInference task's (kept once, heard once)."""
        service = self.service
        media = [keep_voice(service.store, value, f"inputs.audios[{index}]", service.config.fetch)
                 for index, value in enumerate(voices)]
        return tuple(service.runner.voice_prompt(item.media_uuid, index) for index, item in enumerate(media))

    def _produce(self, live, put) -> None:
        """The take's events, on a thread of its own; the model is given back before the end is
        announced, so the next take the client starts finds it free."""
        outcome: Any = _END
        try:
            for event in live.events():
                put(event)
        except BaseException as error:  # goes to the client as an error message
            outcome = error
        finally:
            self.service.runner.turn.give_back(self.holder)
        put(outcome)

    async def _relay(self, take: _Take, events: asyncio.Queue) -> None:
        try:
            while (event := await events.get()) is not _END:
                if isinstance(event, BaseException):
                    self._take = None
                    log.error("live: %s failed: %s", self.holder, describe_error(event))
                    await self._send(_error_of(event, "text"))
                    return
                await self._relay_event(take, event)
            self._take = None
            result = take.result
            reason = "idle" if take.by_idle else "end" if result is not None and result.complete else "cancelled"
            ttfa = (None if take.first_audio_at is None or take.first_text_at is None
                    else take.first_audio_at - take.first_text_at)
            audio_s = len(result.audio) / result.sample_rate if result is not None else 0.0
            log.info("live: %s done (%s, %.1f s of audio)", self.holder, reason, audio_s)
            await self._send(_done(reason, ttfa, take.live.seed, audio_s, take.stalled_s))
        except ConnectionError:
            pass  # the client left: its take was cancelled as it went (_read)

    async def _relay_event(self, take: _Take, event) -> None:
        if isinstance(event, Stalled):
            if take.spoke and take.stall_began is None:
                take.stall_began = time.monotonic()
                await self._send({"type": "stall"})
            return
        if take.stall_began is not None:
            stalled = time.monotonic() - take.stall_began
            take.stalled_s += stalled
            take.stall_began = None
            await self._send({"type": "resume", "stalledMs": round(stalled * 1000)})
        if isinstance(event, AudioChunk):
            data = take.pcm.encode(event.samples)
            if take.first_audio_at is None:
                take.first_audio_at = time.monotonic()
            if data:
                await self._send(data)
        elif isinstance(event, WordTiming):
            take.spoke = True
            for word in take.respelling.written_words(event.word):  # as the client wrote them
                await self._send({"type": "word", "text": word, "startS": round(event.start_s, 3)})
        elif isinstance(event, TakeResult):
            take.result = event
            tail = take.pcm.finish()
            if tail:
                await self._send(tail)


def _decode(text: str | None) -> dict[str, Any]:
    """A client's message, or an ``invalid`` one saying what is wrong with it."""
    if text is None:
        return {"type": "invalid", "why": "Binary frames are the server's (audio); send JSON text messages."}
    try:
        message = json.loads(text)
    except ValueError as error:
        return {"type": "invalid", "why": f"A message is not JSON ({error})."}
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return {"type": "invalid", "why": 'A message is a JSON object with a type, such as {"type": "end"}.'}
    return message


def _done(reason: str, ttfa_s: float | None, seed: int, audio_s: float = 0.0, stalled_s: float = 0.0) -> dict:
    return {"type": "done", "reason": reason, "audioS": round(audio_s, 3),
            "ttfaMs": None if ttfa_s is None else round(ttfa_s * 1000, 1), "stalledMs": round(stalled_s * 1000),
            "seed": seed}


def _error_of(error: BaseException, kind: str | None) -> dict[str, Any]:
    if isinstance(error, ApiError):
        code, message, parameter = error.code, error.message, error.parameter
    elif isinstance(error, GenerationBusy):
        code, message, parameter = "modelBusy", str(error), None
    elif isinstance(error, UnspeakableScript):
        code, message, parameter = "invalidSpeechText", f"{error} The take goes on without it.", "text"
    elif isinstance(error, DiaStudioError):
        code, message, parameter = "inferenceError", str(error), None
    else:
        log.error("live: a %s message failed: %s", kind, describe_error(error), exc_info=error)
        code, message, parameter = "inferenceError", describe_error(error, "The live take failed"), None
    return {"type": "error", "code": code, "message": message} | ({"parameter": parameter} if parameter else {})
