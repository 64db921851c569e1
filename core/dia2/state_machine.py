"""When the text stream takes the next word: Dia2's text/audio state machine.

Each frame the model proposes an action (pad or new word); the machine may overrule it and
emits the two text tokens of the next frame: the main stream (the current word's tokens) and the
look-ahead stream (the tokens of a word further on). The rules reproduce the reference runtime,
quirks included, because the model was trained on them (see the parity README, section 6).

The entries may arrive while the machine runs (a live take): ``needs_text`` tells the loop to
wait before a step that would take a word whose look-ahead has not arrived yet. Waiting there
keeps every step as it is with the whole text given at once; an empty queue, by contrast, is
the end of the script for good.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import Iterable

from core.dia2.script import Entry

# The reference hard-codes a padding budget of 6 and ignores the config's ``max_pad`` (8);
# the parity data confirms 6 (the budget resets to 6 on every word).
MAX_PADDING = 6
INITIAL_PADDING = 2
ACTION_PAD, ACTION_NEW_WORD = 0, 1


@dataclass(frozen=True)
class TextStep:
    main: int
    second: int
    consumed: Entry | None  # the entry popped at this step, if any
    ended: bool  # this step found the script exhausted when a new word was due


class TextStateMachine:
    def __init__(self, entries: Iterable[Entry], *, pad: int, new_word: int, lookahead: int,
                 initial_padding: int = INITIAL_PADDING, text_complete: bool = True):
        self.pad = pad
        self.new_word = new_word
        self.lookahead = lookahead
        self.entries = deque(entries)
        self.main_queue: deque[int] = deque()
        self.second_queue: deque[int] = deque()
        self.forced_padding = initial_padding
        self.padding_budget = initial_padding
        self.finished = False
        self.text_complete = text_complete  # no entries will be added

    def add_text(self, entries: Iterable[Entry]) -> None:
        self.entries.extend(entries)

    def complete_text(self) -> None:
        self.text_complete = True

    def needs_text(self, action: int, forced: bool = False) -> bool:
        """Whether a step with ``action`` would take a word before it, or the word its look-ahead
        stream spells out, has arrived (never once the text is complete)."""
        if self.text_complete or not self._takes_word(action, forced):
            return False
        if not self.entries:
            return True
        if self.entries[0].is_break:
            return False  # a pause queues no look-ahead
        ahead = 0
        for entry in itertools.islice(self.entries, 1, None):
            ahead += not entry.is_break
            if ahead >= self.lookahead:
                return False
        return True

    def _takes_word(self, action: int, forced: bool) -> bool:
        if self.finished or self.main_queue or (self.forced_padding > 0 and not forced):
            return False
        if self.padding_budget <= 0 and not forced:
            return True
        return action == ACTION_NEW_WORD

    def step(self, action: int, forced: bool = False) -> TextStep:
        """Advance one frame. ``forced`` (the voice-prompt warm-up): the action is taken as
        given, except that a word still being spelled out cannot be interrupted."""
        if not self._takes_word(action, forced):
            return self._pad_step()
        if not self.entries:
            self.finished = True
            return TextStep(self.pad, self.new_word, None, ended=True)
        entry = self.entries.popleft()
        if entry.is_break:
            # A pause's pop step is a pad step like any other, so the look-ahead stream keeps
            # spelling out what it has queued; it counts as the first of the pause's frames.
            step = self._pad_step()
            self.forced_padding = max(0, entry.hold - 1)
            return TextStep(step.main, step.second, entry, ended=False)
        self.main_queue.extend(entry.tokens[1:])
        self.forced_padding = entry.hold
        self.padding_budget = MAX_PADDING
        self._queue_lookahead()
        return TextStep(entry.tokens[0], self.new_word, entry, ended=False)

    def _pad_step(self) -> TextStep:
        main = self.main_queue.popleft() if self.main_queue else self.pad
        second = self.second_queue.popleft() if self.second_queue else self.pad
        self.forced_padding = max(0, self.forced_padding - 1)
        self.padding_budget = max(0, self.padding_budget - 1)
        return TextStep(main, second, None, ended=False)

    def _queue_lookahead(self) -> None:
        """Queue the tokens of the ``lookahead``-th next word (pauses skipped): a FIFO, so the
        look-ahead stream can lag behind or run ahead of the words, as in the reference."""
        upcoming = [entry for entry in self.entries if not entry.is_break]
        if len(upcoming) >= self.lookahead:
            self.second_queue.extend(upcoming[self.lookahead - 1].tokens)
