"""Where a frame's time goes: a generation run under torch.profiler for a few frames, after the
first ones. The figures that say what bounds a frame: kernels launched per frame, and the device's
busy time per frame beside the frame's wall time (busy for a small part of the frame: bound by
launches and the host; busy for most of it: bound by the arithmetic or memory)."""

from __future__ import annotations

import threading
import time

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from core.dia2.events import GenerationRequest, Progress
from core.params import GenerationParams

SKIPPED_FRAMES = 8  # allocators, caches and the delays' first frames


def profile_frames(runtime, script: str, frames: int) -> dict:
    """Profile ``frames`` frames of a generation of ``script``; returns the figures and the
    costliest operations as a printable table."""
    cuda = runtime.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    profiler = profile(activities=activities)
    cancel = threading.Event()
    seen, started = 0, None
    for event in runtime.generate(GenerationRequest(script, GenerationParams.create(seed=1, cfg_scale=3.0)), cancel):
        if not isinstance(event, Progress):
            continue
        seen += 1
        if seen == SKIPPED_FRAMES:
            profiler.start()
            started = time.perf_counter()
        elif seen == SKIPPED_FRAMES + frames:
            if cuda:
                torch.cuda.synchronize(runtime.device)
            wall = time.perf_counter() - started
            profiler.stop()
            cancel.set()
    if started is None or not cancel.is_set():
        raise RuntimeError(f"the generation ended before {SKIPPED_FRAMES + frames} frames")
    averages = profiler.key_averages()
    kernels = [row for row in averages if row.device_type == DeviceType.CUDA]
    device_us = sum(_self_device_us(row) for row in kernels)
    sort_by = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    return {"frames": frames, "wall_ms_per_frame": wall * 1000 / frames,
            "kernels_per_frame": sum(row.count for row in kernels) / frames if cuda else None,
            "device_busy_ms_per_frame": device_us / 1000 / frames if cuda else None,
            "table": averages.table(sort_by=sort_by, row_limit=20)}


def _self_device_us(row) -> float:
    # Named self_device_time_total in recent torch, self_cuda_time_total before.
    return getattr(row, "self_device_time_total", None) or getattr(row, "self_cuda_time_total", 0.0)


def summary(figures: dict) -> str:
    text = f"profiled {figures['frames']} frames: {figures['wall_ms_per_frame']:.1f} ms each"
    busy = figures["device_busy_ms_per_frame"]
    if busy is not None:
        text += (f", {figures['kernels_per_frame']:.0f} kernels per frame, device busy {busy:.2f} ms "
                 f"({busy / figures['wall_ms_per_frame']:.0%})")
    return text
