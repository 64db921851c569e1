import os

import pytest

# Qt widgets run without a display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def tiny_runtime():
    """The runtime loaded from the tiny parity checkpoint, through the real loading code."""
    import torch

    from core.dia2.runtime import Dia2Runtime
    from tests.core.dia2.golden import CHECKPOINT

    torch.manual_seed(0)
    return Dia2Runtime.load(CHECKPOINT, device="cpu", dtype="float32")
