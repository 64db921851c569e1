"""The real sound system: PortAudio through the sounddevice package."""

from __future__ import annotations

import threading

import numpy as np

from core.audio.backend import AudioBackend, AudioDevice, InputCallback, OutputCallback, StoppedCallback
from core.audio.errors import AudioDeviceError

# A preview is not interactive, so a generous output buffer is cheap and rides out a busy CPU; the
# playhead takes it into account. PortAudio's "high" preset gave 35 ms on PulseAudio, and under load
# its underruns made the ALSA plugin drop whole stretches of audio.
OUTPUT_LATENCY_S = 0.2
# Recording keeps PortAudio's preset: a 200 ms input buffer made that same plugin lose most of
# what was played.
INPUT_LATENCY = "high"


class SoundDeviceBackend(AudioBackend):
    def __init__(self) -> None:
        try:
            import sounddevice
        except OSError as error:  # the wheel needs the system's PortAudio on Linux
            raise AudioDeviceError(
                f"The sound system is not available ({error}). On Linux, install PortAudio (libportaudio2)."
            ) from error
        self._sd = sounddevice

    def refresh(self) -> None:
        """Look for devices again (PortAudio lists them only when it starts); close streams first."""
        self._sd._terminate()
        self._sd._initialize()

    def input_devices(self) -> list[AudioDevice]:
        return self._devices(direction=0)

    def output_devices(self) -> list[AudioDevice]:
        return self._devices(direction=1)

    def open_input(
        self,
        device: AudioDevice,
        sample_rate: int,
        channels: int,
        callback: InputCallback,
        on_stopped: StoppedCallback,
    ) -> _SoundDeviceStream:
        def on_block(indata: np.ndarray, frames: int, time: object, status: object) -> None:
            callback(indata)

        stream = _SoundDeviceStream(f"microphone '{device.name}'", on_stopped)
        return self._open(stream, self._sd.InputStream, device, sample_rate, channels, on_block, INPUT_LATENCY)

    def open_output(
        self,
        device: AudioDevice,
        sample_rate: int,
        channels: int,
        callback: OutputCallback,
        on_stopped: StoppedCallback,
    ) -> _SoundDeviceStream:
        def on_block(outdata: np.ndarray, frames: int, time: object, status: object) -> None:
            if stream.silence_to_play is None:
                if not callback(outdata):
                    # Stopping right after the last block cut off what was still buffered (seen
                    # through PulseAudio's ALSA plugin): push it out with silence first.
                    stream.silence_to_play = round(2 * stream.latency_s * sample_rate)
                return
            outdata.fill(0.0)
            stream.silence_to_play -= frames
            if stream.silence_to_play <= 0:
                raise self._sd.CallbackStop

        stream = _SoundDeviceStream(f"sound output '{device.name}'", on_stopped)
        return self._open(stream, self._sd.OutputStream, device, sample_rate, channels, on_block, OUTPUT_LATENCY_S)

    def _open(self, stream, stream_type, device, sample_rate, channels, on_block, latency) -> _SoundDeviceStream:
        try:
            stream.portaudio_stream = stream_type(
                device=device.id,
                samplerate=sample_rate,
                channels=channels,
                dtype="float32",
                latency=latency,
                callback=on_block,
                finished_callback=stream.finished,
            )
        except self._sd.PortAudioError as error:
            raise AudioDeviceError(_failure(stream.description, error)) from error
        return stream

    def _devices(self, direction: int) -> list[AudioDevice]:
        try:
            default = self._sd.default.device[direction]
            found = self._sd.query_devices()
        except self._sd.PortAudioError as error:
            raise AudioDeviceError(f"Could not list the sound devices: {error}.") from error
        devices = []
        for info in found:
            channels = (info["max_input_channels"], info["max_output_channels"])
            if channels[direction] > 0:
                devices.append(
                    AudioDevice(
                        id=info["index"],
                        name=info["name"],
                        input_channels=channels[0],
                        output_channels=channels[1],
                        default_sample_rate=round(info["default_samplerate"]),
                        is_default=info["index"] == default,
                    )
                )
        return devices


class _SoundDeviceStream:
    """An ``AudioStream`` over a sounddevice stream, telling a failure from a normal end."""

    def __init__(self, description: str, on_stopped: StoppedCallback):
        self.description = description
        self.portaudio_stream = None
        self.silence_to_play: int | None = None  # output: frames left to play after the last block
        self._on_stopped = on_stopped
        self._closing = threading.Event()

    @property
    def latency_s(self) -> float:
        return float(self.portaudio_stream.latency)

    def start(self) -> None:
        try:
            self.portaudio_stream.start()
        except Exception as error:  # PortAudioError, or sounddevice's own for a bad state
            raise AudioDeviceError(_failure(self.description, error)) from error

    def close(self) -> None:
        self._closing.set()
        self.portaudio_stream.close(ignore_errors=True)

    def finished(self) -> None:
        # PortAudio calls this whenever the stream stops: after close(), once the last block played
        # out, or when the host stopped it (device unplugged, driver error).
        if self._closing.is_set():
            return
        ended = self.silence_to_play is not None
        self._on_stopped(None if ended else f"The {self.description} stopped working (was it unplugged?).")


def _failure(description: str, error: Exception) -> str:
    return (
        f"Could not use the {description}: {error}. Check that it is connected, that no other program "
        "holds it, and that Dia Studio is allowed to use it (on macOS: System Settings → Privacy)."
    )
