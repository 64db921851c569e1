"""Speak as I type: the line being edited is heard while it is written, through a live take on
the engine (``Engine.open_live_take``), with the line's speaker's voice and the lines before it
as context, as a regeneration of the line would have them.

Each edit goes to the take as whole words, respelled by the document's lexicon as a generation
would send them (``core.studio.typed_line``); the take speaks a word
once it has the two after it, and the rest when the person leaves the line or presses Enter
(which ends its text). An edit of what the take was given already cancels it and starts another
from the line as it reads now, once the one cancelled has let go of the model. Everything that
can wait (the voices, the lines before, the model) happens on a worker; the GUI thread only hands
text to the take, which never waits. One take at a time: a line typed while the one before is
still being spoken gets its take after it.

A previewed take is not in the document; ``keep`` adds the last complete one as a take of its line
(its words as written), while the line reads, and is read, as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, Signal

from app.workers import Worker
from core.dia2.events import AudioChunk, GenerationBusy, TakeResult, TakeStarted
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.errors import DiaStudioError, describe_error
from core.lexicon.respelling import Respelling
from core.audio.stored_audio import as_stored
from core.studio.dialogue_generation import SpeakingWith
from core.studio.take_assembly import take_from_result
from core.studio.typed_line import Push, Restart, TypedLine


@dataclass
class _Line:
    """The line being typed (or left last), and what its take has been given."""

    id: str
    typed: TypedLine
    left: bool = False
    needs_take: bool = True  # it has text no running take was given


@dataclass
class _Take:
    line: _Line
    worker: Worker
    handle: object = None  # the engine's live take, once opened on the worker
    waiting: list[str] = field(default_factory=list)  # pushed before it opened
    cancelled: bool = False
    ended: bool = False


KEPT = "The preview is kept as a take of its line."


class LivePreview(QObject):
    take_started = Signal(str, int)  # line id, sample rate: its audio is on the way
    chunk = Signal(object)  # float32 samples
    take_finished = Signal(object)  # the TakeResult (complete or not)
    said = Signal(str)  # for the status bar: why there is no preview, or what failed
    idle = Signal()  # no take runs any more (the model is free)
    keepable_changed = Signal(bool)

    def __init__(self, engine_and_rate: Callable[[], tuple[object, int] | None],
                 blocked: Callable[[], str | None], parent: QObject | None = None):
        """``engine_and_rate()``: the engine and its sample rate while a model is loaded (else
        None); ``blocked()``: why no preview may run now (a generation runs), or None."""
        super().__init__(parent)
        self._engine_and_rate = engine_and_rate
        self._blocked = blocked
        self.on = False
        self.dialogue: Dialogue | None = None
        self._line: _Line | None = None
        self._take: _Take | None = None
        self._kept: tuple[TakeResult, DialogueLine, Respelling] | None = None  # the last complete preview
        self._keep_when_finished = False  # asked to keep the preview still being made
        self._then: list[Callable[[], None]] = []  # to call once the take stopped has ended

    @property
    def is_running(self) -> bool:
        return self._take is not None

    # ---- the person ------------------------------------------------------------------------------
    def set_on(self, on: bool) -> None:
        self.on = on
        if not on:
            self.stop()

    def edited(self, line_id: str) -> None:
        """The person changed the line's text (a keystroke, a paste)."""
        if not self.on or self.dialogue is None:
            return
        line = self.dialogue.line(line_id)
        if self._line is None or self._line.id != line_id or self._line.left:
            if self._line is not None and self._line.id != line_id:
                self.left(self._line.id)
            self._line = _Line(line_id, TypedLine(line.speaker))
        self._apply(self._line.typed.typed(line.text, self.dialogue.lexicon_in_use))

    def left(self, line_id: str) -> None:
        """The person left the line (another line, Enter, a click elsewhere): all its text goes to
        its take, which then ends."""
        line = self._line
        if not self.on or line is None or line.id != line_id or line.left or self.dialogue is None:
            return
        if not any(candidate.id == line_id for candidate in self.dialogue.lines):
            self._line = None  # deleted, or joined into another
            return
        self._apply(line.typed.finished(self.dialogue.line(line_id).text, self.dialogue.lexicon_in_use))
        line.left = True
        take = self._take
        if take is not None and take.line is line and not take.cancelled:
            self._end(take)

    def stop(self, then: Callable[[], None] | None = None) -> None:
        """No more preview now (a generation starts, the toggle goes off); ``then`` is called once
        the model is free."""
        self._line = None
        take = self._take
        if take is not None:
            self._cancel(take)
        if then is not None:
            if take is None:
                then()
            else:
                self._then.append(then)  # no take starts before

    def wait(self) -> None:
        """Until the take stopped has ended (the window closes)."""
        if self._take is not None:
            self._take.worker.wait()

    def keep(self) -> bool:
        """Add the last complete preview to the document, as a take kept for its line (if the line
        still reads as it did)."""
        if self._kept is None or self.dialogue is None:
            return False
        result, line, respelling = self._kept
        # Held as a project stores it (as generated takes are), so an export before a save is the saved one.
        result = replace(result, audio=as_stored(result.audio, result.sample_rate))
        take = take_from_result(result, (line,), (respelling,))
        if take is None:
            return False
        self.dialogue.add_takes([take], (line.id,))
        self._set_kept(None)
        return True

    def keep_when_finished(self) -> bool:
        """Keep the preview being made once it is finished (False: none is being made)."""
        take = self._take
        if take is None or take.cancelled:
            return False
        self._keep_when_finished = True
        self.keepable_changed.emit(True)
        return True

    @property
    def making(self) -> bool:
        """A preview is being made, which Keep may be asked for ahead."""
        return self._take is not None and not self._take.cancelled

    def keepable(self) -> bool:
        if self._kept is None or self.dialogue is None:
            return False
        _, line, respelling = self._kept
        now = next((candidate for candidate in self.dialogue.lines if candidate.id == line.id), None)
        return (now is not None and now.spoken_text == line.spoken_text and now.speaker is line.speaker
                and self.dialogue.respelling(now).spoken == respelling.spoken)

    # ---- takes -----------------------------------------------------------------------------------
    def _apply(self, action: Push | Restart | None) -> None:
        line, take = self._line, self._take
        if action is None or line is None:
            return
        if take is not None and take.line is line and not take.cancelled:
            if isinstance(action, Restart):  # what it was given no longer reads so: another take
                line.needs_take = True
                self._cancel(take)
            else:
                self._push(take, action.text)
            return
        line.needs_take = True
        if take is None:
            self._start(line)
        # else: the take before (another line's, or one cancelled) ends first; then this one starts

    def _start(self, line: _Line) -> None:
        blocked = self._blocked() or ("A generation is starting: the line is heard as you type once it has "
                                      "ended." if self._then else None)
        loaded = self._engine_and_rate()
        if blocked or loaded is None:
            self.said.emit(blocked or "Speak as I type needs a model: load one in the model manager (Ctrl+Shift+M).")
            return
        engine, sample_rate = loaded
        dialogue = self.dialogue
        try:
            speaking_with = SpeakingWith.at(dialogue, line.id)
        except DiaStudioError as error:
            self.said.emit(f"No preview: {error}")
            return
        params = dialogue.params
        line.needs_take = False

        def job(cancel: threading.Event) -> Iterator:
            prompts, context = speaking_with.encoded(engine)
            handle = engine.open_live_take(params, prompts, context)
            if cancel.is_set():
                handle.cancel()
            yield handle
            yield from handle.events()

        worker = Worker(job, "speak as I type", self)
        take = self._take = _Take(line, worker, waiting=[line.typed.given])
        worker.yielded.connect(lambda item: self._on_item(take, item, sample_rate))
        worker.errored.connect(lambda error: self._on_error(error))
        worker.finished.connect(lambda: self._on_finished(take))
        if line.left:
            take.ended = True
        worker.start()

    def _push(self, take: _Take, text: str) -> None:
        if take.handle is None:
            take.waiting.append(text)
            return
        try:
            take.handle.push_text(text)
        except DiaStudioError as error:  # markup the model cannot follow (yet): said, and stopped
            self.said.emit(f"The preview stopped: {error}")
            self._cancel(take)

    def _end(self, take: _Take) -> None:
        take.ended = True
        if take.handle is None:
            return
        try:
            take.handle.end_text()
        except DiaStudioError:  # no words at all: nothing to hear
            self._cancel(take)

    def _cancel(self, take: _Take) -> None:
        if self._keep_when_finished:  # the preview asked for is not the one that will come
            self._keep_when_finished = False
            self.said.emit("The preview was not kept: its line changed while it was being made. Keep the "
                           "next one once it is finished (Shift+F6).")
        take.cancelled = True
        take.worker.cancel()
        if take.handle is not None:
            take.handle.cancel()

    def _on_item(self, take: _Take, item, sample_rate: int) -> None:
        if take.handle is None:  # the first item: the take opened
            take.handle = item
            if take.cancelled:
                item.cancel()
                return
            for text in take.waiting:
                self._push(take, text)
            take.waiting = []
            if take.ended and not take.cancelled:
                self._end(take)
        elif isinstance(item, TakeStarted):
            self.take_started.emit(take.line.id, sample_rate)
        elif isinstance(item, AudioChunk) and not take.cancelled:
            self.chunk.emit(item.samples)
        elif isinstance(item, TakeResult):
            line = self._line_read_as_given(take)
            if item.complete and line is not None:
                self._set_kept((item, line, self.dialogue.respelling(line)))
                if self._keep_when_finished:
                    self._keep_when_finished = False
                    if self.keep():
                        self.said.emit(KEPT)
            self.take_finished.emit(item)

    def _on_error(self, error: Exception) -> None:
        if isinstance(error, GenerationBusy):
            self.said.emit(f"No preview: {error}")
        else:
            self.said.emit(describe_error(error, "The preview failed"))

    def _on_finished(self, take: _Take) -> None:
        if self._take is take:
            self._take = None
        thens, self._then = self._then, []
        for then in thens:  # the model is free: what waited for it goes first
            then()
        line = self._line
        if line is not None and line.needs_take and self.on and not thens:
            self._start(line)
        if self._take is None:
            self.idle.emit()

    def _line_read_as_given(self, take: _Take) -> DialogueLine | None:
        """The take's line, while the model would read it as the take was given it (the lexicon
        may have changed meanwhile)."""
        if self.dialogue is None or not any(line.id == take.line.id for line in self.dialogue.lines):
            return None
        line = self.dialogue.line(take.line.id)
        given = " ".join(take.line.typed.given.split()[1:])  # after its speaker tag
        return line if self.dialogue.respelling(line).spoken == given else None

    def _set_kept(self, kept: tuple[TakeResult, DialogueLine, Respelling] | None) -> None:
        self._kept = kept
        self.keepable_changed.emit(kept is not None)
