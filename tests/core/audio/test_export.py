"""Real encoders, real files, decoded back."""

from __future__ import annotations

import errno
import io
import os
import re
import subprocess
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
import soundfile

from core.audio import export as export_module
from core.audio.errors import ExportFailed, InvalidExportSettings
from core.audio.export import encode_audio, export_audio
from core.audio.formats import ExportSettings, allowed_sample_rates
from core.audio.tags import ExportMetadata, read_tags
from core.errors import InvalidParameter
from tests.core.audio.test_formats import EXTREMES

METADATA = ExportMetadata(
    title="Chapter 1 — the meeting",
    speakers=("Ada", "Brook"),
    seed=1234567,
    parameters={"model": "runware:dia2@2b", "CFGScale": 3.0, "settings": {"temperature": 0.6, "topK": 50}},
)


def decode(data: str | Path | bytes) -> dict:
    """What a decoder finds in a file: rate, channels, samples, and the bitrate of its packets."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(source) as container:
        stream = container.streams.audio[0]
        packet_bytes = packet_seconds = 0
        blocks = []
        to_float = av.AudioResampler(format="fltp")  # WAV decodes to int16
        for packet in container.demux(stream):
            packet_bytes += packet.size
            packet_seconds += (packet.duration or 0) * packet.time_base
            blocks += [f.to_ndarray() for frame in packet.decode() for f in to_float.resample(frame)]
        rate = stream.codec_context.sample_rate
        samples = np.concatenate(blocks, axis=1).T  # (frames, channels), planar float
        return {
            "rate": rate,
            "channels": stream.codec_context.channels,
            "samples": samples,
            "header_kbps": stream.bit_rate / 1000 if stream.bit_rate else None,
            # per second of decoded audio: the Vorbis average
            "kbps": packet_bytes * 8 / (len(samples) / rate) / 1000,
            # per second of frames, encoder delay and padding included: the MP3 constant rate
            "frame_kbps": packet_bytes * 8 / packet_seconds / 1000 if packet_seconds else None,
        }


@pytest.mark.parametrize("fmt, channels, rate, kbps", EXTREMES, ids=[f"{f}-{c}ch-{r}-{k}k" for f, c, r, k in EXTREMES])
def test_every_allowed_extreme_is_written_as_asked(tmp_path, voice, short_voice, fmt, channels, rate, kbps):
    settings = ExportSettings.create(fmt, sample_rate=rate, bitrate=kbps, channels=channels)
    # MP3 is exact from the first frame; Vorbis holds its average over a few seconds
    clip = voice if fmt == "OGG" else short_voice
    path = export_audio(clip, tmp_path / f"take{settings.format.extension}", settings)
    found = decode(path)
    assert found["rate"] == rate
    assert found["channels"] == channels
    if fmt == "MP3":
        # constant bitrate: every frame header says it, and the packets add up to it
        assert found["header_kbps"] == kbps
        assert found["frame_kbps"] == pytest.approx(kbps, rel=0.01)
    else:
        assert found["kbps"] == pytest.approx(kbps, rel=0.05)
    assert len(found["samples"]) / rate == pytest.approx(len(clip) / 24000, abs=0.1)
    if channels == 2:  # up-mixed mono: both sides carry the same signal
        left, right = found["samples"].T
        assert np.corrcoef(left, right)[0, 1] > 0.99


def ogginfo(path: Path) -> str:
    return subprocess.run(["ogginfo", str(path)], capture_output=True, text=True, check=True).stdout


def lengths_found_by_other_readers(path: Path) -> dict[str, float]:
    """The file's length in seconds as readers other than the writer (FFmpeg via PyAV) find it without
    decoding: libsndfile, and ffprobe's container duration (from the Ogg granule positions, the MP3
    Xing header, ...): what players trust. For Ogg also ogginfo's playback length."""
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                             str(path)], capture_output=True, text=True, check=True)
    lengths = {"libsndfile": soundfile.info(str(path)).duration, "ffprobe": float(probed.stdout)}
    if path.suffix == ".ogg":
        minutes, seconds = re.search(r"Playback length: (\d+)m:([\d.]+)s", ogginfo(path)).groups()
        lengths["ogginfo"] = 60 * int(minutes) + float(seconds)
    return lengths


LENGTH_CASES = ([("WAV", None, None), ("FLAC", None, None)]
                + [(fmt, rate, channels) for fmt in ("MP3", "OGG") for rate in allowed_sample_rates(fmt)
                   for channels in (1, 2)])


