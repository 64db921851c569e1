"""The small interface between the studio and a sound system.

Capture and playback talk only to an ``AudioBackend``: ``SoundDeviceBackend`` (PortAudio, the real
thing) or the tests' ``FakeBackend`` (``tests/fake_sound_card.py``: a thread with a virtual clock, so
tests run without a sound card).
Callbacks run on the sound system's thread: they must only copy samples, never block or allocate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Receives each block of recorded samples, float32 (frames, channels); valid only during the call.
InputCallback = Callable[[np.ndarray], None]
# Fills the whole float32 (frames, channels) block it is given; returns False when that block is
# the last one (the stream then plays it out and stops by itself).
OutputCallback = Callable[[np.ndarray], bool]
# Called from the sound system's thread when a stream stopped without close(): with None once an
# output played out its last block, or with a message for the user when the device failed
# (unplugged, driver error).
StoppedCallback = Callable[[str | None], None]


@dataclass(frozen=True)
class AudioDevice:
    id: int | str  # the backend's own handle
    name: str
    input_channels: int
    output_channels: int
    default_sample_rate: int
    is_default: bool = False  # the system's default for its direction


class AudioStream(Protocol):
    @property
    def latency_s(self) -> float:
        """Time from a callback to the moment its samples are heard (output) or captured (input)."""

    def start(self) -> None: ...

    def close(self) -> None:
        """Stop (dropping what is still buffered) and release the device; safe to call twice."""


class AudioBackend(ABC):
    @abstractmethod
    def input_devices(self) -> list[AudioDevice]: ...

    @abstractmethod
    def output_devices(self) -> list[AudioDevice]: ...

    @abstractmethod
    def open_input(
        self,
        device: AudioDevice,
        sample_rate: int,
        channels: int,
        callback: InputCallback,
        on_stopped: StoppedCallback,
    ) -> AudioStream:
        """An unstarted recording stream; raises AudioDeviceError when the device refuses."""

    @abstractmethod
    def open_output(
        self,
        device: AudioDevice,
        sample_rate: int,
        channels: int,
        callback: OutputCallback,
        on_stopped: StoppedCallback,
    ) -> AudioStream:
        """An unstarted playback stream; raises AudioDeviceError when the device refuses."""

    def default_input(self) -> AudioDevice | None:
        return _pick_default(self.input_devices())

    def default_output(self) -> AudioDevice | None:
        return _pick_default(self.output_devices())


def _pick_default(devices: list[AudioDevice]) -> AudioDevice | None:
    return next((device for device in devices if device.is_default), devices[0] if devices else None)
