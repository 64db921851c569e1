"""The generation strip under the timeline: how far a generation is, how fast, and Cancel.

Its room is kept while it is hidden, so that the window around it never moves when a generation
starts or ends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from ui.one_line_label import OneLineLabel, keep_room_when_hidden

if TYPE_CHECKING:  # the generator brings torch: not worth importing for a name
    from core.dia2.events import Progress


class GenerationProgress(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("generation_progress")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)  # the text beside it gives way first
        self.bar.setTextVisible(False)
        self.label = OneLineLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current frame, keeping what was made (Esc)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        keep_room_when_hidden(self)
        self.hide()

    def start(self, takes: int, words: int) -> None:
        self._takes = takes
        self._words = max(words, 1)
        self._take = 0
        self._elapsed_before = 0.0  # compute time of the takes already finished
        self._take_elapsed = 0.0
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.label.setText("Starting…")
        self.cancel_button.setEnabled(True)
        self.show()

    def report(self, take: int, words_spoken: int, progress: Progress) -> None:
        """Progress of take ``take`` (from 0): the bar follows the words spoken, over all takes;
        the time left is the compute time so far, scaled to the words still to come."""
        if take != self._take:
            self._elapsed_before += self._take_elapsed
            self._take = take
        self._take_elapsed = progress.elapsed_s
        words = min(words_spoken, self._words)
        share = (take + words / self._words) / self._takes
        self.bar.setValue(round(1000 * share))
        elapsed = self._elapsed_before + progress.elapsed_s
        left = _time_left(elapsed * (1 - share) / share) if share > 0 and elapsed > 0 else "estimating time left"
        prefix = f"Take {take + 1} of {self._takes} · " if self._takes > 1 else ""
        # Short enough for the strip at 1280 px; the frame count is for whoever asks.
        self.label.setText(f"{prefix}word {words} of {self._words} · {progress.audio_s:.1f} s made · "
                           f"{progress.realtime_factor:.1f}× real time · {left}")
        self.label.setToolTip(f"Frame {progress.frames}; {progress.audio_s:.2f} s of audio in "
                              f"{progress.elapsed_s:.1f} s ({progress.realtime_factor:.2f}× real time)")

    def cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText(self.label.text() + " · cancelling…")


def _time_left(seconds: float) -> str:
    if seconds < 1:
        return "less than a second left"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"about {hours} h {minutes} min left"
    return f"about {minutes} min {seconds} s left" if minutes else f"about {seconds} s left"
