"""Every take checked in the background as it arrives, and the takes of an opened project that
have no checks (core/take_checks): the checks reach the document on the GUI thread, one take at
a time, newest first. A take is checked again when its voices change (core.studio.take_checking).

One worker at a time; what arrives while it runs waits for it. The speaker encoder is loaded on
first use and kept. Whisper hears the lines (where the engine runs, as it hears voices) only when
its model is on this computer already, and never while the model generates: it would slow the
generation, so what is checked meanwhile is heard once the model is quiet. Without a model on
disk the words a listener hears are "not checked": the checks never start a download.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from app.workers import Worker, run_in_background
from core.document.content import Change
from core.document.dialogue import Dialogue
from core.errors import describe_error
from core.document.line_numbers import line_numbers, rows_of
from core.studio.take_checking import (depends_on, made_from, document_voices, flagged_lines, to_check,
                                       unchecked)
from core.take_checks.speaker_encoder import LstmVoiceEncoder
from core.take_checks.take_checker import check_take
from core.take_checks.verdicts import CheckSettings, CheckedTake


Hearing = tuple[str, object]  # a Whisper model's name, and what hears with it (``transcribe(samples, rate)``)


class TakeChecking(QObject):
    idle = Signal()  # every take is checked (or could not be)

    def __init__(self, status: QLabel, hearing: Callable[[], Hearing | None] = lambda: None,
                 thresholds: Callable[[], CheckSettings] = CheckSettings, parent: QObject | None = None):
        """``status``: the status bar's word on the checks, kept up to date here (a label, so it
        never takes the place of a message about what just happened). ``hearing()``, called off
        the GUI thread: the Whisper model that can hear lines now, with what hears with it, or
        None. ``thresholds()``: the thresholds the person set (a change: ``check_what_is_new``)."""
        super().__init__(parent)
        self._status = status
        self._hearing = hearing
        self._thresholds = thresholds
        self._heard_by: str | None = None  # the Whisper model found, None: lines are not heard
        self._ears = None  # what hears with it
        self._quiet = True  # no generation runs: Whisper may
        self._problem = ""  # why the last take that could not be checked could not be
        self._encoder = LstmVoiceEncoder()
        self._dialogue: Dialogue | None = None
        self._unsubscribe = None
        self.worker: Worker | None = None
        self._again = False  # something changed while the worker ran
        self._failed: set[str] = set()  # depends_on of checks that failed: not tried again and again
        self._hears = False  # the worker's checks hear the lines
        self._looking: set[Worker] = set()  # looking for Whisper (an import: it cannot be cancelled)

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
        self.look_for_hearing()

    def look_for_hearing(self) -> None:
        """Find out, off the GUI thread, whether Whisper can hear the lines (at the start, and
        when the model is quiet again, the Whisper model chosen or the engine changes); takes
        checked unheard are then heard."""
        def found(hearing: Hearing | None) -> None:
            if self._dialogue is None:
                return  # stopped meanwhile
            model, ears = hearing or (None, None)
            changed = model != self._heard_by
            self._heard_by, self._ears = model, ears
            if changed:
                self.check_what_is_new()

        looking = run_in_background(self._hearing, found, lambda error: found(None), "take checks' hearing", self)
        self._looking.add(looking)
        looking.finished.connect(lambda: self._looking.discard(looking))

    def set_quiet(self, quiet: bool) -> None:
        """``quiet``: no generation runs. While one does, takes are checked without Whisper, and
        a take being heard is the last one heard until the model is quiet again."""
        if quiet == self._quiet:
            return
        self._quiet = quiet
        if quiet:
            self.look_for_hearing()  # a voice transcribed meanwhile may have downloaded the model
            self.check_what_is_new()
        elif self.is_running and self._hears:
            self._again = True
            self.worker.cancel()

    @property
    def settled(self) -> bool:
        """Every take has the checks it can have now."""
        return not self.is_running and (self._dialogue is None or not self._todo(self._dialogue))

    def stop(self) -> None:
        """Before the window closes: cancel, wait for the take being checked and for any look for
        Whisper, and let go of the document (checks still on their way to the GUI thread are
        dropped)."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._dialogue = None
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait()
        for looking in list(self._looking):
            looking.wait()

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
        todo = self._todo(dialogue)
        if not todo:
            self._show()
            self.idle.emit()
            return
        speakers, ears, settings = dialogue.speakers, self._ears if self._heard_now else None, self._thresholds()

        def job(cancel: threading.Event) -> Iterator:
            for take, key in todo:
                if cancel.is_set():
                    return
                try:
                    take_to_check = to_check(take, *document_voices(speakers))
                    if ears is None:
                        yield take.id, CheckedTake(key, check_take(take_to_check, settings, self._encoder))
                        continue
                    try:
                        report = check_take(take_to_check, settings, self._encoder, ears)
                    except Exception as error:  # noqa: BLE001 — Whisper failing leaves the other checks
                        yield None, describe_error(error, "Whisper could not hear the lines")
                        key = depends_on(speakers, take, settings=settings)
                        report = check_take(take_to_check, settings, self._encoder)
                    yield take.id, CheckedTake(key, report)
                except Exception as error:  # noqa: BLE001 — one take's failure must not stop the others
                    yield take.id, (key, describe_error(error, "Checking the take failed"))

        self._again = False
        self._hears = ears is not None
        self.worker = Worker(job, "take checks", self)
        self.worker.yielded.connect(lambda item, dialogue=dialogue: self._arrived(dialogue, *item))
        self.worker.finished.connect(self._finished)
        self.worker.start()
        self._show()

    @property
    def _heard_now(self) -> bool:
        return self._heard_by is not None and self._quiet

    def _todo(self, dialogue: Dialogue) -> list:
        """The takes to check now, each with what its checks will be made from."""
        heard_by = self._heard_by if self._heard_now else None
        settings = self._thresholds()
        todo = [(take, depends_on(dialogue.speakers, take, heard_by, settings))
                for take in unchecked(dialogue, heard_by, settings)]
        return [(take, key) for take, key in todo if key not in self._failed]

    def _arrived(self, dialogue: Dialogue, take_id: str | None, result) -> None:
        if take_id is None:  # Whisper failed: lines are not heard until another model is found
            self._heard_by, self._ears, self._problem = None, None, result
            return
        if dialogue is not self._dialogue or take_id not in {take.id for take in dialogue.takes}:
            return  # another document, or a take deleted meanwhile
        if isinstance(result, CheckedTake):
            if made_from(result.depends_on) == made_from(depends_on(dialogue.speakers, dialogue.take(take_id))):
                dialogue.set_checks(take_id, result)
            return
        key, self._problem = result
        self._failed.add(key)
        self._show()

    def _finished(self) -> None:
        if self._dialogue is None:
            return
        if self._again or self._todo(self._dialogue):
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
