"""Dia2's networks: the temporal backbone (one step per audio frame) and the depformer (one
stage per codebook inside a frame). Module names mirror the checkpoint's tensor names exactly,
so a state dict loads with no renaming."""

from __future__ import annotations

import torch
from torch import nn

from core.dia2.config import Dia2Config, TransformerShape
from core.dia2.layers import GatedMLP, RMSNorm, RotaryTable, SlotCache, StepPlace


def _split_heads(x: torch.Tensor, heads: int, head_dim: int) -> torch.Tensor:
    batch, time, _ = x.shape
    return x.view(batch, time, heads, head_dim).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    batch, heads, time, head_dim = x.shape
    return x.transpose(1, 2).reshape(batch, time, heads * head_dim)


class _QKNorm(nn.Module):
    """Per-head RMSNorm of queries and keys, applied before the rotary embedding."""

    def __init__(self, shape: TransformerShape, eps: float):
        super().__init__()
        self.shape = shape
        self.q_norm = RMSNorm(shape.head_dim, eps)
        self.k_norm = RMSNorm(shape.head_dim, eps)

    def attend(self, q, k, v, place: StepPlace, rope: RotaryTable | None, cache: SlotCache) -> torch.Tensor:
        s = self.shape
        q = self.q_norm(_split_heads(q, s.query_heads, s.head_dim))
        k = self.k_norm(_split_heads(k, s.kv_heads, s.head_dim))
        v = _split_heads(v, s.kv_heads, s.head_dim)
        if rope is not None:
            q, k = rope.apply(q, place.positions), rope.apply(k, place.positions)
        return _merge_heads(cache.attend(q, k, v, place))


class BackboneAttention(_QKNorm):
    def __init__(self, shape: TransformerShape, eps: float):
        super().__init__(shape, eps)
        q_width, kv_width = shape.query_heads * shape.head_dim, shape.kv_heads * shape.head_dim
        self.q_proj = nn.Linear(shape.n_embd, q_width, bias=False)
        self.k_proj = nn.Linear(shape.n_embd, kv_width, bias=False)
        self.v_proj = nn.Linear(shape.n_embd, kv_width, bias=False)
        self.o_proj = nn.Linear(q_width, shape.n_embd, bias=False)

    def forward(self, x, place, rope, cache):
        out = self.attend(self.q_proj(x), self.k_proj(x), self.v_proj(x), place, rope, cache)
        return self.o_proj(out)


class DepformerAttention(_QKNorm):
    """Attention whose projections change with the stage's weight group; q/k norms are shared."""

    def __init__(self, shape: TransformerShape, eps: float, groups: list[int]):
        super().__init__(shape, eps)
        q_width = shape.query_heads * shape.head_dim
        self.widths = (q_width, shape.kv_heads * shape.head_dim, shape.kv_heads * shape.head_dim)
        self.in_proj = nn.ModuleDict(
            {str(g): nn.Linear(shape.n_embd, sum(self.widths), bias=False) for g in groups})
        self.out_proj = nn.ModuleDict(
            {str(g): nn.Linear(q_width, shape.n_embd, bias=False) for g in groups})

    def forward(self, x, group: str, place, rope, cache):
        q, k, v = self.in_proj[group](x).split(self.widths, dim=-1)
        return self.out_proj[group](self.attend(q, k, v, place, rope, cache))


class BackboneLayer(nn.Module):
    def __init__(self, shape: TransformerShape, eps: float):
        super().__init__()
        self.pre_norm = RMSNorm(shape.n_embd, eps)
        self.attn = BackboneAttention(shape, eps)
        self.post_norm = RMSNorm(shape.n_embd, eps)
        self.mlp = GatedMLP(shape.n_embd, shape.n_hidden)

    def forward(self, x, place, rope, cache):
        x = x + self.attn(self.pre_norm(x), place, rope, cache)
        return x + self.mlp(self.post_norm(x))


class DepformerLayer(nn.Module):
    def __init__(self, shape: TransformerShape, eps: float, groups: list[int]):
        super().__init__()
        self.pre_norm = RMSNorm(shape.n_embd, eps)
        self.self_attention = DepformerAttention(shape, eps, groups)
        self.post_norm = RMSNorm(shape.n_embd, eps)
        self.mlp = GatedMLP(shape.n_embd, shape.n_hidden)

    def forward(self, x, group, place, rope, cache):
        x = x + self.self_attention(self.pre_norm(x), group, place, rope, cache)
        return x + self.mlp(self.post_norm(x))


