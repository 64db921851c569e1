"""bfloat16 linear layers laid out once for oneDNN, on processors.

``F.linear`` on bfloat16 hands the product to oneDNN, which first copies the weight into its own
blocked layout, on every call: at one or two rows of activations (a frame's step) that copy costs
more than the product. A ``PackedLinear`` holds the weight in that layout from the load on, so a
product reads it as stored. The kernel is the same, so the outputs are the same, bit for bit.
"""

from __future__ import annotations

import torch
from torch import nn

from core.dia2.layers import replace_linears

# The rows a product usually has: a frame's two (the conditional and the guidance row). oneDNN
# chooses the layout for it; other row counts (a prefill's) still work.
ROWS_HINT = 2
# torch hands a bfloat16 product to oneDNN only from rows x inputs x outputs > 16^3; below, its own
# kernel takes a couple of microseconds where a oneDNN call costs some 12. Smaller layers (the
# tiny test model's) stay plain, so every product keeps the kernel it had.
SMALLEST_PACKED = 16**3 // ROWS_HINT + 1  # weight elements


def can_pack(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether oneDNN runs bfloat16 products here (a processor with AVX-512 or Arm's bf16)."""
    return (device.type == "cpu" and dtype == torch.bfloat16 and torch.backends.mkldnn.is_available()
            and torch.ops.mkldnn._is_mkldnn_bf16_supported())


class PackedLinear(nn.Module):
    """A bias-free bfloat16 ``nn.Linear`` whose weight is kept in oneDNN's layout."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        if linear.bias is not None:
            raise ValueError("Dia2's linear layers have no bias; this one does")
        if linear.weight.dtype != torch.bfloat16:
            raise ValueError(f"only bfloat16 weights are packed, not {linear.weight.dtype}")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight", torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), ROWS_HINT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.weight, None, "none", [], "")


def pack_linears(model: nn.Module) -> int:
    """Replace every bfloat16 ``nn.Linear`` of ``SMALLEST_PACKED`` weights or more in ``model`` by
    a ``PackedLinear``, in place (the plain weights are released); returns how many were replaced."""
    return replace_linears(model, lambda linear: PackedLinear(linear)
                           if linear.weight.numel() >= SMALLEST_PACKED else linear)
