"""Write the model's audio as an MP3, WAV, FLAC or OGG file, or encode it to bytes.

One path for every format: model audio (24 kHz mono float) → resampled (soxr VHQ) → up-mixed →
optionally loudness-normalised → kept under the peak ceiling → encoded by PyAV (FFmpeg) with tags.
PyAV rather than soundfile writes WAV/FLAC too, so that every format reports a full disk the same
way (an OSError with its errno) and takes its tags the same way.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from core.audio import MODEL_SAMPLE_RATE
from core.audio.atomic_write import write_atomically
from core.audio.errors import ExportFailed, InvalidExportSettings
from core.audio.formats import LOUDNESS_RANGE_LUFS, AudioFormat, ExportSettings, format_from_path
from core.audio.processing import limit_peak, normalize_loudness, resample, upmix
from core.audio.tags import ExportMetadata
from core.errors import InvalidParameter

# FFmpeg (container, encoder) per format.
_ENCODERS = {
    AudioFormat.MP3: ("mp3", "libmp3lame"),  # constant bitrate when bit_rate is set
    AudioFormat.WAV: ("wav", "pcm_s16le"),
    AudioFormat.FLAC: ("flac", "flac"),
    AudioFormat.OGG: ("ogg", "libvorbis"),
}
# bitexact: no random Ogg serial number nor FFmpeg version tag, so the same take gives the same bytes.
_CONTAINER_OPTIONS = {"fflags": "+bitexact"}
_FORMAT_OPTIONS = {
    # ID3v2.3: v2.4 (FFmpeg's default) is still unread by some players, Windows Explorer among them.
    AudioFormat.MP3: {"id3v2_version": "3"},
    # bitexact numbers the Ogg stream 0, which ogginfo notes "may cause problems with some tools"
    AudioFormat.OGG: {"serial_offset": "1"},
}
# Audio is handed to the encoder a second at a time: bounded memory for long dialogues.
_CHUNK_SECONDS = 1


def export_audio(
    samples: np.ndarray,
    path: str | os.PathLike[str],
    settings: ExportSettings,
    metadata: ExportMetadata | None = None,
    loudness_lufs: float | None = None,
) -> Path:
    """Write model audio (float32 mono at 24000 Hz) to ``path``, replacing any file there only
    once the new one is complete and on the disk. Returns the path written.

    ``loudness_lufs``: integrated loudness to normalise to (e.g. -16); None keeps the level. Peaks
    stay below -1 dBFS either way, which can leave a loud target a little short.
    Raises InvalidExportSettings (before anything is written) or ExportFailed.
    """
    path = Path(path)
    if format_from_path(path) is not settings.format:
        raise InvalidExportSettings(
            "file name", path.name, f"a {settings.format.value} file's name ends in {settings.format.extension}"
        )
    audio = _prepare(samples, settings, loudness_lufs)
    try:
        write_atomically(path, lambda temporary: _encode(audio, settings, metadata, str(temporary)))
    except (OSError, av.FFmpegError, ValueError) as error:
        raise ExportFailed(f"Could not write {path}: {_explain(error)}.") from error
    return path


def encode_audio(
    samples: np.ndarray,
    settings: ExportSettings,
    metadata: ExportMetadata | None = None,
    loudness_lufs: float | None = None,
) -> bytes:
    """The bytes of the file :func:`export_audio` would write (for base64 or data-URI results)."""
    audio = _prepare(samples, settings, loudness_lufs)
    buffer = io.BytesIO()
    try:
        _encode(audio, settings, metadata, buffer)
    except (av.FFmpegError, ValueError) as error:
        raise ExportFailed(f"Could not encode {settings.format.value}: {_explain(error)}.") from error
    return buffer.getvalue()


def _prepare(samples: np.ndarray, settings: ExportSettings, loudness_lufs: float | None) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.size == 0:
        raise InvalidParameter("samples", f"an array of shape {samples.shape}", "mono audio: a non-empty 1-D array")
    if not np.all(np.isfinite(samples)):
        raise InvalidParameter("samples", "audio with NaN or infinite values", "finite sample values")
    if loudness_lufs is not None:
        low, high = LOUDNESS_RANGE_LUFS
        is_number = isinstance(loudness_lufs, (int, float)) and not isinstance(loudness_lufs, bool)
        if not (is_number and low <= loudness_lufs <= high):
            raise InvalidParameter("loudness", loudness_lufs, f"{low:g} to {high:g} LUFS")
    audio = upmix(resample(samples, MODEL_SAMPLE_RATE, settings.sample_rate), settings.channels)
    if loudness_lufs is not None:
        audio = normalize_loudness(audio, settings.sample_rate, loudness_lufs)
    return limit_peak(audio)


def _encode(
    audio: np.ndarray, settings: ExportSettings, metadata: ExportMetadata | None, target: str | io.BytesIO
) -> None:
    container_format, codec = _ENCODERS[settings.format]
    layout = "stereo" if settings.channels == 2 else "mono"
    options = _CONTAINER_OPTIONS | _FORMAT_OPTIONS.get(settings.format, {})
    with av.open(target, "w", format=container_format, options=options) as container:
        if metadata is not None:
            container.metadata.update(metadata.to_tags())
        stream = container.add_stream(codec, rate=settings.sample_rate, layout=layout)
        if settings.bitrate_kbps is not None:
            bit_rate = settings.bitrate_kbps * 1000
            stream.bit_rate = bit_rate
            if settings.format is AudioFormat.OGG:
                # libvorbis is VBR; pinning min and max makes it hold the asked average (0-5 %)
                stream.options = {"minrate": str(bit_rate), "maxrate": str(bit_rate)}
        written = 0
        for chunk in _chunks(audio, settings.sample_rate):
            # PyAV converts float planar to the encoder's own sample format and frame size
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T), format="fltp", layout=layout)
            frame.sample_rate = settings.sample_rate
            # Where the frame starts, in samples: without it every chunk restarts the encoder's clock,
            # and the Ogg granule positions (the length players and libsndfile read) come out wrong.
            frame.time_base = Fraction(1, settings.sample_rate)
            frame.pts = written
            written += len(chunk)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _chunks(audio: np.ndarray, sample_rate: int) -> Iterator[np.ndarray]:
    step = _CHUNK_SECONDS * sample_rate
    for start in range(0, len(audio), step):
        yield audio[start : start + step]


def _explain(error: BaseException) -> str:
    number = getattr(error, "errno", None)
    if number == errno.ENOSPC:
        return "the disk is full"
    if number in (errno.EACCES, errno.EPERM):
        return "permission denied (is the folder writable, or the file open in another program?)"
    if number == errno.ENOENT:
        return "the folder does not exist"
    if number == errno.EROFS:
        return "the disk is read-only"
    return str(getattr(error, "strerror", None) or error)
