"""A local Ray cluster for the cluster tests, and `dia-studio serve --ray` on it.

The cluster is started by this test process (no dashboard, a small object store) and declares
GPUs that this machine does not have: Ray schedules by the resources a node declares, so each
replica gets "its" GPU (CUDA_VISIBLE_DEVICES) and torch, finding none, runs on the processor."""

from __future__ import annotations

import os
import re

import pytest
import ray

from tests.service.server_process import ServerProcess

DECLARED_GPUS = 4  # two for the server's replicas, two for a batch beside it
REPLICA_LINE = re.compile(r"replica (\d+): (?:generating|a live take)")


@pytest.fixture(scope="session")
def ray_address():
    context = ray.init(num_cpus=6, num_gpus=DECLARED_GPUS, include_dashboard=False,
                       object_store_memory=256 * 1024 * 1024, logging_level="error")
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def cluster_server(ray_address, tmp_path_factory):
    """`dia-studio serve --ray` with two replicas of the tiny checkpoint, each holding a GPU."""
    folder = tmp_path_factory.mktemp("cluster-serve")
    server = ServerProcess(folder / "data", "--ray", ray_address, "--replicas", "2", "--gpus-per-replica", "1",
                           env={**os.environ, "RAY_DEDUP_LOGS": "0"})
    try:
        server.wait_until_ready(timeout=300)
        yield server
    finally:
        server.stop()


def replica_pids(log: str) -> set[str]:
    """The processes that generated, as the replicas log each generation."""
    return set(REPLICA_LINE.findall(log))
