"""Time as the service's delivery retries see it: the wall clock, unless a test gives one it
moves on itself (so a back-off of seconds costs the test none)."""

from __future__ import annotations

import threading
import time


class Clock:
    def time(self) -> float:
        """Seconds since the epoch: what the store's delivery rows are stamped with."""
        return time.time()

    def wait(self, wake: threading.Condition, seconds: float) -> None:
        """Called holding ``wake``: sleep until it is notified or ``seconds`` have passed."""
        wake.wait(timeout=seconds)
