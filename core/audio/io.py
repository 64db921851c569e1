"""Read audio (any common file, encoded bytes, or an in-memory clip) and check a voice reference.

``load_voice_clip`` turns whatever the user offers as a speaker's voice into a ``VoiceClip``:
mono float32 at the model's 24 kHz, silence trimmed, measured, and refused with a clear reason
when it cannot serve (unreadable, silent, too short).
"""

from __future__ import annotations

import io
import math
import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import av
import numpy as np
import soundfile

from core.audio import MODEL_SAMPLE_RATE
from core.audio.errors import AudioTooShort, SilentAudio, UnreadableAudio
from core.audio.processing import peak_dbfs, resample, rms_dbfs, sound_bounds, to_mono

__all__ = ["AudioSource", "VoiceClip", "load_voice_clip", "read_audio", "resample"]

# Dia2's context holds about 2 minutes of audio; a voice prompt longer than ~20 s only uses it up
# without making the voice any more like the speaker.
MAX_REFERENCE_SECONDS = 20.0
# Less sound than this is not enough to learn a voice from (nor to align a transcript to).
MIN_REFERENCE_SECONDS = 1.0
# A clip whose loudest sample is below this holds no voice (digital silence, a muted microphone).
SILENCE_DBFS = -60.0
# Trimming keeps what is within this many dB of the peak: room noise goes, quiet syllables stay.
_TRIM_RANGE_DB = 40.0
# A WAV holding less than this share of the frames its header announces was cut short.
_COMPLETE_SHARE = 0.99
# A voice reference is read no further than this: room for leading silence before the useful 20 s,
# without decoding a whole hour-long recording someone picked by mistake.
_READ_LIMIT_SECONDS = 3 * MAX_REFERENCE_SECONDS

# A file path, the bytes of an encoded file, or (samples, sample_rate) with samples 1-D or
# (frames, channels), float in ±1.0 or integer PCM.
AudioSource = Union[str, os.PathLike, bytes, tuple[np.ndarray, int]]


@dataclass(frozen=True)
class VoiceClip:
    samples: np.ndarray  # mono float32 at sample_rate
    sample_rate: int
    duration_s: float
    peak_dbfs: float
    rms_dbfs: float
    notices: tuple[str, ...] = ()  # what was changed on the way (e.g. shortened), for the user
    start_s: float = 0.0  # where the kept sound starts in the source (leading silence trimmed)


