"""A bounded load test on loopback: concurrent clients submitting, and others polling hard, against
one real server. Every task is answered with its own result, and the server keeps serving."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.service.server_process import running_server

CLIENTS = 6
POLLERS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("load")) as process:
        yield process


def test_concurrent_clients_each_get_their_results_while_others_poll(server):
    stop = threading.Event()
    polls = []

    def poll(task_uuid: str) -> None:
        count = 0
        while not stop.is_set() and count < 2000:  # bounded in count and in time
            status, _ = server.post([{"taskType": "getResponse", "taskUUID": task_uuid}])
            assert status in (200, 404)
            count += 1
        polls.append(count)

    def client(index: int) -> tuple[int, float, list[dict]]:
        task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 1000 + index,
                "speech": {"text": f"[S1] Client number {index} speaking."}, "outputType": "URL",
                "outputFormat": "WAV"}
        status, answer = server.post([task])
        return status, time.monotonic(), answer.get("data", [])

    with ThreadPoolExecutor(CLIENTS + POLLERS) as pool:
        pollers = [pool.submit(poll, str(uuid.uuid4())) for _ in range(POLLERS)]
        answers = list(pool.map(client, range(CLIENTS)))
        stop.set()
        for poller in pollers:
            poller.result(timeout=60)
    assert [status for status, _, _ in answers] == [200] * CLIENTS
    assert sorted(items[0]["seed"] for _, _, items in answers) == [1000 + i for i in range(CLIENTS)]
    assert sum(polls) > CLIENTS  # the pollers really polled meanwhile
    assert server.post([{"taskType": "ping", "ping": True}])[0] == 200
