"""Warm voice states: time to a take's first audio with voice prompts, the first time (cold: the
prompts' prefill computed) and again (warm: the backbone's caches after them copied back), beside
a take without prompts; the prefill's own time in each; and the memory the kept state holds.

    python bench/bench_warm_voices.py [--models tiny,1b,2b] [--dtype float32|bfloat16]
                                      [--voice-seconds 8] [--runs 3] [--threads N] [--json FILE]

Random weights of the real sizes (bench/random_model.py): the time is the same as trained
weights'. Each speaker gets a prompt of ``--voice-seconds`` of random codes with a word every
0.4 s. A take is cancelled at its first audio chunk; each row is the median of ``--runs``; the
warm rows also check that the warm take's first frames are the cold one's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_runtime import machine  # noqa: E402
from bench.random_model import random_runtime  # noqa: E402
from core.dia2.events import AudioChunk, GenerationRequest  # noqa: E402
from core.dia2.prefix import VoicePrompt  # noqa: E402
from core.params import GenerationParams  # noqa: E402

SCRIPT = "[S1] Have you heard the new record from the band downstairs? [S2] I have, it kept me up all night."
WORDS = "so I said to him that we would meet at the station at nine and go on from there".split()


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


def voice_prompts(runtime, seconds: float) -> tuple[VoicePrompt, ...]:
    frames = round(seconds * runtime.frame_rate)
    generator = torch.Generator().manual_seed(0)
    prompts = []
    for _ in range(2):
        codes = torch.randint(0, 2048, (runtime.config.data.num_codebooks, frames), generator=generator)
        words = [Word(WORDS[i % len(WORDS)], i * 0.4, i * 0.4 + 0.3) for i in range(int(seconds / 0.4) - 1)]
        prompts.append(VoicePrompt(codes, words))
    return tuple(prompts)


class TimedPrefill:
    """Times the network's prefill (the part a warm state saves) by wrapping it."""

    def __init__(self, network):
        self.seconds = 0.0
        prefill = network.prefill

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return prefill(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        network.prefill = timed


def first_audio(runtime, voices: tuple) -> tuple[float, torch.Tensor]:
    """Seconds to the first audio chunk, and its samples (the take is then cancelled)."""
    cancel = threading.Event()
    request = GenerationRequest(SCRIPT, GenerationParams.create(seed=1, cfg_scale=3.0), voices)
    started = time.perf_counter()
    found = None
    for event in runtime.generate(request, cancel):  # drained: the cancelled take ends at once
        if isinstance(event, AudioChunk) and found is None:
            found = time.perf_counter() - started, torch.from_numpy(event.samples.copy())
            cancel.set()
    if found is None:
        raise RuntimeError("the take made no audio")
    return found


def measure(model: str, dtype: torch.dtype, voice_seconds: float, runs: int) -> dict:
    runtime = random_runtime(model, torch.device("cpu"), dtype)
    states = runtime.network.warm_states
    voices = voice_prompts(runtime, voice_seconds)
    prefill = TimedPrefill(runtime.network)
    first_audio(runtime, ())  # the first take of a process pays for lazy set-up: not a row
    rows = {"no voices": [], "voices, cold": [], "voices, warm": []}
    prefills = {"voices, cold": [], "voices, warm": []}
    same = True
    for _ in range(runs):
        rows["no voices"].append(first_audio(runtime, ())[0])
        states.clear()
        for row in ("voices, cold", "voices, warm"):
            prefill.seconds = 0.0
            took, audio = first_audio(runtime, voices)
            rows[row].append(took)
            prefills[row].append(prefill.seconds)
            if row == "voices, cold":
                cold = audio
        same = same and torch.equal(cold, audio)
    medians = {name: statistics.median(times) for name, times in rows.items()}
    return {"model": model, "dtype": str(dtype).removeprefix("torch."), "voice_seconds": voice_seconds,
            "first_audio_s": medians, "prefill_s": {row: statistics.median(times) for row, times in prefills.items()},
            "warm_over_cold": medians["voices, warm"] / medians["voices, cold"],
            "warm_over_no_voices": medians["voices, warm"] / medians["no voices"],
            "kept_mib": states.held_bytes / 2**20, "states_kept": len(states), "first_audio_same": same}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tiny")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="bfloat16")
    parser.add_argument("--voice-seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine())
    results = []
    for model in args.models.split(","):
        result = measure(model, getattr(torch, args.dtype), args.voice_seconds, args.runs)
        results.append(result)
        times = result["first_audio_s"]
        print(f"\n{model} {result['dtype']}, two voice prompts of {args.voice_seconds:g} s, first audio "
              f"(median of {args.runs}):")
        for name, seconds in times.items():
            prefill = result["prefill_s"].get(name)
            print(f"  {name:<14} {seconds:8.2f} s" + (f"   of which the prefill {prefill:6.2f} s" if prefill else ""))
        saved = result["prefill_s"]["voices, cold"] / max(result["prefill_s"]["voices, warm"], 1e-9)
        print(f"  prefill cold / warm {saved:.1f}×")
        print(f"  warm / cold {result['warm_over_cold']:.2f}×, warm / no voices {result['warm_over_no_voices']:.2f}×;"
              f" kept {result['kept_mib']:.1f} MiB in {result['states_kept']} state(s); warm audio "
              f"{'equals' if result['first_audio_same'] else 'DIFFERS FROM'} cold")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
