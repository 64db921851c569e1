"""On a processor: ms per frame of the frame network for float32, bfloat16 and int8 weights, at
each thread count, and how often each precision picks the same token as float32.

    python bench/bench_cpu_precision.py --model 1b|2b|tiny [--frames 4] [--threads 1,2] [--agreement-frames 8]

The floor: a frame on a processor is bound by reading the weights its matrix products use (the
backbone once, each depformer group once per codebook stage). The bench counts those bytes for a
frame of each precision (every linear layer's weights each time it runs, and each distinct weight
once: a group's weights may still be in the cache at its next stage) and measures this machine's
memory bandwidth (the best of a few copies of 1 GiB: bytes read). A frame can take no less than
the distinct bytes / bandwidth; each precision's ms per frame is shown as a multiple of that.

Speed: a frame is one backbone step and every depformer stage (sampling excluded), the median of
``--frames`` frames. Agreement: the same inputs go through every precision, teacher-forced (each
stage reads float32's token for the codebook before); it counts the decisions (action, codebook 0,
each stage) whose best token equals float32's. Random weights have flatter logits than trained
ones, so this is a pessimistic measure; bfloat16 gives the scale of what is tolerable.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_runtime import machine  # noqa: E402
from bench.random_model import random_runtime  # noqa: E402
from core.dia2.device import choose_dtype  # noqa: E402
from core.dia2.frame_network import FrameNetwork  # noqa: E402
from core.dia2.int8_weights import Int8Linear, quantize_linears  # noqa: E402
from core.dia2.packed_weights import PackedLinear, can_pack, pack_linears  # noqa: E402


PRECISIONS = ("float32", "bfloat16", "bfloat16 plain", "int8")


def precisions(model, wanted: tuple[str, ...] = PRECISIONS) -> dict:
    """float32, bfloat16 as the runtime keeps it on this processor (packed where oneDNN runs its
    products), bfloat16 as plain layers (the runtime's way before packing: the baseline), int8;
    those ``wanted``, each built from ``model`` (float32)."""
    packs = can_pack(next(model.parameters()).device, torch.bfloat16)
    found = {}
    for name in wanted:
        if name == "float32":
            found[name] = model
            continue
        if name == "bfloat16 plain" and not packs:
            continue  # the runtime's bfloat16 is plain here: the same row
        found[name] = copy.deepcopy(model).to(torch.bfloat16)
        if name == "int8":
            quantize_linears(found[name])
        elif name == "bfloat16" and packs:
            pack_linears(found[name])
    return found


def frame_inputs(config, frames: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    data = config.data
    rows = []
    for _ in range(frames):
        text = torch.randint(4, 200, (2, 2), generator=generator)
        audio = torch.randint(0, data.audio_vocab_size - 2, (2, data.num_codebooks), generator=generator)
        rows.append(torch.cat([text, audio], dim=1))
    return rows


def decisions(network: FrameNetwork, inputs: list[torch.Tensor], forced: list[list[int]] | None) -> list[list[int]]:
    """Best token of every decision of every frame; stages read ``forced`` tokens when given."""
    network.reset()
    out = []
    for t, tokens in enumerate(inputs):
        _, action, cb0 = network.backbone(tokens, t)
        frame = [int(action[0].argmax()), int(cb0[0].argmax())]
        for stage in range(network.stages):
            previous = forced[t][1 + stage] if forced else frame[-1]
            frame.append(int(network.stage(stage, torch.tensor([previous]))[0].argmax()))
        out.append(frame)
    return out


def ms_per_frame(network: FrameNetwork, inputs: list[torch.Tensor]) -> float:
    network.reset()
    times = []
    for t, tokens in enumerate(inputs):
        started = time.perf_counter()
        network.backbone(tokens, t)
        for stage in range(network.stages):
            network.stage(stage, torch.tensor([7]))
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:] or times) * 1000


def bytes_read_per_frame(network: FrameNetwork, inputs: list[torch.Tensor]) -> tuple[int, int]:
    """The weight bytes one frame's matrix products read: each linear layer each time it runs,
    and each distinct weight once (what must come from memory at least: a depformer group's
    weights, used by several stages, may be in the processor's cache the second time)."""
    read, distinct = [0], {}

    def count(module, args, output):
        for name, tensor in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False)):
            if name in ("weight", "scale", "bias"):
                size = tensor.numel() * tensor.element_size()
                read[0] += size
                distinct[id(tensor)] = size  # the same tensor at each use (a packed one has no data pointer)

    hooks = [module.register_forward_hook(count) for module in network.model.modules()
             if isinstance(module, (torch.nn.Linear, Int8Linear, PackedLinear))]
    try:
        network.reset()
        network.backbone(inputs[0], 0)
        for stage in range(network.stages):
            network.stage(stage, torch.tensor([7]))
    finally:
        for hook in hooks:
            hook.remove()
    return read[0], sum(distinct.values())


