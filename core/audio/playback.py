"""A player for audio that is still arriving: the streaming preview of a generation.

Chunks are appended (from any thread) while it plays; ``finish()`` says no more will come. When
playback catches up with the chunks before that, it plays silence and waits — an underrun, counted
for the user — and goes on when the next chunk arrives. The GUI polls ``position_s`` for its
playhead and ``state`` for its buttons.
"""

from __future__ import annotations

import bisect
import enum
import threading

import numpy as np

from core.audio import MODEL_SAMPLE_RATE
from core.audio.backend import AudioBackend, AudioDevice, AudioStream
from core.audio.errors import AudioDeviceError, NoAudioDevice


class PlayerState(enum.Enum):
    STOPPED = "stopped"  # at the start, nothing open
    PLAYING = "playing"
    PAUSED = "paused"
    ENDED = "ended"  # played to the end after finish()


class StreamingPlayer:
    """Plays mono chunks at ``sample_rate`` on one output device (the system default unless given)."""

    def __init__(self, backend: AudioBackend, sample_rate: int = MODEL_SAMPLE_RATE, device: AudioDevice | None = None):
        self._backend = backend
        self._device = device
        self.sample_rate = sample_rate
        # One lock for the play state; the audio callback holds it only while copying one block.
        self._lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._chunk_starts: list[int] = []  # frame at which each chunk begins
        self._length = 0  # frames appended so far
        self._position = 0  # next frame the callback hands out
        self._finished = False
        self._starving = True  # the last block ran short; waiting at the start is not an underrun
        self._underruns = 0
        self._state = PlayerState.STOPPED
        self._stream: AudioStream | None = None
        self._error: AudioDeviceError | None = None

    # --- feeding -------------------------------------------------------------------------------

    def append(self, chunk: np.ndarray) -> None:
        """Add mono float samples at the end (thread-safe; may be called while playing)."""
        chunk = np.ascontiguousarray(chunk, dtype=np.float32).reshape(-1)
        if not len(chunk):
            return
        with self._lock:
            if self._finished:
                raise RuntimeError("StreamingPlayer.append() after finish()")
            self._chunk_starts.append(self._length)
            self._chunks.append(chunk)
            self._length += len(chunk)

    def finish(self) -> None:
        """No more chunks will come: playback ends after the last one instead of waiting."""
        with self._lock:
            self._finished = True

    # --- transport -----------------------------------------------------------------------------

    def play(self) -> None:
        """Start or resume; after the end, start again from the beginning.

        Raises NoAudioDevice or AudioDeviceError when the output cannot be opened.
        """
        with self._lock:
            if self._state is PlayerState.PLAYING:
                return
            if self._state is PlayerState.ENDED:
                self._position = 0
            leftover, self._stream = self._stream, None
        if leftover is not None:  # a stream that ended or failed by itself
            leftover.close()
        device = self._device or self._backend.default_output()
        if device is None:
            raise NoAudioDevice("No sound output was found. Connect speakers or headphones and try again.")
        channels = min(2, device.output_channels)  # mono is copied to both sides of a stereo output
        stream = self._backend.open_output(device, self.sample_rate, channels, self._fill, self._on_stopped)
        with self._lock:
            self._stream = stream
            self._state = PlayerState.PLAYING
            self._starving = True
            self._error = None
        try:
            stream.start()
        except AudioDeviceError:
            self._halt(PlayerState.PAUSED, keep_position=True)
            raise

    def pause(self) -> None:
        """Stop the sound, keeping the position (at what was heard last)."""
        if self.state is PlayerState.PLAYING:
            self._halt(PlayerState.PAUSED, keep_position=True)

    def stop(self) -> None:
        """Stop the sound, release the device and go back to the start."""
        self._halt(PlayerState.STOPPED, keep_position=False)

    def seek(self, seconds: float) -> None:
        """Move the playhead (clamped to what has been appended so far)."""
        with self._lock:
            self._position = min(max(0, round(seconds * self.sample_rate)), self._length)
            self._starving = True
            if self._state is PlayerState.ENDED:
                self._state = PlayerState.PAUSED

    # --- reports -------------------------------------------------------------------------------

    @property
    def state(self) -> PlayerState:
        return self._state

    @property
    def position_s(self) -> float:
        """Where the listener is, in seconds (output latency taken off while playing)."""
        with self._lock:
            return self._audible_position() / self.sample_rate

    @property
    def duration_s(self) -> float:
        """Length of what has been appended so far."""
        return self._length / self.sample_rate

    @property
    def end_of_stream(self) -> bool:
        return self._finished

    @property
    def underruns(self) -> int:
        """How often playback ran out of appended audio before finish() and played silence."""
        return self._underruns

    @property
    def is_buffering(self) -> bool:
        """Playing, but waiting for the next chunk."""
        return self._state is PlayerState.PLAYING and self._starving

    @property
    def error(self) -> AudioDeviceError | None:
        """Set when the output stopped by itself (e.g. unplugged); the player is then paused."""
        return self._error

    # --- internals -----------------------------------------------------------------------------

    def _halt(self, state: PlayerState, keep_position: bool) -> None:
        with self._lock:
            self._position = self._audible_position() if keep_position else 0
            self._state = state
            stream, self._stream = self._stream, None
        # closing waits for a running callback, so never while holding the lock it needs
        if stream is not None:
            stream.close()

    def _audible_position(self) -> int:
        if self._state is not PlayerState.PLAYING or self._stream is None:
            return self._position
        return max(0, self._position - round(self._stream.latency_s * self.sample_rate))

    def _fill(self, out: np.ndarray) -> bool:
        # audio thread: copy what is there, pad with silence, count a new shortage
        with self._lock:
            if self._state is not PlayerState.PLAYING:  # a last callback racing pause()/stop()
                out.fill(0.0)
                return True
            wanted = len(out)
            count = min(wanted, self._length - self._position)
            self._copy_into(out, count)
            out[count:] = 0.0
            self._position += count
            if self._finished and self._position == self._length:
                return False  # ENDED once the device has played it out (_on_stopped)
            if count == wanted:
                self._starving = False
                return True
            if not self._starving:
                self._underruns += 1
                self._starving = True
            return True

    def _copy_into(self, out: np.ndarray, count: int) -> None:
        index = bisect.bisect_right(self._chunk_starts, self._position) - 1
        done = 0
        while done < count:
            chunk = self._chunks[index]
            offset = self._position + done - self._chunk_starts[index]
            step = min(count - done, len(chunk) - offset)
            out[done : done + step] = chunk[offset : offset + step, None]  # to every channel
            done += step
            index += 1

    def _on_stopped(self, message: str | None) -> None:
        # sound system's thread: note it; the stream is closed by the next play() or stop()
        with self._lock:
            if self._state is not PlayerState.PLAYING:  # news from a stream already let go
                return
            if message is None:
                self._state = PlayerState.ENDED
                return
            self._position = self._audible_position()
            self._state = PlayerState.PAUSED
            self._error = AudioDeviceError(message)
