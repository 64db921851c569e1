"""`dia-studio batch --ray`: ten renders made by two Ray Serve replicas, the same files as the
command makes without Ray, and a rerun that skips them all without starting anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from tests.cluster.conftest import replica_pids
from tests.core.dia2.golden import CHECKPOINT
from tests.service.server_process import REPO

pytestmark = pytest.mark.slow


def _batch(manifest, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.main", "batch", str(manifest), "--model", str(CHECKPOINT),
                           "--device", "cpu", "--threads", "1", *flags], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), "RAY_DEDUP_LOGS": "0"}, timeout=600)


def test_ten_renders_on_two_replicas_then_a_rerun_skips_them(ray_address, tmp_path):
    renders = [{"script": f"[S1] Render number {n}. [S2] Done.", "seed": 300 + n, "output": f"out/{n:02d}.wav"}
               for n in range(10)]
    manifest = tmp_path / "season.json"
    manifest.write_text(json.dumps(renders))

    done = _batch(manifest, "--ray", ray_address, "--replicas", "2", "--gpus-per-replica", "1")
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((tmp_path / "season-report.json").read_text())
    assert [render["status"] for render in report["renders"]] == ["done"] * 10
    assert len(replica_pids(done.stderr)) == 2
    here = tmp_path / "here"  # two of them rendered by the command without Ray, as a baseline
    here.mkdir()
    (here / "two.json").write_text(json.dumps([renders[0], renders[9]]))
    assert _batch(here / "two.json").returncode == 0
    for name in ("00.wav", "09.wav"):
        on_cluster, _ = soundfile.read(tmp_path / "out" / name, dtype="float32")
        alone, _ = soundfile.read(here / "out" / name, dtype="float32")
        assert np.array_equal(on_cluster, alone)

    again = _batch(manifest, "--ray", ray_address, "--replicas", "2", "--gpus-per-replica", "1")
    assert again.returncode == 0 and "skipped 10 already rendered" in again.stderr
    assert "replica" not in again.stderr  # nothing was started for nothing to do
