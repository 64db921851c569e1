"""Weight-only int8 for processors without a GPU: every linear layer keeps its weights as int8
with one scale per output row, and computes in bfloat16.

On a CPU the runtime is bound by reading weights (a frame reads the backbone once and each
depformer group once per stage), so storing a quarter of float32's bytes is what makes a frame
faster. Embeddings and norms stay as they are: they are read a row at a time.
"""

from __future__ import annotations

import torch
from torch import nn

from core.dia2.layers import replace_linears

COMPUTE_DTYPE = torch.bfloat16


class Int8Linear(nn.Module):
    """A bias-free ``nn.Linear`` with symmetric per-row int8 weights."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        if linear.bias is not None:
            raise ValueError("Dia2's linear layers have no bias; this one does")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp_min(torch.finfo(torch.float32).tiny) / 127
        quantized = (weight / scale[:, None]).round().clamp_(-127, 127).to(torch.int8)
        self.register_buffer("weight", quantized)
        self.register_buffer("scale", scale.to(COMPUTE_DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).to(COMPUTE_DTYPE)
        out = torch._weight_int8pack_mm(rows, self.weight, self.scale)
        return out.reshape(*x.shape[:-1], self.out_features).to(x.dtype)


def quantize_linears(model: nn.Module) -> int:
    """Replace every ``nn.Linear`` in ``model`` by an ``Int8Linear``, in place (the float weights
    are released); returns how many were replaced."""
    return replace_linears(model, Int8Linear)
