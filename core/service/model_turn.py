"""Whose turn it is on the server's one model: the task runner's (one API task at a time) or a
studio's (one generation of a remote engine).

A studio is a person waiting on a live preview, the API's tasks are batch work: a studio that
asks while a task runs goes next, ahead of the tasks still queued, and waits only for the one
running; a studio that asks while another studio generates is told at once that the model is
busy, and by whom (two people at one model cannot both be served, and a silent wait on someone
else's long take would look like a hang).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.dia2.generator import GenerationBusy

TASK = "a task of the task API"
WAIT_STEP_S = 0.1  # how often a wait looks at whether it was given up


class ModelTurn:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holder: str | None = None
        self._since = 0.0
        self._studios_waiting = 0

    @property
    def holder(self) -> str | None:
        return self._holder

    @property
    def studios_waiting(self) -> int:
        return self._studios_waiting

    def take_for_task(self, given_up: Callable[[], bool]) -> bool:
        """Wait for the model for an API task (after any studio waiting); False if ``given_up``."""
        with self._changed:
            while self._holder is not None or self._studios_waiting:
                if given_up():
                    return False
                self._changed.wait(WAIT_STEP_S)
            self._hold(TASK)
            return True

    def take_for_studio(self, studio: str, given_up: Callable[[], bool]) -> bool:
        """Take the model for ``studio``: at once, or after the task running now. Raises
        GenerationBusy while another studio has it; False if ``given_up`` while waiting."""
        with self._changed:
            if self._holder is not None and self._holder != TASK:
                raise GenerationBusy(f"The server's model is busy: {self._holder} has been generating on it for "
                                     f"{time.monotonic() - self._since:.0f} s. Try again when it is done.")
            self._studios_waiting += 1
            try:
                while self._holder is not None:
                    if given_up():
                        return False
                    self._changed.wait(WAIT_STEP_S)
                    if self._holder is not None and self._holder != TASK:  # another studio went first
                        raise GenerationBusy(f"The server's model is busy: {self._holder} took it first. "
                                             "Try again when it is done.")
            finally:
                self._studios_waiting -= 1
            self._hold(studio)
            return True

    def give_back(self) -> None:
        with self._changed:
            self._holder = None
            self._changed.notify_all()

    def _hold(self, holder: str) -> None:
        self._holder, self._since = holder, time.monotonic()
