"""What the studio is playing: one StreamingPlayer at a time, a take, a voice or a generation in
progress, and a GUI-thread timer that reports the playhead (the audio thread only copies samples).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.audio.backend import AudioBackend, AudioDevice
from core.audio.errors import AudioDeviceError
from core.audio.playback import PlayerState, StreamingPlayer

PLAYHEAD_INTERVAL_MS = 33


class Playback(QObject):
    # label, playing, position_s, duration_s, waiting for audio
    changed = Signal(str, bool, float, float, bool)
    failed = Signal(str)

    def __init__(self, backend: AudioBackend | None, parent: QObject | None = None):
        super().__init__(parent)
        self._backend = backend
        self.device: AudioDevice | None = None  # None: the system default
        self.player: StreamingPlayer | None = None
        self.label = ""
        self.take_id: str | None = None  # the take being heard, or core.studio.heard_dialogue.DIALOGUE
        self._timer = QTimer(self)
        self._timer.setInterval(PLAYHEAD_INTERVAL_MS)
        self._timer.timeout.connect(self._report)

    @property
    def position_s(self) -> float:
        return self.player.position_s if self.player else 0.0

    def output_devices(self) -> list[AudioDevice]:
        return self._backend.output_devices() if self._backend else []

    @property
    def available(self) -> bool:
        """False without a sound system: nothing is played, and the preview is skipped."""
        return self._backend is not None

    @property
    def is_playing(self) -> bool:
        return self.player is not None and self.player.state is PlayerState.PLAYING

    def play_samples(self, samples: np.ndarray, sample_rate: int, label: str, take_id: str | None = None) -> None:
        """Play a whole clip from the start."""
        self.begin_stream(label, sample_rate, take_id)
        self.player.append(samples)
        self.player.finish()
        self.resume()

    def begin_stream(self, label: str, sample_rate: int, take_id: str | None = None) -> None:
        """Get ready for audio that is still being made; ``append`` it, ``resume`` to start."""
        self.stop()
        self.player = StreamingPlayer(self._backend, sample_rate, self.device)
        self.label = label
        self.take_id = take_id
        self._report()

    def append(self, samples: np.ndarray) -> None:
        if self.player is not None and not self.player.end_of_stream:
            self.player.append(samples)

    def end_stream(self) -> None:
        if self.player is not None:
            self.player.finish()

    def retitle(self, label: str, take_id: str | None) -> None:
        """Say what is playing now, e.g. once a previewed generation has become a take."""
        self.label, self.take_id = label, take_id
        self._report()

    def resume(self) -> None:
        if self.player is None or self._backend is None:
            self.failed.emit("No sound output is available.")
            return
        try:
            self.player.play()
        except AudioDeviceError as error:
            self.failed.emit(str(error))
            return
        self._timer.start()
        self._report()

    def toggle(self) -> None:
        if self.is_playing:
            self.player.pause()
            self._report()
        elif self.player is not None:
            self.resume()

    def seek(self, seconds: float) -> None:
        """Move the playhead of what is loaded (clamped to the audio there is)."""
        if self.player is not None:
            self.player.seek(seconds)
            self._report()

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()
        self._timer.stop()
        self._report()

    def clear(self) -> None:
        """Stop and let go of what was loaded: its take was deleted, or another project opened."""
        if self.player is None:
            return
        self.stop()
        self.player, self.label, self.take_id = None, "", None
        self.changed.emit("", False, 0.0, 0.0, False)

    def _report(self) -> None:
        player = self.player
        if player is None:
            return
        if player.error is not None:
            self.failed.emit(str(player.error))
        if player.state is not PlayerState.PLAYING:
            self._timer.stop()
        self.changed.emit(self.label, player.state is PlayerState.PLAYING, player.position_s,
                          player.duration_s, player.is_buffering)
