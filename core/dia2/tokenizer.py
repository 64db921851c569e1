"""Dia2's text tokenizer, read from the ``tokenizer.json`` that ships beside the weights.

The reference loads it through transformers with remote code enabled; we never run remote
code: the fast-tokenizer file describes the whole byte-level BPE, and the parity probes show it
encodes exactly like the reference's slow tokenizer.
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer

from core.dia2.checkpoint import CheckpointError
from core.dia2.script import SPEAKER_TAGS

# The reference treats a bos id of 0 as "missing" and then uses 1; Dia2's tokenizers have bos 0.
FALLBACK_TEXT_BOS = 1


class TextTokenizer:
    def __init__(self, folder: Path):
        path = folder / "tokenizer.json"
        try:
            self._tokenizer = Tokenizer.from_file(str(path))
        except Exception as error:  # tokenizers raises plain Exceptions for missing/corrupt files
            raise CheckpointError(f"The tokenizer ({path}) cannot be read: {error}") from None
        self.speaker_ids = {}
        for tag in SPEAKER_TAGS:
            token_id = self._tokenizer.token_to_id(tag)
            if token_id is None:
                raise CheckpointError(f"The tokenizer in {folder} has no {tag} token; it is not a Dia2 tokenizer.")
            self.speaker_ids[tag] = token_id
        self.text_bos = self._read_bos(folder) or FALLBACK_TEXT_BOS

    def _read_bos(self, folder: Path) -> int | None:
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            try:
                token = json.loads((folder / name).read_text(encoding="utf-8")).get("bos_token")
            except (OSError, ValueError):
                continue
            if isinstance(token, dict):
                token = token.get("content")
            if isinstance(token, str):
                return self._tokenizer.token_to_id(token)
        return None

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids
