"""/v1/engine as the server sees it: the model shared with the task runner (a studio goes ahead of
the queued tasks, an API task waits for a studio instead of failing), a studio that vanishes
gives the model back at once, voices kept across a restart, a studio of another protocol refused."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import uuid

import numpy as np
import pytest
from websockets.sync.client import connect

from core.dia2.events import AudioChunk, GenerationRequest, TakeResult
from core.engine import wire
from core.params import GenerationParams
from tests.service.remote_engine import KEY, engine_server
from tests.service.server_process import REPO

LONG = " ".join(["[S1] A line that keeps the model busy for a moment.", "[S2] And a reply to it."] * 3)


def _task(script: str = "[S1] Hello there.", delivery: str = "sync") -> dict:
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": script}, "seed": 9,
            "outputFormat": "WAV", "deliveryMethod": delivery}


def _socket(server):
    return connect(server.url.replace("http://", "ws://") + wire.PATH, max_size=wire.MAX_MESSAGE_BYTES)


def _receive(socket) -> dict:
    while (message := wire.decode(socket.recv(timeout=60)))["type"] == "working":
        pass
    return message


def test_a_studio_that_vanishes_gives_the_model_back_at_once(remote_engine_server):
    """A studio killed with SIGKILL mid-generation (four long takes): its generation stops and
    an API task runs at once."""
    studio = subprocess.Popen([sys.executable, "-c", f"""
from core.dia2.events import AudioChunk, GenerationRequest
from core.engine.remote import RemoteEngine
from core.params import GenerationParams
engine = RemoteEngine({remote_engine_server.url!r}, {KEY!r})
engine.load("dia2-2b")
for event in engine.generate(GenerationRequest({LONG!r}, GenerationParams(seed=3, number_results=4))):
    if isinstance(event, AudioChunk):
        print("streaming", flush=True)
