import os

import pytest

# Qt widgets run without a display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_configure(config):
    _one_core_per_worker()
    import torch

    # The test models are tiny: one thread avoids the cost of waking a thread pool for every
    # small matmul, which dominates on a loaded 2-core machine.
    torch.set_num_threads(1)


def _one_core_per_worker() -> None:
    """In a parallel run (pytest -n), each worker sees a core of its own, as on a 1-core machine:
    the model's default thread count, OpenMP's and BLAS's follow the cores a process may use, and
    two workers each running two spinning threads on two cores made every frame many times slower.
    The servers and model processes a test starts inherit its worker's core."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER"), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker and count > 1 and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cores[int(worker.removeprefix("gw")) % len(cores)]})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by them, and xdist groups by them
def pytest_collection_modifyitems(config, items):
    from tests.cost_markers import costs_of, worker_group

    parallel = config.pluginmanager.hasplugin("xdist")
    for item in items:
        if hasattr(item, "function"):
            costs = costs_of(item)
            for cost in sorted(costs):
                item.add_marker(cost)
            if parallel:
                item.add_marker(pytest.mark.xdist_group(worker_group(item, costs)))


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
