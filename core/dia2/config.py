"""config.json of a Dia2 checkpoint → typed, validated configuration.

Every value comes from the file. A default is used only where the reference code itself has
one and the released configs leave the key out (``mlp_activations``, ``text_zero_token_id``,
the normalisation epsilon); those defaults are named below with where they come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import DiaStudioError


class InvalidConfig(DiaStudioError):
    """config.json is missing, unreadable, or lacks a value the model needs."""


# Defaults of the reference code for keys the released configs may omit.
DEFAULT_MLP_ACTIVATIONS = ("silu", "linear")
DEFAULT_TEXT_ZERO_TOKEN_ID = 7
DEFAULT_NORM_EPSILON = 1e-5


@dataclass(frozen=True)
class TransformerShape:
    n_layer: int
    n_embd: int
    n_hidden: int
    query_heads: int
    kv_heads: int
    head_dim: int
    mlp_activations: tuple[str, ...]


@dataclass(frozen=True)
class DataConfig:
    channels: int
    text_vocab_size: int
    audio_vocab_size: int
    text_pad: int
    text_new_word: int
    text_zero: int
    audio_pad: int
    audio_bos: int
    delay_pattern: tuple[int, ...]
    second_stream_ahead: int

    @property
    def num_codebooks(self) -> int:
        return len(self.delay_pattern)

    @property
    def max_delay(self) -> int:
        return max(self.delay_pattern)


@dataclass(frozen=True)
class Dia2Config:
    data: DataConfig
    decoder: TransformerShape
    depformer: TransformerShape
    depformer_apply_rope: bool
    depformer_text_embedding: bool
    rope_min_timescale: float
    rope_max_timescale: float
    norm_eps: float
    weights_schedule: tuple[int, ...]
    max_context_steps: int
    assets: dict[str, str]

    @property
    def depformer_groups(self) -> list[int]:
        """The distinct weight-group ids; tensors are named by the id itself, not by its rank."""
        return sorted(set(self.weights_schedule))

    @classmethod
    def from_file(cls, path: str | Path) -> "Dia2Config":
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidConfig(f"The model folder has no config.json ({path}).") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidConfig(f"config.json cannot be read ({path}): {error}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "config.json") -> "Dia2Config":
        reader = _Reader(raw, source)
        reader.section("model")
        linear_activations = reader.optional(("model", "linear", "mlp_activations"), DEFAULT_MLP_ACTIVATIONS)
        data = DataConfig(
            channels=reader.int("data", "channels"),
            text_vocab_size=reader.int("data", "text_vocab_size"),
            audio_vocab_size=reader.int("data", "audio_vocab_size"),
            text_pad=reader.int("data", "text_pad_token_id"),
            text_new_word=reader.int("data", "text_new_word_token_id"),
            text_zero=reader.optional_int(("data", "text_zero_token_id"), DEFAULT_TEXT_ZERO_TOKEN_ID),
            audio_pad=reader.int("data", "audio_pad_token_id"),
            audio_bos=reader.int("data", "audio_bos_token_id"),
            delay_pattern=reader.int_list("data", "delay_pattern"),
            second_stream_ahead=reader.int("data", "second_stream_ahead"),
        )
        config = cls(
            data=data,
            decoder=reader.shape("decoder", linear_activations),
            depformer=reader.shape("depformer", linear_activations),
            depformer_apply_rope=reader.bool(("model", "depformer", "apply_rope")),
            depformer_text_embedding=reader.bool(("model", "depformer", "text_embedding"), default=False),
            rope_min_timescale=reader.number(("model", "rope_min_timescale")),
            rope_max_timescale=reader.number(("model", "rope_max_timescale")),
            norm_eps=reader.number(("model", "normalization_layer_epsilon"), default=DEFAULT_NORM_EPSILON),
            weights_schedule=reader.int_list("runtime", "weights_schedule"),
            max_context_steps=reader.int("runtime", "max_context_steps"),
            assets=reader.assets(),
        )
        config._check(reader)
        return config

    def _check(self, reader: "_Reader") -> None:
        data = self.data
        if data.channels != 2 + data.num_codebooks:
            reader.fail(f"data.channels is {data.channels} but delay_pattern has {data.num_codebooks} "
                        "codebooks (channels must be 2 text streams + the codebooks)")
        if len(self.weights_schedule) != data.num_codebooks - 1:
            reader.fail(f"runtime.weights_schedule has {len(self.weights_schedule)} entries; the depformer "
                        f"predicts {data.num_codebooks - 1} codebooks")
        if self.depformer_text_embedding:
            reader.fail("model.depformer.text_embedding is true; no released Dia2 checkpoint uses it")
        for shape, name in ((self.decoder, "decoder"), (self.depformer, "depformer")):
            sizes = {key: getattr(shape, key) for key in ("n_layer", "n_embd", "n_hidden", "query_heads",
                                                          "kv_heads", "head_dim")}
            for key, size in sizes.items():
                if size < 1:
                    reader.fail(f"model.{name}: {key} must be at least 1, not {size}")
            if shape.query_heads % shape.kv_heads:
                reader.fail(f"model.{name}: gqa_query_heads must be a multiple of kv_heads")
            if tuple(shape.mlp_activations) != ("silu", "linear"):
                reader.fail(f"model.{name}: mlp_activations {list(shape.mlp_activations)} are not supported "
                            "(Dia2 uses a gated SiLU MLP: ['silu', 'linear'])")



class _Reader:
    """Reads nested keys and names the missing one in its error."""

    def __init__(self, raw: dict[str, Any], source: str):
        self.raw = raw
        self.source = source

    def fail(self, message: str) -> None:
        raise InvalidConfig(f"{self.source}: {message}.")

    def value(self, *keys: str) -> Any:
        node: Any = self.raw
        for depth, key in enumerate(keys):
            if not isinstance(node, dict) or key not in node:
                self.fail(f"the key {'.'.join(keys[:depth + 1])} is missing; this is not a Dia2 config")
            node = node[key]
        return node

    def optional(self, keys: tuple[str, ...], default: Any) -> Any:
        node: Any = self.raw
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    def int(self, *keys: str) -> int:
        value = self.value(*keys)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{'.'.join(keys)} must be an integer, not {value!r}")
        return value

    def optional_int(self, keys: tuple[str, ...], default: int) -> int:
        return self.int(*keys) if self.optional(keys, None) is not None else default

    def int_list(self, *keys: str) -> tuple[int, ...]:
        values = self.value(*keys)
        if not isinstance(values, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            self.fail(f"{'.'.join(keys)} must be a list of non-negative integers, not {values!r}")
        return tuple(values)

    def bool(self, keys: tuple[str, ...], default: bool | None = None) -> bool:
        value = self.value(*keys) if default is None else self.optional(keys, default)
        if not isinstance(value, bool):
            self.fail(f"{'.'.join(keys)} must be true or false, not {value!r}")
        return value

    def number(self, keys: tuple[str, ...], default: float | None = None) -> float:
        value = self.value(*keys) if default is None else self.optional(keys, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{'.'.join(keys)} must be a number, not {value!r}")
        return float(value)

    def assets(self) -> dict[str, str]:
        value = self.optional(("assets",), None) or {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail(f"assets must map names to folder paths or Hub ids, not {value!r}")
        return dict(value)

    def section(self, key: str) -> dict[str, Any]:
        value = self.value(key)
        if not isinstance(value, dict):
            self.fail(f"{key} must be an object")
        return value

    def shape(self, name: str, fallback_activations: Any) -> TransformerShape:
        keys = ("model", name)
        section = self.value(*keys)
        if not isinstance(section, dict):
            self.fail(f"model.{name} must be an object")
        activations = section.get("mlp_activations", fallback_activations)
        if not isinstance(activations, (list, tuple)) or not all(isinstance(a, str) for a in activations):
            self.fail(f"model.{name}.mlp_activations must be a list of names, not {activations!r}")
        return TransformerShape(
            n_layer=self.int(*keys, "n_layer"),
            n_embd=self.int(*keys, "n_embd"),
            n_hidden=self.int(*keys, "n_hidden"),
            query_heads=self.int(*keys, "gqa_query_heads"),
            kv_heads=self.int(*keys, "kv_heads"),
            head_dim=self.int(*keys, "gqa_head_dim"),
            mlp_activations=tuple(activations),
        )
