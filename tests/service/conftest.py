import pytest


@pytest.fixture
def tiny_engine(tiny_runtime):
    """The tiny checkpoint's runtime in the in-process engine, loaded: what ``dia-studio serve``
    gives its task runner (``model_ready``), without loading the model again."""
    from core.engine.in_process import InProcessEngine
    from tests.core.dia2.golden import CHECKPOINT

    engine = InProcessEngine(loader=lambda *_, **__: tiny_runtime)
    engine.load(str(CHECKPOINT))
    return engine
