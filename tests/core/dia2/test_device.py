"""choose_device / choose_dtype for every branch, with hand-made machine offers."""

from __future__ import annotations

import platform
from dataclasses import replace

import pytest
import torch

from core.dia2.device import (
    DeviceUnavailable,
    MachineOffers,
    choose_device,
    choose_dtype,
)
from core.dia2.packed_weights import can_pack
from core.errors import DiaStudioError

CPU_ONLY = MachineOffers(cuda=False, cuda_bf16=False, mps=False, mps_bf16=False)
CUDA_BF16 = MachineOffers(cuda=True, cuda_bf16=True, mps=False, mps_bf16=False)
CUDA_OLD = MachineOffers(cuda=True, cuda_bf16=False, mps=False, mps_bf16=False)
MAC_14 = MachineOffers(cuda=False, cuda_bf16=False, mps=True, mps_bf16=True)
MAC_13 = MachineOffers(cuda=False, cuda_bf16=False, mps=True, mps_bf16=False)
CPU_BF16 = MachineOffers(cuda=False, cuda_bf16=False, mps=False, mps_bf16=False, cpu_bf16=True)
# Not a real machine, but it fixes the order of preference.
EVERYTHING = MachineOffers(cuda=True, cuda_bf16=True, mps=True, mps_bf16=True)

CPU, CUDA, MPS = torch.device("cpu"), torch.device("cuda"), torch.device("mps")


def unavailable(function, *args) -> str:
    with pytest.raises(DeviceUnavailable) as raised:
        function(*args)
    assert isinstance(raised.value, DiaStudioError)
    return str(raised.value)


@pytest.mark.parametrize("offers, expected", [
    (EVERYTHING, CUDA), (CUDA_BF16, CUDA), (CUDA_OLD, CUDA), (MAC_14, MPS), (MAC_13, MPS), (CPU_ONLY, CPU),
], ids=["cuda-over-mps", "cuda", "cuda-no-bf16", "mps", "mps-macos13", "cpu"])
def test_auto_prefers_cuda_then_mps_then_cpu(offers, expected):
    assert choose_device("auto", offers) == expected
    assert choose_device("AUTO", offers) == expected
    assert choose_device("", offers) == expected  # empty = auto


@pytest.mark.parametrize("requested, expected", [
    ("cpu", CPU), ("CPU", CPU), ("cuda", CUDA), ("cuda:0", torch.device("cuda", 0)),
    ("cuda:1", torch.device("cuda", 1)), ("mps", MPS),
])
def test_explicit_available_devices(requested, expected):
    assert choose_device(requested, EVERYTHING) == expected


def test_cpu_is_always_available():
    for offers in (CPU_ONLY, CUDA_BF16, MAC_14):
        assert choose_device("cpu", offers) == CPU


@pytest.mark.parametrize("requested", ["cuda", "cuda:0", "CUDA"])
def test_cuda_without_a_gpu_is_refused(requested):
    for offers in (CPU_ONLY, MAC_14):
        message = unavailable(choose_device, requested, offers)
        assert "No CUDA GPU" in message and "cpu or auto" in message


def test_mps_without_metal_is_refused():
    for offers in (CPU_ONLY, CUDA_BF16):
        message = unavailable(choose_device, "mps", offers)
        assert "MPS" in message and "cpu or auto" in message


@pytest.mark.parametrize("requested", ["gpu", "tpu", "xla", "vulkan", "metal", " cuda", "cuda:x", "cuda:", "mps:y"])
def test_unknown_device_names_are_refused_naming_them(requested):
    message = unavailable(choose_device, requested, EVERYTHING)
    assert repr(requested.lower()) in message
    assert "auto, cpu, cuda" in message


