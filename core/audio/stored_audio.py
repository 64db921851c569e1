"""Audio as a project stores it: 24-bit FLAC, within 2^-23 (about 1.2e-7) of the model's float32
samples, far below hearing, at about half the size of float WAV."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

import numpy as np
import soundfile


def flac_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """The samples as a 24-bit FLAC file, in memory; samples beyond ±1 are clipped."""
    # Clip explicitly: some libsndfile versions wrap out-of-range floats instead.
    return encoded_in_memory(partial(soundfile.write, data=np.clip(samples, -1.0, 1.0), samplerate=sample_rate,
                                     format="FLAC", subtype="PCM_24"))


def as_stored(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The samples as a project keeps them (24-bit FLAC, read back; reading them back again
    changes nothing). A take that holds these from the start plays and exports before a save
    exactly as the saved project does, in the window or on the command line."""
    if not len(samples):
        return samples
    stored, _ = soundfile.read(io.BytesIO(flac_bytes(samples, sample_rate)), dtype="float32")
    return stored


def encoded_in_memory(write: Callable[[io.BytesIO], None]) -> bytes:
    """What ``write(file)`` writes, encoded in memory: soundfile writes a file object through a C
    callback that swallows its OSError (a full disk came out as an AssertionError), so the bytes
    go to disk afterwards with ``atomic_write.write_new_file``, where the error surfaces."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()
