"""The one validated model of the generation request fields (docs/parameters.md lists them for users).

Names, ranges and defaults follow the hosted ``audioInference`` API that serves Dia2. The GUI's
parameter panel, the command line and project files all build a :class:`GenerationParams`
through :meth:`GenerationParams.create` or :meth:`GenerationParams.from_dict`, so a value out
of range is refused the same way everywhere, with the field, the value and the allowed range.
Output (export) fields live in :mod:`core.audio.formats`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from core.errors import InvalidParameter

SEED_MAX = 2_147_483_647

# Model ids the studio accepts; the hosted id names the 2B model.
MODEL_IDS = {
    "runware:dia2@2b": "nari-labs/Dia2-2B",
    "dia2-2b": "nari-labs/Dia2-2B",
    "dia2-1b": "nari-labs/Dia2-1B",
}
DEFAULT_MODEL = "dia2-2b"
# The model's state after voice prompts, kept for the next generation with the same voices
# (core/dia2/warm_states.py): two 10 s prompts hold about 55 MB on the 1B model, 110 MB on the 2B.
DEFAULT_WARM_VOICES_MB = 512


@dataclass(frozen=True)
class FieldSpec:
    """Range, default and help text of one numeric field; the GUI builds its widgets from these."""

    name: str  # the API name, e.g. "settings.topK"
    minimum: float
    maximum: float
    default: float | int | None
    integer: bool
    help: str


FIELD_SPECS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("seed", 0, SEED_MAX, None, True,
                  "Reproducible generation: the same seed, script, voices and settings give the same audio."),
        FieldSpec("CFGScale", 1.0, 30.0, 3.0, False,
                  "Guidance strength: how strictly the audio follows the script. 1 disables guidance."),
        FieldSpec("settings.temperature", 0.0, 5.0, 0.6, False,
                  "Randomness of the text/timing decisions. 0 always picks the most likely choice."),
        FieldSpec("settings.audioTemperature", 0.0, 5.0, 0.8, False,
                  "Randomness of the voice sound itself. Lower is steadier, higher more varied."),
        FieldSpec("settings.topK", 1, 500, 50, True,
                  "How many of the most likely candidates each sampling step may choose from."),
        FieldSpec("numberResults", 1, 4, 1, True,
                  "How many variations (takes) to make; each uses the next seed."),
    )
}
NEGATIVE_PROMPT_LENGTH = (2, 3000)


def _check_number(name: str, value: Any) -> float | int:
    spec = FIELD_SPECS[name]
    kind = "an integer" if spec.integer else "a number"
    allowed = f"{kind} from {_fmt(spec.minimum)} to {_fmt(spec.maximum)}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameter(name, value, allowed)
    if spec.integer and (isinstance(value, float) and not value.is_integer()):
        raise InvalidParameter(name, value, allowed)
    # No float() of an int: a huge JSON integer would overflow it; NaN fails the range test.
    if (isinstance(value, float) and not math.isfinite(value)) or not spec.minimum <= value <= spec.maximum:
        raise InvalidParameter(name, value, allowed)
    return int(value) if spec.integer else float(value)


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


@dataclass(frozen=True)
class GenerationParams:
    """Everything that steers a generation, validated. ``seed`` None means "pick one at random"."""

    model: str = DEFAULT_MODEL
    negative_prompt: str | None = None
    seed: int | None = None
    cfg_scale: float = 3.0
    temperature: float = 0.6
    audio_temperature: float = 0.8
    top_k: int = 50
    include_prefix: bool = False
    number_results: int = 1

    # API name -> attribute name; the only place the two spellings meet.
    API_NAMES = {
        "model": "model",
        "negativePrompt": "negative_prompt",
        "seed": "seed",
        "CFGScale": "cfg_scale",
        "settings.temperature": "temperature",
        "settings.audioTemperature": "audio_temperature",
        "settings.topK": "top_k",
        "settings.includePrefix": "include_prefix",
        "numberResults": "number_results",
    }

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in MODEL_IDS:
            raise InvalidParameter("model", self.model, "one of " + ", ".join(sorted(MODEL_IDS)))
        if self.negative_prompt is not None:
            low, high = NEGATIVE_PROMPT_LENGTH
            if not isinstance(self.negative_prompt, str) or not low <= len(self.negative_prompt) <= high:
                raise InvalidParameter("negativePrompt", self.negative_prompt,
                                       f"a text of {low} to {high} characters")
        if not isinstance(self.include_prefix, bool):
            raise InvalidParameter("settings.includePrefix", self.include_prefix, "true or false")
        for api_name, attribute in self.API_NAMES.items():
            if api_name in FIELD_SPECS and not (api_name == "seed" and self.seed is None):
                object.__setattr__(self, attribute, _check_number(api_name, getattr(self, attribute)))

    @classmethod
    def create(cls, **values: Any) -> "GenerationParams":
        """Build from attribute names, leaving out None values so defaults apply."""
        return cls(**{key: value for key, value in values.items() if value is not None})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GenerationParams":
        """Build from the API's nested JSON form (``{"CFGScale": 3, "settings": {"topK": 50}}``)."""
        flat = dict(data)
        settings = flat.pop("settings", None) or {}
        if not isinstance(settings, dict):
            raise InvalidParameter("settings", settings, "an object such as {\"topK\": 50}")
        known = "a known field: " + ", ".join(cls.API_NAMES)
        for key in sorted(flat, key=str):
            # A dotted name is the nested form's spelling only; at the top level it is unknown.
            if key not in cls.API_NAMES or "." in key:
                raise InvalidParameter(key, flat[key], known + ' (settings.* go inside "settings")')
        for key, value in settings.items():
            if f"settings.{key}" not in cls.API_NAMES:
                raise InvalidParameter(f"settings.{key}", value, known)
            flat[f"settings.{key}"] = value
        return cls(**{cls.API_NAMES[key]: value for key, value in flat.items()})

    def to_dict(self) -> dict[str, Any]:
        """The API's nested JSON form; ``from_dict(to_dict())`` gives back an equal object."""
        out: dict[str, Any] = {}
        for api_name, attribute in self.API_NAMES.items():
            value = getattr(self, attribute)
            if value is None:
                continue
            if api_name.startswith("settings."):
                out.setdefault("settings", {})[api_name.split(".", 1)[1]] = value
            else:
                out[api_name] = value
        return out

    @property
    def guidance_enabled(self) -> bool:
        return self.cfg_scale > 1.0

    def with_seed(self, seed: int | None = None) -> "GenerationParams":
        """A copy with a concrete seed: the given one, this one, or a fresh random one."""
        if seed is None:
            seed = self.seed if self.seed is not None else random.randint(0, SEED_MAX)
        return replace(self, seed=seed)

    def take_seeds(self) -> list[int]:
        """Seeds of the ``number_results`` takes: seed, seed+1, ... (wrapping inside the range)."""
        if self.seed is None:
            raise ValueError("call with_seed() first: the takes need a concrete seed")
        return [(self.seed + i) % (SEED_MAX + 1) for i in range(self.number_results)]
