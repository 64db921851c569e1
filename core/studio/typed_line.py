"""What a line being typed gives its live preview: the text the take has been given, and what an
edit asks of it next.

Only whole words go to the take (those a space or a punctuation-and-space has closed): the word
being typed may still change, and the take needs the two words after a word before it speaks
it anyway. A live take only appends, so an edit of what it was given already (a backspace into
a finished word, a change before the end) starts it again from the line as it reads now.

The words go respelled by the lexicon, as a generation of the line would send them. A phrase
entry matches only once its words are all typed: the last whole words that could still become
such a phrase ("New York" with an entry for "New York City") wait for the next word, so that what
was given stays as given. What still changes what was given (the lexicon edited meanwhile)
restarts the take.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.document.speakers import Speaker
from core.lexicon.lexicon import Lexicon
from core.lexicon.respelling import respell
from core.lexicon.streamed import phrase_start_words


def settled(text: str) -> str:
    """The whole words of ``text`` as the script has them (spaces collapsed), each followed by a
    space; the word still being typed (no space after it yet) is left out."""
    if not text or text[-1].isspace():
        words = text.split()
    else:
        words = text.split()[:-1]
    return "".join(word + " " for word in words)


@dataclass(frozen=True)
class Push:
    text: str  # to append to the take


@dataclass(frozen=True)
class Restart:
    text: str  # what the new take is given at once


class TypedLine:
    """One line's preview text: ``typed`` after each edit says what the take needs."""

    def __init__(self, speaker: Speaker):
        self.speaker = speaker
        self.given = ""  # what the take has been given, its speaker tag first

    def typed(self, text: str, lexicon: Lexicon = Lexicon()) -> Push | Restart | None:
        """The line reads ``text`` now: what to append, or a restart with what to give the new
        take, or None when there is nothing new to give."""
        words = settled(text).split()
        waiting = phrase_start_words(words, lexicon)
        return self._given("".join(word + " " for word in words[:len(words) - waiting]), lexicon)

    def finished(self, text: str, lexicon: Lexicon = Lexicon()) -> Push | Restart | None:
        """The line is left reading ``text``: all of it goes to the take (then its end)."""
        return self._given(settled(text + " "), lexicon)

    def _given(self, words: str, lexicon: Lexicon) -> Push | Restart | None:
        wanted = self.speaker.tag + " " + respell(words, lexicon).spoken
        if wanted.startswith(self.given):
            more, self.given = wanted[len(self.given):], wanted
            return Push(more) if more else None
        self.given = wanted
        return Restart(wanted)
