"""Dia Studio's own lexicon file: {"format": "dia-studio-lexicon", "version": 1, "entries":
[{"written", "spoken", "caseSensitive", "note"}, ...]}. ``to_document`` and ``from_document`` are
the same object for a lexicon kept inside another JSON file."""

from __future__ import annotations

import json
from typing import Any

from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry, InvalidLexiconFile
from core.lexicon.lexicon import Lexicon, first_of_each

FORMAT = "dia-studio-lexicon"
VERSION = 1


def to_document(lexicon: Lexicon) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION,
            "entries": [{"written": entry.written, "spoken": entry.spoken, "caseSensitive": entry.case_sensitive,
                         "note": entry.note} for entry in lexicon.entries]}


def from_document(document: Any, file: str) -> tuple[Lexicon, list[str]]:
    """The lexicon in ``document`` (parsed JSON) and the entries left out; ``file`` names where it
    came from in an error."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise InvalidLexiconFile(file, f'it is not a Dia Studio lexicon: its "format" is {json.dumps(found)}, '
                                       f'not "{FORMAT}".')
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidLexiconFile(file, f'its "version" must be a whole number from 1, not {json.dumps(version)}.')
    if version > VERSION:
        raise InvalidLexiconFile(file, f"it was written by a newer Dia Studio (lexicon version {version}; this "
                                       f"one reads version {VERSION}).")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise InvalidLexiconFile(file, '"entries" must be a list of entries.')
    return first_of_each((f"entry {number}", _entry(item, number, file)) for number, item in enumerate(entries, 1))


def read(data: bytes, file: str) -> tuple[Lexicon, list[str]]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise InvalidLexiconFile(file, f"it is not UTF-8 text (byte {error.start + 1}).") from None
    except json.JSONDecodeError as error:
        raise InvalidLexiconFile(file, f"it is not valid JSON (line {error.lineno}, column {error.colno}: "
                                       f"{error.msg}).") from None
    except RecursionError:
        raise InvalidLexiconFile(file, "its JSON nests too deeply to be a lexicon.") from None
    return from_document(document, file)


def write(lexicon: Lexicon) -> bytes:
    return (json.dumps(to_document(lexicon), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _entry(item: Any, number: int, file: str) -> LexiconEntry:
    if not isinstance(item, dict):
        raise InvalidLexiconFile(file, f"entry {number} must be an object with \"written\" and \"spoken\", "
                                       f"not {json.dumps(item)[:60]}.")
    for key in ("written", "spoken"):
        if key not in item:
            raise InvalidLexiconFile(file, f'entry {number} has no "{key}".')
    try:
        return LexiconEntry(item["written"], item["spoken"], item.get("caseSensitive", False), item.get("note", ""))
    except InvalidLexiconEntry as error:
        raise InvalidLexiconFile(file, f"entry {number}: {error}") from None
