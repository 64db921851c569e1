"""The building blocks Dia2's two transformers share: RMSNorm, rotary positions, a gated MLP,
and attention over a preallocated key/value cache."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Normalise in float32 whatever the activation dtype: bf16 squares lose too much.
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return (normed * self.weight.float()).to(x.dtype)


class RotaryTable:
    """cos/sin of the NeoX half-split rotary embedding for positions 0 … length-1, computed once:
    a captured graph reads it from a fixed address."""

    def __init__(self, head_dim: int, min_timescale: float, max_timescale: float, length: int,
                 device: torch.device):
        exponent = torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim
        inv_freq = 1.0 / (min_timescale * (max_timescale / min_timescale) ** exponent)
        angles = torch.outer(torch.arange(length, dtype=torch.float32, device=device), inv_freq)
        angles = torch.cat([angles, angles], dim=-1)
        self.cos, self.sin = angles.cos(), angles.sin()

    def apply(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """x: [batch, heads, time, head_dim]; positions: [time] (long)."""
        cos = self.cos[positions].to(x.dtype)
        sin = self.sin[positions].to(x.dtype)
        first, second = x.chunk(2, dim=-1)
        return x * cos + torch.cat([-second, first], dim=-1) * sin


class GatedMLP(nn.Module):
    """wo(silu(gate) * up), with [gate | up] produced by one fused projection ``wi``."""

    def __init__(self, d_model: int, n_hidden: int):
        super().__init__()
        self.wi = nn.Linear(d_model, 2 * n_hidden, bias=False)
        self.wo = nn.Linear(n_hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.wi(x).chunk(2, dim=-1)
        return self.wo(F.silu(gate) * up)


def replace_linears(model: nn.Module, make) -> int:
    """Replace every ``nn.Linear`` in ``model`` by ``make(linear)``, in place (another way of
    keeping its weights: int8, or packed; ``make`` may return the layer itself to keep it);
    returns how many were replaced."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear) and (made := make(child)) is not child:
                setattr(parent, name, made)
                replaced += 1
    return replaced


class StepPlace:
    """Where the queries of one forward pass sit: their rotary ``positions`` [T], the cache
    ``slots`` they write [T], and which slots each may read, ``visible`` [T, capacity].

    Slots are not positions: the reference processes the last prefix step twice, so the same
    position can occupy two slots, and attention sees both. Every tensor lives on the model's
    device and is filled in place, so a captured CUDA graph can read it from a fixed address.

    ``span``: when set, attention reads only the first ``span`` slots (all that is written), with
    no mask for a single query; when None it reads every slot through the mask, in shapes that
    never change, as a graph needs.
    """

    def __init__(self, count: int, capacity: int, device: torch.device, span: int | None = None):
        self.span = span
        self.positions = torch.zeros(count, dtype=torch.long, device=device)
        self.slots = torch.zeros(count, dtype=torch.long, device=device)
        self.slot_ids = torch.arange(capacity, device=device)
        self.visible = torch.zeros(count, capacity, dtype=torch.bool, device=device)

    @classmethod
    def at(cls, position: int, slot: int, count: int, capacity: int, device: torch.device,
           trim: bool = True) -> "StepPlace":
        """``count`` consecutive queries from ``position``, written from ``slot`` on (within
        ``capacity``: the caller counts the slots); ``trim``: read only the slots written so far."""
        place = cls(count, capacity, device, span=slot + count if trim else None)
        place.positions.copy_(torch.arange(position, position + count))
        place.slots.copy_(torch.arange(slot, slot + count))
        place.update_visible()
        return place

    def update_visible(self) -> None:
        """Each query sees its own slot and every slot before it (recomputed from ``slots``:
        inside a captured graph this runs on the device, after the slots were refilled)."""
        torch.le(self.slot_ids[None, :], self.slots[:, None], out=self.visible)


class SlotCache:
    """Keys and values of one attention layer, preallocated once at full capacity.

    Attention reads the written slots only, or, for a CUDA graph, every slot with the unwritten
    ones masked out, so that the shapes never change from step to step (see ``StepPlace.span``).
    """

    def __init__(self, batch: int, kv_heads: int, capacity: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device):
        shape = (batch, kv_heads, capacity, head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, place: StepPlace) -> torch.Tensor:
        """Store ``k``/``v`` ([batch, kv_heads, T, head_dim]) in ``place.slots``, then attend."""
        self.keys.index_copy_(2, place.slots, k)
        self.values.index_copy_(2, place.slots, v)
        span = place.span
        if span is None:
            return attend(q, self.keys, self.values, place.visible)
        visible = None if q.shape[2] == 1 else place.visible[:, :span]  # one query sees every written slot
        return attend(q, self.keys[:, :, :span], self.values[:, :, :span], visible)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, visible: torch.Tensor | None) -> torch.Tensor:
    """Scaled-dot-product attention with Dia2's conventions: scale 1 (the q/k norms carry the
    scale) and grouped kv heads (query head h reads kv head h // (H / H_kv)).
    ``visible``: [queries, keys] boolean mask, or None for all."""
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=visible, scale=1.0, enable_gqa=q.shape[1] != k.shape[1]
    )
