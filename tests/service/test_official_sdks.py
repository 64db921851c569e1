"""The official Runware Python SDKs, unchanged, pointed at a local `dia-studio serve`: each
generates Dia2 audio over its transports. The two packages are both the module `runware`, so
each runs in its own process with its own folder on the path (tests/run.sh installs them into
.sdk/ from their locks; the releases are pyproject.toml's dependency groups of their names)."""

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from tests.service.server_process import REPO, ServerProcess, running_server

SDK_DIR = REPO / ".sdk"
SDKS = ("runware-sdk", "runware")
CLIENTS = Path(__file__).parent / "sdk"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    for package in SDKS:
        assert (SDK_DIR / package / "runware").is_dir(), f"run tests/run.sh once: it installs {package} into .sdk/"
    with running_server(tmp_path_factory.mktemp("sdk")) as process:
        yield process


def _run_client(package: str, *args: str, env: dict[str, str] | None = None) -> list[dict]:
    finished = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=240,
                              env={**os.environ, "PYTHONPATH": str(SDK_DIR / package), **(env or {})})
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout)


def _audio_of(server: ServerProcess, item: dict) -> bytes:
    if item.get("audioURL"):
        status, content, _ = server.request("GET", item["audioURL"][len(server.base):])
        assert status == 200
        return content
    return base64.b64decode(item["audioBase64Data"])


def _check(server: ServerProcess, items: list[dict], first_seed: int, count: int = 2) -> None:
    assert [item["seed"] for item in items] == list(range(first_seed, first_seed + count))
    assert len({item["audioUUID"] for item in items}) == count
    for item in items:
        audio, rate = soundfile.read(io.BytesIO(_audio_of(server, item)))
        assert rate == 44100 and len(audio) > rate // 4


@pytest.mark.parametrize("transport, delivery, output_type", [
    ("rest", "sync", "URL"), ("rest", "async", "URL"), ("rest", "async", "base64Data"),
    ("websocket", "sync", "URL"), ("websocket", "async", "URL"),
])
def test_runware_sdk_generates_dia2_audio(server, transport, delivery, output_type):
    items = _run_client("runware-sdk", str(CLIENTS / "runware_sdk_client.py"), server.base, transport, delivery,
                        output_type)
    _check(server, items, first_seed=21)


@pytest.mark.parametrize(("delivery", "count"), [("sync", 2), ("async", 1), ("async", 3)])
def test_the_older_runware_sdk_generates_dia2_audio_over_websocket(server, delivery, count):
    """Async, that SDK adds up the success items of every getResponse (a result sent twice came back
    twice) and waits for one item with an audioUUID per result (a reply with fewer kept it waiting
    for its poll timeout, 30 s): that wait is made endless here, so a short reply hangs the test."""
    items = _run_client("runware", str(CLIENTS / "runware_client.py"), server.base.replace("http", "ws") + "/v1",
                        delivery, str(count), env={"RUNWARE_VIDEO_INITIAL_TIMEOUT": "3600000"})
    _check(server, items, first_seed=31, count=count)
