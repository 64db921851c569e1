"""bfloat16 weights packed for oneDNN on a processor: the same products, bit for bit, as the
plain layers, so a bfloat16 take is the same sample for sample; every linear layer packed at load."""

import pytest
import torch
from torch import nn

from core.dia2.events import GenerationRequest
from core.dia2.int8_weights import Int8Linear
from core.dia2.packed_weights import SMALLEST_PACKED, PackedLinear, can_pack, pack_linears
from core.dia2.runtime import Dia2Runtime
from core.params import GenerationParams
from tests.core.dia2.golden import CHECKPOINT

CPU = torch.device("cpu")
SCRIPT = "[S1] Hello there, how are you? [S2] Fine, thanks!"

pytestmark = pytest.mark.skipif(not can_pack(CPU, torch.bfloat16),
                                reason="oneDNN runs no bfloat16 products on this processor")


@pytest.mark.parametrize("rows", [(2, 1024), (2, 1, 1024), (2, 37, 1024), (1, 1024)],
                         ids=["a stage", "a step", "a prefill", "one row"])
def test_a_packed_layer_gives_the_plain_layers_products_bit_for_bit(rows):
    torch.manual_seed(0)
    linear = nn.Linear(1024, 3072, bias=False).to(torch.bfloat16)
    packed = PackedLinear(linear)
    x = torch.randn(*rows, dtype=torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(packed(x), linear(x))


def test_only_bias_free_bfloat16_layers_are_packed():
    with pytest.raises(ValueError, match="bias"):
        PackedLinear(nn.Linear(4, 4).to(torch.bfloat16))
    with pytest.raises(ValueError, match="float32"):
        PackedLinear(nn.Linear(4, 4, bias=False))


def test_only_bfloat16_on_a_processor_is_packed():
    assert not can_pack(CPU, torch.float32)
    assert not can_pack(torch.device("cuda"), torch.bfloat16)


def test_layers_too_small_for_onednn_stay_plain():
    # torch computes them with a kernel of its own, several times faster than a oneDNN call
    model = nn.Sequential(nn.Linear(32, 64, bias=False), nn.Linear(16, 2050, bias=False)).to(torch.bfloat16)
    assert model[0].weight.numel() < SMALLEST_PACKED <= model[1].weight.numel()
    assert pack_linears(model) == 1
    assert isinstance(model[0], nn.Linear) and isinstance(model[1], PackedLinear)


def test_a_bfloat16_model_is_packed_at_load_and_renders_the_plain_models_take(monkeypatch):
    packed = Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="bfloat16")
    assert packed.precision == "bfloat16"
    linears = [module for module in packed.model.modules() if isinstance(module, (nn.Linear, PackedLinear))]
    assert any(isinstance(module, PackedLinear) for module in linears)  # the tiny model's heads
    assert all(isinstance(module, PackedLinear) == (module.in_features * module.out_features >= SMALLEST_PACKED)
               for module in linears)
    assert pack_linears(packed.model) == 0  # nothing left to pack
    monkeypatch.setattr("core.dia2.runtime.can_pack", lambda device, dtype: False)
    plain = Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="bfloat16")
    assert any(isinstance(module, nn.Linear) for module in plain.model.modules())
    assert packed.weights_bytes == plain.weights_bytes
    request = GenerationRequest(SCRIPT, GenerationParams.create(seed=4))
    (ours,), (theirs,) = packed.render(request), plain.render(request)
    assert ours.complete and len(ours.audio) > 0
    assert torch.equal(torch.as_tensor(ours.audio), torch.as_tensor(theirs.audio))


def test_int8_weights_are_counted_in_the_models_weight_bytes(tiny_runtime):
    int8 = Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="int8")
    linears = [module for module in int8.model.modules() if isinstance(module, Int8Linear)]
    quantized = sum(module.weight.numel() + 2 * module.scale.numel() for module in linears)
    others = sum(p.numel() * 2 for p in int8.model.parameters())
    assert int8.weights_bytes == quantized + others
    assert int8.weights_bytes < tiny_runtime.weights_bytes / 2
