"""A voice's waveform on its speaker card, with two handles that choose the part of it to keep.

Drawn as the take's waveform is (``ui.waveform``: an envelope computed once per clip, reduced once
per width), with what would be cut shaded. The handles are dragged with the mouse (a click moves
the nearer one there); the same two times can be typed in the fields, for the keyboard. Trim asks
the application to cut the clip (``trim_requested``); it knows nothing of transcripts.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.audio.envelope import Envelope
from core.audio.io import MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS
from core.document.clips import AudioClip
from ui.waveform import LABEL_HEIGHT, WaveformView

HANDLE = QColor("#e08a00")
CUT_AWAY = QColor(120, 120, 120, 120)  # over the parts a trim would remove
GRIP_WIDTH = 8
SAME_S = 0.005  # selections closer than this to the whole clip are the whole clip (fields show 0.01 s)


class VoiceTrimView(WaveformView):
    """The waveform with a start and an end handle; ``selection_changed`` while they move."""

    selection_changed = Signal(float, float)  # start_s, end_s

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("voice_waveform")
        self.setMinimumHeight(56)
        self.setCursor(Qt.CursorShape.SizeHorCursor)
        self.setToolTip("Drag the handles (or click) to choose the part of the voice to keep")
        self.start_s = 0.0
        self.end_s = 0.0
        self._dragging: str | None = None  # "start" or "end"

    def sizeHint(self) -> QSize:
        return QSize(260, 64)

    def set_selection(self, start_s: float, end_s: float) -> None:
        self.start_s, self.end_s = start_s, end_s
        self.update()

    def handle_x(self, which: str) -> float:
        return self.x_for_seconds(self.start_s if which == "start" else self.end_s)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.envelope is None:
            return
        painter = QPainter(self)
        start_x, end_x = self.handle_x("start"), self.handle_x("end")
        painter.fillRect(QRectF(0, 0, start_x, self.height()), CUT_AWAY)
        painter.fillRect(QRectF(end_x, 0, self.width() - end_x, self.height()), CUT_AWAY)
        painter.setPen(QPen(HANDLE, 2))
        for x in (start_x, end_x):
            painter.drawLine(QLineF(x, 0, x, self.height()))
            painter.fillRect(QRectF(x - GRIP_WIDTH / 2, 0, GRIP_WIDTH, LABEL_HEIGHT - 2), HANDLE)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.duration_s <= 0:
            QWidget.mousePressEvent(self, event)  # not the take waveform's click-to-play
            return
        x = event.position().x()
        nearer_start = abs(x - self.handle_x("start")) <= abs(x - self.handle_x("end"))
        self._dragging = "start" if nearer_start else "end"
        self._drag_to(x)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging is not None:
            self._drag_to(event.position().x())
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging is not None:
            self._drag_to(event.position().x())
            self._dragging = None
            event.accept()

    def _drag_to(self, x: float) -> None:
        seconds = self.seconds_at_x(x)
        if self._dragging == "start":
            self.set_selection(min(seconds, self.end_s), self.end_s)
        else:
            self.set_selection(self.start_s, max(seconds, self.start_s))
        self.selection_changed.emit(self.start_s, self.end_s)


class VoiceTrimmer(QWidget):
    """The view, the two time fields, what the choice keeps, and the Trim button."""

    trim_requested = Signal(float, float)  # start_s, end_s of the part to keep

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = VoiceTrimView()
        self.view.selection_changed.connect(self._show_selection)
        self.start_field = self._seconds_field("Start of the part to keep, in seconds from the clip's start")
        self.end_field = self._seconds_field("End of the part to keep, in seconds from the clip's start")
        self.start_field.valueChanged.connect(lambda value: self._typed(value, self.view.end_s))
        self.end_field.valueChanged.connect(lambda value: self._typed(self.view.start_s, value))
        self.length_label = QLabel()
        self.length_label.setWordWrap(True)
        self.reset_button = QPushButton("Whole clip")
        self.reset_button.setToolTip("Put the handles back at the clip's start and end")
        self.reset_button.clicked.connect(lambda: self.select(0.0, self.view.duration_s))
        self.trim_button = QPushButton("Trim")
        self.trim_button.setToolTip("Keep only the part between the handles, with the words heard in it")
        self.trim_button.clicked.connect(lambda: self.trim_requested.emit(self.view.start_s, self.view.end_s))

        fields = QHBoxLayout()
        for label, field in (("Keep from", self.start_field), ("to", self.end_field)):
            text = QLabel(label)
            text.setBuddy(field)
            fields.addWidget(text)
            fields.addWidget(field)
        fields.addStretch(1)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.reset_button)
        actions.addWidget(self.trim_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        layout.addLayout(fields)
        layout.addWidget(self.length_label)  # a row of its own: a message reads whole in a narrow dock
        layout.addLayout(actions)

    @staticmethod
    def _seconds_field(tooltip: str) -> QDoubleSpinBox:
        field = QDoubleSpinBox()
        field.setDecimals(2)
        field.setSingleStep(0.1)
        field.setSuffix(" s")
        field.setKeyboardTracking(False)  # a typed time counts once finished, not at each digit
        field.setToolTip(tooltip)
        return field

    def set_clip(self, clip: AudioClip | None) -> None:
        """Show this clip (the whole of it selected); the same clip again keeps the selection."""
        if clip is None:
            self.view.clear()
            return
        if self.view.key == clip.id:
            return
        self.view.set_envelope(Envelope.of(clip.samples(), clip.sample_rate), key=clip.id)
        for field in (self.start_field, self.end_field):
            field.blockSignals(True)
            field.setRange(0.0, clip.duration_s)
            field.blockSignals(False)
        self.select(0.0, clip.duration_s)

    def select(self, start_s: float, end_s: float) -> None:
        self.view.set_selection(start_s, end_s)
        self._show_selection(start_s, end_s)

    def _typed(self, start_s: float, end_s: float) -> None:
        duration = self.view.duration_s
        self.select(min(max(start_s, 0.0), duration), min(max(end_s, 0.0), duration))

    def _show_selection(self, start_s: float, end_s: float) -> None:
        for field, value in ((self.start_field, start_s), (self.end_field, end_s)):
            field.blockSignals(True)
            field.setValue(value)
            field.blockSignals(False)
        length, duration = end_s - start_s, self.view.duration_s
        whole = start_s < SAME_S and end_s > duration - SAME_S
        if length <= 0:
            problem = "The part to keep must end after it starts."
        elif length < MIN_REFERENCE_SECONDS:
            problem = f"Keeps {length:.2f} s: a voice needs at least {MIN_REFERENCE_SECONDS:g} s."
        elif length > MAX_REFERENCE_SECONDS:
            problem = f"Keeps {length:.1f} s: a voice uses at most {MAX_REFERENCE_SECONDS:g} s."
        else:
            problem = None
        self.length_label.setText(problem or ("The whole clip" if whole else f"Keeps {length:.2f} s")
                                  + f" of {duration:.2f} s.")
        self.length_label.setStyleSheet("color: #c62828;" if problem else "")
        self.trim_button.setEnabled(problem is None and not whole)
        self.reset_button.setEnabled(not whole)
