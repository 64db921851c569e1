"""One generation at a time: the document's lines and voices → a request → a worker running the
runtime → takes added to the document as each finishes, with progress and audio on the way.

Selected lines are generated after the lines before them (from their kept takes, see
``core.studio.lines_before``), so the voices and the conversation carry on into them.

The first take of a generation is kept for the lines that had no take (or an outdated one), and
for the selected lines when it is complete (they were asked for again); every other line keeps the
take chosen for it (see ``Dialogue.add_takes``).

The runtime is anything with ``generate(request, cancel)`` yielding the events of
``core.dia2.generator`` (and ``encode_voice``/``sample_rate`` when voices or lines before are given).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from PySide6.QtCore import QObject, Signal

from app.workers import Worker
from core.dia2.generator import AudioChunk, GenerationRequest, Progress, TakeResult, TakeStarted, WordTiming
from core.dialogue import Dialogue, DialogueLine, Speaker, Take
from core.errors import DiaStudioError, describe_error
from core.studio.lines_before import lines_before, spoken_context
from core.studio.take_assembly import spoken_words, take_from_result
from core.studio.voice_loading import voice_prompts


class CannotGenerate(DiaStudioError):
    """The document is not ready to generate; the message says what to do."""


class GenerationSession(QObject):
    started = Signal(int, int)  # takes, words per take
    take_started = Signal(int, int)  # take, seed
    chunk = Signal(int, object)  # take, float32 samples
    word_timed = Signal(int, float)  # take, when the script's next word starts (seconds into the take)
    progress = Signal(int, int, object)  # take, words spoken so far, Progress
    take_added = Signal(object)  # the Take, once it is in the document
    finished = Signal(bool)  # cancelled
    failed = Signal(str)
    notice = Signal(str)  # something the person should know about a take (e.g. what was cut)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.worker: Worker | None = None
        self._dialogue: Dialogue | None = None
        self._lines: tuple[DialogueLine, ...] = ()
        self._regenerated: tuple[str, ...] = ()  # the selected lines, asked for again
        self._words_spoken = 0
        self.notices: list[str] = []  # of the last generation started, each once
        self.takes: list[Take] = []  # the takes the last generation started added, in order

    @property
    def is_running(self) -> bool:
        return self.worker is not None

    @property
    def lines(self) -> tuple[DialogueLine, ...]:
        """The lines of the last generation started, as they were then, in script order."""
        return self._lines

    def start(self, runtime, dialogue: Dialogue, line_ids: list[str] | None = None) -> None:
        """Generate the given lines (default: all). Raises CannotGenerate before starting."""
        if self.is_running:
            raise CannotGenerate("A generation is already running.")
        lines = tuple(dialogue.line(i) for i in line_ids) if line_ids else dialogue.lines
        lines = tuple(line for line in lines if line.spoken_text)
        if not lines:
            raise CannotGenerate("There is no text to speak: write a line first.")
        voices = voices_in_order(dialogue)
        script, params = dialogue.to_script(lines), dialogue.params  # as they are now: edits may follow
        before = lines_before(dialogue, min(lines, key=lambda line: dialogue.index_of(line.id)).id)
        self._dialogue, self._lines = dialogue, lines
        self._regenerated = tuple(line.id for line in lines) if line_ids else ()
        self.notices, self.takes = [], []

        def job(cancel: threading.Event) -> Iterator:
            prompts = voice_prompts(runtime, voices) if voices else ()
            context = spoken_context(runtime, before)
            yield from runtime.generate(GenerationRequest(script, params, prompts, context), cancel)

        self.worker = Worker(job, "generation", self)
        self.worker.yielded.connect(self._on_event)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        dialogue.set_generating(line.id for line in lines)
        self.started.emit(dialogue.params.number_results, sum(len(spoken_words(line)) for line in lines))
        self.worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _on_event(self, event) -> None:
        if isinstance(event, TakeStarted):
            self._words_spoken = 0
            self.take_started.emit(event.take, event.seed)
        elif isinstance(event, AudioChunk):
            self.chunk.emit(event.take, event.samples)
        elif isinstance(event, WordTiming):
            self._words_spoken += 1
            self.word_timed.emit(event.take, event.start_s)
        elif isinstance(event, Progress):
            self.progress.emit(event.take, self._words_spoken, event)
        elif isinstance(event, TakeResult):
            for notice in event.notices:
                if notice not in self.notices:  # every take of a generation says the same
                    self.notices.append(notice)
                    self.notice.emit(notice)
            take = take_from_result(event, self._lines)
            if take is not None:
                regenerated = self._regenerated if event.complete and not self.takes else ()
                self._dialogue.add_takes([take], regenerated)
                self.takes.append(take)
                self.take_added.emit(take)

    def _on_error(self, error: Exception) -> None:
        self.failed.emit(describe_error(error, "The generation failed"))

    def _on_finished(self) -> None:
        cancelled = self.worker.cancel_requested
        self.worker = None
        self._dialogue.set_generating(())
        self.finished.emit(cancelled)


def voices_in_order(dialogue: Dialogue):
    """The voice references for the request: speaker 1's first, as Dia2 expects."""
    first, second = (dialogue.speakers[s].voice for s in Speaker)
    if second is not None and first is None:
        raise CannotGenerate(f"{dialogue.speakers[Speaker.S2].name} has a voice but "
                             f"{dialogue.speakers[Speaker.S1].name} has none: Dia2 takes the first voice "
                             "as speaker 1. Give both a voice, or clear the second one.")
    for speaker, voice in zip(Speaker, (first, second)):
        if voice is not None and not voice.words:
            raise CannotGenerate(f"The voice of {dialogue.speakers[speaker].name} has no timed words: "
                                 "type its transcript, or load it again.")
    return tuple(voice for voice in (first, second) if voice is not None)
