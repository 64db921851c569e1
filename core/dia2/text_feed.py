"""A take's text as it arrives, from any thread: parsed into entries as it comes (a piece the
parser refuses raises in the caller's thread and changes nothing), collected by the take's
frame loop between frames, which waits here when a word is due and has not arrived."""

from __future__ import annotations

import threading

from core.dia2.incremental_script import IncrementalScript
from core.dia2.script import Entry


class TextFeed:
    def __init__(self, script: IncrementalScript, cancel: threading.Event | None = None):
        self._script = script
        self._condition = threading.Condition()
        self._entries: list[Entry] = []
        self._complete = False
        self.cancel = cancel or threading.Event()

    def push(self, text: str) -> None:
        """Append ``text`` verbatim; never waits for the loop."""
        with self._condition:
            entries = self._script.feed(text)
            if entries:
                self._entries += entries
                self._condition.notify_all()

    def end(self) -> None:
        """No more text: what was held becomes entries too."""
        with self._condition:
            self._entries += self._script.close()
            self._complete = True
            self._condition.notify_all()

    def cancel_take(self) -> None:
        with self._condition:
            self.cancel.set()
            self._condition.notify_all()

    @property
    def ended(self) -> bool:
        return self._script.closed

    def take(self) -> tuple[list[Entry], bool]:
        """The entries that arrived since the last call, and whether they are the last."""
        with self._condition:
            entries, self._entries = self._entries, []
            return entries, self._complete

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for entries, the end or a cancel; True if one came.
        (A cancel set on the event from outside is seen at the latest after ``timeout``.)"""
        with self._condition:
            return self._condition.wait_for(lambda: self._entries or self._complete or self.cancel.is_set(),
                                            timeout)
