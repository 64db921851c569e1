"""Write the model's audio as an MP3, WAV, FLAC or OGG file (with its stems, one per speaker, if
asked), or encode it to bytes.

One path for every format: model audio (24 kHz mono float) → resampled (soxr VHQ) → up-mixed →
optionally loudness-normalised → kept under the peak ceiling → encoded by PyAV (FFmpeg) with tags.
PyAV rather than soundfile writes WAV/FLAC too, so that every format reports a full disk the same
way (an OSError with its errno) and takes its tags the same way.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import numpy as np

from core.audio import MODEL_SAMPLE_RATE
from core.audio.atomic_write import write_all_atomically
from core.audio.errors import ExportFailed, InvalidExportSettings
from core.audio.formats import LOUDNESS_RANGE_LUFS, AudioFormat, ExportSettings, format_from_path
from core.audio.processing import apply_gain, loudness_gain, peak_gain, resample, upmix
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


@dataclass(frozen=True)
class Stem:
    """A part of a mix written beside it (one speaker's lines: ``core.audio.stems``), as long as the
    mix, in model audio as the mix is."""

    samples: np.ndarray
    path: Path
    metadata: ExportMetadata | None = None


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
    return export_with_stems(samples, path, (), settings, metadata, loudness_lufs)[0]


def export_with_stems(
    samples: np.ndarray,
    path: str | os.PathLike[str],
    stems: Sequence[Stem],
    settings: ExportSettings,
    metadata: ExportMetadata | None = None,
    loudness_lufs: float | None = None,
) -> list[Path]:
    """The mix as :func:`export_audio` writes it, and each stem to its own file in the same settings.
    Returns the paths written, the mix's first.

    The stems are scaled by the mix's own gain (to the loudness target, then under the peak ceiling,
    both measured on the mix), never by gains of their own, so that they still add up to the mix. A
    stem's peak is then at most the mix's, save for the resampler's ringing where a stem begins or
    ends mid-sound (MP3 and OGG at another rate than the model's): the 1 dB under full scale the
    ceiling keeps takes it. The files replace those under their names together, once all are complete
    and on the disk: a failure in any (a full disk part way) leaves every name as it was.
    """
    paths = [Path(path), *(Path(stem.path) for stem in stems)]
    for named in paths:
        if format_from_path(named) is not settings.format:
            raise InvalidExportSettings(
                "file name", named.name, f"a {settings.format.value} file's name ends in {settings.format.extension}"
            )
    if len(set(paths)) < len(paths):
        raise InvalidExportSettings("file name", [p.name for p in paths], "the mix and each stem need a name of their own")
    samples = _checked(samples)
    for stem in stems:
        if len(_checked(stem.samples)) != len(samples):
            raise InvalidParameter("stem", f"{len(stem.samples)} samples for {stem.path.name}",
                                   f"as many as the mix: {len(samples)}")
    _check_loudness(loudness_lufs)
    audio = _converted(samples, settings)
    gain = _gain(audio, settings.sample_rate, loudness_lufs)
    being_written = [paths[0]]

    def write(path: Path, part: Callable[[], np.ndarray], metadata: ExportMetadata | None) -> tuple:
        def to(temporary: Path) -> None:
            being_written.append(path)
            _encode(apply_gain(part(), gain), settings, metadata, str(temporary))
        return path, to

    writes = [write(paths[0], lambda: audio, metadata)]
    # a stem is resampled when its turn comes: one part of a long dialogue in memory at a time
    writes += [write(stem.path, partial(_converted, stem.samples, settings), stem.metadata) for stem in stems]
    try:
        write_all_atomically(writes)
    except (OSError, av.FFmpegError, ValueError) as error:
        raise ExportFailed(f"Could not write {being_written[-1]}: {_explain(error)}.") from error
    return paths


def encode_audio(
    samples: np.ndarray,
    settings: ExportSettings,
    metadata: ExportMetadata | None = None,
    loudness_lufs: float | None = None,
) -> bytes:
    """The bytes of the file :func:`export_audio` would write (for base64 or data-URI results)."""
    _check_loudness(loudness_lufs)
    audio = _converted(_checked(samples), settings)
    buffer = io.BytesIO()
    try:
        _encode(apply_gain(audio, _gain(audio, settings.sample_rate, loudness_lufs)), settings, metadata, buffer)
    except (av.FFmpegError, ValueError) as error:
        raise ExportFailed(f"Could not encode {settings.format.value}: {_explain(error)}.") from error
    return buffer.getvalue()


def _checked(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.size == 0:
        raise InvalidParameter("samples", f"an array of shape {samples.shape}", "mono audio: a non-empty 1-D array")
    if not np.all(np.isfinite(samples)):
        raise InvalidParameter("samples", "audio with NaN or infinite values", "finite sample values")
    return samples


def _check_loudness(loudness_lufs: float | None) -> None:
    if loudness_lufs is not None:
        low, high = LOUDNESS_RANGE_LUFS
        is_number = isinstance(loudness_lufs, (int, float)) and not isinstance(loudness_lufs, bool)
        if not (is_number and low <= loudness_lufs <= high):
            raise InvalidParameter("loudness", loudness_lufs, f"{low:g} to {high:g} LUFS")


def _converted(samples: np.ndarray, settings: ExportSettings) -> np.ndarray:
    return upmix(resample(samples, MODEL_SAMPLE_RATE, settings.sample_rate), settings.channels)


def _gain(audio: np.ndarray, sample_rate: int, loudness_lufs: float | None) -> float:
    """What the export multiplies ``audio`` by: to the loudness target (if any), then under the peak ceiling."""
    gain = 1.0 if loudness_lufs is None else loudness_gain(audio, sample_rate, loudness_lufs)
    return gain * peak_gain(apply_gain(audio, gain))


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
