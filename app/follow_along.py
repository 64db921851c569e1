"""Following along while a take plays: the timeline highlights the line and the word being heard
(of a finished take, of the whole dialogue as exported, or of the first take of a generation heard
while it is made), and the waveform marks where each line begins as soon as a streaming take
reaches it.

All of it runs on the GUI thread, from the playhead timer and the generation's signals; a word
that changes repaints one cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QObject

from app.generation import GenerationSession
from app.playback import Playback
from core.audio.playback import StreamingPlayer
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.speech_timeline import SpeechTimeline
from core.studio.heard_dialogue import DIALOGUE, DialogueAudio
from ui.main_window import MainWindow


def line_markers(starts: Iterable[tuple[str, float]], lines: Sequence[DialogueLine]) -> list[tuple[float, str]]:
    """Waveform markers for (line id, start) pairs: labelled with the line's row number, or "–"
    for a line that has been deleted since."""
    rows = {line.id: number for number, line in enumerate(lines, 1)}
    return [(seconds, str(rows.get(line_id, "–"))) for line_id, seconds in starts]


class FollowAlong(QObject):
    def __init__(self, window: MainWindow, playback: Playback, generation: GenerationSession,
                 dialogue: Callable[[], Dialogue], dialogue_audio: DialogueAudio):
        super().__init__(window)
        self._window, self._playback, self._generation, self._dialogue = window, playback, generation, dialogue
        self._dialogue_audio = dialogue_audio
        self._streamed: tuple[int, SpeechTimeline] | None = None  # the take streaming into the waveform
        self._previewed: tuple[StreamingPlayer, SpeechTimeline] | None = None  # the preview's player
        # What was heard last: a finished take by its id, the whole dialogue by its player (it is
        # assembled again when a take is kept, but the audio playing is the assembly it started with).
        self._played: tuple[str | StreamingPlayer, SpeechTimeline] | None = None
        generation.word_timed.connect(self._word_timed)

    def begin_take(self, take: int, previewed: bool) -> None:
        """A take of the generation starts streaming into the waveform, and into the speakers
        when ``previewed`` (its player has just been made)."""
        timeline = SpeechTimeline.streaming(self._generation.lines)
        self._streamed = (take, timeline)
        if previewed:
            self._previewed = (self._playback.player, timeline)
        self._show_markers(timeline)

    def show_heard(self, seconds: float | None) -> None:
        """Highlight what is heard ``seconds`` into what is playing (None: nothing is heard)."""
        timeline = self._timeline_playing() if seconds is not None else None
        heard = timeline.at(seconds) if timeline is not None else None
        line = None if heard is None else next(
            (line for line in self._dialogue().lines if line.id == heard.line_id), None)  # None: deleted since
        model = self._window.timeline.timeline
        if line is None:
            model.set_speaking(None)
        else:
            model.set_speaking(line.id, heard.chars_in(line))

    def _timeline_playing(self) -> SpeechTimeline | None:
        playback = self._playback
        if self._previewed is not None and self._previewed[0] is not playback.player:
            self._previewed = None  # something else plays now: let the preview's audio go
        if playback.take_id is None:
            return self._previewed[1] if self._previewed is not None else None
        played = playback.player if playback.take_id == DIALOGUE else playback.take_id
        if self._played is None or self._played[0] != played:
            timeline = self._timeline_of(playback.take_id)
            if timeline is None:
                return None
            self._played = (played, timeline)
        return self._played[1]

    def _timeline_of(self, take_id: str) -> SpeechTimeline | None:
        """Of a take, or of the whole dialogue; None once it is gone."""
        if take_id == DIALOGUE:
            heard = self._dialogue_audio.of(self._dialogue())
            return heard.speech if heard is not None else None
        take = next((take for take in self._dialogue().takes if take.id == take_id), None)
        return SpeechTimeline.of_take(take) if take is not None else None

    def _word_timed(self, take: int, start_s: float) -> None:
        if self._streamed is not None and self._streamed[0] == take and self._streamed[1].add_word(start_s):
            self._show_markers(self._streamed[1])

    def _show_markers(self, timeline: SpeechTimeline) -> None:
        waveform = self._window.waveform
        if waveform.streaming:
            waveform.set_markers(line_markers(timeline.line_starts, self._dialogue().lines))
