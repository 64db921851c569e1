"""Which line, and which word of it, is heard at a moment of a take: the take's word timings laid
over its lines, so the studio can follow along while it plays — a finished take, one whose
words are still streaming in from a generation, or lines cut from takes and laid end to end as
the whole dialogue is assembled.

Words are counted as the runtime counts them (``word_spans``). A word lasts until the next one
starts, a line from its first word until the next line's first word (the first line from 0 s),
as ``core.studio.take_assembly`` lays them out; while a take streams in, the last word and line known so
far last until further notice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from core.dia2.script import word_spans
from core.document.lines import DialogueLine
from core.document.takes import Take

@dataclass(frozen=True)
class Heard:
    """What is heard at a moment: a line, and which of its words (None when none is being said)."""

    line_id: str
    spoken_text: str  # the line's text as it was spoken
    word: int | None  # the word's index among the line's words

    def chars_in(self, line: DialogueLine) -> tuple[int, int] | None:
        """Where the word is in ``line`` as it reads now; None between words, or when the line
        has been reworded since it was spoken (its words would not match the timings)."""
        if self.word is None or line.spoken_text != self.spoken_text:
            return None
        return word_spans(line.text)[self.word]


@dataclass
class _Line:
    id: str
    spoken_text: str
    word_count: int
    start_s: float | None = None  # None until its first word is heard
    end_s: float = math.inf  # until the next line starts
    words: list[list[float]] = field(default_factory=list)  # [start_s, end_s] of each word

    @classmethod
    def of(cls, line: DialogueLine) -> _Line:
        return cls(line.id, line.spoken_text, len(word_spans(line.spoken_text)))

    def shifted(self, seconds: float) -> _Line:
        return replace(self, start_s=self.start_s + seconds, end_s=self.end_s + seconds,
                       words=[[start + seconds, end + seconds] for start, end in self.words])


class SpeechTimeline:
    """The lines and words of one take (or of the assembled dialogue) on its time axis."""

    def __init__(self, lines: list[_Line]):
        self._lines = lines
        self._filling = 0  # while streaming: the line the next word belongs to, or one before it
        self._last_word: list[float] | None = None

    @classmethod
    def of_take(cls, take: Take) -> SpeechTimeline:
        """A finished (or cancelled) take: its line spans and word timings as stored."""
        lines = []
        for source in take.source_lines:
            if source.id in take.line_times:
                line = _Line.of(source)
                line.start_s, line.end_s = take.line_times[source.id]
                lines.append(line)
        heard: dict[str, list[list[float]]] = {line.id: [] for line in lines}
        for word in take.words:  # each word to the line heard when it starts
            owner = _latest(((line.start_s, line.end_s, line) for line in lines), word.start_s)
            if owner is not None:
                heard[owner.id].append([word.start_s, word.end_s])
        for line in lines:
            # A line's own words are its last ones: a kept voice prompt's words come before the first line's.
            line.words = heard[line.id][max(0, len(heard[line.id]) - line.word_count):]
        return cls(lines)

    @classmethod
    def of_placed_lines(cls, placed: Iterable[tuple[Take, str, float]]) -> SpeechTimeline:
        """Lines cut from finished takes and laid on another clock, in the order given: each is
        (its take, its id, the seconds from the take's clock to the other); the take's other
        lines, and their words, are left out."""
        of_takes: dict[str, dict[str, _Line]] = {}  # a take may give several pieces: timed once
        lines = []
        for take, line_id, shift in placed:
            if take.id not in of_takes:
                of_takes[take.id] = {line.id: line for line in cls.of_take(take)._lines}
            line = of_takes[take.id].get(line_id)
            if line is not None:
                lines.append(line.shifted(shift))
        return cls(lines)

    @classmethod
    def streaming(cls, lines: Iterable[DialogueLine]) -> SpeechTimeline:
        """A take being generated from ``lines`` (in script order): ``add_word`` as words come."""
        timeline = cls([_Line.of(line) for line in lines if line.spoken_text])
        if timeline._lines:
            timeline._lines[0].start_s = 0.0
        return timeline

    def add_word(self, start_s: float) -> bool:
        """The script's next word starts at ``start_s`` (words come in script order). True when
        it begins a line, whose start is known from now on."""
        lines = self._lines
        while self._filling < len(lines) and len(lines[self._filling].words) == lines[self._filling].word_count:
            self._filling += 1
        if self._filling == len(lines):
            return False  # more words than the lines hold: not the script's
        if self._last_word is not None:
            self._last_word[1] = start_s
        line = lines[self._filling]
        self._last_word = [start_s, math.inf]
        line.words.append(self._last_word)
        if len(line.words) > 1 or self._filling == 0:
            return False
        for earlier in lines[:self._filling + 1]:
            if earlier.start_s is None:  # a line of nothing but a pause starts where the next one does
                earlier.start_s = start_s
            if earlier is not line:
                earlier.end_s = min(earlier.end_s, start_s)
        return True

    @property
    def line_starts(self) -> list[tuple[str, float]]:
        """(line id, seconds) of every line whose start is known, in script order."""
        return [(line.id, line.start_s) for line in self._lines if line.start_s is not None]

    def at(self, seconds: float) -> Heard | None:
        """What is heard ``seconds`` into the take; None outside every line. Where lines (or
        words) overlap, the one that began last is the one heard."""
        line = _latest(((line.start_s, line.end_s, line) for line in self._lines if line.start_s is not None),
                       seconds)
        if line is None:
            return None
        word = _latest(((start, end, index) for index, (start, end) in enumerate(line.words)), seconds)
        return Heard(line.id, line.spoken_text, word)


def _latest(spans: Iterable[tuple[float, float, object]], seconds: float):
    """The item of the span holding ``seconds`` that began last (the later one on a tie)."""
    found, found_start = None, -math.inf
    for start, end, item in spans:
        if start <= seconds < end and start >= found_start:
            found, found_start = item, start
    return found
