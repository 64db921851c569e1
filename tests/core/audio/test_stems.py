"""Stems: a mix split by speaker, every sample in exactly one stem; written beside the mix in its
format and level, decoded back by readers other than the writer, adding up to the mix."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest
import soundfile

from core.audio import export as export_module
from core.audio.errors import ExportFailed, InvalidExportSettings
from core.audio.export import Stem, export_with_stems
from core.audio.formats import ExportSettings
from core.audio.processing import resample
from core.audio.stems import split_by_speaker
from core.errors import InvalidParameter

RATE = 24000
# Who speaks from where in the 5 s test voice: Ann, Bo, Ann, Bo.
LINES = [(0, "Ann"), (30000, "Bo"), (60000, "Ann"), (90000, "Bo")]


def spans(speaker: str, length: int, lines=LINES) -> list[tuple[int, int]]:
    """The samples ``speaker``'s lines own (a line until the next one begins)."""
    ordered = sorted(lines)
    ends = [start for start, _ in ordered[1:]] + [length]
    return [(start, end) for (start, who), end in zip(ordered, ends) if who == speaker]


def outside(length: int, owned: list[tuple[int, int]]) -> np.ndarray:
    mask = np.ones(length, bool)
    for start, end in owned:
        mask[start:end] = False
    return mask


# --- the split ----------------------------------------------------------------------------------

def test_the_stems_add_up_to_the_mix_exactly_and_are_silent_outside_their_lines():
    mix = np.random.default_rng(1).standard_normal(120000).astype(np.float32)
    stems = split_by_speaker(mix, LINES)
    assert list(stems) == ["Ann", "Bo"]
    assert all(len(stem) == len(mix) and stem.dtype == mix.dtype for stem in stems.values())
    assert np.array_equal(stems["Ann"] + stems["Bo"], mix)  # exactly, not approximately
    for speaker, stem in stems.items():
        owned = spans(speaker, len(mix))
        assert not stem[outside(len(mix), owned)].any()
        for start, end in owned:
            assert np.array_equal(stem[start:end], mix[start:end])


def test_a_gap_is_the_line_before_s_an_overlap_the_later_line_s_and_the_start_the_first_line_s():
    mix = np.arange(1, 101, dtype=np.float32)
    # Bo's line begins at 40, Ann's second at 70, Ann's first at 10 (given out of order)
    stems = split_by_speaker(mix, [(40, "Bo"), (70, "Ann"), (10, "Ann")])
    assert np.array_equal(np.flatnonzero(stems["Ann"]), np.r_[0:40, 70:100])  # 0-10: before the first line
    assert np.array_equal(np.flatnonzero(stems["Bo"]), np.arange(40, 70))
    # two lines beginning on one sample: the later given wins, the other owns nothing
    same = split_by_speaker(mix, [(0, "Ann"), (50, "Ann"), (50, "Bo")])
    assert np.array_equal(np.flatnonzero(same["Bo"]), np.arange(50, 100))
    # a line beginning past the end owns nothing
    past = split_by_speaker(mix, [(0, "Ann"), (500, "Bo")])
    assert np.array_equal(past["Ann"], mix) and not past["Bo"].any()


def test_a_speaker_without_a_line_gets_a_silent_stem_and_no_line_is_refused():
    mix = np.ones(10, np.float32)
    stems = split_by_speaker(mix, [(0, "Bo")], speakers=["Ann", "Bo"])
    assert list(stems) == ["Ann", "Bo"] and not stems["Ann"].any() and np.array_equal(stems["Bo"], mix)
    with pytest.raises(InvalidParameter, match="at least one line"):
        split_by_speaker(mix, [])


# --- written, decoded back ----------------------------------------------------------------------

def write(tmp_path: Path, mix: np.ndarray, settings: ExportSettings, loudness: float | None = None,
          name: str = "talk") -> list[Path]:
    extension = settings.format.extension
    stems = [Stem(samples, tmp_path / f"{name}.{speaker}{extension}")
             for speaker, samples in split_by_speaker(mix, LINES).items()]
    return export_with_stems(mix, tmp_path / f"{name}{extension}", stems, settings, loudness_lufs=loudness)


