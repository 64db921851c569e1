"""Voices through the task API: mediaStorage uploads, inputs.audios as a mediaUUID, data URI,
Base64 or URL, each checked as the window checks a voice; Whisper hears a voice once."""

import base64
import functools
import http.server
import threading
import uuid
from pathlib import Path

import pytest

from core.service.safe_fetch import FetchError, check_destination, request
from tests.scripted_whisper import scripted_whisper_checkpoint
from tests.service.server_process import running_server

VOICES = Path(__file__).parents[1] / "fixtures" / "voices"
SPEAKER1 = (VOICES / "speaker1_24k_mono.wav").read_bytes()
SPEAKER2 = (VOICES / "speaker2_48k.ogg").read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("voices")
    whisper = scripted_whisper_checkpoint(["Hello", "there", "friend"], folder / "whisper.pt")
    with running_server(folder, "--whisper-model", str(whisper), "--allow-private-urls") as process:
        yield process


@pytest.fixture(scope="module")
def file_server():
    """A plain HTTP server on loopback handing out the voice fixtures."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(VOICES))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def _upload(server, media) -> dict:
    status, answer = server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "upload",
                                   "media": media}])
    return answer


def _speak(server, audios, **fields) -> tuple[int, dict]:
    return server.post([{"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "seed": 2,
                         "speech": {"text": "[S1] Nice to meet you. [S2] Likewise."}, "outputType": "base64Data",
                         "outputFormat": "WAV", "inputs": {"audios": audios}, **fields}])


def test_an_uploaded_voice_is_used_by_its_uuid_and_transcribed_once(server):
    (stored,) = _upload(server, _b64(SPEAKER1))["data"]
    assert stored["operation"] == "upload" and uuid.UUID(stored["mediaUUID"])
    status, content, _ = server.request("GET", stored["mediaURL"][len(server.base):])
    assert status == 200 and content == SPEAKER1
    for _ in range(2):
        status, answer = _speak(server, [stored["mediaUUID"]])
        assert status == 200 and answer["data"][0]["status"] == "success"
    # The same audio inline, as a data URI: the entry already kept, its words too.
    status, answer = _speak(server, ["data:audio/wav;base64," + _b64(SPEAKER1)])
    assert status == 200
    assert server.log.count(f"voice {stored['mediaUUID']} transcribed") == 1


def test_two_voices_from_a_url_and_base64(server, file_server):
    status, answer = _speak(server, [f"{file_server}/speaker1_24k_mono.wav", _b64(SPEAKER2)])
    assert status == 200 and answer["data"][0]["status"] == "success"


@pytest.mark.parametrize("audios, words", [
    (["SILENCE"], "silent"),
    (["NOT_AUDIO"], "inputs.audios[0]"),
    (["SPEAKER1", "SILENCE"], "inputs.audios[1]"),
    (["SPEAKER1", "SPEAKER1", "SPEAKER1"], "1 to 2 voices"),
    ([str(uuid.uuid4())], "no stored media"),
    (["not base64 at all!"], "neither a URL"),
    (["URL:missing.wav"], "HTTP 404"),
])
def test_a_voice_that_cannot_serve_is_an_error_naming_that_input(server, file_server, audios, words):
    values = {"SILENCE": _b64((VOICES / "silence_3s.wav").read_bytes()),
              "NOT_AUDIO": _b64((VOICES / "not_audio.wav").read_bytes()), "SPEAKER1": _b64(SPEAKER1)}
    audios = [f"{file_server}/{a[4:]}" if a.startswith("URL:") else values.get(a, a) for a in audios]
    status, answer = _speak(server, audios)
    assert status == 400 and answer["data"] == []
    (error,) = answer["errors"]
    assert words in error["message"] and error["parameter"].startswith("inputs.audios")


def test_a_deleted_voice_is_gone(server):
    (stored,) = _upload(server, _b64(SPEAKER2))["data"]
    _, answer = server.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "delete",
                              "media": stored["mediaUUID"]}])
    assert answer["data"][0] == {"taskType": "mediaStorage", "taskUUID": answer["data"][0]["taskUUID"],
                                 "operation": "delete", "mediaUUID": stored["mediaUUID"]}
    assert server.get(stored["mediaURL"][len(server.base):])[0] == 404
    status, answer = _speak(server, [stored["mediaUUID"]])
    assert status == 400 and "no stored media" in answer["errors"][0]["message"]


def test_an_upload_that_is_not_a_voice_is_refused(server):
    answer = _upload(server, _b64(b"plain text, not audio" * 100))
    assert answer["errors"][0]["code"] == "invalidMedia" and answer["errors"][0]["taskType"] == "mediaStorage"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/voice.wav", "http://10.0.0.1/voice.wav",
                                 "http://[::1]/voice.wav", "http://169.254.169.254/latest/meta-data"])
def test_requests_to_this_machine_or_private_networks_are_refused_by_default(url):
    with pytest.raises(FetchError, match="this machine or a private network"):
        request("GET", url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://10.0.0.1/put", "http://[::1]/hook"])
def test_a_webhook_or_upload_url_to_this_machine_or_private_networks_is_refused_before_it_is_due(url):
    with pytest.raises(FetchError, match="this machine or a private network"):
        check_destination(url)
    check_destination(url, allow_private=True)


def test_a_webhook_or_upload_host_that_does_not_resolve_yet_passes_the_check():
    check_destination("http://nowhere.invalid/hook")  # it may by the time it is due: the deliveries retry


@pytest.mark.parametrize("url", ["http://[::1/voice.wav", "http://host:port/voice.wav", "ftp://host/voice.wav"])
def test_a_malformed_url_is_refused_as_not_http(url):
    for check in (lambda: request("GET", url), lambda: check_destination(url)):
        with pytest.raises(FetchError, match="not an http"):
            check()


def test_a_reply_larger_than_the_limit_is_refused(file_server):
    with pytest.raises(FetchError, match="the most taken is 1000"):
        request("GET", f"{file_server}/speaker1_24k_mono.wav", max_bytes=1000, allow_private=True)
