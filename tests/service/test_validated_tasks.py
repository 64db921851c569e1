"""A task is parsed once, on arrival: the runner and the result items use that object, and a
task stored by an earlier run of the server is rebuilt from its row with the seed chosen then."""

import asyncio
import uuid

import pytest

from core.service import validated_tasks
from core.service.protocol import parse_task
from core.service.task_store import TaskStore
from core.service.validated_tasks import ValidatedTasks


def _stored(tmp_path, body: dict):
    store = TaskStore(tmp_path)
    task = parse_task(body)
    store.submit(task.task_uuid, task.body, task.params.to_dict(), task.params.number_results, queue_limit=10)
    return task, store.task(task.task_uuid)


def _body() -> dict:  # no seed: one is chosen on arrival
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": "[S1] Hello."}}


def test_a_kept_task_is_used_as_validated_not_parsed_again(tmp_path, monkeypatch):
    task, stored = _stored(tmp_path, _body())
    tasks = ValidatedTasks()
    tasks.keep(task)
    monkeypatch.setattr(validated_tasks, "parse_task", lambda body: pytest.fail("parsed again"))
    assert tasks.of(stored) is task


def test_a_task_from_before_a_restart_is_rebuilt_once_with_its_arrival_seed(tmp_path, monkeypatch):
    task, stored = _stored(tmp_path, _body())
    tasks = ValidatedTasks()  # a new server: nothing kept
    rebuilt = tasks.of(stored)
    assert rebuilt.params == task.params and rebuilt.script == task.script
    monkeypatch.setattr(validated_tasks, "parse_task", lambda body: pytest.fail("parsed again"))
    assert tasks.of(stored) is rebuilt


def test_the_oldest_task_is_forgotten_past_the_bound_and_rebuilt_if_asked_for(tmp_path):
    first, stored = _stored(tmp_path, _body())
    tasks = ValidatedTasks(kept=1)
    tasks.keep(first)
    tasks.keep(parse_task(_body()))
    again = tasks.of(stored)
    assert again is not first and again.params == first.params


def test_a_task_that_has_run_is_let_go_and_rebuilt_unkept_when_asked_for(tmp_path):
    """Its body may carry its voices' audio: a thousand tasks held grew a server's memory."""
    store = TaskStore(tmp_path)
    task = parse_task(_body())
    store.submit(task.task_uuid, task.body, task.params.to_dict(), task.params.number_results, queue_limit=10)
    tasks = ValidatedTasks()
    tasks.keep(task)
    store.set_status(task.task_uuid, "done")
    tasks.settled(task.task_uuid)
    assert len(tasks) == 0
    again = tasks.of(store.task(task.task_uuid))  # getResponse's items
    assert again.params == task.params and len(tasks) == 0


def test_a_row_read_before_its_task_settled_does_not_bring_the_task_back(tmp_path):
    """getResponse read the row while the task ran; the task settled before the row was rebuilt."""
    task, stored = _stored(tmp_path, _body())
    assert stored.status == "queued"
    tasks = ValidatedTasks(kept=2)
    tasks.settled(task.task_uuid)
    assert tasks.of(stored).params == task.params and len(tasks) == 0
    for _ in range(3):  # the settled ones are remembered within the same bound
        tasks.settled(str(uuid.uuid4()))
    tasks.of(stored)
    assert len(tasks) == 1


def test_the_runner_lets_go_of_each_task_it_has_run(tiny_service):
    task = _body() | {"outputType": "URL", "outputFormat": "WAV"}
    answer = asyncio.run(tiny_service.handle([task], None, "http://127.0.0.1/"))
    assert [item["status"] for item in answer.data] == ["success"]
    assert len(tiny_service.runner.tasks) == 0
