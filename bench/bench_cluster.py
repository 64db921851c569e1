"""Throughput of batch renders on Ray Serve replicas: one replica against two (and more), beside
the same batch without Ray (one model in the command's own process, the baseline), and what
that predicts for a cluster of N GPUs.

    python bench/bench_cluster.py [--renders 8] [--replicas 1,2] [--model FOLDER] [--device cpu]
                                  [--gpus-per-replica 0] [--threads 1] [--json FILE]

Each configuration runs the real ``dia-studio batch`` command on the same manifest (renders of
one script with different seeds) in a fresh folder, on a Ray this script starts (no dashboard);
the time is the report's: from the first render sent to the last written, after the replicas
have loaded (start-up is printed apart). Throughput is renders per minute and seconds of audio
made per second.

The estimate for N GPUs runs from  rate₁ × (1 + (N − 1) × g)  (each added replica adds what the
second added here, g) to  N × rate₁  (each adds a whole replica's rate), and assumes: every replica has a GPU of its own (no two share one);
the renders are independent and at least N are waiting (a batch, or a server's queue); the
command's machine keeps up (it encodes voices once and writes each file: measured here as the
gap between one replica on Ray and the baseline); and the network carries the audio (float32 at
24 kHz is 96 kB per second of audio: nothing beside a GPU's rate of a few seconds of audio per
second). On a machine of few cores, the replicas share them with the command and Ray's own
processes, so g here is a floor: a GPU replica's work is on its GPU. The model defaults to the tiny checkpoint, whose frames are quick: the figures show
what the cluster path costs and how it scales, not the speed of the 2B model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ray  # noqa: E402
import soundfile  # noqa: E402

from bench.bench_runtime import machine  # noqa: E402

TINY = ROOT / "tests" / "fixtures" / "dia2_parity" / "checkpoint"
SCRIPT = ("[S1] The caravan leaves at dawn, so pack light and say your goodbyes tonight. "
          "[S2] Tonight? I thought we had until the end of the week.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=8)
    parser.add_argument("--replicas", default="1,2", help="replica counts to measure, comma separated")
    parser.add_argument("--model", default=str(TINY))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--gpus-per-replica", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per replica (and for the baseline)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    counts = [int(count) for count in args.replicas.split(",")]

    print(f"machine: {machine()}, {os.cpu_count()} cores")
    print(f"{args.renders} renders of {args.model} on {args.device}, {args.threads} thread(s) each\n")
    context = ray.init(include_dashboard=False, logging_level="error")
    address = context.address_info["gcs_address"]
    try:
        figures = {"without Ray": _run(args, [])}
        for count in counts:
            figures[f"{count} replica(s)"] = _run(args, ["--ray", address, "--replicas", str(count),
                                                         "--gpus-per-replica", f"{args.gpus_per_replica:g}"])
    finally:
        ray.shutdown()

    one = figures.get("1 replica(s)")
    print(f"\n{'':14}{'start-up':>10}{'renders':>10}{'renders/min':>13}{'audio s/s':>11}{'vs 1 replica':>14}")
    for name, figure in figures.items():
        ratio = f"{figure['renders_per_min'] / one['renders_per_min']:.2f}×" if one else "-"
        print(f"{name:14}{figure['startup_s']:>9.1f}s{figure['batch_s']:>9.1f}s{figure['renders_per_min']:>13.1f}"
              f"{figure['audio_per_s']:>11.2f}{ratio:>14}")
    if one and "2 replica(s)" in figures:
        gain = figures["2 replica(s)"]["renders_per_min"] / one["renders_per_min"] - 1  # what the second added
        rate = one["renders_per_min"]
        print(f"\nthe second replica added {gain:.0%} of one replica's rate (efficiency {(1 + gain) / 2:.0%})")
        print("estimate for N GPUs, one replica each (assumptions in this script's docstring): from each added "
              "replica adding what the second did here, to each adding a whole replica's rate")
        for n in (1, 2, 4, 8, 16):
            print(f"  {n:>2} GPUs: {rate * (1 + (n - 1) * gain):7.1f} – {rate * n:7.1f} renders/min")
        print("  (× the rate of one replica measured here: for the 2B model on a GPU, take its rate from "
              "bench_runtime.py on that GPU)")
        figures["second_replica_gain"] = gain
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **figures}, indent=2))
    return 0


def _run(args: argparse.Namespace, cluster_flags: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "batch.json"
        manifest.write_text(json.dumps([{"script": SCRIPT, "seed": 1000 + n, "output": f"out/{n:03d}.wav"}
                                        for n in range(args.renders)]))
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "app.main", "batch", str(manifest), "--model", args.model,
                               "--device", args.device, "--threads", str(args.threads), *cluster_flags],
                              cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        total = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"the batch failed ({done.returncode}):\n{done.stderr[-3000:]}")
        report = json.loads((Path(folder) / "batch-report.json").read_text())
        audio_s = sum(soundfile.info(path).duration for path in (Path(folder) / "out").glob("*.wav"))
    seconds = report["seconds"]
    name = "without Ray" if not cluster_flags else f"{cluster_flags[3]} replica(s)"
    print(f"  {name}: {seconds:.1f} s for {args.renders} renders ({total - seconds:.1f} s of start-up)")
    return {"batch_s": seconds, "startup_s": total - seconds, "renders_per_min": 60 * args.renders / seconds,
            "audio_per_s": audio_s / seconds}


if __name__ == "__main__":
    sys.exit(main())
