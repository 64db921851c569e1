"""Dia2 runtimes with random weights in the real 1B and 2B shapes, for benchmarks.

The real weights cannot be downloaded where benchmarks are developed; speed depends only on the
shapes, so random weights of the published sizes (see the spec's table) measure the same work.
The tokenizer is the tiny parity fixture's (its ids fit any vocabulary); the codec is a random
full-size Mimi (transformers' default configuration, 79 M parameters).
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.dia2.codec import MimiCodec
from core.dia2.config import Dia2Config
from core.dia2.model import Dia2Model
from core.dia2.runtime import Dia2Runtime, prepare_linears
from core.dia2.tokenizer import TextTokenizer

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dia2_parity" / "checkpoint"

# Published shapes (spec §1 and §4); the parameter counts are checked below.
SHAPES = {
    "2b": dict(decoder=(28, 2048, 6144, 16, 8, 128), depformer=(4, 1024, 3072, 8, 8, 128), groups=5,
               parameters=1_919_556_608),
    "1b": dict(decoder=(30, 1024, 6144, 16, 8, 128), depformer=(3, 1024, 3072, 8, 8, 128), groups=3,
               parameters=1_076_244_736),
}


def _shape(values) -> dict:
    keys = ("n_layer", "n_embd", "n_hidden", "gqa_query_heads", "kv_heads", "gqa_head_dim")
    return dict(zip(keys, values))


def full_size_config(size: str) -> Dia2Config:
    shape = SHAPES[size]
    groups = shape["groups"]
    # 31 stages over the groups in contiguous runs, the first stage alone in group 0.
    schedule = [0] + [1 + (i * (groups - 1)) // 30 for i in range(30)]
    raw = {
        "data": {"channels": 34, "text_vocab_size": 49280, "audio_vocab_size": 2050, "action_vocab_size": 2,
                 "text_pad_token_id": 3, "text_new_word_token_id": 2, "text_zero_token_id": 7,
                 "audio_pad_token_id": 2049, "audio_bos_token_id": 2048, "action_pad_token_id": 0,
                 "action_new_word_token_id": 1, "delay_pattern": [16] + [18] * 31, "first_word_min_start": 3,
                 "max_pad": 8, "second_stream_ahead": 2},
        "model": {"decoder": _shape(shape["decoder"]),
                  "depformer": {**_shape(shape["depformer"]), "apply_rope": True, "text_embedding": False},
                  "dropout": 0.0, "rope_min_timescale": 1, "rope_max_timescale": 10000,
                  "normalization_layer_epsilon": 1e-6},
        "runtime": {"weights_schedule": schedule, "max_context_steps": 1500},
    }
    return Dia2Config.from_dict(raw, source=f"random {size}")


def random_runtime(size: str, device: torch.device, dtype: torch.dtype, int8: bool = False) -> Dia2Runtime:
    """``size``: "tiny" (the parity checkpoint, loaded for real), "1b" or "2b" (random). The linear
    layers keep their weights as a loaded model's do (``int8``: int8 weights, ``dtype`` bfloat16)."""
    if size == "tiny":
        return Dia2Runtime.load(FIXTURE, device=str(device), dtype="int8" if int8 else str(dtype).removeprefix("torch."),
                                cuda_graphs=False)
    config = full_size_config(size)
    torch.manual_seed(0)
    with torch.device("meta"):
        model = Dia2Model(config).to(dtype)
    # Allocated straight in the target precision, as a real checkpoint loads: peak memory counts
    # the weights once.
    model = model.to_empty(device=device)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.fill_(1.0)
            else:
                parameter.normal_(0.0, parameter.shape[-1] ** -0.5)
    count = sum(p.numel() for p in model.parameters())
    if count != SHAPES[size]["parameters"]:
        raise AssertionError(f"{size}: {count:,} parameters, the published layout has {SHAPES[size]['parameters']:,}")
    from transformers import MimiConfig, MimiModel

    prepare_linears(model, device, int8)
    codec = MimiCodec(MimiModel(MimiConfig()).to(device).eval())
    return Dia2Runtime(model, TextTokenizer(FIXTURE), codec, f"random Dia2-{size.upper()}")
