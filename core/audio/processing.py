"""Signal processing shared by reading, export and capture: rates, channels, levels, loudness.

Arrays are float32 with full scale at ±1.0: 1-D for mono, (frames, channels) otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

# Resamplers and lossy encoders overshoot the input's peaks a little; 1 dB of headroom keeps the
# decoded file from clipping (the EBU R128 true-peak limit).
PEAK_CEILING_DBFS = -1.0
# pyloudnorm measures in 400 ms blocks; shorter audio has no integrated loudness.
_LOUDNESS_MIN_SECONDS = 0.4
_TRIM_WINDOW_SECONDS = 0.01
# Kept around the sound when trimming, so soft onsets and breaths are not cut.
_TRIM_MARGIN_SECONDS = 0.05


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality (soxr VHQ) sample-rate conversion of mono or (frames, channels) audio."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return samples
    return soxr.resample(samples, from_rate, to_rate, quality="VHQ").astype(np.float32, copy=False)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of (frames, channels) audio; 1-D audio is returned as it is."""
    samples = np.asarray(samples, dtype=np.float32)
    return samples if samples.ndim == 1 else samples.mean(axis=1, dtype=np.float32)


def upmix(mono: np.ndarray, channels: int) -> np.ndarray:
    """Mono → (frames, channels), the same signal in every channel."""
    return np.repeat(np.asarray(mono, dtype=np.float32)[:, None], channels, axis=1)


def peak_dbfs(samples: np.ndarray) -> float:
    """Level of the loudest sample, in dB relative to full scale (-inf for silence)."""
    peak = float(np.max(np.abs(samples))) if np.size(samples) else 0.0
    return _to_db(peak)


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level in dB relative to a full-scale square wave (-inf for silence)."""
    samples = np.asarray(samples, dtype=np.float64)
    rms = math.sqrt(float(np.mean(samples * samples))) if samples.size else 0.0
    return _to_db(rms)


def normalize_loudness(samples: np.ndarray, sample_rate: int, target_lufs: float) -> np.ndarray:
    """Scale audio to an integrated loudness (ITU-R BS.1770, pyloudnorm) of ``target_lufs``.

    Audio too short (< 0.4 s) or too quiet to measure is returned unchanged. Combine with
    :func:`limit_peak`: loud targets can push peaks past full scale.
    """
    return apply_gain(samples, loudness_gain(samples, sample_rate, target_lufs))


def loudness_gain(samples: np.ndarray, sample_rate: int, target_lufs: float) -> float:
    """The gain :func:`normalize_loudness` applies: 1.0 for audio too short or too quiet to measure.
    Apart from the scaling, so that one gain can be measured on a mix and applied to its parts."""
    if len(samples) < _LOUDNESS_MIN_SECONDS * sample_rate:
        return 1.0
    import pyloudnorm  # here: it brings scipy (a second), which the window need not wait for at start

    loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(samples)
    if not math.isfinite(loudness):
        return 1.0
    return 10.0 ** ((target_lufs - loudness) / 20.0)


def limit_peak(samples: np.ndarray, ceiling_dbfs: float = PEAK_CEILING_DBFS) -> np.ndarray:
    """Scale the whole clip down when its peak is above the ceiling (no clipping, no distortion)."""
    return apply_gain(samples, peak_gain(samples, ceiling_dbfs))


def peak_gain(samples: np.ndarray, ceiling_dbfs: float = PEAK_CEILING_DBFS) -> float:
    """The gain :func:`limit_peak` applies: 1.0 when the peak is at or below the ceiling."""
    peak = float(np.max(np.abs(samples))) if np.size(samples) else 0.0
    ceiling = 10.0 ** (ceiling_dbfs / 20.0)
    return 1.0 if peak <= ceiling else ceiling / peak


def apply_gain(samples: np.ndarray, gain: float) -> np.ndarray:
    """``samples`` times ``gain`` as float32; the same array when the gain is 1."""
    return samples if gain == 1.0 else (samples * gain).astype(np.float32)


def sound_bounds(samples: np.ndarray, sample_rate: int, threshold_dbfs: float) -> tuple[int, int]:
    """(start, end) of the sound in mono audio: leading and trailing stretches quieter than
    ``threshold_dbfs`` (10 ms RMS windows) left out, with a 50 ms margin kept around the sound so
    soft onsets survive. ``(0, 0)`` for all-quiet audio."""
    window = max(1, round(_TRIM_WINDOW_SECONDS * sample_rate))
    count = len(samples) // window
    if count == 0:
        return 0, 0
    frames = np.asarray(samples[: count * window], dtype=np.float64).reshape(count, window)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud = np.flatnonzero(rms >= 10.0 ** (threshold_dbfs / 20.0))
    if loud.size == 0:
        return 0, 0
    margin = round(_TRIM_MARGIN_SECONDS * sample_rate)
    return max(0, loud[0] * window - margin), min(len(samples), (loud[-1] + 1) * window + margin)


def _to_db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf
