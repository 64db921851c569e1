"""Whose turn it is on the server's model: the task runner's (API tasks) or a studio's (one
generation of a remote engine, or a live take).

The server has ``capacity`` generations at a time: one for its own model, one per replica on a
cluster (``app.cluster``). A studio is a person waiting on a live preview, the API's tasks are
batch work: a studio that asks while tasks fill every slot goes next, ahead of the tasks still
queued, and waits only for one running task to end; a studio that asks while other studios fill
every slot is told at once that the model is busy, and by whom (two people at one model cannot
both be served, and a silent wait on someone else's long take would look like a hang). A live
take (``/v1/live``) takes its turn as a studio does. A holder that is giving its slot back
(cancelled, or its client gone: it stops within a frame) is waited for, not reported busy, so
the next take starts as soon as the slot is free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.dia2.events import GenerationBusy

TASK = "a task of the task API"
WAIT_STEP_S = 0.1  # how often a wait looks at whether it was given up


@dataclass
class _Slot:
    holder: str
    since: float = field(default_factory=time.monotonic)
    leaving: bool = False


class ModelTurn:
    def __init__(self, capacity: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"a model turn needs at least one slot, not {capacity}")
        self.capacity = capacity
        self._changed = threading.Condition()
        self._slots: list[_Slot] = []
        self._studios_waiting = 0

    @property
    def holders(self) -> list[str]:
        with self._changed:
            return [slot.holder for slot in self._slots]

    @property
    def studios_waiting(self) -> int:
        return self._studios_waiting

    def waits_for(self) -> str | None:
        """Who a studio asking now would wait for (None: a slot is free)."""
        with self._changed:
            return self._slots[0].holder if self._full() else None

    def take_for_task(self, given_up: Callable[[], bool]) -> bool:
        """Wait for a slot for an API task (after any studio waiting); False if ``given_up``."""
        with self._changed:
            while self._full() or self._studios_waiting:
                if given_up():
                    return False
                self._changed.wait(WAIT_STEP_S)
            self._slots.append(_Slot(TASK))
            return True

    def take_for_studio(self, studio: str, given_up: Callable[[], bool]) -> bool:
        """Take a slot for ``studio``: at once, or after a task running now. Raises
        GenerationBusy while other studios hold every slot; False if ``given_up`` while waiting."""
        with self._changed:
            self.refuse_if_busy()
            self._studios_waiting += 1
            try:
                while self._full():
                    if given_up():
                        return False
                    self._changed.wait(WAIT_STEP_S)
                    if self._studio_blocked():  # other studios went first
                        raise GenerationBusy(f"The server's model is busy: {self._busy_with().holder} took it "
                                             "first. Try again when it is done.")
            finally:
                self._studios_waiting -= 1
            self._slots.append(_Slot(studio))
            return True

    def refuse_if_busy(self) -> None:
        """Raises GenerationBusy now if a studio would be refused (before it prepares anything)."""
        with self._changed:
            if self._studio_blocked():
                slot = self._busy_with()
                raise GenerationBusy(f"The server's model is busy: {slot.holder} has been generating on it for "
                                     f"{time.monotonic() - slot.since:.0f} s. Try again when it is done.")

    def leaving(self, holder: str) -> None:
        """``holder`` is giving its slot back (it stops within a frame): the next one waits for
        it instead of being told the model is busy. Nothing happens if ``holder`` has none."""
        with self._changed:
            for slot in self._slots:
                if slot.holder == holder and not slot.leaving:
                    slot.leaving = True
                    return

    def give_back(self, holder: str) -> None:
        with self._changed:
            for index, slot in enumerate(self._slots):
                if slot.holder == holder:
                    del self._slots[index]
                    break
            self._changed.notify_all()

    def _full(self) -> bool:
        return len(self._slots) >= self.capacity

    def _studio_blocked(self) -> bool:
        """Every slot is a studio's that is not leaving: no slot frees up soon."""
        return self._full() and all(slot.holder != TASK and not slot.leaving for slot in self._slots)

    def _busy_with(self) -> _Slot:
        return min(self._slots, key=lambda slot: slot.since)
