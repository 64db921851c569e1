"""Which device and precision the model runs on: chosen automatically, overridable.

The choice is a pure function of what the machine offers, so every branch (MPS included) is
tested on any machine.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from core.errors import DiaStudioError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
INT8 = "int8"  # int8 weights, bfloat16 arithmetic (core/dia2/int8_weights.py)


class DeviceUnavailable(DiaStudioError):
    """The requested device or precision does not exist on this machine."""


@dataclass(frozen=True)
class MachineOffers:
    cuda: bool
    cuda_bf16: bool
    mps: bool
    mps_bf16: bool
    # The processor computes bfloat16 products in hardware (x86: AMX or AVX-512 BF16; Arm: its
    # BF16 instructions), so oneDNN runs them faster than float32's. Elsewhere bfloat16 is
    # emulated, and slower.
    cpu_bf16: bool = False

    @classmethod
    def detect(cls) -> "MachineOffers":
        cuda = torch.cuda.is_available()
        mps_backend = getattr(torch.backends, "mps", None)
        mps = bool(mps_backend and mps_backend.is_available())
        # bfloat16 on Apple GPUs needs macOS 14; older systems run float32.
        macos14 = getattr(mps_backend, "is_macos_or_newer", None)
        return cls(cuda=cuda, cuda_bf16=cuda and torch.cuda.is_bf16_supported(),
                   mps=mps, mps_bf16=mps and bool(macos14 and macos14(14, 0)), cpu_bf16=_processor_bf16())


def _processor_bf16() -> bool:
    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False
    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        # oneDNN also runs bfloat16 on plain AVX-512, emulated: only these two are native
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return True  # on Arm oneDNN answers yes only where the BF16 instructions are


def choose_device(requested: str = "auto", offers: MachineOffers | None = None) -> torch.device:
    offers = offers or MachineOffers.detect()
    requested = (requested or "auto").lower()
    if requested == "auto":
        return torch.device("cuda" if offers.cuda else "mps" if offers.mps else "cpu")
    kind = requested.split(":")[0]
    if kind not in ("cpu", "cuda", "mps"):
        raise DeviceUnavailable(f"Unknown device {requested!r}; use auto, cpu, cuda (or cuda:N) or mps.")
    if kind == "cuda" and not offers.cuda:
        raise DeviceUnavailable("No CUDA GPU is available on this machine; choose cpu or auto.")
    if kind == "mps" and not offers.mps:
        raise DeviceUnavailable("Apple's Metal (MPS) is not available on this machine; choose cpu or auto.")
    try:
        return torch.device(requested)
    except RuntimeError:  # e.g. "cuda:x": torch's message does not say what would work
        raise DeviceUnavailable(f"Unknown device {requested!r}; use auto, cpu, cuda (or cuda:N) or mps.") from None


def generation_threads(cores: int | None = None) -> int:
    """Processor threads for generation: every core of a small machine (on an idle 2-core machine
    two threads made a frame twice as fast as one), all but one from 5 cores up, where memory
    bandwidth is saturated before the last core and that core keeps the window and audio smooth.
    On a machine busy with other work, spinning threads made a frame up to 10x slower than one
    thread; they now wait passively (``openmp_waits``), and ``--threads`` sets the count."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores <= 4 else cores - 1


def choose_dtype(requested: str, device: torch.device, offers: MachineOffers | None = None) -> torch.dtype:
    """bfloat16 where the device computes it in hardware: a GPU that supports it (half the memory,
    tensor cores), and a processor with bfloat16 instructions, where its products, laid out once for
    oneDNN (``packed_weights``), make a frame 1.4-1.8x faster than float32's in half the memory. float32
    on other processors, where bfloat16 is emulated and slower. float32, asked for, is exact (the
    parity data); ``int8`` (weights only, computing in bfloat16) takes the least memory."""
    offers = offers or MachineOffers.detect()
    requested = (requested or "auto").lower()
    if requested == "auto":
        if device.type == "cuda" and offers.cuda_bf16:
            return torch.bfloat16
        if device.type == "mps" and offers.mps_bf16:
            return torch.bfloat16
        if device.type == "cpu" and offers.cpu_bf16:
            return torch.bfloat16
        return torch.float32
    if requested == INT8:
        if device.type == "cuda":
            raise DeviceUnavailable("int8 weights are for processors and Apple GPUs; on a CUDA GPU choose "
                                    "bfloat16 or auto.")
        requested = "bfloat16"  # what int8 weights compute in
    if requested not in DTYPES:
        raise DeviceUnavailable(f"Unknown precision {requested!r}; use auto, float32, bfloat16 or int8.")
    if requested == "bfloat16" and device.type == "mps" and not offers.mps_bf16:
        raise DeviceUnavailable("bfloat16 on Apple's Metal (MPS) needs macOS 14 or newer; choose float32 or auto.")
    if requested == "bfloat16" and device.type == "cuda" and not offers.cuda_bf16:
        raise DeviceUnavailable("This CUDA GPU does not support bfloat16; choose float32 or auto.")
    return DTYPES[requested]
