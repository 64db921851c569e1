"""Timed transcripts of a voice reference: the word type, user corrections, and word lists from JSON.

Voice cloning needs the words spoken in the reference and when each was spoken. Whisper supplies
both (see ``transcribe.py``); the person using the app may correct the text
(:func:`apply_corrected_text`) or supply the timings outright (:func:`words_from_json`).
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from os import PathLike
from pathlib import Path

from core.errors import DiaStudioError, InvalidParameter


@dataclass(frozen=True)
class TimedWord:
    """One spoken word and when it was said, in seconds from the start of its recording."""

    text: str
    start_s: float
    end_s: float


class InvalidWordTimings(DiaStudioError, ValueError):
    """A list of timed words is malformed: not JSON, a bad item, or timings out of order."""


def apply_corrected_text(words: list[TimedWord], corrected: str) -> list[TimedWord]:
    """Return the words of ``corrected`` with timings taken from Whisper's ``words``.

    The corrected text is split on whitespace and aligned with Whisper's words by
    :class:`difflib.SequenceMatcher`, comparing words lowercased and stripped of punctuation.
    Each corrected word keeps its own spelling; its timing follows this rule:

    - a word that matches a Whisper word takes that word's timing;
    - words that replace Whisper words take their timings one for one when the counts agree,
      otherwise they share the replaced words' whole span in equal parts;
    - inserted words share the gap between their neighbours in equal parts (the gap before the
      first word starts at 0 s); when there is no gap (the neighbours touch, or the words come
      after the last word, whose end of speech is unknown) they share the previous word's span
      with it, or the next word's span when they come first;
    - Whisper words left out of the correction leave silence where they were.

    The result is monotonic and never overlaps: each word starts at or after the previous end.
    """
    check_word_timings(words)
    tokens = corrected.split()
    if not tokens:
        raise InvalidParameter("corrected transcript", corrected, "it needs at least one word")
    if not words:
        raise InvalidParameter("words", words, "a corrected transcript needs timed words to align with")

    matcher = SequenceMatcher(
        None, [_normalised(w.text) for w in words], [_normalised(t) for t in tokens], autojunk=False
    )
    spans: list[tuple[float, float] | None] = []  # None: an inserted word, timed afterwards
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace") and i2 - i1 == j2 - j1:
            spans += [(w.start_s, w.end_s) for w in words[i1:i2]]
        elif tag == "replace":
            spans += _equal_parts(words[i1].start_s, words[i2 - 1].end_s, j2 - j1)
        elif tag == "insert":
            spans += [None] * (j2 - j1)
        # "delete" adds nothing: the left-out words' time stays as silence.
    _time_insertions(spans)
    return [TimedWord(token, start, end) for token, (start, end) in zip(tokens, spans)]


def _normalised(word: str) -> str:
    return "".join(c for c in word.lower() if not unicodedata.category(c).startswith("P"))


def _equal_parts(start: float, end: float, count: int) -> list[tuple[float, float]]:
    bounds = [start + (end - start) * k / count for k in range(count)] + [end]
    return list(zip(bounds[:-1], bounds[1:]))


def _time_insertions(spans: list[tuple[float, float] | None]) -> None:
    """Replace each run of ``None`` in ``spans`` with timings, in place (rule in the caller)."""
    index = 0
    while index < len(spans):
        if spans[index] is not None:
            index += 1
            continue
        run_end = index
        while run_end < len(spans) and spans[run_end] is None:
            run_end += 1
        gap_start = spans[index - 1][1] if index > 0 else 0.0
        gap_end = spans[run_end][0] if run_end < len(spans) else None
        if gap_end is not None and gap_end > gap_start:
            spans[index:run_end] = _equal_parts(gap_start, gap_end, run_end - index)
        elif index > 0:
            start, end = spans[index - 1]
            spans[index - 1 : run_end] = _equal_parts(start, end, run_end - index + 1)
        else:
            start, end = spans[run_end]
            spans[index : run_end + 1] = _equal_parts(start, end, run_end - index + 1)
        index = run_end


def check_word_timings(words: list[TimedWord]) -> None:
    """Raise :class:`InvalidWordTimings` naming the first word whose timing is impossible.

    Timings must be finite, non-negative, end at or after they start, and never overlap.
    """
    previous_end = 0.0
    for number, word in enumerate(words, start=1):
        where = f"Word {number} ({word.text!r}, {word.start_s} s to {word.end_s} s)"
        if not word.text.strip() or len(word.text.split()) > 1:
            raise InvalidWordTimings(f"{where}: each item must be one word, with no spaces.")
        if not (math.isfinite(word.start_s) and math.isfinite(word.end_s)):
            raise InvalidWordTimings(f"{where}: times must be finite numbers of seconds.")
        if word.start_s < 0:
            raise InvalidWordTimings(f"{where}: it starts before 0 s.")
        if word.end_s < word.start_s:
            raise InvalidWordTimings(f"{where}: it ends before it starts.")
        if word.start_s < previous_end:
            raise InvalidWordTimings(
                f"{where}: it starts before the previous word ends ({previous_end} s); "
                "words must be in order and must not overlap."
            )
        previous_end = word.end_s


def words_from_json(text: str) -> list[TimedWord]:
    """Parse a JSON list of ``[word, start_s, end_s]`` items into checked timed words.

    This is the ``--s1-words`` format: it replaces Whisper's transcript entirely.
    """
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidWordTimings(
            f"The word timings are not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        ) from error
    if not isinstance(items, list) or not items:
        raise InvalidWordTimings(
            'The word timings must be a non-empty JSON list of [word, start_s, end_s] items, '
            'e.g. [["Hello", 0.12, 0.48], ["there", 0.52, 0.9]].'
        )
    words = [_timed_word(number, item) for number, item in enumerate(items, start=1)]
    check_word_timings(words)
    return words


def _timed_word(number: int, item: object) -> TimedWord:
    shape_ok = (
        isinstance(item, list)
        and len(item) == 3
        and isinstance(item[0], str)
        and all(is_number(t) for t in item[1:])
    )
    if not shape_ok:
        raise InvalidWordTimings(
            f"Word {number} ({json.dumps(item)}) must be [word, start_s, end_s]: "
            "a string and two numbers of seconds."
        )
    return TimedWord(item[0], float(item[1]), float(item[2]))


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_words_json(path: str | PathLike[str]) -> list[TimedWord]:
    """Read a ``[word, start_s, end_s]`` JSON file (see :func:`words_from_json`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidWordTimings(f"Could not read the word timings file {path}: {error}") from error
    return words_from_json(text)
