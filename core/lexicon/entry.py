"""One entry of the lexicon: a written word or phrase and its respelling, how it should sound."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from core.dia2.script import TAG_LIKE, spoken_words
from core.lexicon.errors import InvalidLexiconEntry

MAX_LENGTH = 200  # characters of a written word or phrase, or of a respelling
MAX_NOTE_LENGTH = 1000
# A cue is lowercase words in parentheses, as Dia2's cues are written: (laughs), (clears throat).
# "(SQL)" is an aside, and respelled.
CUE = re.compile(r"\([a-z]+(?:\s+[a-z]+)*\)")


@dataclass(frozen=True)
class LexiconEntry:
    """``written`` (a word or a phrase of words, as the author writes it) is sent to the model as
    ``spoken`` ("Nguyen" → "Win", "SQL" → "sequel"). Runs of spaces in either become one space."""

    written: str
    spoken: str
    case_sensitive: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        written = _one_line(self.written, "The written word", _written_as,
                            "A lexicon entry needs its written word; it is empty.")
        if match := CUE.search(written):
            raise InvalidLexiconEntry(f"{_written_as(written)} holds the cue {match.group(0)}; cues are never "
                                      "respelled.")
        if not any(character.isalnum() for character in written):
            raise InvalidLexiconEntry(f"{_written_as(written)} has no letter or digit; the lexicon respells words.")

        def spoken_as(text: str) -> str:
            return f"The respelling {_quoted(text)} of {_quoted(written)}"

        spoken = _one_line(self.spoken, f"The respelling of {_quoted(written)}", spoken_as,
                           f"The entry for {_quoted(written)} needs its respelling (how it sounds, such as "
                           '"Win" for "Nguyen"); it is empty.')
        if not isinstance(self.case_sensitive, bool):
            raise InvalidLexiconEntry(f"Whether {_quoted(written)} is case-sensitive must be true or false, "
                                      f"not {self.case_sensitive!r}.")
        if not isinstance(self.note, str):
            raise InvalidLexiconEntry(f"The note on {_quoted(written)} must be text, not {self.note!r}.")
        if len(self.note) > MAX_NOTE_LENGTH:
            raise InvalidLexiconEntry(f"The note on {_quoted(written)} is {len(self.note)} characters long; "
                                      f"a note holds at most {MAX_NOTE_LENGTH}.")
        object.__setattr__(self, "written", written)
        object.__setattr__(self, "spoken", spoken)

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The written words as the runtime splits them (curly apostrophes straight, colons apart)."""
        return tuple(spoken_words(self.written))

    @cached_property
    def folded_words(self) -> tuple[str, ...]:
        return tuple(word.casefold() for word in self.words)

    def same_written(self, other: LexiconEntry) -> bool:
        """Whether the two entries are for the same words: compared ignoring case unless both are
        case-sensitive ("SQL" and "Sql" may then be two entries)."""
        if self.folded_words != other.folded_words:
            return False
        return self.words == other.words or not (self.case_sensitive and other.case_sensitive)


def _one_line(text: object, noun: str, subject: Callable[[str], str], when_empty: str) -> str:
    """``text`` checked as one side of an entry, its runs of spaces made one; ``subject`` names it
    in a message."""
    if not isinstance(text, str):
        raise InvalidLexiconEntry(f"{noun} must be text, not {text!r}.")
    line = " ".join(text.split())
    if "\n" in text or "\r" in text:
        raise InvalidLexiconEntry(f"{subject(line)} holds a line break; an entry is one word or phrase on one line.")
    if not line:
        raise InvalidLexiconEntry(when_empty)
    if len(line) > MAX_LENGTH:
        raise InvalidLexiconEntry(f"{subject(line)} is {len(line)} characters long; an entry holds at most "
                                  f"{MAX_LENGTH}.")
    if tag := TAG_LIKE.search(line):
        raise InvalidLexiconEntry(f"{subject(line)} holds the speaker tag {tag.group(0)}; speaker tags are not words.")
    if "<" in line or ">" in line:
        raise InvalidLexiconEntry(f'{subject(line)} holds "<" or ">", which belong to pause tags such as '
                                  '<break time="1s"/>.')
    return line


def _written_as(text: str) -> str:
    return f"The written word {_quoted(text)}"


def _quoted(text: str) -> str:
    return f'"{text}"' if len(text) <= 40 else f'"{text[:40]}…"'
