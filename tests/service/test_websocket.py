"""The task API over a WebSocket at /v1, with a plain `websockets` client against a real server:
authentication first, pings answered while a generation runs, one frame per result, resume."""

import json
import uuid

import pytest
from websockets.sync.client import connect

from tests.service.server_process import running_server

LONG = " ".join(["[S1] A line that keeps the model busy for a moment.", "[S2] And a reply to it."] * 2)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("ws")) as process:
        yield process


def _url(server) -> str:
    return server.base.replace("http://", "ws://") + "/v1"


def _send(socket, *tasks) -> None:
    socket.send(json.dumps(list(tasks)))


def _receive(socket) -> dict:
    return json.loads(socket.recv(timeout=120))


def _authenticate(socket, session: str | None = None) -> str:
    _send(socket, {"taskType": "authentication", "apiKey": "k"} | ({"connectionSessionUUID": session} if session else {}))
    (item,) = _receive(socket)["data"]
    return item["connectionSessionUUID"]


def _task(results: int, script: str = LONG) -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": script}, "seed": 50,
            "numberResults": results, "outputType": "URL", "outputFormat": "WAV"}


def test_a_connection_must_authenticate_first(server):
    with connect(_url(server)) as socket:
        _send(socket, {"taskType": "ping", "ping": True})
        (error,) = _receive(socket)["errors"]
        assert error["code"] == "invalidApiKey" and error["taskType"] == "authentication"


def test_pings_are_answered_while_a_generation_runs_and_each_result_has_its_frame(server):
    with connect(_url(server)) as socket:
        uuid.UUID(_authenticate(socket))
        task = _task(results=2)
        _send(socket, task)
        _send(socket, {"taskType": "ping", "ping": True})
        assert _receive(socket) == {"data": [{"taskType": "ping", "pong": True}]}
        frames = [_receive(socket) for _ in range(2)]
        assert [len(frame["data"]) for frame in frames] == [1, 1]
        assert [frame["data"][0]["seed"] for frame in frames] == [50, 51]
        assert all(frame["data"][0]["taskUUID"] == task["taskUUID"] for frame in frames)


def test_a_bad_task_gets_an_error_frame_and_the_connection_goes_on(server):
    with connect(_url(server)) as socket:
        _authenticate(socket)
        _send(socket, {**_task(results=1), "CFGScale": 99})
        (error,) = _receive(socket)["errors"]
        assert error["code"] == "invalidCFGScale"
        socket.send("not json")
        assert _receive(socket)["errors"][0]["code"] == "invalidRequestBody"
        _send(socket, {"taskType": "ping", "ping": True})
        assert _receive(socket)["data"] == [{"taskType": "ping", "pong": True}]


def test_a_resumed_session_gets_the_results_it_missed_once(server):
    task = _task(results=3)
    with connect(_url(server)) as socket:
        session = _authenticate(socket)
        _send(socket, task)
        first = _receive(socket)["data"][0]
    with connect(_url(server)) as socket:
        assert _authenticate(socket, session) == session
        rest = [_receive(socket)["data"][0] for _ in range(2)]
    assert [item["resultIndex"] for item in [first, *rest]] == [0, 1, 2]
    assert len({item["audioUUID"] for item in [first, *rest]}) == 3
