"""`dia-studio serve --ray --min-replicas 1 --max-replicas 2`: one replica while idle, a second
one added while tasks wait in front of the first (Serve's autoscaler, on queue depth)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.cluster.conftest import cluster_server_process, replica_pids

pytestmark = pytest.mark.slow

LONG_SCRIPT = " ".join(["[S1] This is a longer line that takes the model a little while.",
                        "[S2] And here is the answer to it, spoken slowly."] * 2)


def test_a_second_replica_is_added_while_tasks_wait(ray_address, serve_port, tmp_path):
    server = cluster_server_process(tmp_path, ray_address, serve_port, "--min-replicas", "1", "--max-replicas", "2",
                                    "--gpus-per-replica", "1")
    try:
        server.wait_until_ready(timeout=300)
        assert "deploying 1–2 replica(s)" in server.log and server.log.count(" ready on cpu (") == 1
        tasks = [{"taskType": "audioInference", "taskUUID": str(uuid.uuid4()), "speech": {"text": LONG_SCRIPT},
                  "seed": seed, "numberResults": 4, "deliveryMethod": "async", "outputFormat": "WAV"}
                 for seed in range(6)]
        assert server.post(tasks)[0] == 200
        deadline = time.monotonic() + 240
        while len(replica_pids(server.log)) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert len(replica_pids(server.log)) == 2, server.log[-4000:]
    finally:
        server.stop()
