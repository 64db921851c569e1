"""Play / pause / stop and where the playhead is, for whatever the studio is playing."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from core.audio.backend import AudioDevice
from ui.one_line_label import OneLineLabel

MENU_WIDTH_CHARACTERS = 8  # device menus show this much of a name; the list shows it whole

NOTHING_PLAYING = "Nothing playing"


def clock(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


class PlaybackBar(QWidget):
    play_pause_requested = Signal()
    stop_requested = Signal()
    output_chosen = Signal(object)  # AudioDevice

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("playback_bar")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause (Ctrl+Space)")
        self.play_button.clicked.connect(self.play_pause_requested)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_requested)
        for button in (self.play_button, self.stop_button):  # narrower than the style's 80 px: room for the text
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("Pause") + 24)
        self.what = OneLineLabel(NOTHING_PLAYING)  # a long take name never widens the window
        self.position = QLabel(clock(0))
        # Room for the longest position from the start, so that playing never re-flows the window.
        self.position.setMinimumWidth(self.position.fontMetrics().horizontalAdvance("0:00.0 / 0:00.0"))
        self.position.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.output = QComboBox()
        self.output.setToolTip("Where the studio plays sound")
        self.output.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.output.setMinimumContentsLength(MENU_WIDTH_CHARACTERS)  # a long device name never widens the window
        self.output.activated.connect(lambda: self.output_chosen.emit(self.output.currentData()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.what, 1)
        layout.addWidget(self.position)
        layout.addWidget(self.output)

    def set_outputs(self, devices: list[AudioDevice], chosen: AudioDevice | None) -> None:
        self.output.clear()
        for device in devices:
            self.output.addItem(device.name, device)
        if not devices:
            self.output.addItem("No sound output found")
        self.output.setCurrentIndex(max(0, self.output.findText(chosen.name) if chosen else 0))
        self.output.setEnabled(bool(devices))

    def show_state(self, label: str, playing: bool, position_s: float, duration_s: float,
                   buffering: bool) -> None:
        """What plays and where; an empty ``label`` when nothing is loaded to play."""
        self.what.setText(label + (" · waiting for audio…" if buffering else "") if label else NOTHING_PLAYING)
        self.play_button.setText("Pause" if playing else "Play")
        self.position.setText(f"{clock(position_s)} / {clock(duration_s)}")
