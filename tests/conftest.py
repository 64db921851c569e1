import os

import pytest

# Qt widgets run without a display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_configure(config):
    import torch

    # The test models are tiny: one thread avoids the cost of waking a thread pool for every
    # small matmul, which dominates on a loaded 2-core machine.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_runtime():
    """The runtime loaded from the tiny parity checkpoint, through the real loading code."""
    import torch

    from core.dia2.runtime import Dia2Runtime
    from tests.core.dia2.golden import CHECKPOINT

    torch.manual_seed(0)
    return Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="float32", threads=1)


@pytest.fixture(scope="session")
def remote_engine_server(tmp_path_factory):
    """A real `dia-studio serve` (tiny checkpoint, a key, a scripted Whisper) that a
    ``RemoteEngine`` generates on: ``remote_engine_server.engine()`` gives one. The window's
    generation tests can take it as one more engine kind."""
    from tests.service.remote_engine import engine_server

    with engine_server(tmp_path_factory.mktemp("remote-engine")) as server:
        yield server
