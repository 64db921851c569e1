"""Threads on a busy processor: ms per frame at each thread count, on an idle machine and with one
core kept busy by another process, for each way OpenMP's threads may wait for each other:
spinning (OpenMP's default) and passively (what every face of dia-studio asks, see
``core/dia2/openmp_waits.py``).

    python bench/bench_thread_waits.py [--model 1b] [--precision bfloat16] [--threads 1,2] [--frames 4]

OpenMP reads how to wait once, as it loads, so each measure is a process of its own running
``bench_cpu_precision`` on the frame network. The busy core is the last one the bench may use,
spun by a Python loop, as another program would. Linux only (cores are chosen by affinity).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.dia2.openmp_waits import THEIR_OWN  # noqa: E402

WAITS = {"spinning": {}, "passively": {"OMP_WAIT_POLICY": "PASSIVE"}}
MEASURE = """
import json, sys
from bench.bench_cpu_precision import main
report = main(sys.argv[1:])
print("SPEED " + json.dumps(report["speed"]))
"""


@contextmanager
def one_core_busy():
    """Another process spinning on the last core, for as long as the block runs."""
    core = max(os.sched_getaffinity(0))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"],
                               preexec_fn=lambda: os.sched_setaffinity(0, {core}))
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def ms_per_frame(model: str, precision: str, threads: str, frames: int, waits: dict) -> dict[int, float]:
    """{threads: ms per frame} of one fresh process that waits as ``waits`` says."""
    environment = {name: value for name, value in os.environ.items() if name not in THEIR_OWN} | waits
    arguments = ["--model", model, "--precisions", precision, "--threads", threads, "--frames", str(frames)]
    finished = subprocess.run([sys.executable, "-c", MEASURE, *arguments], cwd=ROOT, env=environment,
                              capture_output=True, text=True, check=True)
    speed = json.loads(finished.stdout.rsplit("SPEED ", 1)[1])
    return {int(count): row[precision] for count, row in speed.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "1b", "2b"], default="1b")
    parser.add_argument("--precision", default="bfloat16", help="one of bench_cpu_precision's")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--frames", type=int, default=4)
    args = parser.parse_args(argv)
    from bench.bench_runtime import machine

    print(f"machine: {machine()}; {len(os.sched_getaffinity(0))} cores; model {args.model}, {args.precision}")
    report: dict[str, dict[str, dict[int, float]]] = {}
    for load in ("idle", "one core busy"):
        for name, waits in WAITS.items():
            if load == "idle":
                row = ms_per_frame(args.model, args.precision, args.threads, args.frames, waits)
            else:
                with one_core_busy():
                    row = ms_per_frame(args.model, args.precision, args.threads, args.frames, waits)
            report.setdefault(load, {})[name] = row
            print(f"  {load:<14} waiting {name:<10} " + "   ".join(
                f"{count} thread(s) {ms:7.1f} ms/frame" for count, ms in row.items()), flush=True)
    for load, rows in report.items():
        print(f"  {load}: passive waits take " + ", ".join(
            f"{rows['passively'][count] / rows['spinning'][count]:.2f}x spinning's time at {count} thread(s)"
            for count in rows["spinning"]))
    return report


if __name__ == "__main__":
    main()
