"""Record from a microphone into a ring buffer, with a live level for a meter.

The audio callback only copies the block into the ring and notes its peak; the GUI polls
``level`` and ``recorded_s`` on a timer, and ``stop()`` hands back the take. Feed the take to
``core.audio.io.load_voice_clip((recording.samples, recording.sample_rate))`` to check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.audio.backend import AudioBackend, AudioDevice, AudioStream
from core.audio.errors import AudioDeviceError, NoAudioDevice
from core.audio.ring import RingBuffer

# How much of a long take is kept (the most recent part): three times the longest useful voice
# reference, so the user can still pick the best 20 s.
DEFAULT_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class Recording:
    samples: np.ndarray  # mono float32
    sample_rate: int
    dropped_s: float  # seconds lost off the start because the take outgrew the ring
    error: AudioDeviceError | None  # why the take ended before stop(), if it did

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


class Recorder:
    """One take at a time from one input device (the system default unless one is given)."""

    def __init__(
        self,
        backend: AudioBackend,
        device: AudioDevice | None = None,
        sample_rate: int | None = None,  # None: the device's own rate (no resampling in the driver)
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ):
        self._backend = backend
        self._device = device
        self._requested_rate = sample_rate
        self._max_seconds = max_seconds
        self._stream: AudioStream | None = None
        self._ring: RingBuffer | None = None
        self._sample_rate = 0
        self._level = 0.0
        self._error: AudioDeviceError | None = None

    def start(self) -> None:
        """Open the device and start recording; raises NoAudioDevice or AudioDeviceError."""
        if self._stream is not None:
            return
        device = self._device or self._backend.default_input()
        if device is None:
            raise NoAudioDevice("No microphone was found. Connect one and try again.")
        self._sample_rate = self._requested_rate or device.default_sample_rate
        self._ring = RingBuffer(round(self._max_seconds * self._sample_rate))
        self._level = 0.0
        self._error = None
        stream = self._backend.open_input(device, self._sample_rate, 1, self._on_block, self._on_stopped)
        try:
            stream.start()
        except AudioDeviceError:
            stream.close()
            raise
        self._stream = stream

    def stop(self) -> Recording:
        """End the take and return it, with whatever was recorded before an error."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if self._ring is None:
            raise RuntimeError("Recorder.stop() called before start()")
        samples = np.nan_to_num(self._ring.read(), nan=0.0, posinf=0.0, neginf=0.0)
        dropped = (self._ring.written - len(samples)) / self._sample_rate
        return Recording(samples, self._sample_rate, dropped, self._error)

    @property
    def is_recording(self) -> bool:
        return self._stream is not None and self._error is None

    @property
    def recorded_s(self) -> float:
        return self._ring.written / self._sample_rate if self._ring is not None else 0.0

    @property
    def level(self) -> float:
        """Peak of the latest block, 0…1 (full scale)."""
        return self._level

    @property
    def level_dbfs(self) -> float:
        return 20.0 * math.log10(self._level) if self._level > 0 else -math.inf

    @property
    def error(self) -> AudioDeviceError | None:
        """Set when the device stopped during the take (the take so far is kept)."""
        return self._error

    def _on_block(self, block: np.ndarray) -> None:
        # audio thread: a copy and a peak, nothing that allocates or waits
        mono = block[:, 0]
        self._ring.write(mono)
        self._level = max(float(mono.max()), -float(mono.min())) if len(mono) else 0.0

    def _on_stopped(self, message: str | None) -> None:
        # an input stream only stops by itself when its device failed
        self._error = AudioDeviceError(message or "The microphone stopped.")
