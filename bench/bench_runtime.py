"""Runtime speed: ms per frame, real-time factor, time to the first audio chunk, peak memory, for
each way of running the frame network, side by side from one process, with the ratio to the
first (the baseline).

    python bench/bench_runtime.py --model tiny|1b|2b [--device cpu|cuda|mps] [--dtype float32|bfloat16|int8]
                                  [--paths eager,stage-graphs,frame-graphs] [--frames 60] [--threads N]
                                  [--check-tokens FRAMES] [--profile FRAMES] [--json FILE]

Paths: ``eager`` (layers run one by one: the baseline), ``stage-graphs`` (a CUDA graph per
backbone step and per depformer stage, the choices made eagerly between them), ``frame-graphs``
(one CUDA graph per frame, choices included: the default on CUDA). On a CPU the graph paths are a
dry run of the same code with the steps recorded eagerly, to test this script. ``--check-tokens``
also runs a float32 comparison of the paths' tokens for a fixed seed. ``--profile`` runs each path
under torch.profiler for that many frames: kernels launched and device time per frame, beside the
frame's wall time (a device busy for a small part of the frame is bound by launches), and the
costliest operations, written beside the JSON. A frame is 80 ms of audio: real time is 12.5 frames
a second. Guidance is on (batch 2), as with the default CFGScale. Prints the machine with the
figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.frame_profile import profile_frames, summary  # noqa: E402
from bench.host import processor_name  # noqa: E402
from bench.random_model import random_runtime  # noqa: E402
from core.dia2.frame_graph import FrameGraphNetwork  # noqa: E402
from core.dia2.frame_loop import FrameLoop  # noqa: E402
from core.dia2.frame_network import FrameNetwork, GraphedFrameNetwork  # noqa: E402
from core.dia2.events import AudioChunk, GenerationRequest, Progress  # noqa: E402
from core.dia2.sampling import Sampling, SamplingRule  # noqa: E402
from core.params import GenerationParams  # noqa: E402

SCRIPT = ("[S1] Have you heard the new record from the band downstairs? [S2] I have, it kept me up all night. "
          "(laughs) [S1] Sorry about that, they practise until two in the morning. [S2] Maybe we should "
          "join them instead of complaining. [S1] You play the drums? [S2] Badly, but loudly.")
FRAME_MS = 80.0
NETWORKS = {"eager": FrameNetwork, "stage-graphs": GraphedFrameNetwork, "frame-graphs": FrameGraphNetwork}


def machine() -> str:
    text = f"{processor_name()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    if torch.cuda.is_available():
        text += f", GPU {torch.cuda.get_device_name()}"
    return text


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux; the process's peak


def make_network(model, path: str) -> FrameNetwork:
    if path != "eager" and next(model.parameters()).device.type != "cuda":
        # A dry run of a graph path where there is no GPU: the same buffers and replays,
        # recorded eagerly by the tests' stand-in.
        from tests.core.dia2.eager_recorder import EagerRecorder

        return GraphedFrameNetwork(model, EagerRecorder()) if path == "stage-graphs" else FrameGraphNetwork(
            model, EagerRecorder)
    return NETWORKS[path](model)


def use_network(runtime, path: str) -> float:
    """Give ``runtime`` a fresh network of kind ``path``; returns the seconds it took (capture
    included), which a user pays once, at load."""
    runtime.network = None  # free the previous caches first: peaks are per path
    if runtime.device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(runtime.device)
    started = time.perf_counter()
    runtime.network = make_network(runtime.model, path)
    _synchronize(runtime.device)
    return time.perf_counter() - started


def time_generation(runtime, frames: int) -> dict:
    cancel = threading.Event()
    params = GenerationParams.create(seed=1, cfg_scale=3.0)
    step_times, first_chunk_s = [], None
    _synchronize(runtime.device)
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
    return {"frames": len(step_times), "ms_per_frame": ms, "realtime_x": FRAME_MS / ms,
            "first_chunk_s": first_chunk_s, "peak_gib": peak_memory_gib(runtime.device)}


def token_check(runtime, paths: list[str], frames: int) -> dict:
    """Sample ``frames`` frames with the same seed through each path; count differing tokens."""
    sampling = Sampling(3.0, SamplingRule(0.8, 50), SamplingRule(0.8, 50))
    entries = runtime.parse(SCRIPT)
    grids = {}
    for path in paths:
        use_network(runtime, path)
        generator = runtime.network.generator(5)
        loop = FrameLoop(runtime.network, entries, sampling, generator, text_bos=runtime.tokenizer.text_bos)
        for _ in range(frames):
            loop.step()
        grids[path] = loop.grid[:, : loop.grid_columns].clone()
    baseline = grids[paths[0]]
    return {path: int((grid != baseline).sum()) for path, grid in grids.items()}


def time_path(runtime, path: str, args, baseline_ms: float | None, tables: list[str]) -> dict:
    """One path's figures, printed with its speed-up over ``baseline_ms`` (None: it is the baseline)."""
    setup_s = use_network(runtime, path)
    result = {"setup_s": setup_s, "network": type(runtime.network).__name__, **time_generation(runtime, args.frames)}
    first = f"{result['first_chunk_s']:.3f} s" if result["first_chunk_s"] is not None else "none yet"
    print(f"  {path:12s} {result['ms_per_frame']:8.1f} ms/frame  {result['realtime_x']:6.2f}x real time  "
          f"first chunk {first}  peak {result['peak_gib']:.2f} GiB  setup {setup_s:.1f} s  "
          f"speed-up {(baseline_ms or result['ms_per_frame']) / result['ms_per_frame']:.2f}x", flush=True)
    if args.profile:
        figures = profile_frames(runtime, SCRIPT, args.profile)
        tables.append(f"== {args.model} {args.dtype} {path}: {summary(figures)}\n{figures.pop('table')}")
        result["profile"] = figures
        print(f"               {summary(figures)}", flush=True)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "1b", "2b"], default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "int8"], default="float32",
                        help="int8: int8 weights computing in bfloat16")
    parser.add_argument("--paths", default=None, help="comma-separated: eager, stage-graphs, frame-graphs (default: all three on CUDA)")
    parser.add_argument("--frames", type=int, default=60, help="generation steps to time (the first chunk needs ~20)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--check-tokens", type=int, default=0, metavar="FRAMES",
                        help="also compare the paths' tokens in float32 over this many frames")
    parser.add_argument("--profile", type=int, default=0, metavar="FRAMES",
                        help="also profile this many frames of each path (tables beside the JSON)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    paths = (args.paths or ("eager,stage-graphs,frame-graphs" if device.type == "cuda" else "eager")).split(",")
    print(f"machine: {machine()}", flush=True)
    report = {"machine": machine(), "model": args.model, "dtype": args.dtype, "paths": {}}
    started = time.perf_counter()
    int8 = args.dtype == "int8"
    runtime = random_runtime(args.model, device, torch.bfloat16 if int8 else getattr(torch, args.dtype), int8)
    report["load_s"] = time.perf_counter() - started
    print(f"{runtime.name} on {device} ({args.dtype}): weights and codec ready in {report['load_s']:.1f} s")
    tables: list[str] = []

    def save() -> None:  # after each path: a run stopped later keeps what it measured
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2))
            if tables:
                args.json.with_name(f"{args.json.stem}-profile.txt").write_text("\n\n".join(tables))

    baseline_ms = None
    for path in paths:
        try:
            report["paths"][path] = time_path(runtime, path, args, baseline_ms, tables)
            baseline_ms = baseline_ms or report["paths"][path]["ms_per_frame"]
        except Exception as error:  # a path that fails on this device is a figure too; the others run
            report["paths"][path] = {"error": f"{type(error).__name__}: {error}"}
            print(f"  {path:12s} failed: {type(error).__name__}: {error}", flush=True)
        save()
    if args.check_tokens:
        if args.dtype != "float32":
            runtime = random_runtime(args.model, device, torch.float32)
        working = [path for path in paths if "error" not in report["paths"][path]]
        report["differing_tokens"] = token_check(runtime, working, args.check_tokens)
        print(f"  tokens differing from {working[0]} over {args.check_tokens} frames (float32, seed 5): "
              f"{report['differing_tokens']}")
        save()
    if tables and not args.json:
        print("\n\n".join(tables))
    return report


if __name__ == "__main__":
    main()
