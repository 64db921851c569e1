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