@pytest.mark.parametrize("device, offers, expected", [
    (CUDA, CUDA_BF16, torch.bfloat16),
    (torch.device("cuda", 1), CUDA_BF16, torch.bfloat16),
    (CUDA, CUDA_OLD, torch.float32),
    (MPS, MAC_14, torch.bfloat16),
    (MPS, MAC_13, torch.float32),
    (CPU, CPU_ONLY, torch.float32),
    (CPU, EVERYTHING, torch.float32),  # bf16 on a GPU says nothing about the CPU
    (CPU, CPU_BF16, torch.bfloat16),
    (CUDA, replace(CUDA_OLD, cpu_bf16=True), torch.float32),  # nor the other way round
], ids=["cuda-bf16", "cuda1-bf16", "cuda-old", "mps-macos14", "mps-macos13", "cpu", "cpu-beside-gpus", "cpu-bf16",
        "cuda-old-beside-a-bf16-cpu"])
def test_auto_precision(device, offers, expected):
    assert choose_dtype("auto", device, offers) is expected
    assert choose_dtype("", device, offers) is expected


@pytest.mark.parametrize("device, offers", [(CPU, CPU_ONLY), (CUDA, CUDA_BF16), (MPS, MAC_14)])
def test_explicit_precision_where_supported(device, offers):
    assert choose_dtype("float32", device, offers) is torch.float32
    assert choose_dtype("bfloat16", device, offers) is torch.bfloat16
    assert choose_dtype("BFloat16", device, offers) is torch.bfloat16


def test_explicit_float32_is_allowed_everywhere():
    for device, offers in ((CUDA, CUDA_OLD), (MPS, MAC_13)):
        assert choose_dtype("float32", device, offers) is torch.float32


def test_bfloat16_on_mps_before_macos_14_is_refused():
    message = unavailable(choose_dtype, "bfloat16", MPS, MAC_13)
    assert "macOS 14" in message and "float32" in message


def test_bfloat16_on_a_cuda_gpu_without_it_is_refused():
    message = unavailable(choose_dtype, "bfloat16", CUDA, CUDA_OLD)
    assert "bfloat16" in message and "float32" in message


@pytest.mark.parametrize("requested", ["float16", "fp32", "bf16", "half", "int4"])
def test_unknown_precisions_are_refused_naming_them(requested):
    message = unavailable(choose_dtype, requested, CPU, CPU_ONLY)
    assert repr(requested) in message and "auto, float32, bfloat16 or int8" in message


def test_detect_reports_this_machine():
    offers = MachineOffers.detect()
    assert offers.cuda == torch.cuda.is_available()
    assert offers.cuda_bf16 <= offers.cuda and offers.mps_bf16 <= offers.mps
    # Without offers the choice is made for this machine, and cpu always works.
    assert choose_device("cpu") == CPU
    assert choose_device("auto") == choose_device("auto", offers)
    assert choose_dtype("auto", CPU) is (torch.bfloat16 if offers.cpu_bf16 else torch.float32)
    assert offers.cpu_bf16 <= can_pack(CPU, torch.bfloat16)  # what auto chooses is packed


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="the x86 instructions' check")
def test_a_processor_that_only_emulates_bfloat16_keeps_float32(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not MachineOffers.detect().cpu_bf16
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert MachineOffers.detect().cpu_bf16 == torch.ops.mkldnn._is_mkldnn_bf16_supported()


@pytest.mark.parametrize("device, offers", [(CPU, CPU_ONLY), (MPS, MAC_14)])
def test_int8_weights_compute_in_bfloat16_on_processors_and_apple_gpus(device, offers):
    assert choose_dtype("int8", device, offers) == torch.bfloat16
    assert choose_dtype("INT8", device, offers) == torch.bfloat16


def test_int8_weights_are_refused_on_cuda_and_on_macos_13():
    assert "bfloat16 or auto" in unavailable(choose_dtype, "int8", CUDA, CUDA_BF16)
    assert "macOS 14" in unavailable(choose_dtype, "int8", MPS, MAC_13)


@pytest.mark.parametrize("cores, threads", [(1, 1), (2, 2), (4, 4), (5, 4), (16, 15)])
def test_generation_uses_every_core_of_a_small_machine_and_leaves_one_on_a_larger_one(cores, threads):
    from core.dia2.device import generation_threads

    assert generation_threads(cores) == threads
    assert generation_threads() >= 1
