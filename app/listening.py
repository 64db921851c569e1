"""Listening in the window: what the waveform shows, what plays, and the playhead between them.

The waveform shows the selected take, or with none the whole dialogue as exported; while audio
is being made (a take of a generation, or the line typed with speak as I type) it shows that
stream instead, until the stream ends. The first take of a generation and the line typed are
also heard as they come, when wanted and possible. The playhead is drawn only where what plays is
what the waveform shows; a click on the waveform plays from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject

from app.document_session import DocumentSession
from app.follow_along import FollowAlong, line_markers
from app.generation import GenerationSession
from app.live_preview import LivePreview
from app.playback import Playback
from app.settings import Settings
from core.audio.envelope import Envelope
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.document.takes import Take
from core.studio.heard_dialogue import DIALOGUE, DialogueAudio, HeardDialogue
from ui.main_window import MainWindow
from ui.takes import take_title

LEAD_IN_S = 0.5  # a flag is heard from this much before it, to hear what leads into it


@dataclass
class Stream:
    """Audio still being made: the waveform shows it, and nothing else, until it ends."""

    take: int | None  # the generation's take; None: the line being typed
    heard: bool  # it goes to the speakers as it comes
    sounding: bool = False  # the player has started on it (from its first sound)


class Listening(QObject):
    def __init__(self, window: MainWindow, playback: Playback, generation: GenerationSession,
                 live_preview: LivePreview, document: DocumentSession, settings: Settings,
                 sample_rate: Callable[[], int], parent: QObject | None = None):
        """``sample_rate()``: the loaded model's, which a generation's takes stream at."""
        super().__init__(parent)
        self.window, self.playback, self._document, self._settings = window, playback, document, settings
        self._sample_rate = sample_rate
        self._dialogue_audio = DialogueAudio()  # the whole dialogue, as exported
        self.follow_along = FollowAlong(window, playback, generation, lambda: self.dialogue, self._dialogue_audio)
        self._envelopes: dict[str, Envelope] = {}  # take id -> its waveform, computed once
        self._stream: Stream | None = None
        self._unsubscribe_takes = None
        w = window
        w.playback_bar.play_pause_requested.connect(self.play_pause)
        w.playback_bar.stop_requested.connect(playback.stop)
        w.playback_bar.output_chosen.connect(self._use_output)
        w.takes.play_requested.connect(self.play_take)
        w.takes.selected_take_changed.connect(self._take_selected)
        w.waveform.seekRequested.connect(self.seek)
        generation.take_started.connect(self._take_started)
        generation.chunk.connect(self._chunk)
        generation.take_added.connect(self._take_added)
        generation.finished.connect(lambda cancelled: self._generation_finished())
        live_preview.take_started.connect(self._preview_started)
        live_preview.chunk.connect(self._preview_chunk)
        live_preview.take_finished.connect(lambda result: self._preview_ended())
        live_preview.idle.connect(self._preview_gone)
        playback.changed.connect(self._playback_changed)

    @property
    def dialogue(self) -> Dialogue:
        return self._document.dialogue

    def show_document(self, dialogue: Dialogue) -> None:
        """Another document: nothing of the last one plays, and its waveforms go."""
        self.playback.clear()
        if self._unsubscribe_takes is not None:
            self._unsubscribe_takes()
        self._unsubscribe_takes = dialogue.subscribe(
            lambda change: self._follow_playing_take() if change & Change.TAKES else None)
        self._envelopes.clear()

    # --- the sound output --------------------------------------------------------------------------

    def show_outputs(self) -> None:
        """List the sound outputs; the one chosen last time is used while it is there."""
        devices = self.playback.output_devices()
        self.playback.device = next((d for d in devices if d.name == self._settings.output_device), None)
        self.window.playback_bar.set_outputs(devices, self.playback.device or next(
            (d for d in devices if d.is_default), None))

    def _use_output(self, device) -> None:
        self.playback.stop()
        self.playback.device = device
        self._settings.output_device = device.name

    # --- playing what is made ----------------------------------------------------------------------

    def play_pause(self) -> None:
        """Pause what plays; else go on with what the waveform shows, or start it (the selected take,
        or with none selected the whole dialogue)."""
        playback, shown = self.playback, self.window.waveform.key
        if playback.player is not None and (playback.is_playing or playback.take_id == shown
                                            or self.window.waveform.streaming or shown is None):
            playback.toggle()
        elif shown is None or shown == DIALOGUE:
            self.play_dialogue()
        else:
            self.play_take(shown)

    def play_dialogue(self) -> None:
        heard = self._show_dialogue_waveform()
        if heard is None:
            self.window.statusBar().showMessage("Nothing to play yet: generate the dialogue first.", 8000)
            return
        self.playback.play_samples(heard.samples, heard.sample_rate, "The dialogue, as exported", take_id=DIALOGUE)

    def play_take(self, take_id: str) -> None:
        take = self.dialogue.take(take_id)
        self._show_waveform_of(take)
        self.playback.play_samples(take.audio.samples(), take.audio.sample_rate, take_title(self.dialogue, take),
                                   take_id=take.id)

    def hear_flag(self, take_id: str, seconds: float) -> None:
        """Play a take from just before the spot its checks flag."""
        if any(take.id == take_id for take in self.dialogue.takes):
            self.play_take(take_id)
            self.playback.seek(max(0.0, seconds - LEAD_IN_S))

    def seek(self, seconds: float) -> None:
        """Play from ``seconds`` into what the waveform shows (loading its take if need be)."""
        waveform = self.window.waveform
        if waveform.streaming:  # the stream shown, if it is what plays
            if self._stream_plays():
                self.playback.seek(seconds)
            return
        key = waveform.key
        is_take = key is not None and any(take.id == key for take in self.dialogue.takes)
        if key != DIALOGUE and not is_take:
            return
        if self.playback.take_id != key or self.playback.player is None:
            if is_take:
                self.play_take(key)
            else:
                self.play_dialogue()
        self.playback.seek(seconds)

    def _follow_playing_take(self) -> None:
        """The playback bar names the take playing by its number, which an undo or a deletion may
        change; a take that is gone is let go."""
        take_id = self.playback.take_id
        if take_id is None or take_id == DIALOGUE:
            return
        take = next((take for take in self.dialogue.takes if take.id == take_id), None)
        if take is None:
            self.playback.clear()
        else:
            self.playback.retitle(take_title(self.dialogue, take), take.id)

    # --- streams: a generation's takes, and the line typed -----------------------------------------

    def _take_started(self, take: int, seed: int) -> None:
        # The first take of a generation is heard while it is made (if wanted and possible).
        heard = take == 0 and self._settings.play_while_generating and self.playback.available
        self._stream = Stream(take, heard)
        sample_rate = self._sample_rate()
        self.window.waveform.begin_stream(sample_rate, key=None)
        if heard:
            self.playback.begin_stream(f"Generating (seed {seed})", sample_rate)
        self.follow_along.begin_take(take, heard)

    def _chunk(self, take: int, samples) -> None:
        stream = self._stream
        if stream is not None and stream.take == take:
            self._append(stream, samples, stream.heard)

    def _take_added(self, take) -> None:
        if self.playback.take_id is None and self.playback.label.startswith("Generating"):
            self.playback.end_stream()
            self.playback.retitle(take_title(self.dialogue, take), take.id)
        self._stream = None
        if self.window.takes.selected_take_id() == take.id:
            self._show_waveform_of(take)
        self.window.takes.select_take(take.id)

    def _generation_finished(self) -> None:
        self.playback.end_stream()
        if self.playback.take_id is None and self.playback.label.startswith("Generating"):
            self.playback.clear()  # no take came of the preview (a crash before any audio): not "Generating … 0:00"
        if self._generating():  # nothing was made of the last take
            self._stream = None
            selected = self.window.takes.selected_take_id()
            self._show_waveform_of(self.dialogue.take(selected) if selected else None)

    def _preview_started(self, line_id: str, sample_rate: int) -> None:
        row = self.dialogue.index_of(line_id) + 1
        self.window.waveform.begin_stream(sample_rate, key=None)
        self._stream = Stream(None, self.playback.available)
        if self.playback.available:
            self.playback.begin_stream(f"Preview of line {row}, as typed", sample_rate)

    def _preview_chunk(self, samples) -> None:
        # Heard while the player still holds the preview (the person may have played something else).
        self._append(self._stream, samples, self._stream.heard and self.playback.label.startswith("Preview"))

    def _preview_ended(self) -> None:
        if self._stream is not None and self._stream.take is None:
            self._stream = None
        self.window.waveform.end_stream()
        if self.playback.label.startswith("Preview"):
            self.playback.end_stream()

    def _preview_gone(self) -> None:
        """No preview runs any more: one that failed before its result (so never finished) lets go
        of the waveform and the player too."""
        if self._stream is not None and self._stream.take is None:
            self._preview_ended()

    def _append(self, stream: Stream, samples, heard: bool) -> None:
        self.window.waveform.append(samples)
        if not heard:
            return
        self.playback.append(samples)
        if not stream.sounding:  # it plays from the first sound
            stream.sounding = True
            self.playback.resume()

    def _generating(self) -> bool:
        return self._stream is not None and self._stream.take is not None

    def _stream_plays(self) -> bool:
        """What plays is the stream the waveform shows, from its first sound."""
        playback = self.playback
        return (self._stream is not None and self._stream.sounding and playback.player is not None
                and playback.take_id is None)

    # --- the waveform and the playhead -------------------------------------------------------------

    def _take_selected(self, take: Take | None) -> None:
        """The waveform shows the take chosen; with another one paused or stopped in the playback
        bar, the bar lets go of it and names the take its Play now starts (it named the last one)."""
        self._show_waveform_of(take)
        playback = self.playback
        if take is None or playback.is_playing or playback.take_id in (None, take.id) or self._generating():
            return
        playback.clear()
        self.window.playback_bar.show_state(take_title(self.dialogue, take), False, 0.0, take.audio.duration_s, False)

    def _show_waveform_of(self, take: Take | None) -> None:
        """The waveform shows the selected take, or with none the whole dialogue (not while a
        stream holds it)."""
        waveform = self.window.waveform
        if self._stream is not None:
            return
        if take is None:
            self._show_dialogue_waveform()
            return
        markers = line_markers(((line_id, span.start_s) for line_id, span in take.line_times.items()),
                               self.dialogue.lines)
        if waveform.key == take.id and not waveform.streaming:
            waveform.set_markers(markers)  # the lines may have moved
            return
        envelope = self._envelopes.get(take.id)
        if envelope is None:
            envelope = self._envelopes[take.id] = Envelope.of(take.audio.samples(), take.audio.sample_rate)
        waveform.set_envelope(envelope, markers, key=take.id)
        self._show_playhead()

    def _show_dialogue_waveform(self) -> HeardDialogue | None:
        heard = self._dialogue_audio.of(self.dialogue)
        waveform = self.window.waveform
        if self._stream is not None:
            return heard
        if heard is None:
            waveform.clear()
            return None
        markers = line_markers(heard.line_starts, self.dialogue.lines)
        if waveform.envelope is heard.envelope and waveform.key == DIALOGUE:
            waveform.set_markers(markers)
        else:
            waveform.set_envelope(heard.envelope, markers, key=DIALOGUE)
            self._show_playhead()
        return heard

    def _show_playhead(self) -> None:
        waveform, playback = self.window.waveform, self.playback
        if playback.player is None:
            shown = False
        elif waveform.streaming:
            shown = self._stream_plays()
        else:
            shown = waveform.key is not None and playback.take_id == waveform.key
        waveform.set_playhead(playback.position_s if shown else None)

    def _playback_changed(self, label: str, playing: bool, position: float, duration: float,
                          buffering: bool) -> None:
        self.window.playback_bar.show_state(label, playing, position, duration, buffering)
        self.follow_along.show_heard(position if playing else None)
        self._show_playhead()