@pytest.mark.parametrize("fmt, rate, channels", LENGTH_CASES, ids=[f"{f}-{r}-{c}ch" for f, r, c in LENGTH_CASES])
def test_other_readers_find_the_whole_length(tmp_path, voice, fmt, rate, channels):
    dialogue = np.tile(voice, 3)  # 15 s: many chunks, as a real dialogue
    settings = ExportSettings.create(fmt, sample_rate=rate, channels=channels)
    path = export_audio(dialogue, tmp_path / f"talk{settings.format.extension}", settings)
    found = lengths_found_by_other_readers(path)
    # MP3's container duration counts the encoder's delay and padding: up to two frames of 1152 samples
    tolerance = 2 * 1152 / settings.sample_rate if fmt == "MP3" else 0.001
    assert found == pytest.approx(dict.fromkeys(found, len(dialogue) / 24000), abs=tolerance)


def test_ogginfo_finds_nothing_to_note(tmp_path, short_voice):
    report = ogginfo(export_audio(short_voice, tmp_path / "take.ogg", ExportSettings.create("OGG"), METADATA))
    assert not re.search(r"^(WARNING|Note)", report, re.MULTILINE), report  # a serial number of 0 is noted


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_lossless_files_hold_the_model_output_exactly(tmp_path, short_voice, fmt):
    path = export_audio(short_voice, tmp_path / f"take.{fmt.lower()}", ExportSettings.create(fmt))
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    assert rate == 24000 and samples.shape == (len(short_voice), 1)
    assert soundfile.info(path).subtype == "PCM_16"
    assert np.max(np.abs(samples[:, 0] - short_voice)) <= 1 / 32768 + 1e-7  # 16-bit rounding only


@pytest.mark.parametrize("fmt, rate", [("MP3", 8000), ("MP3", 44100), ("OGG", 12000), ("OGG", 48000)])
def test_resampled_export_keeps_the_pitch(tmp_path, fmt, rate):
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(48000) / 24000)).astype(np.float32)
    settings = ExportSettings.create(fmt, sample_rate=rate, channels=1)
    samples = decode(export_audio(tone, tmp_path / f"tone{settings.format.extension}", settings))["samples"][:, 0]
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    assert np.argmax(spectrum) * rate / len(samples) == pytest.approx(440, abs=2)


@pytest.mark.parametrize("fmt", ["MP3", "WAV", "FLAC", "OGG"])
def test_the_file_tells_how_it_was_made(tmp_path, short_voice, fmt):
    settings = ExportSettings.create(fmt)
    path = export_audio(short_voice, tmp_path / f"take{settings.format.extension}", settings, METADATA)
    tags = read_tags(path)
    assert tags["title"] == METADATA.title
    assert tags["artist"] == "Ada, Brook"
    assert '"seed": 1234567' in tags["comment"]
    assert ExportMetadata.from_tags(tags) == METADATA


@pytest.mark.parametrize("fmt", ["MP3", "WAV", "FLAC", "OGG"])
def test_loud_input_never_clips(tmp_path, fmt):
    rng = np.random.default_rng(3)
    too_loud = (1.8 * np.sin(2 * np.pi * 220 * np.arange(48000) / 24000) + 0.2 * rng.standard_normal(48000))
    settings = ExportSettings.create(fmt)
    path = export_audio(too_loud.astype(np.float32), tmp_path / f"loud{settings.format.extension}", settings)
    samples = decode(path)["samples"]
    assert np.max(np.abs(samples)) < 1.0


@pytest.mark.parametrize("fmt, target", [("WAV", -23.0), ("MP3", -16.0), ("OGG", -16.0)])
def test_loudness_normalisation_lands_on_the_target(tmp_path, short_voice, fmt, target):
    settings = ExportSettings.create(fmt)
    quiet = 0.1 * short_voice
    found = decode(export_audio(quiet, tmp_path / f"norm{settings.format.extension}", settings, loudness_lufs=target))
    assert pyloudnorm.Meter(found["rate"]).integrated_loudness(found["samples"]) == pytest.approx(target, abs=0.5)


def test_a_loud_target_gives_way_to_the_peak_ceiling(tmp_path, short_voice):
    path = export_audio(short_voice, tmp_path / "hot.wav", ExportSettings.create("WAV"), loudness_lufs=-3.0)
    samples, _ = soundfile.read(path, dtype="float32")
    assert 20 * np.log10(np.max(np.abs(samples))) == pytest.approx(-1.0, abs=0.01)


@pytest.mark.parametrize("fmt", ["MP3", "WAV", "FLAC", "OGG"])
def test_in_memory_encoding_gives_the_file_bytes(tmp_path, short_voice, fmt):
    settings = ExportSettings.create(fmt)
    data = encode_audio(short_voice, settings, METADATA)
    path = export_audio(short_voice, tmp_path / f"take{settings.format.extension}", settings, METADATA)
    assert data == path.read_bytes()
    assert decode(data)["rate"] == settings.sample_rate


