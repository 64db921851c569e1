"""What `serve --ray` and `batch --ray` say when their replicas cannot start: the replica's own
error (a model folder that is not one), not Ray's report around it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.service.server_process import REPO, free_port

pytestmark = pytest.mark.slow


def _command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.main", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_a_model_the_server_replicas_cannot_load_is_said_plainly(ray_address, tmp_path):
    missing = tmp_path / "no-such-model"
    process = _command("serve", "--ray", ray_address, "--model", str(missing), "--port", str(free_port()),
                       "--data-dir", str(tmp_path / "data"))
    assert process.returncode == 2
    assert (f"dia-studio serve: error: the application could not be deployed: {missing} is not a folder"
            in process.stderr)


def test_a_model_the_batch_replicas_cannot_load_is_said_plainly(ray_address, tmp_path):
    missing = tmp_path / "no-such-model"
    manifest = tmp_path / "batch.json"
    manifest.write_text(json.dumps([{"script": "[S1] Hello.", "seed": 1, "output": "hello.wav"}]))
    process = _command("batch", str(manifest), "--ray", ray_address, "--model", str(missing))
    assert process.returncode == 2
    assert f"dia-studio batch: error: the replicas could not start: {missing} is not a folder" in process.stderr
    assert not (tmp_path / "hello.wav").exists()
