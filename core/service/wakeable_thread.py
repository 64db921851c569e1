"""A daemon thread that sleeps until it is woken (or a while has passed) and stops when asked:
the shape of the service's task runner and of its deliveries."""

from __future__ import annotations

import threading


class WakeableThread:
    def __init__(self, name: str):
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
