"""A line's words: those the model was given (as the Dia2 runtime counts them), those it timed, and
those a listener (Whisper) heard, compared word for word."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.dia2.script import BREAK_TAG, pause_seconds

_CUE = re.compile(r"\([^)]*\)")  # (laughs), (sighs): sounds, not words
_NOT_IN_WORD = re.compile(r"[^\w']+")


def comparable(word: str) -> str:
    """A word as two spellings of it compare: case and punctuation apart."""
    return _NOT_IN_WORD.sub("", word.replace("\u2019", "'").lower()).strip("'")


def break_seconds(text: str) -> list[float]:
    """The pauses written in a line, in seconds (a script is checked before it is spoken, so
    every pause tag here is a valid one)."""
    return [pause_seconds(match.group(1)) for match in BREAK_TAG.finditer(text)]


def listener_words(text: str) -> list[str]:
    """What a listener should hear of a text, as Whisper's English normaliser writes it (numbers in
    figures, contractions and spellings unified, case and punctuation gone), cues and pauses left out."""
    from whisper.normalizers import EnglishTextNormalizer  # the Whisper package: loaded only to compare

    global _ENGLISH
    if _ENGLISH is None:
        _ENGLISH = EnglishTextNormalizer()
    return _ENGLISH(_CUE.sub(" ", BREAK_TAG.sub(" ", text))).split()


_ENGLISH = None


@dataclass(frozen=True)
class WordDiff:
    missing: tuple[str, ...]  # written, not heard
    extra: tuple[str, ...]  # heard, not written
    changed: tuple[tuple[str, str], ...]  # (written, heard)
    written_count: int

    @property
    def error_rate(self) -> float:
        """Word error rate: substitutions, deletions and insertions per written word."""
        errors = len(self.missing) + len(self.extra) + len(self.changed)
        return errors / self.written_count if self.written_count else float(errors > 0)


def compare_words(written: Sequence[str], heard: Sequence[str]) -> WordDiff:
    """The fewest word edits that turn ``written`` into ``heard`` (words already made comparable)."""
    rows, cols = len(written) + 1, len(heard) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            same = written[i - 1] == heard[j - 1]
            cost[i][j] = min(cost[i - 1][j - 1] + (not same), cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    missing, extra, changed = [], [], []
    i, j = len(written), len(heard)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (written[i - 1] != heard[j - 1]):
            if written[i - 1] != heard[j - 1]:
                changed.append((written[i - 1], heard[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            missing.append(written[i - 1])
            i -= 1
        else:
            extra.append(heard[j - 1])
            j -= 1
    return WordDiff(tuple(reversed(missing)), tuple(reversed(extra)), tuple(reversed(changed)), len(written))


def quoted(words: Sequence[str], most: int = 8) -> str:
    shown = " ".join(words[:most]) + (" …" if len(words) > most else "")
    return f"“{shown}”"
