"""The waveform of a take, of the whole dialogue, or of a generation as it streams in: its min/max
envelope, where each line begins, and the playhead. A click asks to play from there (``seekRequested``).

The envelope is computed once per clip (``core.audio.envelope``) and reduced to pixels once per
width; painting only draws the cached lines.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.audio.envelope import Envelope

STREAM_SPAN_S = 5.0  # while streaming, the view spans 5 s, 10 s, 20 s … as the audio grows
LABEL_HEIGHT = 14  # room above the envelope for the line numbers
WAVE = QColor("#3b78c4")
WAVE_PLAYED = QColor("#1d4f8f")
MARKER = QColor("#9a9a9a")
PLAYHEAD = QColor("#d0342c")
EMPTY_TEXT = "The waveform of the selected take, or of the whole dialogue, shows here once generated."


class WaveformView(QWidget):
    seekRequested = Signal(float)  # seconds from the start of the clip

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("waveform")
        self.setMinimumHeight(70)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to play from there")
        self.envelope: Envelope | None = None
        self.markers: list[tuple[float, str]] = []  # (seconds, label)
        self.playhead_s: float | None = None
        self.streaming = False
        self.key: object = None  # what is shown (e.g. a take id), for the application
        self._pixels: tuple | None = None  # (width, span, frames) -> lines, cached

    def sizeHint(self) -> QSize:
        return QSize(600, 120)

    # --- what is shown ---------------------------------------------------------------------------

    def set_envelope(self, envelope: Envelope | None, markers: Sequence[tuple[float, str]] = (),
                     key: object = None) -> None:
        """Show a finished clip (its envelope, computed once by whoever keeps it)."""
        self.envelope, self.key, self.streaming = envelope, key, False
        self.markers = sorted(markers)
        self.playhead_s = None
        self._changed()

    def set_clip(self, samples: np.ndarray, sample_rate: int, markers: Sequence[tuple[float, str]] = (),
                 key: object = None) -> None:
        self.set_envelope(Envelope.of(samples, sample_rate), markers, key)

    def clear(self) -> None:
        self.set_envelope(None)

    def begin_stream(self, sample_rate: int, key: object = None) -> None:
        """Audio is on its way: ``append`` each chunk as it arrives, then ``end_stream``."""
        self.set_envelope(Envelope(sample_rate), key=key)
        self.streaming = True

    def append(self, samples: np.ndarray) -> None:
        if self.envelope is not None and self.streaming:
            self.envelope.append(samples)
            self._changed()

    def end_stream(self) -> None:
        self.streaming = False
        self._changed()

    def set_markers(self, markers: Sequence[tuple[float, str]]) -> None:
        self.markers = sorted(markers)
        self.update()

    def set_playhead(self, seconds: float | None) -> None:
        if seconds == self.playhead_s:
            return
        self.playhead_s = seconds
        self.update()

    @property
    def duration_s(self) -> float:
        return self.envelope.duration_s if self.envelope else 0.0

    @property
    def span_s(self) -> float:
        """The seconds the width shows: the clip, or room to grow into while it streams."""
        duration = self.duration_s
        if not self.streaming:
            return duration
        span = STREAM_SPAN_S
        while span < duration:
            span *= 2
        return span

    # --- seconds and pixels ----------------------------------------------------------------------

    def x_for_seconds(self, seconds: float) -> float:
        span = self.span_s
        return 0.0 if span <= 0 else seconds / span * self.width()

    def seconds_at_x(self, x: float) -> float:
        span = self.span_s
        if span <= 0 or self.width() <= 0:
            return 0.0
        return min(max(x / self.width() * span, 0.0), self.duration_s)

    # --- painting and clicks ---------------------------------------------------------------------

    def _changed(self) -> None:
        self._pixels = None
        self.update()

    def _wave_lines(self) -> list[QLineF]:
        envelope, width = self.envelope, self.width()
        state = (width, self.height(), self.span_s, envelope.frame_count if envelope else 0)
        if self._pixels is None or self._pixels[0] != state:
            lines = []
            if envelope is not None:
                lows, highs = envelope.pixels(width, self.span_s)
                middle, half = self._middle_and_half()
                tops = middle - np.clip(highs, -1, 1) * half
                bottoms = middle - np.clip(lows, -1, 1) * half
                lines = [QLineF(x + 0.5, top, x + 0.5, max(bottom, top + 1))
                         for x, (top, bottom) in enumerate(zip(tops.tolist(), bottoms.tolist()))]
            self._pixels = (state, lines)
        return self._pixels[1]

    def _middle_and_half(self) -> tuple[float, float]:
        half = max(1.0, (self.height() - LABEL_HEIGHT) / 2 - 2)
        return LABEL_HEIGHT + (self.height() - LABEL_HEIGHT) / 2, half

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if self.envelope is None:
            painter.setPen(self.palette().placeholderText().color())
            wrapped = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap  # whole in a narrow window
            painter.drawText(self.rect().adjusted(8, 0, -8, 0), wrapped, EMPTY_TEXT)
            return
        middle, _ = self._middle_and_half()
        painter.setPen(QPen(MARKER, 0))
        painter.drawLine(QLineF(0, middle, self.width(), middle))
        lines = self._wave_lines()
        played = 0 if self.playhead_s is None else min(len(lines), int(self.x_for_seconds(self.playhead_s)))
        if played:
            painter.setPen(QPen(WAVE_PLAYED, 1))
            painter.drawLines(lines[:played])
        if played < len(lines):
            painter.setPen(QPen(WAVE, 1))
            painter.drawLines(lines[played:])
        font = painter.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        painter.setFont(font)
        for seconds, label in self.markers:
            x = round(self.x_for_seconds(seconds)) + 0.5
            painter.setPen(QPen(MARKER, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QLineF(x, 0, x, self.height()))
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(x + 2, 0, 40, LABEL_HEIGHT),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        if self.playhead_s is not None:
            x = round(self.x_for_seconds(self.playhead_s)) + 0.5
            painter.setPen(QPen(PLAYHEAD, 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.duration_s > 0:
            self.seekRequested.emit(self.seconds_at_x(event.position().x()))
            event.accept()
            return
        super().mousePressEvent(event)
