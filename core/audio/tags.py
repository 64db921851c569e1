"""What an exported file says about how it was made.

Players show ``title`` and ``artist`` (the speakers); the ``comment`` tag holds JSON with the seed
and the generation parameters, so the take can be reproduced from the file alone. The same three
tag names work in ID3 (MP3), RIFF INFO (WAV) and Vorbis comments (FLAC, OGG).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import av

SOFTWARE_NAME = "Dia Studio"
# The script can be long; a tag needs only enough of it to recognise the take (the project keeps
# all of it), and players and tag editors show a comment of a few kB, not a book.
MAX_TEXT_CHARS = 1000


@dataclass(frozen=True)
class ExportMetadata:
    title: str = ""
    speakers: tuple[str, ...] = ()
    seed: int | None = None
    # The generation request in the API's field names (CFGScale, settings.temperature, ...).
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def to_tags(self) -> dict[str, str]:
        """The tags to write: ``title``, ``artist`` and ``comment``."""
        made_with = {
            "software": SOFTWARE_NAME,
            "seed": self.seed,
            "speakers": list(self.speakers),
            "parameters": _shorten_texts(dict(self.parameters)),
        }
        tags = {"comment": json.dumps(made_with, sort_keys=True, default=str)}
        if self.title:
            tags["title"] = self.title
        if self.speakers:
            tags["artist"] = ", ".join(self.speakers)
        return tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> ExportMetadata:
        """Read back what :meth:`to_tags` wrote; a file from elsewhere gives at least its title."""
        title = tags.get("title", "")
        try:
            made_with = json.loads(tags.get("comment", ""))
        except json.JSONDecodeError:
            made_with = None
        if not isinstance(made_with, dict) or made_with.get("software") != SOFTWARE_NAME:
            return cls(title=title)
        return cls(
            title=title,
            speakers=tuple(made_with.get("speakers", ())),
            seed=made_with.get("seed"),
            parameters=made_with.get("parameters", {}),
        )


def read_tags(path: str | PathLike[str]) -> dict[str, str]:
    """The tags of an audio file, with lower-case names (container and audio-stream tags merged:
    Ogg keeps its Vorbis comments on the stream)."""
    with av.open(str(path)) as container:
        tags = dict(container.metadata)
        if container.streams.audio:
            tags.update(container.streams.audio[0].metadata)
    return {name.lower(): value for name, value in tags.items()}


def _shorten_texts(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return value[: MAX_TEXT_CHARS - 1] + "…"
    if isinstance(value, Mapping):
        return {key: _shorten_texts(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shorten_texts(item) for item in value]
    return value