@pytest.mark.parametrize(
    "samples",
    [np.zeros(0, np.float32), np.zeros((100, 2), np.float32), np.array([0.1, np.nan], np.float32)],
    ids=["empty", "stereo", "nan"],
)
def test_bad_samples_are_refused_before_writing(tmp_path, samples):
    with pytest.raises(InvalidParameter, match="samples"):
        export_audio(samples, tmp_path / "x.wav", ExportSettings.create("WAV"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", [-80.0, 3.0, True])
def test_loudness_target_out_of_range_is_refused(tmp_path, short_voice, target):
    with pytest.raises(InvalidParameter, match="LUFS"):
        export_audio(short_voice, tmp_path / "x.wav", ExportSettings.create("WAV"), loudness_lufs=target)


def test_a_name_that_says_another_format_is_refused(tmp_path, short_voice):
    with pytest.raises(InvalidExportSettings, match=r"\.wav"):
        export_audio(short_voice, tmp_path / "take.mp3", ExportSettings.create("WAV"))
    assert list(tmp_path.iterdir()) == []


# --- atomic writes --------------------------------------------------------------------------


@pytest.fixture
def good_file(tmp_path, short_voice) -> Path:
    return export_audio(short_voice, tmp_path / "take.ogg", ExportSettings.create("OGG"), METADATA)


@pytest.mark.parametrize("fmt, bitrate", [("MP3", 320), ("WAV", None), ("FLAC", None), ("OGG", 256)])
def test_an_encoder_failure_mid_write_keeps_the_old_file(tmp_path, voice, short_voice, fmt, bitrate, monkeypatch):
    settings = ExportSettings.create(fmt, bitrate=bitrate)
    good_file = export_audio(short_voice, tmp_path / f"take{settings.format.extension}", settings, METADATA)
    before = good_file.read_bytes()
    partial_sizes = []
    real_chunks = export_module._chunks

    def chunks_then_crash(audio, rate):
        for number, chunk in enumerate(real_chunks(audio, rate)):
            if number == 12:
                # twelve seconds in, FFmpeg has flushed its 256 kB buffer into the temporary file
                partial_sizes.extend(p.stat().st_size for p in tmp_path.glob(f".{good_file.name}.*.part"))
                raise av.error.ValueError(errno.EINVAL, "encoder exploded")
            yield chunk

    monkeypatch.setattr(export_module, "_chunks", chunks_then_crash)
    with pytest.raises(ExportFailed, match="encoder exploded"):
        export_audio(np.tile(voice, 3), good_file, settings)
    assert len(partial_sizes) == 1 and partial_sizes[0] >= 256 * 1024
    assert good_file.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [good_file.name]


def test_a_full_disk_at_flush_time_keeps_the_old_file(good_file, short_voice, monkeypatch):
    before = good_file.read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ExportFailed, match="the disk is full"):
        export_audio(short_voice, good_file, ExportSettings.create("OGG", bitrate=96))
    assert good_file.read_bytes() == before
    assert sorted(p.name for p in good_file.parent.iterdir()) == ["take.ogg"]


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 64 KiB file system (tmpfs); needs root, as in CI."""
    mount_point = tmp_path / "tiny_disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "MP3", "OGG"])
def test_a_really_full_disk_keeps_the_old_file(tiny_disk, voice, fmt):
    settings = ExportSettings.create(fmt)
    target = tiny_disk / f"take{settings.format.extension}"
    target.write_bytes(b"the good old take")
    long_take = np.tile(voice, 2)  # 10 s: far more than the disk holds in any format
    with pytest.raises(ExportFailed, match="the disk is full"):
        export_audio(long_take, target, settings)
    assert target.read_bytes() == b"the good old take"
    assert [p.name for p in tiny_disk.iterdir()] == [target.name]


def test_a_missing_folder_is_explained(tmp_path, short_voice):
    with pytest.raises(ExportFailed, match="the folder does not exist"):
        export_audio(short_voice, tmp_path / "no such folder" / "take.wav", ExportSettings.create("WAV"))


def test_replacing_keeps_the_file_permissions(tmp_path, short_voice):
    target = tmp_path / "take.wav"
    target.write_bytes(b"old")
    target.chmod(0o640)
    export_audio(short_voice, target, ExportSettings.create("WAV"))
    assert target.stat().st_mode & 0o777 == 0o640
    assert soundfile.info(target).frames == len(short_voice)


def test_a_new_file_gets_the_usual_permissions(tmp_path, short_voice):
    umask = os.umask(0o022)
    try:
        path = export_audio(short_voice, tmp_path / "take.flac", ExportSettings.create("FLAC"))
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
