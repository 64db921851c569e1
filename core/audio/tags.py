"""What an exported file says about how it was made.

Players show ``title`` and ``artist`` (the speakers heard); the ``comment`` tag holds JSON with the
seed and the generation parameters, so the take can be reproduced from the file alone. A file cut
from several takes says what they share, and under ``takes`` the lines each one speaks and what it
was made with beyond that: no take's seed is claimed for lines another take speaks. The same three
tag names work in ID3 (MP3), RIFF INFO (WAV) and Vorbis comments (FLAC, OGG).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import PurePath
from typing import Any

import av

SOFTWARE_NAME = "Dia Studio"
# The script can be long; a tag needs only enough of it to recognise the take (the project keeps
# all of it), and players and tag editors show a comment of a few kB, not a book.
MAX_TEXT_CHARS = 1000


def as_made(parameters: Mapping[str, Any], model: str | None) -> dict[str, Any]:
    """A take's request fields with the model that really made it in place of the one the request
    asked for (a local folder is not a model id); None, not known: no model at all. A local folder
    is named by its own name only: a shared file does not tell where its maker keeps things."""
    made = {key: value for key, value in parameters.items() if key != "model"}
    return made if model is None else {"model": shareable_model_name(model)} | made


def shareable_model_name(model: str) -> str:
    """``/home/ann/models/Dia2-2B`` → ``Dia2-2B (local folder)``; a Hub id stays as it is."""
    path = PurePath(model)
    return f"{path.name} (local folder)" if path.is_absolute() else model


@dataclass(frozen=True)
class TakeUsed:
    """One of the takes a file is cut from."""

    lines: tuple[int, ...]  # the dialogue's lines it speaks in the file, numbered from 1
    parameters: Mapping[str, Any]  # what it was made with beyond what the file's takes share


@dataclass(frozen=True)
class ExportMetadata:
    title: str = ""
    speakers: tuple[str, ...] = ()
    seed: int | None = None  # None when the takes had different seeds
    # The generation request in the API's field names (model, CFGScale, settings.temperature, ...):
    # of the take, or what all the takes share.
    parameters: Mapping[str, Any] = field(default_factory=dict)
    takes: tuple[TakeUsed, ...] = ()  # when the file is cut from more than one take

    @classmethod
    def of_takes(cls, title: str, speakers: tuple[str, ...],
                 takes: Sequence[tuple[tuple[int, ...], Mapping[str, Any]]]) -> ExportMetadata:
        """The metadata of a file cut from ``takes``: (the lines each speaks, its request fields)."""
        shared = _shared([parameters for _, parameters in takes])
        used = () if len(takes) == 1 else tuple(TakeUsed(lines, _beyond(parameters, shared))
                                                for lines, parameters in takes)
        return cls(title, speakers, shared.get("seed"), shared, used)

    def to_tags(self) -> dict[str, str]:
        """The tags to write: ``title``, ``artist`` and ``comment``."""
        made_with: dict[str, Any] = {
            "software": SOFTWARE_NAME,
            "speakers": list(self.speakers),
            "parameters": _shorten_texts(dict(self.parameters)),
        }
        if self.seed is not None:
            made_with["seed"] = self.seed
        if self.takes:
            made_with["takes"] = [{"lines": list(take.lines), "parameters": _shorten_texts(dict(take.parameters))}
                                  for take in self.takes]
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
            takes=tuple(TakeUsed(tuple(take["lines"]), take["parameters"]) for take in made_with.get("takes", ())),
        )


def read_tags(path: str | PathLike[str]) -> dict[str, str]:
    """The tags of an audio file, with lower-case names (container and audio-stream tags merged:
    Ogg keeps its Vorbis comments on the stream)."""
    with av.open(str(path)) as container:
        tags = dict(container.metadata)
        if container.streams.audio:
            tags.update(container.streams.audio[0].metadata)
    return {name.lower(): value for name, value in tags.items()}


def _shared(all_parameters: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The fields of equal value in every one (inside ``settings`` too)."""
    first, *others = all_parameters
    shared = {}
    for key, value in first.items():
        values = [value] + [other.get(key, _MISSING) for other in others]
        if all(isinstance(each, Mapping) for each in values):
            inner = _shared(values)
            if inner:
                shared[key] = inner
        elif all(each == value for each in values):
            shared[key] = value
    return shared


def _beyond(parameters: Mapping[str, Any], shared: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``parameters`` that ``shared`` does not hold."""
    beyond = {}
    for key, value in parameters.items():
        if isinstance(value, Mapping) and isinstance(shared.get(key), Mapping):
            inner = _beyond(value, shared[key])
            if inner:
                beyond[key] = inner
        elif key not in shared:
            beyond[key] = value
    return beyond


_MISSING = object()


def _shorten_texts(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return value[: MAX_TEXT_CHARS - 1] + "…"
    if isinstance(value, Mapping):
        return {key: _shorten_texts(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shorten_texts(item) for item in value]
    return value
