"""Older project.json formats brought up to the current one, a version at a time."""

from __future__ import annotations

from typing import Any, Callable

from core.lexicon.json_file import to_document
from core.lexicon.lexicon import Lexicon
from core.project.json_fields import InvalidField, checked
from core.project.layout import FORMAT_VERSION


def _kept_takes_of_picked(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 → 2: the one picked take becomes the take kept for each line it speaks (the
    document gives every other line the newest take that speaks it, as format 1 did)."""
    picked = checked(data, "picked_take", (str, type(None)), "")
    lines_of = {}
    for index, take in enumerate(checked(data, "takes", list, "")):
        where = f"takes[{index}]"
        lines_of[checked(take, "id", str, where)] = [checked(line, "id", str, f"{where}.lines[{number}]")
                                                     for number, line in enumerate(checked(take, "lines", list, where))]
    if picked is not None and picked not in lines_of:
        raise InvalidField("picked_take", f"is {picked!r}, which is not one of the takes")
    migrated = {key: value for key, value in data.items() if key != "picked_take"}
    migrated["kept_takes"] = {line_id: picked for line_id in lines_of.get(picked, ())}
    return migrated


def _unchecked_takes(data: dict[str, Any]) -> dict[str, Any]:
    """Format 2 → 3: the takes' checks are kept; an older project has none (the studio makes them)."""
    return {**data, "take_checks": {}}


def _empty_lexicon(data: dict[str, Any]) -> dict[str, Any]:
    """Format 3 → 4: a project keeps its pronunciation lexicon; an older one has none (and its
    takes were read as written)."""
    return {**data, "lexicon": to_document(Lexicon())}


# format_version N -> N + 1, applied in turn to files older than FORMAT_VERSION.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _kept_takes_of_picked, 2: _unchecked_takes, 3: _empty_lexicon}


def migrate(data: Any) -> dict[str, Any]:
    """Bring a project.json of an older format up to FORMAT_VERSION, one step at a time."""
    version = checked(data, "format_version", int, "")
    if version > FORMAT_VERSION:
        raise InvalidField("format_version", f"is {version}: the project was saved by a newer Dia Studio "
                           f"(this one reads up to {FORMAT_VERSION}); update Dia Studio to open it")
    while version < FORMAT_VERSION:
        if version not in MIGRATIONS:
            raise InvalidField("format_version", f"is {version}, which no Dia Studio version wrote")
        data = MIGRATIONS[version](data)
        version += 1
        data["format_version"] = version
    return data
