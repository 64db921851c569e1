"""The speakers' voices as the voices panel asks for them: a voice from a file or a recording, its
transcript corrected, trimmed, its words found again, and heard. Reading audio and finding words
run off the GUI thread; speech recognition runs where the model runs (the engine)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.document_session import DocumentSession
from app.playback import Playback
from app.settings import Settings
from app.workers import run_in_background
from core.audio.capture import Recording
from core.document.speakers import Speaker
from core.engine.engine import Engine
from core.errors import DiaStudioError, describe_error
from core.studio.voice_loading import (Transcriber, corrected_voice, transcribed_voice, trimmed_voice, voice_from_file,
                                       voice_from_recording)
from ui.voices import VoicesPanel


class VoiceSession(QObject):
    prepared = Signal(object)  # Speaker: its voice job ended (the card says how)
    # Emitted on a worker thread when Whisper starts loading (minutes, the first time: a download).
    speech_model_loading = Signal(str)

    def __init__(self, panel: VoicesPanel, document: DocumentSession, playback: Playback, settings: Settings,
                 engine: Callable[[], Engine], transcriber: Transcriber | None = None,
                 parent: QObject | None = None):
        """``engine()``: the engine the model runs on now; ``transcriber`` (tests): a stand-in for
        its speech recognition."""
        super().__init__(parent)
        self._panel, self._document, self._playback, self._engine = panel, document, playback, engine
        self._transcriber = transcriber
        panel.load_requested.connect(self.load)
        panel.recording_finished.connect(self.use_recording)
        panel.play_requested.connect(self.play)
        panel.transcript_corrected.connect(self.correct_transcript)
        panel.trim_requested.connect(self.trim)
        panel.transcribe_requested.connect(self.transcribe_again)
        panel.microphone.currentTextChanged.connect(
            lambda name: setattr(settings, "input_device", name) if panel.microphone.isEnabled() else None)
        self.speech_model_loading.connect(self._show_speech_model_loading)

    def transcriber(self) -> Transcriber:
        """Speech recognition runs where the model runs (the engine)."""
        return self._transcriber or self._engine()

    def use_speech_model(self, name: str) -> None:
        """The person's choice: from now on the engine transcribes with it (a transcriber given at
        the start goes too)."""
        self._transcriber = None
        self._engine().speech_model = name

    def _show_speech_model_loading(self, name: str) -> None:
        for card in self._panel.cards.values():
            if not card.load_button.isEnabled():  # busy with a voice
                card.set_busy(f"Loading speech recognition (Whisper {name}); the first time it is "
                              "downloaded, which can take minutes…")

    def load(self, speaker: Speaker, path: str) -> None:
        self.prepare(speaker, lambda: voice_from_file(Path(path), self.transcriber()),
                     f"Reading {Path(path).name} and finding its words…")

    def use_recording(self, speaker: Speaker, recording: Recording) -> None:
        self.prepare(speaker, lambda: voice_from_recording(recording, self.transcriber()),
                     "Finding the words of the recording…")

    def prepare(self, speaker: Speaker, work, message: str) -> None:
        """Give the speaker the voice ``work`` returns with its notices (run off the GUI thread),
        the card saying ``message`` meanwhile."""
        card = self._panel.cards[speaker]
        card.set_busy(message)
        dialogue = self._document.dialogue  # the voice belongs to this document, even if another opens meanwhile

        def done(result) -> None:
            voice, notices = result
            dialogue.set_voice(speaker, voice)
            card.set_busy(None)
            card.show_message(" ".join(notices), about=voice.audio)  # it goes when the voice does
            self.prepared.emit(speaker)

        def failed(error: Exception) -> None:
            card.set_busy(None)
            card.show_message(describe_error(error, "Could not use this voice"), error=True)
            self.prepared.emit(speaker)

        run_in_background(work, done, failed, "voice", self)

    def correct_transcript(self, speaker: Speaker, text: str) -> None:
        card = self._panel.cards[speaker]
        dialogue = self._document.dialogue
        try:
            voice = corrected_voice(dialogue.speakers[speaker].voice, text)
        except DiaStudioError as error:
            card.show_message(str(error), error=True)
            return
        dialogue.set_voice(speaker, voice)
        card.show_message("")

    def trim(self, speaker: Speaker, start_s: float, end_s: float) -> None:
        """Keep the part of the voice from start_s to end_s, with its words (undoable)."""
        voice = self._document.dialogue.speakers[speaker].voice
        if voice is not None:
            self.prepare(speaker, lambda: trimmed_voice(voice, start_s, end_s), "Trimming the voice…")

    def transcribe_again(self, speaker: Speaker) -> None:
        voice = self._document.dialogue.speakers[speaker].voice
        if voice is not None:
            self.prepare(speaker, lambda: transcribed_voice(voice, self.transcriber()),
                         "Finding the words of the voice…")

    def play(self, speaker: Speaker) -> None:
        profile = self._document.dialogue.speakers[speaker]
        if profile.voice is not None:
            self._playback.play_samples(profile.voice.audio.samples(), profile.voice.audio.sample_rate,
                                        f"Voice of {profile.name}")
