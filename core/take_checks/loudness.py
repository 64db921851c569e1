"""A line's sound, 10 ms at a time: where it is silent, how loud its speech is, where it clips."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_S = 0.01
FLOOR_DBFS = -90.0  # quieter than this is silence, however quiet the line
FULL_SCALE = 0.999


@dataclass(frozen=True)
class Frames:
    """The levels (dBFS) of a stretch of audio, one per 10 ms, and which of them are sound."""

    levels: np.ndarray
    sounding: np.ndarray  # bool per frame

    @classmethod
    def of(cls, samples: np.ndarray, sample_rate: int, silent_below_peak_db: float) -> Frames:
        size = max(1, int(round(sample_rate * FRAME_S)))
        count = len(samples) // size
        if count == 0:
            return cls(np.zeros(0), np.zeros(0, dtype=bool))
        power = np.mean(np.square(samples[:count * size].astype(np.float64).reshape(count, size)), axis=1)
        levels = 10 * np.log10(np.maximum(power, 1e-12))
        threshold = max(FLOOR_DBFS, float(levels.max()) - silent_below_peak_db)
        return cls(levels, levels > threshold)

    def speech_level_dbfs(self) -> float | None:
        """The mean power of the sounding frames, in dBFS; None for a silent stretch."""
        if not self.sounding.any():
            return None
        return float(10 * np.log10(np.mean(10 ** (self.levels[self.sounding] / 10))))

    def sounding_s(self) -> float:
        return float(self.sounding.sum()) * FRAME_S

    def first_and_last_sound_s(self) -> tuple[float, float] | None:
        where = np.flatnonzero(self.sounding)
        if not len(where):
            return None
        return float(where[0]) * FRAME_S, float(where[-1] + 1) * FRAME_S

    def inner_silences(self, bridge_s: float = 0.05) -> list[tuple[float, float]]:
        """Silences between the first and the last sound, as (start, length) in seconds from the
        stretch's start; a dip shorter than ``bridge_s`` (a plosive's closure) is not one."""
        where = np.flatnonzero(self.sounding)
        if len(where) < 2:
            return []
        gaps = np.flatnonzero(np.diff(where) > 1)
        silences = []
        for gap in gaps:
            start, end = where[gap] + 1, where[gap + 1]
            length = (end - start) * FRAME_S
            if length >= bridge_s:
                silences.append((start * FRAME_S, length))
        return silences


def clipped_samples(samples: np.ndarray) -> tuple[int, int | None]:
    """How many samples sit at full scale, and the first of them (None when none does)."""
    at_full_scale = np.flatnonzero(np.abs(samples) >= FULL_SCALE)
    return len(at_full_scale), (int(at_full_scale[0]) if len(at_full_scale) else None)
