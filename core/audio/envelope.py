"""The min/max envelope of a clip, for drawing its waveform: a few thousand columns, each the
lowest and highest sample of a bucket of samples, computed once (or as chunks arrive) and never
from the raw samples again.

Buckets start at ``BASE_BUCKET`` samples and double (neighbours merged in pairs) whenever the clip
would need more than ``max_columns`` of them, so appending a clip chunk by chunk gives exactly the
envelope of the whole clip appended at once.
"""

from __future__ import annotations

import numpy as np

BASE_BUCKET = 32  # samples per column for short clips (1.3 ms at 24 kHz)
MAX_COLUMNS = 4096


class Envelope:
    def __init__(self, sample_rate: int, max_columns: int = MAX_COLUMNS):
        if max_columns < 2:
            raise ValueError("An envelope needs at least two columns.")
        self.sample_rate = sample_rate
        self.max_columns = max_columns
        self.bucket = BASE_BUCKET  # samples per column
        self.frame_count = 0
        self._mins = np.zeros(max_columns + 1, np.float32)  # complete buckets first
        self._maxs = np.zeros(max_columns + 1, np.float32)
        self._complete = 0
        self._partial = 0  # samples in the bucket being filled (its min/max at index _complete)

    @classmethod
    def of(cls, samples: np.ndarray, sample_rate: int, max_columns: int = MAX_COLUMNS) -> Envelope:
        envelope = cls(sample_rate, max_columns)
        envelope.append(samples)
        return envelope

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.sample_rate

    @property
    def column_s(self) -> float:
        """How long one column lasts, in seconds."""
        return self.bucket / self.sample_rate

    @property
    def mins(self) -> np.ndarray:
        return self._mins[:len(self)]

    @property
    def maxs(self) -> np.ndarray:
        return self._maxs[:len(self)]

    def __len__(self) -> int:
        return self._complete + (1 if self._partial else 0)

    def append(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, np.float32).reshape(-1)
        if not len(samples):
            return
        self._make_room(self.frame_count + len(samples))
        self.frame_count += len(samples)
        if self._partial:  # top up the bucket being filled
            take = min(self.bucket - self._partial, len(samples))
            head, samples = samples[:take], samples[take:]
            i = self._complete
            self._mins[i] = min(self._mins[i], head.min())
            self._maxs[i] = max(self._maxs[i], head.max())
            self._partial += take
            if self._partial == self.bucket:
                self._complete, self._partial = i + 1, 0
        if not len(samples):
            return
        whole = len(samples) // self.bucket * self.bucket
        if whole:
            buckets = samples[:whole].reshape(-1, self.bucket)
            i, n = self._complete, len(buckets)
            self._mins[i:i + n] = buckets.min(axis=1)
            self._maxs[i:i + n] = buckets.max(axis=1)
            self._complete += n
        rest = samples[whole:]
        if len(rest):
            self._mins[self._complete] = rest.min()
            self._maxs[self._complete] = rest.max()
            self._partial = len(rest)

    def _make_room(self, frame_count: int) -> None:
        """Double the buckets until ``frame_count`` samples fit in ``max_columns`` columns."""
        while -(-frame_count // self.bucket) > self.max_columns:
            count = len(self)
            pairs = count // 2
            mins, maxs = self._mins[:count], self._maxs[:count]
            merged_min = np.minimum(mins[0:2 * pairs:2], mins[1:2 * pairs:2])
            merged_max = np.maximum(maxs[0:2 * pairs:2], maxs[1:2 * pairs:2])
            if count % 2:  # the last column starts a bucket of the new size on its own
                self._mins[pairs], self._maxs[pairs] = mins[count - 1], maxs[count - 1]
            self._mins[:pairs], self._maxs[:pairs] = merged_min, merged_max
            self.bucket *= 2
            self._complete, self._partial = divmod(self.frame_count, self.bucket)

    def pixels(self, width: int, span_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Min and max per pixel for ``width`` pixels showing ``span_s`` seconds from the start;
        only the pixels that have audio (possibly fewer than ``width``)."""
        count = len(self)
        if not count or width <= 0 or span_s <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        pixel_s = span_s / width
        heard = min(width, int(np.ceil(self.duration_s / pixel_s)))
        starts = np.floor(np.arange(heard) * pixel_s / self.column_s).astype(np.int64)
        starts = np.minimum(starts, count - 1)
        return np.minimum.reduceat(self.mins, starts), np.maximum.reduceat(self.maxs, starts)
