"""The pronunciation lexicon where text meets the model: what a generation reads, and the model's
word times back onto the written words, so takes, highlighting and subtitles keep what was
written (docs/lexicon.md).

A text goes to the model in pieces, each respelled on its own (``core.lexicon.respelling``): the
window respells each line (a phrase never spans two lines), a script given whole (``render``,
``speak``) is one piece. The model times the pieces' spoken words in order; ``written_result``
gives each written word its start. The shared lexicon is a file in the studio's data folder, beside
the voice library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from core.dia2.events import TakeResult
from core.document.dialogue import Dialogue
from core.document.lines import DialogueLine
from core.lexicon.errors import LexiconFileError
from core.lexicon.files import read_lexicon, write_lexicon
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import Respelling, affected, timed_words

SHARED_LEXICON_FILE = "lexicon.json"  # in the studio's data folder


def written_words(words: Sequence[tuple[str, float]], pieces: Sequence[Respelling]) -> list[tuple[str, float]]:
    """The model's ``words`` ((word, start) in order, as a ``TakeResult`` has them) of a text sent
    as ``pieces``, as the written words with their starts. Words before the pieces' own (a kept
    voice prompt's) stay as they are; a take cut short gives starts to the written words whose
    spoken words were all timed."""
    if not any(piece.changed for piece in pieces):
        return list(words)
    spoken_counts = [len(timed_words(piece.spoken)) for piece in pieces]
    before = max(0, len(words) - sum(spoken_counts))  # a kept voice prompt's words come first
    written = list(words[:before])
    starts = [start for _, start in words[before:]]
    for piece, count in zip(pieces, spoken_counts):
        own, starts = starts[:count], starts[count:]
        written += zip(timed_words(piece.written), piece.written_starts(own))
        if len(own) < count:
            break
    return written


def written_result(result: TakeResult, pieces: Sequence[Respelling]) -> TakeResult:
    """``result`` (the model's take of the text ``pieces`` spell) with its words as written.

    What ``render`` and the server call: ``respell(script, lexicon)`` is the one piece the model
    reads (its ``.spoken``), and ``written_result(result, [that respelling])`` the take to keep."""
    words = written_words(result.words, pieces)
    return result if words == result.words else replace(result, words=words)


def spoken_starts(respelling: Respelling, written_starts: Sequence[float], end_s: float) -> list[float]:
    """The start of each spoken word of ``respelling`` from the start of each written word (all of
    them), the opposite way to ``Respelling.written_starts``: what the lines before a generation
    are replayed with. A word kept, or replaced one for one, keeps its start; spoken words standing
    for a different number of written ones share the time from the first written word's start to
    the next word's (or ``end_s``, the end of the line)."""
    starts: list[float] = []
    written = 0
    for piece in respelling.respelled:
        first, after = piece.written_words.start, piece.written_words.stop
        starts += written_starts[written:first]
        count = len(piece.spoken_words)
        if count == len(piece.written_words):
            starts += written_starts[first:after]
        else:
            begin = written_starts[first]
            end = written_starts[after] if after < len(written_starts) else end_s
            starts += [begin + (end - begin) * index / count for index in range(count)]
        written = after
    return starts + list(written_starts[written:])


def with_imported(lexicon: Lexicon, imported: Lexicon) -> tuple[Lexicon, int, int]:
    """``lexicon`` with the entries of ``imported`` (a file's): one for a word it has an entry
    for already replaces that entry where it stands, the others come after. Returns the lexicon,
    and how many entries were added and replaced."""
    entries = list(lexicon.entries)
    by_words: dict[tuple[str, ...], list[int]] = {}  # where the entries for the same words (any case) are
    for index, entry in enumerate(entries):
        by_words.setdefault(entry.folded_words, []).append(index)
    added = replaced = 0
    for entry in imported.entries:
        places = by_words.setdefault(entry.folded_words, [])
        same = next((index for index in places if entries[index].same_written(entry)), None)
        if same is None:
            places.append(len(entries))
            entries.append(entry)
            added += 1
        else:
            entries[same] = entry
            replaced += 1
    return Lexicon(tuple(entries)), added, replaced


def lines_read_differently(lines: Sequence[DialogueLine], before: Lexicon, after: Lexicon) -> list[str]:
    """The ids of the lines the model reads differently with ``after`` than with ``before``."""
    return [line.id for line in lines if line.spoken_text and affected(line.spoken_text, before, after)]


def read_shared_lexicon(folder: Path | str) -> tuple[Lexicon, list[str]]:
    """The shared lexicon kept in the studio's data folder ``folder`` (empty when there is none
    yet) and what it had that could not be used. Raises LexiconFileError when the file is
    damaged."""
    path = Path(folder) / SHARED_LEXICON_FILE
    if not path.exists():
        return Lexicon(), []
    return read_lexicon(path)


def write_shared_lexicon(folder: Path | str, lexicon: Lexicon) -> None:
    """Replace the shared lexicon's file (all at once); raises LexiconFileError."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LexiconFileError(f"The shared lexicon cannot be saved in {folder}: {error.strerror or error}.") from None
    write_lexicon(folder / SHARED_LEXICON_FILE, lexicon)


def use_shared_lexicon(dialogue: Dialogue, folder: Path | str, given: Lexicon = Lexicon()) -> list[str]:
    """Give a project opened without the window (``render --project``) the shared lexicon of the
    studio's data folder ``folder``, as the window does, so its lines are read, and its takes are
    current or not, as in the window; ``given`` (``--lexicon`` files) over it, the project's own
    entries still winning. Returns what to tell the person about the lexicons: what opening the
    project left out of its own, and what the shared one's file had wrong (a damaged file is not
    used)."""
    try:
        lexicon, problems = read_shared_lexicon(folder)
    except LexiconFileError as error:
        dialogue.use_shared_lexicon(given)
        return [*dialogue.left_out, f"{error} The project's own lexicon is used alone."]
    dialogue.use_shared_lexicon(Lexicon.merged(given, lexicon))
    return [*dialogue.left_out, *(f"In the shared lexicon, {problem}" for problem in problems)]
