"""Script text that arrives in pieces (a language model's deltas, keystrokes) → exactly the
entries ``parse_script`` gives for the whole text, each as soon as nothing later can change it.

What may still change is held: the trailing fragment (the word may still grow), everything from
a ``<`` that may still become a ``<break time="…"/>`` tag (the tag has spaces in it, so a split
on whitespace would cut it), and a speaker tag until the word it is glued to arrives. ``close()``
says the text is complete and releases what is held.

The rules themselves are ``parse_script``'s (the reference's); errors are its errors, raised as
soon as the text so far settles them, and a piece that raises is refused whole: the parser is as
it was before it, so the caller may go on with corrected text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from core.dia2.script import (
    BREAK_TAG,
    STARTS_WITH_A_PAUSE,
    Entry,
    UnspeakableScript,
    break_entry,
    check_ending,
    check_speaker_tags,
    normalize,
    with_first_speaker,
    word_entries,
)


def _prefixes_of(*atoms: str) -> re.Pattern:
    """A pattern that matches every prefix of ``atoms`` joined: each atom optional once the ones
    before it matched (each atom's own prefixes are in its language or empty)."""
    pattern = ""
    for atom in reversed(atoms):
        pattern = f"(?:{atom}{pattern})?"
    return re.compile(pattern)


# Every beginning of a text BREAK_TAG matches (the same pattern, atom by atom).
BREAK_TAG_BEGINNING = _prefixes_of("<", "b", "r", "e", "a", "k", r"\s+", "t", "i", "m", "e", r"\s*", "=", r"\s*",
                                   '"', '[^"]*', '"', r"\s*", "/", ">")
assert BREAK_TAG.pattern == r'<break\s+time\s*=\s*"([^"]*)"\s*/>', "BREAK_TAG_BEGINNING follows this pattern"


class TextAfterEnd(UnspeakableScript):
    """Text given after the script was closed."""


@dataclass
class _State:
    held: str = ""  # normalised text not yet turned into entries
    pending_tags: list[str] = field(default_factory=list)
    words: int = 0  # word entries given so far
    leading_pause: bool = False  # the script began with a pause (an error once a word follows)
    closed: bool = False


class IncrementalScript:
    def __init__(self, encode: Callable[[str], list[int]], first_speaker_id: int, frame_rate: float,
                 force_first_speaker: bool = True):
        self.encode = encode
        self.first_speaker_id = first_speaker_id
        self.frame_rate = frame_rate
        self.force_first_speaker = force_first_speaker
        self._state = _State()

    @property
    def closed(self) -> bool:
        return self._state.closed

    @property
    def held(self) -> str:
        """The text received but not yet settled into entries (normalised)."""
        return self._state.held

    def feed(self, text: str) -> list[Entry]:
        """The entries ``text`` settles (appended verbatim to what came before)."""
        return self._advance(text, final=False)

    def close(self) -> list[Entry]:
        """The text is complete: the entries of what was held."""
        return self._advance("", final=True)

    def _advance(self, text: str, final: bool) -> list[Entry]:
        if self._state.closed:
            raise TextAfterEnd("The script has ended; more text needs a new take.")
        state = replace(self._state, pending_tags=list(self._state.pending_tags))
        entries = self._settle(state, state.held + normalize(text), final)
        if final:
            check_ending(state.pending_tags, has_words=state.words > 0)
            state.closed = True
        self._state = state  # only once nothing was refused
        return entries

    def _settle(self, state: _State, text: str, final: bool) -> list[Entry]:
        entries: list[Entry] = []
        position = 0
        while True:
            tag = BREAK_TAG.search(text, position)
            end = tag.start() if tag else len(text)
            if not final:
                unfinished = next((at for at in range(position, end) if text[at] == "<"
                                   and BREAK_TAG_BEGINNING.fullmatch(text, at)), None)
                if unfinished is not None:
                    tag, end = None, unfinished
            segment = text[position:end]
            if tag is None and not final:
                # The last word may still grow (or the "<" after it become a tag glued to it).
                settled = _last_space(segment) + 1
                state.held = text[position + settled:]
                segment = segment[:settled]
            check_speaker_tags(segment)
            self._add(state, entries, word_entries(segment, state.pending_tags, self.encode))
            if tag is None:
                if final:
                    state.held = ""
                return entries
            check_speaker_tags(tag.group(0))
            self._add(state, entries, [break_entry(tag.group(1), self.frame_rate)])
            position = tag.end()

    def _add(self, state: _State, entries: list[Entry], new: list[Entry]) -> None:
        for entry in new:
            if self.force_first_speaker and not state.words:
                if entry.is_break:
                    state.leading_pause = True  # parse_script: "no words" if none follow, else this
                    continue
                if state.leading_pause:
                    raise UnspeakableScript(STARTS_WITH_A_PAUSE)
                if entry.tokens[:1] != (self.first_speaker_id,):
                    entry = with_first_speaker(entry, self.first_speaker_id)
            state.words += not entry.is_break
            entries.append(entry)


def _last_space(text: str) -> int:
    """Index of the last whitespace character of ``text`` (-1 if none)."""
    for index in range(len(text) - 1, -1, -1):
        if text[index].isspace():
            return index
    return -1
