"""A take cut short is rebuilt from what was streamed of it: the same audio, codes and words a
complete run streamed up to that point."""

from __future__ import annotations

import numpy as np
import pytest

from core.dia2.events import AudioChunk, GenerationRequest, TakeResult, WordTiming
from core.engine.engine import EngineFailed
from core.engine.streamed_takes import StreamedTakes
from core.params import GenerationParams


def test_the_take_in_flight_is_rebuilt_from_its_streamed_chunks_codes_and_words(tiny_runtime):
    request = GenerationRequest("[S1] Hello there, how are you today? [S2] Fine thanks.",
                                GenerationParams(seed=3, number_results=2))
    events = list(tiny_runtime.generate(request))
    second_take = next(i for i, e in enumerate(events) if isinstance(e, TakeResult)) + 1
    chunks = [i for i, e in enumerate(events) if isinstance(e, AudioChunk) and i > second_take]
    cut = chunks[len(chunks) // 2]

    takes = StreamedTakes(request, tiny_runtime.sample_rate, tiny_runtime.name)
    for event in events[:cut + 1]:
        takes.watch(event)
    take = takes.unfinished("The engine stopped.")

    streamed = events[second_take:cut + 1]
    assert take is not None and not take.complete and take.take == 1 and take.seed == 4
    assert take.params.seed == 4 and take.notices == ["The engine stopped."]
    np.testing.assert_array_equal(take.audio, np.concatenate([e.samples for e in streamed if isinstance(e, AudioChunk)]))
    finished = next(e for e in events if isinstance(e, TakeResult) and e.take == 1)
    assert take.codes.shape[1] > 0
    np.testing.assert_array_equal(take.codes, finished.codes[:, :take.codes.shape[1]])
    assert take.words == [(e.word, e.start_s) for e in streamed if isinstance(e, WordTiming)]


def test_nothing_is_unfinished_between_takes_or_before_audio(tiny_runtime):
    request = GenerationRequest("[S1] Hello there.", GenerationParams(seed=1))
    events = list(tiny_runtime.generate(request))
    takes = StreamedTakes(request, tiny_runtime.sample_rate, tiny_runtime.name)
    assert takes.unfinished("gone") is None
    takes.watch(events[0])  # TakeStarted: no audio yet
    assert takes.unfinished("gone") is None
    for event in events:
        takes.watch(event)
    assert takes.unfinished("gone") is None


def test_a_lost_other_end_yields_the_take_as_streamed_then_raises_why(tiny_runtime):
    request = GenerationRequest("[S1] Hello there.", GenerationParams(seed=1))
    events = list(tiny_runtime.generate(request))
    first_chunk = next(i for i, e in enumerate(events) if isinstance(e, AudioChunk))
    takes = StreamedTakes(request, tiny_runtime.sample_rate, tiny_runtime.name)
    for event in events[:first_chunk + 1]:
        takes.watch(event)
    kept = []
    with pytest.raises(EngineFailed, match="the process died") as failed:
        kept.extend(takes.cut_short("Cut short.", EngineFailed("the process died")))
    assert [take.notices for take in kept] == [["Cut short."]] and not kept[0].complete
    assert failed.value.__suppress_context__

    nothing_streamed = StreamedTakes(request, tiny_runtime.sample_rate, tiny_runtime.name)
    kept = []
    with pytest.raises(EngineFailed):
        kept.extend(nothing_streamed.cut_short("Cut short.", EngineFailed("the process died")))
    assert kept == []
