"""The export settings model against the tables of api-parameters.md, written out again here so a
mistake in core/audio/formats.py cannot agree with itself."""

from __future__ import annotations

import pytest

from core.audio.errors import InvalidExportSettings
from core.audio.formats import (
    AudioFormat,
    ExportSettings,
    allowed_bitrates,
    allowed_sample_rates,
    format_from_path,
)
from core.errors import DiaStudioError, InvalidParameter

MP3_TABLE = {
    8000: (8, 64), 11025: (8, 64), 12000: (8, 64),
    16000: (8, 160), 22050: (8, 160), 24000: (8, 160),
    32000: (32, 320), 44100: (32, 320), 48000: (32, 320),
}
OGG_MONO_TABLE = {8000: (8, 40), 12000: (16, 48), 16000: (16, 96), 24000: (16, 80), 48000: (32, 224)}
OGG_STEREO_TABLE = {8000: (16, 80), 12000: (16, 96), 16000: (24, 192), 24000: (32, 160), 48000: (48, 256)}
SPEC = {
    ("MP3", 1): MP3_TABLE,
    ("MP3", 2): MP3_TABLE,
    ("OGG", 1): OGG_MONO_TABLE,
    ("OGG", 2): OGG_STEREO_TABLE,
}
# every (format, channels, sample rate, min kbps, max kbps) row of the spec
ROWS = [(fmt, ch, rate, lo, hi) for (fmt, ch), table in SPEC.items() for rate, (lo, hi) in table.items()]
ROW_IDS = [f"{fmt}-{ch}ch-{rate}" for fmt, ch, rate, _, _ in ROWS]
# every allowed extreme: what the round-trip tests encode
EXTREMES = [(fmt, ch, rate, kbps) for fmt, ch, rate, lo, hi in ROWS for kbps in (lo, hi)]


@pytest.mark.parametrize("fmt, channels, rate, low, high", ROWS, ids=ROW_IDS)
def test_allowed_bitrates_are_the_spec_table(fmt, channels, rate, low, high):
    assert allowed_bitrates(fmt, rate, channels) == (low, high)


@pytest.mark.parametrize("fmt, channels, rate, low, high", ROWS, ids=ROW_IDS)
def test_min_and_max_bitrate_are_accepted(fmt, channels, rate, low, high):
    for kbps in (low, high):
        settings = ExportSettings.create(fmt, sample_rate=rate, bitrate=kbps, channels=channels)
        assert (settings.format, settings.sample_rate, settings.channels, settings.bitrate_kbps) == (
            AudioFormat(fmt), rate, channels, kbps
        )


@pytest.mark.parametrize("fmt, channels, rate, low, high", ROWS, ids=ROW_IDS)
def test_bitrate_just_outside_the_range_is_refused_naming_the_range(fmt, channels, rate, low, high):
    for kbps in (low - 1, high + 1):
        with pytest.raises(InvalidExportSettings) as refused:
            ExportSettings.create(fmt, sample_rate=rate, bitrate=kbps, channels=channels)
        message = str(refused.value)
        assert f"{low} to {high} kbps" in message
        assert f"{rate} Hz" in message
        assert refused.value.field == "audioSettings.bitrate"
        assert refused.value.value == kbps


@pytest.mark.parametrize(
    "fmt, rate",
    [
        ("MP3", 44000), ("MP3", 96000), ("MP3", 0), ("MP3", -44100), ("MP3", 7999),
        # rates MP3 allows but the Vorbis tables do not
        ("OGG", 11025), ("OGG", 22050), ("OGG", 32000), ("OGG", 44100),
    ],
)
def test_unknown_sample_rate_is_refused_listing_the_allowed_ones(fmt, rate):
    for channels in (1, 2):
        with pytest.raises(InvalidExportSettings) as refused:
            ExportSettings.create(fmt, sample_rate=rate, bitrate=64, channels=channels)
        assert refused.value.field == "audioSettings.sampleRate"
        for allowed in (MP3_TABLE if fmt == "MP3" else OGG_MONO_TABLE):
            assert str(allowed) in str(refused.value)


@pytest.mark.parametrize("channels", [0, 3, -1, 6])
def test_channel_counts_other_than_mono_and_stereo_are_refused(channels):
    with pytest.raises(InvalidExportSettings, match="1 \\(mono\\) or 2 \\(stereo\\)"):
        ExportSettings.create("MP3", channels=channels)


