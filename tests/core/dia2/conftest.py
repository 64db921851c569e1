import pytest

from core.dia2.frame_network import GraphedFrameNetwork
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
