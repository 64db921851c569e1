"""The audioInference tasks the server holds, each parsed and checked once, on arrival.

The request handler validates a task and hands that object here; the runner and the result
items use it as it is. The store keeps what a restart needs to rebuild it: the task as sent and
its parameters with the seed chosen on arrival. So a task stored by an earlier run of the server
is rebuilt from its row (once, the first time it is needed), with that seed, not a new one.

A task is held only until it has run: its body may carry its voices' audio (a base64 WAV of a few
seconds is half a megabyte), and the soak (bench/soak.py) saw a server's memory grow by what a
thousand tasks' bodies held. A settled task asked for again (getResponse's items) is rebuilt from
its row, and not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from core.params import GenerationParams
from core.service.protocol import AudioInferenceTask, parse_task
from core.service.task_store import StoredTask

KEPT = 1024  # tasks queued or running kept parsed; an older one is rebuilt from its row if asked for again
UNSETTLED = ("queued", "running")


class ValidatedTasks:
    def __init__(self, kept: int = KEPT):
        self._kept = kept
        self._tasks: OrderedDict[str, AudioInferenceTask] = OrderedDict()
        # Those let go lately: a row read as unsettled just before its task settled must not bring
        # it back (it would be held until the bound pushed it out). Bounded as the tasks are.
        self._settled: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()  # the event loop keeps, the runner's threads read

    def __len__(self) -> int:
        return len(self._tasks)

    def keep(self, task: AudioInferenceTask) -> None:
        """A task just stored, as validated (its seed is the one stored with it)."""
        with self._lock:
            if task.task_uuid in self._settled:
                return
            self._tasks[task.task_uuid] = task
            self._tasks.move_to_end(task.task_uuid)
            while len(self._tasks) > self._kept:
                self._tasks.popitem(last=False)

    def of(self, stored: StoredTask) -> AudioInferenceTask:
        """The validated task of a stored row; raises ApiError if a row from before no longer
        passes (it fails, as any task refused by the model would)."""
        with self._lock:
            task = self._tasks.get(stored.task_uuid)
            if task is not None:
                self._tasks.move_to_end(stored.task_uuid)
        if task is None:
            task = rebuilt(stored)
            if stored.status in UNSETTLED:
                self.keep(task)
        return task

    def settled(self, task_uuid: str) -> None:
        """The task has run: let go of it."""
        with self._lock:
            self._tasks.pop(task_uuid, None)
            self._settled[task_uuid] = None
            while len(self._settled) > self._kept:
                self._settled.popitem(last=False)


def rebuilt(stored: StoredTask) -> AudioInferenceTask:
    """A stored task as it was validated on arrival: the seed is the one chosen then."""
    task = parse_task(stored.body)
    assert isinstance(task, AudioInferenceTask)
    return replace(task, params=GenerationParams.from_dict(stored.params))
