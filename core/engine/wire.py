"""The remote engine's protocol (``/v1/engine`` of ``dia-studio serve``), one home for both ends.

Every message is a JSON object with a ``type``. One that carries arrays (audio, codes) lists
them in ``arrays`` (dtype and shape each) and is followed by exactly one binary frame holding
them one after the other, little-endian: float32 PCM for audio, int32 for Mimi codes. The
client sends one request at a time and reads its answer to the end; a ``cancel`` may come
while a generation streams. The server sends ``working`` every ``HEARTBEAT_S`` while a slow
call runs (a Whisper load, a wait for the model), so silence longer than that means a dead link.

Generation events go out as they come: ``takeStarted``, ``audio`` (+ samples and codes),
``word``, ``progress``, ``take`` (the finished take's metadata: its audio and codes are the
chunks already sent), then ``done``; or an ``error`` with a code of the task API's catalogue.

A live take (its text written while it is made) is a ``live`` request, a ``generate`` without
its ``script``; the studio then sends ``text`` (``{"text": …}``, appended verbatim) and ``end``
messages while its events stream, which add ``stall`` (waiting for text) to the ones above.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from core.dia2.events import (AudioChunk, GenerationBusy, GenerationEvent, GenerationStalled,
                              InvalidContext, Progress, Stalled, TakeStarted, WordTiming)
from core.dia2.prefix import InvalidVoicePrompt
from core.dia2.script import UnspeakableScript
from core.dia2.transcript_alignment import TimedWord
from core.engine.engine import ModelInfo
from core.errors import DiaStudioError

PROTOCOL = 1  # raised whenever a message changes meaning; both ends refuse another one
PATH = "/v1/engine"
HEARTBEAT_S = 2.0
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # uvicorn's limit too; a voice of 30 s at 24 kHz is 3 MB

_DTYPES = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4")}

# The studio's own errors, by the code they travel under: the window handles them as it does
# locally (a busy model, a script it cannot speak, …).
ERRORS: dict[str, type[DiaStudioError]] = {
    "modelBusy": GenerationBusy,
    "invalidSpeechText": UnspeakableScript,
    "generationStalled": GenerationStalled,
    "invalidContext": InvalidContext,
    "invalidVoice": InvalidVoicePrompt,
}


class WireError(DiaStudioError):
    """A message that breaks the protocol (a bug, or the other end speaks another version)."""


def encode(message: dict[str, Any], arrays: tuple[np.ndarray, ...] = ()) -> tuple[str, bytes | None]:
    """A message (with the arrays it carries) as its text frame and binary frame."""
    if not arrays:
        return json.dumps(message), None
    described = []
    for array in arrays:
        dtype = "float32" if array.dtype.kind == "f" else "int32"
        described.append({"dtype": dtype, "shape": list(array.shape)})
    blob = b"".join(np.ascontiguousarray(array, dtype=_DTYPES[d["dtype"]]).tobytes()
                    for array, d in zip(arrays, described))
    return json.dumps(message | {"arrays": described}), blob


def decode(text: str | bytes) -> dict[str, Any]:
    if isinstance(text, bytes):
        raise WireError("A binary frame came where a message was expected.")
    try:
        message = json.loads(text)
    except ValueError as error:
        raise WireError(f"A message is not JSON ({error}).") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise WireError("A message has no type.")
    return message


def expects_arrays(message: dict[str, Any]) -> bool:
    return bool(message.get("arrays"))


def arrays_of(message: dict[str, Any], blob: bytes | str) -> list[np.ndarray]:
    """The arrays ``message`` announced, read from the binary frame that followed it."""
    if not isinstance(blob, bytes):
        raise WireError("A message announced arrays, but no binary frame followed it.")
    out, at = [], 0
    try:
        for described in message["arrays"]:
            dtype = _DTYPES[described["dtype"]]
            shape = tuple(int(n) for n in described["shape"])
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if any(n < 0 for n in shape) or at + size > len(blob):
                raise ValueError("the binary frame is shorter than its arrays")
            out.append(np.frombuffer(blob, dtype, count=size // dtype.itemsize, offset=at).reshape(shape).copy())
            at += size
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"The arrays of a {message.get('type')} message are malformed ({error}).") from None
    if at != len(blob):
        raise WireError(f"The binary frame of a {message.get('type')} message is longer than its arrays.")
    return out


def voice_digest(samples: np.ndarray) -> str:
    """What names a voice on the server: the hash of its samples as they travel."""
    return hashlib.sha256(np.ascontiguousarray(samples, dtype=_DTYPES["float32"]).tobytes()).hexdigest()


def codes_array(codes) -> np.ndarray:
    """Mimi codes (a tensor or an array) as they travel: int32 [codebooks, frames]."""
    array = codes.cpu().numpy() if hasattr(codes, "cpu") else np.asarray(codes)
    return array.astype(np.int32)


# ---- events ----------------------------------------------------------------------------------
def event_message(event: GenerationEvent) -> tuple[dict[str, Any], tuple[np.ndarray, ...]]:
    """A generation event as it travels (a finished take as its metadata: see the module doc)."""
    if isinstance(event, TakeStarted):
        return {"type": "takeStarted", "take": event.take, "seed": event.seed}, ()
    if isinstance(event, AudioChunk):
        arrays = (event.samples,) if event.codes is None else (event.samples, codes_array(event.codes))
        return {"type": "audio", "take": event.take, "startS": event.start_s}, arrays
    if isinstance(event, WordTiming):
        return {"type": "word", "take": event.take, "word": event.word, "startS": event.start_s}, ()
    if isinstance(event, Progress):
        return {"type": "progress", "take": event.take, "frames": event.frames, "audioS": event.audio_s,
                "elapsedS": event.elapsed_s}, ()
    if isinstance(event, Stalled):
        return {"type": "stall", "take": event.take, "waitingS": event.waiting_s}, ()
    return {"type": "take", "take": event.take, "seed": event.seed, "params": event.params.to_dict(),
            "sampleRate": event.sample_rate, "samples": len(event.audio),
            "codebooks": None if event.codes is None else int(event.codes.shape[0]),
            "frames": None if event.codes is None else int(event.codes.shape[1]),
            "words": [list(word) for word in event.words], "complete": event.complete,
            "notices": list(event.notices), "model": event.model}, ()


def streamed_event(message: dict[str, Any], arrays: list[np.ndarray]) -> GenerationEvent:
    """The event a streamed message stands for (not ``take``: the client assembles that one)."""
    kind = message["type"]
    try:
        if kind == "takeStarted":
            return TakeStarted(int(message["take"]), int(message["seed"]))
        if kind == "audio":
            codes = arrays[1].astype(np.int64) if len(arrays) > 1 else None
            return AudioChunk(int(message["take"]), arrays[0], float(message["startS"]), codes)
        if kind == "word":
            return WordTiming(int(message["take"]), str(message["word"]), float(message["startS"]))
        if kind == "progress":
            return Progress(int(message["take"]), int(message["frames"]), float(message["audioS"]),
                            float(message["elapsedS"]))
        if kind == "stall":
            return Stalled(int(message["take"]), float(message["waitingS"]))
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise WireError(f"A {kind} message is malformed ({error}).") from None
    raise WireError(f"A message of type {kind!r} came during a generation.")


# ---- the rest ---------------------------------------------------------------------------------
def info_message(info: ModelInfo) -> dict[str, Any]:
    return {"name": info.name, "device": info.device, "precision": info.precision, "sampleRate": info.sample_rate,
            "frameRate": info.frame_rate, "weightsBytes": info.weights_bytes}


def info_of(message: dict[str, Any]) -> ModelInfo:
    return ModelInfo(name=message["name"], device=message["device"], precision=message["precision"],
                     sample_rate=int(message["sampleRate"]), frame_rate=float(message["frameRate"]),
                     weights_bytes=int(message["weightsBytes"]))


def words_message(words) -> list[list]:
    return [[word.text, float(word.start_s), float(word.end_s)] for word in words]


def words_of(items: list) -> list[TimedWord]:
    try:
        return [TimedWord(str(text), float(start), float(end)) for text, start, end in items]
    except (TypeError, ValueError) as error:
        raise WireError(f"A list of timed words is malformed ({error}).") from None


def error_message(code: str, message: str, parameter: str | None = None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message} | ({"parameter": parameter} if parameter else {})


def code_of(error: DiaStudioError) -> str | None:
    """The code a studio error travels under; None for one the protocol does not name."""
    return next((code for code, kind in ERRORS.items() if isinstance(error, kind)), None)
