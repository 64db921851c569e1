"""The task API over real HTTP: a `dia-studio serve` process with the tiny checkpoint on
loopback, spoken to with urllib; results decoded by independent readers (libsndfile, ffprobe)."""

import base64
import http.client
import io
import json
import subprocess
import time
import uuid

import pytest
import soundfile

from tests.core.dia2.golden import CHECKPOINT
from tests.service.server_process import running_server

SCRIPT = "[S1] Hello there. [S2] Hi!"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("service"), "--cost-per-minute", "0.5") as process:
        yield process


def _task(**fields):
    return {"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "model": "runware:dia2@2b",
            "speech": {"text": SCRIPT}, **fields}


def _decoded(content: bytes) -> tuple:
    audio, rate = soundfile.read(io.BytesIO(content))
    return audio, rate


def _ffprobe_duration(content: bytes, tmp_path, suffix: str) -> float:
    path = tmp_path / f"probe{suffix}"
    path.write_bytes(content)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


def test_the_start_up_names_the_model_folder_served_and_the_model_ids_it_answers_to(server):
    assert f"serving {CHECKPOINT} as model runware:dia2@2b or dia2-2b on {server.base}/v1" in server.log


def test_a_sync_task_answers_with_one_result_per_take_each_with_its_seed(server, tmp_path):
    task = _task(seed=40, numberResults=2, outputType="base64Data", outputFormat="FLAC")
    status, answer = server.post([task])
    assert status == 200 and "errors" not in answer
    items = answer["data"]
    assert [item["seed"] for item in items] == [40, 41]
    assert len({item["audioUUID"] for item in items}) == 2
    for item in items:
        assert item["taskUUID"] == task["taskUUID"] and item["taskType"] == "audioInference"
        assert item["status"] == "success" and not {"code", "error", "errorId"} & set(item)
        audio, rate = _decoded(base64.b64decode(item["audioBase64Data"]))
        assert rate == 24000 and len(audio) > 24000 // 2 and abs(audio).max() > 0.01


def test_a_url_result_is_served_and_decodes(server, tmp_path):
    task = _task(seed=3, outputType="URL", outputFormat="MP3", audioSettings={"sampleRate": 44100, "bitrate": 128})
    status, answer = server.post([task])
    assert status == 200
    (item,) = answer["data"]
    assert item["audioURL"].startswith(server.base + "/v1/media/") and item["audioURL"].endswith(".mp3")
    status, content, headers = server.request("GET", item["audioURL"][len(server.base):])
    assert status == 200 and headers["content-type"] == "audio/mpeg"
    audio, rate = _decoded(content)
    assert rate == 44100 and audio.ndim == 2
    assert abs(_ffprobe_duration(content, tmp_path, ".mp3") - len(audio) / rate) < 0.1


def test_a_data_uri_result_names_its_type(server):
    status, answer = server.post([_task(seed=1, outputType="dataURI", outputFormat="WAV")])
    (item,) = answer["data"]
    header, _, payload = item["audioDataURI"].partition(",")
    assert header == "data:audio/wav;base64"
    assert _decoded(base64.b64decode(payload))[1] == 24000


