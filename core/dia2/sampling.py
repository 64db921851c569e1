"""Choosing a token from logits: classifier-free guidance as a candidate filter, temperature,
top-k, and a seeded generator so a seed always gives the same tokens on the same device.

The steps are separate functions so that a recorded frame (``frame_graph``) can run the very same
operations with the temperatures and the guidance scale read from device buffers."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.params import GenerationParams

# The reference's guidance keeps the 50 best guided candidates (``cfg_filter_k``).
GUIDANCE_CANDIDATES = 50

Scale = float | torch.Tensor  # a number, or a 0-dim tensor on the logits' device


@dataclass(frozen=True)
class SamplingRule:
    temperature: float
    top_k: int

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@dataclass(frozen=True)
class Sampling:
    cfg_scale: float
    text: SamplingRule
    audio: SamplingRule

    @classmethod
    def of(cls, params: GenerationParams) -> "Sampling":
        return cls(cfg_scale=params.cfg_scale, text=SamplingRule(params.temperature, params.top_k),
                   audio=SamplingRule(params.audio_temperature, params.top_k))

    @property
    def guided(self) -> bool:
        return self.cfg_scale != 1.0


def guidance_candidates(cond: torch.Tensor, uncond: torch.Tensor, scale: Scale, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` best entries of ``uncond + scale·(cond − uncond)`` (float32).

    Guidance only filters: the token is then drawn from the *conditional* logits among these.
    """
    guided = uncond.float() + scale * (cond.float() - uncond.float())
    k = min(k, guided.shape[-1])
    mask = torch.zeros_like(guided, dtype=torch.bool)
    return mask.scatter_(-1, guided.topk(k, dim=-1).indices, True)


def candidate_logits(cond: torch.Tensor, uncond: torch.Tensor | None, cfg_scale: Scale,
                     never: tuple[int, ...] = ()) -> torch.Tensor:
    """The conditional logits (float32) with everything guidance or ``never`` rules out at -inf;
    ``uncond`` None: no guidance. ``never`` ids go *after* the guidance filter, as the reference
    does for codebook 0."""
    logits = cond.float()
    if uncond is not None:
        keep = guidance_candidates(cond, uncond, cfg_scale, GUIDANCE_CANDIDATES)
        logits = logits.masked_fill(~keep, float("-inf"))
    if never:
        logits = logits.clone()
        for token in never:  # scalar indices: no index tensor copied to the device
            logits[..., token].fill_(float("-inf"))
    return logits


def choose(cond: torch.Tensor, uncond: torch.Tensor | None, cfg_scale: float, rule: SamplingRule,
           generator: torch.Generator, never: tuple[int, ...] = ()) -> torch.Tensor:
    """One token per row of ``cond`` ([rows, vocab]) → long tensor [rows].

    ``uncond`` None or ``cfg_scale`` 1 means no guidance. ``never`` lists ids that can never be
    chosen.
    """
    guided = uncond if cfg_scale != 1.0 else None
    return sample(candidate_logits(cond, guided, cfg_scale, never), rule, generator)


def sample(logits: torch.Tensor, rule: SamplingRule, generator: torch.Generator) -> torch.Tensor:
    """softmax(logits / T) → top-k on the probabilities → renormalise → draw. T ≤ 0 is argmax."""
    if rule.greedy:
        return logits.argmax(dim=-1)
    return draw_top_k(logits / rule.temperature, rule.top_k, generator)


def draw_top_k(scaled: torch.Tensor, top_k: int, generator: torch.Generator) -> torch.Tensor:
    """Draw from softmax(``scaled``) restricted to its ``top_k`` most likely entries."""
    probs = torch.softmax(scaled, dim=-1)
    probs = torch.nan_to_num(probs, nan=0.0)
    k = min(top_k, probs.shape[-1])
    top_probs, top_ids = probs.topk(k, dim=-1)
    top_probs = top_probs / top_probs.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(top_probs.dtype).tiny)
    picked = _draw_one(top_probs, generator)
    return top_ids.gather(-1, picked).squeeze(-1)


def skip_choice(rule: SamplingRule, vocab: int, generator: torch.Generator) -> None:
    """Use up the random numbers ``sample`` draws for one row of ``vocab`` logits, without the
    logits: a choice whose token would be thrown away is skipped, and every later choice still
    gets the random numbers it gets when nothing is skipped."""
    if not rule.greedy:
        torch.empty(1, min(rule.top_k, vocab), device=generator.device).exponential_(1, generator=generator)


def _draw_one(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One index per row, drawn with probability ``probs``: exactly what ``torch.multinomial(probs,
    1)`` computes (argmax of p / Exp(1)), with the same random numbers, but without its checks of
    the probabilities, which read them back to the host and stall a GPU at every draw."""
    noise = torch.empty_like(probs).exponential_(1, generator=generator)
    return (probs / noise).argmax(dim=-1, keepdim=True)
