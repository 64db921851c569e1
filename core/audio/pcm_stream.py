"""Model audio as it is made → raw PCM bytes in the encoding and at the rate a listener asked for:
the live endpoint's binary frames and ``dia-studio speak --raw``.

Resampling runs as a stream (soxr VHQ, the export's quality), so the chunks joined are exactly the
whole take resampled at once; ``finish()`` hands out the resampler's tail.
"""

from __future__ import annotations

import numpy as np
import soxr

from core.audio import MODEL_SAMPLE_RATE
from core.errors import InvalidParameter

ENCODINGS = ("pcm_f32le", "pcm_s16le")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
_EMPTY = np.zeros(0, dtype=np.float32)


class PcmStream:
    def __init__(self, encoding: str = "pcm_f32le", sample_rate: int = MODEL_SAMPLE_RATE, *,
                 encoding_field: str = "encoding", rate_field: str = "sampleRate"):
        """``*_field``: the names a refused value is reported under (the caller's spelling)."""
        if encoding not in ENCODINGS:
            raise InvalidParameter(encoding_field, encoding, "one of " + ", ".join(ENCODINGS))
        if isinstance(sample_rate, bool) or sample_rate not in SAMPLE_RATES:
            raise InvalidParameter(rate_field, sample_rate, "one of " + ", ".join(map(str, SAMPLE_RATES)) + " Hz")
        self.encoding = encoding
        self.sample_rate = sample_rate
        self.samples_out = 0
        self._resampler = (None if sample_rate == MODEL_SAMPLE_RATE else
                           soxr.ResampleStream(MODEL_SAMPLE_RATE, sample_rate, 1, dtype="float32", quality="VHQ"))

    @property
    def bytes_per_sample(self) -> int:
        return 4 if self.encoding == "pcm_f32le" else 2

    def encode(self, samples: np.ndarray) -> bytes:
        """The bytes of the next chunk of model audio (float32 mono at 24 kHz)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        return self._bytes(samples)

    def finish(self) -> bytes:
        """What the resampler still holds, once the take has ended."""
        if self._resampler is None:
            return b""
        return self._bytes(self._resampler.resample_chunk(_EMPTY, last=True))

    def _bytes(self, samples: np.ndarray) -> bytes:
        self.samples_out += len(samples)
        if self.encoding == "pcm_f32le":
            return samples.astype("<f4", copy=False).tobytes()
        return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