def test_async_is_acknowledged_at_once_and_get_response_reports_as_it_goes(server):
    task = _task(seed=9, numberResults=2, deliveryMethod="async")
    status, answer = server.post([task])
    assert status == 200 and answer["data"] == [{"taskType": "audioInference", "taskUUID": task["taskUUID"]}]
    seen_statuses = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, polled = server.post([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        items = polled["data"]
        seen_statuses |= {item["status"] for item in items}
        assert all(item["taskType"] == "audioInference" and item["taskUUID"] == task["taskUUID"] for item in items)
        if [item["status"] for item in items] == ["success", "success"]:
            break
        time.sleep(0.1)
    assert [item["seed"] for item in items] == [9, 10]
    assert "processing" in seen_statuses


def test_a_retried_task_uuid_never_runs_twice_and_a_different_body_conflicts(server):
    task = _task(seed=5)
    _, first = server.post([task])
    _, again = server.post([task])
    assert again["data"][0]["audioUUID"] == first["data"][0]["audioUUID"]
    status, conflict = server.post([{**task, "seed": 6}])
    assert status == 409 and conflict["errors"][0]["code"] == "conflictTaskUUID"
    assert conflict["errors"][0]["taskUUID"] == task["taskUUID"]


@pytest.mark.parametrize("task_fields, code, parameter, words", [
    ({"CFGScale": 0.5}, "invalidCFGScale", "CFGScale", "a number from 1 to 30"),
    ({"settings": {"topK": 0}}, "invalidSettingsTopK", "settings.topK", "from 1 to 500"),
    ({"numberResults": 5}, "invalidNumberResults", "numberResults", "from 1 to 4"),
    ({"outputFormat": "WAV", "audioSettings": {"bitrate": 128}}, "invalidAudioSettings", "audioSettings", "WAV"),
    ({"outputFormat": "AAC"}, "invalidOutputFormat", "outputFormat", "MP3, WAV, FLAC or OGG"),
    ({"outputType": "file"}, "invalidOutputType", "outputType", "URL, base64Data, dataURI"),
    ({"ttl": 10}, "invalidTtl", "ttl", "60 or more"),
    ({"positivePrompt": "hi"}, "unknownParameter", "positivePrompt", "not a field of an audioInference task"),
    ({"settings": {"foo": 1}}, "unknownParameter", "settings.foo",
     "settings takes temperature, audioTemperature, topK, includePrefix."),
    ({"inputs": {"audios": []}}, "invalidInputsAudios", "inputs.audios", "1 to 2 voices"),
    ({"numberResults": 2, "uploadEndpoint": "https://storage.example.com/take.mp3"}, "incompatibleParameters",
     "uploadEndpoint", "every result would be PUT to the same URL"),
    # This server runs without --allow-private-urls: a delivery that could never be sent is refused now.
    ({"webhookURL": "http://127.0.0.1:9/hook"}, "invalidWebhookURL", "webhookURL", "private network"),
    ({"uploadEndpoint": "http://10.0.0.1/take.mp3"}, "invalidUploadEndpoint", "uploadEndpoint", "private network"),
    ({"webhookURL": "http://[::1/hook"}, "invalidWebhookURL", "webhookURL", "not an http(s) URL"),
    ({"speech": {"text": ""}}, "missingSpeechText", "speech.text", "script"),
    ({"speech": {"text": "x" * 3001}}, "invalidSpeechText", "speech.text", "3000"),
    ({"speech": {"text": '<break time="1s"/>'}}, "invalidSpeechText", "speech.text", "no words"),
    ({"model": "dia2-1b"}, "invalidModel", "model", "runware:dia2@2b"),
    ({"taskUUID": "not-a-uuid"}, "invalidTaskUUID", "taskUUID", "UUID"),
])
def test_a_bad_field_is_an_error_item_naming_the_parameter(server, task_fields, code, parameter, words):
    task = _task(**task_fields)
    status, answer = server.post([task])
    assert status == 400 and answer["data"] == []
    (error,) = answer["errors"]
    assert (error["code"], error["parameter"], error["taskType"]) == (code, parameter, "audioInference")
    assert words in error["message"]


@pytest.mark.parametrize("raw, words", [
    (b"[{", "not valid JSON"),
    (b'{"taskType": "ping"}', "JSON array"),
    (b"[]", "no task"),
    (b"\xff\xfe", "not valid JSON"),
])
def test_a_malformed_body_is_refused_and_the_server_goes_on(server, raw, words):
    status, answer = server.post(None, raw=raw)
    assert status == 400 and answer["errors"][0]["code"] == "invalidRequestBody"
    assert words in answer["errors"][0]["message"]
    assert server.post([{"taskType": "ping", "ping": True}]) == (200, {"data": [{"taskType": "ping", "pong": True}]})


def test_an_oversized_body_is_refused_before_it_is_read(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", "/v1")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(64 * 1024 * 1024))
    connection.endheaders()  # no body follows: the answer must not wait for it
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["errors"][0]["code"] == "requestTooLarge"
    connection.close()


def test_a_mixed_batch_runs_the_good_tasks_and_reports_the_bad(server):
    status, answer = server.post([{"taskType": "ping", "ping": True}, {"taskType": "imageInference"},
                                  "not a task", {"taskType": "getResponse", "taskUUID": str(uuid.uuid4())}])
    assert status == 200 and answer["data"] == [{"taskType": "ping", "pong": True}]
    assert [error["code"] for error in answer["errors"]] == ["unsupportedTaskType", "invalidTask",
                                                              "taskFailedOrNotFound"]


def test_an_unknown_media_id_is_not_found(server):
    assert server.get(f"/v1/media/{uuid.uuid4()}.mp3")[0] == 404
    assert server.get("/v1/media/..%2Ftasks.sqlite3")[0] == 404


def test_authentication_answers_with_a_session(server):
    status, answer = server.post([{"taskType": "authentication", "apiKey": "anything"}])
    (item,) = answer["data"]
    assert status == 200 and item["taskType"] == "authentication" and uuid.UUID(item["connectionSessionUUID"])


def test_include_cost_reports_the_configured_rate_and_the_compute_time(server):
    _, answer = server.post([_task(seed=8, includeCost=True, outputType="base64Data", outputFormat="WAV")])
    (item,) = answer["data"]
    audio, rate = _decoded(base64.b64decode(item["audioBase64Data"]))
    assert item["cost"] == pytest.approx(0.5 * len(audio) / rate / 60, abs=1e-5)
    assert item["computeSeconds"] > 0
    _, answer = server.post([_task(seed=8)])
    assert "cost" not in answer["data"][0]


def test_a_client_that_leaves_mid_request_loses_nothing(server):
    task = _task(seed=12, numberResults=2, outputType="URL", outputFormat="WAV",
                 speech={"text": " ".join(["[S1] A longer line, to be sure the client leaves first."] * 3)})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/v1", json.dumps([task]), {"Content-Type": "application/json"})
    connection.close()  # gone before the answer
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, answer = server.post([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        if status == 200 and [item["status"] for item in answer["data"]] == ["success", "success"]:
            break
        time.sleep(0.1)
    assert [item["seed"] for item in answer["data"]] == [12, 13]
