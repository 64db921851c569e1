"""Voices and uploads as the API gives them: a mediaStorage UUID, an http(s) URL, a data URI or
bare Base64 → audio bytes kept in the store, checked as the window checks a voice.

Every voice is kept as a stored media entry (the same bytes are one entry), so a task that runs
again after a crash needs no second download, and a voice used a hundred times is transcribed
once: its words are saved on the entry the first time Whisper hears it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from core.audio.errors import UnusableAudio
from core.audio.io import load_voice_clip
from core.service.api_errors import ApiError
from core.service.protocol import is_uuid
from core.service.safe_fetch import FetchError, request
from core.service.task_store import StoredMedia, TaskStore

MAX_AUDIO_BYTES = 16 * 1024 * 1024
FETCH_TIMEOUT_S = 15.0
_DATA_URI = re.compile(r"data:([\w/+.-]*)(;[\w=.-]+)*;base64,(.*)", re.DOTALL)
# Extensions for stored audio, by the container's first bytes (the name only helps people).
_MAGIC = ((b"RIFF", ".wav"), (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"ID3", ".mp3"), (b"\xff\xfb", ".mp3"),
          (b"\xff\xf3", ".mp3"), (b"\xff\xf2", ".mp3"))


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False  # --allow-private-urls: loopback and private addresses too


def audio_bytes(value: object, parameter: str, policy: FetchPolicy) -> bytes:
    """The bytes a voice or upload value stands for (a UUID is looked up by the caller)."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(f"invalid{_code(parameter)}", f"{parameter} must be a URL, a data URI, Base64 audio or a "
                       "mediaUUID.", parameter=parameter)
    value = value.strip()
    if value.startswith(("http://", "https://")):
        try:
            reply = request("GET", value, timeout_s=FETCH_TIMEOUT_S, max_bytes=MAX_AUDIO_BYTES,
                            allow_private=policy.allow_private)
        except FetchError as error:
            raise ApiError("downloadFailed", f"{parameter}: {error}", parameter=parameter) from None
        if not 200 <= reply.status < 300:
            raise ApiError("downloadFailed", f"{parameter}: the URL answered HTTP {reply.status}.", parameter=parameter)
        return reply.body
    match = _DATA_URI.fullmatch(value)
    payload = match.group(3) if match else value
    if len(payload) > MAX_AUDIO_BYTES * 4 // 3 + 4:
        raise ApiError(f"invalid{_code(parameter)}", f"{parameter} is larger than {MAX_AUDIO_BYTES // 2**20} MB.",
                       parameter=parameter)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(f"invalid{_code(parameter)}", f"{parameter} is neither a URL, a data URI, Base64 audio nor "
                       "a mediaUUID.", parameter=parameter) from None


def keep_voice(store: TaskStore, value: object, parameter: str, policy: FetchPolicy) -> StoredMedia:
    """A voice input, checked and kept: a known mediaUUID, or new audio that is readable,
    not silent and long enough (else an error naming ``parameter``)."""
    if isinstance(value, str) and is_uuid(value):
        media = store.media(value)
        if media is None:
            raise ApiError(f"invalid{_code(parameter)}", f"{parameter}: no stored media {value} (never uploaded, "
                           "or deleted).", parameter=parameter)
        return media
    content = audio_bytes(value, parameter, policy)
    check_voice(content, parameter)
    return store.store_media(content, extension_of(content))


def check_voice(content: bytes, parameter: str) -> None:
    try:
        load_voice_clip(content)
    except UnusableAudio as error:
        raise ApiError(f"invalid{_code(parameter)}", f"{parameter}: {error}", parameter=parameter) from None


def extension_of(content: bytes) -> str:
    return next((extension for magic, extension in _MAGIC if content.startswith(magic)), ".audio")


def _code(parameter: str) -> str:
    """``inputs.audios[1]`` → ``InputsAudios`` (for invalid* codes)."""
    return "".join(part[:1].upper() + part[1:] for part in re.sub(r"\[\d+\]", "", parameter).split("."))
