"""A sound system without sound: each stream is a thread calling the same callbacks as PortAudio
would, paced by a virtual clock. GUI and unit tests use it to run anywhere.

``speed=1.0`` runs in real time, ``speed=4.0`` four times faster; ``speed=None`` stops the clock
until the test calls ``advance(seconds)``, which runs every open stream exactly that far.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from core.audio.backend import AudioBackend, AudioDevice, InputCallback, OutputCallback, StoppedCallback
from core.audio.errors import AudioDeviceError

FAKE_MICROPHONE = AudioDevice("fake-in", "Fake microphone", 1, 0, 48000, is_default=True)
FAKE_SPEAKERS = AudioDevice("fake-out", "Fake speakers", 0, 2, 48000, is_default=True)


class FakeBackend(AudioBackend):
    def __init__(
        self,
        *,
        speed: float | None = 1.0,
        block_frames: int = 512,
        latency_s: float = 0.0,
        microphone: np.ndarray | None = None,  # what the microphone hears, at the stream's rate
        inputs: tuple[AudioDevice, ...] = (FAKE_MICROPHONE,),
        outputs: tuple[AudioDevice, ...] = (FAKE_SPEAKERS,),
        refuse_open: str | None = None,  # open_* raise AudioDeviceError with this message
        lose_device_after_s: float | None = None,  # streams stop by themselves after this long
    ):
        self.speed = speed
        self.block_frames = block_frames
        self.latency_s = latency_s
        self.microphone = np.zeros(0, dtype=np.float32) if microphone is None else np.asarray(microphone, np.float32)
        self._inputs = list(inputs)
        self._outputs = list(outputs)
        self._refuse_open = refuse_open
        self._lose_after_s = lose_device_after_s
        self.streams: list[FakeStream] = []  # every stream opened, newest last

    def plug_in(self, device: AudioDevice) -> None:
        """A device appears (a microphone or headphones plugged in): it is listed from now on."""
        if device.input_channels:
            self._inputs.append(device)
        if device.output_channels:
            self._outputs.append(device)

    def unplug(self, device: AudioDevice) -> None:
        """A device goes away: it is no longer listed."""
        for devices in (self._inputs, self._outputs):
            if device in devices:
                devices.remove(device)

    def input_devices(self) -> list[AudioDevice]:
        return list(self._inputs)

    def output_devices(self) -> list[AudioDevice]:
        return list(self._outputs)

    def open_input(
        self,
        device: AudioDevice,
        sample_rate: int,
        channels: int,
        callback: InputCallback,
        on_stopped: StoppedCallback,
    ) -> FakeStream:
        return self._open(device, sample_rate, channels, on_stopped, input_callback=callback)

    def open_output(
        self,
        device: AudioDevice,
        sample_rate: int,
        channels: int,
        callback: OutputCallback,
        on_stopped: StoppedCallback,
    ) -> FakeStream:
        return self._open(device, sample_rate, channels, on_stopped, output_callback=callback)

    def advance(self, seconds: float) -> None:
        """Manual clock only: run every started stream ``seconds`` further; returns when done."""
        if self.speed is not None:
            raise RuntimeError("advance() drives the clock only of a FakeBackend(speed=None)")
        for stream in self.streams:
            stream.grant(seconds)
        for stream in self.streams:
            stream.wait_idle()

    def _open(self, device, sample_rate, channels, on_stopped, input_callback=None, output_callback=None) -> FakeStream:
        if self._refuse_open is not None:
            raise AudioDeviceError(self._refuse_open)
        stream = FakeStream(self, device, sample_rate, channels, on_stopped, input_callback, output_callback)
        self.streams.append(stream)
        return stream


class FakeStream:
    def __init__(self, backend, device, sample_rate, channels, on_stopped, input_callback, output_callback):
        self.device = device
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames_done = 0  # the stream's virtual clock, in frames
        self.played: list[np.ndarray] = []  # copies of every output block
        self._backend = backend
        self._on_stopped = on_stopped
        self._input_callback = input_callback
        self._output_callback = output_callback
        self._granted = 0  # manual clock: frames the test allowed so far
        self._closed = False
        self._running = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"fake audio: {device.name}", daemon=True)

    @property
    def latency_s(self) -> float:
        return self._backend.latency_s

    @property
    def clock_s(self) -> float:
        return self.frames_done / self.sample_rate

    @property
    def played_audio(self) -> np.ndarray:
        """Everything this output stream played, (frames, channels)."""
        return np.concatenate(self.played) if self.played else np.zeros((0, self.channels), np.float32)

    def start(self) -> None:
        self._running = True
        self._thread.start()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()

    def grant(self, seconds: float) -> None:
        with self._wake:
            self._granted += round(seconds * self.sample_rate)
            self._wake.notify_all()

    def wait_for_clock(self, seconds: float, timeout: float = 10.0) -> bool:
        """Until the stream's clock reaches ``seconds`` or it stopped; False if ``timeout`` (real
        seconds) passed first. Lets paced tests wait on the clock instead of sleeping."""
        target = round(seconds * self.sample_rate)
        with self._wake:
            return self._wake.wait_for(lambda: not self._running or self.frames_done >= target, timeout)

    def wait_idle(self) -> None:
        """Until the stream ran all it was granted (or stopped)."""
        with self._wake:
            self._wake.wait_for(lambda: not self._running or self._granted - self.frames_done < self._block)

    @property
    def _block(self) -> int:
        return self._backend.block_frames

    def _run(self) -> None:
        buffer = np.zeros((self._block, self.channels), dtype=np.float32)
        started = time.monotonic()
        lose_at = self._backend._lose_after_s
        last_block_at = None  # output: the frame at which the callback said it was done
        # after the last block, the device still plays what it buffered
        play_out = self._block + round(self._backend.latency_s * self.sample_rate)
        try:
            while self._wait_for_clock(started):
                if lose_at is not None and self.frames_done >= lose_at * self.sample_rate:
                    kind = "microphone" if self._input_callback else "sound output"
                    self._on_stopped(f"The {kind} '{self.device.name}' stopped working (was it unplugged?).")
                    return
                if self._input_callback is not None:
                    heard = self._backend.microphone[self.frames_done : self.frames_done + self._block]
                    buffer[:] = 0.0
                    buffer[: len(heard)] = heard[:, None]
                    self._input_callback(buffer)
                elif last_block_at is None:
                    if not self._output_callback(buffer):
                        last_block_at = self.frames_done
                    self.played.append(buffer.copy())
                with self._wake:
                    self.frames_done += self._block
                    self._wake.notify_all()
                if last_block_at is not None and self.frames_done - last_block_at >= play_out:
                    if not self._closed:
                        self._on_stopped(None)
                    return
        finally:
            with self._wake:
                self._running = False
                self._wake.notify_all()

    def _wait_for_clock(self, started: float) -> bool:
        """Block until the clock allows the next block; False once closed."""
        speed = self._backend.speed
        with self._wake:
            if speed is None:
                self._wake.wait_for(lambda: self._closed or self._granted - self.frames_done >= self._block)
            else:
                due = started + (self.frames_done + self._block) / self.sample_rate / speed
                self._wake.wait_for(lambda: self._closed, timeout=max(0.0, due - time.monotonic()))
            return not self._closed
