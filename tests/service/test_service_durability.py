"""What the server survives: kill -9 mid-task and a restart, a full queue, a model that does not
load, and keys: each against a real `dia-studio serve` process on loopback."""

import time
import uuid

from app.main import main
from tests.service.server_process import ServerProcess

LONG_SCRIPT = " ".join(["[S1] This is a longer line that takes the model a little while.",
                        "[S2] And here is the answer to it, spoken slowly."] * 2)


def _async_task(seed: int, results: int = 1, script: str = LONG_SCRIPT) -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": script},
            "seed": seed, "numberResults": results, "deliveryMethod": "async", "outputType": "URL",
            "outputFormat": "WAV"}


def _poll(server: ServerProcess, task_uuid: str) -> list[dict]:
    return server.post([{"taskType": "getResponse", "taskUUID": task_uuid}])[1]["data"]


def _wait_for(server: ServerProcess, task_uuid: str, condition, timeout: float = 240.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = _poll(server, task_uuid)
        if condition(items):
            return items
        time.sleep(0.05)
    raise AssertionError(f"task {task_uuid} did not get there: {items}\n{server.log}")


def _successes(items: list[dict]) -> list[dict]:
    return [item for item in items if item["status"] == "success"]


def test_kill_9_mid_task_loses_nothing_finished_and_the_rest_runs_after_a_restart(tmp_path):
    data = tmp_path / "data"
    server = ServerProcess(data)
    server.wait_until_ready()
    interrupted = _async_task(seed=100, results=4)
    queued = _async_task(seed=200, script="[S1] Still waiting in line.")
    server.post([interrupted, queued])
    first = _wait_for(server, interrupted["taskUUID"], lambda items: len(_successes(items)) >= 1)
    server.kill()
    kept = _successes(first)

    server = ServerProcess(data)
    try:
        server.wait_until_ready()
        items = _wait_for(server, interrupted["taskUUID"], lambda items: len(_successes(items)) == 4)
        assert [item["seed"] for item in items] == [100, 101, 102, 103]
        assert items[: len(kept)] == [{**item, "audioURL": item["audioURL"].replace(
            item["audioURL"].split("/v1/")[0], server.base)} for item in kept]
        for item in items:
            assert server.get(item["audioURL"][len(server.base):])[0] == 200
        (done,) = _wait_for(server, queued["taskUUID"], lambda items: len(_successes(items)) == 1)
        assert done["seed"] == 200
        assert "re-running 1 task(s) interrupted" in server.log
        assert not list((data / "media").glob(".*.part"))
    finally:
        server.stop()


def test_a_full_queue_answers_429_and_a_bad_model_keeps_health_at_503(tmp_path):
    server = ServerProcess(tmp_path / "data", "--queue-limit", "1")
    try:
        server.wait_until_ready()
        status, _ = server.post([_async_task(seed=1, results=4)])
        assert status == 200
        status, answer = server.post([_async_task(seed=2)])
        assert status == 429 and answer["errors"][0]["code"] == "queueCapacityExceeded"
    finally:
        server.stop()

    broken = ServerProcess(tmp_path / "broken", model=str(tmp_path / "no-such-model"))
    try:
        broken.wait_until_failed()
        status, body = broken.get("/health")
        assert status == 503 and b"no-such-model" in body
        status, answer = broken.post([{**_async_task(seed=1), "deliveryMethod": "sync"}])
        assert status == 503 and answer["errors"][0]["code"] == "modelUnavailable"
    finally:
        broken.stop()


def test_api_keys_are_required_when_given_and_off_loopback(tmp_path, capsys):
    keys = tmp_path / "keys.txt"
    keys.write_text("# one key per line\nsecret-one\nsecret-two\n")
    server = ServerProcess(tmp_path / "data", "--api-keys", str(keys))
    ping = {"taskType": "ping", "ping": True}
    try:
        server.wait_until_listening()
        status, answer = server.post([ping])
        assert status == 401 and answer["errors"][0]["code"] == "invalidApiKey"
        assert answer["errors"][0]["taskType"] == "authentication"
        assert server.post([ping], key="wrong")[0] == 401
        assert server.post([ping], key="secret-two")[0] == 200
        status, answer = server.post([{"taskType": "authentication", "apiKey": "secret-one"}, ping])
        assert status == 200 and answer["data"][1] == {"taskType": "ping", "pong": True}
    finally:
        server.stop()
    assert main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "open")]) == 2
    assert "give --api-keys FILE" in capsys.readouterr().err