"""], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert studio.stdout.readline().strip() == "streaming"
        studio.send_signal(signal.SIGKILL)
        studio.wait(timeout=30)
    finally:
        studio.kill()
    status, answer = remote_engine_server.process.post([_task()], key=KEY)
    assert status == 200 and answer["data"][0]["status"] == "success"
    stopped = re.findall(r"engine: a studio at 127\.0\.0\.1's generation (was stopped|ended) after (\d) of 4",
                         remote_engine_server.process.log)
    assert stopped[-1] == ("was stopped", "0")  # given back within its first take


def _hello(socket) -> None:
    socket.send(json.dumps({"type": "hello", "protocol": wire.PROTOCOL, "apiKey": KEY}))
    assert _receive(socket)["type"] == "welcome"


def _generate(socket, script: str, params: GenerationParams) -> None:
    socket.send(json.dumps({"type": "generate", "script": script, "params": params.to_dict()}))


def _next_event(socket) -> dict:
    """The next message of a generation's stream (an audio chunk's samples frame skipped)."""
    while isinstance(frame := socket.recv(timeout=60), bytes) or wire.decode(frame)["type"] == "working":
        pass
    return wire.decode(frame)


def test_a_studio_that_cut_its_link_mid_generation_is_not_refused_by_its_own_old_generation(remote_engine_server):
    """A studio whose link is cut while it generates connects again and asks at once: the server,
    still stopping the old generation (within a frame), lets the new one wait for its slot instead
    of telling the studio the model is busy with the studio's own generation. The race is a frame
    wide, so it is run a few times."""
    for seed in range(5):
        with _socket(remote_engine_server) as cut:
            _hello(cut)
            _generate(cut, LONG, GenerationParams(seed=seed, number_results=4))
            while _next_event(cut)["type"] != "audio":
                pass
        with _socket(remote_engine_server) as again:
            _hello(again)
            _generate(again, "[S1] Hi.", GenerationParams(seed=seed))
            events = [_next_event(again)]
            assert events[0]["type"] != "error", events[0]
            while events[-1]["type"] != "done":
                events.append(_next_event(again))
            assert [event["type"] for event in events].count("take") == 1


def test_an_api_task_that_comes_while_a_studio_generates_waits_for_it(remote_engine_server):
    engine = remote_engine_server.engine()
    engine.load("dia2-2b")
    answer: dict = {}
    post = threading.Thread(target=lambda: answer.update(reply=remote_engine_server.process.post([_task()], key=KEY)))
    events = []
    for event in engine.generate(GenerationRequest(LONG, GenerationParams(seed=8))):
        events.append(event)
        if isinstance(event, AudioChunk) and post.ident is None:  # once the studio has the model
            post.start()
    post.join()
    status, reply = answer["reply"]
    assert status == 200 and reply["data"][0]["status"] == "success"  # not a task failed on a busy model
    assert isinstance(events[-1], TakeResult) and events[-1].complete
    log = remote_engine_server.process.log
    assert log.rindex("'s generation ended after 1 of 1") < log.rindex(f"task {reply['data'][0]['taskUUID']} done")
    engine.close()


def test_a_studio_goes_ahead_of_the_tasks_still_queued(remote_engine_server):
    process = remote_engine_server.process
    first, second = _task(LONG, "async"), _task(delivery="async")
    for task in (first, second):
        assert process.post([task], key=KEY)[0] == 200
    engine = remote_engine_server.engine()
    engine.load("dia2-2b")
    takes = [e for e in engine.generate(GenerationRequest("[S1] Me first.", GenerationParams(seed=1)))
             if isinstance(e, TakeResult)]
    assert takes[0].complete
    log = process.log
    studio = log.rindex("'s generation ended after 1 of 1")
    assert f"task {second['taskUUID']} done" not in log[:studio]
    engine.close()
    _wait_done(process, second["taskUUID"])


def _wait_done(process, task_uuid: str) -> None:
    """Until the task has its result (the next test gets an idle model)."""
    while True:
        _, answer = process.post([{"taskType": "getResponse", "taskUUID": task_uuid}], key=KEY)
        if answer["data"][0]["status"] == "success":
            return
        threading.Event().wait(0.2)


def test_a_studio_of_another_protocol_version_is_told_which_this_server_speaks(remote_engine_server):
    with _socket(remote_engine_server) as socket:
        socket.send(json.dumps({"type": "hello", "protocol": 99, "apiKey": KEY}))
        reply = _receive(socket)
        assert reply["code"] == "unsupportedProtocol" and reply["protocol"] == wire.PROTOCOL
        assert "version 1 of the engine protocol; the studio sent version 99" in reply["message"]


def test_a_malformed_request_is_answered_and_the_connection_goes_on(remote_engine_server):
    with _socket(remote_engine_server) as socket:
        socket.send(json.dumps({"type": "hello", "protocol": wire.PROTOCOL, "apiKey": KEY}))
        assert _receive(socket)["type"] == "welcome"
        socket.send(json.dumps({"type": "generate", "script": "[S1] Hi.", "params": {"CFGScale": 99}}))
        reply = _receive(socket)
        assert reply["code"] == "invalidCFGScale" and reply["parameter"] == "CFGScale"
        socket.send(json.dumps({"type": "generate", "script": "[S1] Hi.", "voices": [{"sha256": "0" * 64}]}))
        assert _receive(socket)["code"] == "unknownVoice"
        socket.send(json.dumps({"type": "fly"}))
        assert _receive(socket)["code"] == "unsupportedMessage"
        socket.send(json.dumps({"type": "parse", "script": "[S1] Hi."}))
        assert _receive(socket)["type"] == "parsed"


@pytest.mark.slow
def test_voices_are_kept_across_a_restart(tmp_path):
    samples = (0.1 * np.sin(np.arange(48000) / 7)).astype(np.float32)
    digest = wire.voice_digest(samples)
    for run in range(2):
        with engine_server(tmp_path, tmp_path / "data") as server, _socket(server) as socket:
            socket.send(json.dumps({"type": "hello", "protocol": wire.PROTOCOL, "apiKey": KEY}))
            assert _receive(socket)["type"] == "welcome"
            socket.send(json.dumps({"type": "encodeVoice", "sha256": digest}))
            reply = _receive(socket)
            if run == 0:
                assert reply["type"] == "voiceUnknown"
                text, blob = wire.encode({"type": "encodeVoice", "sha256": digest}, (samples,))
                socket.send(text)
                socket.send(blob)
                reply = _receive(socket)
            assert reply["type"] == "voice"  # after the restart: known by its hash alone
            codes = wire.arrays_of(reply, socket.recv(timeout=60))[0]
            assert codes.shape[0] == 32 and codes.shape[1] > 0
