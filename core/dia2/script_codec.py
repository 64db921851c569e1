"""The text and audio sides of a Dia2 checkpoint without its transformer: the tokenizer that
reads scripts and the Mimi codec that turns voices into codes. ``Dia2Runtime`` is one with the
model added; a cluster's ingress (``app.cluster``) holds one alone, to check scripts and encode
voices while its replicas generate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.dia2.checkpoint import ProgressCallback, resolve
from core.dia2.codec import MimiCodec
from core.dia2.incremental_script import IncrementalScript
from core.dia2.own_thread import on_own_thread
from core.dia2.script import Entry, parse_script
from core.dia2.tokenizer import TextTokenizer
from core.params import MODEL_IDS


class ScriptCodec:
    def __init__(self, tokenizer: TextTokenizer, codec: MimiCodec):
        self.tokenizer = tokenizer
        self.codec = codec

    @classmethod
    def load(cls, model: str | Path, progress: ProgressCallback | None = None,
             cache_dir: str | Path | None = None) -> "ScriptCodec":
        """The tokenizer and codec of ``model`` (as ``Dia2Runtime.load`` names it), on the processor."""
        folders = resolve(MODEL_IDS.get(str(model), str(model)), progress, cache_dir)
        return cls(TextTokenizer(folders.tokenizer), MimiCodec.from_folder(folders.codec))

    @property
    def frame_rate(self) -> float:
        return self.codec.frame_rate

    @property
    def sample_rate(self) -> int:
        return self.codec.sample_rate

    def parse(self, text: str, force_first_speaker: bool = True) -> list[Entry]:
        return parse_script(text, self.tokenizer.encode, self.tokenizer.speaker_ids["[S1]"], self.frame_rate,
                            force_first_speaker=force_first_speaker)

    def incremental_script(self) -> IncrementalScript:
        """A parser for a script that arrives in pieces (the entries ``parse`` gives the whole)."""
        return IncrementalScript(self.tokenizer.encode, self.tokenizer.speaker_ids["[S1]"], self.frame_rate)

    def encode_voice(self, samples: np.ndarray) -> torch.Tensor:
        """Mono float32 audio at the codec's rate → Mimi codes [codebooks, frames]. Callable from
        any thread: the encoding runs on one of its own, so the caller's (a server's pooled
        thread) is left without the OpenMP threads it would otherwise keep (``own_thread``)."""
        return on_own_thread(lambda: self.codec.encode(samples).cpu(), name="voice-encode")
