"""A Clock for the deliveries that stands still until the test moves it on."""

from __future__ import annotations

import threading
import time

from core.service.clock import Clock


class ManualClock(Clock):
    def __init__(self, now: float = 1_000_000.0):
        self.now = now
        self._wake: threading.Condition | None = None
        self._waits = 0  # how often the deliverer has gone to sleep

    def time(self) -> float:
        return self.now

    def wait(self, wake: threading.Condition, seconds: float) -> None:
        self._wake = wake
        self._waits += 1
        wake.wait()  # until moved on (or woken by new work, or stopped)

    def advance(self, seconds: float, timeout: float = 30.0) -> None:
        """Move on, and return once the deliverer has looked at the new time (it is asleep again)."""
        while self._wake is None:  # not asleep yet once: it reads the time when it gets there
            time.sleep(0.01)
        with self._wake:  # the deliverer is asleep or busy outside: it reads the time after this
            self.now += seconds
            seen = self._waits
            self._wake.notify_all()
        deadline = time.monotonic() + timeout
        while self._waits == seen:
            assert time.monotonic() < deadline, "the deliverer did not go round"
            time.sleep(0.005)
