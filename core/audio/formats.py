"""Export formats and their allowed settings: the one place these facts live.

The tables are those of the ``audioInference`` API (docs: api-parameters.md). The GUI's export
dialog, the command line and project files all validate through :class:`ExportSettings`; a value
out of range is refused with a message naming the allowed range, never clamped.

Defaults when a setting is omitted (``ExportSettings.create``):

- MP3: 44100 Hz, 192 kbps, stereo.  OGG (Vorbis): 48000 Hz, 160 kbps, stereo.
  Channels default to 2 as in the API. When only the sample rate is given and the default bitrate
  is outside that rate's range, the nearest allowed bitrate is taken (e.g. MP3 at 8000 Hz: 64 kbps).
- WAV and FLAC: no settings at all; written as the model makes it, 24000 Hz mono, 16-bit PCM.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

from core.audio import MODEL_SAMPLE_RATE
from core.audio.errors import InvalidExportSettings


class AudioFormat(enum.Enum):
    MP3 = "MP3"
    WAV = "WAV"
    FLAC = "FLAC"
    OGG = "OGG"  # Ogg Vorbis

    @classmethod
    def parse(cls, value: str | AudioFormat) -> AudioFormat:
        """``"mp3"``, ``"MP3"`` or ``AudioFormat.MP3`` → ``AudioFormat.MP3``."""
        if isinstance(value, AudioFormat):
            return value
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidExportSettings("outputFormat", value, _FORMAT_NAMES) from None

    @property
    def lossy(self) -> bool:
        return self in _BITRATE_LIMITS_KBPS

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self][0]


_EXTENSIONS = {
    AudioFormat.MP3: (".mp3",),
    AudioFormat.WAV: (".wav", ".wave"),
    AudioFormat.FLAC: (".flac",),
    AudioFormat.OGG: (".ogg", ".oga"),
}
_FORMAT_NAMES = "one of MP3, WAV, FLAC or OGG"

# (min kbps, max kbps) per sample rate, per channel count.
_MP3_KBPS = {
    8000: (8, 64), 11025: (8, 64), 12000: (8, 64),
    16000: (8, 160), 22050: (8, 160), 24000: (8, 160),
    32000: (32, 320), 44100: (32, 320), 48000: (32, 320),
}
_BITRATE_LIMITS_KBPS: dict[AudioFormat, dict[int, dict[int, tuple[int, int]]]] = {
    AudioFormat.MP3: {1: _MP3_KBPS, 2: _MP3_KBPS},  # MP3: the same limits for mono and stereo
    AudioFormat.OGG: {
        1: {8000: (8, 40), 12000: (16, 48), 16000: (16, 96), 24000: (16, 80), 48000: (32, 224)},
        2: {8000: (16, 80), 12000: (16, 96), 16000: (24, 192), 24000: (32, 160), 48000: (48, 256)},
    },
}
# (sample rate, kbps) used when a lossy setting is omitted.
_LOSSY_DEFAULTS = {AudioFormat.MP3: (44100, 192), AudioFormat.OGG: (48000, 160)}
DEFAULT_CHANNELS = 2
# The model's own output: what WAV and FLAC always hold.
LOSSLESS_SAMPLE_RATE = MODEL_SAMPLE_RATE
LOSSLESS_CHANNELS = 1
# What --loudness and the export dialog's normalisation accept.
LOUDNESS_RANGE_LUFS = (-70.0, 0.0)

_API_FIELDS = {"sampleRate": "sample_rate", "bitrate": "bitrate", "channels": "channels"}
_CHANNEL_NAMES = {1: "mono", 2: "stereo"}


def allowed_sample_rates(format: str | AudioFormat) -> tuple[int, ...]:
    """The sample rates (Hz) a format can be written at, lowest first."""
    format = AudioFormat.parse(format)
    if not format.lossy:
        return (LOSSLESS_SAMPLE_RATE,)
    return tuple(sorted(_BITRATE_LIMITS_KBPS[format][1]))


def allowed_bitrates(format: str | AudioFormat, sample_rate: int, channels: int) -> tuple[int, int]:
    """(min, max) kbps for a lossy format at this sample rate and channel count."""
    format = AudioFormat.parse(format)
    if not format.lossy:
        raise InvalidExportSettings("audioSettings.bitrate", None, _lossless_rule(format))
    _check_channels(channels)
    _check_sample_rate(format, sample_rate)
    return _BITRATE_LIMITS_KBPS[format][channels][sample_rate]


def format_from_path(path: str | PurePath) -> AudioFormat:
    """The export format a file name asks for, from its extension (``take.mp3`` → MP3)."""
    suffix = PurePath(path).suffix.lower()
    for format, suffixes in _EXTENSIONS.items():
        if suffix in suffixes:
            return format
    known = ", ".join(s for suffixes in _EXTENSIONS.values() for s in suffixes)
    raise InvalidExportSettings("file name", str(path), f"it must end in {known}")


@dataclass(frozen=True)
class ExportSettings:
    """A validated export format with its settings; an instance is always a legal combination.

    ``bitrate_kbps`` is None for the lossless formats.
    """

    format: AudioFormat
    sample_rate: int
    channels: int
    bitrate_kbps: int | None

    def __post_init__(self) -> None:
        if not isinstance(self.format, AudioFormat):
            raise InvalidExportSettings("outputFormat", self.format, _FORMAT_NAMES)
        if not self.format.lossy:
            given = (self.sample_rate, self.channels, self.bitrate_kbps)
            if given != (LOSSLESS_SAMPLE_RATE, LOSSLESS_CHANNELS, None):
                raise InvalidExportSettings("audioSettings", given, _lossless_rule(self.format))
            return
        low, high = allowed_bitrates(self.format, self.sample_rate, self.channels)
        _check_whole_number("audioSettings.bitrate", self.bitrate_kbps, "kbps")
        if not low <= self.bitrate_kbps <= high:
            raise InvalidExportSettings(
                "audioSettings.bitrate",
                self.bitrate_kbps,
                f"{self.format.value} {_CHANNEL_NAMES[self.channels]} at {self.sample_rate} Hz "
                f"takes {low} to {high} kbps",
            )

    @classmethod
    def create(
        cls,
        format: str | AudioFormat = "MP3",
        sample_rate: int | None = None,
        bitrate: int | None = None,
        channels: int | None = None,
    ) -> ExportSettings:
        """Settings for ``format`` with the omitted ones filled with the documented defaults.

        For WAV and FLAC every setting must be omitted (the API's ``audioSettings`` does not
        apply to them).
        """
        format = AudioFormat.parse(format)
        if not format.lossy:
            given = {
                api_name: value
                for api_name, value in zip(_API_FIELDS, (sample_rate, bitrate, channels))
                if value is not None
            }
            if given:
                raise InvalidExportSettings("audioSettings", given, _lossless_rule(format))
            return cls(format, LOSSLESS_SAMPLE_RATE, LOSSLESS_CHANNELS, None)
        default_rate, default_kbps = _LOSSY_DEFAULTS[format]
        sample_rate = default_rate if sample_rate is None else sample_rate
        channels = DEFAULT_CHANNELS if channels is None else channels
        if bitrate is None:
            low, high = allowed_bitrates(format, sample_rate, channels)
            bitrate = min(max(default_kbps, low), high)
        return cls(format, sample_rate, channels, bitrate)

    @classmethod
    def from_api(
        cls, output_format: str | AudioFormat = "MP3", audio_settings: Mapping[str, int] | None = None
    ) -> ExportSettings:
        """From the API's ``outputFormat`` and ``audioSettings`` (``sampleRate``, ``bitrate``,
        ``channels``). ``audio_settings`` given at all (even empty) for WAV/FLAC is refused."""
        format = AudioFormat.parse(output_format)
        if audio_settings is None:
            return cls.create(format)
        if not format.lossy:
            raise InvalidExportSettings("audioSettings", dict(audio_settings), _lossless_rule(format))
        for key in audio_settings:
            if key not in _API_FIELDS:
                raise InvalidExportSettings(
                    f"audioSettings.{key}", audio_settings[key], "audioSettings takes sampleRate, bitrate and channels"
                )
        return cls.create(format, **{_API_FIELDS[key]: value for key, value in audio_settings.items()})

    def to_api(self) -> dict[str, object]:
        """The API fields that describe these settings (the inverse of :meth:`from_api`)."""
        fields: dict[str, object] = {"outputFormat": self.format.value}
        if self.format.lossy:
            fields["audioSettings"] = {
                "sampleRate": self.sample_rate,
                "bitrate": self.bitrate_kbps,
                "channels": self.channels,
            }
        return fields


def _lossless_rule(format: AudioFormat) -> str:
    return (
        f"{format.value} takes no audioSettings; it is written as the model makes it "
        f"({LOSSLESS_SAMPLE_RATE} Hz mono). audioSettings apply to MP3 and OGG only"
    )


def _check_whole_number(field: str, value: object, unit: str) -> None:
    # bool is an int in Python, but True kbps is a mistake, not a setting
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidExportSettings(field, value, f"a whole number of {unit}")


def _check_channels(channels: int) -> None:
    _check_whole_number("audioSettings.channels", channels, "channels")
    if channels not in _CHANNEL_NAMES:
        raise InvalidExportSettings("audioSettings.channels", channels, "1 (mono) or 2 (stereo)")


def _check_sample_rate(format: AudioFormat, sample_rate: int) -> None:
    _check_whole_number("audioSettings.sampleRate", sample_rate, "Hz")
    rates = allowed_sample_rates(format)
    if sample_rate not in rates:
        listed = ", ".join(str(rate) for rate in rates[:-1]) + f" or {rates[-1]}"
        raise InvalidExportSettings("audioSettings.sampleRate", sample_rate, f"{format.value} takes {listed} Hz")
