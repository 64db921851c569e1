"""The take in flight, rebuilt from the events streamed so far: when an engine's process dies or
its connection drops mid-take, what was already heard is kept as an incomplete take, exactly as a
cancelled take is."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from core.dia2.events import (AudioChunk, GenerationEvent, GenerationRequest, TakeResult, TakeStarted,
                              WordTiming)


class StreamedTakes:
    """Watches a request's events (``watch`` each, in order) and rebuilds the unfinished take."""

    def __init__(self, request: GenerationRequest, sample_rate: int, model: str | None):
        self._request, self._sample_rate, self._model = request, sample_rate, model
        self._take: TakeStarted | None = None  # started and not yet finished
        self._samples: list[np.ndarray] = []
        self._codes: list[np.ndarray] = []
        self._words: list[tuple[str, float]] = []

    def watch(self, event: GenerationEvent) -> GenerationEvent:
        if isinstance(event, TakeStarted):
            self._take, self._samples, self._codes, self._words = event, [], [], []
        elif isinstance(event, AudioChunk):
            self._samples.append(event.samples)
            if event.codes is not None:
                self._codes.append(event.codes)
        elif isinstance(event, WordTiming):
            self._words.append((event.word, event.start_s))
        elif isinstance(event, TakeResult):
            self._take = None
        return event

    def so_far(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The audio and the codes (None unless every chunk had its codes) streamed of the take
        in flight, or of the take last finished until the next one starts."""
        audio = np.concatenate(self._samples) if self._samples else np.zeros(0, np.float32)
        codes = (np.concatenate(self._codes, axis=1) if self._codes and len(self._codes) == len(self._samples)
                 else None)
        return audio, codes

    def unfinished(self, notice: str) -> TakeResult | None:
        """The take cut short, as far as it was streamed, with ``notice`` saying why; None when no
        take was in flight or none of its audio had arrived."""
        if self._take is None or not self._samples:
            return None
        take, seed = self._take.take, self._take.seed
        audio, codes = self.so_far()
        return TakeResult(take=take, seed=seed, params=self._request.params.with_seed(seed),
                          audio=audio, sample_rate=self._sample_rate,
                          codes=codes, words=sorted(self._words, key=lambda word: word[1]), complete=False,
                          notices=[notice], model=self._model)

    def cut_short(self, notice: str, failure: Exception) -> Iterator[TakeResult]:
        """What a relayed engine (its own process, a serve, a cluster's replica) does when it loses
        its other end mid-take: the take as far as it was streamed (``unfinished(notice)``), then
        ``failure`` raised. ``yield from`` it in the handler of the loss."""
        unfinished = self.unfinished(notice)
        if unfinished is not None:
            yield unfinished
        raise failure from None
