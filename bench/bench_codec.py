"""Milliseconds per Mimi frame (80 ms of audio): streaming decode against one full decode.

Runs the tiny parity codec and a full-size random ``MimiModel(MimiConfig())``; the random weights make the audio
meaningless but the cost real. Usage: ``python bench/bench_codec.py [--frames 150] [--device cpu] [--threads N]``.
"""

import argparse
import os
import platform
import time
from pathlib import Path

import torch
import transformers
from transformers import MimiConfig, MimiModel

from core.dia2.codec import MimiCodec

TINY_MIMI = Path(__file__).parents[1] / "tests" / "fixtures" / "dia2_parity" / "checkpoint" / "mimi"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def print_machine(device: torch.device) -> None:
    print(f"{platform.platform()}, Python {platform.python_version()}")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}")
    if device.type == "cuda":
        print(f"GPU: {torch.cuda.get_device_name(device)}")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, device {device}")


def timed(device: torch.device, work) -> tuple[float, torch.Tensor]:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, result


def stream(codec: MimiCodec, codes: torch.Tensor, chunk: int) -> torch.Tensor:
    decoder = codec.streaming_decoder()
    return torch.cat([decoder.push(codes[:, start : start + chunk]) for start in range(0, codes.shape[1], chunk)])


def bench(name: str, codec: MimiCodec, frames: int) -> None:
    device = codec.device
    codes = torch.randint(0, 2048, (codec.num_codebooks, frames), generator=torch.Generator().manual_seed(0))
    codec.decode(codes[:, :4])  # warm-up: first calls pay for allocations and kernel selection
    full_s, full = timed(device, lambda: codec.decode(codes))
    print(f"\n{name}: {frames} frames ({frames / codec.frame_rate:.1f} s of audio)")
    print(f"  full decode        {1e3 * full_s / frames:8.2f} ms/frame  ({1e3 * full_s:.0f} ms in all)")
    for chunk in (1, 4, 25):
        stream_s, streamed = timed(device, lambda: stream(codec, codes, chunk))
        difference = (streamed - full).abs().max().item()
        print(
            f"  stream, {chunk:2d} frame{'s' if chunk > 1 else ' '} {1e3 * stream_s / frames:8.2f} ms/frame"
            f"  (max |stream - full| = {difference:.2e})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150, help="clip length in frames (12.5 per second)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print_machine(device)
    bench("tiny parity Mimi", MimiCodec.from_folder(TINY_MIMI, device=device), args.frames)
    full_size = MimiModel(MimiConfig())
    parameters = sum(parameter.numel() for parameter in full_size.parameters())
    bench(f"full-size random Mimi ({parameters / 1e6:.0f} M parameters)", MimiCodec(full_size.to(device)), args.frames)


if __name__ == "__main__":
    main()
