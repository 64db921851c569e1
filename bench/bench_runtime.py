"""Runtime speed: ms per frame, real-time factor, time to the first audio chunk, peak memory.

    python bench/bench_runtime.py --model tiny|1b|2b [--device cpu|cuda] [--dtype float32|bfloat16]
                                  [--frames 40] [--threads N]

A frame is 80 ms of audio: real time is 12.5 frames a second. Guidance is on (batch 2), as with
the default CFGScale. Prints the machine with the figures.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.random_model import random_runtime  # noqa: E402
from core.dia2.generator import AudioChunk, GenerationRequest, Progress  # noqa: E402
from core.params import GenerationParams  # noqa: E402

SCRIPT = ("[S1] Have you heard the new record from the band downstairs? [S2] I have, it kept me up all night. "
          "(laughs) [S1] Sorry about that, they practise until two in the morning. [S2] Maybe we should "
          "join them instead of complaining. [S1] You play the drums? [S2] Badly, but loudly.")
FRAME_MS = 80.0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    text = f"{cpu}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    if torch.cuda.is_available():
        text += f", GPU {torch.cuda.get_device_name()}"
    return text


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def run(size: str, device: torch.device, dtype: torch.dtype, frames: int) -> dict:
    started = time.perf_counter()
    runtime = random_runtime(size, device, dtype)
    load_s = time.perf_counter() - started
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    cancel = threading.Event()
    params = GenerationParams.create(seed=1, cfg_scale=3.0)
    step_times, first_chunk_s = [], None
    called = last = time.perf_counter()
    for event in runtime.generate(GenerationRequest(SCRIPT, params), cancel):
        now = time.perf_counter()
        if isinstance(event, AudioChunk) and first_chunk_s is None:
            first_chunk_s = now - called
        if isinstance(event, Progress):
            step_times.append(now - last)
            last = now
            if event.frames >= frames:
                cancel.set()
    steady = step_times[3:] or step_times  # the first steps warm allocators and caches
    ms = statistics.median(steady) * 1000
    return {"model": runtime.name, "device": str(device), "dtype": str(dtype).removeprefix("torch."),
            "load_s": load_s, "frames": len(step_times), "ms_per_frame": ms, "realtime_x": FRAME_MS / ms,
            "first_chunk_s": first_chunk_s, "peak_gib": peak_memory_gib(device)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "1b", "2b"], default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--frames", type=int, default=40, help="generation steps to time (the first chunk needs ~20)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args.model, torch.device(args.device), getattr(torch, args.dtype), args.frames)
    print(f"machine: {machine()}")
    first = f"{result['first_chunk_s']:.2f} s" if result["first_chunk_s"] is not None else "none in the frames timed"
    print(f"{result['model']} on {result['device']} ({result['dtype']}): load {result['load_s']:.1f} s, "
          f"{result['ms_per_frame']:.1f} ms/frame over {result['frames']} frames, "
          f"{result['realtime_x']:.2f}x real time, first audio chunk after {first}, "
          f"peak memory {result['peak_gib']:.2f} GiB")


if __name__ == "__main__":
    main()
