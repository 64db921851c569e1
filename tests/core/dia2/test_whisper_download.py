"""A named Whisper model's first download: from a real HTTP server on this machine, at the address
Whisper's own table gives the model (monkeypatched to point here), through the real loading code.
It lands whole and checked or not at all, and it can be stopped (the studio closing)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import whisper

from core.dia2.transcribe import (
    TranscriptionModelUnavailable,
    TranscriptionStopped,
    WhisperTranscriber,
    downloaded_models,
)
from core.engine.in_process import InProcessEngine
from tests.scripted_whisper import TINY_DIMS, scripted_whisper_checkpoint

PIECE = 64 * 1024


@contextmanager
def serving(data: bytes, seconds_per_piece: float = 0.0, claimed_length: int | None = None):
    """An HTTP server sending ``data`` at any path, a piece at a time (``sent``: one has gone), as
    ``claimed_length`` bytes (a connection cut part way when it claims more)."""
    sent = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(claimed_length or len(data)))
            self.end_headers()
            for start in range(0, len(data), PIECE):
                try:
                    self.wfile.write(data[start:start + PIECE])
                    self.wfile.flush()
                except OSError:  # the client went away
                    return
                sent.set()
                time.sleep(seconds_per_piece)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", sent
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> bytes:
    return scripted_whisper_checkpoint(["Hello"], tmp_path_factory.mktemp("whisper") / "hello.pt").read_bytes()


def _as_tiny(monkeypatch, server: str, data: bytes, checksum: str | None = None) -> None:
    """Whisper's table sends "tiny" to ``server``; the address names the file's SHA-256, as Whisper's do."""
    checksum = checksum or hashlib.sha256(data).hexdigest()
    monkeypatch.setitem(whisper._MODELS, "tiny", f"{server}/models/{checksum}/tiny.pt")
    # the heads that time words, in Whisper's form, for the scripted model's one layer of two heads
    heads = base64.b85encode(gzip.compress(np.ones((TINY_DIMS.n_text_layer, TINY_DIMS.n_text_head), bool).tobytes()))
    monkeypatch.setitem(whisper._ALIGNMENT_HEADS, "tiny", heads)
    for variable in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(variable, raising=False)


def test_a_first_download_lands_whole_and_loads(tmp_path, monkeypatch, checkpoint):
    with serving(checkpoint) as (server, _):
        _as_tiny(monkeypatch, server, checkpoint)
        transcriber = WhisperTranscriber("tiny", device="cpu", download_root=tmp_path)
        transcriber.load()
    assert transcriber.is_loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.pt"]
    assert downloaded_models(tmp_path) == {"tiny": len(checkpoint)}
    words = transcriber.transcribe(np.zeros(16000, dtype=np.float32), 16000)
    assert [word.text for word in words] == ["Hello"]


def test_a_damaged_download_is_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch, checkpoint):
    with serving(checkpoint[:-10] + b"0123456789") as (server, _):
        _as_tiny(monkeypatch, server, checkpoint, checksum=hashlib.sha256(checkpoint).hexdigest())
        with pytest.raises(TranscriptionModelUnavailable, match="'tiny' arrived damaged"):
            WhisperTranscriber("tiny", device="cpu", download_root=tmp_path).load()
    assert list(tmp_path.iterdir()) == []


def test_a_download_cut_off_part_way_says_so_and_leaves_nothing(tmp_path, monkeypatch, checkpoint):
    with serving(checkpoint[:PIECE], claimed_length=len(checkpoint)) as (server, _):
        _as_tiny(monkeypatch, server, checkpoint)
        with pytest.raises(TranscriptionModelUnavailable, match="could not be downloaded"):
            WhisperTranscriber("tiny", device="cpu", download_root=tmp_path).load()
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_hold_the_model_is_a_clear_error(tmp_path, monkeypatch, checkpoint):
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("a file where the folder should be")
    with serving(checkpoint) as (server, _):
        _as_tiny(monkeypatch, server, checkpoint)
        with pytest.raises(TranscriptionModelUnavailable) as raised:
            WhisperTranscriber("tiny", device="cpu", download_root=in_the_way).load()
    message = str(raised.value)
    assert f"could not be saved in {in_the_way}" in message and "Connect to the internet" not in message


def _stopped_while_downloading(monkeypatch, load, stop) -> BaseException | None:
    """Run ``load`` (of "tiny") on a thread and call ``stop`` once a piece of the file has arrived;
    what ``load`` raised. It must end within a second of ``stop``: the whole file takes 2 s."""
    data = bytes(range(256)) * (40 * PIECE // 256)
    with serving(data, seconds_per_piece=0.05) as (server, sent):
        _as_tiny(monkeypatch, server, data)
        raised = []

        def loading() -> None:
            try:
                load()
            except BaseException as error:  # noqa: BLE001 - the test reads what it was
                raised.append(error)

        thread = threading.Thread(target=loading)
        thread.start()
        assert sent.wait(10)
        started = time.monotonic()
        stop()
        thread.join(10)
        assert not thread.is_alive() and time.monotonic() - started < 1.0
    return raised[0] if raised else None


def test_a_download_stops_within_a_moment_and_leaves_nothing(tmp_path, monkeypatch):
    transcriber = WhisperTranscriber("tiny", device="cpu", download_root=tmp_path)
    raised = _stopped_while_downloading(monkeypatch, transcriber.load, transcriber.stop)
    assert isinstance(raised, TranscriptionStopped) and "'tiny' was stopped" in str(raised)
    assert list(tmp_path.iterdir()) == [] and not transcriber.is_loaded
    with pytest.raises(TranscriptionStopped):  # at once: the server is gone, no connection is tried
        transcriber.load()


def test_closing_an_engine_stops_the_download_its_transcription_waits_for(tmp_path, monkeypatch):
    """The studio closing during a voice's first transcription ends at once, not after the download."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # Whisper's own cache folder: tmp_path/whisper
    engine = InProcessEngine(speech_model="tiny")
    raised = _stopped_while_downloading(
        monkeypatch, lambda: engine.transcribe(np.zeros(16000, dtype=np.float32), 16000), engine.close)
    assert isinstance(raised, TranscriptionStopped)
    assert list((tmp_path / "whisper").iterdir()) == []