class MultiStreamEmbedding(nn.Module):
    """main_proj(E[main]) + second_proj(E[second]); the second term vanishes where it is pad."""

    def __init__(self, vocab: int, d_model: int, pad_id: int):
        super().__init__()
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab, d_model)
        self.main_proj = nn.Linear(d_model, d_model, bias=False)
        self.second_proj = nn.Linear(d_model, d_model, bias=False)

    def forward(self, main: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        second_term = self.second_proj(self.embedding(second))
        second_term = second_term * (second != self.pad_id).unsqueeze(-1).to(second_term.dtype)
        return self.main_proj(self.embedding(main)) + second_term


class Backbone(nn.Module):
    """Reads 34 token channels per frame; predicts the action (pad / new word) and codebook 0."""

    def __init__(self, config: Dia2Config):
        super().__init__()
        shape, data = config.decoder, config.data
        self.config = config
        self.text_embed = MultiStreamEmbedding(data.text_vocab_size, shape.n_embd, data.text_pad)
        self.audio_embeds = nn.ModuleList(
            nn.Embedding(data.audio_vocab_size, shape.n_embd) for _ in range(data.num_codebooks))
        self.layers = nn.ModuleList(BackboneLayer(shape, config.norm_eps) for _ in range(shape.n_layer))
        self.norm = RMSNorm(shape.n_embd, config.norm_eps)
        self.action_head = nn.Linear(shape.n_embd, 2, bias=False)
        self.cb0_head = nn.Linear(shape.n_embd, data.audio_vocab_size, bias=False)

    def forward(self, tokens: torch.Tensor, place: StepPlace, rope: RotaryTable,
                caches: list[SlotCache]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens: [batch, time, channels] → (hidden after the final norm, action logits,
        cb0 logits), each for the last time step only; logits in float32."""
        x = self.text_embed(tokens[..., 0], tokens[..., 1])
        for codebook, embed in enumerate(self.audio_embeds):
            x = x + embed(tokens[..., 2 + codebook])
        for layer, cache in zip(self.layers, caches):
            x = layer(x, place, rope, cache)
        hidden = self.norm(x[:, -1])
        return hidden, self.action_head(hidden).float(), self.cb0_head(hidden).float()


class Depformer(nn.Module):
    """Predicts codebooks 1..N-1 of one frame, one stage per codebook, from the backbone's
    hidden state and the token just chosen for the previous codebook."""

    def __init__(self, config: Dia2Config):
        super().__init__()
        shape, data = config.depformer, config.data
        groups = config.depformer_groups
        stages = data.num_codebooks - 1
        self.schedule = [str(g) for g in config.weights_schedule]
        self.logit_width = data.audio_vocab_size - 2  # the BOS and PAD ids are never predicted
        self.audio_embeds = nn.ModuleList(nn.Embedding(data.audio_vocab_size, shape.n_embd) for _ in range(stages))
        self.depformer_in = nn.ModuleDict(
            {str(g): nn.Linear(config.decoder.n_embd, shape.n_embd, bias=False) for g in groups})
        self.layers = nn.ModuleList(
            DepformerLayer(shape, config.norm_eps, groups) for _ in range(shape.n_layer))
        self.norm = RMSNorm(shape.n_embd, config.norm_eps)
        self.logits = nn.ModuleList(nn.Linear(shape.n_embd, data.audio_vocab_size, bias=False) for _ in range(stages))

    def stage(self, stage: int, hidden: torch.Tensor, previous_token: torch.Tensor, place: StepPlace,
              rope: RotaryTable | None, caches: list[SlotCache]) -> torch.Tensor:
        """hidden: [batch, d_backbone]; previous_token: [batch]; ``place``: the stage's position
        and cache slot → float32 logits [batch, 2048]."""
        group = self.schedule[stage]
        x = (self.depformer_in[group](hidden) + self.audio_embeds[stage](previous_token)).unsqueeze(1)
        for layer, cache in zip(self.layers, caches):
            x = layer(x, group, place, rope, cache)
        return self.logits[stage](self.norm(x[:, 0]))[:, : self.logit_width].float()


class Dia2Model(nn.Module):
    def __init__(self, config: Dia2Config):
        super().__init__()
        self.config = config
        self.transformer = Backbone(config)
        self.depformer = Depformer(config)
