"""A live take: speech made while its text is still being written (a language model's reply
token by token, a writer typing), on the same path as a whole script.

    take = runtime.open_live_take(params, voices)   # the model is this take's until it ends
    worker: for event in take.events(): ...          # frames that need no text run at once
    take.push_text("Hello, wor")                    # any thread, any pieces, verbatim
    take.push_text("ld! How are")
    take.end_text()                                  # "are" is a word now; the take finishes
    take.cancel()                                    # or stop now: an incomplete TakeResult

The events are ``generate()``'s (``TakeStarted``, ``AudioChunk``, ``WordTiming``, ``Progress``,
one ``TakeResult``) plus ``Stalled`` while a due word has not arrived. A word is taken once the
two words after it are there (the look-ahead the model reads), or the text has ended; waiting
for them, rather than letting the queue run dry (which would end the take for good), keeps every
token the one the whole text gives: any split of the text, at any moments, gives the same take.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from core.dia2.generator import GenerationBusy, GenerationEvent, TakeRenderer, TakeStarted
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.text_feed import TextFeed
from core.params import GenerationParams


class LiveTake:
    def __init__(self, runtime, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                 context: SpokenContext | None = None):
        """Use ``Dia2Runtime.open_live_take``. Holds the model (its caches serve one generation
        at a time) from here until ``events()`` ends or ``close()``."""
        if not runtime.network.lock.acquire(blocking=False):
            raise GenerationBusy("This model is already generating; finish or cancel that generation first.")
        self.runtime = runtime
        self.params = params.with_seed()
        self.seed = self.params.seed  # a live take is one take: number_results is not read
        self._feed = TextFeed(runtime.incremental_script())
        self._renderer = TakeRenderer(runtime, self.params, tuple(voices), context, 0, self.seed, self._feed)
        self._state = threading.Lock()
        self._iterating = False
        self._released = False

    def push_text(self, text: str) -> None:
        """Append ``text`` verbatim (pieces of any size; a model's deltas with their leading
        spaces). Thread-safe and never waits for the model. Raises ``UnspeakableScript`` for
        markup the model cannot follow (an unknown speaker tag, a bad pause), refusing the whole
        piece; ``TextAfterEnd`` after ``end_text``. Ignored once cancelled."""
        if not self._feed.cancel.is_set():
            self._feed.push(text)

    def end_text(self) -> None:
        """No more text: the held fragment becomes the last word and the take finishes. Raises
        ``UnspeakableScript`` if the whole text has no words or ends with a speaker tag."""
        self._feed.end()

    def cancel(self) -> None:
        """Stop between frames (a wait for text ends at once): the events end with what was made,
        as an incomplete ``TakeResult``. Thread-safe."""
        self._feed.cancel_take()

    @property
    def text_ended(self) -> bool:
        return self._feed.ended

    def events(self) -> Iterator[GenerationEvent]:
        """The take as it is made; iterate it on one thread (a worker), once. Closing the
        iterator early cancels the take; the model is free again when it ends either way."""
        with self._state:
            if self._iterating or self._released:
                raise RuntimeError("A live take's events can be iterated once.")
            self._iterating = True
        return self._run()

    def _run(self) -> Iterator[GenerationEvent]:
        try:
            yield TakeStarted(0, self.seed)
            yield from self._renderer.run()
        finally:
            self._feed.cancel_take()
            self._release()

    def close(self) -> None:
        """Cancel the take; frees the model now if its events were never iterated."""
        self.cancel()
        with self._state:
            never_iterated = not self._iterating
        if never_iterated:
            self._release()

    def _release(self) -> None:
        with self._state:
            if self._released:
                return
            self._released = True
        self.runtime.release_memory()
        self.runtime.network.lock.release()

    def __enter__(self) -> "LiveTake":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
