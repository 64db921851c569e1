"""A text respelled for the model by a lexicon, and the model's word times mapped back onto the
written words.

Dia2 reads plain text, so a name is sent respelled ("Hello Nguyen." → "Hello Win.") while the
dialogue, the takes' words, highlighting and subtitles keep what was written. Words are counted as
the runtime times them (``timed_words``): a line's words, or a script's without its speaker tags
(the runtime glues a tag to the word after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from core.dia2.script import SPEAKER_TAG, normalize, spoken_words, word_spans
from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon


def timed_words(text: str) -> list[str]:
    """The words of a line or a script as the runtime times them: pause tags and speaker tags are
    not words; a cue such as ``(laughs)`` is."""
    return [word for word in spoken_words(text) if not SPEAKER_TAG.fullmatch(word)]


@dataclass(frozen=True)
class RespelledWords:
    """Where an entry applied: the written words it replaced and the spoken words it put in, as
    indexes into ``timed_words`` of the written and of the spoken text."""

    entry: LexiconEntry
    written_words: range
    spoken_words: range


@dataclass(frozen=True)
class Respelling:
    """``written`` (a line's text or a whole script) and ``spoken``, what the model reads. Two
    respellings are equal when they are of the same text to the same model input, word for word."""

    written: str
    spoken: str
    respelled: tuple[RespelledWords, ...] = ()

    @property
    def changed(self) -> bool:
        return self.spoken != self.written

    def written_starts(self, spoken_starts: Sequence[float]) -> list[float]:
        """The start of each written word, from the start of each spoken word (``timed_words`` of
        ``spoken``, as the model timed them; fewer when the take was cut).

        A word left as written keeps its start. Words replaced by as many spoken words take their
        starts one for one; otherwise the written words share the spoken words' span evenly, from
        the first spoken word's start to the start of the word after them, or, when the take has
        no word after them, to the start of their last spoken word. Only written words whose
        spoken words were all timed get a start."""
        starts = list(spoken_starts)
        spoken_count = len(timed_words(self.spoken))
        if len(starts) > spoken_count:
            raise ValueError(f"{len(starts)} word starts for a text of {spoken_count} spoken words.")
        written_starts: list[float] = []
        written, spoken = 0, 0  # the next word of each
        for piece in self.respelled:
            kept = piece.written_words.start - written  # words as written before this piece
            written_starts += starts[spoken:spoken + kept]
            if piece.spoken_words.stop > len(starts):
                return written_starts
            written_starts += _shared_starts(starts, piece.spoken_words, len(piece.written_words))
            written, spoken = piece.written_words.stop, piece.spoken_words.stop
        return written_starts + starts[spoken:]


def respell(text: str, lexicon: Lexicon) -> Respelling:
    """``text`` (a line's text, or a whole script with speaker tags and pauses) as the model should
    read it. Only the words an entry matches change (``core.lexicon.matching`` says how): spacing,
    punctuation, tags, pauses and cues stay as they are, and a text no entry matches comes back
    as the very same string."""
    normal = normalize(text)
    spans = word_spans(text)
    matches = lexicon.matcher.find_all(normal, spans)
    if not matches:
        return Respelling(text, text)
    # how many timed words come before each word (speaker tags are not timed)
    timed_before = list(accumulate((not SPEAKER_TAG.fullmatch(normal[start:end]) for start, end in spans),
                                   initial=0))
    pieces, respelled = [], []
    cursor, extra_spoken = 0, 0
    for match in matches:
        word_start, word_end = spans[match.first_word][0], spans[match.last_word][1]
        spoken_count = len(spoken_words(text[word_start:match.start] + match.entry.spoken + text[match.end:word_end]))
        first = timed_before[match.first_word]
        respelled.append(RespelledWords(match.entry, range(first, first + match.last_word - match.first_word + 1),
                                        range(first + extra_spoken, first + extra_spoken + spoken_count)))
        extra_spoken += spoken_count - len(respelled[-1].written_words)
        pieces += [text[cursor:match.start], match.entry.spoken]
        cursor = match.end
    return Respelling(text, "".join(pieces) + text[cursor:], tuple(respelled))


def affected(text: str, before: Lexicon, after: Lexicon) -> bool:
    """Whether the model reads ``text`` differently after a lexicon changes from ``before`` to
    ``after``: the lines whose takes no longer match what would be generated."""
    return respell(text, before).spoken != respell(text, after).spoken


def _shared_starts(starts: Sequence[float], spoken: range, written_count: int) -> list[float]:
    if written_count == len(spoken):
        return list(starts[spoken.start:spoken.stop])
    first = starts[spoken.start]
    end = starts[spoken.stop] if spoken.stop < len(starts) else starts[spoken.stop - 1]
    return [first + (end - first) * index / written_count for index in range(written_count)]
