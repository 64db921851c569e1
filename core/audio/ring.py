"""A fixed-size buffer that keeps the most recent samples, written from an audio callback."""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """Mono float32 samples; once full, each write overwrites the oldest ones.

    One writer (the audio callback) and one reader. ``write`` copies into storage allocated up
    front, so it never allocates sample memory nor takes a lock. Reading while writing is safe for
    display; read after the stream stopped for an exact take.
    """

    def __init__(self, capacity: int):
        if capacity <= 0:
            raise ValueError("a ring buffer needs room for at least one sample")
        self._data = np.zeros(capacity, dtype=np.float32)
        self._written = 0  # samples ever written; the write position is this modulo the capacity

    @property
    def capacity(self) -> int:
        return len(self._data)

    @property
    def written(self) -> int:
        """Samples written since the start, including those already overwritten."""
        return self._written

    def write(self, block: np.ndarray) -> None:
        capacity = len(self._data)
        skipped = len(block) - capacity
        if skipped > 0:  # a block longer than the ring: only its end is kept
            block = block[skipped:]
            self._written += skipped
        start = self._written % capacity
        head = min(len(block), capacity - start)
        self._data[start : start + head] = block[:head]
        self._data[: len(block) - head] = block[head:]
        self._written += len(block)

    def read(self) -> np.ndarray:
        """A copy of the samples held, oldest first."""
        capacity = len(self._data)
        if self._written <= capacity:
            return self._data[: self._written].copy()
        start = self._written % capacity
        return np.concatenate((self._data[start:], self._data[:start]))
