"""A live take over `/v1/live` against the same live take in this process: what the socket and the
server add to the first audio and the first spoken word, for whole text and model-like streams.

    python bench/bench_live_server.py [--model FOLDER|dia2-1b|dia2-2b] [--device cpu|cuda]
                                      [--dtype float32|bfloat16] [--repeat 3] [--json FILE]

Scenarios: the whole text in one message, and the text as a language model's tokens (a word's
leading space on it, long words cut in pieces of up to 4 characters) at 10, 30 and 100 tokens a
second; each ends with ``end``. Per run, from the first text sent (t0):
  ttfa    the first audio (bytes over the socket; an AudioChunk in process)
  ttfs    the audio that holds the first word's start (first speech, not the frames of silence)
  stalls  how often and how long the take waited for text (after its first word)
  lead    the least audio ahead of a listener who starts at the first audio (negative: a gap)
Medians over the repeats; the server's figures beside the in-process ones, with their ratio.
The in-process take runs while the server idles, so the two never share the processor.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_runtime import machine  # noqa: E402
from tests.core.dia2.golden import CHECKPOINT  # noqa: E402
from tests.service.live_client import LiveClient  # noqa: E402
from tests.service.server_process import ServerProcess  # noqa: E402

TEXT = ("[S1] Are you coming to the rehearsal tonight? I saved you a seat near the front. "
        "[S2] Only if you bring the good coffee, and promise we leave before the second act.")
RATES = (10, 30, 100)
SEED = 17
SAMPLE_RATE = 24000


def tokens(text: str) -> list[str]:
    """Model-like deltas: each word with its leading space, long words in pieces of up to 4."""
    return re.findall(r"\s*\S{1,4}", text)


def scenarios() -> dict[str, list[tuple[float, str]]]:
    """name → (seconds after t0, piece) to send."""
    out = {"whole text": [(0.0, TEXT)]}
    for rate in RATES:
        out[f"{rate} tokens/s"] = [(index / rate, piece) for index, piece in enumerate(tokens(TEXT))]
    return out


def _figures(t0: float, audio_at: list[tuple[float, float]], first_word_s: float | None,
             stalls: int, stalled_s: float) -> dict:
    """``audio_at``: (arrival, seconds of audio so far) for each piece of audio."""
    first = audio_at[0][0]
    speech = next((at for at, seconds in audio_at if first_word_s is not None and seconds > first_word_s), None)
    lead = min(seconds_before - (at - first) for (at, _), (_, seconds_before)
               in zip(audio_at[1:], audio_at[:-1]))  if len(audio_at) > 1 else 0.0
    return {"ttfa_ms": (first - t0) * 1000, "ttfs_ms": None if speech is None else (speech - t0) * 1000,
            "stalls": stalls, "stalled_ms": stalled_s * 1000, "min_lead_s": lead,
            "audio_s": audio_at[-1][1]}


def _send_paced(send, plan: list[tuple[float, str]], t0: float, end) -> None:
    for offset, piece in plan:
        delay = t0 + offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(piece)
    end()


def over_socket(server: ServerProcess, plan: list[tuple[float, str]]) -> dict:
    with LiveClient(server.base) as client:
        ready = client.start(seed=SEED)
        assert ready["type"] == "ready", ready
        t0 = time.perf_counter()
        sender = threading.Thread(target=_send_paced, args=(client.text, plan, t0, lambda: client.send("end")))
        sender.start()
        heard = client.hear()
        sender.join()
    assert heard.done is not None, heard.error
    audio_at = [(at, total / 4 / SAMPLE_RATE) for at, total in heard.audio_bytes_at]
    words = heard.of_type("word")
    return _figures(t0, audio_at, words[0]["startS"] if words else None, len(heard.of_type("stall")),
                    heard.done["stalledMs"] / 1000)


def in_process(runtime, plan: list[tuple[float, str]]) -> dict:
    from core.dia2.events import AudioChunk, Stalled, WordTiming
    from core.params import GenerationParams

    take = runtime.open_live_take(GenerationParams(seed=SEED))
    events = take.events()
    next(events)  # TakeStarted: the take is running, as after the socket's ready
    t0 = time.perf_counter()
    sender = threading.Thread(target=_send_paced, args=(take.push_text, plan, t0, take.end_text))
    sender.start()
    audio_at, first_word, stalls, stalled_s, stall_began, seconds = [], None, 0, 0.0, None, 0.0
    for event in events:
        now = time.perf_counter()
        if isinstance(event, Stalled):
            if first_word is not None and stall_began is None:
                stall_began, stalls = now, stalls + 1
            continue
        if stall_began is not None:
            stalled_s, stall_began = stalled_s + now - stall_began, None
        if isinstance(event, AudioChunk):
            seconds += len(event.samples) / SAMPLE_RATE
            audio_at.append((now, seconds))
        elif isinstance(event, WordTiming) and first_word is None:
            first_word = event.start_s
    sender.join()
    return _figures(t0, audio_at, first_word, stalls, stalled_s)


def _median(runs: list[dict], key: str) -> float | None:
    values = [run[key] for run in runs if run[key] is not None]
    return statistics.median(values) if values else None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(CHECKPOINT))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    import torch

    from core.dia2.runtime import Dia2Runtime

    torch.set_num_threads(args.threads)
    runtime = Dia2Runtime.load(args.model, device=args.device, dtype=args.dtype, threads=args.threads)
    report = {"machine": f"{machine()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}",
              "model": args.model, "device": str(runtime.device), "precision": runtime.precision,
              "words": len(TEXT.split()), "repeat": args.repeat, "scenarios": {}}
    print(f"machine: {report['machine']}")
    print(f"model: {args.model} on {runtime.device} ({runtime.precision}); {report['words']} words; "
          f"median of {args.repeat}; times from the first text sent")
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder) / "data", "--device", args.device, "--dtype", args.dtype,
                               "--threads", str(args.threads), model=args.model)
        try:
            server.wait_until_ready(timeout=1800)
            for name, plan in scenarios().items():
                in_process(runtime, plan)  # warm-up, for both
                over_socket(server, plan)
                local = [in_process(runtime, plan) for _ in range(args.repeat)]
                remote = [over_socket(server, plan) for _ in range(args.repeat)]
                report["scenarios"][name] = {"in_process": local, "socket": remote}
        finally:
            server.stop()
    header = f"  {'':<12} {'ttfa ms':>22} {'ttfs ms':>22} {'stalls':>8} {'stalled ms':>11} {'min lead s':>11}"
    print(header + "\n  " + " " * 12 + "   in process / socket (ratio)")
    for name, runs in report["scenarios"].items():
        cells = []
        for key in ("ttfa_ms", "ttfs_ms"):
            local, remote = _median(runs["in_process"], key), _median(runs["socket"], key)
            ratio = f"{remote / local:.2f}x" if local and remote else "-"
            cells.append(f"{local or 0:7.0f} / {remote or 0:5.0f} ({ratio})")
        stalls = _median(runs["socket"], "stalls")
        stalled = _median(runs["socket"], "stalled_ms")
        lead = _median(runs["socket"], "min_lead_s")
        print(f"  {name:<12} {cells[0]:>22} {cells[1]:>22} {stalls:8.0f} {stalled:11.0f} {lead:11.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
