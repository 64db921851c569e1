"""The voices panel: for each speaker a name, a colour and a voice reference with its transcript.

A voice comes from a file (the Load button or a file dropped on the speaker's card), from the
microphone or from the voice library (a ``.diavoice`` dropped on a card goes into the library,
which opens for that speaker). The panel records by itself (a Recorder on the chosen input,
its level polled by a timer, as the audio rules say); reading files, transcribing, trimming and the
library are long jobs, so the panel asks for them with signals and the application answers with
``set_busy`` / ``show_message`` (and ``show_library``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QColorDialog, QComboBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QInputDialog, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from core.audio.backend import AudioBackend, AudioDevice
from core.audio.capture import Recorder, Recording
from core.audio.errors import AudioDeviceError
from core.document.clips import AudioClip
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.voice_library import LibraryListing
from ui.level_meter import LevelMeter
from ui.playback_bar import MENU_WIDTH_CHARACTERS
from ui.voice_library_dialog import VoiceLibraryDialog, dropped_packages
from ui.voice_waveform import VoiceTrimmer

AUDIO_FILE_FILTER = "Audio (*.wav *.flac *.ogg *.mp3 *.m4a *.opus *.aac);;All files (*)"
AUDIO_SUFFIXES = {".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".opus", ".aac"}
METER_INTERVAL_MS = 33  # ~30 updates a second: smooth for the eye, nothing for the CPU
DEVICES_INTERVAL_MS = 2000  # how often the inputs are listed again, to find a microphone plugged in
RECORD_TIP = "Record this speaker's voice from the microphone"
MICROPHONE_TIP = "The microphone that Record listens to"
NO_MICROPHONE = ("No microphone found. Connect one (it is found within seconds), or load a voice "
                 "from a file.")


class SpeakerCard(QGroupBox):
    """One speaker: name, colour, voice, transcript. Accepts dropped audio files and voice packages."""

    load_requested = Signal(object, str)  # Speaker, file path
    record_toggled = Signal(object)  # Speaker
    play_requested = Signal(object)  # Speaker
    transcript_corrected = Signal(object, str)  # Speaker, corrected text
    trim_requested = Signal(object, float, float)  # Speaker, start_s, end_s of the part to keep
    transcribe_requested = Signal(object)  # Speaker
    save_to_library_requested = Signal(object)  # Speaker
    library_requested = Signal(object)  # Speaker
    packages_dropped = Signal(object, list)  # Speaker, the .diavoice files dropped

    def __init__(self, speaker: Speaker, parent: QWidget | None = None):
        super().__init__(parent)
        self.speaker = speaker
        self.setObjectName(f"speaker_{speaker.value}")
        self.setAcceptDrops(True)
        self._dialogue: Dialogue | None = None
        self._busy = False
        # The message shown under the card: text, whether it is an error, and the voice clip it
        # is about (None: about no voice), which it follows through undo and other documents.
        self._message: tuple[str, bool, AudioClip | None] = ("", False, None)
        self._cannot_record: str | None = None  # why Record is off (no microphone), None: it is on

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Speaker name")
        self.name_edit.textEdited.connect(self._rename)
        self.name_edit.editingFinished.connect(lambda: self._dialogue.undo_stack.seal())
        self.colour_button = QPushButton()
        self.colour_button.setFixedWidth(32)
        self.colour_button.setToolTip("Colour of this speaker's lines")
        self.colour_button.clicked.connect(self._choose_colour)
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_edit)
        name_row.addWidget(self.colour_button)

        self.voice_label = QLabel()
        self.voice_label.setWordWrap(True)
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Use an audio file as this speaker's voice (or drop one here). "
                                    "5–20 s of clear speech works best.")
        self.load_button.clicked.connect(self._choose_file)
        self.record_button = QPushButton("Record")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip(RECORD_TIP)
        self.record_button.clicked.connect(lambda: self.record_toggled.emit(self.speaker))
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(lambda: self.play_requested.emit(self.speaker))
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the voice: the model then invents one")
        self.clear_button.clicked.connect(lambda: self._dialogue.clear_voice(self.speaker))
        self.save_to_library_button = QPushButton("Save to library…")
        self.save_to_library_button.setToolTip("Keep this voice in your voice library, for any project")
        self.save_to_library_button.clicked.connect(lambda: self.save_to_library_requested.emit(self.speaker))
        self.from_library_button = QPushButton("From library…")
        self.from_library_button.setToolTip("Give this speaker a voice saved in your voice library")
        self.from_library_button.clicked.connect(lambda: self.library_requested.emit(self.speaker))
        # Two buttons a row, so the card fits a narrow dock (1024×768) without cutting any.
        buttons = QGridLayout()
        for index, button in enumerate((self.load_button, self.record_button, self.play_button,
                                        self.clear_button, self.save_to_library_button, self.from_library_button)):
            buttons.addWidget(button, index // 2, index % 2)
        self.trimmer = VoiceTrimmer()
        self.trimmer.trim_requested.connect(lambda start, end: self.trim_requested.emit(self.speaker, start, end))

        self.meter = LevelMeter()
        self.meter.hide()
        self.transcript_edit = QPlainTextEdit()
        self.transcript_edit.setPlaceholderText("What is said in the voice clip")
        self.transcript_edit.setToolTip("The words spoken in the voice clip, as recognised. Correct them "
                                        "and press Apply: the model must know exactly what it hears.")
        self.transcript_edit.setFixedHeight(64)
        self.transcript_edit.textChanged.connect(self._transcript_edited)
        self.apply_button = QPushButton("Apply correction")
        self.apply_button.clicked.connect(
            lambda: self.transcript_corrected.emit(self.speaker, self.transcript_edit.toPlainText()))
        self.transcribe_button = QPushButton("Transcribe again")
        self.transcribe_button.setToolTip("Let speech recognition find the words of the clip as it is now")
        self.transcribe_button.clicked.connect(lambda: self.transcribe_requested.emit(self.speaker))
        transcript_buttons = QHBoxLayout()
        transcript_buttons.addWidget(self.transcribe_button)
        transcript_buttons.addStretch(1)
        transcript_buttons.addWidget(self.apply_button)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setObjectName("message")
        self.message_label.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(name_row)
        layout.addWidget(self.voice_label)
        layout.addLayout(buttons)
        layout.addWidget(self.meter)
        layout.addWidget(self.trimmer)
        layout.addWidget(self.transcript_edit)
        layout.addLayout(transcript_buttons)
        layout.addWidget(self.message_label)

    def set_dialogue(self, dialogue: Dialogue) -> None:
        self._dialogue = dialogue
        if not self._busy and self._message[2] is None:
            self._message = ("", False, None)  # about the document that went
        self.refresh()

    def refresh(self) -> None:
        profile = self._dialogue.speakers[self.speaker]
        self.setTitle(f"{self.speaker.tag}  {profile.name}")
        if self.name_edit.text() != profile.name:
            self.name_edit.setText(profile.name)
        self.colour_button.setStyleSheet(f"background-color: {profile.colour};")
        voice = profile.voice
        if voice is None:
            self.voice_label.setText("No voice yet: the model invents one. Load or record 5–20 s of speech.")
        else:
            words = len(voice.words)
            self.voice_label.setText(f"Voice: {voice.audio.duration_s:.1f} s of speech, "
                                     f"{words} timed word{'s' if words != 1 else ''}.")
        transcript = voice.transcript if voice else ""
        if self.transcript_edit.toPlainText() != transcript:
            self.transcript_edit.setPlainText(transcript)
        self.play_button.setEnabled(voice is not None)
        self.clear_button.setEnabled(voice is not None)
        self.transcript_edit.setEnabled(voice is not None)
        self.trimmer.set_clip(voice.audio if voice else None)
        self.trimmer.setVisible(voice is not None)
        self._enable_voice_tools()
        self._transcript_edited()
        self._show_message()

    def set_busy(self, message: str | None) -> None:
        """Show that a job for this speaker runs (``message``), or that it ended (None)."""
        self._busy = message is not None
        for button in (self.load_button, self.apply_button):
            button.setEnabled(message is None)
        self._enable_voice_tools()
        self.show_message(message or "", error=False)

    def set_cannot_record(self, reason: str | None) -> None:
        """Turn Record off, saying why in its tooltip (None: it may record)."""
        self._cannot_record = reason
        if self._dialogue is not None:
            self._enable_voice_tools()

    def _enable_voice_tools(self) -> None:
        has_voice = self._dialogue.speakers[self.speaker].voice is not None
        self.record_button.setEnabled(not self._busy and self._cannot_record is None)
        self.record_button.setToolTip(self._cannot_record or RECORD_TIP)
        self.trimmer.setEnabled(not self._busy)
        self.transcribe_button.setEnabled(has_voice and not self._busy)
        self.save_to_library_button.setEnabled(has_voice and not self._busy)
        self.from_library_button.setEnabled(not self._busy)

    def show_message(self, text: str, error: bool = False, about: AudioClip | None = None) -> None:
        """Show a message under the card. One ``about`` a voice clip (e.g. that it was shortened)
        shows only while that clip is the speaker's voice: Undo hides it, Redo brings it back."""
        self._message = (text, error, about)
        self._show_message()

    def _show_message(self) -> None:
        text, error, about = self._message
        voice = self._dialogue.speakers[self.speaker].voice if self._dialogue else None
        shown = text if about is None or (voice is not None and voice.audio == about) else ""
        self.message_label.setText(shown)
        self.message_label.setStyleSheet("color: #c62828;" if error else "color: palette(text);")
        self.message_label.setVisible(bool(shown))
        area = _scroll_area_of(self)
        if shown and area is not None:  # under the card, maybe below the panel's fold: brought into view
            QTimer.singleShot(0, lambda: area.ensureWidgetVisible(self.message_label))

    # --- reactions ----------------------------------------------------------------------------

    def _rename(self, name: str) -> None:
        if name.strip():
            self._dialogue.edit_speaker(self.speaker, name=name)

    def _choose_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(self._dialogue.speakers[self.speaker].colour), self,
                                       f"Colour of {self._dialogue.speakers[self.speaker].name}")
        if colour.isValid():
            self._dialogue.edit_speaker(self.speaker, colour=colour.name())
            self._dialogue.undo_stack.seal()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Voice of {self._dialogue.speakers[self.speaker].name}",
                                              "", AUDIO_FILE_FILTER)
        if path:
            self.load_requested.emit(self.speaker, path)

    def _transcript_edited(self) -> None:
        voice = self._dialogue.speakers[self.speaker].voice
        changed = voice is not None and self.transcript_edit.toPlainText().split() != voice.transcript.split()
        if not changed and self.apply_button.hasFocus():
            # Applied (or undone): the focus stays with the words, not on the next speaker's name.
            self.transcript_edit.setFocus()
        self.apply_button.setVisible(changed)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_audio(event) is not None or dropped_packages(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path, packages = _dropped_audio(event), dropped_packages(event.mimeData())
        if packages:
            event.acceptProposedAction()
            self.packages_dropped.emit(self.speaker, packages)
        elif path is not None:
            event.acceptProposedAction()
            self.load_requested.emit(self.speaker, path)


def _dropped_audio(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The first dropped local file that looks like audio."""
    for url in event.mimeData().urls():
        if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in AUDIO_SUFFIXES:
            return url.toLocalFile()
    return None


class VoicesPanel(QWidget):
    """Both speakers' cards and the microphone they record from."""

    load_requested = Signal(object, str)  # Speaker, path
    recording_finished = Signal(object, object)  # Speaker, Recording
    play_requested = Signal(object)  # Speaker
    transcript_corrected = Signal(object, str)  # Speaker, text
    trim_requested = Signal(object, float, float)  # Speaker, start_s, end_s
    transcribe_requested = Signal(object)  # Speaker
    save_to_library_requested = Signal(object, str)  # Speaker, the name asked for
    library_requested = Signal(object)  # Speaker: answer with show_library
    packages_dropped = Signal(object, list)  # Speaker, .diavoice files dropped on its card

    def __init__(self, backend: AudioBackend | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("voices")
        self._backend = backend
        self._dialogue: Dialogue | None = None
        self._unsubscribe = None
        self._recorder: Recorder | None = None
        self._recording_for: Speaker | None = None
        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(METER_INTERVAL_MS)
        self._meter_timer.timeout.connect(self._poll_recorder)

        self.microphone = QComboBox()
        self.microphone.currentTextChanged.connect(self._remember_microphone)
        self._devices: list[AudioDevice] = []  # the inputs listed
        self._wanted = ""  # the microphone chosen, by name: chosen again when it is back
        self.microphone.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.microphone.setMinimumContentsLength(MENU_WIDTH_CHARACTERS)  # a long name never widens the dock
        form = QFormLayout()
        form.addRow("Microphone", self.microphone)
        self.cards = {speaker: SpeakerCard(speaker) for speaker in Speaker}
        self.library_dialog = VoiceLibraryDialog(self)
        self.name_dialog: QInputDialog | None = None  # open while a name for the library is asked
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for card in self.cards.values():
            card.load_requested.connect(self.load_requested)
            card.play_requested.connect(self.play_requested)
            card.transcript_corrected.connect(self.transcript_corrected)
            card.trim_requested.connect(self.trim_requested)
            card.transcribe_requested.connect(self.transcribe_requested)
            card.save_to_library_requested.connect(self._ask_library_name)
            card.library_requested.connect(self.library_requested)
            card.packages_dropped.connect(self.packages_dropped)
            card.record_toggled.connect(self._toggle_recording)
            layout.addWidget(card)
        layout.addStretch(1)
        self.refresh_devices()
        self._devices_timer = QTimer(self)
        self._devices_timer.setInterval(DEVICES_INTERVAL_MS)
        self._devices_timer.timeout.connect(self._look_for_devices)
        self._devices_timer.start()

    def set_dialogue(self, dialogue: Dialogue) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._dialogue = dialogue
        for card in self.cards.values():
            card.set_dialogue(dialogue)
        self._unsubscribe = dialogue.subscribe(self._on_change)

    def refresh_devices(self, preferred: str = "") -> None:
        """List the inputs again, keeping the chosen one (by name) when it is still there. Listing
        them is no choice: while the chosen one is unplugged, it stays the one chosen."""
        self._wanted = preferred or self._wanted
        devices = self._input_devices()
        self._devices = devices
        self.microphone.blockSignals(True)
        self.microphone.clear()
        for device in devices:
            self.microphone.addItem(device.name, device)
        default = next((d.name for d in devices if d.is_default), "")
        index = self.microphone.findText(self._wanted or default)
        self.microphone.setCurrentIndex(max(index, 0))
        if not devices:
            self.microphone.addItem("No microphone found")
        self.microphone.setEnabled(bool(devices))
        self.microphone.blockSignals(False)
        self.microphone.setToolTip(MICROPHONE_TIP if devices else NO_MICROPHONE)
        self._enable_recording()

    def _remember_microphone(self, name: str) -> None:
        if self.microphone.isEnabled():
            self._wanted = name

    def _input_devices(self) -> list[AudioDevice]:
        if self._backend is None:
            return []
        try:
            return self._backend.input_devices()
        except AudioDeviceError:
            return []  # the sound system cannot list them now: as if there were none

    def _look_for_devices(self) -> None:
        """List the inputs again when the sound system reports others (one plugged in or out)."""
        if self._recorder is None and self._input_devices() != self._devices:
            self.refresh_devices()

    def _enable_recording(self) -> None:
        """Record is on for each speaker while there is a microphone and the other one is not recording."""
        for speaker, card in self.cards.items():
            if not self._devices:
                card.set_cannot_record(NO_MICROPHONE)
            elif self._recording_for is speaker.other:
                card.set_cannot_record(f"Recording for {self._dialogue.speakers[speaker.other].name}: "
                                       "stop that first.")
            else:
                card.set_cannot_record(None)

    def show_library(self, speaker: Speaker, listing: LibraryListing) -> None:
        """Open the voice library to pick a voice for ``speaker``."""
        self.library_dialog.show_for(speaker, self._dialogue.speakers[speaker].name, listing)

    def _ask_library_name(self, speaker: Speaker) -> None:
        """Ask (without blocking) the name to save the speaker's voice under."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save voice")  # short: a narrow dialog's long title was cut ("Save to ...e library")
        dialog.setLabelText("Name of the voice in your library:")
        dialog.setTextValue(self._dialogue.speakers[speaker].name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda name: self.save_to_library_requested.emit(speaker, name))
        dialog.finished.connect(lambda result: setattr(self, "name_dialog", None))
        self.name_dialog = dialog
        dialog.open()

    @property
    def is_recording(self) -> bool:
        return self._recorder is not None

    def _on_change(self, change: Change) -> None:
        if change & Change.SPEAKERS:
            for card in self.cards.values():
                card.refresh()

    def _toggle_recording(self, speaker: Speaker) -> None:
        card = self.cards[speaker]
        if self._recorder is None:
            self._start_recording(speaker)
        elif self._recording_for is speaker:
            self._stop_recording()
        card.record_button.setChecked(self._recording_for is speaker)

    def _start_recording(self, speaker: Speaker) -> None:
        card = self.cards[speaker]
        recorder = Recorder(self._backend, self.microphone.currentData())
        try:
            recorder.start()
        except AudioDeviceError as error:
            card.show_message(str(error), error=True)
            return
        self._recorder, self._recording_for = recorder, speaker
        card.record_button.setText("Stop")
        card.meter.reset()
        card.meter.show()
        card.show_message("Recording… speak for 5–20 s, then press Stop.")
        self._enable_recording()
        self._meter_timer.start()

    def _stop_recording(self) -> None:
        recorder, speaker = self._recorder, self._recording_for
        self._recorder = self._recording_for = None
        self._meter_timer.stop()
        recording: Recording = recorder.stop()
        card = self.cards[speaker]
        card.record_button.setText("Record")
        card.record_button.setChecked(False)
        card.meter.hide()
        card.show_message("")
        self._enable_recording()
        if recording.error is not None:
            card.show_message(f"{recording.error} The part recorded before is used.", error=True)
        self.recording_finished.emit(speaker, recording)

    def cancel_recording(self) -> None:
        """Stop recording without using the take (the window is closing)."""
        if self._recorder is not None:
            self._recording_for = None
            self._meter_timer.stop()
            self._recorder.stop()
            self._recorder = None

    def _poll_recorder(self) -> None:
        card = self.cards[self._recording_for]
        card.meter.set_peak(self._recorder.level)
        card.show_message(f"Recording… {self._recorder.recorded_s:.1f} s. Press Stop when done.")
        if self._recorder.error is not None:
            self._stop_recording()


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent
