"""The task runner with several workers (a cluster's replicas) and generations that are lost
with the process making them: each task runs once at a time, a lost one runs again from the
results it kept, and one lost too often is failed with why."""

import asyncio
import threading
import time
import uuid
from dataclasses import replace

import pytest

from core.engine.engine import EngineFailed
from core.service.task_runner import EXPIRY_SWEEP_S, MAX_LOSSES, TaskRunner
from core.service.task_service import ServiceConfig, TaskService
from core.service.task_store import TaskStore


class _LosingEngine:
    """The tiny model's engine, whose generations are lost (as a killed replica's) ``losses``
    times, each after its first take and a little of the second (the cluster's engine gives the
    take cut short, as streamed, before it raises); ``together`` generations must have started at
    once or they fail (and then take the one model in turn, as replicas would each take their own)."""

    def __init__(self, engine, losses: int = 0, together: int = 1):
        self._engine = engine
        self.losses = losses
        self._barrier = threading.Barrier(together, timeout=60)
        self.seeds_asked: list[int] = []
        self._model = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def generate(self, request, cancel=None):
        self.seeds_asked.append(request.params.seed)
        self._barrier.wait()
        with self._model:
            events = self._engine.generate(request, cancel)
            if self.losses > 0:
                self.losses -= 1
                first = yield from _until_first_take(events)
                events.close()
                yield replace(first, take=first.take + 1, seed=first.seed + 1, audio=first.audio[:100],
                              complete=False, notices=["Cut short: the replica generating it was lost."])
                raise EngineFailed("the replica's process died (killed)")
            yield from events


def _until_first_take(events):
    from core.dia2.events import TakeResult

    for event in events:
        yield event
        if isinstance(event, TakeResult):
            return event


def _served(tmp_path, engine, workers: int) -> TaskService:
    store = TaskStore(tmp_path)
    runner = TaskRunner(store, workers=workers)
    service = TaskService(store, runner, ServiceConfig())
    service.start()
    runner.model_ready(engine)
    return service


def _run(service: TaskService, *tasks: dict) -> dict:
    answer = asyncio.run(service.handle(list(tasks), None, "http://127.0.0.1/"))
    return answer.envelope()


def _task(seed: int, results: int = 1) -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": "[S1] Hello there."},
            "seed": seed, "numberResults": results, "deliveryMethod": "sync", "outputFormat": "WAV"}


def test_two_workers_run_two_tasks_at_once(tmp_path, tiny_engine):
    service = _served(tmp_path, _LosingEngine(tiny_engine, together=2), workers=2)
    try:
        answer = _run(service, _task(1), _task(2))  # each waits at the barrier for the other
    finally:
        service.stop()
    assert not answer.get("errors") and sorted(item["seed"] for item in answer["data"]) == [1, 2]


def test_a_lost_generation_runs_again_from_the_results_it_kept(tmp_path, tiny_engine):
    engine = _LosingEngine(tiny_engine, losses=1)
    service = _served(tmp_path, engine, workers=1)
    task = _task(40, results=3)
    try:
        answer = _run(service, task)
    finally:
        service.stop()
    assert not answer.get("errors")
    assert [item["seed"] for item in answer["data"]] == [40, 41, 42]
    assert engine.seeds_asked == [40, 41]  # the second run made only the two takes missing
    # The take cut short is not a result: 41 is the one made again, whole.
    assert min(result.duration_s for result in service.store.results(task["taskUUID"])) > 0.5


@pytest.mark.parametrize("workers", [1, 2])
def test_a_task_lost_every_time_is_failed_with_why(tmp_path, tiny_engine, workers):
    engine = _LosingEngine(tiny_engine, losses=10 * MAX_LOSSES)
    service = _served(tmp_path, engine, workers=workers)
    try:
        answer = _run(service, _task(7, results=4))
    finally:
        service.stop()
    (error,) = answer["errors"]
    assert error["code"] == "inferenceError"
    assert f"lost {MAX_LOSSES} times" in error["message"] and "the replica's process died" in error["message"]
    assert len(engine.seeds_asked) == MAX_LOSSES


def test_expired_results_are_swept_once_an_interval_however_many_workers_wait(tmp_path):
    store = TaskStore(tmp_path)
    sweeps = []
    expire = store.expire
    store.expire = lambda: sweeps.append(1) or expire()
    runner = TaskRunner(store, workers=4)
    now = [100.0]
    runner.clock = lambda: now[0]
    runner.start()  # no model: every worker waits, sweeping at each wake

    def woken_until(count: int) -> None:
        deadline = time.monotonic() + 10
        while len(sweeps) < count and time.monotonic() < deadline:
            runner.wake()
            time.sleep(0.02)

    try:
        woken_until(1)
        for _ in range(10):
            runner.wake()
            time.sleep(0.02)
        assert len(sweeps) == 1  # the clock stood still: forty wakes of idle workers, one sweep
        now[0] += EXPIRY_SWEEP_S
        woken_until(2)
        assert len(sweeps) == 2
    finally:
        runner.stop()
