"""The model's own process: its main (``serve``) runs the parent's calls on an
``InProcessEngine``, one at a time, and sends back what they stream and answer, pickled."""

from __future__ import annotations

import os
import pickle
import queue
import sys
import threading
import time
from multiprocessing.connection import Connection

from core.dia2.checkpoint import cancellable
from core.dia2.events import GenerationRequest
from core.dia2.transcript_alignment import TimedWord
from core.engine.engine import ModelInfo
from core.engine.live_relay import fed_events
from core.engine.own_process.pickled_errors import packed

# How often the child reports its device memory while it generates (the status bar's figure).
MEMORY_REPORT_S = 1.0
LIVE_POLL_S = 0.01  # how soon a cancel reaches a live take
# The live takes' text, as the reader gets it (the take in progress picks out its own by serial
# number: what was sent to a take that ended is dropped).
_live_input: queue.Queue = queue.Queue()


def serve(connection: Connection, threads: int | None, warm_voices_bytes: int | None = None) -> None:
    """The child's main: run calls on an ``InProcessEngine`` one at a time, as they arrive. A
    reader thread takes cancels at once (while a call runs); the parent's end closing ends it."""
    from core.engine.in_process import InProcessEngine
    from core.engine.memory import limit_malloc_arenas

    limit_malloc_arenas()  # started by multiprocessing, not app.main: before this process's threads

    sending = threading.Lock()  # downloads report progress from several threads

    def send(message: tuple) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with sending:
            connection.send_bytes(data)

    calls: queue.Queue = queue.Queue()
    cancel = [threading.Event()]  # the running call's

    def read() -> None:
        try:
            while True:
                message = pickle.loads(connection.recv_bytes())
                if message[0] == "cancel":
                    cancel[0].set()
                elif message[0] == "live":  # a live take's text: the take in progress reads it
                    _live_input.put(message[1:])
                else:
                    calls.put(message)
        except (EOFError, OSError):  # the studio is gone: nothing here is of use to anyone
            os._exit(0)

    threading.Thread(target=read, name="engine requests", daemon=True).start()
    engine = InProcessEngine(on_speech_model_load=lambda name: send(("speech_model_loading", name)), threads=threads,
                             warm_voices_bytes=warm_voices_bytes)
    while (message := calls.get())[0] != "close":
        _, method, args = message
        cancel[0] = threading.Event()
        try:
            answer = _CALLS[method](engine, args, cancel[0], send)
        except Exception as error:
            send(("raise", packed(error)))
        else:
            send(("return", answer, _memory(engine)))
    engine.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # Done: no interpreter teardown (seconds for a model's libraries, and triton's exit noise).
    os._exit(0)


def _load(engine, args, cancel: threading.Event, send) -> ModelInfo:
    model, device, precision, reports = args
    progress = cancellable(lambda done, total, what: send(("progress", done, total, what)), cancel) if reports else None
    return engine.load(model, device, precision, progress)


def _generate(engine, request: GenerationRequest, cancel: threading.Event, send) -> None:
    reported = time.monotonic()
    for event in engine.generate(request, cancel):
        send(("event", event))
        if time.monotonic() - reported > MEMORY_REPORT_S:
            reported = time.monotonic()
            send(("memory", _memory(engine)))


def _transcribe(engine, args, cancel: threading.Event, send) -> list[TimedWord]:
    samples, sample_rate, speech_model = args
    engine.speech_model = speech_model
    return engine.transcribe(samples, sample_rate)


def _live_take(engine, args, cancel: threading.Event, send) -> None:
    """Make a live take, streaming its events; its text comes from the reader while it is made."""
    serial, params, voices, context = args
    take = engine.open_live_take(params, voices, context)

    def messages() -> list[tuple]:
        try:
            message = _live_input.get(timeout=LIVE_POLL_S)
        except queue.Empty:
            return []
        return [message[1:]] if message[0] == serial else []  # else: sent to a take that has ended

    for event in fed_events(take, messages, cancel):
        send(("event", event))


_CALLS = {
    "load": _load,
    "generate": _generate,
    "transcribe": _transcribe,
    "parse": lambda engine, script, cancel, send: engine.parse(script),
    "encode_voice": lambda engine, samples, cancel, send: engine.encode_voice(samples),
    "release_memory": lambda engine, args, cancel, send: engine.release_memory(),
    "live": _live_take,
}


def _memory(engine) -> tuple[int | None, int | None]:
    """What the parent cannot read from the system itself: device memory, kept voice states."""
    report = engine.memory()
    return report.device_bytes, report.warm_voices_bytes
