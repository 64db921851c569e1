from dataclasses import replace

import pytest

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


@pytest.fixture(params=["eager", "recorded"])
def either_runtime(request, tiny_runtime):
    """Each test that takes it runs twice: eager layers, and replayed recorded steps."""
    return tiny_runtime if request.param == "eager" else request.getfixturevalue("recorded_tiny_runtime")


@pytest.fixture(scope="session")
def short_context_runtime(tiny_runtime):
    """The tiny model with a context of 70 frames, so that a few lines overflow it."""
    config = replace(tiny_runtime.config, max_context_steps=70)
    model = Dia2Model(config)
    model.load_state_dict(tiny_runtime.model.state_dict())
    return Dia2Runtime(model, tiny_runtime.tokenizer, tiny_runtime.codec, "tiny, short context")
