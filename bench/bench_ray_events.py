"""What a render's events cost through Ray: one replica (a Ray actor, as ``batch --ray`` runs
it), rendering the same requests with every event streamed back (audio chunks, words, progress:
what a studio hears) and with only the finished takes (what API tasks and batch renders keep),
beside the same renders on a model in this process (no Ray).

    python bench/bench_ray_events.py [--renders 6] [--model FOLDER] [--device cpu] [--threads 1] [--json FILE]

The two ways alternate, render by render, on the same replica, so the machine's load falls on
both alike; each render's time is from the call to its last take, and the figures are medians.
The tiny checkpoint's frames are quick, so the relay's share is large here: with the 2B model a
frame costs more and the relay the same.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402

from app.cluster.batch_engines import ActorReplica  # noqa: E402
from app.cluster.cluster_engine import ClusterEngine  # noqa: E402
from app.cluster.mailbox import TextMailbox  # noqa: E402
from app.cluster.replica import ModelReplica  # noqa: E402
from bench.bench_cluster import SCRIPT, TINY  # noqa: E402
from bench.bench_runtime import machine  # noqa: E402
from core.dia2.events import GenerationRequest, TakeResult  # noqa: E402
from core.dia2.runtime import Dia2Runtime  # noqa: E402
from core.dia2.script_codec import ScriptCodec  # noqa: E402
from core.params import GenerationParams  # noqa: E402


def render(runtime, seed: int, takes_only: bool) -> dict:
    started = time.perf_counter()
    events = 0
    audio_s = 0.0
    for event in runtime.generate(GenerationRequest(SCRIPT, GenerationParams.create(seed=seed),
                                                    takes_only=takes_only)):
        events += 1
        if isinstance(event, TakeResult):
            audio_s = len(event.audio) / event.sample_rate
    return {"seconds": time.perf_counter() - started, "events": events, "audio_s": audio_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=6, help="renders per way")
    parser.add_argument("--model", default=str(TINY))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"machine: {machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    here = Dia2Runtime.load(args.model, device=args.device, threads=args.threads)
    ray.init(include_dashboard=False, logging_level="error")
    try:
        actor = ray.remote(ModelReplica).options(num_cpus=1).remote(args.model, device=args.device,
                                                                    threads=args.threads)
        replica = ActorReplica(actor)
        cluster = ClusterEngine(ScriptCodec.load(args.model), replica, TextMailbox.remote(), replica.describe(),
                                 "1 Ray replica")
        ways = {"no Ray, every event": (here, False), "Ray, every event": (cluster, False),
                "Ray, takes only": (cluster, True)}
        for runtime, takes_only in ways.values():  # warm each way once
            render(runtime, 1, takes_only)
        runs: dict[str, list[dict]] = {name: [] for name in ways}
        for number in range(args.renders):
            for name, (runtime, takes_only) in ways.items():
                runs[name].append(render(runtime, 100 + number, takes_only))
    finally:
        ray.shutdown()
    figures = {name: {"seconds": statistics.median(r["seconds"] for r in rendered),
                      "events": statistics.median(r["events"] for r in rendered),
                      "audio_s": statistics.median(r["audio_s"] for r in rendered)} for name, rendered in runs.items()}
    base = figures["Ray, every event"]["seconds"]
    print(f"\n{args.renders} renders per way of {args.model} on {args.device}, {args.threads} thread(s); medians:")
    print(f"{'':22}{'s/render':>10}{'events':>8}{'audio s':>9}{'vs Ray, every event':>22}")
    for name, figure in figures.items():
        print(f"{name:22}{figure['seconds']:>10.2f}{figure['events']:>8.0f}{figure['audio_s']:>9.2f}"
              f"{base / figure['seconds']:>21.2f}×")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "renders": args.renders, **figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
