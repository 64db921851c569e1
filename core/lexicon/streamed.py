"""Text that arrives in pieces (a live take's: a line being typed, stdin, a client's stream),
respelled as it settles, so that what was sent never needs taking back.

Only settled text goes out: whole words (a space after them), never half of a pause tag or of a
cue. The last settled words that could still become a phrase entry ("New York" with an entry
for "New York City") wait for the next words. Each settled stretch is respelled on its own, and
kept: the model's word times of the whole map back onto the written words through them.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

from core.lexicon.entry import LexiconEntry
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import Respelling, respell, timed_words


def phrase_start_words(words: list[str], lexicon: Lexicon) -> int:
    """How many of the last ``words`` could be the first words of a phrase entry that the next
    words would complete (0: none)."""
    phrases = [entry for entry in lexicon.entries if len(entry.words) > 1]
    for count in range(min(len(words), max((len(entry.words) for entry in phrases), default=1) - 1), 0, -1):
        tail = " ".join(words[-count:])
        for entry in phrases:
            if len(entry.words) > count:
                found = respell(f"{tail} {' '.join(entry.words[count:])}", _alone(entry)).respelled
                if found and found[0].written_words == range(len(entry.words)):
                    return count
    return 0


@lru_cache(maxsize=256)
def _alone(entry: LexiconEntry) -> Lexicon:
    return Lexicon((entry,))


def written_by_spoken(piece: Respelling) -> list[list[str]]:
    """For each spoken word of ``piece``, in order, the written words that start there: one for a
    word kept, all of a respelled phrase's at its first spoken word, none at its others."""
    written = timed_words(piece.written)
    spoken_count = len(timed_words(piece.spoken))
    found: list[list[str]] = []
    at_written = 0
    for span in sorted(piece.respelled, key=lambda span: span.spoken_words.start):
        while len(found) < span.spoken_words.start:
            found.append([written[at_written]])
            at_written += 1
        found.append(written[span.written_words.start:span.written_words.stop])
        found += [[] for _ in range(len(span.spoken_words) - 1)]
        at_written = span.written_words.stop
    while len(found) < spoken_count:
        found.append([written[at_written]])
        at_written += 1
    return found


class StreamedRespelling:
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.pieces: list[Respelling] = []  # what went out, stretch by stretch
        self._waiting = ""  # arrived, not settled yet
        self._written_next: deque[list[str]] = deque()  # for each spoken word sent and not yet timed

    def written_words(self, spoken: str) -> list[str]:
        """The written words for the next spoken word the model timed (``spoken``, given back
        where nothing was respelled): as a live take reports its words as they are said."""
        return self._written_next.popleft() if self._written_next else [spoken]

    def take(self, text: str) -> str:
        """What to send now that ``text`` arrived: the newly settled words, respelled ("" while
        none are). Without entries, everything goes at once, as it came."""
        if not self.lexicon.entries:
            return text
        self._waiting += text
        settled = _settled(self._waiting)
        words = self._waiting[:settled].split()
        waiting = phrase_start_words(words, self.lexicon)
        if waiting:
            settled = _start_of_last_words(self._waiting[:settled], waiting)
        return self._send(settled)

    def end(self) -> str:
        """The text's end: what is left, respelled."""
        return self._send(len(self._waiting)) if self.lexicon.entries else ""

    def _send(self, end: int) -> str:
        stretch, self._waiting = self._waiting[:end], self._waiting[end:]
        if not stretch:
            return ""
        respelled = respell(stretch, self.lexicon)
        self.pieces.append(respelled)
        self._written_next.extend(written_by_spoken(respelled))
        return respelled.spoken


def _settled(text: str) -> int:
    """Where the settled part of ``text`` ends: after its last whitespace, but before a pause tag
    or a cue still open there."""
    end = max(text.rfind(space) for space in (" ", "\n", "\t", "\r")) + 1
    while end:
        head = text[:end]
        opened = max(head.rfind("<") if head.rfind("<") > head.rfind(">") else -1,
                      head.rfind("(") if head.rfind("(") > head.rfind(")") else -1)
        if opened < 0:
            return end
        end = opened
    return 0


def _start_of_last_words(text: str, count: int) -> int:
    """Where the last ``count`` words of ``text`` begin."""
    end = len(text)
    for _ in range(count):
        end = len(text[:end].rstrip())
        end = max(text.rfind(space, 0, end) for space in (" ", "\n", "\t", "\r")) + 1
    return end