def read(path: Path) -> np.ndarray:
    """(frames, channels) float: libsndfile for WAV, FLAC and OGG; FFmpeg (PyAV) for MP3."""
    if path.suffix != ".mp3":
        return soundfile.read(path, dtype="float32", always_2d=True)[0]
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        to_float = av.AudioResampler(format="fltp")
        blocks = [f.to_ndarray() for frame in container.decode(stream) for f in to_float.resample(frame)]
    return np.concatenate(blocks, axis=1).T


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
@pytest.mark.parametrize("loudness", [None, -23.0])
def test_lossless_stems_add_up_to_the_mix_sample_for_sample(tmp_path, voice, fmt, loudness):
    mix_path, ann_path, bo_path = write(tmp_path, voice, ExportSettings.create(fmt), loudness)
    assert [p.name for p in (mix_path, ann_path, bo_path)] == [f"talk.{x}" for x in (fmt.lower(),
                                                                                   f"Ann.{fmt.lower()}",
                                                                                   f"Bo.{fmt.lower()}")]
    # as integers: 16-bit files that add up exactly, whatever the reader's float scaling
    mix, ann, bo = (soundfile.read(path, dtype="int16")[0] for path in (mix_path, ann_path, bo_path))
    assert len(mix) == len(ann) == len(bo) == len(voice)
    assert np.array_equal(ann.astype(np.int32) + bo, mix)
    for stem, speaker in ((ann, "Ann"), (bo, "Bo")):
        assert not stem[outside(len(mix), spans(speaker, len(mix)))].any()
    if loudness is not None:  # the mix's gain, not a stem's own: the mix is on the target
        assert pyloudnorm.Meter(RATE).integrated_loudness(mix / 32768) == pytest.approx(loudness, abs=0.5)


@pytest.mark.parametrize("fmt, rate, channels", [("MP3", None, None), ("MP3", 24000, 1), ("OGG", None, None),
                                                 ("OGG", 24000, 1)])
@pytest.mark.parametrize("loudness", [None, -16.0])
def test_lossy_stems_add_up_to_the_mix_as_closely_as_the_mix_holds_its_audio(tmp_path, voice, fmt, rate, channels,
                                                                             loudness):
    settings = ExportSettings.create(fmt, sample_rate=rate, channels=channels)
    mix, ann, bo = (read(path) for path in write(tmp_path, voice, settings, loudness))
    assert mix.shape == ann.shape == bo.shape and mix.shape[1] == settings.channels
    assert len(mix) == len(voice) * settings.sample_rate // RATE
    # The format's precision: what the encoder changes in the mix itself (levelled like the file).
    # Three files carry three encoders' noise, and the stems' cut edges a little more: 3 times it.
    made = resample(voice, RATE, settings.sample_rate)
    made *= rms(mix[:, 0]) / rms(made)
    coding_error = rms(mix[:, 0] - made)
    assert rms(mix - ann - bo) < 3 * coding_error
    assert rms(mix - ann - bo) < 0.1 * rms(mix)  # and far below the sound itself (20 dB)
    scale, margin = settings.sample_rate / RATE, settings.sample_rate // 10
    for stem, speaker, other in ((ann, "Ann", "Bo"), (bo, "Bo", "Ann")):
        for start, end in spans(other, len(voice)):  # the other speaker's lines, 0.1 s from their edges
            assert np.abs(stem[round(start * scale) + margin:round(end * scale) - margin]).max() < 1e-3
        for start, end in spans(speaker, len(voice)):  # its own: the mix's, at the mix's level
            inside = slice(round(start * scale) + margin, round(end * scale) - margin)
            assert rms(stem[inside] - mix[inside]) < 0.1 * rms(mix[inside])


def test_a_mix_over_the_ceiling_is_limited_and_its_stems_with_it(tmp_path, voice):
    loud = (3 * voice).astype(np.float32)  # peaks far over full scale
    mix, ann, bo = (soundfile.read(path, dtype="int16")[0] for path in write(tmp_path, loud, ExportSettings.create("WAV")))
    assert 20 * np.log10(np.abs(mix).max() / 32768) == pytest.approx(-1.0, abs=0.01)
    assert np.array_equal(ann.astype(np.int32) + bo, mix)  # no stem clipped, none limited on its own


