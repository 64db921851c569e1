"""The remote engine against a real `dia-studio serve` on loopback (tiny checkpoint): the same
stream as the runtime makes here, voices uploaded once, a cut or silent link reported after the
unfinished take and reconnected for the next call, and a specific message for every way of
pointing the studio at the wrong place."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.dia2.events import (AudioChunk, GenerationBusy, GenerationRequest, Progress, TakeResult,
                              TakeStarted, WordTiming)
from core.dia2.prefix import SpokenContext
from core.dia2.script import UnspeakableScript
from core.engine.choice import open_engine
from core.engine.engine import EngineFailed, EngineKind
from core.engine.remote import RemoteEngine, engine_url
from core.params import GenerationParams
from core.studio.voice_loading import voice_from_file, voice_prompts
from tests.core.dia2.golden import CHECKPOINT
from tests.service.remote_engine import HEARD, TcpProxy, memory_once_read
from tests.service.server_process import ServerProcess, free_port

VOICES = Path(__file__).parents[2] / "fixtures" / "voices"
LONG = " ".join(["[S1] A line that keeps the model busy for a moment.", "[S2] And a reply to it."] * 3)


@pytest.fixture
def engine(remote_engine_server):
    engine = remote_engine_server.engine()
    engine.load(str(CHECKPOINT))
    yield engine
    engine.close()


@pytest.fixture
def proxy(remote_engine_server):
    proxy = TcpProxy(remote_engine_server.process.port)
    yield proxy
    proxy.close()


def _comparable(events):
    """What the studio sees of a stream: every event, arrays as lists (dataclass == on arrays
    fails), progress without its compute time."""
    out = []
    for event in events:
        if isinstance(event, Progress):
            out.append(("progress", event.take, event.frames, event.audio_s))
        elif isinstance(event, AudioChunk):
            out.append(("chunk", event.take, event.start_s, event.samples.tolist(), event.codes.tolist()))
        elif isinstance(event, TakeResult):
            out.append(("take", event.take, event.seed, event.audio.tolist(), event.codes.tolist(), event.words,
                        event.complete, event.notices, event.model, event.params))
        else:
            out.append(event)
    return out


def test_a_remote_generation_with_voices_and_context_streams_what_the_runtime_makes_here(engine, tiny_runtime):
    assert engine.kind is EngineKind.REMOTE and engine.info.name == tiny_runtime.name
    assert engine.sample_rate == tiny_runtime.sample_rate
    # The voices' words are heard by the server's Whisper, through the studio's own voice loading.
    voices = [voice_from_file(VOICES / name, engine)[0] for name in ("speaker1_24k_mono.wav", "speaker2_48k.ogg")]
    assert [word.text for word in voices[0].words] == HEARD
    before = GenerationRequest("[S1] Hello there. [S2] Hi, how are you?", GenerationParams(seed=11))
    (earlier,) = [e for e in engine.generate(before) if isinstance(e, TakeResult)]
    context = SpokenContext(torch.from_numpy(earlier.codes), before.script, tuple(s for _, s in earlier.words))

    def request(runtime):
        return GenerationRequest("[S1] Fine, thanks. [S2] Good to hear it.", GenerationParams(seed=7),
                                 voice_prompts(runtime, voices), context)

    remote = list(engine.generate(request(engine)))
    local = list(tiny_runtime.generate(request(tiny_runtime)))

    assert _comparable(remote) == _comparable(local)
    takes = [e for e in remote if isinstance(e, TakeResult)]
    assert [t.seed for t in takes] == [7] and takes[0].complete and len(takes[0].audio)
    assert any(isinstance(e, WordTiming) for e in remote)


def test_a_voice_goes_up_once_then_only_its_name(remote_engine_server, proxy, tiny_runtime):
    engine = remote_engine_server.engine(proxy.url)
    engine.load("dia2-2b")
    (voice, _) = voice_from_file(VOICES / "speaker1_16k.flac", engine)
    audio_bytes = 4 * round(voice.audio.duration_s * tiny_runtime.sample_rate)  # float32 at the model's rate

    def sent(action):
        before = proxy.sent_to_server
        result = action()
        return proxy.sent_to_server - before, result

    first, prompts = sent(lambda: voice_prompts(engine, [voice]))
    again, prompts_again = sent(lambda: voice_prompts(engine, [voice]))
    assert first > audio_bytes and again < 1024  # the second time: the hash alone
    assert torch.equal(prompts[0].codes, prompts_again[0].codes)
    assert torch.equal(prompts[0].codes, voice_prompts(tiny_runtime, [voice])[0].codes)

    request = GenerationRequest("[S1] Hello again.", GenerationParams(seed=3), prompts_again)
    generation, events = sent(lambda: list(engine.generate(request)))
    assert generation < 1024  # the voice by its name, not its codes
    assert any(isinstance(e, TakeResult) and e.complete for e in events)

    # Another connection (another studio, or this one after a restart) with the same voice:
    # the server knows it still.
    other = remote_engine_server.engine(proxy.url)
    elsewhere, _ = sent(lambda: voice_prompts(other, [voice]))
    assert elsewhere < 4096 and proxy.connections == 2
    other.close()
    engine.close()


def test_a_network_cut_mid_stream_keeps_what_was_streamed_and_the_next_call_connects_again(remote_engine_server,
                                                                                             proxy, tiny_runtime):
    engine = remote_engine_server.engine(proxy.url)
    engine.load("dia2-2b")
    request = GenerationRequest(LONG, GenerationParams(seed=21, number_results=4))
    events, failure = [], None
    chunks = 0
    try:
        for event in engine.generate(request):
            events.append(event)
            chunks += isinstance(event, AudioChunk)
            if chunks == 3:
                proxy.cut()
    except EngineFailed as error:
        failure = error
    assert failure is not None and "connection to http://127.0.0.1" in str(failure)
    assert "connects again" in str(failure)
    kept = events[-1]
    assert isinstance(kept, TakeResult) and not kept.complete and kept.take == 0 and kept.seed == 21
    streamed = [e for e in events[:-1] if isinstance(e, AudioChunk)]
    assert len(streamed) >= 3
    np.testing.assert_array_equal(kept.audio, np.concatenate([e.samples for e in streamed]))
    assert "lost during the generation" in kept.notices[0]
    # What was kept is what the runtime makes here, as far as it went.
    local = []
    for event in tiny_runtime.generate(GenerationRequest(LONG, GenerationParams(seed=21))):
        if isinstance(event, AudioChunk):
            local.append(event)
        if len(local) == len(streamed):
            break
    np.testing.assert_array_equal(kept.audio, np.concatenate([e.samples for e in local]))
    np.testing.assert_array_equal(kept.codes, np.concatenate([e.codes for e in local], axis=1))

    # The next call connects again (the server gave its model back when the line went).
    again = [e for e in engine.generate(GenerationRequest("[S1] Hello.", GenerationParams(seed=2)))
             if isinstance(e, TakeResult)]
    assert again[0].complete and proxy.connections == 2
    engine.close()


def test_a_connection_cut_while_idle_is_replaced_unnoticed(remote_engine_server, proxy):
    engine = remote_engine_server.engine(proxy.url)
    engine.load("dia2-2b")
    proxy.cut()
    engine.parse("[S1] Hello.")
    assert proxy.connections == 2
    engine.close()


def test_a_link_gone_silent_fails_instead_of_hanging(remote_engine_server, proxy):
    engine = remote_engine_server.engine(proxy.url, silence_s=2.0)
    engine.load("dia2-2b")
    events = []
    with pytest.raises(EngineFailed, match="no word from the server for 2 s"):
        for event in engine.generate(GenerationRequest(LONG, GenerationParams(seed=4, number_results=4))):
            events.append(event)
            if isinstance(event, AudioChunk):
                proxy.freeze()
    assert isinstance(events[-1], TakeResult) and not events[-1].complete
    proxy.cut()
    proxy.thaw()
    engine.parse("[S1] Hello.")  # a new connection
    engine.close()
    free_again(remote_engine_server)


def free_again(server) -> None:
    """Wait until the shared server has heard that a cut client's generation is gone and let go of
    its model (within a frame once it hears; a loaded machine may take a moment to hear), so the
    next test finds the model free."""
    engine = server.engine()
    engine.load("dia2-2b")
    deadline = time.monotonic() + 30
    while True:
        try:
            list(engine.generate(GenerationRequest("[S1] Hi.", GenerationParams(seed=1))))
            break
        except GenerationBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    engine.close()


def test_cancel_ends_the_take_with_what_was_made_and_the_connection_goes_on(engine):
    cancel = threading.Event()
    events = []
    for event in engine.generate(GenerationRequest(LONG, GenerationParams(seed=5, number_results=4)), cancel):
        events.append(event)
        if isinstance(event, AudioChunk):
            cancel.set()
    takes = [e for e in events if isinstance(e, TakeResult)]
    assert len(takes) == 1 and not takes[0].complete and len(takes[0].audio) > 0
    assert sum(isinstance(e, TakeStarted) for e in events) == 1
    after = [e for e in engine.generate(GenerationRequest("[S1] Hi.", GenerationParams(seed=1)))
             if isinstance(e, TakeResult)]
    assert after[0].complete


def test_a_second_studio_is_told_the_model_is_busy(remote_engine_server, engine):
    other = remote_engine_server.engine()
    other.load("dia2-2b")
    cancel = threading.Event()
    stream = engine.generate(GenerationRequest(LONG, GenerationParams(seed=5, number_results=4)), cancel)
    next(stream)
    with pytest.raises(GenerationBusy, match="a studio at 127.0.0.1 has been generating"):
        list(other.generate(GenerationRequest("[S1] Me too.", GenerationParams(seed=1))))
    cancel.set()
    list(stream)
    assert any(isinstance(e, TakeResult) for e in other.generate(GenerationRequest("[S1] Me too.",
                                                                                   GenerationParams(seed=1))))
    other.close()


def test_the_model_managers_choice_of_a_server_opens_a_remote_engine(remote_engine_server):
    engine = open_engine(remote_engine_server.choice())
    assert isinstance(engine, RemoteEngine) and engine.info is None
    assert engine.load("dia2-2b").sample_rate == 24000
    engine.close()


def test_the_servers_errors_arrive_as_the_studios_own(engine):
    with pytest.raises(UnspeakableScript):
        engine.parse("[S3] Nobody is speaker three.")
    with pytest.raises(EngineFailed, match="runs .*checkpoint \\(dia2-2b, runware:dia2@2b\\), not dia2-1b"):
        engine.load("dia2-1b")
    assert engine.load("dia2-2b").name == str(CHECKPOINT.resolve())
    memory = memory_once_read(engine)
    assert memory.process_bytes > 0 and memory.device_bytes is None and memory.unavailable is None


def test_the_memory_read_never_touches_the_network_on_the_callers_thread(remote_engine_server, proxy, monkeypatch):
    """The status bar reads it every 2 s on the GUI thread: a server gone must not lag the window
    (three tries, 3.5 s, on every read before) nor raise there; it is said, and asked less often."""
    engine = remote_engine_server.engine(url=proxy.url)
    engine.load("dia2-2b")
    opened_on = []
    real_open = RemoteEngine._open
    monkeypatch.setattr(RemoteEngine, "_open", lambda self: opened_on.append(threading.current_thread()) or
                        real_open(self))
    known = memory_once_read(engine)
    assert known.process_bytes > 0 and known.warm_voices_bytes is not None  # the server says what it keeps
    proxy.close()  # the server out of reach: nothing listens at its address any more
    gone = memory_once_read(engine, ready=lambda memory: memory.unavailable is not None)
    assert gone.unavailable.startswith(f"Nothing answers at 127.0.0.1:{proxy.port} (connection refused)")
    assert gone.process_bytes > 0  # as last said
    tries = len(opened_on)
    for _ in range(20):  # within the pause, reads neither wait nor try again
        assert engine.memory() == gone
    assert len(opened_on) == tries and threading.current_thread() not in opened_on
    engine.close()


# ---- pointed at the wrong place -------------------------------------------------------------------
def test_a_wrong_key_or_none_is_named(remote_engine_server):
    for key in ("not-the-key", None):
        with pytest.raises(EngineFailed, match="refused the API key: give one of the keys of its --api-keys"):
            remote_engine_server.engine(key=key).load("dia2-2b")


def test_a_server_whose_model_failed_to_load_says_why(tmp_path):
    server = ServerProcess(tmp_path / "data", model=str(tmp_path / "no-such-model"))
    try:
        server.wait_until_failed()
        with pytest.raises(EngineFailed, match="The model of the server at http://127.0.0.1:\\d+ could not be "
                                               "loaded: .*no-such-model"):
            RemoteEngine(server.base, None).load("dia2-2b")
    finally:
        server.stop()


def test_nothing_listening_is_named_after_a_few_tries():
    port = free_port()
    with pytest.raises(EngineFailed, match=f"Nothing answers at 127.0.0.1:{port} \\(connection refused\\)"):
        RemoteEngine(f"http://127.0.0.1:{port}", "k").load("dia2-2b")


def test_an_unknown_host_is_named():
    with pytest.raises(EngineFailed, match="The host no-such-box.invalid is not known"):
        RemoteEngine("http://no-such-box.invalid:8000", "k").load("dia2-2b")


def test_a_serve_too_old_for_the_engine_is_named():
    """A serve of an earlier release: FastAPI and uvicorn as now, the task API, no /v1/engine."""
    import uvicorn
    from fastapi import FastAPI, WebSocket

    app = FastAPI()
    app.get("/health")(lambda: {"status": "ready"})

    @app.websocket("/v1")
    async def tasks(socket: WebSocket) -> None:
        await socket.accept()

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            threading.Event().wait(0.05)
        with pytest.raises(EngineFailed, match="The dia-studio serve at http://127.0.0.1:\\d+ is too old to be the "
                                               "studio's engine \\(it has no /v1/engine, HTTP 403\\): update it"):
            RemoteEngine(f"http://127.0.0.1:{server.config.port}", "k").load("dia2-2b")
    finally:
        server.should_exit = True
        thread.join()


def test_a_web_server_that_is_not_a_serve_is_named():
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(404)
            self.send_header("Content-Length", "8")
            self.end_headers()
            self.wfile.write(b"not here")

        def log_message(self, *args):
            pass

    with _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        with pytest.raises(EngineFailed, match="The server at http://127.0.0.1:\\d+ is not a dia-studio serve "
                                               "\\(it answered /v1/engine with HTTP 404\\)"):
            RemoteEngine(f"http://127.0.0.1:{port}", "k").load("dia2-2b")


def test_tls_to_a_plain_server_and_an_unverified_certificate_are_named(remote_engine_server, tmp_path):
    with pytest.raises(EngineFailed, match="did not answer in TLS .*use ws:// or http://"):
        remote_engine_server.engine(remote_engine_server.url.replace("http://", "https://")).load("dia2-2b")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    with _tls_server(context) as port:
        with pytest.raises(EngineFailed, match="The TLS certificate of 127.0.0.1 could not be verified"):
            RemoteEngine(f"wss://127.0.0.1:{port}", "k").load("dia2-2b")
        with pytest.raises(EngineFailed, match="did not answer as a WebSocket server .*use wss:// or https://"):
            RemoteEngine(f"ws://127.0.0.1:{port}", "k").load("dia2-2b")


@pytest.mark.parametrize("typed, url", [
    ("http://box:8000", "ws://box:8000/v1/engine"), ("https://box", "wss://box/v1/engine"),
    ("box:8000", "ws://box:8000/v1/engine"), ("ws://box:8000/v1", "ws://box:8000/v1/engine"),
    ("wss://box/v1/engine/", "wss://box/v1/engine"), ("http://box:8000/", "ws://box:8000/v1/engine"),
])
def test_the_address_a_person_types_becomes_the_engines(typed, url):
    assert engine_url(typed) == url


@pytest.mark.parametrize("typed", ["", "ftp://box", "http://"])
def test_an_address_that_is_not_one_is_refused(typed):
    with pytest.raises(EngineFailed, match="address"):
        engine_url(typed)


class _serving:
    def __init__(self, server):
        self.server = server

    def __enter__(self) -> int:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class _tls_server:
    """A TLS listener that answers nothing (enough for the handshake to be judged)."""

    def __init__(self, context: ssl.SSLContext):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.context = context

    def __enter__(self) -> int:
        def serve():
            while True:
                try:
                    raw, _ = self.listener.accept()
                except OSError:
                    return
                try:
                    with self.context.wrap_socket(raw, server_side=True) as tls:
                        tls.recv(4096)
                        tls.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                except (OSError, ssl.SSLError):
                    raw.close()

        threading.Thread(target=serve, daemon=True).start()
        return self.listener.getsockname()[1]

    def __exit__(self, *exc):
        self.listener.close()


def _self_signed(folder: Path) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    return str(cert), str(key)


def test_messages_with_arrays_survive_the_wire():
    from core.engine import wire

    samples, codes = np.linspace(-1, 1, 7, dtype=np.float32), np.arange(6).reshape(2, 3)
    text, blob = wire.encode({"type": "audio"}, (samples, wire.codes_array(codes)))
    message = wire.decode(text)
    got = wire.arrays_of(message, blob)
    np.testing.assert_array_equal(got[0], samples)
    np.testing.assert_array_equal(got[1], codes)
    with pytest.raises(wire.WireError, match="longer than its arrays"):
        wire.arrays_of(message, blob + b"x")
    with pytest.raises(wire.WireError, match="malformed"):
        wire.arrays_of(message, blob[:-1])
    assert json.loads(text)["arrays"][1] == {"dtype": "int32", "shape": [2, 3]}
