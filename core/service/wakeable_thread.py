"""Daemon threads that sleep until woken (or a while has passed) and stop when asked: the shape
of the service's task runner (one thread per generation the server runs at once) and of its
deliveries."""

from __future__ import annotations

import threading


class WakeableThread:
    def __init__(self, name: str, threads: int = 1):
        self._wake = threading.Condition()
        self._stopping = False
        self._threads = [threading.Thread(target=self._run, name=name if threads == 1 else f"{name}-{number}",
                                          daemon=True) for number in range(1, threads + 1)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError
