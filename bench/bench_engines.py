"""What running the model outside the studio's process costs, for each kind of engine against the
in-process one (the baseline): start-up, time to the first audio, time per generation, and the
overhead per streamed chunk.

    python bench/bench_engines.py [--model FOLDER] [--device cpu|cuda] [--dtype float32|bfloat16]
                                  [--repeat 5] [--threads N] [--engines in-process,own-process] [--json FILE]

  start-up      from nothing to a loaded model: in-process, the load in a process that has already
                imported the model's libraries (as the studio has by then); own-process, spawning a
                fresh interpreter, its imports and the load
  first audio   from the request to the first AudioChunk in the caller's hands
  generation    from the request to the last event
  per chunk     (generation - the baseline's generation) / chunks: what relaying one chunk costs
  memory        resident memory of the process the model runs in, once loaded: for own-process, all
                of it comes on top of the studio's own (which imports the same libraries)
Each generation figure is the median of the repeats, after one warm-up. The model defaults to the
tiny checkpoint: its frames are quick, so the engine's own cost shows. The machine is printed first.

Each kind of engine is one entry of ``ENGINES``: a context manager giving an engine not yet loaded
(and closing whatever it started), so a kind that needs a server starts it there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_runtime import machine  # noqa: E402
from core.dia2.events import AudioChunk, GenerationRequest  # noqa: E402
from core.engine.engine import Engine  # noqa: E402
from core.params import GenerationParams  # noqa: E402
from tests.core.dia2.golden import CHECKPOINT  # noqa: E402

SCRIPT = ("[S1] Are you coming to the rehearsal tonight? [S2] Only if you bring the good coffee. "
          "[S1] Deal, and the sheet music too.")
SEED = 17


@contextlib.contextmanager
def in_process(args: argparse.Namespace) -> Iterator[Engine]:
    from core.engine.in_process import InProcessEngine

    engine = InProcessEngine(threads=args.threads)
    try:
        yield engine
    finally:
        engine.close()


@contextlib.contextmanager
def own_process(args: argparse.Namespace) -> Iterator[Engine]:
    from core.engine.own_process import OwnProcessEngine

    engine = OwnProcessEngine(threads=args.threads)
    try:
        yield engine
    finally:
        engine.close()


# name -> the engine of that kind; the first is the baseline.
ENGINES: dict[str, Callable[[argparse.Namespace], contextlib.AbstractContextManager[Engine]]] = {
    "in-process": in_process,
    "own-process": own_process,
}


def measure(engine: Engine, args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    engine.load(args.model, args.device, args.dtype)
    startup = time.perf_counter() - started
    request = GenerationRequest(SCRIPT, GenerationParams.create(seed=SEED))
    first, total, chunks = [], [], 0
    for _ in range(args.repeat + 1):  # the first warms up (caches, allocator), as a studio's first take would
        started = time.perf_counter()
        first_audio, chunks = None, 0
        for event in engine.generate(request):
            if isinstance(event, AudioChunk):
                chunks += 1
                if first_audio is None:
                    first_audio = time.perf_counter() - started
        first.append(first_audio)
        total.append(time.perf_counter() - started)
    return {"startup_s": startup, "first_audio_s": statistics.median(first[1:]),
            "generation_s": statistics.median(total[1:]), "chunks": chunks,
            "process_mib": (engine.memory().process_bytes or 0) / 2**20}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(CHECKPOINT))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch's threads on a processor, in every engine")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    names = args.engines.split(",")
    unknown = [name for name in names if name not in ENGINES]
    if unknown:
        parser.error(f"unknown engine {unknown[0]}; there are {', '.join(ENGINES)}")
    if args.device == "cpu":
        import torch

        torch.set_num_threads(args.threads)
    import core.dia2.runtime  # noqa: F401  # imported before the baseline's start-up, as in the studio

    print(f"machine: {machine()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    print(f"model: {args.model} on {args.device} ({args.dtype}); script of {len(SCRIPT.split())} words; "
          f"seed {SEED}; median of {args.repeat}")
    figures = {}
    for name in names:
        with ENGINES[name](args) as engine:
            figures[name] = measure(engine, args)
    base = figures[names[0]]
    print(f"  {'engine':<13} {'start-up':>16} {'first audio':>18} {'generation':>18} {'per chunk':>11}"
          f" {'memory':>10}")
    for name in names:
        f = figures[name]
        f["per_chunk_ms"] = 1000 * (f["generation_s"] - base["generation_s"]) / f["chunks"]
        print(f"  {name:<13} {f['startup_s']:7.2f} s {f['startup_s'] / base['startup_s']:5.1f}x"
              f" {f['first_audio_s'] * 1000:8.1f} ms {f['first_audio_s'] / base['first_audio_s']:5.2f}x"
              f" {f['generation_s']:8.3f} s {f['generation_s'] / base['generation_s']:6.2f}x"
              f" {f['per_chunk_ms']:+8.2f} ms {f['process_mib']:6.0f} MiB")
    print(f"  ({base['chunks']} chunks a generation)")
    report = {"machine": machine(), "cores": os.cpu_count(), "model": args.model, "device": args.device,
              "dtype": args.dtype, "repeat": args.repeat, "engines": figures}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
