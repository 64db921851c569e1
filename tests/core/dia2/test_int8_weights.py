"""int8 weights: each layer close to its float original, every linear layer replaced, and a
model that still picks float32's tokens in nearly every decision."""

import pytest
import torch
from torch import nn

from bench import bench_cpu_precision
from core.dia2.frame_network import FrameNetwork
from core.dia2.int8_weights import Int8Linear, quantize_linears
from core.dia2.runtime import Dia2Runtime
from core.params import GenerationParams
from core.dia2.events import GenerationRequest
from tests.core.dia2.golden import CHECKPOINT


def test_an_int8_layer_is_within_its_quantisation_step_of_the_float_layer():
    torch.manual_seed(0)
    linear = nn.Linear(256, 96, bias=False)
    x = torch.randn(3, 5, 256)
    quantized = Int8Linear(linear)
    assert quantized.weight.dtype == torch.int8 and quantized.weight.shape == (96, 256)
    expected = linear(x)
    got = quantized(x)
    assert got.shape == expected.shape and got.dtype == x.dtype
    # per-row step = max|w| / 127; bfloat16 arithmetic adds ~0.4% of the output's size
    relative = (got - expected).norm() / expected.norm()
    assert relative < 0.02


def test_a_layer_with_a_bias_is_refused():
    with pytest.raises(ValueError, match="bias"):
        Int8Linear(nn.Linear(4, 4))


def test_every_linear_layer_is_replaced_and_the_float_weights_released():
    runtime = Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="int8")
    assert runtime.precision == "int8" and runtime.dtype == torch.bfloat16
    assert not any(isinstance(module, nn.Linear) for module in runtime.model.modules())
    assert quantize_linears(runtime.model) == 0  # nothing left to replace
    (take,) = runtime.render(GenerationRequest("[S1] Hello there. [S2] Hi!", GenerationParams.create(seed=1)))
    assert take.complete and len(take.audio) > 0


def test_int8_weights_pick_float32s_token_in_nearly_every_decision(tiny_runtime):
    models = bench_cpu_precision.precisions(tiny_runtime.model)
    inputs = bench_cpu_precision.frame_inputs(tiny_runtime.config, 6)
    reference = bench_cpu_precision.decisions(FrameNetwork(models["float32"]), inputs, None)
    picked = bench_cpu_precision.decisions(FrameNetwork(models["int8"]), inputs, reference)
    decisions = [(a, b) for ours, theirs in zip(picked, reference) for a, b in zip(ours, theirs)]
    same = sum(a == b for a, b in decisions)
    assert same / len(decisions) >= 0.9  # measured 97% (bfloat16 alone: 97.7%)