def memory_bandwidth(gib: float = 1.0, tries: int = 5) -> float:
    """Bytes per second this machine reads, from the best of ``tries`` copies (a copy reads and
    writes each byte: twice the bytes moved, half of them read)."""
    source = torch.ones(int(gib * 2**30) // 4, dtype=torch.float32)
    target = torch.empty_like(source)
    best = min(_timed(lambda: target.copy_(source)) for _ in range(tries))
    return 2 * source.numel() * 4 / best


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "1b", "2b"], default="1b")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--agreement-frames", type=int, default=8)
    parser.add_argument("--precisions", default=",".join(PRECISIONS),
                        help="those to measure (fewer fit a 2B model in less memory); the token agreement "
                             "needs float32")
    args = parser.parse_args(argv)
    runtime = random_runtime(args.model, torch.device("cpu"), torch.float32)
    networks = {name: FrameNetwork(model)
                for name, model in precisions(runtime.model, tuple(args.precisions.split(","))).items()}
    config, model_name = runtime.config, runtime.name
    del runtime  # float32's weights go unless they are measured
    first = next(iter(networks))
    print(f"machine: {machine()}; model {model_name}")
    # what auto loads on this processor: bfloat16 where it has bfloat16 instructions, else float32
    automatic = str(choose_dtype("auto", torch.device("cpu"))).removeprefix("torch.")
    report = {"speed": {}, "agreement": {}, "bound_ms": {}, "automatic": automatic}
    frame_bytes = {name: bytes_read_per_frame(network, frame_inputs(config, 1))
                   for name, network in networks.items()}
    print("  a frame reads " + ", ".join(f"{name} {uses / 2**20:,.0f} MiB ({distinct / 2**20:,.0f} MiB distinct)"
                                         for name, (uses, distinct) in frame_bytes.items()))
    for threads in [int(n) for n in args.threads.split(",")]:
        torch.set_num_threads(threads)
        bandwidth = memory_bandwidth()
        # The floor: every distinct weight read once from memory.
        bound = {name: 1000 * distinct / bandwidth for name, (_, distinct) in frame_bytes.items()}
        report["bound_ms"][threads] = bound
        inputs = frame_inputs(config, args.frames + 1)
        row = {name: ms_per_frame(network, inputs) for name, network in networks.items()}
        report["speed"][threads] = row
        print(f"  {threads} thread(s), memory read at {bandwidth / 1e9:.1f} GB/s: " + "   ".join(
            f"{name} {ms:7.1f} ms/frame ({row[first] / ms:.2f}x {first}; floor {bound[name]:.0f} ms, "
            f"{ms / bound[name]:.1f}x it)" for name, ms in row.items()))
        if automatic in row and "float32" in row:
            print(f"  the automatic precision here is {automatic}: {row['float32'] / row[automatic]:.2f}x as fast "
                  "as float32 (the automatic precision on every processor before)")
    if "float32" not in networks:
        return report
    inputs = frame_inputs(config, args.agreement_frames)
    reference = decisions(networks["float32"], inputs, None)
    total = sum(len(frame) for frame in reference)
    for name in [name for name in networks if name != "float32"]:
        picked = decisions(networks[name], inputs, reference)
        same = sum(a == b for ours, theirs in zip(picked, reference) for a, b in zip(ours, theirs))
        report["agreement"][name] = same / total
        print(f"  {name}: same best token as float32 in {same}/{total} decisions ({100 * same / total:.1f}%)")
    return report


if __name__ == "__main__":
    main()
