from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest

from core.audio import MODEL_SAMPLE_RATE
from core.audio.processing import (
    PEAK_CEILING_DBFS,
    limit_peak,
    normalize_loudness,
    peak_dbfs,
    resample,
    rms_dbfs,
    sound_bounds,
    to_mono,
    upmix,
)


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("to_rate", [8000, 16000, 44100, 48000])
def test_resampling_keeps_a_tone_clean(to_rate):
    out = resample(sine(1000, 1.0, MODEL_SAMPLE_RATE), MODEL_SAMPLE_RATE, to_rate)
    assert out.dtype == np.float32
    assert len(out) == to_rate
    middle = out[to_rate // 10 : -to_rate // 10]  # away from the filter's edges
    expected = sine(1000, 1.0, to_rate)[to_rate // 10 : -to_rate // 10]
    error_db = 20 * math.log10(np.sqrt(np.mean((middle - expected) ** 2)) / np.sqrt(np.mean(expected**2)))
    assert error_db < -90  # VHQ: far below anything audible


def test_resampling_removes_what_the_lower_rate_cannot_hold():
    # 10 kHz cannot exist at 8 kHz: it must be filtered out, not folded down to 2 kHz
    out = resample(sine(10000, 1.0, MODEL_SAMPLE_RATE), MODEL_SAMPLE_RATE, 8000)
    assert peak_dbfs(out[800:-800]) < -60


def test_resampling_at_the_same_rate_changes_nothing():
    samples = sine(440, 0.1, 24000)
    assert np.array_equal(resample(samples, 24000, 24000), samples)


def test_resampling_keeps_channels_apart():
    stereo = np.stack([sine(500, 0.5, 24000), np.zeros(12000, np.float32)], axis=1)
    out = resample(stereo, 24000, 48000)
    assert out.shape == (24000, 2)
    assert peak_dbfs(out[:, 0]) > -7 and peak_dbfs(out[:, 1]) == -math.inf


def test_mono_stereo_conversions():
    mono = sine(300, 0.1, 24000)
    stereo = upmix(mono, 2)
    assert stereo.shape == (2400, 2) and np.array_equal(stereo[:, 0], mono) and np.array_equal(stereo[:, 1], mono)
    assert np.allclose(to_mono(stereo), mono)
    assert np.array_equal(to_mono(mono), mono)
    assert np.allclose(to_mono(np.stack([mono, -mono], axis=1)), 0)


def test_levels_in_dbfs():
    full_sine = sine(100, 1.0, 24000, amplitude=1.0)
    assert peak_dbfs(full_sine) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(full_sine) == pytest.approx(-3.01, abs=0.01)
    assert peak_dbfs(0.1 * full_sine) == pytest.approx(-20.0, abs=0.01)
    assert peak_dbfs(np.zeros(10)) == rms_dbfs(np.zeros(10)) == -math.inf


def test_peak_limit_scales_only_what_is_too_loud():
    loud = sine(200, 0.5, 24000, amplitude=1.6)
    limited = limit_peak(loud)
    assert peak_dbfs(limited) == pytest.approx(PEAK_CEILING_DBFS, abs=0.01)
    assert np.allclose(limited / limited.max(), loud / loud.max(), atol=1e-6)  # same shape, no clipping
    quiet = sine(200, 0.5, 24000, amplitude=0.5)
    assert limit_peak(quiet) is quiet


@pytest.mark.parametrize("target", [-23.0, -16.0])
def test_loudness_normalisation_reaches_the_target(target):
    rng = np.random.default_rng(1)
    stereo = upmix((0.05 * rng.standard_normal(48000 * 3)).astype(np.float32), 2)
    out = normalize_loudness(stereo, 48000, target)
    assert pyloudnorm.Meter(48000).integrated_loudness(out) == pytest.approx(target, abs=0.05)


def test_loudness_of_silence_or_a_blip_is_left_alone():
    silence = np.zeros((48000, 2), np.float32)
    assert normalize_loudness(silence, 48000, -16) is silence
    blip = sine(440, 0.2, 48000)
    assert normalize_loudness(blip, 48000, -16) is blip


def test_sound_bounds_leave_out_quiet_ends_and_keep_a_margin():
    rate = 24000
    tone = sine(300, 1.0, rate)
    quiet = np.full(rate, 1e-4, np.float32)  # -80 dBFS hiss
    start, end = sound_bounds(np.concatenate([quiet, tone, quiet]), rate, threshold_dbfs=-50)
    assert rate - 0.05 * rate <= start <= rate  # at most 50 ms of the hiss before the tone
    assert 2 * rate <= end <= 2 * rate + 0.05 * rate
    assert sound_bounds(quiet, rate, threshold_dbfs=-50) == (0, 0)
