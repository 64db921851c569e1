"""A local Ray cluster for the cluster tests, and `dia-studio serve --ray` on it.

The cluster is started by this test process (no dashboard, a small object store) and declares
GPUs that this machine does not have: Ray schedules by the resources a node declares, so each
replica gets "its" GPU (CUDA_VISIBLE_DEVICES) and torch, finding none, runs on the processor."""

from __future__ import annotations

import os
import re

import pytest
import ray

from tests.service.server_process import ServerProcess, free_port

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


@pytest.fixture(scope="session")
def serve_port(ray_address):
    """Serve's HTTP port on the test cluster: one for every server the tests start there, as
    Serve keeps the port it first started with while any application runs."""
    return free_port()


def cluster_server_process(folder, ray_address: str, serve_port: int, *flags: str) -> ServerProcess:
    """`dia-studio serve --ray` on the test cluster (its replicas' log lines undeduplicated)."""
    return ServerProcess(folder / "data", "--ray", ray_address, *flags, port=serve_port,
                         env={**os.environ, "RAY_DEDUP_LOGS": "0"})


@pytest.fixture(scope="module")
def cluster_server(ray_address, serve_port, tmp_path_factory):
    """`dia-studio serve --ray` with two replicas of the tiny checkpoint, each holding a GPU."""
    server = cluster_server_process(tmp_path_factory.mktemp("cluster-serve"), ray_address, serve_port,
                                    "--replicas", "2", "--gpus-per-replica", "1")
    try:
        server.wait_until_ready(timeout=300)
        yield server
    finally:
        server.stop()


def replica_pids(log: str) -> set[str]:
    """The processes that generated, as the replicas log each generation."""
    return set(REPLICA_LINE.findall(log))
