"""`dia-studio serve --ray` answers as a single `dia-studio serve` does, from two Ray Serve
replicas: the same seeds give the same audio, tasks sent together run side by side, live takes
and studios' engines stream through, and a replica killed mid-task does not lose the task."""

from __future__ import annotations

import base64
import io
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest
import soundfile

from core.dia2.events import GenerationRequest, TakeResult
from core.engine.remote import RemoteEngine
from core.params import GenerationParams
from tests.cluster.conftest import replica_pids
from tests.core.dia2.golden import CHECKPOINT
from tests.service.live_client import LiveClient
from tests.service.server_process import REPO, free_port, running_server

pytestmark = pytest.mark.slow

LONG_SCRIPT = " ".join(["[S1] This is a longer line that takes the model a little while.",
                        "[S2] And here is the answer to it, spoken slowly."] * 2)


def _task(seed: int, script: str, results: int = 1, delivery: str = "sync") -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": script},
            "seed": seed, "numberResults": results, "outputFormat": "WAV", "outputType": "base64Data",
            "deliveryMethod": delivery}


def _audio(item: dict) -> np.ndarray:
    samples, _ = soundfile.read(io.BytesIO(base64.b64decode(item["audioBase64Data"])), dtype="float32")
    return samples


def _wait_for(server, task_uuid: str, results: int, timeout: float = 240.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = server.post([{"taskType": "getResponse", "taskUUID": task_uuid}])[1]["data"]
        if len([item for item in items if item["status"] == "success"]) >= results:
            return items
        time.sleep(0.1)
    raise AssertionError(f"task {task_uuid} did not reach {results} result(s): {items}\n{server.log[-4000:]}")


def test_the_cluster_answers_as_one_server_does_with_both_replicas_at_work(cluster_server, tmp_path):
    tasks = [_task(11, "[S1] Hello from the first replica."), _task(12, "[S2] And the second one.", results=2)]
    before = len(cluster_server.log)
    status, answer = cluster_server.post(tasks)
    assert status == 200 and not answer.get("errors")
    with running_server(tmp_path) as single:
        status, alone = single.post([{**task, "taskUUID": str(uuid.uuid4())} for task in tasks])
    assert status == 200
    assert [item["seed"] for item in answer["data"]] == [item["seed"] for item in alone["data"]] == [11, 12, 13]
    for on_cluster, on_one in zip(answer["data"], alone["data"]):
        assert np.array_equal(_audio(on_cluster), _audio(on_one))
    assert len(replica_pids(cluster_server.log[before:])) == 2  # sent together, made side by side


def test_a_live_take_streams_from_a_replica_and_a_refused_piece_is_refused_alone(cluster_server, tiny_runtime):
    script = "[S1] Speaking as the words arrive. [S2] Yes, right away."
    with LiveClient(cluster_server.base) as client:
        ready = client.start(seed=21)
        assert ready["type"] == "ready" and ready["seed"] == 21
        for number, word in enumerate(script.split(" ")):
            client.text(word + " ")
            if number == 2:
                client.text("[S3] ")  # no such speaker: refused, as one server refuses it
        client.send("end")
        heard = client.hear(until=("done",))
    (offline,) = tiny_runtime.render(GenerationRequest(script, GenerationParams(seed=21)))
    assert heard.error["code"] == "invalidSpeechText" and "The take goes on" in heard.error["message"]
    assert heard.done["reason"] == "end" and np.array_equal(heard.samples(), offline.audio)
    assert [m["text"] for m in heard.of_type("word")] == [word for word, _ in offline.words]


def test_a_studio_generates_on_the_cluster_through_its_remote_engine(cluster_server, tiny_runtime):
    engine = RemoteEngine(cluster_server.base, None)
    try:
        info = engine.load("dia2-2b")
        assert "2 Ray Serve replica(s)" in info.device
        request = GenerationRequest("[S1] A take for the studio.", GenerationParams(seed=5))
        (take,) = [event for event in engine.generate(request) if isinstance(event, TakeResult)]
    finally:
        engine.close()
    (offline,) = tiny_runtime.render(request)
    assert take.complete and np.array_equal(take.audio, offline.audio)


def test_a_replica_killed_mid_task_costs_the_task_nothing(cluster_server):
    task = _task(100, LONG_SCRIPT, results=4, delivery="async")
    assert cluster_server.post([task])[0] == 200
    _wait_for(cluster_server, task["taskUUID"], 1)
    killed = subprocess.run(["pkill", f"-{signal.SIGKILL.value}", "-f", "ServeReplica:dia-studio:Dia2Replica"])
    assert killed.returncode == 0  # both replicas, whichever was generating: Serve starts new ones
    items = _wait_for(cluster_server, task["taskUUID"], 4)
    assert [item["seed"] for item in items] == [100, 101, 102, 103]
    assert "its generation was lost" in cluster_server.log and "runs again" in cluster_server.log


def test_a_second_server_on_the_same_cluster_is_refused_and_the_first_goes_on(cluster_server, ray_address, tmp_path):
    second = subprocess.run([sys.executable, "-m", "app.main", "serve", "--ray", ray_address, "--model",
                             str(CHECKPOINT), "--port", str(free_port()), "--data-dir", str(tmp_path / "data")],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2 and "the task API already runs on this cluster" in second.stderr
    assert cluster_server.get("/health")[0] == 200
