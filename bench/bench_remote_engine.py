"""What generating on a `dia-studio serve` (the remote engine, over loopback) costs against the
runtime in the studio's own process.

    python bench/bench_remote_engine.py [--model FOLDER] [--repeat 5]

One script, one seed, each the median of the repeats:
  first audio     from asking for the generation to its first audio chunk (what the live preview waits)
  generation      the whole request, to its finished take
  voice           encoding a 10 s voice: the first time (its audio goes up) and again (its hash alone)
for the runtime called in this process (the baseline) and a RemoteEngine on a server in its own
process on this machine (its network cost is loopback's: add the real link's round trips). The
model defaults to the tiny parity checkpoint, so the engine's own overhead shows; both sides run
one torch thread. The machine is printed first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_runtime import machine  # noqa: E402
from tests.core.dia2.golden import CHECKPOINT  # noqa: E402
from tests.service.server_process import ServerProcess  # noqa: E402

SCRIPT = "[S1] Are you coming to the rehearsal tonight? [S2] Only if you bring the good coffee."
SEED = 17
VOICE_S = 10.0


def timings(engine, repeat: int) -> dict[str, list[float]]:
    """First audio and whole generation, after one warm-up run; ``engine`` is anything with
    ``generate`` (a Dia2Runtime or an engine)."""
    from core.dia2.events import AudioChunk, GenerationRequest
    from core.params import GenerationParams

    request = GenerationRequest(SCRIPT, GenerationParams(seed=SEED))
    first, whole = [], []
    for run in range(repeat + 1):
        started = time.perf_counter()
        heard = None
        for event in engine.generate(request):
            if heard is None and isinstance(event, AudioChunk):
                heard = time.perf_counter() - started
        if run:
            first.append(heard)
            whole.append(time.perf_counter() - started)
    return {"first audio": first, "generation": whole}


def voice_timings(engine, sample_rate: int, repeat: int) -> dict[str, list[float]]:
    """Encoding a voice never seen before, then the same one again."""
    import numpy as np

    new, again = [], []
    for run in range(repeat):
        samples = (0.1 * np.sin(np.arange(int(VOICE_S * sample_rate)) * (0.05 + 0.001 * run))).astype(np.float32)
        for times in (new, again):
            started = time.perf_counter()
            engine.encode_voice(samples)
            times.append(time.perf_counter() - started)
    return {"voice, new": new, "voice, again": again}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(CHECKPOINT))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import torch

    from core.dia2.runtime import Dia2Runtime
    from core.engine.remote import RemoteEngine

    torch.set_num_threads(1)
    print(f"machine: {machine()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    print(f"model: {args.model}; script of {len(SCRIPT.split())} words; median of {args.repeat}")
    runtime = Dia2Runtime.load(args.model, device="cpu", dtype="float32", threads=1)
    local = timings(runtime, args.repeat) | voice_timings(runtime, runtime.sample_rate, args.repeat)
    del runtime
    with tempfile.TemporaryDirectory() as folder:
        server = ServerProcess(Path(folder) / "data", model=args.model)
        try:
            server.wait_until_ready()
            started = time.perf_counter()
            engine = RemoteEngine(server.base, None)
            engine.load(args.model)
            connect_s = time.perf_counter() - started
            remote = timings(engine, args.repeat) | voice_timings(engine, engine.sample_rate, args.repeat)
            engine.close()
        finally:
            server.stop()
    print(f"  {'':<16} {'in-process':>12} {'remote':>12} {'ratio':>8}")
    for name in local:
        here, there = statistics.median(local[name]), statistics.median(remote[name])
        print(f"  {name:<16} {here * 1000:9.1f} ms {there * 1000:9.1f} ms {there / here:7.2f}x")
    print(f"  connecting and checking the model (remote only): {connect_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
