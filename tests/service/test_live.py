"""/v1/live against a real `dia-studio serve` on loopback (tiny checkpoint, a key file, a scripted
Whisper, a short idle timeout): a take fed in random pieces is the offline take sample for
sample, cancel, a client gone, a long pause, busy, bad settings, keys, the idle timeout."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soxr
from websockets.exceptions import ConnectionClosed

from core.dia2.events import GenerationRequest
from core.params import GenerationParams
from tests.scripted_whisper import scripted_whisper_checkpoint
from tests.service.live_client import Heard, LiveClient
from tests.service.server_process import ServerProcess

KEY = "live-key-1"
IDLE_S = 4.0
SCRIPT = "[S1] Are you coming to the rehearsal tonight? [S2] Only if you bring the good coffee."
VOICES = Path(__file__).parents[1] / "fixtures" / "voices"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    (folder / "keys.txt").write_text(f"{KEY}\n")
    scripted_whisper_checkpoint(["Hello", "there"], folder / "whisper.pt")
    process = ServerProcess(folder / "data", "--api-keys", str(folder / "keys.txt"), "--whisper-model",
                            str(folder / "whisper.pt"), "--live-idle-timeout", str(IDLE_S))
    try:
        process.wait_until_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture
def client(server):
    with LiveClient(server.base, bearer=KEY) as client:
        yield client


def offline(runtime, script: str, seed: int):
    (take,) = runtime.render(GenerationRequest(script, GenerationParams(seed=seed)))
    return take


def random_pieces(text: str, rng: random.Random) -> list[str]:
    pieces, at = [], 0
    while at < len(text):
        size = rng.choice([1, 1, 2, 3, 5, 8])
        pieces.append(text[at:at + size])
        at += size
    return pieces


def test_a_take_sent_in_random_pieces_at_random_moments_is_the_offline_take(client, tiny_runtime):
    ready = client.start(seed=21)
    assert ready["type"] == "ready" and ready["seed"] == 21
    assert (ready["outputFormat"], ready["sampleRate"]) == ("pcm_f32le", 24000)
    rng = random.Random(4)
    for piece in random_pieces(SCRIPT, rng):
        client.text(piece)
        time.sleep(rng.choice([0, 0, 0.01, 0.05]))
    client.send("end")
    heard = client.hear()

    take = offline(tiny_runtime, SCRIPT, 21)
    assert np.array_equal(heard.samples(), take.audio)
    assert [(m["text"], m["startS"]) for m in heard.of_type("word")] == [(w, round(s, 3)) for w, s in take.words]
    done = heard.done
    assert done["reason"] == "end" and done["seed"] == 21
    assert done["audioS"] == round(len(take.audio) / 24000, 3) and done["ttfaMs"] > 0 and done["stalledMs"] >= 0
    # The connection takes the next take.
    assert client.start(seed=22)["type"] == "ready"
    client.send("cancel")
    assert client.hear().done["reason"] == "cancelled"


def test_s16_at_another_rate_is_the_take_resampled(client, tiny_runtime):
    text = "[S1] Hello there, my friend."
    ready = client.start(seed=3, outputFormat="pcm_s16le", audioSettings={"sampleRate": 16000})
    assert (ready["outputFormat"], ready["sampleRate"]) == ("pcm_s16le", 16000)
    client.text(text)
    client.send("end")
    heard = client.hear()
    expected = np.clip(soxr.resample(offline(tiny_runtime, text, 3).audio, 24000, 16000, quality="VHQ"), -1, 1)
    got = heard.samples("pcm_s16le")
    assert len(got) == len(expected)
    assert np.max(np.abs(got / 32767.0 - expected)) <= 1 / 32767


def test_cancel_mid_stream_ends_with_what_was_made(client, tiny_runtime):
    client.start(seed=8)
    client.text(SCRIPT)  # no end: the take goes on while the text lasts
    heard = Heard()
    while not heard.audio:
        message = client.receive()
        if isinstance(message, bytes):
            heard.audio += message
    client.send("cancel")
    heard = client.hear(heard)
    assert heard.done["reason"] == "cancelled"
    whole = offline(tiny_runtime, SCRIPT, 8).audio
    made = heard.samples()
    assert 0 < len(made) < len(whole) and np.array_equal(made, whole[:len(made)])
    assert heard.done["audioS"] == round(len(made) / 24000, 3)


def test_a_client_gone_mid_stream_frees_the_model_at_once(server):
    client_program = textwrap.dedent(f"""
        import json, sys, time
        from websockets.sync.client import connect
        with connect({server.base.replace('http', 'ws') + '/v1/live'!r}) as socket:
            socket.send(json.dumps({{"type": "start", "apiKey": {KEY!r}}}))
            socket.send(json.dumps({{"type": "text", "text": {SCRIPT!r}}}))
            while not isinstance(socket.recv(), bytes):
                pass
            print("hearing", flush=True)
            time.sleep(600)
    """)
    gone = subprocess.Popen([sys.executable, "-c", client_program], stdout=subprocess.PIPE, text=True)
    try:
        assert gone.stdout.readline() == "hearing\n"
    finally:
        gone.kill()
        gone.wait()
    # Well inside the idle timeout: only the client's leaving can have freed the model.
    with LiveClient(server.base, bearer=KEY) as client:
        assert client.start(seed=1)["type"] == "ready"
        client.text("[S1] Hello there.")
        client.send("end")
        assert client.hear().done["reason"] == "end"


def test_text_after_a_long_pause_stalls_then_resumes_into_the_same_take(client, tiny_runtime):
    first, rest = "[S1] Are you coming to the rehearsal", " tonight? [S2] Only if you bring the good coffee."
    client.start(seed=13)
    client.text(first)
    heard = client.hear(until=("stall",))
    time.sleep(1.0)  # a model that thinks before going on
    client.text(rest)
    client.send("end")
    heard = client.hear(heard)
    kinds = [m["type"] for m in heard.messages]
    assert kinds.index("stall") < kinds.index("resume")
    assert max(m["stalledMs"] for m in heard.of_type("resume")) >= 1000
    assert heard.done["stalledMs"] >= 1000
    assert np.array_equal(heard.samples(), offline(tiny_runtime, first + rest, 13).audio)


def test_a_second_live_take_is_told_the_model_is_busy(server, client):
    assert client.start(seed=2)["type"] == "ready"
    with LiveClient(server.base, bearer=KEY) as other:
        refused = other.start(seed=2)
        assert refused["type"] == "error" and refused["code"] == "modelBusy"
        assert "a live take" in refused["message"]
        client.send("cancel")
        assert client.hear().done["reason"] == "cancelled"
        assert other.start(seed=2)["type"] == "ready"  # the model is free again, the same connection
        other.send("cancel")
        assert other.hear().done["reason"] == "cancelled"


@pytest.mark.parametrize("fields, code, parameter", [
    ({"CFGScale": 99}, "invalidCFGScale", "CFGScale"),
    ({"settings": {"topK": 0}}, "invalidSettingsTopK", "settings.topK"),
    ({"settings": {"foo": 1}}, "unknownParameter", "settings.foo"),
    ({"inputs": {"audios": []}}, "invalidInputsAudios", "inputs.audios"),
    ({"numberResults": 2}, "unknownParameter", "numberResults"),
    ({"speech": {"text": "hi"}}, "unknownParameter", "speech"),
    ({"outputFormat": "mp3"}, "invalidOutputFormat", "outputFormat"),
    ({"audioSettings": {"sampleRate": 12345}}, "invalidAudioSettingsSampleRate", "audioSettings.sampleRate"),
    ({"model": "dia2-1b"}, "invalidModel", "model"),
    ({"inputs": {"audios": ["not audio"]}}, "invalidInputsAudios", "inputs.audios[0]"),
])
def test_bad_settings_are_refused_by_field_and_the_connection_goes_on(client, fields, code, parameter):
    refused = client.start(**fields)
    assert (refused["type"], refused["code"], refused.get("parameter")) == ("error", code, parameter)
    assert client.start(seed=1)["type"] == "ready"
    client.send("cancel")
    assert client.hear().done["reason"] == "cancelled"


def test_messages_out_of_place_are_refused_and_change_nothing(client):
    client.text("[S1] Hello.")
    assert client.receive()["code"] == "invalidMessage"  # no take yet
    client.socket.send("not json")
    assert client.receive()["code"] == "invalidMessage"
    client.send("speak")
    assert client.receive()["code"] == "unsupportedMessage"
    client.send("ping")
    assert client.receive() == {"type": "pong"}
    client.start(seed=1)
    client.text("[S3] Who is this?")
    refused = client.receive()
    while isinstance(refused, bytes) or refused["type"] != "error":
        refused = client.receive()
    assert refused["code"] == "invalidSpeechText" and "[S3]" in refused["message"]
    client.text("[S1] Hello there.")
    client.send("end")
    heard = client.hear()
    assert heard.done["reason"] == "end" and [m["text"] for m in heard.of_type("word")] == ["Hello", "there."]


def test_a_wrong_or_missing_key_is_refused_and_the_connection_closed(server):
    for bearer, fields in ((None, {}), (None, {"apiKey": "wrong"}), ("wrong", {})):
        with LiveClient(server.base, bearer=bearer) as client:
            refused = client.start(**fields)
            assert (refused["type"], refused["code"]) == ("error", "invalidApiKey")
            with pytest.raises(ConnectionClosed):
                client.receive(timeout=30)
    with LiveClient(server.base) as client:
        assert client.start(apiKey=KEY)["type"] == "ready"
        client.send("cancel")
        assert client.hear().done["reason"] == "cancelled"


def test_text_that_stops_without_an_end_is_ended_after_the_idle_timeout(client, tiny_runtime):
    text = "[S1] Hello there, my friend."
    client.start(seed=5)
    client.text(text)
    heard = client.hear()
    assert heard.done["reason"] == "idle"
    assert np.array_equal(heard.samples(), offline(tiny_runtime, text, 5).audio)
    client.start(seed=5)  # no text at all: the take ends with nothing
    heard = client.hear()
    assert heard.done["reason"] == "idle" and heard.done["audioS"] < 0.5 and heard.done["ttfaMs"] is None


def test_a_voice_as_the_task_api_takes_it_speaks_the_take(client):
    voice = base64.b64encode((VOICES / "speaker1_24k_mono.wav").read_bytes()).decode()
    assert client.start(seed=9, inputs={"audios": [voice]})["type"] == "ready"
    client.text("[S1] Hello again.")
    client.send("end")
    heard = client.hear()
    assert heard.done["reason"] == "end" and len(heard.samples()) > 0


def test_the_api_description_names_the_live_endpoint(server):
    status, content = server.get("/openapi.json")
    description = json.loads(content)["info"]["description"]
    assert status == 200 and "`/v1/live`" in description and "pcm_s16le" in description
