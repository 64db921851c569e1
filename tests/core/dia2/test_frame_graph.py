"""Whole recorded frames (the CUDA graph path, recorded eagerly here): recorded once per shape of
choices, at load for the default parameters; other values replay the same recording; a shape
recorded during a generation leaves its tokens as they were; a failed recording falls back."""

import logging

import numpy as np
import pytest
import torch

from core.dia2.frame_graph import DEFAULT_SHAPE, ChoiceShape, FrameGraphNetwork, first_recordable
from core.dia2.frame_network import FrameNetwork, GraphedFrameNetwork
from core.dia2.events import GenerationRequest
from core.dia2.runtime import Dia2Runtime
from core.dia2.sampling import Sampling
from core.params import GenerationParams
from tests.core.dia2.eager_recorder import EagerRecorder

SCRIPT = "[S1] Hello there. [S2] Hi! (laughs)"


class CountingRecorders:
    """One EagerRecorder per recording, as the CUDA path has one graph pool per recording."""

    def __init__(self, fail_after: int | None = None):
        self.made: list[EagerRecorder] = []
        self.fail_after = fail_after

    def __call__(self):
        if self.fail_after is not None and len(self.made) >= self.fail_after:
            raise RuntimeError("CUDA error: operation not permitted when stream is capturing")
        recorder = EagerRecorder()
        self.made.append(recorder)
        return recorder

    def counts(self):
        return (sum(r.warm_ups for r in self.made), sum(r.captures for r in self.made),
                sum(r.replays for r in self.made))


def _runtime(tiny_runtime, network):
    return Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, "tiny, frames", network)


def _take(runtime, **params):
    values = {"seed": 3, "temperature": 1.0, "audio_temperature": 0.9, "top_k": 40, **params}
    (take,) = runtime.render(GenerationRequest(SCRIPT, GenerationParams.create(**values)))
    return take


def test_the_default_parameters_are_recorded_at_load_and_other_values_replay_them(tiny_runtime):
    recorders = CountingRecorders()
    network = FrameGraphNetwork(tiny_runtime.model, recorders)
    assert list(network.recordings) == [DEFAULT_SHAPE]
    assert recorders.counts() == (FrameGraphNetwork.WARMUP_ROUNDS, 1, 0)
    runtime = _runtime(tiny_runtime, network)
    _take(runtime, top_k=50)  # the default shape, other temperatures
    _take(runtime, top_k=50, cfg_scale=5.0, temperature=0.3)
    warm_ups, captures, replays = recorders.counts()
    assert (warm_ups, captures) == (FrameGraphNetwork.WARMUP_ROUNDS, 1) and replays > 40


def test_another_shape_is_recorded_during_the_generation_without_changing_its_tokens(tiny_runtime):
    """A new top-k, greedy choices, no guidance: each recorded when first asked for, mid-take,
    and the take is the eager layers' take all the same."""
    recorders = CountingRecorders()
    runtime = _runtime(tiny_runtime, FrameGraphNetwork(tiny_runtime.model, recorders))
    for params in ({"top_k": 40}, {"temperature": 0.0, "audio_temperature": 0.0}, {"cfg_scale": 1.0, "top_k": 7}):
        take, eager = _take(runtime, **params), _take(tiny_runtime, **params)
        np.testing.assert_array_equal(take.codes, eager.codes)
        assert take.words == eager.words
    assert recorders.counts()[1] == 4
    assert (recorders.counts()[0]
            == FrameGraphNetwork.WARMUP_ROUNDS + 3 * FrameGraphNetwork.LATER_WARMUP_ROUNDS)


def test_only_the_last_few_recordings_are_kept(tiny_runtime):
    recorders = CountingRecorders()
    network = FrameGraphNetwork(tiny_runtime.model, recorders)
    runtime = _runtime(tiny_runtime, network)
    kept = FrameGraphNetwork.KEPT_RECORDINGS
    for top_k in range(10, 10 + kept):
        _take(runtime, top_k=top_k)
    assert len(network.recordings) == kept and DEFAULT_SHAPE not in network.recordings
    assert next(reversed(network.recordings)).audio_top_k == 10 + kept - 1
    _take(runtime, top_k=50)  # recorded again
    assert recorders.counts()[1] == 1 + kept + 1


def test_a_shape_that_cannot_be_recorded_is_chosen_eagerly_with_the_same_tokens(tiny_runtime, caplog):
    network = FrameGraphNetwork(tiny_runtime.model, CountingRecorders(fail_after=1))
    runtime = _runtime(tiny_runtime, network)
    with caplog.at_level(logging.WARNING, logger="core.dia2.frame_graph"):
        take = _take(runtime, top_k=33)
        again = _take(runtime, top_k=33)  # not tried twice
    np.testing.assert_array_equal(take.codes, _take(tiny_runtime, top_k=33).codes)
    np.testing.assert_array_equal(again.codes, take.codes)
    shape = ChoiceShape(text_top_k=33, audio_top_k=33, guided=True, negative=False)
    assert "operation not permitted" in network.unrecordable[shape]
    assert sum("recording a frame" in record.message for record in caplog.records) == 1


def test_a_recorded_frame_refuses_random_numbers_from_another_generator(frame_recorded_tiny_runtime):
    network = frame_recorded_tiny_runtime.network
    inputs = torch.zeros(2, frame_recorded_tiny_runtime.config.data.channels, dtype=torch.long)
    sampling = Sampling.of(GenerationParams.create())
    network.reset()
    with pytest.raises(ValueError, match="generator"):
        network.decide(inputs, 0, 32, sampling, torch.Generator().manual_seed(1), negative=False)
    first = network.decide(inputs, 0, 32, sampling, network.generator(1), negative=False)
    network.reset()
    assert torch.equal(network.decide(inputs, 0, 32, sampling, network.generator(1), negative=False), first)


def test_the_capture_check_refuses_draws_from_a_generator_the_recording_was_not_given():
    given, other = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    recorder = EagerRecorder()
    recorder.capture(lambda: torch.empty(3).exponential_(1, generator=given), generators=(given,))
    with pytest.raises(AssertionError, match="not given"):
        recorder.capture(lambda: torch.empty(3).exponential_(1, generator=other), generators=(given,))


def test_a_failed_recording_at_load_falls_back_to_the_next_way(tiny_runtime, caplog):
    def broken(model):
        raise RuntimeError("CUDA error: capture failed")

    with caplog.at_level(logging.WARNING, logger="core.dia2.frame_graph"):
        network = first_recordable(tiny_runtime.model, (broken, lambda m: GraphedFrameNetwork(m, EagerRecorder())))
        assert type(network) is GraphedFrameNetwork
        assert type(first_recordable(tiny_runtime.model, (broken,))) is FrameNetwork
    assert "capture failed" in caplog.text
