"""Live takes: time from the first text to the first audio and to the first spoken word, for the
whole text at once and for a language model's stream of tokens at a few rates, with and without a
voice prompt, with and without the skip of the first frames' discarded work.

    python bench/bench_live.py --model tiny|1b|2b [--device cpu|cuda] [--dtype float32|bfloat16]
                               [--feeds whole,10,30,100] [--voices none,s1] [--skips on,off]
                               [--runs 3] [--stop-after-first-word] [--threads N] [--json FILE]

Each run opens the take first (as a voice agent does before its language model speaks) and lets
the frames that need no text run until it waits for text; then a feeder thread pushes the text: all of it, or tokens
(pieces of at most four characters, a space leading each word, as a model's deltas) at the given
rate, then the end. Measured from the first push: ``first audio`` (the first chunk out),
``first word`` (the chunk that holds the first word's start), the stalls (waits for text once
audio has begun: how many, how long), and the audio's lead over real time (audio made minus time
since the first chunk: its minimum is how close a player came to running dry; negative is a gap).
Prints the machine with the figures, and each row's ratio to the same row without the skip.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_runtime import machine  # noqa: E402
from bench.random_model import random_runtime  # noqa: E402
from core.dia2.events import AudioChunk, Stalled, TakeResult, WordTiming  # noqa: E402
from core.params import GenerationParams  # noqa: E402

TEXT = ("[S1] Have you heard the new record from the band downstairs? [S2] I have, it kept me up all night. "
        "(laughs) [S1] Sorry about that, they practise until two in the morning.")


def model_tokens(text: str) -> list[str]:
    """The text as a language model streams it: each word split into pieces of at most four
    characters, the first with the word's leading space."""
    tokens = []
    for index, word in enumerate(text.split(" ")):
        word = (" " if index else "") + word
        tokens += [word[at:at + 4] for at in range(0, len(word), 4)]
    return tokens


def voice_prompts(name: str) -> tuple:
    if name == "none":
        return ()
    from tests.core.dia2.golden import GoldenCase  # the fixture's voice prompt, its codes and words

    return GoldenCase("clone_s1_cfg1_crop").voice_prompts()


def one_run(runtime, feed: str, voices: tuple, stop_after_first_word: bool) -> dict:
    take = runtime.open_live_take(GenerationParams.create(seed=1, cfg_scale=3.0), voices)
    pieces = [TEXT] if feed == "whole" else model_tokens(TEXT)
    interval = 0.0 if feed == "whole" else 1.0 / float(feed)
    waiting = threading.Event()  # the take did all it can before the text: the first text may come
    t0 = [0.0]

    def feeder():
        waiting.wait()
        t0[0] = time.perf_counter()
        for index, piece in enumerate(pieces):
            if interval:  # on a fixed clock: a slow consumer does not slow the model down
                time.sleep(max(0.0, t0[0] + index * interval - time.perf_counter()))
            take.push_text(piece)
        take.end_text()

    thread = threading.Thread(target=feeder, daemon=True)
    thread.start()
    first_audio = first_word = first_word_at = None
    audio_s, lead_min, stalls, stalled_s, stall_since = 0.0, None, 0, 0.0, None
    result = None
    for event in take.events():
        now = time.perf_counter()
        if isinstance(event, Stalled):
            waiting.set()
            if event.waiting_s == 0 and first_audio is not None:
                stalls += 1
                stall_since = now
            continue
        if stall_since is not None:
            stalled_s += now - stall_since
            stall_since = None
        if isinstance(event, WordTiming) and first_word_at is None:
            first_word_at = event.start_s
        if isinstance(event, AudioChunk):
            if first_audio is None:
                first_audio = now
            audio_s = event.start_s + len(event.samples) / runtime.sample_rate
            lead = audio_s - (now - first_audio)
            lead_min = lead if lead_min is None else min(lead_min, lead)
            if first_word is None and first_word_at is not None and audio_s > first_word_at:
                first_word = now
                if stop_after_first_word:
                    take.cancel()
        if isinstance(event, TakeResult):
            result = event
    thread.join()
    start = t0[0]
    whole_take = not stop_after_first_word  # a take cut at its first word says nothing of its pace
    return {"first_audio_s": first_audio - start, "first_word_s": first_word - start if first_word else None,
            "stalls": stalls, "stalled_s": stalled_s, "lead_min_s": lead_min if whole_take else None,
            "audio_s": audio_s, "realtime_x": audio_s / (time.perf_counter() - first_audio) if whole_take else None,
            "complete": result.complete}


