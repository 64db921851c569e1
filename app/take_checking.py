"""Every take checked in the background as it arrives, and the takes of an opened project that
have no checks (core/take_checks): the checks reach the document on the GUI thread, one take at
a time, newest first. A take is checked again when its voices change (core.studio.take_checking).

One worker at a time; what arrives while it runs waits for it. The speaker encoder is loaded on
first use and kept. Whisper is not run here: the words a listener hears are "not checked".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from PySide6.QtCore import QObject, Signal

from app.workers import Worker
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.errors import describe_error
from core.studio.take_checking import depends_on, document_voices, to_check, unchecked
from core.take_checks.speaker_encoder import LstmVoiceEncoder
from core.take_checks.take_checker import check_take
from core.take_checks.verdicts import CheckedTake
from ui.takes import describe_checks, take_number


class TakeChecking(QObject):
    said = Signal(str)  # a take checked, or why it could not be: for the status bar
    idle = Signal()  # every take is checked (or could not be)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._encoder = LstmVoiceEncoder()
        self._dialogue: Dialogue | None = None
        self._unsubscribe = None
        self.worker: Worker | None = None
        self._again = False  # something changed while the worker ran
        self._failed: set[str] = set()  # depends_on of checks that failed: not tried again and again

    @property
    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    def set_dialogue(self, dialogue: Dialogue) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self.worker is not None:
            self.worker.cancel()  # the other document's takes: what it yields is dropped
        self._dialogue = dialogue
        self._unsubscribe = dialogue.subscribe(self._changed)
        self.check_what_is_new()

    def stop(self) -> None:
        """Before the window closes: cancel, wait for the take being checked, and let go of the
        document (checks still on their way to the GUI thread are dropped)."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._dialogue = None
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait()

    def _changed(self, change: Change) -> None:
        if change & (Change.TAKES | Change.SPEAKERS):
            self.check_what_is_new()

    def check_what_is_new(self) -> None:
        if self._dialogue is None:
            return  # stopped
        if self.is_running:
            self._again = True
            return
        dialogue = self._dialogue
        speakers = dialogue.speakers
        todo = [(take, depends_on(speakers, take)) for take in unchecked(dialogue)]
        todo = [(take, key) for take, key in todo if key not in self._failed]
        if not todo:
            self.idle.emit()
            return

        def job(cancel: threading.Event) -> Iterator:
            for take, key in todo:
                if cancel.is_set():
                    return
                try:
                    take_to_check = to_check(take, *document_voices(speakers))
                    yield take.id, CheckedTake(key, check_take(take_to_check, encoder=self._encoder))
                except Exception as error:  # noqa: BLE001 — one take's failure must not stop the others
                    yield take.id, (key, describe_error(error, "Checking the take failed"))

        self._again = False
        self.worker = Worker(job, "take checks", self)
        self.worker.yielded.connect(lambda item, dialogue=dialogue: self._arrived(dialogue, *item))
        self.worker.finished.connect(self._finished)
        self.worker.start()

    def _arrived(self, dialogue: Dialogue, take_id: str, result) -> None:
        if dialogue is not self._dialogue or take_id not in {take.id for take in dialogue.takes}:
            return  # another document, or a take deleted meanwhile
        if isinstance(result, CheckedTake):
            take = dialogue.take(take_id)
            if result.depends_on == depends_on(dialogue.speakers, take):
                dialogue.set_checks(take_id, result)
                checks = describe_checks(dialogue, take).replace(" · ", "; ")
                self.said.emit(f"Take {take_number(dialogue, take)} checked: {checks}.")
            return
        key, message = result
        self._failed.add(key)
        self.said.emit(message)

    def _finished(self) -> None:
        if self._dialogue is None:
            return
        if self._again or unchecked(self._dialogue):
            self._again = False
            self.check_what_is_new()
        else:
            self.idle.emit()
