"""A lexicon entry heard: its respelling spoken in a speaker's voice, by a short generation that
plays as it is made and is kept nowhere. It needs the model to itself: it is refused while a
generation or a preview of a typed line runs, and a generation asked for meanwhile waits for it
to stop (``stop(then)``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from app.playback import Playback
from app.workers import Worker
from core.dia2.events import AudioChunk, GenerationRequest, TakeResult, TakeStarted
from core.document.dialogue import Dialogue
from core.document.speakers import Speaker
from core.errors import DiaStudioError, describe_error
from core.lexicon.entry import LexiconEntry
from core.studio.dialogue_generation import voices_in_order
from core.studio.voice_loading import voice_prompts


class EntryHearing(QObject):
    running_changed = Signal(bool)
    said = Signal(str)  # what went wrong

    def __init__(self, engine_and_rate: Callable[[], tuple[object, int] | None],
                 blocked: Callable[[], str | None], playback: Playback, parent: QObject | None = None):
        """``engine_and_rate()``: the engine and its sample rate while a model is loaded (else
        None); ``blocked()``: why the model cannot be used now (a generation runs), or None."""
        super().__init__(parent)
        self._engine_and_rate = engine_and_rate
        self._blocked = blocked
        self._playback = playback
        self._worker: Worker | None = None
        self._then: list[Callable[[], None]] = []

    @property
    def is_running(self) -> bool:
        return self._worker is not None

    def why_not(self) -> str | None:
        """Why no entry can be heard now, in words for the lexicon dialog (None: one can)."""
        if self.is_running:
            return "Speaking…"
        if not self._playback.available:
            return "No sound output is available to hear entries."
        if self._engine_and_rate() is None:
            return "Load a model to hear entries (Ctrl+Shift+M)."
        return self._blocked()

    def hear(self, dialogue: Dialogue, entry: LexiconEntry, speaker: Speaker) -> str | None:
        """Speak ``entry`` as respelled, in ``speaker``'s voice (with the document's settings, one
        take); returns why it cannot (None: it started)."""
        why_not = self.why_not()
        if why_not:
            return why_not
        try:
            voices = voices_in_order(dialogue)
        except DiaStudioError as error:
            return str(error)
        engine, sample_rate = self._engine_and_rate()
        request = GenerationRequest(f"{speaker.tag} {entry.spoken}", replace(dialogue.params, number_results=1))
        label = f"Lexicon: “{entry.written}” as “{entry.spoken}”, {dialogue.speakers[speaker].name}"

        def job(cancel: threading.Event) -> Iterator:
            prompts = voice_prompts(engine, voices) if voices else ()
            yield from engine.generate(replace(request, voices=prompts), cancel)

        worker = self._worker = Worker(job, "lexicon entry", self)
        sounding = []
        worker.yielded.connect(lambda event: self._on_event(event, label, sample_rate, sounding))
        worker.errored.connect(lambda error: self.said.emit(describe_error(error, "The entry could not be heard")))
        worker.finished.connect(self._on_finished)
        worker.start()
        self.running_changed.emit(True)
        return None

    def stop(self, then: Callable[[], None] | None = None) -> None:
        """Stop speaking; ``then`` is called once the model is free."""
        if self._worker is None:
            if then is not None:
                then()
            return
        if then is not None:
            self._then.append(then)
        self._worker.cancel()

    def wait(self) -> None:
        if self._worker is not None:
            self._worker.wait()

    def _on_event(self, event, label: str, sample_rate: int, sounding: list) -> None:
        playback = self._playback
        if isinstance(event, TakeStarted):
            playback.begin_stream(label, sample_rate)
        elif isinstance(event, AudioChunk) and playback.label == label:
            playback.append(event.samples)
            if not sounding:  # it plays from the first sound
                sounding.append(True)
                playback.resume()
        elif isinstance(event, TakeResult) and playback.label == label:
            playback.end_stream()

    def _on_finished(self) -> None:
        self._worker = None
        self.running_changed.emit(False)
        thens, self._then = self._then, []
        for then in thens:
            then()