def median_of(runs: list[dict], key: str) -> float | None:
    values = [run[key] for run in runs if run[key] is not None]
    return statistics.median(values) if values else None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "1b", "2b"], default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--feeds", default="whole,10,30,100", help="whole, or tokens per second")
    parser.add_argument("--voices", default="none,s1")
    parser.add_argument("--skips", default="on,off")
    parser.add_argument("--runs", type=int, default=3, help="runs per row (the median is shown)")
    parser.add_argument("--stop-after-first-word", action="store_true",
                        help="cancel each take once its first word is heard (for slow models)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    runtime = random_runtime(args.model, device, getattr(torch, args.dtype))
    if args.threads:  # after loading, which sets its own count
        torch.set_num_threads(args.threads)
    if device.type == "cuda" and args.model != "tiny":
        from core.dia2.frame_graph import frame_network_for

        runtime.network = None  # the eager network's caches go first
        runtime.network = frame_network_for(runtime.model)  # what a loaded model runs on
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f}\nmodel: {runtime.name} on {device} ({args.dtype}), "
          f"network {type(runtime.network).__name__}", flush=True)
    report = {"machine": machine(), "load_average": os.getloadavg()[0], "model": args.model, "device": str(device),
              "rows": []}
    print(f"{'feed':>6} {'voice':>5} {'skip':>4} | {'1st audio':>9} {'1st word':>9} | {'stalls':>6} "
          f"{'stalled':>8} {'min lead':>8} {'RT x':>5} | 1st audio, with / without the skip")
    one_run(runtime, "whole", (), True)  # warm allocators and caches
    for voice in args.voices.split(","):
        prompts = voice_prompts(voice)
        for feed in args.feeds.split(","):
            by_skip = {}
            for skip in args.skips.split(","):
                runtime.skip_discarded_work = skip == "on"
                runs = [one_run(runtime, feed, prompts, args.stop_after_first_word) for _ in range(args.runs)]
                row = {"feed": feed, "voice": voice, "skip": skip, "runs": runs,
                       **{key: median_of(runs, key) for key in runs[0] if key != "complete"}}
                by_skip[skip] = row
                report["rows"].append(row)
                ratio = ""
                if skip == "on" and "off" in by_skip:
                    ratio = f"{row['first_audio_s'] / by_skip['off']['first_audio_s']:.2f}"
                word = f"{row['first_word_s']:8.3f}s" if row["first_word_s"] is not None else "     none"
                lead = f"{row['lead_min_s']:7.2f}s" if row["lead_min_s"] is not None else "       -"
                pace = f"{row['realtime_x']:5.2f}" if row["realtime_x"] is not None else "    -"
                print(f"{feed:>6} {voice:>5} {skip:>4} | {row['first_audio_s']:8.3f}s {word} | "
                      f"{row['stalls']:6.1f} {row['stalled_s']:7.2f}s {lead} {pace} | {ratio}", flush=True)
            if "on" in by_skip and "off" in by_skip:
                on, off = by_skip["on"], by_skip["off"]
                print(f"{'':>18} the skip saves {off['first_audio_s'] - on['first_audio_s']:+.3f} s to the first "
                      f"audio (with / without: {on['first_audio_s'] / off['first_audio_s']:.2f})", flush=True)
    runtime.skip_discarded_work = True
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
