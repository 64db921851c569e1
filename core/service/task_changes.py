"""When what is known of a task changes, and who is waiting to hear it.

Each task has a version, bumped by the runner's threads (a result, its end), the deliveries'
thread and the expiry sweep. A request waiting on the event loop (a sync submit, a WebSocket's
results) is woken by the bump itself, not by looking again every few milliseconds.

Versions are what the task service's built items are checked against, so no number is ever given
twice: a change takes the next of one count for all tasks. A task whose results have all expired
changes no more; its version is forgotten (a server running for days would otherwise keep one
for every task it ever ran), and a version not kept reads as a number no change gives, which moves
at each forgetting.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager


class TaskChanges:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # bumps come from several threads
        self._versions: dict[str, int] = {}
        self._changes = 0  # every change counted, so that a version is never given twice
        self._forgotten = 0
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def __len__(self) -> int:
        """How many tasks' versions are kept."""
        return len(self._versions)

    def version(self, task_uuid: str) -> int:
        """1 and up once the task changed; never changed, or forgotten: 0, then -1, -2, … (one lower
        at each forgetting)."""
        with self._lock:
            return self._versions.get(task_uuid, -self._forgotten)

    def touch(self, task_uuid: str) -> None:
        """What is known of the task changed: bump its version and wake its watchers."""
        with self._lock:
            self._changes += 1
            self._versions[task_uuid] = self._changes
            watchers = list(self._watchers.get(task_uuid, ()))
        _wake(watchers)

    def forget(self, task_uuid: str) -> None:
        """The task changes no more (its results have all expired): its version goes, unless a
        request is watching it."""
        with self._lock:
            if task_uuid not in self._watchers and self._versions.pop(task_uuid, None) is not None:
                self._forgotten += 1

    def touch_all(self) -> None:
        """Something every waiter must look at changed (the model could not be loaded)."""
        with self._lock:
            watchers = [watcher for each in self._watchers.values() for watcher in each]
        _wake(watchers)

    @contextmanager
    def watching(self, task_uuid: str):
        """An asyncio.Event set at each change of the task, from the moment this is entered (a
        change between reading the version and waiting is not missed); call on the event loop."""
        watcher = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._watchers.setdefault(task_uuid, set()).add(watcher)
        try:
            yield watcher[1]
        finally:
            with self._lock:
                watchers = self._watchers.get(task_uuid)
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[task_uuid]


def _wake(watchers) -> None:
    for loop, event in watchers:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # its loop has closed: nobody is waiting there any more
            pass
