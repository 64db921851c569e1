"""What goes wrong with a lexicon: an entry that cannot be, a file that cannot be read or written."""

from __future__ import annotations

from core.errors import DiaStudioError


class InvalidLexiconEntry(DiaStudioError, ValueError):
    """An entry the lexicon cannot hold (empty, markup in it, too long, written twice)."""


class LexiconFileError(DiaStudioError):
    """A lexicon file that could not be read or written; the message names the file."""


class InvalidLexiconFile(LexiconFileError):
    """A lexicon file whose content is damaged or of another kind; the message says what is wrong
    and where."""

    def __init__(self, file: str, problem: str):
        self.file = file
        self.problem = problem
        super().__init__(f"The lexicon {file} cannot be read: {problem}")
