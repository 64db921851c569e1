"""The frame network: caches allocated once per model, steps or whole frames recorded at load and
replayed (the CUDA graph paths, recorded eagerly here), one generation at a time."""

import numpy as np
import pytest
import torch

from core.dia2.frame_graph import frame_network_for
from core.dia2.frame_network import FrameNetwork, GraphedFrameNetwork
from core.dia2.events import GenerationBusy, GenerationRequest, Progress
from core.params import GenerationParams
from tests.core.dia2.eager_recorder import EagerRecorder

SCRIPT = "[S1] Hello there. [S2] Hi! (laughs) [S1] How are you today?"


def _sampled(runtime, **params):
    request = GenerationRequest(SCRIPT, GenerationParams.create(seed=7, temperature=1.1, audio_temperature=0.9,
                                                                top_k=40, **params))
    (take,) = runtime.render(request)
    return take


@pytest.mark.parametrize("params", [{"cfg_scale": 3.0}, {"cfg_scale": 1.0},
                                    {"cfg_scale": 4.0, "negative_prompt": "[S1] Shouting angrily."}])
@pytest.mark.parametrize("recorded", ["recorded_tiny_runtime", "frame_recorded_tiny_runtime"])
def test_replayed_steps_sample_the_same_tokens_as_eager_layers(tiny_runtime, request, recorded, params):
    eager = _sampled(tiny_runtime, **params)
    replayed = _sampled(request.getfixturevalue(recorded), **params)
    np.testing.assert_array_equal(replayed.codes, eager.codes)
    assert replayed.words == eager.words


def test_steps_are_recorded_when_the_model_loads_and_only_replayed_afterwards(tiny_runtime):
    recorder = EagerRecorder()
    network = GraphedFrameNetwork(tiny_runtime.model, recorder)
    stages = len(tiny_runtime.config.weights_schedule)
    assert recorder.warm_ups == GraphedFrameNetwork.WARMUP_ROUNDS  # warmed up before capture
    assert recorder.captures == 1 + stages and recorder.replays == 0
    network.reset()
    network.backbone(torch.zeros(2, tiny_runtime.config.data.channels, dtype=torch.long), 0)
    for stage in range(stages):
        network.stage(stage, torch.tensor([5]))
    assert recorder.captures == 1 + stages and recorder.replays == 1 + stages


def test_a_replayed_step_reads_its_inputs_from_the_buffers_it_was_recorded_with(tiny_runtime):
    """Replays of one recording with different inputs give different outputs: nothing is stale."""
    network = GraphedFrameNetwork(tiny_runtime.model, EagerRecorder())
    channels = tiny_runtime.config.data.channels
    network.reset()
    first = [tensor.clone() for tensor in network.backbone(torch.full((2, channels), 4), 0)]
    network.reset()
    second = network.backbone(torch.full((2, channels), 9), 0)
    assert not torch.equal(first[0], second[0])
    network.reset()
    again = network.backbone(torch.full((2, channels), 4), 0)
    torch.testing.assert_close(again[0], first[0], rtol=0, atol=0)


def test_the_capture_check_refuses_a_step_that_reads_a_device_value_on_the_host():
    recorder = EagerRecorder()
    x = torch.randn(4)
    with pytest.raises(AssertionError, match="_local_scalar_dense"):
        recorder.capture(lambda: x * int(x.argmax()))
    with pytest.raises(AssertionError, match="lift_fresh"):
        recorder.capture(lambda: x + torch.tensor([1.0, 2.0, 3.0, 4.0]))


def test_the_cache_refuses_more_steps_than_its_capacity(tiny_runtime):
    network = tiny_runtime.network
    network.reset()
    channels = tiny_runtime.config.data.channels
    network.prefill(torch.zeros(2, network.capacity, channels, dtype=torch.long))
    with pytest.raises(RuntimeError, match="cache overflow"):
        network.backbone(torch.zeros(2, channels, dtype=torch.long), network.capacity)


def test_eager_layers_on_a_cpu_model_and_one_generation_at_a_time(tiny_runtime):
    assert type(frame_network_for(tiny_runtime.model)) is FrameNetwork
    request = GenerationRequest(SCRIPT, GenerationParams.create(seed=1))
    events = tiny_runtime.generate(request)
    next(events)
    assert tiny_runtime.network.lock.locked()
    with pytest.raises(GenerationBusy, match="already generating"):
        next(tiny_runtime.generate(request))
    assert any(isinstance(event, Progress) for event in list(events))
    assert not tiny_runtime.network.lock.locked()
    second = tiny_runtime.generate(request)
    next(second)  # free again once the first is done
    second.close()
    assert not tiny_runtime.network.lock.locked()