def test_a_loud_target_gives_way_to_the_ceiling_measured_on_the_mix(tmp_path, voice):
    mix, ann, bo = (soundfile.read(path, dtype="int16")[0]
                    for path in write(tmp_path, voice, ExportSettings.create("WAV"), loudness=-3.0))
    assert 20 * np.log10(np.abs(mix).max() / 32768) == pytest.approx(-1.0, abs=0.01)
    assert np.array_equal(ann.astype(np.int32) + bo, mix)
    # Bo alone is quieter than the mix, and stays so: no stem is brought to the target on its own
    assert pyloudnorm.Meter(RATE).integrated_loudness(bo / 32768) < pyloudnorm.Meter(RATE).integrated_loudness(
        mix / 32768)


# --- refused, or written whole or not at all ----------------------------------------------------

def test_a_stem_of_another_length_another_format_or_the_mix_s_name_is_refused_before_writing(tmp_path, voice):
    settings = ExportSettings.create("WAV")
    with pytest.raises(InvalidParameter, match="as many as the mix: 120000"):
        export_with_stems(voice, tmp_path / "talk.wav", [Stem(voice[:-1], tmp_path / "talk.S1.wav")], settings)
    with pytest.raises(InvalidExportSettings, match=r"\.wav"):
        export_with_stems(voice, tmp_path / "talk.wav", [Stem(voice, tmp_path / "talk.S1.mp3")], settings)
    with pytest.raises(InvalidExportSettings, match="a name of their own"):
        export_with_stems(voice, tmp_path / "talk.wav", [Stem(voice, tmp_path / "talk.wav")], settings)
    with pytest.raises(InvalidParameter, match="finite"):
        export_with_stems(voice, tmp_path / "talk.wav", [Stem(np.full_like(voice, np.nan), tmp_path / "talk.S1.wav")],
                          settings)
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_failure_in_a_stem_replaces_none_of_the_files(tmp_path, voice, monkeypatch):
    settings = ExportSettings.create("FLAC")
    old = write(tmp_path, voice[:48000].copy(), settings)  # an earlier export, under the same names
    before = {path: path.read_bytes() for path in old}
    encodings = []
    real_encode = export_module._encode

    def the_last_stem_fails(audio, settings, metadata, target):
        encodings.append(target)
        if len(encodings) == 3:
            raise av.error.ValueError(errno.EINVAL, "encoder exploded")
        real_encode(audio, settings, metadata, target)

    monkeypatch.setattr(export_module, "_encode", the_last_stem_fails)
    with pytest.raises(ExportFailed, match=r"Could not write .*talk\.Bo\.flac: encoder exploded"):
        write(tmp_path, voice, settings)
    assert {path: path.read_bytes() for path in old} == before  # the mix and Ann's stem too
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in old)  # no temporary left


def test_a_full_disk_at_the_last_flush_replaces_none_of_the_files(tmp_path, voice, monkeypatch):
    real_fsync, flushed = os.fsync, []

    def full_at_the_third(fd):
        flushed.append(fd)
        if len(flushed) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_at_the_third)
    with pytest.raises(ExportFailed, match="the disk is full"):
        write(tmp_path, voice, ExportSettings.create("WAV"))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A real file system of 600 KiB (tmpfs): room for a mix of 5 s in WAV (240 kB), not for it and
    its two stems; needs root, as in CI."""
    import subprocess

    mount_point = tmp_path / "tiny_disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_disk_that_fills_up_part_way_through_the_stems_keeps_the_earlier_export(tiny_disk, voice):
    settings = ExportSettings.create("WAV")
    (tiny_disk / "talk.wav").write_bytes(b"the good old mix")
    with pytest.raises(ExportFailed, match="the disk is full"):
        write(tiny_disk, voice, settings)
    assert (tiny_disk / "talk.wav").read_bytes() == b"the good old mix"
    assert [p.name for p in tiny_disk.iterdir()] == ["talk.wav"]
