"""Where a lexicon's entries apply in a text.

A text is cut into words as the Dia2 runtime cuts it (``word_spans``: whitespace and pause tags,
colons counting as spaces, ``’`` read as ``'``). An entry matches whole words only: "SQL" is not in
"SQLite" or "SQL-based". Punctuation around the words stays outside the match and is kept
("(SQL)," → "(sequel),"), and so does a possessive after the last word ("Nguyen's" → "Win's").
A phrase's words match across any run of spaces, never across a pause tag. Case is ignored unless
the entry is case-sensitive. Scanning left to right, the entry with the most words wins at a
position (then the longer written text, then a case-sensitive one); matches never overlap, and
what an entry puts in is not scanned again. Speaker tags, anything holding ``<`` or ``>`` and cues
(lowercase words in parentheses, ``(laughs)``) are never matched.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.dia2.script import TAG_LIKE
from core.lexicon.entry import CUE, LexiconEntry

_LEAD = r"(?P<lead>[^\w\s]*?)"
_TRAIL = r"(?P<trail>(?:'[sS])?[^\w\s]*)"
_POSSESSIVE = re.compile(r"'[sS][^\w\s]*\Z")


@dataclass(frozen=True)
class Match:
    """An entry found in a text: its words (indexes into the text's ``word_spans``) and the
    characters it replaces (the words less the punctuation and possessive around them)."""

    entry: LexiconEntry
    first_word: int
    last_word: int
    start: int
    end: int


class _Compiled:
    """An entry's words as patterns, one per word: the first may follow punctuation, the last be
    followed by a possessive and punctuation."""

    def __init__(self, entry: LexiconEntry):
        self.entry = entry
        flags = 0 if entry.case_sensitive else re.IGNORECASE
        words = [re.escape(word) for word in entry.words]
        words[0] = _LEAD + words[0]
        words[-1] += _TRAIL
        self.patterns = tuple(re.compile(word, flags) for word in words)
        self.priority = (-len(words), -len(entry.written), not entry.case_sensitive)


class Matcher:
    def __init__(self, entries: Sequence[LexiconEntry]):
        self._by_first_word: dict[str, list[_Compiled]] = {}
        for entry in entries:
            self._by_first_word.setdefault(_key(entry.words[0]), []).append(_Compiled(entry))
        for candidates in self._by_first_word.values():
            candidates.sort(key=lambda compiled: compiled.priority)

    def find_all(self, normal: str, spans: Sequence[tuple[int, int]]) -> list[Match]:
        """The matches in ``normal`` (a text as ``normalize`` leaves it) whose words lie at
        ``spans`` (``word_spans``), left to right."""
        if not self._by_first_word:
            return []
        locked = _locked_words(normal, spans)
        matches: list[Match] = []
        word = 0
        while word < len(spans):
            match = None if locked[word] else self._match_at(normal, spans, locked, word)
            if match is None:
                word += 1
                continue
            matches.append(match)
            word = match.last_word + 1
        return matches

    def _match_at(self, normal: str, spans: Sequence[tuple[int, int]], locked: Sequence[bool],
                  first: int) -> Match | None:
        for compiled in self._candidates(normal[slice(*spans[first])]):
            last = first + len(compiled.patterns) - 1
            words = spans[first:last + 1]
            if last >= len(spans) or any(locked[first:last + 1]) or not _one_run(normal, words):
                continue
            found = [pattern.fullmatch(normal, *span) for pattern, span in zip(compiled.patterns, words)]
            if all(found):
                return Match(compiled.entry, first, last, found[0].end("lead"), found[-1].start("trail"))
        return None

    def _candidates(self, word: str) -> list[_Compiled]:
        keys = {_key(word), _key(_POSSESSIVE.sub("", word))}
        candidates = [compiled for key in keys for compiled in self._by_first_word.get(key, ())]
        return sorted(candidates, key=lambda compiled: compiled.priority) if len(keys) > 1 else candidates


def _key(word: str) -> str:
    """What a word is looked up by: its letters and digits, case apart (punctuation around it and
    inside it, as in "U.S.", left out)."""
    return "".join(character for character in word if character.isalnum()).casefold()


def _one_run(normal: str, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether the words follow each other with only spaces between (no pause tag)."""
    return all(normal[before[1]:after[0]].isspace() for before, after in zip(spans, spans[1:]))


def _locked_words(normal: str, spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each word, whether it is markup no entry may change: a speaker tag, a piece of a tag,
    or a word of a cue."""
    cues = [cue.span() for cue in CUE.finditer(normal)]
    cue_starts = [start for start, _ in cues]
    locked = []
    for start, end in spans:
        word = normal[start:end]
        before = bisect.bisect_left(cue_starts, end) - 1  # the last cue starting inside or before the word
        in_cue = before >= 0 and cues[before][1] > start
        locked.append(in_cue or "<" in word or ">" in word or TAG_LIKE.search(word) is not None)
    return locked