def read_audio(source: AudioSource, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decode a source to float32 (frames, channels) and its sample rate, without other changes;
    only its first ``max_seconds`` when given.

    soundfile reads WAV, FLAC, OGG and MP3; PyAV (FFmpeg) reads what it cannot (M4A/AAC, Opus...).
    Raises UnreadableAudio.
    """
    name = _describe(source)
    if isinstance(source, tuple):
        samples, rate = _from_array(*source, name=name)
        if max_seconds is not None:
            samples = samples[: round(max_seconds * rate)]
    else:
        samples, rate = _decode(source, name, max_seconds)
    # a damaged file or a buggy caller must not hand NaN to the trimming, the meters or the model
    return np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0), rate


def loudest_moment(peak: float) -> str:
    """A silent clip's peak (dBFS) in words: digital silence has none to give (it is -inf)."""
    return "every sample is zero" if math.isinf(peak) else f"its loudest moment is at {peak:.0f} dBFS"


def load_voice_clip(source: AudioSource) -> VoiceClip:
    """A voice reference ready for the model: mono, 24 kHz, trimmed, at most 20 s.

    Raises UnreadableAudio, SilentAudio or AudioTooShort; a long clip is shortened with a notice.
    """
    name = _describe(source)
    samples, rate = read_audio(source, max_seconds=_READ_LIMIT_SECONDS)
    mono = resample(to_mono(samples), rate, MODEL_SAMPLE_RATE)
    peak = peak_dbfs(mono)
    if peak < SILENCE_DBFS:
        raise SilentAudio(
            f"{name} is silent ({loudest_moment(peak)}); choose or record a clip in which the speaker talks."
        )
    start, end = sound_bounds(mono, MODEL_SAMPLE_RATE, threshold_dbfs=max(SILENCE_DBFS, peak - _TRIM_RANGE_DB))
    mono = mono[start:end]
    duration = len(mono) / MODEL_SAMPLE_RATE
    if duration < MIN_REFERENCE_SECONDS:
        raise AudioTooShort(
            f"{name} holds only {duration:.2f} s of sound once silence is trimmed; "
            f"a voice reference needs at least {MIN_REFERENCE_SECONDS:g} s."
        )
    notices = []
    if duration > MAX_REFERENCE_SECONDS:
        mono = mono[: int(MAX_REFERENCE_SECONDS * MODEL_SAMPLE_RATE)]
        held = f"{duration:.1f} s" if len(samples) < _READ_LIMIT_SECONDS * rate else "more than a minute"
        notices.append(
            f"{name} holds {held} of sound; only its first {MAX_REFERENCE_SECONDS:g} s are used, since "
            "a longer voice prompt uses up the model's context without improving the voice."
        )
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    return VoiceClip(
        samples=mono,
        sample_rate=MODEL_SAMPLE_RATE,
        duration_s=len(mono) / MODEL_SAMPLE_RATE,
        peak_dbfs=peak_dbfs(mono),
        rms_dbfs=rms_dbfs(mono),
        notices=tuple(notices),
        start_s=int(start) / MODEL_SAMPLE_RATE,
    )


def _decode(source: str | os.PathLike | bytes, name: str, max_seconds: float | None) -> tuple[np.ndarray, int]:
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise UnreadableAudio(f"{name} was not found (or is not a file).")
    try:
        with soundfile.SoundFile(_reopenable(source)) as file:
            rate = file.samplerate
            frames = -1 if max_seconds is None else round(max_seconds * rate)
            samples = file.read(frames, dtype="float32", always_2d=True)
    except soundfile.SoundFileError:
        samples, rate = _read_with_ffmpeg(source, name, max_seconds)
    declared = _declared_wav_frames(source)
    if max_seconds is not None and declared:
        declared = min(declared, round(max_seconds * rate))
    if declared and len(samples) < _COMPLETE_SHARE * declared:
        raise UnreadableAudio(
            f"{name} is incomplete: its header announces {declared / rate:.1f} s of audio but it "
            f"holds only {len(samples) / rate:.2f} s (was a copy or download interrupted?)."
        )
    if len(samples) == 0:
        raise UnreadableAudio(f"{name} holds no audio.")
    return samples, rate


def _from_array(samples: np.ndarray, sample_rate: int, name: str) -> tuple[np.ndarray, int]:
    samples = np.asarray(samples)
    if samples.ndim not in (1, 2) or samples.size == 0 or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise UnreadableAudio(
            f"{name} is not audio: expected samples of shape (frames,) or (frames, channels) and a "
            f"positive sample rate, got shape {samples.shape} at {sample_rate!r} Hz."
        )
    if samples.dtype.kind == "i":  # integer PCM: full scale is the type's range
        samples = samples / (np.iinfo(samples.dtype).max + 1.0)
    elif samples.dtype.kind != "f":
        raise UnreadableAudio(f"{name} is not audio: samples of type {samples.dtype}.")
    return samples.astype(np.float32).reshape(len(samples), -1), sample_rate


def _read_with_ffmpeg(
    source: str | os.PathLike | bytes, name: str, max_seconds: float | None
) -> tuple[np.ndarray, int]:
    try:
        with av.open(_reopenable(source)) as container:
            if not container.streams.audio:
                raise UnreadableAudio(f"{name} has no audio track.")
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate
            wanted = None if max_seconds is None else round(max_seconds * rate)
            # planar float keeps channels apart whatever the codec's own sample format
            to_float = av.AudioResampler(format="fltp")
            blocks, count = [], 0
            for frame in container.decode(stream):
                for converted in to_float.resample(frame):
                    blocks.append(converted.to_ndarray())
                    count += converted.samples
                if wanted is not None and count >= wanted:
                    break
    except av.FFmpegError as error:
        raise UnreadableAudio(
            f"{name} could not be read as audio ({getattr(error, 'strerror', None) or error}). "
            "Use a WAV, FLAC, OGG or MP3 file."
        ) from error
    if not blocks:
        raise UnreadableAudio(f"{name} holds no audio.")
    samples = np.concatenate(blocks, axis=1).T.astype(np.float32, copy=False)
    return (samples if wanted is None else samples[:wanted]), rate


def _declared_wav_frames(source: str | os.PathLike | bytes) -> int | None:
    """Frames a PCM WAV header announces (None for anything else), to spot cut-short files."""
    try:
        with wave.open(_reopenable(source)) as header:
            return header.getnframes()
    except (wave.Error, EOFError, OSError):
        return None


def _reopenable(source: str | os.PathLike | bytes) -> str | io.BytesIO:
    return io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)


def _describe(source: AudioSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"'{Path(source).name}'"
    if isinstance(source, bytes):
        return "The audio data"
    if isinstance(source, tuple) and len(source) == 2:
        return "The recording"
    raise TypeError(f"an audio source is a path, bytes or (samples, sample_rate), not {type(source).__name__}")
