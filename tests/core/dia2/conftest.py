from dataclasses import replace

import pytest

from core.dia2.frame_graph import FrameGraphNetwork
from core.dia2.frame_network import GraphedFrameNetwork
from core.dia2.model import Dia2Model
from core.dia2.runtime import Dia2Runtime
from tests.core.dia2.eager_recorder import EagerRecorder


@pytest.fixture(scope="session")
def recorded_tiny_runtime(tiny_runtime):
    """The tiny model behind the graph-replaying network (recorded eagerly: no GPU here)."""
    network = GraphedFrameNetwork(tiny_runtime.model, EagerRecorder())
    return Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, "tiny, recorded steps",
                       network)


@pytest.fixture(scope="session")
def frame_recorded_tiny_runtime(tiny_runtime):
    """The tiny model behind whole recorded frames, choices included (recorded eagerly)."""
    network = FrameGraphNetwork(tiny_runtime.model, EagerRecorder)
    return Dia2Runtime(tiny_runtime.model, tiny_runtime.tokenizer, tiny_runtime.codec, "tiny, recorded frames",
                       network)


@pytest.fixture(params=["eager", "recorded", "frame-recorded"])
def either_runtime(request, tiny_runtime):
    """Each test that takes it runs three times: eager layers, replayed recorded steps, and
    replayed recorded frames."""
    return {"eager": tiny_runtime, "recorded": request.getfixturevalue("recorded_tiny_runtime"),
            "frame-recorded": request.getfixturevalue("frame_recorded_tiny_runtime")}[request.param]


@pytest.fixture(scope="session")
def short_context_runtime(tiny_runtime):
    """The tiny model with a context of 70 frames, so that a few lines overflow it."""
    config = replace(tiny_runtime.config, max_context_steps=70)
    model = Dia2Model(config)
    model.load_state_dict(tiny_runtime.model.state_dict())
    return Dia2Runtime(model, tiny_runtime.tokenizer, tiny_runtime.codec, "tiny, short context")
