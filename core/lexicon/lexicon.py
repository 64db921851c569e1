"""A lexicon: entries, one for each written word or phrase; a project's entries over the shared ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from core.lexicon.entry import LexiconEntry
from core.lexicon.errors import InvalidLexiconEntry
from core.lexicon.matching import Matcher


@dataclass(frozen=True)
class Lexicon:
    """Entries in the order the author keeps them. Two entries for the same written words
    (``LexiconEntry.same_written``) are refused: which would apply is not for the order to say."""

    entries: tuple[LexiconEntry, ...] = ()

    def __post_init__(self) -> None:
        entries = tuple(self.entries)
        written = _WrittenIndex()
        for entry in entries:
            if not isinstance(entry, LexiconEntry):
                raise InvalidLexiconEntry(f"A lexicon holds entries, not {entry!r}.")
            if (earlier := written.find(entry)) is not None:
                raise InvalidLexiconEntry(f'"{entry.written}" is in the lexicon twice (also as '
                                          f'"{earlier[0].written}"); keep one of them.')
            written.add(entry)
        object.__setattr__(self, "entries", entries)

    @classmethod
    def merged(cls, project: Lexicon, shared: Lexicon) -> Lexicon:
        """The entries a project's lines are respelled with: the project's own, then the shared
        lexicon's for words the project has no entry for."""
        own = _WrittenIndex()
        for entry in project.entries:
            own.add(entry)
        return cls(project.entries + tuple(entry for entry in shared.entries if own.find(entry) is None))

    @cached_property
    def matcher(self) -> Matcher:
        """Where the entries apply in a text; built once per lexicon."""
        return Matcher(self.entries)


def first_of_each(placed: Iterable[tuple[str, LexiconEntry]]) -> tuple[Lexicon, list[str]]:
    """The lexicon of entries read from a file, each at its place ("line 3"), keeping the first
    entry for the same written words; and a problem naming each entry left out."""
    written = _WrittenIndex()
    kept, problems = [], []
    for place, entry in placed:
        if (earlier := written.find(entry)) is not None:
            problems.append(f'{place}: "{entry.written}" is already in the lexicon ({earlier[1]}); '
                            "this entry is left out.")
            continue
        written.add(entry, place)
        kept.append(entry)
    return Lexicon(tuple(kept)), problems


class _WrittenIndex:
    """Entries by their written words, to find one for the same words quickly."""

    def __init__(self) -> None:
        self._by_words: dict[tuple[str, ...], list[tuple[LexiconEntry, str]]] = {}

    def add(self, entry: LexiconEntry, place: str = "") -> None:
        self._by_words.setdefault(entry.folded_words, []).append((entry, place))

    def find(self, entry: LexiconEntry) -> tuple[LexiconEntry, str] | None:
        """The entry (and its place) already added for the same written words as ``entry``."""
        return next((found for found in self._by_words.get(entry.folded_words, ()) if found[0].same_written(entry)),
                    None)
