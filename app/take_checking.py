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
from PySide6.QtWidgets import QLabel

from app.workers import Worker
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.errors import describe_error
from core.document.line_numbers import line_numbers, rows_of
from core.studio.take_checking import depends_on, document_voices, flagged_lines, to_check, unchecked
from core.take_checks.speaker_encoder import LstmVoiceEncoder
from core.take_checks.take_checker import check_take
from core.take_checks.verdicts import CheckedTake


class TakeChecking(QObject):
    idle = Signal()  # every take is checked (or could not be)

    def __init__(self, status: QLabel, parent: QObject | None = None):
        """``status``: the status bar's word on the checks, kept up to date here (a label, so it
        never takes the place of a message about what just happened)."""
        super().__init__(parent)
        self._status = status
        self._problem = ""  # why the last take that could not be checked could not be
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
        elif change & (Change.LINES | Change.CHECKS):
            self._show()  # a line changed or gone, or a take's checks in: what is flagged may differ

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
            self._show()
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
        self._show()

    def _arrived(self, dialogue: Dialogue, take_id: str, result) -> None:
        if dialogue is not self._dialogue or take_id not in {take.id for take in dialogue.takes}:
            return  # another document, or a take deleted meanwhile
        if isinstance(result, CheckedTake):
            if result.depends_on == depends_on(dialogue.speakers, dialogue.take(take_id)):
                dialogue.set_checks(take_id, result)
            return
        key, self._problem = result
        self._failed.add(key)
        self._show()

    def _finished(self) -> None:
        if self._dialogue is None:
            return
        if self._again or unchecked(self._dialogue):
            self._again = False
            self.check_what_is_new()
        else:
            self._show()
            self.idle.emit()

    def _show(self) -> None:
        """The status bar's word: checking, what the checks flag in the takes kept, or nothing."""
        dialogue = self._dialogue
        flagged = flagged_lines(dialogue)
        if self.is_running:
            text = "Checking takes…"
        elif flagged:
            text = f"⚠ The checks flag {line_numbers(rows_of(dialogue, flagged))}"
        else:
            text = "⚠ A take could not be checked" if self._problem else ""
        self._status.setText(text)
        self._status.setToolTip(self._problem or ("Double-click a flagged line's status to hear it; Make until "
                                                  "good (Ctrl+F5) makes the flagged lines again" if flagged else ""))
