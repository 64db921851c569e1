"""The retries of webhooks and uploads, on a clock the test moves: the back-off's seconds pass at
once. An in-process service with the tiny model; real receivers (or none) on loopback."""

import asyncio
import contextlib
import logging
import threading
import urllib.parse
import urllib.request
import uuid

import pytest
import uvicorn

from core.service.http_app import create_app

from core.service.task_runner import TaskRunner
from core.service.task_service import ServiceConfig, TaskService
from core.service.task_store import TaskStore
from core.service.voice_inputs import FetchPolicy
from tests.service.manual_clock import ManualClock
from tests.service.receiver import Receiver
from tests.service.server_process import free_port

STEP_S = 0.1  # how far the clock moves at a time


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def serve(tmp_path, tiny_engine, clock):
    services = []

    def serve(**config) -> TaskService:
        store = TaskStore(tmp_path / f"data-{len(services)}")
        runner = TaskRunner(store)
        service = TaskService(store, runner, ServiceConfig(fetch=FetchPolicy(allow_private=True), **config), clock)
        service.start()
        runner.model_ready(tiny_engine)
        services.append(service)
        return service

    yield serve
    for service in services:
        service.stop()


def _submit(service: TaskService, **fields) -> dict:
    task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 4,
            "speech": {"text": "[S1] Delivered to you."}, "outputFormat": "FLAC", **fields}
    answer = asyncio.run(service.handle([task], None, "http://127.0.0.1/"))
    assert not answer.errors
    return task


def _advance_until(clock: ManualClock, done, most_s: float = 60.0) -> None:
    moved = 0.0
    while not done():
        assert moved < most_s, "not done after a minute of the clock"
        clock.advance(STEP_S)
        moved += STEP_S


def test_a_failing_webhook_is_retried_with_backoff_until_it_answers_2xx(serve, clock):
    receiver = Receiver(failures=2, clock=clock.time)
    try:
        _submit(serve(), webhookURL=receiver.url)
        receiver.wait_for(1)  # the first attempt: as soon as the result is made
        _advance_until(clock, lambda: len(receiver.calls) >= 3)
        calls = receiver.calls
        assert len(calls) == 3
        gaps = [later["at"] - earlier["at"] for earlier, later in zip(calls, calls[1:])]
        assert gaps[0] >= 0.9 and gaps[1] >= 1.9  # 1 s, then 2 s
        for _ in range(15):
            clock.advance(STEP_S)
        assert len(receiver.calls) == 3  # delivered: no more attempts
    finally:
        receiver.close()


def test_a_failed_upload_is_reported_on_its_result_which_stays_retrievable(serve, clock, caplog):
    caplog.set_level(logging.INFO, logger="dia_studio.service")
    service = serve(retry_deliveries_for_s=2)
    task = _submit(service, uploadEndpoint=f"http://127.0.0.1:{free_port()}/nowhere", deliveryMethod="async")

    def upload_status():
        items = service.items_of(task["taskUUID"])
        return items[0].get("uploadStatus")

    _advance_until(clock, lambda: upload_status() == "failed")
    (item,) = service.items_of(task["taskUUID"])
    assert item["status"] == "success" and item["uploadStatus"] == "failed"
    assert item["uploadError"]["code"] == "uploadFailed" and "could not be reached" in item["uploadError"]["message"]
    assert not {"code", "error"} & set(item)
    with _served_over_http(service) as base:
        with urllib.request.urlopen(base + urllib.parse.urlsplit(item["audioURL"]).path, timeout=30) as answer:
            assert answer.status == 200 and answer.read()
    assert caplog.text.count("upload of") >= 2  # retried, every attempt logged


@contextlib.contextmanager
def _served_over_http(service: TaskService):
    """The service's HTTP app on a loopback port, as serve runs it; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=free_port(),
                                           log_level="warning", http="h11", loop="asyncio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the HTTP server did not start"
            threading.Event().wait(0.02)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)