@pytest.mark.parametrize(
    "field, kwargs",
    [
        ("audioSettings.bitrate", {"bitrate": 128.0}),
        ("audioSettings.bitrate", {"bitrate": True}),
        ("audioSettings.bitrate", {"bitrate": "128"}),
        ("audioSettings.sampleRate", {"sample_rate": 44100.0}),
        ("audioSettings.channels", {"channels": 2.0}),
    ],
)
def test_settings_must_be_whole_numbers(field, kwargs):
    with pytest.raises(InvalidExportSettings) as refused:
        ExportSettings.create("MP3", **kwargs)
    assert refused.value.field == field
    assert "whole number" in str(refused.value)


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
@pytest.mark.parametrize(
    "kwargs", [{"sample_rate": 24000}, {"bitrate": 128}, {"channels": 1}, {"channels": 2, "sample_rate": 48000}]
)
def test_audio_settings_for_lossless_formats_are_refused(fmt, kwargs):
    with pytest.raises(InvalidExportSettings) as refused:
        ExportSettings.create(fmt, **kwargs)
    assert refused.value.field == "audioSettings"
    assert "audioSettings apply to MP3 and OGG only" in str(refused.value)
    assert fmt in str(refused.value)


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_api_audio_settings_given_at_all_for_lossless_formats_are_refused(fmt):
    with pytest.raises(InvalidExportSettings, match="audioSettings"):
        ExportSettings.from_api(fmt, {})
    with pytest.raises(InvalidExportSettings, match="audioSettings"):
        ExportSettings.from_api(fmt, {"sampleRate": 24000})


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_lossless_formats_are_the_model_output(fmt):
    settings = ExportSettings.create(fmt)
    assert (settings.sample_rate, settings.channels, settings.bitrate_kbps) == (24000, 1, None)
    assert allowed_sample_rates(fmt) == (24000,)
    with pytest.raises(InvalidExportSettings):
        ExportSettings(AudioFormat(fmt), 48000, 2, None)
    with pytest.raises(InvalidExportSettings):
        allowed_bitrates(fmt, 24000, 1)


def test_documented_defaults():
    mp3 = ExportSettings.create()
    assert (mp3.format, mp3.sample_rate, mp3.bitrate_kbps, mp3.channels) == (AudioFormat.MP3, 44100, 192, 2)
    ogg = ExportSettings.create("OGG")
    assert (ogg.sample_rate, ogg.bitrate_kbps, ogg.channels) == (48000, 160, 2)
    assert ExportSettings.from_api("OGG") == ogg


@pytest.mark.parametrize(
    "fmt, rate, channels, expected_kbps",
    [("MP3", 8000, 2, 64), ("MP3", 22050, 1, 160), ("OGG", 8000, 1, 40), ("OGG", 12000, 2, 96), ("OGG", 48000, 1, 160)],
)
def test_default_bitrate_is_the_nearest_allowed_for_the_rate(fmt, rate, channels, expected_kbps):
    assert ExportSettings.create(fmt, sample_rate=rate, channels=channels).bitrate_kbps == expected_kbps


def test_a_bitrate_without_a_rate_is_checked_against_the_default_rate():
    with pytest.raises(InvalidExportSettings, match="32 to 320 kbps"):
        ExportSettings.create("MP3", bitrate=16)


def test_direct_construction_is_validated_too():
    with pytest.raises(InvalidExportSettings, match="32 to 320 kbps"):
        ExportSettings(AudioFormat.MP3, 44100, 2, 8)
    with pytest.raises(InvalidExportSettings, match="outputFormat"):
        ExportSettings("MP3", 44100, 2, 128)


def test_api_fields_round_trip():
    settings = ExportSettings.from_api("ogg", {"sampleRate": 16000, "bitrate": 24, "channels": 2})
    assert settings == ExportSettings.create("OGG", sample_rate=16000, bitrate=24, channels=2)
    assert ExportSettings.from_api(**_as_kwargs(settings.to_api())) == settings
    wav = ExportSettings.create("WAV")
    assert wav.to_api() == {"outputFormat": "WAV"}
    assert ExportSettings.from_api(**_as_kwargs(wav.to_api())) == wav


def test_unknown_api_setting_is_refused():
    with pytest.raises(InvalidExportSettings, match="audioSettings.quality"):
        ExportSettings.from_api("MP3", {"quality": 5})


@pytest.mark.parametrize("name", ["AAC", "m4a", "", "OPUS"])
def test_unknown_format_is_refused(name):
    with pytest.raises(InvalidExportSettings, match="MP3, WAV, FLAC or OGG"):
        ExportSettings.create(name)


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("take.mp3", "MP3"), ("a/b/Take.WAV", "WAV"), ("x.wave", "WAV"),
        ("x.flac", "FLAC"), ("x.ogg", "OGG"), ("x.oga", "OGG"),
    ],
)
def test_format_from_file_extension(path, fmt):
    assert format_from_path(path) is AudioFormat(fmt)
    assert AudioFormat.parse(fmt.lower()) is AudioFormat(fmt)


@pytest.mark.parametrize("path", ["take.m4a", "take", "take.mp3.txt"])
def test_unknown_extension_is_refused(path):
    with pytest.raises(InvalidExportSettings, match=".mp3"):
        format_from_path(path)


def test_refusals_are_studio_errors_the_ui_can_show():
    with pytest.raises(DiaStudioError) as refused:
        ExportSettings.create("MP3", sample_rate=44100, bitrate=400)
    assert isinstance(refused.value, InvalidParameter)
    assert str(refused.value) == (
        "audioSettings.bitrate = 400 is not allowed: MP3 stereo at 44100 Hz takes 32 to 320 kbps."
    )


def _as_kwargs(api_fields: dict) -> dict:
    return {"output_format": api_fields["outputFormat"], "audio_settings": api_fields.get("audioSettings")}
