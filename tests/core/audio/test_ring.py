from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from core.audio.ring import RingBuffer


def test_holds_everything_until_full():
    ring = RingBuffer(10)
    ring.write(np.arange(4, dtype=np.float32))
    ring.write(np.arange(4, 7, dtype=np.float32))
    assert ring.read().tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert ring.written == 7


def test_keeps_the_most_recent_samples_once_full():
    ring = RingBuffer(5)
    for start in range(0, 12, 3):
        ring.write(np.arange(start, start + 3, dtype=np.float32))
    assert ring.read().tolist() == [7, 8, 9, 10, 11]
    assert ring.written == 12


@pytest.mark.parametrize("before", [0, 2])
def test_a_block_longer_than_the_ring_keeps_its_end(before):
    ring = RingBuffer(4)
    ring.write(np.full(before, -1, dtype=np.float32))
    ring.write(np.arange(10, dtype=np.float32))
    assert ring.read().tolist() == [6, 7, 8, 9]
    ring.write(np.array([10], dtype=np.float32))
    assert ring.read().tolist() == [7, 8, 9, 10]
    assert ring.written == before + 11


def test_matches_a_plain_list_over_random_writes():
    rng = np.random.default_rng(5)
    ring = RingBuffer(1000)
    everything = []
    for _ in range(200):
        block = rng.standard_normal(rng.integers(0, 400)).astype(np.float32)
        ring.write(block)
        everything.extend(block)
        assert np.array_equal(ring.read(), np.array(everything[-1000:], dtype=np.float32))


def test_writing_allocates_no_sample_memory():
    ring = RingBuffer(48000)
    block = np.ones((1024, 1), dtype=np.float32)[:, 0]  # a column of a callback's block
    ring.write(block)
    # tracemalloc counts every thread's allocations, and a test worker's own threads allocate
    # now and then; a copy of the block would show in every trial, so the quietest one decides.
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(5):
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in range(200):  # wraps around several times
                ring.write(block)
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
    finally:
        tracemalloc.stop()
    assert min(peaks) < 1024  # a few view objects, not a 4 kB copy of the block


def test_needs_room():
    with pytest.raises(ValueError):
        RingBuffer(0)
