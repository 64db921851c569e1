"""What the soak's clients did and what they were given: each action with its outcome, each task
sent (and whether the server accepted it), each finished result as a client saw it. The end-of-run
checks (``soak_audit``) and the windows (``soak_windows``) read it; the clients' threads write it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

# The error codes a soak expects: a live take refused while another one has the model, and the
# connections the kill -9 cuts (the clients retry them once the server is back).
EXPECTED_CODES = frozenset({"modelBusy", "connectionLost"})


@dataclass(frozen=True)
class Outcome:
    """One action of a client: a task sent and seen through, a live take, a WebSocket session, a
    poll of an older task."""

    kind: str
    variant: str
    started: float  # seconds since the soak began
    ended: float
    ok: bool
    results: int = 0  # results it saw finished
    codes: tuple[str, ...] = ()  # the errors it met, expected ones included

    @property
    def latency_s(self) -> float:
        return self.ended - self.started


@dataclass
class SentTask:
    task_uuid: str
    kind: str
    body: dict[str, Any]
    sent_at: float
    accepted: bool = False  # the server answered 200 (an acknowledgement or the results)
    webhook: str | None = None  # the receiver's token
    upload: str | None = None

    @property
    def number_results(self) -> int:
        return self.body.get("numberResults", 1)

    @property
    def output_type(self) -> str:
        return self.body.get("outputType", "URL")

    @property
    def ttl_s(self) -> float | None:
        return self.body.get("ttl")


@dataclass(frozen=True)
class SeenResult:
    """A finished result as a client was given it."""

    task_uuid: str
    audio_uuid: str
    seed: int | None  # None when only its audioUUID was seen (a webhook's id list)
    sha256: str | None  # of its audio; None when not fetched
    at: float
    life: int  # the server process that made it (0 before the kill -9, 1 after)


@dataclass
class Ledger:
    actions: list[Outcome] = field(default_factory=list)
    tasks: dict[str, SentTask] = field(default_factory=dict)
    seen: dict[str, SeenResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # odd things worth a line in the report
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self.actions.append(outcome)

    def sent(self, task: SentTask) -> None:
        with self._lock:
            self.tasks[task.task_uuid] = task

    def accepted(self, task_uuid: str) -> None:
        with self._lock:
            self.tasks[task_uuid].accepted = True

    def saw(self, result: SeenResult) -> None:
        with self._lock:
            self.seen.setdefault(result.audio_uuid, result)

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)

    def finished_tasks(self) -> list[SentTask]:
        """Tasks with every result seen, for the getResponse pollers."""
        with self._lock:
            counts: dict[str, int] = {}
            for result in self.seen.values():
                counts[result.task_uuid] = counts.get(result.task_uuid, 0) + 1
            return [task for task in self.tasks.values() if counts.get(task.task_uuid) == task.number_results]

    def seen_of(self, task_uuid: str) -> list[SeenResult]:
        with self._lock:
            return [result for result in self.seen.values() if result.task_uuid == task_uuid]
