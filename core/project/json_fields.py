"""Reading project.json's fields, each checked, with the JSON path of a wrong one."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

from core.document.errors import DialogueError
from core.errors import InvalidParameter


class InvalidField(Exception):
    """A problem at a place in project.json, turned into a ProjectFileError naming the project."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where} {problem}")


def checked(data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]``, checked to be of ``kind``; ``where`` is the JSON path of ``data``."""
    place = f"{where}.{key}" if where else key
    if not isinstance(data, dict):
        raise InvalidField(where or "the file", "should be a JSON object")
    if key not in data:
        raise InvalidField(place, "is missing")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) or not isinstance(value, kinds):  # no field is a bool; True is no 1
        names = " or ".join(_KIND_NAMES[k] for k in kinds)
        raise InvalidField(place, f"should be {names}, not {json.dumps(value)[:60]}")
    return value


_KIND_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "an object", type(None): "null"}


@contextmanager
def refused_at(where: str) -> Iterator[None]:
    """Report a value the document refuses as a problem at ``where``."""
    try:
        yield
    except (DialogueError, InvalidParameter) as error:
        raise InvalidField(where, f"is not valid: {error}") from None
