"""Access to the golden parity fixture recorded from the reference runtime (see its README)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from core.dia2.prefix import VoicePrompt

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "dia2_parity"
CHECKPOINT = FIXTURE / "checkpoint"
GOLDENS = FIXTURE / "goldens"
CASES = list(json.loads((GOLDENS / "_index.json").read_text())["cases"])
PREFIX_FRAMES = {"prefix_s1.wav": 25, "prefix_s2.wav": 20}


@dataclass(frozen=True)
class TimedWord:
    text: str
    start_s: float
    end_s: float


@dataclass
class GoldenCase:
    name: str

    @cached_property
    def json(self) -> dict:
        return json.loads((GOLDENS / f"{self.name}.json").read_text())

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        with np.load(GOLDENS / f"{self.name}.npz") as data:
            return {key: data[key] for key in data.files}

    @property
    def settings(self) -> dict:
        return self.json["settings"]

    @property
    def has_prefix(self) -> bool:
        return "prefix" in self.json

    def prefix_files(self) -> list[str]:
        return [item["file"] for item in self.json["prefix"]["transcription"]]

    def voice_prompts(self, codes: torch.Tensor | None = None) -> tuple[VoicePrompt, ...]:
        """The case's voice prompts with its fixed word timings; the stored prefix codes unless
        ``codes`` (our own encoding) is given."""
        if not self.has_prefix:
            return ()
        codes = codes if codes is not None else torch.from_numpy(self.arrays["prefix_codes"].astype(np.int64))
        prompts, offset = [], 0
        for item in self.json["prefix"]["transcription"]:
            frames = PREFIX_FRAMES[item["file"]]
            words = [TimedWord(w["text"], w["start"], w["end"]) for w in item["words"]]
            prompts.append(VoicePrompt(codes[:, offset:offset + frames], words))
            offset += frames
        return tuple(prompts)


def entries_as_json(entries) -> list[dict]:
    return [{"text": e.text, "tokens": list(e.tokens), "hold": e.hold} for e in entries]


def assert_take_matches_golden(take, case: GoldenCase) -> None:
    """A rendered take (a TakeResult) against the case's codes, word times and waveform."""
    np.testing.assert_array_equal(take.codes, case.arrays["codes"])
    assert len(take.words) == len(case.json["timestamps"])
    for (word, at), (golden_word, golden_at) in zip(take.words, case.json["timestamps"]):
        assert word == golden_word and abs(at - golden_at) < 1e-9
    wave = case.json["waveform"]
    assert take.sample_rate == wave["sample_rate"] and take.audio.shape == (wave["num_samples"],)
    np.testing.assert_allclose(take.audio[:32], wave["first_32"], atol=1e-4)
    np.testing.assert_allclose(take.audio[::1000], wave["every_1000th"], atol=1e-4)
    rms = float(np.sqrt(np.mean(take.audio.astype(np.float64) ** 2)))
    assert abs(rms - wave["rms"]) <= 1e-5 * wave["rms"]
    assert abs(int(np.sum(np.abs(take.audio) >= 1.0)) - wave["num_clipped"]) <= 5
    if "waveform" in case.arrays:
        np.testing.assert_allclose(take.audio, case.arrays["waveform"], atol=1e-4)
