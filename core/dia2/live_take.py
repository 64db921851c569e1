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

from collections.abc import Iterator

from core.dia2.events import GenerationBusy, GenerationEvent, TakeStarted
from core.dia2.generator import TakeRenderer
from core.dia2.live_take_base import LiveTakeBase
from core.dia2.prefix import SpokenContext, VoicePrompt
from core.dia2.text_feed import TextFeed
from core.params import GenerationParams


class LiveTake(LiveTakeBase):
    def __init__(self, runtime, params: GenerationParams, voices: tuple[VoicePrompt, ...] = (),
                 context: SpokenContext | None = None):
        """Use ``Dia2Runtime.open_live_take``. Holds the model (its caches serve one generation
        at a time) from here until ``events()`` ends or ``close()``."""
        if not runtime.network.lock.acquire(blocking=False):
            raise GenerationBusy("This model is already generating; finish or cancel that generation first.")
        super().__init__()
        self.runtime = runtime
        self.params = params.with_seed()
        self.seed = self.params.seed  # a live take is one take: number_results is not read
        self._feed = TextFeed(runtime.incremental_script())
        self._renderer = TakeRenderer(runtime, self.params, tuple(voices), context, 0, self.seed, self._feed)

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

    def _take_events(self) -> Iterator[GenerationEvent]:
        yield TakeStarted(0, self.seed)
        yield from self._renderer.run()

    def _let_go(self) -> None:
        self.runtime.release_memory()
        self.runtime.network.lock.release()
