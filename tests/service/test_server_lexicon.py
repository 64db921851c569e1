"""`dia-studio serve --lexicon`: every task's and live take's words are read by the server's
lexicon; a live take's word messages name the words as the client wrote them."""

from __future__ import annotations

import base64
import json
import random
import uuid

import io

import numpy as np
import pytest
import soundfile

from core.dia2.events import GenerationRequest
from core.params import GenerationParams
from tests.service.live_client import LiveClient
from tests.service.server_process import ServerProcess

WRITTEN = "[S1] Hello Nguyen, welcome to New York. [S2] SQL time!"
SPOKEN = "[S1] Hello Win, welcome to Noo Yawk. [S2] sequel time!"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lexicon")
    (folder / "names.csv").write_text("written,spoken\nNguyen,Win\nNew York,Noo Yawk\nSQL,sequel\n")
    process = ServerProcess(folder / "data", "--lexicon", str(folder / "names.csv"))
    process.wait_until_ready()
    yield process
    process.stop()


def offline(runtime, script: str, seed: int):
    (take,) = runtime.render(GenerationRequest(script, GenerationParams(seed=seed)))
    return take


def test_a_task_is_read_by_the_servers_lexicon(server, tiny_runtime):
    task = {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 5, "speech": {"text": WRITTEN},
            "outputType": "base64Data", "outputFormat": "WAV"}
    status, answer = server.post([task])
    assert status == 200, answer
    (item,) = answer["data"]
    audio, rate = soundfile.read(io.BytesIO(base64.b64decode(item["audioBase64Data"])), dtype="float32")
    expected = offline(tiny_runtime, SPOKEN, 5).audio
    assert rate == 24000 and len(audio) == len(expected)
    gain = float(audio @ expected / (expected @ expected))  # the export keeps peaks under its ceiling
    assert np.max(np.abs(audio - gain * expected)) <= 2 / 32767  # the respelling's take, as 16-bit WAV


def test_a_live_take_is_read_by_it_and_its_words_are_told_as_written(server, tiny_runtime):
    with LiveClient(server.base) as client:
        assert client.start(seed=9)["type"] == "ready"
        rng, at = random.Random(2), 0
        while at < len(WRITTEN):  # phrases and words cut anywhere across the messages
            size = rng.choice([1, 2, 3, 7])
            client.text(WRITTEN[at:at + size])
            at += size
        client.send("end")
        heard = client.hear()
    take = offline(tiny_runtime, SPOKEN, 9)
    assert np.array_equal(heard.samples(), take.audio)
    assert [message["text"] for message in heard.of_type("word")] == [
        "Hello", "Nguyen,", "welcome", "to", "New", "York.", "SQL", "time!"]
    assert json.dumps(heard.done)  # ended as any take
