"""One generation at a time in the window: a ``DialogueGeneration`` (what is generated, and how its
takes go into the document: see ``core.studio.dialogue_generation``) run on a worker thread, with
progress and audio on the way as signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.workers import Worker
from core.dia2.events import AudioChunk, Progress, TakeResult, TakeStarted, WordTiming
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.document.takes import Take
from core.errors import describe_error
from core.studio.dialogue_generation import CannotGenerate, DialogueGeneration


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
        self._generation: DialogueGeneration | None = None  # the last one started
        self._words_spoken = 0

    @property
    def is_running(self) -> bool:
        return self.worker is not None

    @property
    def lines(self) -> tuple[DialogueLine, ...]:
        """The lines of the last generation started, as they were then, in script order."""
        return self._generation.lines if self._generation else ()

    @property
    def notices(self) -> list[str]:
        """What the takes of the last generation started said, each once."""
        return self._generation.notices if self._generation else []

    @property
    def takes(self) -> list[Take]:
        """The takes the last generation started added, in order."""
        return self._generation.takes if self._generation else []

    def start(self, runtime, dialogue: Dialogue, line_ids: list[str] | None = None) -> None:
        """Generate the given lines (default: all). Raises CannotGenerate before starting."""
        if self.is_running:
            raise CannotGenerate("A generation is already running.")
        generation = self._generation = DialogueGeneration(dialogue, line_ids)
        self.worker = Worker(lambda cancel: generation.events(runtime, cancel), "generation", self)
        self.worker.yielded.connect(self._on_event)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        dialogue.set_generating(line.id for line in generation.lines)
        self.started.emit(generation.params.number_results, generation.words_per_take)
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
            notices, take = self._generation.add_result(event)
            for notice in notices:
                self.notice.emit(notice)
            if take is not None:
                self.take_added.emit(take)

    def _on_error(self, error: Exception) -> None:
        self.failed.emit(describe_error(error, "The generation failed"))

    def _on_finished(self) -> None:
        cancelled = self.worker.cancel_requested
        self.worker = None
        self._generation.dialogue.set_generating(())
        self.finished.emit(cancelled)
