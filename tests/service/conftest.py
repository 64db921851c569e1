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


@pytest.fixture
def tiny_service(tmp_path, tiny_engine):
    """A task service over a store in ``tmp_path / "data"``, its runner's model the tiny engine,
    started (stopped and its store closed after the test)."""
    from core.service.task_runner import TaskRunner
    from core.service.task_service import ServiceConfig, TaskService
    from core.service.task_store import TaskStore

    store = TaskStore(tmp_path / "data")
    runner = TaskRunner(store)
    service = TaskService(store, runner, ServiceConfig())
    service.start()
    runner.model_ready(tiny_engine)
    yield service
    service.stop()
    store.close()

